# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The aiohttp backend's read timeout and call deadline, kept by one lazily re-armed timer
per connection (``LazyTimeouts``).

A real HTTP server on loopback (asyncio streams) sends its replies in timed chunks: a reply
whose chunks each come within the read timeout is read whole however long it takes, one that
stops sending fails with RequestTimeout, and a connection left idle in the pool after a reply
is not timed out later. A call's deadline (``Phases.total``) ends a call at its time however
long the read timeout, whatever an earlier call on the same connection armed, and covers the
wait for a pooled connection; it never outlives the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import pytest
from aiohttp.client_proto import ResponseHandler

import replicate_async._backend_aiohttp as backend_aiohttp
from replicate_async import RequestTimeout
from replicate_async._backend import Outgoing, Phases
from replicate_async._backend_aiohttp import (
    AiohttpBackend,
    GatedConnector,
    LazyTimeouts,
    lazy_timeouts,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio

CHUNK_GAP = 0.15  # seconds between two chunks of a reply
READ = 0.4  # the read timeout: more than a gap, less than a reply


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp runs on asyncio only."""
    return "asyncio"


class ChunkedServer:
    """Answers every request on a kept-alive connection with *chunks* pieces of body, one every
    :data:`CHUNK_GAP` seconds, then (``stall``) stops sending before the end."""

    def __init__(self, chunks: int, *, stall: bool = False, holds: tuple[int, ...] = ()) -> None:
        self.chunks = chunks
        self.stall = stall
        self.holds = holds  # the requests (1, 2, ...) answered with nothing at all
        self.connections = 0
        self.requests = 0
        self.sent = 0
        self.url = ""
        self.handlers: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self._answer(reader, writer)
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                await reader.readuntil(b"\r\n\r\n")  # a GET: no body
                self.requests += 1
                if self.requests in self.holds:
                    await asyncio.Event().wait()  # not a byte of the reply
                length = self.chunks + (1 if self.stall else 0)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length)
                await writer.drain()
                for _ in range(self.chunks):
                    await asyncio.sleep(CHUNK_GAP)
                    writer.write(b"x")
                    await writer.drain()
                    self.sent += 1
                if self.stall:
                    await asyncio.Event().wait()  # never the last byte


@contextlib.asynccontextmanager
async def serving(server: ChunkedServer) -> AsyncIterator[ChunkedServer]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}/v1/predictions/p1"
    try:
        yield server
    finally:
        listener.close()
        for task in server.handlers:  # a stalled reply waits for ever: end it, close its socket
            task.cancel()
        await asyncio.gather(*server.handlers, return_exceptions=True)
        await listener.wait_closed()


def _get(url: str, *, read: float = READ, total: float = 30.0) -> Outgoing:
    phases = Phases(connect=5.0, read=read, write=5.0, pool=5.0, total=total)
    return Outgoing("GET", url, {}, None, phases, 1 << 20)


LONG_READ = 20.0  # a read timeout no test waits for
DEADLINE = 0.4  # a call's total: what ends it in these tests
SOON = 10.0  # seconds: far less than LONG_READ, far more than DEADLINE


async def test_this_aiohttp_gets_the_lazy_read_timer() -> None:
    """The private names the lazy timer builds on are there, and the backend's connector
    makes its connections' protocols with it (else it would silently fall back)."""
    assert lazy_timeouts() is True
    connector = GatedConnector(limit=4)
    try:
        factory = connector._factory  # aiohttp's own seam, which the connector replaces
        assert factory.func is LazyTimeouts
    finally:
        await connector.close()


async def test_a_reply_whose_chunks_each_come_in_time_is_read_whole() -> None:
    """Six chunks 0.15 s apart (0.9 s in all) under a 0.4 s read timeout: the timer re-arms
    each time it finds a chunk came after it was armed, and the reply is read whole."""
    backend = AiohttpBackend(max_connections=4)
    async with serving(ChunkedServer(6)) as server:
        try:
            reply = await backend.fetch(_get(server.url))
        finally:
            await backend.aclose()
    assert reply.status_code == 200
    assert reply.content == b"x" * 6


async def test_a_reply_that_stops_coming_times_out() -> None:
    """Three chunks in time, then nothing: RequestTimeout (the request was sent), raised by
    the re-armed timer once no chunk came for the read timeout."""
    backend = AiohttpBackend(max_connections=4)
    async with serving(ChunkedServer(3, stall=True)) as server:
        try:
            with pytest.raises(RequestTimeout) as info:
                await backend.fetch(_get(server.url))
        finally:
            await backend.aclose()
    assert info.value.request_sent is True
    assert server.sent == 3  # it timed out after the chunks, not before


async def test_an_idle_pooled_connection_is_not_timed_out() -> None:
    """A connection back in the pool after its reply holds no read timer: left idle for more
    than the read timeout, it carries the next request."""
    backend = AiohttpBackend(max_connections=4)
    async with serving(ChunkedServer(1)) as server:
        try:
            first = await backend.fetch(_get(server.url))
            await asyncio.sleep(READ * 2)  # the idle time is the scenario, not a wait for a result
            second = await backend.fetch(_get(server.url))
        finally:
            await backend.aclose()
    assert (first.content, second.content) == (b"x", b"x")
    assert (server.connections, server.requests) == (1, 2)


class _OtherConstructor(ResponseHandler):
    """aiohttp's protocol, were its constructor to take more."""

    def __init__(self, loop: asyncio.AbstractEventLoop, extra: object) -> None:
        super().__init__(loop)
        self.extra = extra


class _NoReschedule(ResponseHandler):
    """aiohttp's protocol, were the method the lazy timer overrides gone."""

    _reschedule_timeout = None


@pytest.mark.parametrize("changed", [_OtherConstructor, _NoReschedule])
async def test_an_aiohttp_without_the_private_names_keeps_its_own_protocol(
    monkeypatch: pytest.MonkeyPatch, changed: type[ResponseHandler]
) -> None:
    """Should aiohttp's protocol change shape (its constructor, or a method the lazy timer
    overrides), the check says no (and the connector keeps aiohttp's own protocol)."""
    monkeypatch.setattr(backend_aiohttp, "ResponseHandler", changed)
    lazy_timeouts.cache_clear()
    try:
        assert lazy_timeouts() is False
    finally:
        lazy_timeouts.cache_clear()


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "aiohttp's-own"])
async def test_a_call_answered_with_nothing_ends_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, lazy: bool
) -> None:
    """No byte of the reply, a read timeout of 20 s and a deadline of 0.4 s: RequestTimeout
    for the deadline (the call counts as sent) within seconds, kept by the connection's one
    timer, or by aiohttp's own total when the private names are missing."""
    if not lazy:
        monkeypatch.setattr(backend_aiohttp, "lazy_timeouts", lambda: False)
    backend = AiohttpBackend(max_connections=4)
    started = time.monotonic()
    async with serving(ChunkedServer(1, holds=(1,))) as server:
        try:
            with pytest.raises(RequestTimeout, match="deadline of one attempt") as info:
                await backend.fetch(_get(server.url, read=LONG_READ, total=DEADLINE))
        finally:
            await backend.aclose()
    assert time.monotonic() - started < SOON
    assert info.value.request_sent is True
    assert (backend._keeps_deadlines is not None) is lazy  # which of the two kept it
    assert backend._deadlines == {}  # the failed call's deadline went with it


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"read": LONG_READ, "total": 60.0}, {"read": LONG_READ, "total": DEADLINE}),
        ({"read": LONG_READ, "total": 60.0}, {"read": DEADLINE, "total": 60.0}),
    ],
    ids=["deadline", "read"],
)
async def test_a_shorter_timeout_than_the_last_call_armed_is_kept(
    first: dict[str, float], second: dict[str, float]
) -> None:
    """A call answered at once leaves the connection's timer armed 20 s ahead; the next call
    on that connection, given a 0.4 s deadline or read timeout and answered with nothing,
    still ends within seconds (the timer is re-armed earlier, not left at 20 s)."""
    backend = AiohttpBackend(max_connections=1)
    async with serving(ChunkedServer(1, holds=(2,))) as server:
        try:
            reply = await backend.fetch(_get(server.url, **first))
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                await backend.fetch(_get(server.url, **second))
            elapsed = time.monotonic() - started
        finally:
            await backend.aclose()
    assert reply.content == b"x"
    assert (server.connections, server.requests) == (1, 2)  # the same connection
    assert elapsed < SOON


