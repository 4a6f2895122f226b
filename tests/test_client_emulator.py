# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient against the emulator over real loopback HTTP, on asyncio (aiohttp) and trio."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import trio

import replicate_async
from replicate_async import (
    AsyncClient,
    PredictionFailed,
    RequestTimeout,
    ServerError,
    Timeouts,
    TransportError,
)
from replicate_async._default_client import default_client
from replicate_async.emulator import FaultRule, RateLimits

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer

CREATE_ROUTE = "POST /v1/models/{owner}/{name}/predictions"
GET_ROUTE = "GET /v1/predictions/{id}"


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


def _count(stats: dict[str, Any], route: str) -> int:
    return sum(stats["requests"].get(route, {}).values())


class SpyTransport(httpx.AsyncBaseTransport):
    """The real transport, with an event set when the first poll (a GET) goes out."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.polling = anyio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.polling.set()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.anyio
async def test_run_returns_the_output(replicate_emulator: EmulatorServer) -> None:
    """run() against the emulator returns the model's output."""
    async with _client(replicate_emulator) as client:
        assert await client.run("emulator/echo", {"prompt": "hello"}) == "hello"


@pytest.mark.anyio
async def test_terminal_wait_reply_is_one_request(replicate_emulator: EmulatorServer) -> None:
    """When the wait reply is terminal, run() makes exactly one HTTP request."""
    replicate_emulator.configure(wait_returns_terminal=True)
    async with _client(replicate_emulator) as client:
        await client.run("emulator/echo", {"prompt": "hello"})
    stats = replicate_emulator.stats()
    assert sum(sum(codes.values()) for codes in stats["requests"].values()) == 1


@pytest.mark.anyio
async def test_processing_with_output_is_confirmed(replicate_emulator: EmulatorServer) -> None:
    """The real server's `processing`-with-output wait reply is confirmed by a GET."""
    async with _client(replicate_emulator) as client:
        assert await client.run("emulator/echo", {"prompt": "hello"}) == "hello"
    stats = replicate_emulator.stats()
    assert _count(stats, CREATE_ROUTE) == 1
    assert _count(stats, GET_ROUTE) >= 1


@pytest.mark.anyio
async def test_model_failure_raises(replicate_emulator: EmulatorServer) -> None:
    """A failing model raises PredictionFailed with its error text."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(PredictionFailed, match="emulated model error"):
            await client.run("emulator/fail", {"prompt": "x"})


@pytest.mark.anyio
async def test_task_cancellation_cancels_remotely(replicate_emulator: EmulatorServer) -> None:
    """Cancelling a task blocked in run() on a slow model cancels the prediction on the server."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow runs for 30 s
    spy = SpyTransport()
    client = _client(replicate_emulator, transport=spy)
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(lambda: client.run("emulator/slow", {"prompt": "x"}, wait=False))
        await spy.polling.wait()
        tg.cancel_scope.cancel()
    assert replicate_emulator.stats()["cancels"] == 1


@pytest.mark.anyio
async def test_create_answered_500_is_sent_once(replicate_emulator: EmulatorServer) -> None:
    """A create the server accepted and answered with a 500 is not sent again."""
    replicate_emulator.set_faults(FaultRule(action="accept_then_error", route="create", status=500))
    async with _client(replicate_emulator) as client:
        with pytest.raises(ServerError):
            await client.run("emulator/echo", {"prompt": "x"})
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_create_dropped_after_acceptance_is_not_retried(
    replicate_emulator: EmulatorServer,
) -> None:
    """A connection dropped after the create was handled is a maybe-sent TransportError, sent once."""
    replicate_emulator.set_faults(FaultRule(action="drop", route="create", after=True))
    async with _client(replicate_emulator) as client:
        with pytest.raises(TransportError) as info:
            await client.run("emulator/echo", {"prompt": "x"})
    assert info.value.request_sent
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_create_read_timeout_is_sent_once(replicate_emulator: EmulatorServer) -> None:
    """A create whose reply does not come in time raises RequestTimeout and is not resent."""
    replicate_emulator.set_faults(FaultRule(action="delay", route="create", delay=5.0))
    timeouts = Timeouts(read=0.3, wait_margin=0)
    async with _client(replicate_emulator, timeouts=timeouts) as client:
        with pytest.raises(RequestTimeout) as info:
            await client.predictions.create("emulator/echo", {"prompt": "x"}, wait=False)
    assert info.value.request_sent
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_throttled_create_is_retried(replicate_emulator: EmulatorServer) -> None:
    """A create answered 429 once is retried and succeeds, creating one prediction."""
    replicate_emulator.set_faults(FaultRule(action="error", route="create", status=429, count=1))
    async with _client(replicate_emulator) as client:
        assert await client.run("emulator/echo", {"prompt": "x"}) == "x"
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_list_returns_created_predictions(replicate_emulator: EmulatorServer) -> None:
    """predictions.list() yields the predictions created, newest first."""
    async with _client(replicate_emulator) as client:
        made = [
            await client.predictions.create("emulator/echo", {"prompt": str(i)}) for i in range(3)
        ]
        listed = [p.id async for p in client.predictions.list()]
    assert listed == [p.id for p in reversed(made)]


@pytest.mark.anyio
async def test_fan_out_of_hundreds_needs_no_pool_slot(replicate_emulator: EmulatorServer) -> None:
    """300 concurrent runs on one default-sized client all succeed, each created once."""
    replicate_emulator.set_rate_limits(RateLimits.unlimited())
    results: dict[int, Any] = {}
    async with _client(replicate_emulator) as client:

        async def one(i: int) -> None:
            results[i] = await client.run("emulator/echo", {"prompt": str(i)})

        async with anyio.create_task_group() as tg:
            for i in range(300):
                tg.start_soon(one, i)
    assert results == {i: str(i) for i in range(300)}
    stats = replicate_emulator.stats()
    assert stats["creates"] == 300
    assert stats["peak_connections"] > 100  # requests ran side by side, not queued


# ------------------------------------------------------------------ module-level helpers


@pytest.fixture
def emulator_env(replicate_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch):
    """Point the default clients at the emulator."""
    monkeypatch.setenv("REPLICATE_API_TOKEN", replicate_emulator.token)
    monkeypatch.setenv("REPLICATE_BASE_URL", replicate_emulator.base_url)
    return replicate_emulator


def test_async_run_uses_one_default_client_per_loop(emulator_env: EmulatorServer) -> None:
    """async_run() shares one default client within a loop and closes it when the loop ends."""

    async def twice() -> tuple[Any, AsyncClient, AsyncClient]:
        out = await replicate_async.async_run("emulator/echo", {"prompt": "a"})
        first = await default_client()
        await replicate_async.async_run("emulator/echo", {"prompt": "b"})
        return out, first, await default_client()

    out, first, second = asyncio.run(twice())
    assert out == "a"
    assert first is second
    assert first._closed
    out, third, _ = trio.run(twice)
    assert third is not first
    assert third._closed


def test_run_uses_a_default_sync_client(emulator_env: EmulatorServer) -> None:
    """replicate_async.run() blocks on a default sync Client made from the environment."""
    try:
        assert replicate_async.run("emulator/echo", {"prompt": "sync"}) == "sync"
        assert replicate_async.run("emulator/echo", {"prompt": "again"}) == "again"
    finally:
        replicate_async._close_default_sync()
    replicate_async._close_default_sync()  # closing twice is harmless
