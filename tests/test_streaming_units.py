# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""PredictionStream edge cases over scripted replies (httpx.MockTransport): reconnects, errors, URLs."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from _client_support import API, TOKEN, prediction
from replicate_async import (
    AsyncClient,
    NotFoundError,
    PredictionCanceled,
    PredictionFailed,
    PredictionStatus,
    PredictionStream,
    StreamEvent,
    TransportError,
    UnsupportedURLError,
    _streaming,
)
from replicate_async._converters import structure
from replicate_async._models import Prediction
from replicate_async._streaming import _stream_url_allowed

STREAM = "https://stream.replicate.test/v1/predictions/p1"
PROMPT_EVENTS = (
    b": hi\n\n"
    b"event: output\nid: 1:0\ndata: Hello\n\n"
    b"event: output\nid: 1:1\ndata: ,\n\n"
    b"event: output\nid: 1:2\ndata:  world\n\n"
    b"event: done\nid: 1:3\ndata: {}\n\n"
)


def _event(kind: str, n: int, data: str) -> bytes:
    return f"event: {kind}\nid: 1:{n}\ndata: {data}\n\n".encode()


class Body(httpx.AsyncByteStream):
    """A response body: chunks, then optionally an error (a dropped connection)."""

    def __init__(self, *chunks: bytes, error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        pass


class Script:
    """Scripted replies: the API (create, get, cancel) and the stream host, recording requests."""

    def __init__(
        self, *streams: Any, status: str = "starting", stream_url: str | None = STREAM
    ) -> None:
        self.streams = list(streams)
        self.requests: list[httpx.Request] = []
        self.status = status
        self.stream_url = stream_url
        self.get_reply: httpx.Response | None = None

    def body(self, status: str | None = None, **fields: Any) -> dict[str, Any]:
        body = prediction("p1", status or self.status, **fields)
        if self.stream_url is not None:
            body["urls"]["stream"] = self.stream_url
        return body

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.url.host == "stream.replicate.test":
            reply = self.streams.pop(0)
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, httpx.Response):
                return reply
            return httpx.Response(200, stream=reply, headers={"content-type": "text/event-stream"})
        if request.method == "POST" and path.endswith("/cancel"):
            return httpx.Response(200, json=self.body("canceled"))
        if request.method == "POST":
            return httpx.Response(201, json=self.body())
        if self.get_reply is not None:
            return self.get_reply
        return httpx.Response(200, json=self.body("failed", error="boom", logs="line 1\nline 2"))

    def stream_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "stream.replicate.test"]

    def paths(self, method: str) -> list[str]:
        return [
            r.url.path
            for r in self.requests
            if r.method == method and r.url.host != "stream.replicate.test"
        ]


def _client(script: Script, **kwargs: Any) -> AsyncClient:
    return AsyncClient(TOKEN, API, transport=httpx.MockTransport(script.handler), **kwargs)


async def _events(script: Script, **kwargs: Any) -> list[StreamEvent]:
    async with _client(script) as client:
        return [e async for e in client.stream("acme/llm", input={"prompt": "hi"}, **kwargs)]


def _pred(**fields: Any) -> Prediction:
    body = prediction("p1", "processing", **fields)
    body["urls"]["stream"] = STREAM
    return structure(body, Prediction)


# -- the request -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_stream_request_headers() -> None:
    """The stream GET asks for an event stream, uncached, with a User-Agent and no token."""
    script = Script(Body(PROMPT_EVENTS))
    await _events(script)
    (request,) = script.stream_requests()
    assert "authorization" not in request.headers
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["cache-control"] == "no-store"
    assert request.headers["user-agent"].startswith("replicate-async/")
    assert "last-event-id" not in request.headers


@pytest.mark.anyio
async def test_injected_http_client_authorization_is_stripped() -> None:
    """An http_client whose defaults carry Authorization still sends none to the stream host."""
    script = Script(Body(PROMPT_EVENTS))
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(script.handler), headers={"Authorization": "Bearer secret"}
    )
    async with http, AsyncClient(TOKEN, API, http_client=http) as client:
        [e async for e in client.stream("acme/llm", input={})]
    assert "authorization" not in script.stream_requests()[0].headers


@pytest.mark.anyio
async def test_events_are_handed_out_in_order() -> None:
    """Each output event is handed out with its data and id, then done."""
    events = await _events(Script(Body(PROMPT_EVENTS)))
    assert events == [
        StreamEvent("output", "Hello", "1:0"),
        StreamEvent("output", ",", "1:1"),
        StreamEvent("output", " world", "1:2"),
        StreamEvent("done", "{}", "1:3"),
    ]


