"""Server-sent events on `urls.stream`: ids, resume, drops, errors, the idle comment."""

from __future__ import annotations

import json

import httpx
import pytest

from replicate_async._sansio.sse import Comment, ServerSentEvent, SSEDecoder, decode_stream
from replicate_async.emulator import (
    EmulatorConfig,
    FakeModel,
    FaultRule,
    RateLimits,
    create_app,
    default_catalogue,
)
from replicate_async.emulator._fake_models import FileItem
from replicate_async.emulator._records import Event
from replicate_async.emulator._streams import (
    event_data,
    resume_index,
    stream_stats,
    take_stream_drop,
)

TIMEOUT = Comment("408: 408 Request Timeout")
HI = Comment(" hi")
PROMPT = "one two three four five six seven eight"

STREAM_MODELS = (
    FakeModel(owner="t", name="waiting", kind="tokens", official=True, queue=1000.0),
    FakeModel(owner="t", name="long", kind="tokens", official=True, latency=100.0),
)


@pytest.fixture
def config() -> EmulatorConfig:
    """Durations scaled by 0.001: the idle timeout is 30 ms, models finish in under a second."""
    return EmulatorConfig(
        models=(*default_catalogue(), *STREAM_MODELS),
        rate_limits=RateLimits.unlimited(),
        time_scale=0.001,
    )


# -- helpers -------------------------------------------------------------------------------


