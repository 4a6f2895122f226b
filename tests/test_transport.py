# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The transport: backend choice, pools, and which failures prove a request was never sent."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import threading

import aiohttp
import httpx
import httpx_aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from replicate_async import _transport
from replicate_async._transport import (
    AiohttpTransport,
    LazyTransport,
    Outgoing,
    ShardedTransport,
    httpx_pools,
    request_not_sent,
)

OK_BODY = b'{"ok": true}'


class RawServer:
    """A loopback HTTP/1.1 server on raw sockets that misbehaves on purpose.

    Modes: ``ok`` answers 200; ``gzip`` answers the same body gzipped; ``close`` reads the whole request then closes the
    connection without a reply; ``hang`` reads it and never answers; ``truncate`` sends
    headers promising 100 bytes, sends 10 and closes.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/predictions"
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            body += chunk
        with self._lock:
            self.requests += 1
        return True

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            if self.mode == "gzip":
                body = gzip.compress(OK_BODY)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Encoding: gzip\r\nConnection: close\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
            elif self.mode == "ok":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY)
                )
            elif self.mode == "hang":
                self._stop.wait()
            elif self.mode == "truncate":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            # "close": fall through and close without a reply

    def close(self) -> None:
        self._stop.set()
        self._accepter.join(5)
        self._sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def raw_server(request: pytest.FixtureRequest):
    server = RawServer(request.param)
    yield server
    server.close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/predictions"


def _client(timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=LazyTransport(max_connections=4), timeout=timeout)


async def _post_error(url: str, timeout: float = 5.0, via: str = "httpx") -> httpx.HTTPError:
    """The error a POST to *url* raises, sent through httpx or through `LazyTransport.fetch`."""
    if via == "httpx":
        async with _client(timeout) as client:
            with pytest.raises(httpx.HTTPError) as info:
                await client.post(url, json={"input": {}})
        return info.value
    transport = LazyTransport(max_connections=4)
    try:
        with pytest.raises(httpx.HTTPError) as info:
            await transport.fetch(
                Outgoing(
                    "POST",
                    url,
                    {"Content-Type": "application/json"},
                    b'{"input":{}}',
                    httpx.Timeout(timeout),
                )
            )
    finally:
        await transport.aclose()
    return info.value


@pytest.fixture(params=["httpx", "fetch"])
def via(request: pytest.FixtureRequest) -> str:
    """How a request is sent: through an httpx client, or through `LazyTransport.fetch`."""
    return str(request.param)


# --------------------------------------------------------------- real loopback, both backends


@pytest.mark.anyio
async def test_refused_connection_is_not_sent(refused_url: str, via: str) -> None:
    """A refused connection raises httpx.ConnectError and counts as surely not sent."""
    error = await _post_error(refused_url, via=via)
    assert isinstance(error, httpx.ConnectError)
    assert request_not_sent(error)


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["close"], indirect=True)
async def test_disconnect_after_request_may_have_been_sent(raw_server: RawServer, via: str) -> None:
    """A server that reads the request and hangs up yields an error that is not "not sent"."""
    error = await _post_error(raw_server.url, via=via)
    assert raw_server.requests == 1
    assert not isinstance(error, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout)
    assert not request_not_sent(error)


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["hang"], indirect=True)
async def test_read_timeout_may_have_been_sent(raw_server: RawServer, via: str) -> None:
    """A read timeout raises httpx.ReadTimeout, which does not count as "not sent"."""
    error = await _post_error(raw_server.url, timeout=0.2, via=via)
    assert isinstance(error, httpx.ReadTimeout)
    assert not request_not_sent(error)


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["truncate"], indirect=True)
async def test_truncated_body_may_have_been_sent(raw_server: RawServer, via: str) -> None:
    """A body cut short after the headers raises an httpx transport error, not a connect error."""
    error = await _post_error(raw_server.url, via=via)
    assert isinstance(error, httpx.TransportError)
    assert not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
    assert not request_not_sent(error)


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
async def test_transport_follows_running_backend(raw_server: RawServer, anyio_backend: str) -> None:
    """The first request builds aiohttp on asyncio and httpx pools on trio, and gets its reply."""
    transport = LazyTransport(max_connections=4)
    assert transport.backend is None
    async with httpx.AsyncClient(transport=transport) as client:
        await client.post(raw_server.url, json={})
        response = await client.post(raw_server.url, json={})
        assert transport.backend == anyio_backend
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["ok", "gzip"], indirect=True)
async def test_fetch_returns_the_whole_reply(raw_server: RawServer, anyio_backend: str) -> None:
    """fetch() returns status, case-insensitive headers and the decompressed body, on both backends."""
    transport = LazyTransport(max_connections=4)
    try:
        reply = await transport.fetch(Outgoing("GET", raw_server.url, {}, None, httpx.Timeout(5.0)))
        assert transport.backend == anyio_backend
    finally:
        await transport.aclose()
    assert reply.status_code == 200
    assert reply.headers.get("CONTENT-TYPE") == "application/json"
    assert reply.content == OK_BODY


# --------------------------------------------------------------- asyncio: httpx-aiohttp itself


@pytest.mark.asyncio
@pytest.mark.parametrize("raw_server", ["close"], indirect=True)
async def test_loose_httpx_aiohttp_mapping_is_not_trusted(raw_server: RawServer) -> None:
    """httpx-aiohttp's own transport calls a disconnect ConnectTimeout; the aiohttp cause still decides."""
    transport = httpx_aiohttp.AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectTimeout) as info:
            await client.post(raw_server.url, json={})
    assert not request_not_sent(info.value)


