# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Streaming a prediction's output as server-sent events: ``client.stream(...)``.

A streaming model's prediction names an event stream in ``urls.stream``, on another host
than the API. :class:`PredictionStream` reads it with the sans-I/O :class:`SSEDecoder`
and hands out :class:`StreamEvent` objects (``output``, ``logs``, then ``done``).

The stream URL is fetched without the ``Authorization`` header (promise 5: the token goes
only to the API; stream servers need none), with ``Accept: text/event-stream`` and
``Cache-Control: no-store``. A connection that breaks, closes, or ends with the server's
idle comment (``:408``) before ``done`` is reopened with ``Last-Event-ID``, so no event is
lost or repeated; reopening without progress is bounded (:data:`MAX_RECONNECTS` in a row,
with the client's poll delays in between), and the whole stream by a deadline
(promise 2).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import urllib.parse
from typing import TYPE_CHECKING, Final, Self

import anyio
import attrs

from replicate_async import _sansio
from replicate_async._cancellation import is_cancellation
from replicate_async._models import Prediction, PredictionStatus
from replicate_async._running import DEFAULT_RUN_TIMEOUT
from replicate_async._sansio.sse import Comment, ServerSentEvent, SSEDecoder
from replicate_async._urls import is_loopback
from replicate_async.exceptions import (
    PredictionCanceled,
    PredictionFailed,
    PredictionTimeout,
    ReplicateError,
    StreamingNotSupportedError,
    TransportError,
    UnsupportedURLError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
    from types import TracebackType

    from replicate_async._running import Runner

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_RECONNECTS",
    "PredictionStream",
    "StreamEvent",
    "StreamingNotSupportedError",
]

logger = logging.getLogger("replicate_async")

IDLE_TIMEOUT: Final = 60.0
"""Seconds a stream connection may stay silent before it is given up and reopened.

Replicate's stream server sends its ``:408`` comment after 30 idle seconds, so a
connection silent for twice that long is dead, not idle.
"""

MAX_RECONNECTS: Final = 8
"""Reopenings in a row that may fail to make progress before the stream raises TransportError.

A connection makes progress when it delivers an event or stays open for
:data:`HELD_OPEN` seconds (the server's idle comment ends such a one normally).
"""

HELD_OPEN: Final = 10.0
"""Seconds after which a connection that ends without an event still counts as progress."""

SETTLE_TIMEOUT: Final = 10.0
"""Most seconds spent fetching the prediction to put in a PredictionFailed or PredictionCanceled."""

MAX_RETRY_FIELD: Final = 30.0
"""Cap, in seconds, on the reconnection delay a stream's ``retry`` field may ask for."""

#: The event types handed out; others (the standard's ``message``, future ones) are skipped.
_KINDS: Final = frozenset({"output", "logs", "done"})
#: The comment Replicate's stream server sends before closing an idle stream.
_IDLE_COMMENT: Final = "408"


@attrs.frozen
class StreamEvent:
    """One event of a prediction's stream.

    Args:
        event: ``"output"`` (a chunk of text, or a file URL for file streams), ``"logs"``
            (a log line) or ``"done"`` (always last). An ``error`` event is not handed out:
            it raises :class:`~replicate_async.PredictionFailed`.
        data: The event's text; for ``done``, its JSON (``"{}"``).
        id: The event's id (``"<unix seconds>:<n>"`` on Replicate), used to resume.

    .. versionadded:: 0.1.0
    """

    event: str
    data: str
    id: str | None = None


def _stream_url_allowed(url: str, base_url: str) -> bool:
    """Whether *url* may be opened: https, or plain http on loopback or the API's own origin."""
    try:
        parts = urllib.parse.urlsplit(url)
        api = urllib.parse.urlsplit(base_url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    scheme = parts.scheme.lower()
    if scheme == "https":
        return True
    same_origin = (scheme, parts.netloc) == (api.scheme, api.netloc)
    return scheme == "http" and (is_loopback(host) or same_origin)


def _check_stream_url(url: str, base_url: str) -> None:
    """Raise UnsupportedURLError unless *url* may be opened."""
    if not _stream_url_allowed(url, base_url):
        raise UnsupportedURLError(
            status_code=None,
            message=(
                f"refusing to open the stream URL {url[:80]!r}: it must be an https:// URL "
                "(plain http:// only on loopback or the API's own host)"
            ),
        )


def _reason(exc: TransportError) -> str:
    """Why a connection failed, from the HTTP library's own error when there is one."""
    cause = exc.__cause__
    if cause is None:
        return str(exc)
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


def _error_text(data: str) -> str:
    """The message of an ``error`` event: its JSON ``detail``, else its raw text."""
    try:
        value = json.loads(data)
    except ValueError:
        return data
    if isinstance(value, dict) and isinstance(value.get("detail"), str):
        return str(value["detail"])
    return data


def _done_reason(data: str) -> str:
    """The ``reason`` of a ``done`` event (``""`` for success or anything unreadable)."""
    try:
        value = json.loads(data)
    except ValueError:
        return ""
    reason = value.get("reason") if isinstance(value, dict) else None
    return reason if isinstance(reason, str) else ""


def _ending(item: ServerSentEvent) -> tuple[PredictionStatus, str | None] | None:
    """How an ``error`` event or a failed or canceled ``done`` ends the stream, else None."""
    if item.event == "error":
        return PredictionStatus.FAILED, _error_text(item.data)
    if item.event == "done":
        reason = _done_reason(item.data)
        if reason == "canceled":
            return PredictionStatus.CANCELED, None
        if reason == "error":
            return PredictionStatus.FAILED, None
    return None


class _Texts:
    """The text of a stream's ``output`` events (what :meth:`PredictionStream.text` returns)."""

    def __init__(self, stream: PredictionStream) -> None:
        self._stream = stream

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        while True:
            event = await self._stream.__anext__()
            if event.event == "output":
                return event.data

    async def aclose(self) -> None:
        """Close the stream underneath."""
        await self._stream.aclose()


class PredictionStream:
    """The events of a prediction's output stream: ``async for event in stream``.

    Made by :meth:`AsyncClient.stream` (which creates the prediction on the first
    iteration) and :meth:`AsyncPredictions.stream` (for one already created). Iteration
    ends after the ``done`` event. An ``error`` event raises
    :class:`~replicate_async.PredictionFailed` and a ``done`` event whose reason is
    ``canceled`` raises :class:`~replicate_async.PredictionCanceled`; either carries the
    prediction, fetched once (within a few seconds) so its ``error`` and ``logs`` are
    there.

    Broken connections are reopened with ``Last-Event-ID``: each event is handed out
    exactly once. Use ``async with`` (or :meth:`aclose`) when you may stop early: it
    closes the connection and, for a prediction :meth:`AsyncClient.stream` created,
    cancels it remotely so an abandoned generation stops costing money. Cancelling the
    task that iterates does the same.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        runner: Runner,
        *,
        prediction: Prediction | None = None,
        start: Callable[[], Awaitable[Prediction]] | None = None,
        owned: bool = False,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        last_event_id: str | None = None,
    ) -> None:
        """Prepare a stream (nothing is sent until the first iteration).

        Args:
            runner: The client's run engine (its session's connections and poll policy).
            prediction: The prediction to stream, when already known.
            start: Makes (or fetches) the prediction on the first iteration, otherwise.
            owned: Whether this stream created the prediction (and so cancels it when
                abandoned).
            timeout: Seconds the whole stream may take; None for the client's longest wait.
            cancel_on_timeout: Cancel the prediction remotely when ``timeout`` passes.
            last_event_id: Resume after this event id.
        """
        budget = DEFAULT_RUN_TIMEOUT if timeout is None else float(timeout)
        if not budget > 0 or math.isinf(budget):
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
        if prediction is None and start is None:
            raise TypeError("pass prediction= or start=")
        self._runner = runner
        self._session = runner.session
        self._prediction = prediction
        self._start = start
        self._owned = owned
        self._budget = budget
        self._cancel_on_timeout = cancel_on_timeout
        self._deadline: float | None = None
        self._decoder: SSEDecoder[ServerSentEvent | Comment] = SSEDecoder(
            comments=True,
            last_event_id=last_event_id or None,
            max_event_bytes=self._session.limits.max_event_bytes,
        )
        self._pending: collections.deque[ServerSentEvent | Comment] = collections.deque()
        self._response: contextlib.AsyncExitStack | None = None
        self._chunks: AsyncGenerator[bytes, None] | None = None
        self._opened_at = 0.0
        self._progressed = False
        self._failures = 0
        self._delays: Iterator[float] | None = None
        self._finished = False

    def __repr__(self) -> str:
        pid = self._prediction.id if self._prediction is not None else None
        state = "finished" if self._finished else "open"
        return f"<PredictionStream prediction={pid!r} {state}>"

    @property
    def prediction(self) -> Prediction | None:
        """The prediction as created (or as given); None before the first iteration created it.

        .. versionadded:: 0.1.0
        """
        return self._prediction

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event received, to resume with ``predictions.stream(..., last_event_id=...)``.

        .. versionadded:: 0.1.0
        """
        return self._decoder.last_event_id

    # ------------------------------------------------------------------ iteration

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._finished:
            raise StopAsyncIteration
        try:
            return await self._next_event()
        except BaseException as exc:
            if is_cancellation(exc):
                with anyio.CancelScope(shield=True):
                    await self._abandon()
                raise
            self._finished = True
            with anyio.CancelScope(shield=True):
                await self._close_response()
            raise

    def text(self) -> AsyncIterator[str]:
        """Iterate over the text of the ``output`` events only: a language model's tokens.

        ``async for token in client.stream(...).text()`` prints a reply as it is written.
        It ends after ``done``; errors raise as they do for the events, and closing it
        closes this stream.

        .. versionadded:: 0.1.0
        """
        return _Texts(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading: close the connection, and cancel the prediction if this stream created it.

        The remote cancel is sent only when the stream ended early (before ``done`` or
        an error) and the prediction came from :meth:`AsyncClient.stream`; it is
        shielded and best effort. Closing twice is fine.

        .. versionadded:: 0.1.0
        """
        with anyio.CancelScope(shield=True):
            await self._abandon()

    # ------------------------------------------------------------------ internals

    async def _abandon(self) -> None:
        """Close the connection and, if unfinished and ours, cancel the prediction (bounded)."""
        unfinished = not self._finished
        self._finished = True
        await self._close_response()
        if unfinished and self._owned and self._prediction is not None:
            await self._session.cancel_quietly(self._prediction.id)

    async def _close_response(self) -> None:
        """Close the current connection, if any, ignoring errors."""
        response, self._response = self._response, None
        chunks, self._chunks = self._chunks, None
        if chunks is not None:
            # The backend finishes whatever its HTTP library holds under the chunks.
            try:
                await chunks.aclose()
            except (TransportError, OSError) as exc:
                logger.debug("closing a stream failed: %s", exc)
        if response is not None:
            try:
                await response.aclose()
            except (TransportError, OSError) as exc:
                logger.debug("closing a stream failed: %s", exc)

    async def _ensure_prediction(self) -> Prediction:
        """The prediction, made or fetched on the first call."""
        if self._prediction is None:
            assert self._start is not None  # noqa: S101 - checked in __init__
            self._prediction = await self._start()
        if self._deadline is None:
            self._deadline = anyio.current_time() + self._budget
        return self._prediction

    async def _next_event(self) -> StreamEvent:
        """Read until the next event to hand out (or raise what the stream says)."""
        prediction = await self._ensure_prediction()
        url = prediction.urls.stream
        if not url:
            raise StreamingNotSupportedError(prediction=prediction)
        _check_stream_url(url, self._session.base_url)
        assert self._deadline is not None  # noqa: S101 - set by _ensure_prediction
        ending: tuple[PredictionStatus, str | None] | None = None
        with anyio.move_on_after(self._deadline - anyio.current_time()):
            while True:
                item = await self._next_item(url)
                if isinstance(item, Comment):
                    if item.text.strip().startswith(_IDLE_COMMENT):
                        await self._reopen(f"the server's idle comment {item.text!r}")
                    continue
                self._progressed = True
                self._failures = 0
                self._delays = None
                ending = _ending(item)
                if ending is not None:
                    break
                if item.event in _KINDS:
                    if item.event == "done":
                        self._finished = True
                        await self._close_response()
                    return StreamEvent(item.event, item.data, item.id)
                logger.debug("skipping a stream event of type %r", item.event)
        if ending is not None:
            await self._raise_settled(*ending)
        await self._timed_out(prediction)
        raise AssertionError("unreachable: _timed_out raises")  # pragma: no cover

    async def _next_item(self, url: str) -> ServerSentEvent | Comment:
        """The next event or comment, reading (and reopening) the connection as needed."""
        while not self._pending:
            if self._chunks is None:
                await self._open(url)
                continue
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                await self._reopen("the connection closed before the done event")
                continue
            except TransportError as exc:
                await self._reopen(_reason(exc))
                continue
            self._pending.extend(self._decoder.feed(chunk))
        return self._pending.popleft()

    async def _open(self, url: str) -> None:
        """Open a connection to *url*, resuming after the last event id; count failures."""
        # Stream servers need no token and must never see it (promise 5): the request
        # carries exactly these headers.
        headers = {
            "Accept": "text/event-stream",
            "Cache-Control": "no-store",
            "User-Agent": self._session.user_agent,
        }
        if self._decoder.last_event_id:
            headers["Last-Event-ID"] = self._decoder.last_event_id
        self._opened_at = anyio.current_time()
        self._progressed = False
        stack = contextlib.AsyncExitStack()
        try:
            reply = await stack.enter_async_context(
                self._session.open(url, headers=headers, read_timeout=IDLE_TIMEOUT)
            )
        except TransportError as exc:
            await stack.aclose()
            await self._failed(_reason(exc))
            return
        except BaseException:
            await stack.aclose()
            raise
        if reply.status_code == 200:  # noqa: PLR2004
            self._response = stack
            self._chunks = reply.chunks()
            return
        try:
            body = b"".join([chunk async for chunk in reply.chunks()])
        except TransportError:  # pragma: no cover - a body that breaks after an error status
            body = b""
        finally:
            await stack.aclose()
        status = reply.status_code
        error = _sansio.error_for(
            status, reply.headers, body, method="GET", path=urllib.parse.urlsplit(url).path
        )
        if status == 429 or status >= 500:  # noqa: PLR2004
            await self._failed(str(error))
            return
        raise error

    async def _reopen(self, why: str) -> None:
        """Close the connection; reopen at once after progress, else count a failure."""
        await self._close_response()
        # A new decoder for the new response (it may start with a BOM again), carrying
        # the last event id and retry time over, and dropping any half-read event.
        self._decoder = SSEDecoder(
            comments=True,
            last_event_id=self._decoder.last_event_id,
            retry=self._decoder.retry,
            max_event_bytes=self._session.limits.max_event_bytes,
        )
        held = anyio.current_time() - self._opened_at >= HELD_OPEN
        if self._progressed or held:
            self._failures = 0
            self._delays = None
            logger.debug("reopening the stream (%s)", why)
            return
        await self._failed(why)

    async def _failed(self, why: str) -> None:
        """Count a connection that made no progress; wait before the next, or give up."""
        self._failures += 1
        prediction = self._prediction
        assert prediction is not None  # noqa: S101 - streams start from a prediction
        if self._failures > MAX_RECONNECTS:
            raise TransportError(
                message=(
                    f"the stream of prediction {prediction.id} broke {self._failures} times in a "
                    f"row without progress ({why}); the prediction keeps running: resume with "
                    "client.predictions.stream(prediction, last_event_id=...) or wait for it"
                ),
                request_sent=True,
            )
        if self._delays is None:
            self._delays = _sansio.poll_delays(self._session.poll)
        delay = next(self._delays)
        retry = self._decoder.retry
        if retry is not None:
            delay = max(delay, min(retry / 1000, MAX_RETRY_FIELD))
        logger.info(
            "stream of prediction %s interrupted (%s); reopening in %.2f s",
            prediction.id,
            why,
            delay,
        )
        await anyio.sleep(delay)

    async def _settled(self, status: PredictionStatus, error: str | None) -> Prediction:
        """The prediction fetched once (bounded) for an error; what the stream said wins."""
        prediction = self._prediction
        assert prediction is not None  # noqa: S101 - streams start from a prediction
        with anyio.move_on_after(SETTLE_TIMEOUT):
            try:
                prediction = await self._runner.get(prediction.id)
            except ReplicateError as exc:
                logger.debug("could not fetch prediction %s: %s", prediction.id, exc)
        if prediction.status is not status:
            prediction = attrs.evolve(prediction, status=status, error=prediction.error or error)
        return prediction

    async def _raise_settled(self, status: PredictionStatus, error: str | None) -> None:
        """Finish the stream and raise PredictionFailed or PredictionCanceled."""
        self._finished = True
        await self._close_response()
        prediction = await self._settled(status, error)
        if status is PredictionStatus.CANCELED:
            raise PredictionCanceled(prediction=prediction)
        raise PredictionFailed(prediction=prediction)

    async def _timed_out(self, prediction: Prediction) -> None:
        """The deadline passed: raise PredictionTimeout (after a remote cancel, if asked)."""
        self._finished = True
        await self._close_response()
        last = prediction
        with anyio.move_on_after(SETTLE_TIMEOUT):
            try:
                last = await self._runner.get(prediction.id)
            except ReplicateError as exc:
                logger.debug("could not fetch prediction %s: %s", prediction.id, exc)
        if self._cancel_on_timeout and not last.status.is_terminal:
            await self._session.cancel_quietly(prediction.id)
        raise PredictionTimeout(prediction=last, timeout=self._budget)
