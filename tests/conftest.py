# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: fast retries and polls everywhere, and the asyncio/trio backends."""

from __future__ import annotations

import pytest
import stamina

from replicate_async import _config


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch):
    """Retry without backoff (at most 3 attempts, so retry paths still run) and poll without delay."""
    monkeypatch.setattr(
        _config,
        "DEFAULT_POLL_POLICY",
        _config.PollPolicy(initial=0, factor=1, maximum=0, jitter=0),
    )
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run `@pytest.mark.anyio` tests on asyncio and on trio."""
    return str(request.param)