# --------------------------------------------------------------- mapping tables

_KEY = ConnectionKey("example.com", 443, True, True, None, None, None)
_INFO = RequestInfo(URL("https://example.com"), "POST", CIMultiDictProxy(CIMultiDict()))


@pytest.mark.parametrize(
    ("error", "expected", "not_sent"),
    [
        (aiohttp.ClientConnectorError(_KEY, OSError(111, "refused")), httpx.ConnectError, True),
        (aiohttp.ClientConnectorDNSError(_KEY, OSError(-2, "no name")), httpx.ConnectError, True),
        (aiohttp.ClientProxyConnectionError(_KEY, OSError(111, "x")), httpx.ProxyError, True),
        (aiohttp.ClientHttpProxyError(_INFO, ()), httpx.ProxyError, False),
        (aiohttp.ConnectionTimeoutError("slow connect"), httpx.ConnectTimeout, True),
        (aiohttp.ServerFingerprintMismatch(b"a", b"b", "h", 1), httpx.ConnectError, True),
        (aiohttp.InvalidUrlClientError("nope"), httpx.UnsupportedProtocol, True),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx.UnsupportedProtocol, True),
        (aiohttp.SocketTimeoutError("slow read"), httpx.ReadTimeout, False),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, False),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError, False),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError, False),
        (aiohttp.ClientConnectionResetError("reset"), httpx.ReadError, False),
    ],
)
def test_aiohttp_errors_map_to_meaningful_httpx_errors(
    error: Exception, expected: type[Exception], not_sent: bool
) -> None:
    """Each aiohttp failure becomes the httpx error of the same phase, chained to it."""
    request = httpx.Request("POST", "https://example.com/v1/predictions")
    mapped = _transport._to_httpx(error, request)
    assert type(mapped) is expected
    assert mapped.__cause__ is error
    assert request_not_sent(mapped) is not_sent


def test_loosely_mapped_error_is_remapped_from_its_cause() -> None:
    """An httpx error raised from an aiohttp error is remapped from that cause."""
    cause = aiohttp.ServerDisconnectedError()
    loose = httpx.ConnectTimeout("Server disconnected")
    loose.__cause__ = cause
    mapped = _transport._to_httpx(loose, httpx.Request("GET", "https://example.com"))
    assert isinstance(mapped, httpx.RemoteProtocolError)
    assert "server disconnected" in str(mapped)


