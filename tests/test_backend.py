# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The backends: whole replies, streams, uploads, timeouts per phase, and errors mapped once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import socket
import threading
import zlib
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import pytest
import respx
from aiohttp.client_reqrep import ConnectionKey, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import replicate_async._backend_aiohttp as backend_aiohttp
from replicate_async import RequestTimeout, TransportError
from replicate_async._backend import (
    LazyBackend,
    Outgoing,
    Phases,
    Streamed,
    is_decoding_error,
    is_retryable,
    make_backend,
)
from replicate_async._backend_aiohttp import (
    CONNECTS_AT_MOST,
    CONNECTS_AT_ONCE,
    AiohttpBackend,
    GatedConnector,
    connects_at_once,
    from_aiohttp,
)
from replicate_async._backend_httpx import HttpxBackend, ShardedTransport, from_httpx, httpx_pools

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

OK_BODY = b'{"ok": true}'
FIVE = Phases(connect=5.0, read=5.0, write=5.0, pool=5.0)


def _gzip(data_chunks: Iterator[bytes]) -> bytes:
    """Gzip the chunks as one stream, without holding them all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(chunk) for chunk in data_chunks]
    return b"".join([*parts, compressor.flush()])


MiB = 1024 * 1024
HUGE = 100 * MiB
HOSTILE = frozenset({"trickle", "huge", "bomb", "bomb2", "sse_huge"})


@functools.cache
def bomb(layers: int) -> bytes:
    """Zeros gzipped *layers* times: 64 MiB in 64 KiB once, 128 MiB in a few KiB twice."""
    body = _gzip(bytes(MiB) for _ in range(64 * layers))
    for _ in range(layers - 1):
        body = _gzip(iter([body]))
    return body


class RawServer:
    """A loopback HTTP/1.1 server on raw sockets, answering in one of several (mis)behaviours.

    Modes: ``ok`` answers 200; ``gzip`` the same body gzipped; ``badgzip`` a body that
    claims gzip and is not; ``echo`` answers with the
    request's body (plain or chunked) and records it; ``stream`` sends a chunked body in two
    chunks and waits for `proceed` between them; ``close`` reads the request and hangs up;
    ``hang`` reads it and never answers; ``truncate`` promises 100 bytes, sends 10 and
    closes; ``stall`` promises 100 bytes, sends 10 and hangs. Hostile ones: ``trickle``
    promises 600 bytes and sends one every 0.1 s (a minute in all); ``huge`` sends a
    100 MiB JSON body; ``bomb`` sends 64 MiB of zeros gzipped (64 KiB on the wire);
    ``bomb2`` 128 MiB gzipped twice (``Content-Encoding: gzip, gzip``: a few KiB);
    ``sse_huge`` an event stream whose first line is 100 MiB long. ``sent`` counts the
    body bytes the hostile modes got out before the client hung up.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self.bodies: list[bytes] = []
        self.heads: list[bytes] = []
        self.proceed = threading.Event()
        self.proceeded_in_time: bool | None = None
        self.sent = 0
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

    @staticmethod
    def _recv_until(conn: socket.socket, data: bytes, marker: bytes) -> bytes:
        while marker not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    @classmethod
    def _recv_exactly(cls, conn: socket.socket, data: bytes, size: int) -> bytes:
        while len(data) < size:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _read_request(self, conn: socket.socket) -> bool:
        try:
            data = self._recv_until(conn, b"", b"\r\n\r\n")
            head, _, rest = data.partition(b"\r\n\r\n")
            fields = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip().lower()
            if fields.get(b"transfer-encoding") == b"chunked":
                body = b""
                while True:
                    rest = self._recv_until(conn, rest, b"\r\n")
                    size_line, _, rest = rest.partition(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    rest = self._recv_exactly(conn, rest, size + 2)
                    body, rest = body + rest[:size], rest[size + 2 :]
                    if size == 0:
                        break
            else:
                length = int(fields.get(b"content-length", b"0"))
                body = self._recv_exactly(conn, rest, length)
        except ConnectionError:
            return False
        with self._lock:
            self.requests += 1
            self.heads.append(head)
            self.bodies.append(body)
        return True

    def _reply(self, conn: socket.socket, body: bytes, extra: bytes = b"") -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"%sContent-Length: %d\r\n\r\n%s" % (extra, len(body), body)
        )

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            if not self._read_request(conn):
                return
            if self.mode in HOSTILE:
                with contextlib.suppress(OSError):  # the client hanging up ends the reply
                    self._hostile(conn)
            else:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        if self.mode == "ok":
            self._reply(conn, OK_BODY)
        elif self.mode == "gzip":
            self._reply(conn, gzip.compress(OK_BODY), b"Content-Encoding: gzip\r\n")
        elif self.mode == "badgzip":
            self._reply(conn, b"not gzip at all", b"Content-Encoding: gzip\r\n")
        elif self.mode == "echo":
            self._reply(conn, self.bodies[-1])
        elif self.mode == "stream":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"5\r\nfirst\r\n"
            )
            self.proceeded_in_time = self.proceed.wait(5)
            conn.sendall(b"6\r\nsecond\r\n0\r\n\r\n")
        elif self.mode in {"hang", "stall"}:
            if self.mode == "stall":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            self._stop.wait()
        elif self.mode == "truncate":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        # "close": fall through and close without a reply

    def _hostile(self, conn: socket.socket) -> None:
        if self.mode == "trickle":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n"
            )
            for _ in range(600):
                if self._stop.wait(0.1):
                    return
                conn.sendall(b" ")
                self.sent += 1
            return
        if self.mode in {"bomb", "bomb2"}:
            body, encoding = (bomb(1), b"gzip") if self.mode == "bomb" else (bomb(2), b"gzip, gzip")
            self._reply(conn, body, b"Content-Encoding: %s\r\n" % encoding)
            return
        sse = self.mode == "sse_huge"
        head, tail = (b'data: {"logs": "', b'"}\n\n') if sse else (b'{"logs": "', b'"}')
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (b"text/event-stream" if sse else b"application/json", HUGE, head)
        )
        left = HUGE - len(head) - len(tail)
        piece = b"x" * 65536
        while left > 0 and not self._stop.is_set():
            chunk = piece[:left]
            conn.sendall(chunk)
            left -= len(chunk)
            with self._lock:
                self.sent += len(chunk)
        conn.sendall(tail)

    def close(self) -> None:
        self._stop.set()
        self.proceed.set()
        self._accepter.join(5)
        self._sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def raw_server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    """A RawServer in the mode given by indirect parametrisation."""
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


