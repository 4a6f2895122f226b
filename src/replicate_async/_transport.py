# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The httpx transport under AsyncClient: aiohttp on asyncio, httpx's own pools on trio.

httpcore's connection pool spends CPU that grows with the square of the requests in
flight (issue 2 measured 19.6 CPU-seconds per 1,000 predictions at concurrency 500,
against 0.45 through httpx over aiohttp). So on asyncio the client runs httpx over the
aiohttp-backed transport of `httpx-aiohttp`; under trio, where aiohttp cannot run, it
uses httpx's own transport, sharded over several small pools used round-robin, which
keeps each pool's bookkeeping short (benchmarks/transport.py measures both).

The event loop is only known once a request runs, so `LazyTransport` builds the real
transport on its first request.

API calls read whole replies, so they use `fetch`, which returns a `Reply` (status,
headers, body: what the sans-I/O core decodes). On asyncio it goes to aiohttp without
building httpx's Request and Response objects, whose header normalisation and body
streaming cost more CPU per call than aiohttp itself (benchmarks/fanout.py); every other
transport gets an httpx.Request, read through. Streams and downloads stay on httpx.

`httpx-aiohttp` maps every `aiohttp.ClientConnectionError` it does not know better to
`httpx.ConnectTimeout`, among them a server that disconnects after the request was
sent. Read naively, that makes a create that may have been accepted look unsent, and a
retry would pay for it twice (promise 1). `AiohttpTransport` here re-maps from the
aiohttp exception itself, so that `httpx.ConnectError`, `httpx.ConnectTimeout` and
`httpx.PoolTimeout` keep meaning what they mean in httpx: the request never left this
process. `request_not_sent` is the one place the client asks that question.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final, NamedTuple, cast

import aiohttp
import httpx
import httpx_aiohttp

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Mapping

#: Seconds an idle connection is kept; long enough to span the longest poll delay.
KEEPALIVE_EXPIRY: Final = 15.0

#: Connections per shard of the trio transport (see benchmarks/transport.py).
TRIO_SHARD_SIZE: Final = 32

# aiohttp exceptions raised only while a connection is being acquired or established,
# before a byte of the request is written.
_AIOHTTP_NOT_SENT: Final = (
    aiohttp.ClientConnectorError,  # also its DNS, SSL, certificate and proxy children
    aiohttp.ConnectionTimeoutError,
    aiohttp.ServerFingerprintMismatch,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)

# httpx exceptions that, raised by httpx's own transport, prove the request was not sent.
_HTTPX_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def request_not_sent(exc: BaseException) -> bool:
    """Tell whether *exc* proves that the request never left this process.

    The aiohttp exception in the cause chain decides when there is one (so a
    transport that maps aiohttp errors loosely cannot mislead); otherwise the httpx
    exception class does.
    """
    cause = _aiohttp_cause(exc)
    if cause is not None:
        return isinstance(cause, _AIOHTTP_NOT_SENT)
    return isinstance(exc, _HTTPX_NOT_SENT)


def _aiohttp_cause(exc: BaseException) -> BaseException | None:
    """Return the first aiohttp exception in *exc*'s cause chain, or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, aiohttp.ClientError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


class Outgoing(NamedTuple):
    """One API request, whole: what `fetch` sends."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None
    timeouts: httpx.Timeout
    """Per phase: connect, read, write, pool."""


class Reply(NamedTuple):
    """A whole HTTP reply, body read: what the sans-I/O core decodes."""

    status_code: int
    headers: Mapping[str, str]
    """Case-insensitive."""
    content: bytes


async def read_through(
    transport: httpx.AsyncBaseTransport, request: httpx.Request
) -> httpx.Response:
    """Send *request* straight through *transport* and read the whole reply."""
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


async def fetch_through(transport: httpx.AsyncBaseTransport, outgoing: Outgoing) -> Reply:
    """Send one request through any httpx transport and return its whole reply."""
    method, url, headers, content, timeouts = outgoing
    request = httpx.Request(
        method, url, headers=headers, content=content, extensions={"timeout": timeouts.as_dict()}
    )
    response = await read_through(transport, request)
    return Reply(response.status_code, response.headers, response.content)