@pytest.mark.anyio
async def test_unknown_event_types_are_skipped() -> None:
    """Events of other types (the standard's `message`, future ones) are not handed out."""
    body = b"data: untyped\n\n" + _event("future", 0, "x") + _event("done", 1, "{}")
    events = await _events(Script(Body(body)))
    assert [e.event for e in events] == ["done"]


@pytest.mark.anyio
async def test_iterating_after_done_stops() -> None:
    """Once done was handed out, the stream is finished."""
    async with _client(Script(Body(PROMPT_EVENTS))) as client:
        stream = client.stream("acme/llm", input={})
        [e async for e in stream]
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
    assert "finished" in repr(stream)


# -- reconnecting ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_dropped_body_resumes_with_last_event_id() -> None:
    """A body that breaks mid-stream is reopened with Last-Event-ID; no event is lost or repeated."""
    first = Body(_event("output", 0, "a"), _event("output", 1, "b"), error=httpx.ReadError("reset"))
    second = Body(_event("output", 2, "c"), _event("done", 3, "{}"))
    script = Script(first, second)
    events = await _events(script)
    assert [e.data for e in events] == ["a", "b", "c", "{}"]
    assert script.stream_requests()[1].headers["last-event-id"] == "1:1"


@pytest.mark.anyio
async def test_half_read_event_is_dropped_on_reconnect() -> None:
    """An event cut in the middle by a drop is not handed out; the resumed stream sends it whole."""
    first = Body(
        _event("output", 0, "a") + b"event: output\nid: 1:1\nda", error=httpx.ReadError("x")
    )
    second = Body(_event("output", 1, "b"), _event("done", 2, "{}"))
    events = await _events(Script(first, second))
    assert [e.data for e in events] == ["a", "b", "{}"]


@pytest.mark.anyio
async def test_closed_body_before_done_is_reopened() -> None:
    """A body that ends cleanly before done is reopened."""
    script = Script(Body(_event("output", 0, "a")), Body(_event("done", 1, "{}")))
    events = await _events(script)
    assert [e.event for e in events] == ["output", "done"]


@pytest.mark.anyio
async def test_idle_comment_reopens_the_stream() -> None:
    """The server's `:408` idle comment before done makes the client reopen with Last-Event-ID."""
    first = Body(_event("output", 0, "a"), b":408: 408 Request Timeout\n")
    script = Script(first, Body(_event("done", 1, "{}")))
    events = await _events(script)
    assert [e.event for e in events] == ["output", "done"]
    assert script.stream_requests()[1].headers["last-event-id"] == "1:0"


@pytest.mark.anyio
async def test_connect_errors_and_5xx_are_retried() -> None:
    """A connect error and a 503 on the stream GET are retried."""
    script = Script(httpx.ConnectError("refused"), httpx.Response(503), Body(PROMPT_EVENTS))
    events = await _events(script)
    assert events[-1].event == "done"
    assert len(script.stream_requests()) == 3


@pytest.mark.anyio
async def test_retry_field_sets_the_reconnect_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream's `retry` field (milliseconds, capped) sets the delay before reopening."""
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(_streaming.anyio, "sleep", sleep)
    script = Script(Body(b"retry: 2500\n\n"), Body(PROMPT_EVENTS))
    await _events(script)
    assert slept == [2.5]


@pytest.mark.anyio
async def test_gives_up_after_too_many_fruitless_reconnects() -> None:
    """Reopenings that bring no event are bounded: then TransportError names the prediction."""
    bodies = [Body(b": hi\n\n") for _ in range(_streaming.MAX_RECONNECTS + 1)]
    script = Script(*bodies)
    with pytest.raises(TransportError, match="prediction p1 broke 9 times"):
        await _events(script)
    assert len(script.stream_requests()) == _streaming.MAX_RECONNECTS + 1


@pytest.mark.anyio
async def test_progress_resets_the_reconnect_count() -> None:
    """A connection that delivered an event does not count against the limit."""
    bodies = [Body(_event("output", n, str(n))) for n in range(_streaming.MAX_RECONNECTS + 3)]
    script = Script(*bodies, Body(_event("done", 99, "{}")))
    events = await _events(script)
    assert len(events) == _streaming.MAX_RECONNECTS + 4


