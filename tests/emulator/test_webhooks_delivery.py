"""Webhook deliveries: Standard Webhooks signatures, filter, throttling, retries, chaos."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import anyio.lowlevel
import httpx
import pytest

from replicate_async import webhooks
from replicate_async.emulator import (
    EmulatorConfig,
    FakeModel,
    RateLimits,
    create_app,
    default_catalogue,
)
from replicate_async.emulator._webhooks import RETRY_DELAYS, Delivery, webhook_sender

TERMINAL = ("succeeded", "failed", "canceled", "aborted")
WORDS = " ".join(f"w{i}" for i in range(20))


# -- a webhook receiver on loopback (a plain threaded HTTP server) ---------------------------


class Receiver:
    """Records every POST; answers with `status(body)` (200 unless told)."""

    def __init__(self, status=None) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.condition = threading.Condition()
        self.status = status or (lambda body: 200)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.condition:
                    receiver.deliveries.append((headers, body))
                    code = receiver.status(json.loads(body))
                    receiver.condition.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The URL to give as `webhook`."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?ref=42"

    def wait_for(self, predicate, timeout=10.0):
        """Wait until `predicate(deliveries)` holds (AssertionError at the deadline)."""
        with self.condition:
            assert self.condition.wait_for(lambda: predicate(self.deliveries), timeout), (
                self.deliveries
            )
            return list(self.deliveries)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """A webhook receiver answering 200."""
    r = Receiver()
    yield r
    r.close()


def statuses(deliveries):
    """The prediction status in each delivery's body."""
    return [json.loads(body)["status"] for _, body in deliveries]


def terminal_count(n):
    """A predicate: at least `n` deliveries of a terminal prediction."""
    return lambda deliveries: sum(s in TERMINAL for s in statuses(deliveries)) >= n


