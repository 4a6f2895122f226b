# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The session under every resource: settings, auth, the concurrency slot, the rate limiter.

One :class:`Session` per client. It owns what every request needs (the API root, the auth
header, the timeouts and retry policy, the concurrency slot, the rate limiter and the
:class:`~replicate_async._backend.Backend`) and offers package-level methods: send one API
request with retries and get the whole reply, send it once (for callers with their own
retry loop, like uploads), open a reply as a stream, cancel a prediction quietly.
Resources, uploads, streaming, files, the run engine and fan-out are given the session,
never the client, so requests travel strictly downward: resource -> session -> backend.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import TYPE_CHECKING, Final, TypeVar

import anyio

from replicate_async import _sansio
from replicate_async._backend import Outgoing, Phases, is_retryable
from replicate_async._beside import Background
from replicate_async._config import DEFAULT_SIZE_LIMITS, stamina_testing
from replicate_async._ratelimit import RateLimiter, bucket_for
from replicate_async._slots import Slots
from replicate_async.exceptions import (
    APIError,
    ClientClosedError,
    RateLimitError,
    ReplicateError,
    RequestTimeout,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
    from contextlib import AbstractAsyncContextManager

    from replicate_async._backend import Backend, Reply, Streamed
    from replicate_async._config import PollPolicy, RetryPolicy, SizeLimits, Timeouts
    from replicate_async._models import Deployment, Prediction
    from replicate_async._ratelimit import Limiter, RateLimits, RequestHooks
    from replicate_async._sansio import ModelRef, Request

__all__ = ["CANCEL_GRACE", "Session", "cancel_quietly"]

T = TypeVar("T")

logger = logging.getLogger("replicate_async")

# A library leaves its log records to the application: with no handler configured anywhere,
# Python's last-resort handler would print WARNINGs to stderr. A NullHandler on our logger
# stops that and keeps propagation to the application's handlers. The same on stamina's
# logger: its default instrumentation logs every scheduled retry as a bare WARNING
# "stamina.retry_scheduled", which reached users' terminals on every retry of ours (issue
# 11). Its hooks are process-wide, so they are left alone; this only silences the
# last-resort print, and an application that configures logging still gets those records.
logger.addHandler(logging.NullHandler())
logging.getLogger("stamina").addHandler(logging.NullHandler())

#: The compact, strict JSON of request bodies: one encoder for every request (``json.dumps``
#: with options builds a new one per call).
_encode_json: Final = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

_CLOSED: Final = (
    "this AsyncClient is closed; make a new one (or do the work inside "
    "`async with AsyncClient() as client:`)"
)

_PHASES_KEPT: Final = 256
"""Distinct per-request timeouts a session keeps made (a create's follow its wait)."""

CANCEL_GRACE: Final = 5.0
"""Seconds a best-effort remote cancel may take when the caller's task was cancelled."""


class Session:
    """What every request of one client needs, and the methods that send it.

    Args:
        token: The API token (already checked).
        base_url: The API root, normalised (no trailing slash or ``/v1``).
        user_agent: The ``User-Agent`` header.
        timeouts: Per-phase HTTP timeouts.
        retry: How requests are retried.
        poll: The delays between polls of a prediction.
        max_concurrency: Most requests in flight at once.
        rate_limits: The account's rate limits.
        backend: Sends the requests.
        rate_limiter: Paces the requests; by default a :class:`RateLimiter` of *rate_limits*
            in this process (closed with the session either way).
        limits: Caps on one reply and one streamed event.
    """

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        user_agent: str,
        timeouts: Timeouts,
        retry: RetryPolicy,
        poll: PollPolicy,
        max_concurrency: int,
        rate_limits: RateLimits,
        backend: Backend,
        limits: SizeLimits = DEFAULT_SIZE_LIMITS,
        rate_limiter: Limiter | None = None,
    ) -> None:
        self.base_url: Final = base_url
        self.user_agent: Final = user_agent
        self.timeouts: Final = timeouts
        self.retry: Final = retry
        self.poll: Final = poll
        self._max_concurrency = max_concurrency
        self.backend: Final = backend
        self.limits: Final = limits
        # Accept-Encoding as httpx.AsyncClient would send it: replies may come compressed.
        self.headers: Final[Mapping[str, str]] = {
            **_sansio.base_headers(token, user_agent),
            "Accept-Encoding": "gzip, deflate",
        }
        # Requests in flight: a semaphore that takes a free slot in one check (see _slots).
        self.slot: Final = Slots(max_concurrency)
        self.rate: Final[Limiter] = (
            rate_limiter
            if rate_limiter is not None
            else RateLimiter(rate_limits, max_pause=retry.max_retry_after)
        )
        self._default_phases = _phases(timeouts, None)
        self._phases_by: dict[tuple[float | None, bool], Phases] = {}
        self._hooks = (self.retry_on(create=False), self.retry_on(create=True))
        # as_completed's batches, each in a task beside its consumer (an asyncio task or a trio
        # system task), ended on close.
        self.background: Final = Background()
        self._closed = False

    def __repr__(self) -> str:
        # The client this session is the inside of: resources show it as their owner.
        return f"<AsyncClient base_url={self.base_url!r} max_concurrency={self.max_concurrency}>"

    @property
    def max_concurrency(self) -> int:
        """Most requests in flight at once (the concurrency slot; see :meth:`reserve`)."""
        return self._max_concurrency

    def reserve(self, concurrency: int) -> None:
        """Make room for *concurrency* requests in flight: the slot and the backend's pool grow
        to at least that (never shrink), so a batch above ``max_concurrency`` just runs.

        The rate limiter still paces the requests: this bounds how many are open at once, not
        how fast they go. A user's own httpx client or transport keeps its own limits.

        Raises:
            ValueError: *concurrency* is less than 1.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency!r}")
        extra = concurrency - self._max_concurrency
        if extra <= 0:
            return
        self._max_concurrency = concurrency
        grow = getattr(self.backend, "grow", None)  # a Backend need not have a pool of its own
        if grow is not None:
            grow(concurrency)
        self.slot.grow(extra)  # each new slot lets a waiting request go, or is free

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def check_open(self) -> None:
        """Raise :class:`ClientClosedError` once :meth:`aclose` was called.

        Every request of the client goes through :meth:`send_once` or :meth:`open`, which
        call this first: a closed client fails before any I/O, and never builds a new pool.
        """
        if self._closed:
            raise ClientClosedError(message=_CLOSED)

    # ------------------------------------------------------------------ building

    def phases(
        self, read: float | None = None, total: float | None = None, *, transfer: bool = False
    ) -> Phases:
        """The timeouts of one request attempt.

        Args:
            read: The read phase's timeout, when not the client's (a create's wait).
            total: The whole attempt's deadline, when not the client's: the run engine
                passes what is left of a run's ``timeout``.
            transfer: A file transfer (an upload, a stream, a download): its deadline is
                ``Timeouts.transfer``, not ``Timeouts.total``.
        """
        if total is not None:  # what is left of a run's timeout: a new value every time
            return _phases(self.timeouts, read, total, transfer=transfer)
        if read is None and not transfer:
            return self._default_phases
        # A create's read timeout follows its wait (1 to 60 s): a handful of values per client.
        key = (read, transfer)
        phases = self._phases_by.get(key)
        if phases is None:
            if len(self._phases_by) >= _PHASES_KEPT:
                self._phases_by.clear()
            phases = self._phases_by[key] = _phases(self.timeouts, read, transfer=transfer)
        return phases

    def url(self, path: str) -> str:
        """An absolute URL for a path under the API root (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    def retry_on(self, *, create: bool) -> Callable[[Exception], bool | float]:
        """stamina's `on` hook: whether to retry, and how long to wait when the server said so.

        A create is retried only on 429 and on failures that prove it was never sent
        (promise 1); other requests also on 5xx and any transport failure worth a retry.
        """
        cap = self.retry.max_retry_after

        def hook(exc: Exception) -> bool | float:
            if isinstance(exc, RateLimitError):
                if exc.retry_after is None:
                    return True
                return min(exc.retry_after, cap)
            if isinstance(exc, TransportError):
                if create and exc.request_sent:
                    return False
                return is_retryable(exc)
            return isinstance(exc, ServerError) and not create

        return hook

    # ------------------------------------------------------------------ sending

    async def send_once(
        self,
        request: Request,
        *,
        create: bool = False,
        read_timeout: float | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        hooks: RequestHooks | None = None,
    ) -> Reply:
        """Send *request* once and read the reply; raise our errors for retryable replies.

        Args:
            request: What to send; its JSON body, if any, is encoded here.
            create: The request creates a prediction (never re-sent once it may have landed).
            read_timeout: The read phase's timeout, when not the client's.
            content: A body to send instead of the request's JSON (uploads).
            hooks: Told when the request takes its rate-limit token and when it meets a 429.
        """
        self.check_open()
        headers = {**self.headers, **request.headers}
        if request.json is not None:
            # NaN is not JSON: inputs are checked with their field path before this
            # (_sansio.inputs); refusing it here too means invalid JSON is never sent.
            content = _encode_json(request.json).encode()
            headers["Content-Type"] = "application/json"
        elif request.text is not None:
            content = request.text.encode()
            headers["Content-Type"] = "text/plain; charset=utf-8"
        bucket = bucket_for(request.method, request.path)
        ticket = await self.rate.acquire(bucket, hooks)
        # A body given as content (not JSON) is an upload: bounded like a file transfer.
        phases = self.phases(
            read_timeout,
            transfer=request.json is None and request.text is None and content is not None,
        )
        slot = self.slot
        await slot.acquire()
        try:
            reply = await self.backend.fetch(
                Outgoing(
                    request.method,
                    self.url(request.path),
                    headers,
                    content,
                    phases,
                    self.limits.max_reply_bytes,
                )
            )
        except TransportError as exc:
            raise _reworded(exc, request, create=create) from exc.__cause__
        finally:
            slot.release()
        status = reply.status_code
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s: %d", request.method, request.path.split("?", 1)[0], status)
        self.rate.observe(bucket, ticket, status, reply.headers, hooks=hooks)
        if status == 429 or (status >= 500 and not create):  # noqa: PLR2004
            raise _sansio.error_for(
                status, reply.headers, reply.content, method=request.method, path=request.path
            )
        return reply

    async def send(
        self,
        request: Request,
        *,
        create: bool = False,
        read_timeout: float | None = None,
        hooks: RequestHooks | None = None,
    ) -> Reply:
        """Send *request* with retries (see :meth:`retry_on`) and return the whole reply.

        Error statuses that are not retried come back as replies for the caller to
        decode; statuses retried until the attempts run out raise their error.
        """
        started = time.monotonic()  # stamina's (tenacity's) clock for its timeout
        try:
            return await self.send_once(
                request, create=create, read_timeout=read_timeout, hooks=hooks
            )
        except Exception as exc:  # noqa: BLE001 - judged by the retry hook
            failed = exc
        # Outside the except clause: a later failure is not chained to this one.
        return await self._send_again(
            failed, started, request, create=create, read_timeout=read_timeout, hooks=hooks
        )

    async def _send_again(
        self,
        failed: Exception,
        started: float,
        request: Request,
        *,
        create: bool,
        read_timeout: float | None,
        hooks: RequestHooks | None,
    ) -> Reply:
        """:meth:`send` after its first try failed with *failed* (at ``time.monotonic()``
        *started*): raise it when it is not worth a retry, else retry under stamina.

        The first try is sent by the caller itself: entering stamina's retry context costs
        more CPU than a request, and most requests succeed at once (a frame less per request
        too: :meth:`send_prediction` tries first on its own).
        """
        hook = self._hooks[create]
        elapsed = time.monotonic() - started
        if hook(failed) is False or elapsed >= self.retry.timeout:
            raise failed
        # stamina takes over from that failure, which its first attempt raises again, so its
        # attempts, backoff, Retry-After and instrumentation are as if it had sent the first
        # try itself.
        pending: Exception | None = failed
        on = self._logged(hook, request, started)
        async for attempt in self.retry.retry_context(on, elapsed=elapsed):
            with attempt:
                if pending is not None:
                    first, pending = pending, None
                    raise first
                return await self.send_once(
                    request, create=create, read_timeout=read_timeout, hooks=hooks
                )
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _logged(
        self, hook: Callable[[Exception], bool | float], request: Request, started: float
    ) -> Callable[[Exception], bool | float]:
        """*hook* for one request's stamina loop, deciding each wait itself and logging it.

        stamina calls it once per failed attempt, before it checks its own bounds and sleeps,
        so the hook applies the same bounds (attempts, and the timeout from the first try)
        and returns the wait as a number: the INFO line then says the wait stamina sleeps
        and the attempt that follows, and never announces a retry that will not happen.
        """
        policy = self.retry
        # The path alone: a next page's link is absolute, and its cursor says nothing.
        what = f"{request.method} {request.path.split('?', 1)[0].removeprefix(self.base_url)}"
        failures = 0

        def on(exc: Exception) -> bool | float:
            nonlocal failures
            failures += 1
            verdict = hook(exc)
            if verdict is False:
                return False
            if failures >= policy.attempts or time.monotonic() - started >= policy.timeout:
                return False  # where stamina stops too: the caller gets this failure
            wait = _backoff(policy, failures) if verdict is True else float(verdict)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "retrying %s in %s s after %s, attempt %d of %d",
                    what,
                    _seconds(0.0 if stamina_testing() else wait),
                    _cause(exc),
                    failures + 1,
                    policy.attempts,
                )
            return wait

        return on

    async def send_prediction(
        self,
        request: Request,
        *,
        create: bool = False,
        read_timeout: float | None = None,
        ref: str | Deployment | ModelRef | None = None,
        hooks: RequestHooks | None = None,
    ) -> Prediction:
        """Send *request* and decode the prediction it returns (or raise its error)."""
        # As send(), inline: one coroutine less per request on the engine's hot path.
        started = time.monotonic()
        try:
            reply = await self.send_once(
                request, create=create, read_timeout=read_timeout, hooks=hooks
            )
        except Exception as exc:  # noqa: BLE001 - judged by the retry hook
            failed: Exception | None = exc
        else:
            failed = None
        if failed is not None:
            reply = await self._send_again(
                failed, started, request, create=create, read_timeout=read_timeout, hooks=hooks
            )
        return _sansio.decode_prediction(
            reply.status_code,
            reply.headers,
            reply.content,
            method=request.method,
            path=request.path,
            ref=ref,
            create=create,
        )

    async def send_json(self, request: Request, cls: type[T]) -> T:
        """Send *request* (with retries) and decode its JSON reply as *cls*, or raise its error."""
        reply = await self.send(request)
        return _sansio.decode(
            reply.status_code,
            reply.headers,
            reply.content,
            cls,
            method=request.method,
            path=request.path,
        )

    async def send_text(self, request: Request) -> str:
        """Send *request* (with retries) and return its reply as text, or raise its error."""
        reply = await self.send(request)
        self._raise_for_error(request, reply)
        return reply.content.decode("utf-8", "replace")

    async def send_no_content(self, request: Request) -> None:
        """Send *request* (with retries) for its effect (a delete: 202 or 204), or raise its error."""
        reply = await self.send(request)
        self._raise_for_error(request, reply)

    @staticmethod
    def _raise_for_error(request: Request, reply: Reply) -> None:
        """Raise the error an error status stands for; any other status is fine."""
        if reply.status_code >= 400:  # noqa: PLR2004
            raise _sansio.error_for(
                reply.status_code,
                reply.headers,
                reply.content,
                method=request.method,
                path=request.path,
            )

    def open(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        read_timeout: float | None = None,
    ) -> AbstractAsyncContextManager[Streamed]:
        """Open a GET of *url* as a stream, with exactly *headers* (no token unless given).

        For replies read as they arrive: event streams (which must never see the token)
        and downloads of the API's own files (which need it: pass :attr:`headers`). Takes
        no concurrency slot (a stream may stay open for minutes).
        """
        self.check_open()
        # Bounded per connection like a file transfer: a stream that outlives it resumes.
        phases = self.phases(read_timeout, transfer=True)
        return self.backend.open(Outgoing("GET", url, headers, None, phases))

    async def cancel_quietly(self, prediction_id: str) -> None:
        """Best-effort remote cancel, shielded from the caller's cancellation, bounded in time."""
        await cancel_quietly(self._cancel, prediction_id)

    async def _cancel(self, prediction_id: str) -> Prediction:
        """Cancel a prediction (one API call, with retries)."""
        return await self.send_prediction(_sansio.build_cancel(prediction_id))

    async def aclose(self) -> None:
        """End the batches still running beside their consumers (their predictions are cancelled
        while the connections are open), then close the backend's connections; from now on
        every request raises ClientClosedError."""
        try:
            await self.background.end()
        finally:
            self._closed = True
            try:
                await self.backend.aclose()
            finally:
                await self.rate.aclose()


async def cancel_quietly(cancel: Callable[[str], Awaitable[object]], prediction_id: str) -> None:
    """Call *cancel* for *prediction_id*, shielded from the caller's cancellation, bounded in
    time (:data:`CANCEL_GRACE`); a failure is logged, never raised (the caller is leaving)."""
    with anyio.move_on_after(CANCEL_GRACE, shield=True):
        try:
            await cancel(prediction_id)
        except ReplicateError as exc:
            logger.warning("could not cancel prediction %s: %s", prediction_id, exc)
            return
        logger.info("canceled prediction %s", prediction_id)


def _backoff(policy: RetryPolicy, failures: int) -> float:
    """The wait after the *failures*-th failed attempt: stamina's own exponential backoff
    (``wait_initial * wait_exp_base ** (failures - 1)`` plus up to ``wait_jitter``, at most
    ``wait_max``), computed here so that the log line can say it before stamina sleeps."""
    jitter = random.uniform(0, policy.wait_jitter) if policy.wait_jitter else 0.0  # noqa: S311
    try:
        return min(
            policy.wait_max,
            policy.wait_initial * policy.wait_exp_base ** (failures - 1) + jitter,
        )
    except OverflowError:
        return policy.wait_max


def _seconds(wait: float) -> str:
    """A wait as a reader wants it: ``0.25``, ``1.2``, ``12.5``, ``0``."""
    return f"{wait:.2g}" if wait < 1 else f"{wait:.1f}"


def _cause(exc: Exception) -> str:
    """What failed, shortly: ``ServerError 503``, ``TransportError (ClientConnectorError)``."""
    if isinstance(exc, APIError):
        return f"{type(exc).__name__} {exc.status_code}"
    cause = exc.__cause__
    return f"{type(exc).__name__} ({type(cause).__name__})" if cause else type(exc).__name__


def _phases(
    timeouts: Timeouts,
    read: float | None,
    total: float | None = None,
    *,
    transfer: bool = False,
) -> Phases:
    """*timeouts* per phase, with *read* and *total* overriding the client's.

    The client's total is never shorter than a read timeout given here: a create held open
    by its ``Prefer: wait`` must not time out as a whole before its own read timeout.
    """
    t = timeouts
    if total is None:
        total = t.transfer if transfer else t.total
        if read is not None:
            total = max(total, read)
    read = t.read if read is None else read
    return Phases(connect=t.connect, read=read, write=t.write, pool=t.pool, total=total)


def _reworded(exc: TransportError, request: Request, *, create: bool) -> TransportError:
    """*exc* again, its message naming the API call and, for a create, what may have happened."""
    what = f"{request.method} {request.path.split('?', 1)[0]}"
    cause = exc.__cause__
    reason = f"{type(cause).__name__}: {cause}" if cause is not None and str(cause) else None
    if reason is None:
        reason = type(cause).__name__ if cause is not None else str(exc)
    sent = exc.request_sent
    if create and sent:
        message = (
            f"{what} failed after the request was sent ({reason}); the prediction may have "
            "been created and billed, so it was not retried: check client.predictions.list() "
            "before creating it again"
        )
    elif sent:
        message = f"{what} failed ({reason})"
    else:
        message = f"{what} failed before the request was sent ({reason})"
    cls = RequestTimeout if isinstance(exc, RequestTimeout) else TransportError
    return cls(message=message, request_sent=sent)