async def test_a_deadline_ends_with_its_call_not_later() -> None:
    """A call with a 0.4 s deadline answered at once, its connection left idle past that
    deadline, then a second call on it with a long one: both succeed on one connection
    (the first call's deadline was cleared when its connection was released)."""
    backend = AiohttpBackend(max_connections=1)
    async with serving(ChunkedServer(1)) as server:
        try:
            first = await backend.fetch(_get(server.url, total=DEADLINE))
            await asyncio.sleep(
                DEADLINE * 2
            )  # the idle time is the scenario, not a wait for a result
            second = await backend.fetch(_get(server.url, total=60.0))
            left = dict(backend._deadlines)
        finally:
            await backend.aclose()
    assert (first.content, second.content) == (b"x", b"x")
    assert (server.connections, server.requests) == (1, 2)
    assert left == {}  # nothing kept per task once its calls are over


async def test_the_deadline_covers_the_wait_for_a_pooled_connection() -> None:
    """The pool's one connection held by a call answered with nothing: a second call with a
    0.4 s deadline (and no pool timeout) gives up waiting for it within seconds, a failure
    that proves it was never sent."""
    backend = AiohttpBackend(max_connections=1)
    waiting = Phases(connect=5.0, read=LONG_READ, write=5.0, pool=None, total=DEADLINE)
    async with serving(ChunkedServer(1, holds=(1,))) as server:
        try:
            holder = asyncio.ensure_future(backend.fetch(_get(server.url, read=LONG_READ)))
            while server.requests < 1:  # until the first call holds the connection
                await asyncio.sleep(0.01)
            started = time.monotonic()
            with pytest.raises(RequestTimeout) as info:
                await backend.fetch(Outgoing("GET", server.url, {}, None, waiting, 1 << 20))
            elapsed = time.monotonic() - started
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
        finally:
            await backend.aclose()
    assert elapsed < SOON
    assert info.value.request_sent is False
    assert server.requests == 1