@pytest.mark.anyio
async def test_long_held_connection_counts_as_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection held open past HELD_OPEN before ending without events is not a failure."""
    monkeypatch.setattr(_streaming, "HELD_OPEN", 0.0)
    bodies = [Body(b": hi\n\n") for _ in range(_streaming.MAX_RECONNECTS + 2)]
    events = await _events(Script(*bodies, Body(PROMPT_EVENTS)))
    assert events[-1].event == "done"


@pytest.mark.anyio
async def test_not_found_stream_raises() -> None:
    """A 404 from the stream host raises NotFoundError at once."""
    script = Script(httpx.Response(404, json={"detail": "not found", "status": 404}))
    with pytest.raises(NotFoundError):
        await _events(script)
    assert len(script.stream_requests()) == 1


# -- how streams end -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_error_event_raises_with_the_fetched_prediction() -> None:
    """An `error` event raises PredictionFailed with the prediction fetched once (error, logs)."""
    script = Script(Body(_event("output", 0, "a"), _event("error", 1, '{"detail": "boom"}')))
    with pytest.raises(PredictionFailed, match="boom") as caught:
        await _events(script)
    assert caught.value.prediction.logs == "line 1\nline 2"
    assert script.paths("GET") == ["/v1/predictions/p1"]


@pytest.mark.anyio
async def test_error_event_when_the_fetch_lags_behind() -> None:
    """If the fetched prediction is not failed yet, the stream's word wins, with its error text."""
    script = Script(Body(_event("error", 0, '{"detail": "out of memory"}')))
    script.get_reply = httpx.Response(200, json=script.body("processing"))
    with pytest.raises(PredictionFailed) as caught:
        await _events(script)
    assert caught.value.prediction.status is PredictionStatus.FAILED
    assert caught.value.prediction.error == "out of memory"


@pytest.mark.anyio
async def test_error_event_when_the_fetch_fails() -> None:
    """If the prediction cannot be fetched, the error event's raw text is used."""
    script = Script(Body(_event("error", 0, "not json")))
    script.get_reply = httpx.Response(404, json={"detail": "gone", "status": 404})
    with pytest.raises(PredictionFailed) as caught:
        await _events(script)
    assert caught.value.prediction.error == "not json"


@pytest.mark.anyio
async def test_done_with_reason_error_raises_failed() -> None:
    """A `done` whose reason is error, without an error event, raises PredictionFailed."""
    with pytest.raises(PredictionFailed):
        await _events(Script(Body(_event("done", 0, '{"reason": "error"}'))))


@pytest.mark.anyio
async def test_done_with_reason_canceled_raises_canceled() -> None:
    """A `done` whose reason is canceled raises PredictionCanceled."""
    script = Script(Body(_event("done", 0, '{"reason": "canceled"}')))
    script.get_reply = httpx.Response(200, json=script.body("canceled"))
    with pytest.raises(PredictionCanceled):
        await _events(script)


@pytest.mark.parametrize("data", ["", "not json", "[]", '{"reason": 3}'])
@pytest.mark.anyio
async def test_unreadable_done_is_success(data: str) -> None:
    """A `done` whose data is not a JSON object with a string reason ends the stream normally."""
    events = await _events(Script(Body(b"event: done\nid: 1:0\ndata: " + data.encode() + b"\n\n")))
    assert [e.event for e in events] == ["done"]


@pytest.mark.anyio
async def test_model_without_stream_url() -> None:
    """A prediction without urls.stream raises StreamingNotSupportedError naming the model."""
    from replicate_async import StreamingNotSupportedError

    with pytest.raises(StreamingNotSupportedError, match="acme/painter does not stream"):
        await _events(Script(stream_url=None))


@pytest.mark.anyio
async def test_stream_url_on_foreign_plain_http_is_refused() -> None:
    """A plain-http stream URL on a foreign host is refused before any request to it."""
    script = Script(stream_url="http://stream.example.com/v1/predictions/p1")
    with pytest.raises(UnsupportedURLError, match="https"):
        await _events(script)
    assert script.stream_requests() == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://stream.replicate.com/v1/predictions/p1", True),
        ("http://127.0.0.1:8000/stream/v1/predictions/p1", True),
        ("http://localhost/stream", True),
        ("http://[::1]:9/stream", True),
        ("http://api.replicate.test/stream/x", False),
        ("http://emulator:8000/stream/x", True),
        ("http://other:8000/stream/x", False),
        ("ftp://stream.replicate.com/x", False),
        ("https:///no-host", False),
        ("http://[::1/broken", False),
    ],
)
def test_stream_url_allowed(url: str, allowed: bool) -> None:
    """https anywhere; plain http only on loopback or the API's own origin."""
    assert _stream_url_allowed(url, "http://emulator:8000") is allowed