def create_sync(http, model, payload, *, wait=True):
    """Create a prediction over loopback (with `Prefer: wait` unless told) and return its body."""
    headers = {"Prefer": "wait"} if wait else {}
    response = http.post(
        f"/v1/models/{model}/predictions", json={"input": payload}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def stream_url(base, pid):
    """The stream URL of a prediction."""
    return f"{base}/stream/v1/predictions/{pid}"


def read_until_done(url, last_event_id=None):
    """Read a stream over loopback (no auth) until `done` or the connection ends: (items, error)."""
    decoder = SSEDecoder(comments=True)
    items = []
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    try:
        with httpx.stream("GET", url, headers=headers, timeout=10) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                for item in decoder.feed(chunk):
                    items.append(item)
                    if isinstance(item, ServerSentEvent) and item.event == "done":
                        return items, None
    except httpx.TransportError as exc:
        return items, exc
    return items, None


def events(items):
    """Only the events of a list of stream items."""
    return [i for i in items if isinstance(i, ServerSentEvent)]


async def create(client, model, payload=None):
    """Create a prediction in-process and return its body."""
    response = await client.post(
        f"/v1/models/{model}/predictions", json={"input": payload or {"prompt": PROMPT}}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def read_all(client, pid, **headers):
    """Read a whole stream in-process (it ends with the idle comment) and decode it."""
    response = await client.get(f"/stream/v1/predictions/{pid}", headers=headers)
    assert response.status_code == 200
    return decode_stream(response.content, comments=True)


async def finished(client, model="emulator/tokens", payload=None):
    """Run a prediction to its end in-process and return its body."""
    response = await client.post(
        f"/v1/models/{model}/predictions",
        json={"input": payload or {"prompt": PROMPT}},
        headers={"Prefer": "wait"},
    )
    pid = response.json()["id"]
    body = (await client.get(f"/v1/predictions/{pid}")).json()
    while body["status"] not in (
        "succeeded",
        "failed",
        "canceled",
    ):  # a wait ends before completion
        body = (await client.get(f"/v1/predictions/{pid}")).json()
    return body


# -- over loopback -------------------------------------------------------------------------


def test_token_stream_has_every_token_in_order(http, replicate_emulator):
    """A live token stream carries every chunk of the final output, in order."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT}, wait=False)
    items, error = read_until_done(body["urls"]["stream"])
    final = http.get(f"/v1/predictions/{body['id']}").json()
    outputs = [e.data for e in events(items) if e.event == "output"]
    assert error is None
    assert outputs == final["output"]


def test_every_event_has_an_indexed_id(http, replicate_emulator):
    """Every event has an id `<unix>:<n>`, n counting from 0 without gaps."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT})
    items, _ = read_until_done(body["urls"]["stream"])
    ids = [e.id for e in events(items)]
    assert [i.split(":")[1] for i in ids] == [str(n) for n in range(len(ids))]
    assert all(i.split(":")[0].isdigit() for i in ids)


def test_stream_opens_with_hi_comment_and_event_stream_type(http, replicate_emulator):
    """The stream starts with the `: hi` comment and is served as text/event-stream without auth."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT})
    with httpx.stream("GET", body["urls"]["stream"]) as response:
        first = next(response.iter_bytes())
    assert first.startswith(b": hi\n")
    assert response.headers["content-type"].startswith("text/event-stream")


def test_last_event_id_resumes_after_that_event(http, replicate_emulator):
    """Reconnecting with Last-Event-ID gives exactly the events after it."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT})
    full = events(read_until_done(body["urls"]["stream"])[0])
    rest = events(read_until_done(body["urls"]["stream"], last_event_id=full[2].id)[0])
    assert rest == full[3:]


def test_dropped_stream_resumes_without_loss_or_repetition(http, replicate_emulator):
    """A stream dropped after K events, resumed with its last id, yields each event exactly once."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT})
    url = body["urls"]["stream"]
    full = events(read_until_done(url)[0])
    replicate_emulator.set_faults(FaultRule(action="drop_stream", events=3, count=1))
    first, error = read_until_done(url)
    rest, _ = read_until_done(url, last_event_id=events(first)[-1].id)
    assert isinstance(error, httpx.TransportError)
    assert len(events(first)) == 3
    assert events(first) + events(rest) == full
    assert replicate_emulator.stats()["streams"]["dropped"] == 1


def test_drop_stream_rule_set_through_control_route(http, replicate_emulator):
    """`POST /_emulator/faults` accepts a drop_stream rule, and the next stream drops after 1 event."""
    body = create_sync(http, "emulator/tokens", {"prompt": PROMPT})
    answer = httpx.post(
        f"{replicate_emulator.base_url}/_emulator/faults",
        json={"rules": [{"action": "drop_stream", "events": 1}]},
    )
    items, error = read_until_done(body["urls"]["stream"])
    assert answer.status_code == 200
    assert (len(events(items)), isinstance(error, httpx.TransportError)) == (1, True)


def test_drop_stream_rule_leaves_other_routes_alone(http, replicate_emulator):
    """A drop_stream rule (route "*") does not affect API routes."""
    replicate_emulator.set_faults(FaultRule(action="drop_stream", events=0))
    response = http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    assert response.status_code == 201


def test_error_model_sends_error_then_done(http, replicate_emulator):
    """A failing model's stream ends with `error` ({"detail": …}) then `done` {"reason": "error"}."""
    body = create_sync(http, "emulator/fail", {"prompt": "x"}, wait=False)
    found = events(read_until_done(stream_url(replicate_emulator.base_url, body["id"]))[0])
    final = http.get(f"/v1/predictions/{body['id']}").json()
    assert [e.event for e in found[-2:]] == ["error", "done"]
    assert json.loads(found[-2].data) == {"detail": final["error"]}
    assert json.loads(found[-1].data) == {"reason": "error"}


def test_client_staying_after_done_gets_idle_comment(replicate_emulator, http):
    """A client that keeps reading after `done` gets `:408: 408 Request Timeout`, then the end."""
    body = create_sync(http, "emulator/tokens", {"prompt": "hi"})
    response = httpx.get(body["urls"]["stream"], timeout=10)
    items = decode_stream(response.content, comments=True)
    assert items[-1] == TIMEOUT
    assert [i.event for i in events(items)][-1] == "done"


# -- in-process ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_success_done_payload_is_empty_object(client):
    """A succeeded prediction's stream ends with `done` and data `{}`."""
    body = await finished(client)
    items = await read_all(client, body["id"])
    assert events(items)[-1] == ServerSentEvent("done", "{}", events(items)[-1].id)


@pytest.mark.anyio
async def test_logs_are_sent_as_logs_events(client):
    """Log lines appear as `logs` events, one per line."""
    body = await finished(client)
    items = await read_all(client, body["id"])
    assert [e.data for e in events(items) if e.event == "logs"] == body["logs"].splitlines()


@pytest.mark.anyio
async def test_canceled_prediction_done_reason(client):
    """A canceled prediction's stream ends with `done` {"reason": "canceled"}."""
    pid = (await create(client, "t/long"))["id"]
    await client.post(f"/v1/predictions/{pid}/cancel")
    items = await read_all(client, pid)
    assert json.loads(events(items)[-1].data) == {"reason": "canceled"}


@pytest.mark.anyio
async def test_idle_stream_gets_408_comment(client, state):
    """A stream with nothing to send for 30 s (scaled) gets the 408 comment and ends."""
    pid = (await create(client, "t/waiting"))["id"]
    items = await read_all(client, pid)
    assert items == [HI, TIMEOUT]
    assert stream_stats(state).timeouts == 1


@pytest.mark.anyio
async def test_expired_prediction_gets_408_comment_at_once(client, state):
    """A prediction whose data were removed streams only `: hi` and the 408 comment."""
    body = await finished(client)
    state.travel(state.retention + 1)
    assert await read_all(client, body["id"]) == [HI, TIMEOUT]


@pytest.mark.anyio
async def test_unknown_prediction_is_404(client):
    """Streaming an unknown prediction answers the generic 404."""
    response = await client.get("/stream/v1/predictions/nope")
    assert response.status_code == 404


@pytest.mark.anyio
async def test_file_outputs_stream_as_urls(client):
    """A file model's `output` events are the output file URLs."""
    body = await finished(client, "emulator/image", {"prompt": "x", "num_outputs": 2})
    items = await read_all(client, body["id"])
    assert [e.data for e in events(items) if e.event == "output"] == body["output"]


@pytest.mark.anyio
async def test_text_output_with_newlines_round_trips(client):
    """A multi-line output item arrives intact (split over data lines, joined back)."""
    body = await finished(client, "emulator/echo", {"prompt": "a\nb\n\nc"})
    items = await read_all(client, body["id"])
    assert [e.data for e in events(items) if e.event == "output"] == ["a\nb\n\nc"]


@pytest.mark.anyio
async def test_unusable_last_event_id_replays_everything(client):
    """A Last-Event-ID that is not `<x>:<n>` replays the stream from the start."""
    body = await finished(client)
    full = events(await read_all(client, body["id"]))
    again = events(await read_all(client, body["id"], **{"Last-Event-ID": "garbage"}))
    assert again == full


@pytest.mark.anyio
async def test_stream_counters(client, state):
    """Opened, resumed and event counters add up, and show in the stats."""
    body = await finished(client)
    full = events(await read_all(client, body["id"]))
    await read_all(client, body["id"], **{"Last-Event-ID": full[0].id})
    stats = state.stats_snapshot()["streams"]
    assert (stats["opened"], stats["resumed"], stats["events"]) == (2, 1, 2 * len(full) - 1)


@pytest.mark.anyio
async def test_reset_zeroes_stream_counters(client, state):
    """`reset()` zeroes the stream counters."""
    await read_all(client, (await finished(client))["id"])
    state.reset()
    assert set(stream_stats(state).stats().values()) == {0}


@pytest.mark.anyio
async def test_drop_in_process_raises_in_the_app(client, state):
    """In-process there is no connection to drop: the client sees the app's error."""
    state.set_faults([FaultRule(action="drop_stream", events=1)])
    pid = (await create(client, "t/long"))["id"]
    with pytest.raises(ConnectionAbortedError):
        await client.get(f"/stream/v1/predictions/{pid}")


# -- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "index"),
    [(None, 0), ("", 0), ("1700000000:4", 5), (" 17:0 ", 1), ("x:y", 0), ("12", 13)],
)
def test_resume_index(header, index):
    """The first event to send after a Last-Event-ID."""
    assert resume_index(header) == index


def test_non_text_output_items_are_sent_as_json(state):
    """An output item that is neither text nor a file is sent as compact JSON."""
    record = state.create(state.models["emulator/echo"], {"prompt": "x"}, version="hidden")
    assert event_data(record, Event("output", {"a": [1]}, 0.0), "http://emu") == '{"a":[1]}'


def test_file_item_event_data_is_delivery_url(state):
    """A FileItem output is sent as its delivery URL."""
    record = state.create(state.models["emulator/echo"], {"prompt": "x"}, version="hidden")
    data = event_data(record, Event("output", FileItem("out-0.png", 0), 0.0), "http://emu")
    assert data == f"http://emu/delivery/{record.id}/out-0.png"


def test_spent_and_unlucky_drop_rules_do_not_fire(state):
    """A drop_stream rule past its count, or losing its rate draw, or for another route, is skipped."""
    state.set_faults(
        [
            FaultRule(action="drop_stream", count=0, events=1),
            FaultRule(action="drop_stream", rate=0.0, events=2),
            FaultRule(action="drop_stream", route="GET /v1/predictions/{id}", events=3),
            FaultRule(action="error", events=4),
        ]
    )
    assert take_stream_drop(state) is None


def test_counted_drop_rule_is_spent(state):
    """A drop_stream rule with a count fires that many times."""
    state.set_faults([FaultRule(action="drop_stream", route="stream", count=1, events=2)])
    assert [take_stream_drop(state), take_stream_drop(state)] == [2, None]


def test_app_without_stream_module_state_gets_counters_lazily():
    """`stream_stats` makes the counters for a state that has none yet."""
    state = create_app(EmulatorConfig()).state.emulator
    del state.extensions["streams"]
    assert stream_stats(state).opened == 0
