# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The httpx backend: trio, and any ``transport=`` or ``http_client=`` a user passes.

Three ways to send, one error mapping:

- a user's ``httpx.AsyncClient``: ``send(build_request(...))``, so everything it carries
  (auth, hooks, proxies, limits) applies; closing the backend leaves it open;
- a user's transport (``httpx.MockTransport`` over respx, ``httpx.ASGITransport``): one
  ``httpx.Request`` straight through ``handle_async_request``, without the AsyncClient's
  per-request machinery (URL merging, cookies, auth and redirect flows, hooks), which costs
  more CPU than the rest of the client;
- neither: httpx's own pools, sharded. httpcore's per-request CPU grows with the size of
  its pool, so several small pools used round-robin keep each one's bookkeeping short
  (benchmarks/transport.py).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final, cast

import anyio
import httpx

from replicate_async._backend_base import (
    KEEPALIVE_EXPIRY,
    ContentDecodingError,
    Inflater,
    Reply,
    closed_error,
    past_deadline,
    too_large,
    transport_error,
    verified_tls_context,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator, Mapping

    from replicate_async._backend_base import Outgoing
    from replicate_async.exceptions import TransportError

#: Connections per shard of httpx's own pools (see benchmarks/transport.py).
TRIO_SHARD_SIZE: Final = 32

#: Connections of httpx's own pools when the caller does not say (httpx's default).
DEFAULT_MAX_CONNECTIONS: Final = 100

# Raised before a byte of the request is written: while building it (InvalidURL), choosing
# a connection (UnsupportedProtocol), waiting for one (PoolTimeout) or connecting.
HTTPX_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
)

#: Failures no retry can fix: a wrong URL, or a request h11 refuses to write.
HTTPX_PERMANENT: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)

# What httpx raises for a request (InvalidURL is not an HTTPError).
_FAILURES: Final = (httpx.HTTPError, httpx.InvalidURL)


def from_httpx(exc: BaseException, outgoing: Outgoing) -> TransportError:
    """Our error for httpx's *exc*, a failure of *outgoing*; ``__cause__`` is *exc*.

    A timeout of any phase is a RequestTimeout; ``request_sent`` is False only for the
    failures in :data:`HTTPX_NOT_SENT`.
    """
    return transport_error(
        exc,
        outgoing,
        sent=not isinstance(exc, HTTPX_NOT_SENT),
        timeout=isinstance(exc, httpx.TimeoutException),
    )


def _inflater(response: httpx.Response) -> Inflater | None:
    """The bounded decoder for *response*'s Content-Encoding (httpx's own inflates a chunk
    whole: 64 KiB of a gzip bomb become 64 MiB at once, gzip in gzip 64 GiB)."""
    try:
        return Inflater.for_encoding(response.headers.get("content-encoding"))
    except ContentDecodingError as exc:
        raise httpx.DecodingError(str(exc), request=response.request) from exc


def _decoded(inflater: Inflater | None, raw: bytes, request: httpx.Request) -> Iterator[bytes]:
    """*raw* decoded in bounded pieces; a body that does not decode raises httpx's error."""
    if inflater is None:
        yield raw
        return
    try:
        yield from inflater.feed(raw)
    except ContentDecodingError as exc:
        raise httpx.DecodingError(str(exc), request=request) from exc


def _rest(inflater: Inflater | None, request: httpx.Request) -> Iterator[bytes]:
    """The decoded pieces left at the end of the body."""
    if inflater is not None:
        try:
            yield from inflater.flush()
        except ContentDecodingError as exc:
            raise httpx.DecodingError(str(exc), request=request) from exc


