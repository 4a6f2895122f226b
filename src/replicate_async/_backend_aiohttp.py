# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The asyncio backend: aiohttp itself, for API calls, streams, uploads and downloads.

httpcore's connection pool spends CPU that grows with the square of the requests in
flight (issue 2 measured 19.6 CPU-seconds per 1,000 predictions at concurrency 500,
against 0.45 over aiohttp), so on asyncio every request goes straight to one
``aiohttp.ClientSession``, without httpx's Request and Response objects in between.

aiohttp's exceptions are mapped to ours here, from the exception aiohttp raised (not from
an httpx rewording of it): only a failure while a connection was being acquired or
established proves the request never left this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from typing import TYPE_CHECKING, Final, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler

from replicate_async._backend_base import (
    KEEPALIVE_EXPIRY,
    Reply,
    past_deadline,
    too_large,
    transport_error,
    verified_tls_context,
)
from replicate_async._tcp_info import retransmitted

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping

    from aiohttp.client_reqrep import ClientRequest, ConnectionKey
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

    from replicate_async._backend_base import Outgoing, Phases
    from replicate_async.exceptions import TransportError

# Raised only while a connection is being acquired or established, before a byte of the
# request is written (or, for the URL errors, before anything is attempted at all).
AIOHTTP_NOT_SENT: Final = (
    aiohttp.ClientConnectorError,  # also its DNS, SSL, certificate and proxy children
    aiohttp.ConnectionTimeoutError,
    aiohttp.ServerFingerprintMismatch,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)

logger = logging.getLogger("replicate_async")

#: Failures no retry can fix: the URL itself is wrong.
AIOHTTP_PERMANENT: Final = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)

# What aiohttp raises on the wire: its own errors, and timeouts (its SocketTimeoutError and
# ConnectionTimeoutError are TimeoutErrors too).
_FAILURES: Final = (aiohttp.ClientError, TimeoutError)


def from_aiohttp(exc: BaseException, outgoing: Outgoing) -> TransportError:
    """Our error for aiohttp's *exc*, a failure of *outgoing*; ``__cause__`` is *exc*.

    A timeout of any phase is a RequestTimeout; ``request_sent`` is False only for the
    failures in :data:`AIOHTTP_NOT_SENT`.
    """
    if type(exc) is TimeoutError and outgoing.timeouts.total is not None:
        # aiohttp's `total` raises a bare TimeoutError; its phase timeouts have classes.
        return past_deadline(outgoing, exc)
    return transport_error(
        exc,
        outgoing,
        sent=not isinstance(exc, AIOHTTP_NOT_SENT),
        timeout=isinstance(exc, TimeoutError),
    )


#: Connections being established at once, at least: a pool's eighth, between this and
#: :data:`CONNECTS_AT_MOST`. A batch at 10,000 in flight opened 10,000 at once: past the
#: server's accept backlog (2,048 for the emulator, as for many servers) the kernel drops the
#: SYNs and retries them a second or more later, connects passed their 5 s timeout, the
#: creates were retried on new connections, and the run opened 2.9 connections per slot (and
#: failed a few jobs). In steps of 256 each connect is quick, but a connect holds its place
#: until a busy event loop has run its callbacks (a second or more with thousands of replies
#: to read), so a pool of 10,000 filled over a minute or more: a batch at 10,000 ran with
#: 5,000 to 7,000 in flight for most of a 20,000-job run.
CONNECTS_AT_ONCE: Final = 256

#: Connections being established at once, at most (pools of 8,192 and more: one of 10,000 is
#: full about 20 s in). Not more: the gate bounds connects in progress, not connections the
#: server has yet to accept; 2,048 at once overflowed a busy emulator's accept queue (creates
#: reset after being sent: ``CreateOutcomeUnknown``, hundreds of jobs in a run), and 1,024 a
#: busy emulator beside a faster client, so the gate halves when SYNs are resent (``narrow``).
CONNECTS_AT_MOST: Final = 1024


#: One in this many new connections of a window whose SYN was sent again halves the gate.
RESENT_AT_MOST: Final = 20


