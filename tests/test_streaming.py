# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""client.stream / predictions.stream against the emulator over loopback, on asyncio and trio."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import attrs
import httpx
import pytest

from replicate_async import (
    AsyncClient,
    Client,
    PredictionCanceled,
    PredictionFailed,
    PredictionStatus,
    PredictionTimeout,
    StreamEvent,
    StreamingNotSupportedError,
)
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._sync import SyncPredictions, SyncPredictionStream
from replicate_async.emulator import (
    EmulatorConfig,
    FakeModel,
    FaultRule,
    RateLimits,
    default_catalogue,
)
from replicate_async.emulator._server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

PROMPT = "one two three four five six seven eight"
SLOW = FakeModel(owner="t", name="slow-tokens", kind="tokens", official=True, latency=2000.0)
GET_ROUTE = "GET /v1/predictions/{id}"


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorServer]:
    """An emulator with a token model that takes 20 s (scaled), for cancellation tests."""
    config = EmulatorConfig(
        models=(*default_catalogue(), SLOW), rate_limits=RateLimits.unlimited(), time_scale=0.01
    )
    with EmulatorServer(config) as server:
        yield server


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


class SpyTransport(httpx.AsyncBaseTransport):
    """The real transport, recording every request it sends."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _final(client: AsyncClient, pid: str):
    return await client.predictions.wait(pid, timeout=30)


# -- every token, in order -----------------------------------------------------------------


@pytest.mark.anyio
async def test_stream_yields_every_token_in_order(replicate_emulator: EmulatorServer) -> None:
    """The output events of a stream are the final output's chunks, in order."""
    async with _client(replicate_emulator) as client:
        stream = client.stream("emulator/tokens", input={"prompt": PROMPT})
        events = [event async for event in stream]
        final = await _final(client, stream.prediction.id)
    assert [e.data for e in events if e.event == "output"] == final.output


@pytest.mark.anyio
async def test_stream_ends_with_done(replicate_emulator: EmulatorServer) -> None:
    """The last event is `done` with `{}`, and iteration stops after it."""
    async with _client(replicate_emulator) as client:
        events = [e async for e in client.stream("emulator/tokens", input={"prompt": PROMPT})]
    assert (events[-1].event, events[-1].data) == ("done", "{}")
    assert [e.event for e in events[:-1]].count("done") == 0


@pytest.mark.anyio
async def test_stream_events_carry_logs_and_ids(replicate_emulator: EmulatorServer) -> None:
    """Events are StreamEvent objects with ids; log lines come as `logs` events."""
    async with _client(replicate_emulator) as client:
        events = [e async for e in client.stream("emulator/tokens", input={"prompt": PROMPT})]
    assert all(isinstance(e, StreamEvent) and e.id for e in events)
    assert any(e.event == "logs" for e in events)


@pytest.mark.anyio
async def test_text_yields_only_the_output_text(replicate_emulator: EmulatorServer) -> None:
    """`.text()` yields the output chunks only, which join to the reply."""
    async with _client(replicate_emulator) as client:
        stream = client.stream("emulator/tokens", input={"prompt": PROMPT})
        tokens = [token async for token in stream.text()]
        final = await _final(client, stream.prediction.id)
    assert tokens == final.output


@pytest.mark.anyio
async def test_stream_url_gets_no_authorization(replicate_emulator: EmulatorServer) -> None:
    """The stream URL is fetched without the token, as an event stream, uncached."""
    spy = SpyTransport()
    async with _client(replicate_emulator, transport=spy) as client:
        [e async for e in client.stream("emulator/tokens", input={"prompt": PROMPT})]
    (stream_request,) = [r for r in spy.requests if "/stream/" in r.url.path]
    assert "authorization" not in stream_request.headers
    assert stream_request.headers["accept"] == "text/event-stream"
    assert stream_request.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_stream_create_does_not_wait(replicate_emulator: EmulatorServer) -> None:
    """The create behind a stream sends no `Prefer: wait`: the stream is the wait."""
    spy = SpyTransport()
    async with _client(replicate_emulator, transport=spy) as client:
        [e async for e in client.stream("emulator/tokens", input={"prompt": PROMPT})]
    (create,) = [r for r in spy.requests if r.method == "POST"]
    assert "prefer" not in create.headers


# -- dropped connections ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_dropped_stream_resumes_without_loss_or_repetition(
    replicate_emulator: EmulatorServer,
) -> None:
    """The emulator drops the connection after 3 events; the stream resumes with every event once."""
    replicate_emulator.set_faults(FaultRule(action="drop_stream", events=3, count=1))
    async with _client(replicate_emulator) as client:
        stream = client.stream("emulator/tokens", input={"prompt": PROMPT})
        events = [e async for e in stream]
        final = await _final(client, stream.prediction.id)
    counters = replicate_emulator.stats()["streams"]
    assert [e.data for e in events if e.event == "output"] == final.output
    assert [int(e.id.split(":")[1]) for e in events] == list(range(len(events)))
    assert (counters["dropped"], counters["resumed"]) == (1, 1)