@pytest.fixture
def unanswered_url() -> Iterator[str]:
    """A loopback URL whose listener's backlog is full, so a connect waits until it times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}/v1/predictions"
    for filler in fillers:
        filler.close()
    server.close()


def _make(kind: str, max_connections: int = 4) -> AiohttpBackend | HttpxBackend:
    """A backend of *kind*: aiohttp itself, or httpx's own pools."""
    if kind == "aiohttp":
        return AiohttpBackend(max_connections=max_connections)
    return HttpxBackend(max_connections=max_connections)


# aiohttp runs on asyncio only; httpx on both.
EVERY_BACKEND = pytest.mark.parametrize(
    ("anyio_backend", "kind"),
    [("asyncio", "aiohttp"), ("asyncio", "httpx"), ("trio", "httpx")],
    ids=["aiohttp", "httpx-asyncio", "httpx-trio"],
)


async def _fetch_error(
    kind: str, url: str, phases: Phases = FIVE, method: str = "POST"
) -> TransportError:
    """The error a request to *url* raises through a fresh backend of *kind*."""
    backend = _make(kind)
    try:
        with pytest.raises(TransportError) as info:
            await backend.fetch(Outgoing(method, url, {}, b'{"input":{}}', phases))
    finally:
        await backend.aclose()
    return info.value


# --------------------------------------------------------------- whole replies


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["ok", "gzip"], indirect=True)
async def test_fetch_returns_the_whole_decompressed_reply(raw_server: RawServer, kind: str) -> None:
    """fetch() returns status, case-insensitive headers and the decompressed body."""
    backend = _make(kind)
    try:
        reply = await backend.fetch(Outgoing("GET", raw_server.url, {}, None, FIVE))
    finally:
        await backend.aclose()
    assert reply.status_code == 200
    assert reply.headers.get("CONTENT-TYPE") == "application/json"
    assert reply.content == OK_BODY


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["echo"], indirect=True)
async def test_async_iterable_upload_arrives_byte_exact(raw_server: RawServer, kind: str) -> None:
    """A body given as an async iterable of chunks reaches the server byte for byte."""
    data = bytes(range(256)) * 4096  # 1 MiB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    backend = _make(kind)
    try:
        reply = await backend.fetch(
            Outgoing("PUT", raw_server.url, {"X-Test": "upload"}, chunks(), FIVE)
        )
    finally:
        await backend.aclose()
    assert raw_server.bodies == [data]
    assert b"x-test: upload" in raw_server.heads[0].lower()
    assert reply.content == data