def connects_at_once(limit: int) -> int:
    """How many connections a pool of *limit* establishes at once, at most."""
    return max(CONNECTS_AT_ONCE, min(CONNECTS_AT_MOST, limit // 8))


class LazyTimeouts(ResponseHandler):
    """aiohttp's protocol of one connection, its read timeout (``sock_read``) and the deadline
    of the API call it carries (``Phases.total``) kept by one lazily re-armed timer.

    aiohttp schedules a timer for a request's total and another for its read timeout when
    it has been sent, then cancels the read timer and schedules a new one for every chunk
    that arrives, and cancels both when the reply ends: at least four timer operations per
    API call, each a heap push or a cancelled entry in a loop holding thousands of timers at
    a large fan-out. Here the connection has one timer. A chunk only moves the read due time
    on, the end of a reply only clears it, and a call's deadline is set when the connection
    is handed to the call and cleared when it is released. The timer, when it fires, raises
    the timeout whose due time has come, re-arms itself at the earlier due time still ahead
    (the next reply on the connection, a later chunk), or does nothing if none is. So a
    connection carrying replies back to back schedules one timer per read timeout, not
    four per reply; it is re-armed early only for a due time before the armed one (a
    shorter read timeout or deadline than the last call's), and cancelled when the
    connection is lost. Same timeouts, same errors: aiohttp's ``SocketTimeoutError`` for a
    read, a bare ``TimeoutError`` (aiohttp's own for its total) for the deadline. (aiohttp's
    private names, unchanged since 3.8: :func:`lazy_timeouts` says whether they are there,
    and the connector uses this class only then.)
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timers: contextvars.Context | None = None
    ) -> None:
        """The protocol, on *loop* (as aiohttp's own); its timer runs in *timers* (the
        connector's one for all its connections: the timer reads no context variable, and a
        context copied for every timer is an object more per connection)."""
        super().__init__(loop)
        self._read_due = 0.0  # no chunk by then: the read timeout has passed (0.0: none due)
        self._total_due = 0.0  # the deadline of the call being carried (0.0: none)
        self._armed = 0.0  # the due time the timer was scheduled for
        self._timers = contextvars.Context() if timers is None else timers

    def expire_at(self, deadline: float, read: float | None = None) -> None:
        """Fail the API call this connection now carries at *deadline* (event-loop time),
        until the connection is released; *read*: the call's read timeout, if any."""
        self._total_due = deadline
        handle = self._read_timeout_handle
        if handle is None:
            # Armed no later than the read timeout can first fall due (it starts once the
            # request is sent): starting it then never moves the timer earlier, which would
            # leave the cancelled timer in the loop's heap until the deadline.
            self._arm(min(deadline, self._loop.time() + read) if read else deadline)
        elif deadline < self._armed:
            handle.cancel()
            self._arm(deadline)

    def released(self) -> None:
        """The call is over: its deadline no longer applies to this connection."""
        self._total_due = 0.0

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._read_due = 0.0
            return
        due = self._read_due = self._loop.time() + timeout
        handle = self._read_timeout_handle
        if handle is None:
            total = self._total_due
            self._arm(total if total and total < due else due)
        elif due < self._armed:  # a shorter read timeout than the armed one (never past a deadline)
            handle.cancel()
            self._arm(due)

    def _drop_timeout(self) -> None:
        # The reply ended (or reading paused): no read is due. The timer, if armed, stays:
        # the next reply on this connection moves the due time on, or it finds none.
        self._read_due = 0.0

    def connection_lost(self, exc: BaseException | None) -> None:
        """As aiohttp's, and the connection's timer cancelled (nothing more to time)."""
        super().connection_lost(exc)
        handle, self._read_timeout_handle = self._read_timeout_handle, None
        if handle is not None:
            handle.cancel()

    def _arm(self, due: float) -> None:
        self._armed = due
        self._read_timeout_handle = self._loop.call_at(due, self._fire, context=self._timers)

    def _fire(self) -> None:
        armed, read, total = self._armed, self._read_due, self._total_due
        if total and total <= armed:
            self._read_timeout_handle = None
            self._total_due = 0.0
            self._on_total_timeout()
        elif read and read <= armed:
            self._read_timeout_handle = None
            self._on_read_timeout()
        elif read or total:  # both ahead (or none): the earlier one
            self._arm(read if read and (not total or read < total) else total)
        else:
            self._read_timeout_handle = None

    def _on_total_timeout(self) -> None:
        # As aiohttp's own total: a bare TimeoutError (which from_aiohttp reads as the
        # deadline passed), for the reader of the head and for the reader of the body.
        exc = TimeoutError()
        self.set_exception(exc)
        payload = self._payload
        if payload is not None:
            payload.set_exception(exc)


@functools.cache
def lazy_timeouts() -> bool:
    """Whether this aiohttp has the private names :class:`LazyTimeouts` and
    :class:`GatedConnector` build on; checked once per process, in a running loop (the
    connector falls back to aiohttp's own protocol and timers when they are missing)."""
    names = ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout", "set_exception")
    if not all(callable(getattr(ResponseHandler, name, None)) for name in names):
        return False
    if not callable(getattr(aiohttp.TCPConnector, "_release", None)):
        return False
    try:
        probe = ResponseHandler(asyncio.get_running_loop())  # no transport: nothing to close
    except Exception:  # noqa: BLE001 - another constructor: aiohttp's own protocol then
        return False
    fields = ("_read_timeout", "_read_timeout_handle", "_loop", "_payload")
    return all(hasattr(probe, name) for name in fields)


class GatedConnector(aiohttp.TCPConnector):
    """aiohttp's connector, establishing at most :attr:`connects` connections at once (the
    others wait their turn, before the connect timeout starts), its connections' timeouts
    kept by :class:`LazyTimeouts` (when :attr:`lazy`)."""

    def __init__(self, *, connects: int | None = None, **kwargs: object) -> None:
        """Make the connector (*kwargs* as for :class:`aiohttp.TCPConnector`); *connects*:
        at once, at most (else :func:`connects_at_once` of its limit, following :meth:`grow`)."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._fixed = connects is not None
        self._owed = 0  # places of the gate still to take back (narrow())
        self._window = self._resent = 0  # new connections, and those whose SYN was resent
        self.connects = connects_at_once(self._limit) if connects is None else connects
        """How many connections it establishes at once, at most."""
        self.connecting: Final = asyncio.Semaphore(self.connects)
        """Held while a connection is being established."""
        self.deadlines: Final[dict[asyncio.Task[object], float]] = {}
        """The deadline (event-loop time) of the API call each task is fetching: how it
        reaches the connection that carries the call (see :meth:`AiohttpBackend.fetch`; a
        context variable set per call would hold three objects per call in flight)."""
        # aiohttp makes each connection's protocol with this factory (a partial of
        # ResponseHandler with the loop): the same, with the lazy timer.
        factory = getattr(self, "_factory", None)
        self.lazy = False
        """Whether its connections are :class:`LazyTimeouts`, which keep a call's deadline."""
        if (
            isinstance(factory, functools.partial)
            and factory.func is ResponseHandler
            and lazy_timeouts()
        ):
            # One context for the timers of all its connections (one loop runs them).
            keywords = {**factory.keywords, "timers": contextvars.Context()}
            lazy = functools.partial(LazyTimeouts, *factory.args, **keywords)
            self._factory = cast("functools.partial[ResponseHandler]", lazy)
            self.lazy = True

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's own signature
    ) -> Connection:
        """A connection for *req* (aiohttp's), bound by the deadline of the running task's
        call if it has one (see :meth:`AiohttpBackend.fetch`)."""
        connection = await super().connect(req, traces, timeout)
        deadlines = self.deadlines
        if deadlines:
            deadline = deadlines.get(asyncio.current_task(self._loop))  # type: ignore[arg-type]
            protocol = connection.protocol
            if deadline is not None and isinstance(protocol, LazyTimeouts):
                protocol.expire_at(deadline, timeout.sock_read)
        return connection

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        if isinstance(protocol, LazyTimeouts):
            protocol.released()  # before it can be handed to the next call
        super()._release(key, protocol, should_close=should_close)

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's own signature
    ) -> ResponseHandler:
        gate = self.connecting
        await gate.acquire()
        try:
            protocol = await super()._create_connection(req, traces, timeout)
        finally:
            self._leave_gate()
        if self.connects > CONNECTS_AT_ONCE:
            transport = protocol.transport
            resent = transport is not None and retransmitted(transport.get_extra_info("socket"))
            await self._judge(resent=resent)
        return protocol

    async def _judge(self, *, resent: bool) -> None:
        """Count a new connection, *resent* if its SYN was sent again, and narrow the gate once
        :data:`RESENT_AT_MOST` of a window of :attr:`connects` connections were: a SYN lost now
        and then is the network's, a twentieth of them a server that cannot keep up."""
        self._window += 1
        self._resent += resent
        if self._resent * RESENT_AT_MOST > self.connects:
            await self.narrow()
        elif self._window >= self.connects:
            self._window = self._resent = 0

    def _leave_gate(self) -> None:
        """A connect has ended: its place is free again, or taken back by :meth:`narrow`."""
        if self._owed:
            self._owed -= 1
        else:
            self.connecting.release()

    async def narrow(self) -> None:
        """Halve the connections established at once (not below :data:`CONNECTS_AT_ONCE`):
        new connections' SYNs were sent again, so the server's accept queue was full (a server
        that also leaves handshakes it completed unaccepted, and resets the requests sent on
        them). The places beyond are taken back now if free, else as the connects holding them
        end; :meth:`grow` no longer widens the gate."""
        narrower = max(CONNECTS_AT_ONCE, self.connects // 2)
        owed = max(0, self.connects - narrower)
        if owed:
            logger.info(
                "new connections' SYNs were sent again (the server's accept queue was full): "
                "establishing %d connections at once from now on, not %d",
                narrower,
                self.connects,
            )
        self.connects = min(self.connects, narrower)
        self._fixed = True
        self._window = self._resent = 0
        gate = self.connecting
        while owed and not gate.locked():
            await gate.acquire()  # a free place: taken at once, without waiting
            owed -= 1
        self._owed += owed

    def grow(self, limit: int) -> None:
        """Raise the connection limit to *limit* (never lowers it), and the connects at once
        with it.

        aiohttp has no setter for a connector's limit; its own checks read ``_limit`` at each
        acquire, so a larger value takes effect at once (tests/test_backend.py checks that the
        public ``limit`` follows).
        """
        self._limit = max(self._limit, limit)
        if not self._fixed:
            wider = connects_at_once(self._limit)
            for _ in range(wider - self.connects):
                self.connecting.release()  # one more place (asyncio's semaphore is unbounded)
            self.connects = max(self.connects, wider)


#: The most one deflate (gzip, zlib) layer can inflate a body: 1032:1, deflate's limit.
MAX_INFLATION: Final = 1032

#: Content-Encodings of one deflate layer.
_ONE_LAYER: Final = frozenset({"gzip", "x-gzip", "deflate"})


@functools.lru_cache(maxsize=64)
def _client_timeout(phases: Phases, *, kept: bool = False) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for *phases* (a handful of distinct values per client); *kept*:
    the connection keeps the total (:class:`LazyTimeouts`), aiohttp only the pool wait's."""
    # aiohttp's `connect` covers the wait for a pooled connection plus establishing it,
    # `sock_connect` the latter alone; it has no write timeout. Its `total` runs until the
    # reply is released, so it bounds a trickling body too, without a task of ours.
    total, pool = phases.total, phases.pool
    if kept and total is not None:
        # The connection's deadline starts once it is handed over: until then the total
        # bounds the wait for it (a failure that proves the call was never sent).
        pool = total if pool is None else min(pool, total)
        total = None
    return aiohttp.ClientTimeout(
        total=total,
        connect=pool,
        sock_connect=phases.connect,
        sock_read=phases.read,
    )


async def _read_capped(response: aiohttp.ClientResponse, outgoing: Outgoing, cap: int) -> bytes:
    """The whole (decompressed) body of *response*, or DecodeError once it passes *cap* bytes.

    aiohttp decompresses in bounded steps as the body is read, so counting what it hands
    over stops a gzip bomb at the cap too.
    """
    declared = response.content_length
    if declared is not None:
        # Most replies declare their length; aiohttp never reads past it. Read those whole
        # (one call, no iterator: the hot path of every API call) when even the most a
        # single deflate layer can inflate to (about 1032:1) stays under the cap.
        encoding = response.headers.get("Content-Encoding")
        if encoding is None:
            if declared > cap:
                raise too_large(outgoing, response.status, cap)
            return await response.read()
        if encoding.strip().lower() in _ONE_LAYER and declared * MAX_INFLATION <= cap:
            return await response.read()
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > cap:
            raise too_large(outgoing, response.status, cap)
        parts.append(chunk)
    return b"".join(parts)


class _AiohttpStreamed:
    """An open aiohttp reply, read chunk by chunk."""

    __slots__ = ("_outgoing", "_response")

    def __init__(self, response: aiohttp.ClientResponse, outgoing: Outgoing) -> None:
        """Wrap *response*, the reply to *outgoing*."""
        self._response = response
        self._outgoing = outgoing

    @property
    def status_code(self) -> int:
        """The reply's status."""
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        """The reply's headers, case-insensitive."""
        return self._response.headers

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body's decompressed chunks as they arrive; failures raise TransportError."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as exc:
            raise from_aiohttp(exc, self._outgoing) from exc


class AiohttpBackend:
    """The asyncio backend: one aiohttp session, made on first use, for every request.

    It belongs to the event loop that first uses it (an aiohttp session cannot move).
    """

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool = True) -> None:
        """Prepare a backend holding at most *max_connections* connections.

        Args:
            max_connections: The pool size, over all hosts.
            verify: TLS verification: True (certifi's CA bundle, as httpx), False, or a context.
        """
        self._max_connections = max_connections
        # The TLS of https requests: the caller's context or False, else certifi's, made with
        # the first https request (nothing for the plain http of a local emulator).
        self._tls: ssl.SSLContext | bool | None = None if verify is True else verify
        self._session: aiohttp.ClientSession | None = None
        # The session's loop and its connector's deadlines once made, if its connections
        # keep the calls' deadlines.
        self._keeps_deadlines: asyncio.AbstractEventLoop | None = None
        self._deadlines: dict[asyncio.Task[object], float] = {}

    def __repr__(self) -> str:
        return f"<AiohttpBackend max_connections={self._max_connections}>"

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session, None until the first request (and after aclose)."""
        return self._session

    @property
    def max_connections(self) -> int:
        """The pool size, over all hosts."""
        return self._max_connections

    def grow(self, max_connections: int) -> None:
        """Let the pool hold at least *max_connections* connections (it never shrinks)."""
        if max_connections <= self._max_connections:
            return
        self._max_connections = max_connections
        session = self._session
        if session is not None and isinstance(session.connector, GatedConnector):
            session.connector.grow(max_connections)

    def _client(self) -> aiohttp.ClientSession:
        """The session, made on first use (it needs the running loop)."""
        session = self._session
        if session is None:
            connector = GatedConnector(
                limit=self._max_connections,
                limit_per_host=0,
                keepalive_timeout=KEEPALIVE_EXPIRY,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # the API sets none; a download's must not stick
                trust_env=False,
                auto_decompress=True,
            )
            self._keeps_deadlines = asyncio.get_running_loop() if connector.lazy else None
            self._deadlines = connector.deadlines
        return session

    def _request(
        self, session: aiohttp.ClientSession, outgoing: Outgoing, *, kept: bool = False
    ) -> aiohttp.client._RequestContextManager:
        """*session*'s request for *outgoing*, awaited for its reply (which the caller then
        releases); *kept*: its connection keeps its total (the task's in
        :attr:`GatedConnector.deadlines`), not aiohttp."""
        method, url, headers, content, phases, _ = outgoing
        tls: ssl.SSLContext | bool = True  # aiohttp's default: plain http makes no TLS
        if url.startswith("https:"):
            if self._tls is None:
                # The same CA bundle as httpx (certifi), not the system store aiohttp would use.
                self._tls = verified_tls_context()
            tls = self._tls
        return session.request(
            method,
            url,
            headers=headers,
            data=content,
            allow_redirects=False,
            timeout=_client_timeout(phases, kept=kept),
            ssl=tls,
        )

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send *outgoing* and read the whole (decompressed) reply; failures raise TransportError.

        A body past ``outgoing.max_bytes`` raises DecodeError, the rest unread.
        """
        cap = outgoing.max_bytes
        session = self._client()  # made first: then it is known whether it keeps deadlines
        loop, total, content = self._keeps_deadlines, outgoing.timeouts.total, outgoing.content
        task: asyncio.Task[object] | None = None
        if loop is not None and total is not None and (content is None or type(content) is bytes):
            # An API call (a body of bytes or none): its connection keeps its deadline.
            task = asyncio.current_task(loop)
            if task is not None:
                self._deadlines[task] = loop.time() + total
        try:
            # Awaited, not entered: what aiohttp's context manager does on exit is done here,
            # without its coroutine and exit method held by every call in flight.
            response = await self._request(session, outgoing, kept=task is not None)
            try:
                if cap is None:
                    body = await response.read()
                else:
                    body = await _read_capped(response, outgoing, cap)
            finally:
                response.release()  # an unread body closes the connection
                await response.wait_for_close()
        except _FAILURES as exc:
            raise from_aiohttp(exc, outgoing) from exc
        finally:
            if task is not None:
                del self._deadlines[task]
        return Reply(response.status, response.headers, body)

    @contextlib.asynccontextmanager
    async def open(self, outgoing: Outgoing) -> AsyncIterator[_AiohttpStreamed]:
        """Send *outgoing* and hold its reply open until the context exits."""
        try:
            response = await self._request(self._client(), outgoing)
        except _FAILURES as exc:
            raise from_aiohttp(exc, outgoing) from exc
        try:
            yield _AiohttpStreamed(response, outgoing)
        finally:
            # As aiohttp's own context manager: an unread body closes the connection.
            response.release()
            await response.wait_for_close()

    async def aclose(self) -> None:
        """Close the session and its connections; closing twice is fine."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