@pytest.mark.anyio
async def test_repeated_drops_still_deliver_every_event_once(
    replicate_emulator: EmulatorServer,
) -> None:
    """Three drops in a row, each after 2 events, lose and repeat nothing."""
    replicate_emulator.set_faults(FaultRule(action="drop_stream", events=2, count=3))
    async with _client(replicate_emulator) as client:
        stream = client.stream("emulator/tokens", input={"prompt": PROMPT})
        tokens = [t async for t in stream.text()]
        final = await _final(client, stream.prediction.id)
    assert tokens == final.output
    assert replicate_emulator.stats()["streams"]["dropped"] == 3


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_error_event_raises_prediction_failed(replicate_emulator: EmulatorServer) -> None:
    """A failing prediction's `error` event raises PredictionFailed carrying its error and logs."""
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/fail", {"prompt": "x"}, wait=False)
        url = f"{replicate_emulator.base_url}/stream/v1/predictions/{created.id}"
        streaming = attrs.evolve(created, urls=attrs.evolve(created.urls, stream=url))
        with pytest.raises(PredictionFailed) as caught:
            [e async for e in client.predictions.stream(streaming)]
    assert caught.value.prediction.status is PredictionStatus.FAILED
    assert "emulated model error" in caught.value.prediction.error
    assert caught.value.prediction.logs


@pytest.mark.anyio
async def test_canceled_prediction_raises_prediction_canceled(
    slow_emulator: EmulatorServer,
) -> None:
    """A stream whose `done` says canceled raises PredictionCanceled."""
    async with _client(slow_emulator) as client:
        created = await client.predictions.create("t/slow-tokens", {"prompt": PROMPT}, wait=False)
        await client.predictions.cancel(created.id)
        with pytest.raises(PredictionCanceled) as caught:
            [e async for e in client.predictions.stream(created)]
    assert caught.value.prediction.status is PredictionStatus.CANCELED


@pytest.mark.anyio
async def test_model_without_stream_raises_a_clear_error(
    replicate_emulator: EmulatorServer,
) -> None:
    """Streaming a model that does not stream says so, and carries the prediction."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(StreamingNotSupportedError, match="does not stream") as caught:
            [e async for e in client.stream("emulator/image", input={"prompt": "x"})]
    assert caught.value.prediction.urls.stream is None


# -- predictions.stream ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_predictions_stream_reads_a_created_prediction(
    replicate_emulator: EmulatorServer,
) -> None:
    """predictions.stream(prediction) streams one created earlier."""
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/tokens", {"prompt": PROMPT}, wait=False)
        tokens = [t async for t in client.predictions.stream(created).text()]
        final = await _final(client, created.id)
    assert tokens == final.output


@pytest.mark.anyio
async def test_predictions_stream_by_id(replicate_emulator: EmulatorServer) -> None:
    """predictions.stream(id) fetches the prediction first."""
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/tokens", {"prompt": PROMPT}, wait=False)
        stream = client.predictions.stream(created.id)
        events = [e async for e in stream]
    assert stream.prediction.id == created.id
    assert events[-1].event == "done"


@pytest.mark.anyio
async def test_resume_after_last_event_id(replicate_emulator: EmulatorServer) -> None:
    """last_event_id= resumes after that event: the rest of the stream, nothing before."""
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/tokens", {"prompt": PROMPT})
        full = [e async for e in client.predictions.stream(created)]
        rest = [e async for e in client.predictions.stream(created, last_event_id=full[2].id)]
    assert rest == full[3:]


# -- abandoning a stream ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_the_consumer_cancels_the_prediction(
    slow_emulator: EmulatorServer,
) -> None:
    """Cancelling the task inside `async with client.stream(...)` cancels the remote prediction."""
    async with _client(slow_emulator) as client:
        with anyio.CancelScope() as scope:
            async with client.stream("t/slow-tokens", input={"prompt": PROMPT}) as stream:
                async for _ in stream:
                    scope.cancel()
                    await anyio.lowlevel.checkpoint()  # the cancellation lands here
        final = await client.predictions.get(stream.prediction.id)
    assert final.status is PredictionStatus.CANCELED


@pytest.mark.anyio
async def test_cancelled_while_waiting_for_an_event_cancels_the_prediction(
    slow_emulator: EmulatorServer,
) -> None:
    """A cancellation that arrives while the stream waits for its next event cancels remotely."""
    async with _client(slow_emulator) as client:
        stream = client.stream("t/slow-tokens", input={"prompt": PROMPT})
        await anext(stream)  # the first log line; the next event is seconds away
        with anyio.CancelScope() as scope:
            scope.cancel()
            await anext(stream)
        final = await client.predictions.get(stream.prediction.id)
    assert final.status is PredictionStatus.CANCELED


@pytest.mark.anyio
async def test_leaving_async_with_early_cancels_the_prediction(
    slow_emulator: EmulatorServer,
) -> None:
    """Breaking out of `async with client.stream(...)` before done cancels the prediction."""
    async with _client(slow_emulator) as client:
        async with client.stream("t/slow-tokens", input={"prompt": PROMPT}) as stream:
            async for _ in stream:
                break
        final = await client.predictions.get(stream.prediction.id)
    assert final.status is PredictionStatus.CANCELED


@pytest.mark.anyio
async def test_predictions_stream_can_leave_the_prediction_running(
    slow_emulator: EmulatorServer,
) -> None:
    """With cancel_on_cancellation=False, closing the stream early leaves the prediction running."""
    async with _client(slow_emulator) as client:
        created = await client.predictions.create("t/slow-tokens", {"prompt": PROMPT}, wait=False)
        async with client.predictions.stream(created, cancel_on_cancellation=False) as stream:
            await anext(stream)
        final = await client.predictions.get(created.id)
        await client.predictions.cancel(created.id)
    assert not final.status.is_terminal


@pytest.mark.anyio
async def test_stream_timeout_raises_and_may_cancel(slow_emulator: EmulatorServer) -> None:
    """A stream past its timeout raises PredictionTimeout; cancel_on_timeout cancels it."""
    async with _client(slow_emulator) as client:
        stream = client.stream(
            "t/slow-tokens", input={"prompt": PROMPT}, timeout=0.3, cancel_on_timeout=True
        )
        with pytest.raises(PredictionTimeout) as caught:
            [e async for e in stream]
        final = await client.predictions.get(stream.prediction.id)
    assert caught.value.timeout == pytest.approx(0.3)
    assert final.status is PredictionStatus.CANCELED


# -- the sync Client -------------------------------------------------------------------------


@pytest.fixture
def sync_client(replicate_emulator: EmulatorServer) -> Iterator[Client]:
    with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
        yield client


def test_sync_stream_iterates(sync_client: Client) -> None:
    """The blocking Client's stream is a plain iterator of the same events."""
    stream = sync_client.stream("emulator/tokens", input={"prompt": PROMPT})
    events = list(stream)
    final = sync_client.predictions.wait(stream.prediction.id)
    assert isinstance(stream, SyncPredictionStream)
    assert [e.data for e in events if e.event == "output"] == final.output
    assert stream.last_event_id == events[-1].id