# --------------------------------------------------------------- streams


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["stream"], indirect=True)
async def test_open_yields_chunks_as_they_arrive(raw_server: RawServer, kind: str) -> None:
    """open() gives the head at once and each chunk before the server sends the next one."""
    backend = _make(kind)
    received = b""
    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)) as streamed:
            assert streamed.status_code == 200
            assert streamed.headers.get("TRANSFER-ENCODING") == "chunked"
            async for chunk in streamed.chunks():
                received += chunk
                if received == b"first":
                    raw_server.proceed.set()
    finally:
        await backend.aclose()
    assert received == b"firstsecond"
    assert raw_server.proceeded_in_time is True


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["gzip"], indirect=True)
async def test_open_decompresses_the_body(raw_server: RawServer, kind: str) -> None:
    """A gzipped body comes out of chunks() decompressed."""
    backend = _make(kind)
    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)) as streamed:
            body = b"".join([chunk async for chunk in streamed.chunks()])
    finally:
        await backend.aclose()
    assert body == OK_BODY


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["truncate"], indirect=True)
async def test_body_cut_short_mid_stream_is_sent(raw_server: RawServer, kind: str) -> None:
    """A body cut short while streaming raises TransportError with request_sent=True."""
    backend = _make(kind)
    received = bytearray()

    async def read(streamed: Streamed) -> None:
        async for chunk in streamed.chunks():
            received.extend(chunk)

    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)) as streamed:
            with pytest.raises(TransportError) as info:
                await read(streamed)
    finally:
        await backend.aclose()
    assert received == b"0123456789"
    assert info.value.request_sent is True
    assert not isinstance(info.value, RequestTimeout)
    assert isinstance(info.value.__cause__, aiohttp.ClientError | httpx.HTTPError)


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["stall"], indirect=True)
async def test_body_stalling_mid_stream_times_out(raw_server: RawServer, kind: str) -> None:
    """A body that stops arriving raises RequestTimeout (sent) after the read timeout."""
    backend = _make(kind)
    phases = FIVE._replace(read=0.2)
    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, phases)) as streamed:
            with pytest.raises(RequestTimeout) as info:
                async for _ in streamed.chunks():
                    pass
    finally:
        await backend.aclose()
    assert info.value.request_sent is True


@pytest.mark.anyio
@EVERY_BACKEND
async def test_open_head_failure_is_mapped(refused_url: str, kind: str) -> None:
    """A failure before the reply's head, on open(), is mapped like one on fetch()."""
    backend = _make(kind)
    try:
        with pytest.raises(TransportError) as info:
            async with backend.open(Outgoing("GET", refused_url, {}, None, FIVE)):
                pass
    finally:
        await backend.aclose()
    assert info.value.request_sent is False


# --------------------------------------------------------------- failures on the wire


@pytest.mark.anyio
@EVERY_BACKEND
async def test_refused_connection_is_not_sent(refused_url: str, kind: str) -> None:
    """A refused connection is a TransportError (not a timeout) that was surely not sent."""
    error = await _fetch_error(kind, refused_url + "?sig=very-secret-signature")
    assert type(error) is TransportError
    assert error.request_sent is False
    assert str(error).startswith(f"POST {refused_url} failed before the request was sent (")
    assert "secret" not in str(error)
    assert "\n" not in str(error)
    assert isinstance(error.__cause__, aiohttp.ClientConnectorError | httpx.ConnectError)


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["close"], indirect=True)
async def test_disconnect_after_request_may_have_been_sent(
    raw_server: RawServer, kind: str
) -> None:
    """A server that reads the request and hangs up yields request_sent=True."""
    error = await _fetch_error(kind, raw_server.url)
    assert raw_server.requests == 1
    assert error.request_sent is True
    assert str(error).startswith(f"POST {raw_server.url} failed (")


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["truncate"], indirect=True)
async def test_truncated_body_on_fetch_may_have_been_sent(raw_server: RawServer, kind: str) -> None:
    """A whole-reply read cut short is a TransportError with request_sent=True."""
    error = await _fetch_error(kind, raw_server.url)
    assert type(error) is TransportError
    assert error.request_sent is True


@pytest.mark.anyio
@EVERY_BACKEND
async def test_non_http_url_is_not_sent_and_not_retryable(kind: str) -> None:
    """A URL of another scheme fails before sending, and no retry can fix it."""
    error = await _fetch_error(kind, "ftp://127.0.0.1/file")
    assert error.request_sent is False
    assert not is_retryable(error)


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["badgzip"], indirect=True)
async def test_undecodable_body_is_a_decoding_error(raw_server: RawServer, kind: str) -> None:
    """A body that fails its Content-Encoding is a sent TransportError that says it is one."""
    error = await _fetch_error(kind, raw_server.url, method="GET")
    assert error.request_sent is True
    assert is_decoding_error(error)


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["truncate"], indirect=True)
async def test_cut_body_is_not_a_decoding_error(raw_server: RawServer, kind: str) -> None:
    """A body cut short is not taken for an undecodable one."""
    error = await _fetch_error(kind, raw_server.url, method="GET")
    assert not is_decoding_error(error)


# --------------------------------------------------------------- timeouts per phase


@pytest.mark.anyio
@EVERY_BACKEND
async def test_connect_timeout_is_not_sent(unanswered_url: str, kind: str) -> None:
    """A connect that outlasts the connect timeout is a RequestTimeout, surely not sent."""
    error = await _fetch_error(kind, unanswered_url, FIVE._replace(connect=0.2))
    assert isinstance(error, RequestTimeout)
    assert isinstance(error, TimeoutError)
    assert error.request_sent is False


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["hang"], indirect=True)
async def test_read_timeout_may_have_been_sent(raw_server: RawServer, kind: str) -> None:
    """A reply that does not come within the read timeout is a RequestTimeout, maybe sent."""
    error = await _fetch_error(kind, raw_server.url, FIVE._replace(read=0.2))
    assert isinstance(error, RequestTimeout)
    assert error.request_sent is True
    assert raw_server.requests == 1


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["stall"], indirect=True)
async def test_pool_timeout_is_not_sent(raw_server: RawServer, kind: str) -> None:
    """Waiting too long for the only pooled connection is a RequestTimeout, surely not sent."""
    backend = _make(kind, max_connections=1)
    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)):
            with pytest.raises(RequestTimeout) as info:
                await backend.fetch(
                    Outgoing("GET", raw_server.url, {}, None, FIVE._replace(pool=0.2))
                )
    finally:
        await backend.aclose()
    assert info.value.request_sent is False
    assert raw_server.requests == 1


