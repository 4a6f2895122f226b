# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""pytest plugin (entry point `pytest11`): the `replicate_emulator` fixture.

`replicate_emulator` is an `EmulatorServer` on a free loopback port, shared by the session and
reset before each test (predictions, counters, faults, rate limits and switches go back to the
configured ones). Give a client its `base_url` and `token`; read `stats()`; switch faults with
`set_faults(FaultRule(...))`, limits with `set_rate_limits(...)`, the clock with `travel(s)`.

Override the session fixture `replicate_emulator_config` to change the configuration. Its
default is `EmulatorConfig(time_scale=0.01)`: models run 100 times faster than the real ones
(a 60 s video model takes 0.6 s) while rate limits stay the real ones.

This module imports nothing from the emulator until a fixture is used, so installing the package
without the `emulator` extra leaves pytest working; the fixtures then skip the test.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from replicate_async.emulator._config import EmulatorConfig
    from replicate_async.emulator._server import EmulatorServer

_EXTRA = ("starlette", "uvicorn", "jsonschema")


def _require_extra() -> None:
    """Skip the test when the `emulator` extra is not installed."""
    missing = [name for name in _EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"replicate-async[emulator] is not installed (missing {', '.join(missing)})")


@pytest.fixture(scope="session")
def replicate_emulator_config() -> EmulatorConfig:
    """The configuration of the session's emulator (override this fixture to change it).

    .. versionadded:: 0.1.0
    """
    _require_extra()
    from replicate_async.emulator._config import EmulatorConfig  # noqa: PLC0415

    return EmulatorConfig(time_scale=0.01)


@pytest.fixture(scope="session")
def replicate_emulator_server(
    replicate_emulator_config: EmulatorConfig,
) -> Iterator[EmulatorServer]:
    """The session's emulator server (not reset between tests; prefer `replicate_emulator`).

    .. versionadded:: 0.1.0
    """
    _require_extra()
    from replicate_async.emulator._server import EmulatorServer  # noqa: PLC0415

    with EmulatorServer(replicate_emulator_config) as server:
        yield server


@pytest.fixture
def replicate_emulator(replicate_emulator_server: EmulatorServer) -> EmulatorServer:
    """A Replicate emulator on loopback, freshly reset for this test.

    .. versionadded:: 0.1.0
    """
    replicate_emulator_server.reset()
    return replicate_emulator_server
