# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The emulator and client most batch tests use: the default catalogue plus a module's own
models, no rate limits on either side."""

from __future__ import annotations

from typing import Any

from replicate_async import AsyncClient, RateLimits
from replicate_async.emulator import EmulatorConfig, EmulatorServer, FakeModel, default_catalogue
from replicate_async.emulator import RateLimits as ServerLimits


def unlimited_emulator(*models: FakeModel, time_scale: float = 0.2) -> EmulatorServer:
    """An emulator (enter it to start it) serving the default catalogue and *models*, with no
    rate limits; *time_scale* < 1 runs emulated seconds faster."""
    config = EmulatorConfig(
        models=(*default_catalogue(), *models),
        time_scale=time_scale,
        rate_limits=ServerLimits.unlimited(),
    )
    return EmulatorServer(config)


def unlimited_client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    """A client of *emulator* without client-side rate limits (*kwargs* for AsyncClient)."""
    kwargs.setdefault("rate_limits", RateLimits.unlimited())
    return AsyncClient(api_token=emulator.token, base_url=emulator.base_url, **kwargs)