def test_sync_stream_text(sync_client: Client) -> None:
    """The blocking stream's text() yields the output chunks."""
    stream = sync_client.stream("emulator/tokens", input={"prompt": PROMPT})
    tokens = list(stream.text())
    assert tokens == sync_client.predictions.get(stream.prediction.id).output


def test_sync_predictions_stream(sync_client: Client) -> None:
    """The blocking predictions.stream() reads a created prediction."""
    created = sync_client.predictions.create("emulator/tokens", {"prompt": PROMPT})
    with sync_client.predictions.stream(created) as stream:
        events = list(stream)
    assert events[-1].event == "done"
    assert repr(stream).startswith("Sync<PredictionStream")


def test_sync_stream_closed_early_cancels(slow_emulator: EmulatorServer) -> None:
    """Leaving `with client.stream(...)` after one event cancels the prediction remotely."""
    with Client(slow_emulator.token, slow_emulator.base_url) as client:
        with client.stream("t/slow-tokens", input={"prompt": PROMPT}) as stream:
            next(stream)
        final = client.predictions.get(stream.prediction.id)
    assert final.status is PredictionStatus.CANCELED


def test_sync_stream_close_after_client_close_is_harmless(replicate_emulator) -> None:
    """Closing a stream whose client is closed does nothing."""
    client = Client(replicate_emulator.token, replicate_emulator.base_url)
    stream = client.stream("emulator/tokens", input={"prompt": PROMPT})
    client.close()
    stream.close()
    assert stream.prediction is None


def _params(func: Any) -> list[tuple[Any, ...]]:
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(func).parameters.values()
    ]


def test_sync_stream_matches_async() -> None:
    """Client.stream has AsyncClient.stream's parameters and docstring."""
    assert _params(Client.stream) == _params(AsyncClient.stream)
    assert Client.stream.__doc__ == AsyncClient.stream.__doc__


def test_sync_predictions_stream_matches_async() -> None:
    """SyncPredictions.stream has AsyncPredictions.stream's parameters and docstring."""
    assert _params(SyncPredictions.stream) == _params(AsyncPredictions.stream)
    assert SyncPredictions.stream.__doc__ == AsyncPredictions.stream.__doc__