# --------------------------------------------------------------- mapping tables

_KEY = ConnectionKey("example.com", 443, True, True, None, None, None)
_INFO = RequestInfo(URL("https://example.com"), "POST", CIMultiDictProxy(CIMultiDict()))
_OUT = Outgoing("POST", "https://example.com/v1/files?X-Amz-Signature=abcdef0123", {}, None, FIVE)
_NOT_SENT = "POST https://example.com/v1/files failed before the request was sent"


@pytest.mark.parametrize(
    ("error", "expected", "sent"),
    [
        (aiohttp.ClientConnectorError(_KEY, OSError(111, "refused")), TransportError, False),
        (aiohttp.ClientConnectorDNSError(_KEY, OSError(-2, "no name")), TransportError, False),
        (aiohttp.ClientProxyConnectionError(_KEY, OSError(111, "x")), TransportError, False),
        (aiohttp.ClientHttpProxyError(_INFO, ()), TransportError, True),
        (aiohttp.ConnectionTimeoutError("slow connect"), RequestTimeout, False),
        (aiohttp.ServerFingerprintMismatch(b"a", b"b", "h", 1), TransportError, False),
        (aiohttp.InvalidUrlClientError("nope"), TransportError, False),
        (aiohttp.NonHttpUrlClientError("ftp://x"), TransportError, False),
        (aiohttp.SocketTimeoutError("slow read"), RequestTimeout, True),
        (aiohttp.ServerDisconnectedError(), TransportError, True),
        (aiohttp.ClientPayloadError("cut"), TransportError, True),
        (aiohttp.ClientOSError(104, "reset"), TransportError, True),
        (aiohttp.ClientConnectionResetError("reset"), TransportError, True),
        (TimeoutError(), RequestTimeout, True),
    ],
)
def test_aiohttp_errors_map_to_ours(
    error: Exception, expected: type[Exception], sent: bool
) -> None:
    """Each aiohttp failure becomes our error of the right class and request_sent, chained."""
    mapped = from_aiohttp(error, _OUT)
    assert type(mapped) is expected
    assert mapped.request_sent is sent
    assert mapped.__cause__ is error


@pytest.mark.parametrize(
    ("error", "expected", "sent"),
    [
        (httpx.ConnectError("x"), TransportError, False),
        (httpx.ConnectTimeout("x"), RequestTimeout, False),
        (httpx.PoolTimeout("x"), RequestTimeout, False),
        (httpx.UnsupportedProtocol("x"), TransportError, False),
        (httpx.InvalidURL("x"), TransportError, False),
        (httpx.ReadTimeout("x"), RequestTimeout, True),
        (httpx.WriteTimeout("x"), RequestTimeout, True),
        (httpx.WriteError("x"), TransportError, True),
        (httpx.ReadError("x"), TransportError, True),
        (httpx.RemoteProtocolError("x"), TransportError, True),
        (httpx.LocalProtocolError("x"), TransportError, True),
        (httpx.ProxyError("x"), TransportError, True),
        (httpx.DecodingError("x"), TransportError, True),
    ],
)
def test_httpx_errors_map_to_ours(error: Exception, expected: type[Exception], sent: bool) -> None:
    """Each httpx failure becomes our error of the right class and request_sent, chained."""
    mapped = from_httpx(error, _OUT)
    assert type(mapped) is expected
    assert mapped.request_sent is sent
    assert mapped.__cause__ is error


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            httpx.ConnectError("All connection attempts failed"),
            f"{_NOT_SENT} (ConnectError: All connection attempts failed)",
        ),
        (httpx.ReadTimeout(""), "POST https://example.com/v1/files failed (ReadTimeout)"),
        (
            aiohttp.InvalidUrlClientError(
                "https://example.com/v1/files?X-Amz-Signature=abcdef0123"
            ),
            f"{_NOT_SENT} (InvalidUrlClientError: https://example.com/v1/files)",
        ),
        (
            httpx.RemoteProtocolError("line one\nline two X-Amz-Signature=abcdef0123"),
            "POST https://example.com/v1/files failed (RemoteProtocolError: line one line two)",
        ),
    ],
)
def test_message_is_one_line_without_the_query(error: Exception, message: str) -> None:
    """The message names method, bare URL and reason, on one line, never the query string."""
    mapper = from_aiohttp if isinstance(error, aiohttp.ClientError) else from_httpx
    assert str(mapper(error, _OUT)) == message