class _HttpxStreamed:
    """An open httpx reply, read chunk by chunk, by its deadline (if any)."""

    __slots__ = ("_deadline", "_outgoing", "_response")

    def __init__(
        self, response: httpx.Response, outgoing: Outgoing, deadline: float | None
    ) -> None:
        """Wrap *response*, the reply to *outgoing*, to be read by *deadline* (anyio's clock)."""
        self._response = response
        self._outgoing = outgoing
        self._deadline = deadline

    @property
    def status_code(self) -> int:
        """The reply's status."""
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The reply's headers, case-insensitive."""
        return self._response.headers

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body's decoded chunks as they arrive; failures raise TransportError."""
        response, deadline = self._response, self._deadline
        request = response.request
        raw_chunks = aiter(cast("httpx.AsyncByteStream", response.stream))
        finished = False
        try:
            inflater = _inflater(response)
            while True:
                # Each read under what is left of the deadline: a cancel scope never spans
                # a yield (the caller may resume this generator from another task).
                if deadline is None:
                    raw = await anext(raw_chunks, None)
                else:
                    with anyio.fail_after(deadline - anyio.current_time()):
                        raw = await anext(raw_chunks, None)
                if raw is None:
                    finished = True
                    break
                for piece in _decoded(inflater, raw, request):
                    yield piece
            for piece in _rest(inflater, request):
                yield piece
        except _FAILURES as exc:
            raise from_httpx(exc, self._outgoing) from exc
        except TimeoutError as exc:
            raise past_deadline(self._outgoing, exc) from exc
        finally:
            if not finished:  # the caller left early, or a failure: unwind the chain
                await _abandon(raw_chunks)


class _Body(httpx.AsyncByteStream):
    """A streamed request body handed to httpx as it is.

    httpx wraps a plain async iterable in an async generator of its own, which a dropped
    connection leaves unfinished for the garbage collector (a ResourceWarning outside the
    event loop); this stream iterates the caller's iterator directly and closes it.
    """

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._chunks)

    async def aclose(self) -> None:
        """Close the caller's iterator, when it can be closed."""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


async def _read_whole(response: httpx.Response, outgoing: Outgoing) -> Reply:
    """*response*'s whole body, decoded, as a Reply (the connection released).

    The raw stream is read and decoded here, in bounded steps, not by aread(): httpx
    inflates each chunk whole, and a body that fails its Content-Encoding would leave its
    chain of async generators unfinished for the garbage collector (which trio reports as
    a ResourceWarning). Past ``outgoing.max_bytes`` decoded bytes, DecodeError.
    """
    cap = outgoing.max_bytes
    request = response.request
    parts: list[bytes] = []
    size = 0
    raw_chunks = aiter(cast("httpx.AsyncByteStream", response.stream))
    finished = False
    try:
        inflater = _inflater(response)
        async for raw in raw_chunks:
            for piece in _decoded(inflater, raw, request):
                size += len(piece)
                if cap is not None and size > cap:
                    raise too_large(outgoing, response.status_code, cap)
                parts.append(piece)
        finished = True
        for piece in _rest(inflater, request):
            size += len(piece)
            if cap is not None and size > cap:
                raise too_large(outgoing, response.status_code, cap)
            parts.append(piece)
    finally:
        if not finished:
            await _abandon(raw_chunks)
        await response.aclose()
    return Reply(response.status_code, response.headers, b"".join(parts))


async def _abandon(chunks: AsyncIterator[bytes]) -> None:
    """Stop reading *chunks* early, finishing every async generator in httpx's chain under it.

    Closing the outermost generator would leave httpcore's inner ones suspended for the
    garbage collector (which trio reports as a ResourceWarning); a cancellation raised at
    the next socket read unwinds them all, and this scope absorbs it. A chain that already
    ended (or raised) ends again at once.
    """
    with anyio.CancelScope() as scope:
        scope.cancel()
        async for _ in chunks:
            pass