def test_raw_timeout_maps_to_read_timeout() -> None:
    """A bare TimeoutError (outside aiohttp's classes) becomes httpx.ReadTimeout."""
    mapped = _transport._to_httpx(TimeoutError(), httpx.Request("GET", "https://example.com"))
    assert isinstance(mapped, httpx.ReadTimeout)
    assert str(mapped) == "TimeoutError"


def test_other_errors_pass_through_unchanged() -> None:
    """An error with no aiohttp cause that is not a timeout is returned as it is."""
    error = httpx.ReadError("plain")
    assert _transport._to_httpx(error, httpx.Request("GET", "https://example.com")) is error


@pytest.mark.parametrize(
    ("error", "not_sent"),
    [
        (httpx.ConnectError("x"), True),
        (httpx.ConnectTimeout("x"), True),
        (httpx.PoolTimeout("x"), True),
        (httpx.UnsupportedProtocol("x"), True),
        (httpx.ReadTimeout("x"), False),
        (httpx.WriteError("x"), False),
        (httpx.RemoteProtocolError("x"), False),
        (httpx.ReadError("x"), False),
    ],
)
def test_httpx_errors_without_aiohttp_cause(error: Exception, not_sent: bool) -> None:
    """Without an aiohttp cause, only connect-phase httpx errors count as not sent."""
    assert request_not_sent(error) is not_sent


def test_cause_cycle_terminates() -> None:
    """A cyclic __cause__ chain is walked once."""
    first, second = httpx.ReadError("a"), httpx.ReadError("b")
    first.__cause__, second.__cause__ = second, first
    assert not request_not_sent(first)