def test_message_drops_credentials_in_the_url() -> None:
    """User and password in the URL are not shown."""
    outgoing = _OUT._replace(url="https://user:pw@example.com/x?token=1")
    assert str(from_httpx(httpx.ReadError("r"), outgoing)) == (
        "POST https://example.com/x failed (ReadError: r)"
    )


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (httpx.UnsupportedProtocol("x"), False),
        (httpx.LocalProtocolError("x"), False),
        (httpx.InvalidURL("x"), False),
        (aiohttp.InvalidUrlClientError("x"), False),
        (aiohttp.NonHttpUrlClientError("x"), False),
        (httpx.ConnectError("x"), True),
        (httpx.ReadTimeout("x"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ClientConnectorError(_KEY, OSError(111, "refused")), True),
    ],
)
def test_is_retryable_inspects_the_cause(error: Exception, retryable: bool) -> None:
    """Only a malformed URL or request is not worth a retry."""
    mapper = from_aiohttp if isinstance(error, aiohttp.ClientError) else from_httpx
    assert is_retryable(mapper(error, _OUT)) is retryable


# --------------------------------------------------------------- transport= and http_client=


@pytest.mark.anyio
async def test_transport_gets_one_request_with_the_timeouts() -> None:
    """transport= gets the request as given, with the per-phase timeouts as an extension."""
    router = respx.Router(assert_all_called=True)
    route = router.post("https://api.test/v1/x").respond(
        200, content=gzip.compress(OK_BODY), headers={"Content-Encoding": "gzip"}
    )
    backend = HttpxBackend(httpx.MockTransport(router.async_handler))
    phases = Phases(connect=1.0, read=2.0, write=3.0, pool=None)
    reply = await backend.fetch(
        Outgoing("POST", "https://api.test/v1/x", {"Authorization": "Bearer t"}, b"{}", phases)
    )
    await backend.aclose()
    request = route.calls.last.request
    assert request.extensions["timeout"] == {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": None,
    }
    assert request.headers["Authorization"] == "Bearer t"
    assert request.content == b"{}"
    assert reply.content == OK_BODY


@pytest.mark.anyio
async def test_transport_failure_is_mapped() -> None:
    """An httpx failure raised by a transport= becomes ours, with request_sent from its class."""
    router = respx.Router()
    router.get("https://api.test/refused").mock(side_effect=httpx.ConnectError)
    router.get("https://api.test/slow").mock(side_effect=httpx.ReadTimeout)
    backend = HttpxBackend(httpx.MockTransport(router.async_handler))
    with pytest.raises(TransportError) as refused:
        await backend.fetch(Outgoing("GET", "https://api.test/refused", {}, None, FIVE))
    with pytest.raises(RequestTimeout) as slow:
        async with backend.open(Outgoing("GET", "https://api.test/slow", {}, None, FIVE)):
            pass
    assert refused.value.request_sent is False
    assert slow.value.request_sent is True


@pytest.mark.anyio
async def test_invalid_url_is_mapped_before_sending() -> None:
    """A URL httpx cannot even build a request for is a TransportError, surely not sent."""
    backend = HttpxBackend(httpx.MockTransport(lambda request: httpx.Response(200)))
    with pytest.raises(TransportError) as info:
        await backend.fetch(Outgoing("GET", "https://exa\x00mple.test/", {}, None, FIVE))
    assert info.value.request_sent is False
    assert isinstance(info.value.__cause__, httpx.InvalidURL)


@pytest.mark.anyio
async def test_asgi_transport_streams_an_async_iterable_upload() -> None:
    """Through httpx.ASGITransport an async-iterable body arrives whole and the reply streams."""
    received: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            received.append(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"two"})

    async def body() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    backend = HttpxBackend(httpx.ASGITransport(app))
    async with backend.open(Outgoing("POST", "http://asgi.test/up", {}, body(), FIVE)) as streamed:
        chunks = [chunk async for chunk in streamed.chunks()]
    await backend.aclose()
    assert b"".join(received) == b"abcdef"
    assert streamed.status_code == 201
    assert b"".join(chunks) == b"onetwo"


@pytest.mark.anyio
async def test_http_client_is_used_as_is_and_not_closed() -> None:
    """http_client= sends with the client's own settings and outlives the backend."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"fine")

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), headers={"X-Configured": "by-user"}
    )
    backend = HttpxBackend(http_client=client)
    phases = Phases(connect=1.0, read=2.0, write=3.0, pool=4.0)
    reply = await backend.fetch(Outgoing("GET", "https://api.test/a", {"X-Own": "1"}, None, phases))
    async with backend.open(Outgoing("GET", "https://api.test/b", {}, None, phases)) as streamed:
        streamed_body = b"".join([chunk async for chunk in streamed.chunks()])
    await backend.aclose()
    await backend.aclose()
    assert not client.is_closed
    await client.aclose()
    assert reply.content == streamed_body == b"fine"
    assert [r.headers["X-Configured"] for r in seen] == ["by-user", "by-user"]
    assert seen[0].headers["X-Own"] == "1"
    assert seen[0].extensions["timeout"] == {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}


@pytest.mark.anyio
async def test_http_client_failure_is_mapped() -> None:
    """A failure inside a user's http_client is mapped like any other."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        backend = HttpxBackend(http_client=client)
        with pytest.raises(RequestTimeout) as info:
            await backend.fetch(Outgoing("GET", "https://api.test/a", {}, None, FIVE))
    assert info.value.request_sent is False