class HttpxBackend:
    """Sends through a user's httpx client, a user's transport, or httpx's own sharded pools."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """Send through *http_client*, else *transport*, else pools for *max_connections*.

        Args:
            transport: An httpx transport to send each request straight through; closed
                by :meth:`aclose`.
            http_client: A user's client, used as it is and never closed here.
            max_connections: The size of httpx's own pools (neither of the above given).
            verify: TLS verification of httpx's own pools.
        """
        if transport is not None and http_client is not None:
            raise ValueError("pass transport= or http_client=, not both")
        self._client = http_client
        # The size of the pools made here (None: the user's transport or client, never grown).
        self._own: int | None = None
        self._verify = verify
        if http_client is None and transport is None:
            if verify is True:  # one TLS context for all the pools (see httpx_pools)
                verify = self._verify = verified_tls_context()
            # Always sharded (even one pool): the shards' counts of requests in flight are
            # what lets grow() add pools beside the busy ones.
            transport = ShardedTransport(*_pools(max_connections, verify=verify))
            self._own = max_connections
        self._transport = transport
        self._closed = False

    def grow(self, max_connections: int) -> None:
        """Let the pools made here hold at least *max_connections* connections, with more shards
        beside the ones in use (never shrinks; a user's transport or client is left alone)."""
        own, current = self._own, self._transport
        if own is None or max_connections <= own or current is None:
            return
        if isinstance(current, ShardedTransport):
            current.add(*_pools(max_connections - own, verify=self._verify))
            self._own = max_connections

    def __repr__(self) -> str:
        via = "http_client" if self._client is not None else type(self._transport).__name__
        return f"<HttpxBackend via {via}>"

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport requests go straight through (None with an http_client)."""
        return self._transport

    async def _send(self, outgoing: Outgoing) -> httpx.Response:
        """Send *outgoing*; the body is left unread (close the response)."""
        if self._closed:  # a user's transport or client may still work: this backend is done
            raise closed_error()
        method, url, headers, content, phases, _ = outgoing
        body = content if content is None or isinstance(content, bytes) else _Body(content)
        client = self._client
        if client is not None:
            request = client.build_request(
                method,
                url,
                headers=headers,
                content=content if body is None or isinstance(body, bytes) else None,
                timeout=httpx.Timeout(
                    connect=phases.connect, read=phases.read, write=phases.write, pool=phases.pool
                ),
            )
            # Exactly the headers asked for: a token-free request (an event stream, a
            # download) never carries an Authorization the user's client has as a default.
            if not any(name.lower() == "authorization" for name in headers):
                request.headers.pop("Authorization", None)
            # Only encodings the bounded decoder undoes (the client may offer br or zstd).
            if not any(name.lower() == "accept-encoding" for name in headers):
                request.headers["Accept-Encoding"] = "gzip, deflate"
            if isinstance(body, _Body):
                framed = request.headers
                if not any(name.lower() == "content-length" for name in headers):
                    # build_request said "Content-Length: 0" for the missing content.
                    framed.pop("Content-Length", None)
                    framed["Transfer-Encoding"] = "chunked"
                request = httpx.Request(
                    method, request.url, headers=framed, stream=body, extensions=request.extensions
                )
            return await client.send(request, stream=True)
        transport = cast("httpx.AsyncBaseTransport", self._transport)
        extensions = {  # httpx's names
            "timeout": {
                "connect": phases.connect,
                "read": phases.read,
                "write": phases.write,
                "pool": phases.pool,
            }
        }
        if isinstance(body, _Body):
            request = httpx.Request(
                method, url, headers=headers, stream=body, extensions=extensions
            )
            # httpx frames and addresses only the bodies it encodes itself, not stream= ones.
            request.headers.setdefault("Host", request.url.netloc.decode("ascii"))
            if "Content-Length" not in request.headers:
                request.headers["Transfer-Encoding"] = "chunked"
        else:
            request = httpx.Request(
                method, url, headers=headers, content=body, extensions=extensions
            )
        response = await transport.handle_async_request(request)
        response.request = request
        return response

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send *outgoing* and read the whole (decoded) reply; failures raise TransportError.

        A body past ``outgoing.max_bytes`` raises DecodeError, the rest unread.
        """
        total = outgoing.timeouts.total
        try:
            if total is None:
                return await _read_whole(await self._send(outgoing), outgoing)
            # httpx has no overall timeout: one cancel scope for the attempt (no task).
            with anyio.fail_after(total):
                return await _read_whole(await self._send(outgoing), outgoing)
        except _FAILURES as exc:
            raise from_httpx(exc, outgoing) from exc
        except TimeoutError as exc:
            raise past_deadline(outgoing, exc) from exc

    @contextlib.asynccontextmanager
    async def open(self, outgoing: Outgoing) -> AsyncIterator[_HttpxStreamed]:
        """Send *outgoing* and hold its reply open until the context exits.

        ``Phases.total`` bounds the head and every read of the body after it.
        """
        total = outgoing.timeouts.total
        deadline = None if total is None else anyio.current_time() + total
        try:
            if total is None:
                response = await self._send(outgoing)
            else:
                with anyio.fail_after(total):
                    response = await self._send(outgoing)
        except _FAILURES as exc:
            raise from_httpx(exc, outgoing) from exc
        except TimeoutError as exc:
            raise past_deadline(outgoing, exc) from exc
        try:
            yield _HttpxStreamed(response, outgoing, deadline)
        finally:
            try:
                await response.aclose()
            except _FAILURES as exc:
                raise from_httpx(exc, outgoing) from exc

    async def aclose(self) -> None:
        """Close the transport (never a user's http_client); closing twice is fine.

        Afterwards every request raises ClientClosedError, even through a user's client.
        """
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            await self._transport.aclose()


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small httpx pools: httpcore's per-request CPU grows with the size of its pool.

    Requests go round-robin to the next shard with a free connection, so as long as the
    client keeps no more requests in flight than the shards hold together, nothing waits
    on a pool slot even when some requests (long `Prefer: wait` creates) hold theirs
    much longer than others.
    """

    def __init__(self, shards: list[httpx.AsyncBaseTransport], per_shard: int) -> None:
        """Use *shards*, each holding *per_shard* connections."""
        self.shards: Final = shards
        self.per_shard: Final = per_shard
        self.in_flight: Final = [0] * len(shards)
        """Requests holding a connection of each shard (read by tests and benchmarks)."""
        self._capacity = [per_shard] * len(shards)
        self._next = 0

    def add(self, shards: list[httpx.AsyncBaseTransport], per_shard: int) -> None:
        """Add *shards*, each holding *per_shard* connections (the pool grows)."""
        self.shards.extend(shards)
        self.in_flight.extend([0] * len(shards))
        self._capacity.extend([per_shard] * len(shards))

    def _pick(self) -> int:
        """Index of the next shard (round-robin) with a free connection, else the next one."""
        count = len(self.shards)
        start = self._next
        self._next = (start + 1) % count
        for offset in range(count):
            index = (start + offset) % count
            if self.in_flight[index] < self._capacity[index]:
                return index
        return start

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through a shard with room."""
        index = self._pick()
        self.in_flight[index] += 1
        try:
            response = await self.shards[index].handle_async_request(request)
        except BaseException:
            self.in_flight[index] -= 1
            raise
        if response.is_closed:  # a body read in advance holds no connection
            self.in_flight[index] -= 1
            return response
        response.stream = _ReleasingStream(
            cast("httpx.AsyncByteStream", response.stream), self.in_flight, index
        )
        return response

    async def aclose(self) -> None:
        """Close every shard."""
        for shard in self.shards:
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
        verify = verified_tls_context()
    shards, per_shard = _pools(max_connections, verify=verify, shard_size=shard_size)
    if len(shards) == 1:
        return shards[0]
    return ShardedTransport(shards, per_shard)


def _pools(
    max_connections: int,
    *,
    verify: ssl.SSLContext | bool,
    shard_size: int = TRIO_SHARD_SIZE,
) -> tuple[list[httpx.AsyncBaseTransport], int]:
    """httpx pools holding *max_connections* together, at most *shard_size* each, and their size."""
    count = max(1, -(-max_connections // shard_size))
    per_shard = -(-max_connections // count)
    limits = httpx.Limits(
        max_connections=per_shard,
        max_keepalive_connections=per_shard,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    pools: list[httpx.AsyncBaseTransport] = [
        httpx.AsyncHTTPTransport(verify=verify, trust_env=False, limits=limits)
        for _ in range(count)
    ]
    return pools, per_shard
