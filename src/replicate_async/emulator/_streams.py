"""Server-sent events on `urls.stream`: `GET /stream/v1/predictions/{id}` (no auth).

A stream replays the prediction's event history (`record.events`) and then follows it live:
`output` (a text chunk, or a file output's URL), `logs` (one line), `error` (`{"detail": …}`)
and `done` (`{}`, `{"reason": "canceled"}` or `{"reason": "error"}`). Every event carries an
`id` of the form `<unix seconds>:<n>`, `n` being the event's index in the history, so a client
reconnecting with `Last-Event-ID: <unix>:<n>` gets exactly the events after `n`.

Like Replicate's stream server (nchan), a stream opens with the comment `: hi`, and after 30 s
(emulated, times the time scale) without an event, including after `done` when the client keeps
the connection open, it sends the comment `:408: 408 Request Timeout` and closes. A prediction
whose data were removed (retention) gets that comment at once.

Fault injection: a `FaultRule(action="drop_stream", events=K)` drops the connection after `K`
events of the next matching stream (see `take_stream_drop`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse

from replicate_async._sansio.sse import format_comment, format_event
from replicate_async.emulator._http import api_route, base_url, drop_connection, problem
from replicate_async.emulator._render import output_item
from replicate_async.emulator._util import NOT_FOUND, dumps

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._records import Event, PredictionRecord
    from replicate_async.emulator._state import EmulatorState

STREAM_PATH = "/stream/v1/predictions/{id}"
#: The route key of the stream route (what `FaultRule.route` may name).
STREAM_KEY = f"GET {STREAM_PATH}"
#: Emulated seconds without an event before the stream server gives up.
IDLE_TIMEOUT = 30.0
HELLO = format_comment(" hi")
TIMEOUT = format_comment("408: 408 Request Timeout")
_DONE = {"": "{}", "canceled": '{"reason":"canceled"}', "error": '{"reason":"error"}'}
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class StreamStats:
    """The streams' counters (`stats()["streams"]`), reset with the state."""

    def __init__(self) -> None:
        """Start at zero."""
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.opened = 0
        self.resumed = 0
        self.events = 0
        self.dropped = 0
        self.timeouts = 0

    def stats(self) -> dict[str, int]:
        """The counters as JSON-able data."""
        return {
            "opened": self.opened,
            "resumed": self.resumed,
            "events": self.events,
            "dropped": self.dropped,
            "timeouts": self.timeouts,
        }


def stream_stats(state: EmulatorState) -> StreamStats:
    """The stream counters of `state` (made on first use)."""
    found = state.extensions.get("streams")
    if not isinstance(found, StreamStats):
        found = state.extensions["streams"] = StreamStats()
    return found


def event_id(event: Event, index: int) -> str:
    """The SSE id of the `index`-th event of a prediction: `<unix seconds>:<index>`."""
    return f"{int(event.at)}:{index}"


def resume_index(last_event_id: str | None) -> int:
    """The index of the first event to send after `Last-Event-ID` (0 without a usable one)."""
    if not last_event_id:
        return 0
    _, _, counter = last_event_id.strip().rpartition(":")
    if not (counter.isascii() and counter.isdigit()):
        return 0
    return int(counter) + 1


def event_data(record: PredictionRecord, event: Event, base: str) -> str:
    """The `data` of one event as the stream sends it."""
    if event.kind == "done":
        return _DONE.get(event.data, "{}")
    if event.kind == "error":
        return json.dumps({"detail": event.data})
    value: Any = output_item(record, event.data, base) if event.kind == "output" else event.data
    return value if isinstance(value, str) else dumps(value).decode()


def take_stream_drop(state: EmulatorState) -> int | None:
    """The event count after which to drop this stream, if a `drop_stream` fault rule fires."""
    return state.faults.stream_drop(("*", STREAM_KEY, "stream"), state.rng)


async def _events(
    state: EmulatorState,
    request: Request,
    record: PredictionRecord,
    start: int,
    drop_after: int | None,
) -> AsyncIterator[bytes]:
    """The body of one stream."""
    counters = stream_stats(state)
    base = base_url(state, request.scope)
    yield HELLO
    index = start
    sent = 0
    while not record.data_removed:
        events = record.events
        while index < len(events):
            if drop_after is not None and sent >= drop_after:
                counters.dropped += 1
                state.stats.faults_injected["drop_stream"] += 1
                await drop_connection(request.scope)
                return
            event = events[index]
            yield format_event(event.kind, event_data(record, event, base), event_id(event, index))
            counters.events += 1
            index += 1
            sent += 1
        deadline = state.now() + IDLE_TIMEOUT * state.time_scale
        if not await state.wait_for_change(record, index, deadline):
            break
    counters.timeouts += 1
    yield TIMEOUT


def routes(state: EmulatorState) -> list[BaseRoute]:
    """`GET /stream/v1/predictions/{id}`."""
    stream_stats(state)

    async def stream(request: Request) -> Response:
        record = state.get(request.path_params["id"])
        if record is None:
            return problem(NOT_FOUND)
        counters = stream_stats(state)
        counters.opened += 1
        start = resume_index(request.headers.get("last-event-id"))
        if start:
            counters.resumed += 1
        body = _events(state, request, record, start, take_stream_drop(state))
        return StreamingResponse(body, headers=_HEADERS, media_type="text/event-stream")

    return [api_route(state, STREAM_PATH, stream, methods=["GET"], auth=False, bucket=None)]