def test_transport_and_http_client_together_are_refused() -> None:
    """Passing both transport= and http_client= is a ValueError."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with pytest.raises(ValueError, match="not both"):
        HttpxBackend(transport, http_client=httpx.AsyncClient())


def test_make_backend_chooses_by_what_is_given() -> None:
    """make_backend: a LazyBackend by default, an HttpxBackend over a transport or a client."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    lazy = make_backend(max_connections=8)
    over_transport = make_backend(max_connections=8, transport=transport)
    over_client = make_backend(max_connections=8, http_client=httpx.AsyncClient())
    assert isinstance(lazy, LazyBackend)
    assert isinstance(over_transport, HttpxBackend)
    assert over_transport.transport is transport
    assert isinstance(over_client, HttpxBackend)
    assert over_client.transport is None


# --------------------------------------------------------------- the lazy backend


@pytest.mark.anyio
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
async def test_lazy_backend_follows_the_running_loop(
    raw_server: RawServer, anyio_backend: str
) -> None:
    """The first request builds aiohttp on asyncio and httpx pools on trio, and gets its reply."""
    backend = LazyBackend(max_connections=4)
    assert backend.backend is None
    await backend.fetch(Outgoing("GET", raw_server.url, {}, None, FIVE))
    async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)) as streamed:
        body = b"".join([chunk async for chunk in streamed.chunks()])
    assert backend.backend == anyio_backend
    expected = AiohttpBackend if anyio_backend == "asyncio" else HttpxBackend
    assert isinstance(backend.inner, expected)
    await backend.aclose()
    assert backend.backend is None
    assert body == OK_BODY


def test_lazy_backend_is_bound_to_its_first_loop() -> None:
    """Using one LazyBackend from a second event loop raises a clear RuntimeError."""
    server = RawServer("ok")
    backend = LazyBackend(max_connections=2)

    async def call() -> int:
        reply = await backend.fetch(Outgoing("GET", server.url, {}, None, FIVE))
        return reply.status_code

    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(call()) == 200
        with pytest.raises(RuntimeError, match="one AsyncClient per event loop"):
            asyncio.run(call())
    finally:
        first.run_until_complete(backend.aclose())
        first.close()
        server.close()


def test_unknown_async_library_is_refused() -> None:
    """An async library other than asyncio or trio is refused by name."""
    with pytest.raises(RuntimeError, match="'curio'"):
        LazyBackend(max_connections=1).build("curio")


@pytest.mark.anyio
async def test_aclose_before_first_request_is_a_no_op() -> None:
    """Closing a LazyBackend that never sent anything does nothing."""
    backend = LazyBackend(max_connections=1)
    await backend.aclose()
    assert backend.backend is None


@pytest.mark.asyncio
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
async def test_aiohttp_session_is_sized_and_cookieless(raw_server: RawServer) -> None:
    """The aiohttp session, made on first use, holds max_connections and keeps no cookies."""
    backend = AiohttpBackend(max_connections=1234)
    assert backend.session is None
    await backend.fetch(Outgoing("GET", raw_server.url, {}, None, FIVE))
    session = backend.session
    assert session is not None
    assert session.connector is not None
    assert session.connector.limit == 1234
    assert session.connector.limit_per_host == 0
    assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
    assert session.trust_env is False
    assert session.auto_decompress is True
    await backend.aclose()
    await backend.aclose()
    assert session.closed
    assert backend.session is None


# --------------------------------------------------------------- httpx's sharded pools


def test_small_pool_is_not_sharded() -> None:
    """Up to one shard's worth of connections, httpx_pools is one plain httpx pool."""
    assert isinstance(httpx_pools(10, shard_size=32), httpx.AsyncHTTPTransport)


def test_large_pool_is_sharded_to_cover_every_connection() -> None:
    """1,000 connections become ceil(1000/32) pools that together hold at least 1,000."""
    transport = httpx_pools(1000, shard_size=32)
    assert isinstance(transport, ShardedTransport)
    assert len(transport.shards) == 32
    assert transport.per_shard * len(transport.shards) >= 1000


def test_trio_backend_shards_share_one_tls_context() -> None:
    """Every shard of the trio backend's pools uses one TLS context (each costs a CA-bundle load)."""
    transport = HttpxBackend(max_connections=1000).transport
    assert isinstance(transport, ShardedTransport)
    contexts = {id(shard._pool._ssl_context) for shard in transport.shards}  # type: ignore[attr-defined]
    assert len(transport.shards) > 1
    assert len(contexts) == 1