def create_sync(http, model, prompt, webhook, events=None):
    """Create a prediction with a webhook over loopback; return its id."""
    body = {"input": {"prompt": prompt}, "webhook": webhook}
    if events is not None:
        body["webhook_events_filter"] = events
    response = http.post(f"/v1/models/{model}/predictions", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def secret_of(http):
    """The account's webhook secret."""
    return http.get("/v1/webhooks/default/secret").json()["key"]


def wait_stats(server, predicate, timeout=10.0):
    """Wait until `predicate(stats()["webhooks"])` holds; return those stats."""
    deadline = time.monotonic() + timeout
    while True:
        stats = server.stats()["webhooks"]
        if predicate(stats):
            return stats
        assert time.monotonic() < deadline, stats


def settled(stats):
    """Every attempt made so far has its outcome."""
    return stats["succeeded"] + stats["failed"] == stats["attempted"]


def log_of(server):
    """The sender's delivery log."""
    return server.call(lambda: list(webhook_sender(server.state).log))


# -- over loopback -------------------------------------------------------------------------


def test_secret_endpoint_answers_stable_whsec_key(http, replicate_emulator):
    """`GET /v1/webhooks/default/secret` answers `{"key": "whsec_…"}`, the same every time."""
    first = http.get("/v1/webhooks/default/secret")
    replicate_emulator.reset()
    assert first.status_code == 200
    assert first.json()["key"].startswith("whsec_")
    assert secret_of(http) == first.json()["key"]


def test_secret_endpoint_needs_a_token(replicate_emulator):
    """The secret is not served without a token."""
    assert httpx.get(f"{replicate_emulator.base_url}/v1/webhooks/default/secret").status_code == 401


def test_every_delivery_verifies_with_the_secret(http, replicate_emulator, receiver):
    """Every delivery carries Standard Webhooks headers that `webhooks.verify` accepts."""
    pid = create_sync(http, "emulator/tokens", WORDS, receiver.url)
    deliveries = receiver.wait_for(terminal_count(1))
    secret = secret_of(http)
    for headers, body in deliveries:
        webhooks.verify(headers, body, secret)
        assert headers["webhook-signature"].startswith("v1,")
        assert json.loads(body)["id"] == pid


def test_deliveries_are_the_get_shaped_prediction(http, replicate_emulator, receiver):
    """The completed delivery's body is the prediction exactly as GET shows it."""
    pid = create_sync(http, "emulator/echo", "hello", receiver.url)
    deliveries = receiver.wait_for(terminal_count(1))
    final = next(json.loads(b) for _, b in deliveries if json.loads(b)["status"] == "succeeded")
    assert final == http.get(f"/v1/predictions/{pid}").json()
    assert final["webhook"] == receiver.url
    assert final["webhook_events_filter"] == ["start", "output", "logs", "completed"]


def test_filter_completed_only(http, replicate_emulator, receiver):
    """With `webhook_events_filter: ["completed"]` exactly one delivery is made."""
    create_sync(http, "emulator/tokens", WORDS, receiver.url, ["completed"])
    deliveries = receiver.wait_for(terminal_count(1))
    assert statuses(deliveries) == ["succeeded"]
    assert replicate_emulator.stats()["webhooks"]["attempted"] == 1


def test_terminal_webhook_retried_with_same_id(http, replicate_emulator):
    """A completed webhook answered 500 is retried until 2xx, with the same webhook-id, each signed."""
    failures = []

    def status(body):
        if body["status"] in TERMINAL and len(failures) < 2:
            failures.append(body)
            return 500
        return 200

    receiver = Receiver(status)
    try:
        create_sync(http, "emulator/echo", "x", receiver.url, ["completed"])
        deliveries = receiver.wait_for(terminal_count(3))
    finally:
        receiver.close()
    secret = secret_of(http)
    for headers, body in deliveries:
        webhooks.verify(headers, body, secret)
    stats = wait_stats(replicate_emulator, settled)
    assert len({headers["webhook-id"] for headers, _ in deliveries}) == 1
    assert (stats["attempted"], stats["succeeded"], stats["failed"], stats["retries"]) == (
        3,
        1,
        2,
        2,
    )


def test_only_terminal_webhook_is_retried(http, replicate_emulator):
    """With a receiver that always fails, `start` is tried once and `completed` 1 + 5 times."""
    receiver = Receiver(lambda body: 503)
    try:
        create_sync(http, "emulator/echo", "x", receiver.url, ["start", "completed"])
        deliveries = receiver.wait_for(terminal_count(len(RETRY_DELAYS) + 1))
    finally:
        receiver.close()
    stats = replicate_emulator.stats()["webhooks"]
    assert statuses(deliveries).count("processing") == 1
    assert (stats["retries"], stats["succeeded"]) == (len(RETRY_DELAYS), 0)


def test_redirect_is_not_followed(http, replicate_emulator, receiver):
    """A 3xx answer is a failed delivery: the redirect is not followed."""
    redirecting = Receiver(lambda body: 307)
    try:
        create_sync(http, "emulator/echo", "x", redirecting.url, ["start"])
        redirecting.wait_for(lambda d: len(d) == 1)
        wait_stats(replicate_emulator, lambda s: s["failed"] == 1)
    finally:
        redirecting.close()
    assert receiver.deliveries == []
    assert log_of(replicate_emulator)[0]["status"] == 307


def test_chaos_switch_duplicates_intermediate_webhooks(http, replicate_emulator, receiver):
    """With `duplicate_intermediate`, each intermediate delivery arrives twice with one webhook-id."""
    answer = httpx.post(
        f"{replicate_emulator.base_url}/_emulator/webhooks/settings",
        json={"duplicate_intermediate": True},
    )
    create_sync(http, "emulator/echo", "x", receiver.url, ["logs", "completed"])
    deliveries = receiver.wait_for(lambda d: len(d) == 3)
    logs = [(h["webhook-id"], b) for h, b in deliveries if json.loads(b)["status"] == "processing"]
    assert answer.json() == {"duplicate_intermediate": True}
    assert len(logs) == 2
    assert logs[0] == logs[1]


# -- in-process, with the lifespan running the sender ---------------------------------------

CHATTY = FakeModel(owner="t", name="chatty", kind="tokens", official=True, latency=2.0)
FOREVER = FakeModel(owner="t", name="forever", kind="tokens", official=True, latency=1000.0)


@pytest.fixture
def config() -> EmulatorConfig:
    """Durations scaled by 0.05: the throttle interval is 25 ms, `t/chatty` runs 100 ms."""
    return EmulatorConfig(
        models=(*default_catalogue(), CHATTY, FOREVER),
        rate_limits=RateLimits.unlimited(),
        time_scale=0.05,
    )


class AsgiReceiver:
    """An in-process webhook receiver (plain ASGI) that records deliveries."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.changed: anyio.Event | None = None

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.deliveries.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        if self.changed is not None:
            self.changed.set()

    async def wait_for(self, predicate, timeout=10.0):
        """Wait until `predicate(deliveries)` holds."""
        with anyio.fail_after(timeout):
            while not predicate(self.deliveries):
                self.changed = anyio.Event()
                await self.changed.wait()
        return list(self.deliveries)


@pytest.fixture
def asgi_receiver(state):
    """An in-process receiver the sender's client posts to."""
    receiver = AsgiReceiver()
    webhook_sender(state).transport = httpx.ASGITransport(receiver)
    return receiver


async def create(client, model, prompt, events=None, webhook="http://receiver/hook"):
    """Create a prediction with a webhook in-process; return its id."""
    body = {"input": {"prompt": prompt}, "webhook": webhook}
    if events is not None:
        body["webhook_events_filter"] = events
    response = await client.post(f"/v1/models/{model}/predictions", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.anyio
async def test_output_webhooks_are_throttled(app, client, asgi_receiver):
    """Token outputs every ~5 ms give far fewer output webhooks (throttled, coalesced)."""
    async with app.router.lifespan_context(app):
        await create(client, "t/chatty", WORDS, ["output", "completed"])
        deliveries = await asgi_receiver.wait_for(terminal_count(1))
    outputs = [
        json.loads(b)["output"] for _, b in deliveries if json.loads(b)["status"] == "processing"
    ]
    chunks = len(json.loads(deliveries[-1][1])["output"])
    assert 1 <= len(outputs) < chunks // 2  # ~22 chunks in 100 ms; about 1 + 100 / 25 deliveries


@pytest.mark.anyio
async def test_default_filter_sends_all_four_events(app, client, asgi_receiver, state):
    """Without a filter, start, output, logs and completed are all delivered."""
    sender = webhook_sender(state)
    async with app.router.lifespan_context(app):
        await create(client, "t/chatty", WORDS)
        await asgi_receiver.wait_for(terminal_count(1))
        with anyio.fail_after(5):
            while not settled(sender.stats()):
                await anyio.lowlevel.checkpoint()
    assert {entry["event"] for entry in sender.log} == {"start", "output", "logs", "completed"}


@pytest.mark.anyio
async def test_sender_runs_on_the_test_loop(app, client, asgi_receiver, state):
    """The lifespan's sender delivers (asyncio and trio alike), and stops with the lifespan."""
    async with app.router.lifespan_context(app):
        await create(client, "emulator/echo", "x", ["completed"])
        await asgi_receiver.wait_for(terminal_count(1))
    assert webhook_sender(state).stats()["succeeded"] == 1


@pytest.mark.anyio
async def test_stale_deliveries_are_not_sent_after_reset(app, client, asgi_receiver, state):
    """Deliveries queued before a reset are discarded."""
    sender = webhook_sender(state)
    async with app.router.lifespan_context(app):
        stale = Delivery(
            prediction_id="p",
            url="http://receiver/old",
            event="start",
            body=b"{}",
            webhook_id="m",
            generation=0,
        )
        assert sender.start()
        sender._enqueue(stale)
        await create(client, "emulator/echo", "x", ["completed"])
        deliveries = await asgi_receiver.wait_for(terminal_count(1))
    assert len(deliveries) == 1


@pytest.mark.anyio
async def test_no_lifespan_means_no_delivery(client, state):
    """In-process without a lifespan, webhook events are counted as skipped."""
    await create(client, "emulator/echo", "x")
    stats = state.stats_snapshot()["webhooks"]
    assert (stats["attempted"], stats["skipped"] > 0) == (0, True)


# -- units: the listener and attempts, without the lifespan ------------------------------------


@pytest.fixture
def queue(state):
    """Give the sender a queue of its own (as `run()` would) and return its receiving end."""
    send, receive = anyio.create_memory_object_stream(100)
    webhook_sender(state)._send = send
    yield receive
    send.close()
    receive.close()


def drain(receive):
    """Everything queued so far."""
    items = []
    while True:
        try:
            items.append(receive.receive_nowait())
        except anyio.WouldBlock:
            return items


def test_listener_throttles_and_coalesces(state, queue):
    """One intermediate goes at once; the rest wait for one deferred delivery; completed cancels it."""
    sender = webhook_sender(state)
    state.time_scale = 1.0
    record = state.create(FOREVER, {"prompt": WORDS}, version="hidden", webhook="http://r")
    state.travel(500)
    state.advance(record)
    first = [d.event for d in drain(queue)]
    deferred = list(sender._timers)
    state.cancel(record)
    after_cancel = [d.event for d in drain(queue)]
    deferred[0][2]()  # the deferred delivery falls due: the prediction is done, nothing is sent
    assert (first[0], set(first[1:]) <= {"output", "logs"}, len(first), len(deferred)) == (
        "start",
        True,
        3,
        1,
    )
    assert after_cancel == ["completed"]
    assert drain(queue) == []


def test_deferred_delivery_carries_latest_state(state, queue):
    """A deferred intermediate delivery renders the prediction as it is when it falls due."""
    sender = webhook_sender(state)
    state.time_scale = 1.0
    record = state.create(FOREVER, {"prompt": WORDS}, version="hidden", webhook="http://r")
    state.travel(500)
    state.advance(record)
    drain(queue)
    state.travel(100)
    state.advance(record)
    drain(queue)
    sender._timers[0][2]()
    (late,) = drain(queue)
    assert json.loads(late.body)["output"] == record.output


def test_events_outside_the_filter_are_not_queued(state, queue):
    """A prediction filtering on `completed` queues nothing while it runs."""
    state.time_scale = 1.0
    record = state.create(
        FOREVER,
        {"prompt": WORDS},
        version="hidden",
        webhook="http://r",
        webhook_events_filter=["completed"],
    )
    state.travel(500)
    state.advance(record)
    assert drain(queue) == []


def test_full_or_closed_queue_drops(state, queue):
    """A delivery that cannot be queued is counted as dropped."""
    queue.close()
    state.create(
        state.models["emulator/echo"], {"prompt": "x"}, version="hidden", webhook="http://r"
    )
    assert webhook_sender(state).dropped == 3  # start, logs, completed (output waits, throttled)


@pytest.mark.anyio
async def test_transport_error_fails_and_schedules_retry(state):
    """A delivery that cannot be made fails (status None) and a completed one is scheduled again."""
    sender = webhook_sender(state)

    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    delivery = Delivery(
        prediction_id="p",
        url="http://r/",
        event="completed",
        body=b"{}",
        webhook_id="m",
        generation=sender.generation,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        ok = await sender.attempt(client, delivery)
    assert (ok, sender.log[-1]["status"], len(sender._timers), sender.retries) == (
        False,
        None,
        1,
        1,
    )


@pytest.mark.anyio
async def test_retries_stop_after_the_schedule(state):
    """After the last retry a failed completed delivery is not scheduled again."""
    sender = webhook_sender(state)
    delivery = Delivery(
        prediction_id="p",
        url="http://r/",
        event="completed",
        body=b"{}",
        webhook_id="m",
        generation=sender.generation,
        attempts=len(RETRY_DELAYS),
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(500))
    ) as client:
        await sender.attempt(client, delivery)
    assert (sender.retries, sender._timers) == (0, [])


@pytest.mark.anyio
async def test_settings_route_validates(client, app):
    """The chaos switch route refuses bodies that are not `{"duplicate_intermediate": bool}`."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://emu") as anon:
        bad = [
            (await anon.post("/_emulator/webhooks/settings", content=body)).status_code
            for body in (b"[", b"[]", b'{"x": true}', b'{"duplicate_intermediate": 1}')
        ]
        current = (await anon.post("/_emulator/webhooks/settings")).json()
    assert bad == [422] * 4
    assert current == {"duplicate_intermediate": False}


def test_seeded_secret_is_reproducible():
    """With a seed, the secret is the same for every emulator built from that config."""
    secrets = [
        webhook_sender(create_app(EmulatorConfig(seed=7)).state.emulator).secret for _ in range(2)
    ]
    assert secrets[0] == secrets[1]
    assert secrets[0].startswith("whsec_")


def test_sender_is_made_lazily(state):
    """`webhook_sender` makes a sender for a state that has none."""
    del state.extensions["webhooks"]
    assert webhook_sender(state).attempted == 0


def test_enqueue_without_running_sender_is_skipped(state):
    """A delivery handed over while the sender is not running is counted as skipped."""
    sender = webhook_sender(state)
    sender._enqueue(
        Delivery(
            prediction_id="p",
            url="http://r/",
            event="start",
            body=b"{}",
            webhook_id="m",
            generation=1,
        )
    )
    assert sender.skipped == 1


@pytest.mark.anyio
async def test_outcome_after_reset_is_not_counted(state):
    """An attempt that ends after a reset leaves the fresh counters alone."""
    sender = webhook_sender(state)
    delivery = Delivery(
        prediction_id="p",
        url="http://r/",
        event="completed",
        body=b"{}",
        webhook_id="m",
        generation=sender.generation,
    )

    def reset_then_fail(request):
        state.reset()
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(reset_then_fail)) as client:
        await sender.attempt(client, delivery)
    assert (sender.failed, sender.retries, list(sender.log)) == (0, 0, [])
