# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: fast retries and polls everywhere, the asyncio/trio backends, respx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
import stamina

from _client_support import API, TOKEN
from fixtures.fileserver import FileServer
from replicate_async import AsyncClient, _config
from replicate_async._downloads import Downloader


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


@pytest.fixture
def api():
    """A respx router for the API root `API`; every route it declares must be called."""
    router = respx.Router(base_url=API, assert_all_called=True)
    yield router
    router.assert_all_called()


@pytest.fixture
def make_client(api: respx.Router):
    """Make an AsyncClient for `API` with token `TOKEN` that sends through the respx router."""

    def make(**kwargs: Any) -> AsyncClient:
        kwargs.setdefault("api_token", TOKEN)
        kwargs.setdefault("base_url", API)
        kwargs.setdefault("transport", httpx.MockTransport(api.async_handler))
        return AsyncClient(**kwargs)

    return make


@pytest.fixture
def file_server():
    """A scripted file host on loopback (`fixtures.fileserver`)."""
    server = FileServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def downloader():
    """A Downloader with its own connection pool, closed after the test."""
    async with Downloader() as d:
        yield d