class _Body(httpx.AsyncByteStream):
    """A body not read in advance, like a real transport's."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
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
async def test_shards_are_used_round_robin_and_released() -> None:
    """Requests through the backend go to the shards in turn and give their slots back."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, i) for i in range(3)], per_shard=2)
    backend = HttpxBackend(transport)
    for _ in range(3):
        await backend.fetch(Outgoing("GET", "https://x.test/", {}, None, FIVE))
    async with backend.open(Outgoing("GET", "https://x.test/", {}, None, FIVE)) as streamed:
        assert transport.in_flight == [1, 0, 0]
        assert [chunk async for chunk in streamed.chunks()] == [b"ok"]
    assert calls == [0, 1, 2, 0]
    assert transport.in_flight == [0, 0, 0]


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
    await held.stream.aclose()  # type: ignore[union-attr]  # a second close releases nothing more
    assert transport.in_flight == [0, 0, 0]


@pytest.mark.anyio
async def test_all_shards_full_falls_back_to_round_robin() -> None:
    """When every shard is busy the request still goes to the next shard (and waits there)."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, i) for i in range(2)], per_shard=1)
    request = httpx.Request("GET", "https://x.test/")
    responses = [await transport.handle_async_request(request) for _ in range(3)]
    assert calls == [0, 1, 0]
    assert transport.in_flight == [2, 1]
    for response in responses:
        await response.aclose()
    await transport.aclose()


@pytest.mark.anyio
async def test_failed_request_releases_its_shard() -> None:
    """A request that raises gives its shard's slot back, and the backend maps the error."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, 0, fail=True)], per_shard=1)
    backend = HttpxBackend(transport)
    with pytest.raises(TransportError) as info:
        await backend.fetch(Outgoing("GET", "https://x.test/", {}, None, FIVE))
    assert info.value.request_sent is False
    assert transport.in_flight == [0]


@pytest.mark.anyio
async def test_body_read_in_advance_releases_its_shard_at_once() -> None:
    """A response whose body was read in advance holds no slot."""
    calls: list[int] = []
    transport = ShardedTransport([_counting_shard(calls, 0, preread=True)], per_shard=1)
    response = await transport.handle_async_request(httpx.Request("GET", "https://x.test/"))
    assert response.content == b"ok"
    assert transport.in_flight == [0]


# --------------------------------------------------------------- growing the pool


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("raw_server", ["stall"], indirect=True)
async def test_grown_pool_lends_a_second_connection(raw_server: RawServer, kind: str) -> None:
    """After grow(2), a pool of one lends a second connection while the first is held open
    (without it, the second request times out waiting: test_pool_timeout_is_not_sent)."""
    backend = _make(kind, max_connections=1)
    quick = FIVE._replace(pool=2.0)
    try:
        async with backend.open(Outgoing("GET", raw_server.url, {}, None, FIVE)):
            backend.grow(2)
            async with backend.open(Outgoing("GET", raw_server.url, {}, None, quick)) as second:
                assert second.status_code == 200
    finally:
        await backend.aclose()
    assert raw_server.requests == 2


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_aiohttp_grow_raises_the_connector_limit() -> None:
    """A built aiohttp session's connector follows grow() (aiohttp has no setter for it)."""
    backend = AiohttpBackend(max_connections=3)
    try:
        backend._client()
        backend.grow(7)
        backend.grow(5)  # never shrinks
        assert backend.session is not None
        assert backend.session.connector is not None
        assert backend.session.connector.limit == 7
        assert backend.max_connections == 7
    finally:
        await backend.aclose()


def test_lazy_backend_grows_before_it_is_built() -> None:
    """grow() before the first request sizes the pool built later."""
    backend = LazyBackend(max_connections=10)
    backend.grow(5000)
    assert backend.max_connections == 5000
    inner = backend.build("trio")
    assert isinstance(inner, HttpxBackend)
    transport = inner.transport
    assert isinstance(transport, ShardedTransport)
    assert transport.per_shard * len(transport.shards) >= 5000