def _to_httpx(exc: Exception, request: httpx.Request | None) -> Exception:
    """Map an aiohttp (or raw timeout) exception to the httpx exception that means the same."""
    cause = _aiohttp_cause(exc)
    root: BaseException = exc if cause is None else cause
    message = str(root) or type(root).__name__
    mapped: type[httpx.TransportError]
    if isinstance(root, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout
    elif isinstance(root, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        mapped = httpx.ProxyError
    elif isinstance(root, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        mapped = httpx.ConnectError
    elif isinstance(root, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        mapped = httpx.UnsupportedProtocol
    elif isinstance(root, TimeoutError):
        # SocketTimeoutError (sock_read) and any other timeout once connected.
        mapped = httpx.ReadTimeout
    elif isinstance(root, aiohttp.ServerDisconnectedError):
        mapped = httpx.RemoteProtocolError
        message = f"server disconnected without a complete response ({message})"
    elif isinstance(root, aiohttp.ClientPayloadError):
        mapped = httpx.RemoteProtocolError
    elif isinstance(root, aiohttp.ClientError):
        # ClientOSError, resets and the rest: the request may have been (partly) sent.
        mapped = httpx.ReadError
    else:
        return exc
    new = mapped(message, request=request)
    new.__cause__ = root
    return new


class _RemappingStream(httpx.AsyncByteStream):
    """A response body stream whose aiohttp errors surface as the right httpx errors."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        """Wrap *inner*, the body of a response to *request*."""
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body's chunks."""
        try:
            async for chunk in self._inner:
                yield chunk
        except (aiohttp.ClientError, httpx.TransportError, TimeoutError) as exc:
            mapped = _to_httpx(exc, self._request)
            raise mapped from mapped.__cause__

    async def aclose(self) -> None:
        """Release the connection."""
        try:
            await self._inner.aclose()
        except (aiohttp.ClientError, httpx.TransportError, TimeoutError) as exc:
            mapped = _to_httpx(exc, self._request)
            raise mapped from mapped.__cause__


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx over aiohttp, with a pool sized for fan-out and exact exception mapping."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool = True) -> None:
        """Prepare a transport holding at most *max_connections* connections."""
        super().__init__(
            verify=verify,
            trust_env=False,
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
        )

    def get_client(self) -> aiohttp.ClientSession:
        """Make the aiohttp session: one connector, no cookie jar (httpx keeps cookies)."""
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=KEEPALIVE_EXPIRY,
            ssl=self.ssl_context,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through aiohttp."""
        try:
            response = await super().handle_async_request(request)
        except (aiohttp.ClientError, httpx.TransportError, TimeoutError) as exc:
            mapped = _to_httpx(exc, request)
            raise mapped from mapped.__cause__
        response.stream = _RemappingStream(cast("httpx.AsyncByteStream", response.stream), request)
        return response

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send one request through aiohttp itself and return its whole reply (decompressed).

        Failures raise the same httpx exceptions as :meth:`handle_async_request`.
        """
        method, url, headers, content, timeouts = outgoing
        session = self.client
        if not isinstance(session, aiohttp.ClientSession):
            session = self.client = self.get_client()
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=content,
                allow_redirects=False,
                auto_decompress=True,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeouts.connect, sock_read=timeouts.read, connect=timeouts.pool
                ),
            ) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            mapped = _to_httpx(exc, None)
            raise mapped from mapped.__cause__
        return Reply(response.status, response.headers, body)


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small httpx pools: httpcore's per-request CPU grows with the size of its pool.

    Requests go round-robin to the next shard with a free connection, so as long as the
    client keeps no more requests in flight than the shards hold together, nothing waits
    on a pool slot even when some requests (long `Prefer: wait` creates) hold theirs
    much longer than others.
    """

    def __init__(self, shards: list[httpx.AsyncBaseTransport], per_shard: int) -> None:
        """Use *shards*, each holding *per_shard* connections."""
        self._shards = shards
        self._per_shard = per_shard
        self._in_flight = [0] * len(shards)
        self._next = 0

    def _pick(self) -> int:
        """Index of the next shard (round-robin) with a free connection, else the next one."""
        count = len(self._shards)
        start = self._next
        self._next = (start + 1) % count
        for offset in range(count):
            index = (start + offset) % count
            if self._in_flight[index] < self._per_shard:
                return index
        return start

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through a shard with room."""
        index = self._pick()
        self._in_flight[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._in_flight[index] -= 1
            raise
        if response.is_closed:  # a body read in advance holds no connection
            self._in_flight[index] -= 1
            return response
        response.stream = _ReleasingStream(
            cast("httpx.AsyncByteStream", response.stream), self._in_flight, index
        )
        return response

    async def aclose(self) -> None:
        """Close every shard."""
        for shard in self._shards:
            await shard.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back when closed."""

    def __init__(self, inner: httpx.AsyncByteStream, in_flight: list[int], index: int) -> None:
        """Wrap *inner*; closing it decrements *in_flight[index]* once."""
        self._inner = inner
        self._in_flight = in_flight
        self._index = index
        self._open = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body's chunks."""
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        """Close the body and release the slot."""
        if self._open:
            self._open = False
            self._in_flight[self._index] -= 1
        await self._inner.aclose()


def httpx_pools(
    max_connections: int,
    *,
    verify: ssl.SSLContext | bool = True,
    shard_size: int = TRIO_SHARD_SIZE,
) -> httpx.AsyncBaseTransport:
    """Make httpx's own transport for *max_connections*, sharded when that is more than one pool."""
    if verify is True:
        # One TLS context for every shard: each context loads the CA bundle (~30 ms), and
        # 32 of them made a 1,000-connection client's first request take a second.
        verify = httpx.create_ssl_context()
    count = max(1, -(-max_connections // shard_size))
    per_shard = -(-max_connections // count)

    def pool() -> httpx.AsyncHTTPTransport:
        """One httpx pool of *per_shard* connections."""
        return httpx.AsyncHTTPTransport(
            verify=verify,
            trust_env=False,
            limits=httpx.Limits(
                max_connections=per_shard,
                max_keepalive_connections=per_shard,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
        )

    if count == 1:
        return pool()
    return ShardedTransport([pool() for _ in range(count)], per_shard)


def running_backend() -> str:
    """Name the async library running the current task ("asyncio" or "trio")."""
    try:
        import sniffio  # noqa: PLC0415
    except ImportError:  # pragma: no cover - trio needs sniffio, so this is asyncio
        return "asyncio"
    return sniffio.current_async_library()


def current_loop() -> object:
    """An object identifying the running event loop (the asyncio loop, or trio's run token).

    Called on every request, so it asks asyncio first (one C call) instead of sniffio.
    """
    loop = asyncio._get_running_loop()  # noqa: SLF001 - public in asyncio.events, no raise
    if loop is not None:
        return loop
    import trio  # noqa: PLC0415 - only a trio run gets here

    return trio.lowlevel.current_trio_token()


class LazyTransport(httpx.AsyncBaseTransport):
    """Builds the transport that suits the running event loop on the first request.

    It stays bound to that loop: aiohttp sessions and httpx pools cannot move
    between loops, so using the client from another loop raises RuntimeError.
    """

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool = True) -> None:
        """Prepare for at most *max_connections* connections.

        Args:
            max_connections: The pool size; the client never runs more requests at once.
            verify: TLS verification, as for httpx.
        """
        self._max_connections = max_connections
        self._verify = verify
        self._inner: httpx.AsyncBaseTransport | None = None
        self._loop: object = None

    @property
    def backend(self) -> str | None:
        """The backend the transport was built for, None before the first request."""
        if self._inner is None:
            return None
        return "asyncio" if isinstance(self._inner, AiohttpTransport) else "trio"

    def _build(self, backend: str) -> httpx.AsyncBaseTransport:
        """Make the real transport for *backend*."""
        if backend == "asyncio":
            return AiohttpTransport(max_connections=self._max_connections, verify=self._verify)
        if backend == "trio":
            return httpx_pools(self._max_connections, verify=self._verify)
        raise RuntimeError(f"replicate_async runs on asyncio or trio, not on {backend!r}")

    def _current(self) -> httpx.AsyncBaseTransport:
        """The real transport, built on first use; RuntimeError from another event loop."""
        loop = current_loop()
        if self._inner is None:
            self._inner = self._build(running_backend())
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(
                "this client's connections belong to the event loop that first used it; "
                "make one AsyncClient per event loop (the sync Client does this for you)"
            )
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through the transport of the running loop."""
        return await self._current().handle_async_request(request)

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send one request and return its whole reply: straight through aiohttp on asyncio."""
        inner = self._current()
        if isinstance(inner, AiohttpTransport):
            return await inner.fetch(outgoing)
        return await fetch_through(inner, outgoing)

    async def aclose(self) -> None:
        """Close the real transport, if one was built."""
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
