# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the emulator tests: an in-process app and client (httpx.ASGITransport)."""

from __future__ import annotations

import httpx
import pytest

from replicate_async.emulator import (
    DEFAULT_TOKEN,
    EmulatorConfig,
    FakeModel,
    create_app,
    default_catalogue,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}

#: Extra models for lifecycle tests: long enough to observe each phase, driven by `travel()`.
TEST_MODELS = (
    FakeModel(owner="t", name="queued", kind="text", official=True, queue=100.0, latency=100.0),
    FakeModel(owner="t", name="running", kind="tokens", official=True, latency=100.0),
    FakeModel(owner="t", name="audio", kind="audio", official=True),
    FakeModel(owner="t", name="video", kind="video", official=True),
    FakeModel(owner="t", name="silent", kind="text", official=True, logs=()),
)


@pytest.fixture
def config() -> EmulatorConfig:
    """Real-time emulated durations (tests move the clock with `travel()`), no rate limits."""
    from replicate_async.emulator import RateLimits

    return EmulatorConfig(
        models=(*default_catalogue(), *TEST_MODELS), rate_limits=RateLimits.unlimited()
    )


@pytest.fixture
def app(config):
    """The emulator app."""
    return create_app(config)


@pytest.fixture
def state(app):
    """The app's state."""
    return app.state.emulator


@pytest.fixture
async def client(app):
    """An authenticated in-process client."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu", headers=AUTH) as c:
        yield c


@pytest.fixture
def http(replicate_emulator):
    """A sync authenticated client for the plugin's loopback server."""
    with httpx.Client(
        base_url=replicate_emulator.base_url,
        headers={"Authorization": f"Bearer {replicate_emulator.token}"},
    ) as c:
        yield c