def test_user_transport_is_never_grown() -> None:
    """A user's transport keeps its own limits: grow() leaves it as it was."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    backend = HttpxBackend(transport)
    backend.grow(5000)
    assert backend.transport is transport


def test_grown_shards_keep_their_own_sizes() -> None:
    """A pool of 10 grown to 100 keeps its 10 and adds shards for the other 90."""
    backend = HttpxBackend(max_connections=10)
    transport = backend.transport
    assert isinstance(transport, ShardedTransport)
    first = transport.shards[0]
    backend.grow(100)
    assert transport.shards[0] is first
    assert transport._capacity[0] == 10
    assert sum(transport._capacity) >= 100


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
async def test_connections_are_established_a_few_at_a_time(
    raw_server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GatedConnector opens at most `connects` connections at once; the rest wait their turn."""
    assert CONNECTS_AT_ONCE >= 64
    opening, most = 0, 0
    establish = aiohttp.TCPConnector._create_connection

    async def counted(self: aiohttp.TCPConnector, *args: Any) -> Any:
        nonlocal opening, most
        opening += 1
        most = max(most, opening)
        try:
            for _ in range(3):  # let the other requests reach this point too
                await asyncio.sleep(0)
            return await establish(self, *args)
        finally:
            opening -= 1

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_connection", counted)
    connector = GatedConnector(connects=2, limit=10)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(raw_server.url) as reply:
                await reply.read()

        await asyncio.gather(*(one() for _ in range(6)))
    assert most == 2
    assert raw_server.requests == 6


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("raw_server", ["ok"], indirect=True)
@pytest.mark.parametrize("resent", [True, False], ids=["syn-resent", "syn-not-resent"])
async def test_resent_syns_halve_the_gate(
    raw_server: RawServer, monkeypatch: pytest.MonkeyPatch, resent: bool
) -> None:
    """A pool of 10,000 establishes 1,024 at once until new connections' SYNs were sent again
    (the kernel's word, stubbed here: `tests/test_tcp_info.py` has the real one): 52 of them
    halve it to 512, and grow() keeps it there."""
    seen: list[object] = []

    def told(sock: object) -> bool:
        seen.append(sock)
        return resent

    monkeypatch.setattr(backend_aiohttp, "retransmitted", told)
    connector = GatedConnector(limit=10_000)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(raw_server.url) as reply:
                await reply.read()

        await asyncio.gather(*(one() for _ in range(64)))  # 64 new connections, 52 narrow
        connector.grow(20_000)
        assert raw_server.requests == 64
        assert len(seen) == 64  # every new connection, while the gate is above 256
        assert all(sock is not None for sock in seen)  # each new connection's socket asked
        width = CONNECTS_AT_MOST // 2 if resent else CONNECTS_AT_MOST  # then 12 of 512: kept
        assert connector.connects == width
        gate = connector.connecting
        for _ in range(width):
            assert not gate.locked()
            await gate.acquire()
        assert gate.locked()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_twentieth_of_a_window_resent_narrows_the_gate() -> None:
    """51 resent SYNs in a window of 1,024 new connections (one in twenty is 51.2) leave the
    gate at 1,024, in this window and the next; 52 in one window halve it to 512, then 26 of
    a window of 512 to 256, and no further."""
    connector = GatedConnector(limit=10_000)
    try:
        for _ in range(2):
            for i in range(CONNECTS_AT_MOST):
                await connector._judge(resent=i < 51)
            assert connector.connects == CONNECTS_AT_MOST
        for _ in range(52):
            await connector._judge(resent=True)
        assert connector.connects == CONNECTS_AT_MOST // 2
        for _ in range(25):
            await connector._judge(resent=True)
        assert connector.connects == CONNECTS_AT_MOST // 2
        await connector._judge(resent=True)
        assert connector.connects == CONNECTS_AT_ONCE
        await connector.narrow()
        assert connector.connects == CONNECTS_AT_ONCE
    finally:
        await connector.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_narrowing_takes_back_held_places_as_their_connects_end() -> None:
    """Halved with 1,000 of its 1,024 places held: the 24 free ones are taken back at once,
    488 more as the connects holding them end, and then 512 connects pass at once."""
    connector = GatedConnector(limit=10_000)
    try:
        gate = connector.connecting
        for _ in range(1_000):
            await gate.acquire()  # connects under way
        await connector.narrow()
        assert connector.connects == CONNECTS_AT_MOST // 2
        assert gate.locked()
        for _ in range(1_000):
            connector._leave_gate()  # as each of them ends
        for _ in range(CONNECTS_AT_MOST // 2):
            assert not gate.locked()
            await gate.acquire()
        assert gate.locked()
    finally:
        await connector.close()


@pytest.mark.parametrize(
    ("limit", "connects"),
    [(10, 256), (1_000, 256), (2_048, 256), (4_000, 500), (8_192, 1_024), (100_000, 1_024)],
)
def test_the_connects_at_once_are_a_pools_eighth_within_bounds(limit: int, connects: int) -> None:
    """256 at once up to a pool of 2,048, an eighth of the pool above, 1,024 at most."""
    assert connects_at_once(limit) == connects


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_grown_pool_establishes_more_connections_at_once() -> None:
    """A connector of 1,000 grown to 10,000 (a batch at 10,000 in flight) lets 1,024 connects
    through its gate at once, not 256; one given its own width keeps it."""
    connector = GatedConnector(limit=1_000)
    fixed = GatedConnector(connects=2, limit=1_000)
    try:
        assert connector.connects == CONNECTS_AT_ONCE
        connector.grow(10_000)
        connector.grow(5_000)  # never narrower
        fixed.grow(10_000)
        assert (connector.connects, fixed.connects) == (CONNECTS_AT_MOST, 2)
        gate = connector.connecting
        for _ in range(CONNECTS_AT_MOST):
            assert not gate.locked()
            await gate.acquire()
        assert gate.locked()  # the next connect waits its turn
    finally:
        await connector.close()
        await fixed.close()