@pytest.mark.anyio
async def test_timeout_without_cancel_leaves_the_prediction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream that outlives its timeout raises PredictionTimeout without cancelling by default."""
    from replicate_async import PredictionTimeout

    never = anyio.Event()

    class Stalled(Body):
        async def __aiter__(self):
            yield b": hi\n\n"
            await never.wait()

    script = Script(Stalled())
    script.get_reply = httpx.Response(200, json=script.body("processing"))
    with pytest.raises(PredictionTimeout):
        await _events(script, timeout=0.05)
    assert script.paths("POST") == ["/v1/models/acme/llm/predictions"]


@pytest.mark.anyio
async def test_timeout_when_the_fetch_fails() -> None:
    """On timeout, a failed fetch of the prediction still raises PredictionTimeout with the last one."""
    from replicate_async import PredictionTimeout

    never = anyio.Event()

    class Stalled(Body):
        async def __aiter__(self):
            yield b": hi\n\n"
            await never.wait()

    script = Script(Stalled())
    script.get_reply = httpx.Response(404, json={"detail": "gone", "status": 404})
    with pytest.raises(PredictionTimeout) as caught:
        await _events(script, timeout=0.05)
    assert caught.value.prediction.id == "p1"


# -- the object ------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_bad_timeout_is_refused(timeout: float) -> None:
    """A timeout that is not a finite positive number raises ValueError."""
    with pytest.raises(ValueError, match="timeout"):
        PredictionStream(AsyncClient(TOKEN, API), prediction=_pred(), timeout=timeout)


def test_needs_a_prediction_or_a_start() -> None:
    """A stream without a prediction or a way to get one is a TypeError."""
    with pytest.raises(TypeError):
        PredictionStream(AsyncClient(TOKEN, API))


@pytest.mark.anyio
async def test_repr_prediction_and_last_event_id() -> None:
    """repr names the prediction; prediction and last_event_id are readable."""
    async with _client(Script(Body(PROMPT_EVENTS))) as client:
        stream = client.predictions.stream(_pred(), last_event_id="1:5")
        assert repr(stream) == "<PredictionStream prediction='p1' open>"
        assert (stream.prediction.id, stream.last_event_id) == ("p1", "1:5")


@pytest.mark.anyio
async def test_aclose_twice_is_fine_and_cancels_once() -> None:
    """Closing an unfinished stream of client.stream twice sends one remote cancel."""
    script = Script(Body(PROMPT_EVENTS))
    async with _client(script) as client:
        stream = client.stream("acme/llm", input={})
        await anext(stream)
        await stream.aclose()
        await stream.aclose()
    assert script.paths("POST").count("/v1/predictions/p1/cancel") == 1


@pytest.mark.anyio
async def test_closing_a_stream_never_started_sends_nothing() -> None:
    """Closing a stream before its first iteration creates and cancels nothing."""
    script = Script()
    async with _client(script) as client:
        await client.stream("acme/llm", input={}).aclose()
    assert script.requests == []


@pytest.mark.anyio
async def test_text_closes_the_stream() -> None:
    """Closing the iterator of text() closes (and cancels) the stream underneath."""
    script = Script(Body(PROMPT_EVENTS))
    async with _client(script) as client:
        texts = client.stream("acme/llm", input={}).text()
        assert await anext(texts) == "Hello"
        await texts.aclose()
    assert "/v1/predictions/p1/cancel" in script.paths("POST")


@pytest.mark.anyio
async def test_error_event_json_without_detail_is_used_verbatim() -> None:
    """An error event whose JSON has no string `detail` gives its raw text as the error."""
    script = Script(Body(_event("error", 0, '["odd"]')))
    script.get_reply = httpx.Response(200, json=script.body("processing"))
    with pytest.raises(PredictionFailed) as caught:
        await _events(script)
    assert caught.value.prediction.error == '["odd"]'


@pytest.mark.anyio
async def test_a_failing_close_is_ignored() -> None:
    """An error while closing a finished stream's connection does not reach the caller."""

    never = anyio.Event()

    class BadClose(Body):
        async def __aiter__(self):
            yield PROMPT_EVENTS
            await never.wait()  # a real server keeps the connection open after done

        async def aclose(self) -> None:
            raise httpx.ReadError("already gone")

    events = await _events(Script(BadClose()))
    assert events[-1].event == "done"