async def test_a_lost_connection_cancels_its_timer() -> None:
    """A connection lost with its timer armed drops the timer at once: nothing is left in
    the loop to fire at a dead connection."""
    loop = asyncio.get_running_loop()
    protocol = LazyTimeouts(loop)
    protocol.expire_at(loop.time() + 60.0)
    handle = protocol._read_timeout_handle  # aiohttp's own name for the timer
    assert handle is not None
    protocol.connection_lost(None)
    assert protocol._read_timeout_handle is None
    assert handle.cancelled()


async def test_a_new_connections_timer_is_armed_once_for_a_call() -> None:
    """A call's deadline (120 s) armed on a new connection before its read timeout (65 s)
    starts: the timer is armed at the read timeout's earliest due time, so starting the read
    timeout once the request is sent keeps that timer (no cancelled one left in the loop's
    heap until the deadline, one per connection of a filling pool)."""
    loop = asyncio.get_running_loop()
    protocol = LazyTimeouts(loop)
    before = loop.time()
    protocol.expire_at(before + 120.0, 65.0)
    handle = protocol._read_timeout_handle
    assert handle is not None
    assert before + 65.0 <= handle.when() <= loop.time() + 65.0
    protocol.read_timeout = 65.0  # as aiohttp's set_response_params, then the request is sent
    protocol.start_timeout()
    assert protocol._read_timeout_handle is handle
    assert not handle.cancelled()
    protocol.connection_lost(None)


async def test_the_connectors_timers_share_one_context() -> None:
    """The connections of one connector arm their timers in the connector's one context
    (not a copy of the caller's per timer: an object more per connection)."""
    loop = asyncio.get_running_loop()
    connector = GatedConnector(limit=4)
    try:
        first, second = connector._factory(), connector._factory()
    finally:
        await connector.close()
    assert isinstance(first, LazyTimeouts)
    assert isinstance(second, LazyTimeouts)
    for protocol in (first, second):
        protocol.expire_at(loop.time() + 60.0)
    handles = [first._read_timeout_handle, second._read_timeout_handle]
    assert handles[0] is not None
    assert handles[1] is not None
    assert handles[0]._context is handles[1]._context  # asyncio's own attribute
    for protocol in (first, second):
        protocol.connection_lost(None)
