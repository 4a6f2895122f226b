# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A Replicate HTTP API emulator: an ASGI app with fake models, for tests, demos and benchmarks.

Install the extra (`pip install 'replicate-async[emulator]'`). Everything here is imported
lazily, so `import replicate_async.emulator` is cheap and works without the extra.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from replicate_async.emulator._app import create_app
    from replicate_async.emulator._catalogue import default_catalogue, real_model
    from replicate_async.emulator._config import (
        DEFAULT_TOKEN,
        DeploymentConfig,
        EmulatorConfig,
        FaultRule,
        RateLimit,
        RateLimits,
        RequestLimits,
    )
    from replicate_async.emulator._fake_models import FakeModel
    from replicate_async.emulator._server import EmulatorServer, serve
    from replicate_async.emulator._state import EmulatorState

__all__ = [
    "DEFAULT_TOKEN",
    "DeploymentConfig",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorState",
    "FakeModel",
    "FaultRule",
    "RateLimit",
    "RateLimits",
    "RequestLimits",
    "create_app",
    "default_catalogue",
    "real_model",
    "serve",
]

_WHERE = {
    "DEFAULT_TOKEN": "_config",
    "DeploymentConfig": "_config",
    "EmulatorConfig": "_config",
    "EmulatorServer": "_server",
    "EmulatorState": "_state",
    "FakeModel": "_fake_models",
    "FaultRule": "_config",
    "RateLimit": "_config",
    "RateLimits": "_config",
    "RequestLimits": "_config",
    "create_app": "_app",
    "default_catalogue": "_catalogue",
    "real_model": "_catalogue",
    "serve": "_server",
}


#: What the `emulator` extra installs.
_EXTRA = frozenset({"starlette", "uvicorn", "jsonschema", "multipart", "python_multipart"})


def __getattr__(name: str) -> Any:
    """Import public names on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRA:
            raise
        raise ModuleNotFoundError(
            f"replicate_async.emulator needs the emulator extra ({exc.name} is missing): "
            "pip install 'replicate-async[emulator]'",
            name=exc.name,
        ) from exc
    return getattr(loaded, name)