class _FailingStream(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b"partial"
        raise aiohttp.ClientPayloadError("cut")

    async def aclose(self) -> None:
        raise aiohttp.ServerDisconnectedError


@pytest.mark.asyncio
async def test_body_stream_errors_are_remapped() -> None:
    """Errors while reading or closing a body surface as httpx errors, not aiohttp ones."""
    stream = _transport._RemappingStream(_FailingStream(), httpx.Request("GET", "https://x.test"))

    async def read_all() -> list[bytes]:
        return [chunk async for chunk in stream]

    with pytest.raises(httpx.RemoteProtocolError):
        await read_all()
    with pytest.raises(httpx.RemoteProtocolError):
        await stream.aclose()


# --------------------------------------------------------------- lazy transport lifecycle


def test_client_is_bound_to_its_first_loop() -> None:
    """Using one transport from a second event loop raises a clear RuntimeError."""
    server = RawServer("ok")
    transport = LazyTransport(max_connections=2)

    async def call() -> int:
        response = await transport.handle_async_request(httpx.Request("GET", server.url))
        await response.aread()
        await response.aclose()
        return response.status_code

    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(call()) == 200
        with pytest.raises(RuntimeError, match="one AsyncClient per event loop"):
            asyncio.run(call())
    finally:
        first.run_until_complete(transport.aclose())
        first.close()
        server.close()


def test_unknown_backend_is_refused() -> None:
    """A backend other than asyncio or trio is refused by name."""
    with pytest.raises(RuntimeError, match="'curio'"):
        LazyTransport(max_connections=1)._build("curio")


@pytest.mark.anyio
async def test_aclose_before_first_request_is_a_no_op() -> None:
    """Closing a transport that never sent anything does nothing."""
    transport = LazyTransport(max_connections=1)
    await transport.aclose()
    assert transport.backend is None


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
async def test_aclose_closes_the_real_transport(raw_server: RawServer) -> None:
    """aclose closes the transport built for the loop and forgets it."""
    transport = LazyTransport(max_connections=1)
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get(raw_server.url)
    assert transport.backend is None


def test_aiohttp_session_is_sized_and_cookieless() -> None:
    """The aiohttp session holds max_connections connections and keeps no cookies."""

    async def make() -> aiohttp.ClientSession:
        return AiohttpTransport(max_connections=1234).get_client()

    async def check() -> None:
        session = await make()
        try:
            assert session.connector is not None
            assert session.connector.limit == 1234
            assert session.connector.limit_per_host == 0
            assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
        finally:
            await session.close()

    asyncio.run(check())


# --------------------------------------------------------------- sharded httpx pools


def test_small_pool_is_not_sharded() -> None:
    """Up to one shard's worth of connections, httpx_pools is one plain httpx pool."""
    assert isinstance(httpx_pools(10, shard_size=32), httpx.AsyncHTTPTransport)


def test_large_pool_is_sharded_to_cover_every_connection() -> None:
    """1,000 connections become ceil(1000/32) pools that together hold at least 1,000."""
    transport = httpx_pools(1000, shard_size=32)
    assert isinstance(transport, ShardedTransport)
    assert len(transport._shards) == 32
    assert transport._per_shard * len(transport._shards) >= 1000


class _Body(httpx.AsyncByteStream):
    """A body not read in advance, like a real transport's."""

    async def __aiter__(self):
        yield b"ok"


def _counting_shard(
    calls: list[int], index: int, fail: bool = False, preread: bool = False
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(index)
        if fail:
            raise httpx.ConnectError("refused", request=request)
        if preread:
            return httpx.Response(200, content=b"ok")
        return httpx.Response(200, stream=_Body())

    return httpx.MockTransport(handler)


@pytest.mark.anyio
async def test_shards_are_used_round_robin() -> None:
    """Requests go to the shards in turn while each has room."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, i) for i in range(3)], per_shard=2)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(4):
            await client.get("https://x.test/")
    assert calls == [0, 1, 2, 0]
    assert transport._in_flight == [0, 0, 0]


@pytest.mark.anyio
async def test_full_shards_are_skipped() -> None:
    """A shard whose connections are all busy is skipped for the next one with room."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, i) for i in range(3)], per_shard=1)
    request = httpx.Request("GET", "https://x.test/")
    held = await transport.handle_async_request(request)  # shard 0 busy
    transport._next = 0
    second = await transport.handle_async_request(request)
    assert calls == [0, 1]
    await held.aclose()
    await second.aclose()
    await held.stream.aclose()  # a second close releases nothing more
    assert transport._in_flight == [0, 0, 0]


@pytest.mark.anyio
async def test_all_shards_full_falls_back_to_round_robin() -> None:
    """When every shard is busy the request still goes to the next shard (and waits there)."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, i) for i in range(2)], per_shard=1)
    request = httpx.Request("GET", "https://x.test/")
    responses = [await transport.handle_async_request(request) for _ in range(3)]
    assert calls == [0, 1, 0]
    assert transport._in_flight == [2, 1]
    for response in responses:
        await response.aclose()
    await transport.aclose()


@pytest.mark.anyio
async def test_failed_request_releases_its_shard() -> None:
    """A request that raises gives its shard's slot back."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, 0, fail=True)], per_shard=1)
    with contextlib.suppress(httpx.ConnectError):
        await transport.handle_async_request(httpx.Request("GET", "https://x.test/"))
    assert transport._in_flight == [0]


@pytest.mark.anyio
async def test_body_read_in_advance_releases_its_shard_at_once() -> None:
    """A response whose body was read in advance holds no slot."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, 0, preread=True)], per_shard=1)
    response = await transport.handle_async_request(httpx.Request("GET", "https://x.test/"))
    assert response.content == b"ok"
    assert transport._in_flight == [0]


def test_trio_shards_share_one_tls_context():
    """Every shard of httpx's transport uses one TLS context (each costs a CA-bundle load)."""
    transport = httpx_pools(1000)
    contexts = {id(shard._pool._ssl_context) for shard in transport._shards}
    assert len(transport._shards) > 1
    assert len(contexts) == 1
