"""Webhook deliveries, signed per Standard Webhooks, and `GET /v1/webhooks/default/secret`.

A state listener sees each `start` / `output` / `logs` / `completed` event of a prediction
created with a `webhook`, renders the prediction as `GET` shows it, and queues a delivery
(bounded queue; nothing is sent from the request path). The app's lifespan runs the sender
(started by the first delivery, in the lifespan's task group): a few workers sharing one `httpx.AsyncClient` that never follows redirects.

As the real service does: `webhook_events_filter` is honoured (default: all four events);
`output` and `logs` deliveries of one prediction are at least 500 ms (emulated, times the time
scale) apart, later ones coalesced into one carrying the latest state; `start` and `completed`
are never throttled; only `completed` is retried, on a transport error or a non-2xx answer, after
2, 4, 8, 16 and 30 emulated seconds (times the time scale; the last attempt about a minute after
completion); `webhook-id` stays the same across retries, `webhook-timestamp` (real Unix seconds,
so receivers' clocks agree) is fresh on each attempt, and `webhook-signature` is `v1,<base64>`
of HMAC-SHA256 under the account secret. Without a lifespan (in-process `httpx.ASGITransport`)
nothing is delivered; the events are counted as `skipped`.

Chaos switch `duplicate_intermediate`: every `output` / `logs` delivery is sent twice (the same
message, so the same `webhook-id`: receivers can deduplicate).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import httpx

from replicate_async._sansio.signing import SECRET_PREFIX, generate_secret, signed_headers
from replicate_async.emulator._bodies import parse_json
from replicate_async.emulator._http import api_route, json_response, problem
from replicate_async.emulator._render import ALL_EVENTS, render_prediction
from replicate_async.emulator._util import dumps

if TYPE_CHECKING:
    from collections.abc import Callable

    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._records import PredictionRecord
    from replicate_async.emulator._state import EmulatorState

#: Emulated seconds between two intermediate (`output` / `logs`) deliveries of one prediction.
THROTTLE = 0.5
#: Emulated seconds before each retry of a failed `completed` delivery.
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0, 30.0)
#: Deliveries waiting to be sent at most; more are dropped (and counted).
QUEUE_SIZE = 10_000
WORKERS = 16
#: Real seconds one attempt may take.
ATTEMPT_TIMEOUT = 10.0
USER_AGENT = "replicate-async-emulator-webhooks/0.1"
_INTERMEDIATE = frozenset({"output", "logs"})
_LOG_SIZE = 1000


@attrs.define
class Delivery:
    """One webhook message (retries reuse it, and its `webhook_id`)."""

    prediction_id: str
    url: str
    event: str
    body: bytes
    webhook_id: str
    generation: int
    attempts: int = 0


def new_webhook_id() -> str:
    """A Standard Webhooks message id (`msg_…`)."""
    return "msg_" + secrets.token_urlsafe(18)


class WebhookSender:
    """Queues, throttles, signs, sends and retries one state's webhooks (`extensions["webhooks"]`).

    Args:
        state: The emulator state.

    .. versionadded:: 0.1.0
    """

    def __init__(self, state: EmulatorState) -> None:
        """A sender with the account's secret (derived from the seed, if any), not yet running."""
        self.state = state
        seed = state.config.seed
        if seed is None:
            self.secret = generate_secret()
        else:
            key = hashlib.sha256(f"emulator-webhooks:{seed}".encode()).digest()
            self.secret = SECRET_PREFIX + base64.b64encode(key).decode()
        #: The transport of the shared client (None: real HTTP); tests may set it before start.
        self.transport: httpx.AsyncBaseTransport | None = None
        self._send: MemoryObjectSendStream[Delivery] | None = None
        self._wake: anyio.Event | None = None
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = 0
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        """Forget pending work and zero the counters; switches back to their defaults."""
        self.generation += 1
        self._timers.clear()
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()
        self.duplicate_intermediate = False
        self.attempted = 0
        self.succeeded = 0
        self.failed = 0
        self.retries = 0
        self.dropped = 0
        self.skipped = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=_LOG_SIZE)

    def stats(self) -> dict[str, int]:
        """The counters as JSON-able data (`stats()["webhooks"]`)."""
        return {
            "attempted": self.attempted,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "retries": self.retries,
            "dropped": self.dropped,
            "skipped": self.skipped,
        }

    # -- producing (synchronous, inside the state's advance()) ------------------------------

    def listener(self, record: PredictionRecord, event: str) -> None:
        """The state listener: queue (or throttle) the delivery of one event."""
        pid = record.id
        if event == "completed":
            self._pending.discard(pid)
            self._last.pop(pid, None)
        wanted = record.webhook_events_filter or ALL_EVENTS
        if record.webhook is None or event not in wanted:
            return
        if not self.start():
            self.skipped += 1
            return
        if event not in _INTERMEDIATE:
            self._enqueue(self._message(record, event))
            return
        now = self.state.now()
        last = self._last.get(pid)
        interval = THROTTLE * self.state.time_scale
        if last is None or now - last >= interval:
            self._send_intermediate(record, event, now)
        elif pid not in self._pending:
            self._pending.add(pid)
            self._schedule(last + interval, lambda: self._deferred(record, event))

    def _send_intermediate(self, record: PredictionRecord, event: str, now: float) -> None:
        """Queue an `output` / `logs` delivery now (twice under the chaos switch)."""
        self._last[record.id] = now
        message = self._message(record, event)
        self._enqueue(message)
        if self.duplicate_intermediate:
            self._enqueue(attrs.evolve(message))  # the same message (and webhook-id) again

    def _deferred(self, record: PredictionRecord, event: str) -> None:
        """A throttled intermediate delivery falls due: send the latest state, unless completed."""
        if record.id not in self._pending:
            return
        self._pending.discard(record.id)
        self._send_intermediate(record, event, self.state.now())

    def _message(self, record: PredictionRecord, event: str) -> Delivery:
        """A new message with the prediction as it is now."""
        base = self.state.public_base or "http://localhost"
        body = dumps(render_prediction(self.state, record, base, "full"))
        return Delivery(
            prediction_id=record.id,
            url=str(record.webhook),
            event=event,
            body=body,
            webhook_id=new_webhook_id(),
            generation=self.generation,
        )

    def _enqueue(self, delivery: Delivery) -> None:
        """Hand a delivery to the workers (dropped when the queue is full or closed)."""
        if self._send is None:
            self.skipped += 1
            return
        try:
            self._send.send_nowait(delivery)
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.dropped += 1

    def _schedule(self, due: float, action: Callable[[], None]) -> None:
        """Run `action` at emulated time `due` (on the timer task)."""
        self._timer_seq += 1
        heapq.heappush(self._timers, (due, self._timer_seq, action))
        if self._wake is not None:
            self._wake.set()

    # -- consuming (the lifespan's background task) -----------------------------------------

    def start(self) -> bool:
        """Open the queue and start the workers in the app's task group (False without one).

        The listener calls it on the first event to deliver, so there is no race with the
        lifespan's startup; the workers stop with the lifespan.

        .. versionadded:: 0.1.0
        """
        if self._send is not None:
            return True
        if self.state.task_group is None:
            return False
        send, receive = anyio.create_memory_object_stream[Delivery](QUEUE_SIZE)
        self._send = send
        self.state.spawn(lambda: self._run(send, receive))
        return True

    async def _run(
        self, send: MemoryObjectSendStream[Delivery], receive: MemoryObjectReceiveStream[Delivery]
    ) -> None:
        """Send deliveries until cancelled (at the lifespan's end)."""
        client = httpx.AsyncClient(
            transport=self.transport,
            timeout=ATTEMPT_TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        try:
            async with client, send, receive, anyio.create_task_group() as group:
                group.start_soon(self._timer)
                for _ in range(WORKERS):
                    group.start_soon(self._worker, client, receive)
        finally:
            self._send = None
            self._wake = None

    async def _timer(self) -> None:
        """Run scheduled actions (throttled deliveries, retries) as they fall due."""
        while True:
            now = self.state.now()
            while self._timers and self._timers[0][0] <= now:
                _, _, action = heapq.heappop(self._timers)
                action()
            self._wake = anyio.Event()
            timeout = self._timers[0][0] - now if self._timers else None
            with anyio.move_on_after(timeout):
                await self._wake.wait()

    async def _worker(
        self, client: httpx.AsyncClient, receive: MemoryObjectReceiveStream[Delivery]
    ) -> None:
        """Send deliveries one at a time."""
        async for delivery in receive:
            if delivery.generation == self.generation:
                await self.attempt(client, delivery)

    async def attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> bool:
        """One attempt at a delivery; a failed `completed` one is scheduled again.

        Args:
            client: The shared HTTP client.
            delivery: The message.

        .. versionadded:: 0.1.0
        """
        delivery.attempts += 1
        self.attempted += 1
        headers = signed_headers(self.secret, delivery.webhook_id, int(time.time()), delivery.body)
        headers["Content-Type"] = "application/json"
        status: int | None = None
        try:
            response = await client.post(delivery.url, content=delivery.body, headers=headers)
            status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL):
            status = None
        ok = status is not None and 200 <= status < 300  # noqa: PLR2004
        if delivery.generation != self.generation:  # the state was reset meanwhile
            return ok
        self.log.append(
            {
                "prediction_id": delivery.prediction_id,
                "event": delivery.event,
                "webhook_id": delivery.webhook_id,
                "attempt": delivery.attempts,
                "status": status,
            }
        )
        if ok:
            self.succeeded += 1
            return True
        self.failed += 1
        if delivery.event == "completed" and delivery.attempts <= len(RETRY_DELAYS):
            self.retries += 1
            delay = RETRY_DELAYS[delivery.attempts - 1] * self.state.time_scale
            self._schedule(self.state.now() + delay, lambda: self._enqueue(delivery))
        return False


def webhook_sender(state: EmulatorState) -> WebhookSender:
    """The webhook sender of `state` (made on first use).

    Args:
        state: The emulator state.

    .. versionadded:: 0.1.0
    """
    found = state.extensions.get("webhooks")
    if not isinstance(found, WebhookSender):
        found = state.extensions["webhooks"] = WebhookSender(state)
    return found


def setup(state: EmulatorState) -> None:
    """Register the listener that queues deliveries."""
    state.add_listener(webhook_sender(state).listener)


def routes(state: EmulatorState) -> list[BaseRoute]:
    """`GET /v1/webhooks/default/secret` and the control route for the chaos switch."""
    sender = webhook_sender(state)

    async def secret(_: Request) -> Response:
        return json_response({"key": sender.secret})

    async def settings(request: Request) -> Response:
        try:
            data = parse_json(await request.body() or b"{}", state.config.limits.json_depth)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict)
            or set(data) - {"duplicate_intermediate"}
            or not all(isinstance(v, bool) for v in data.values())
        ):
            return problem(
                {"detail": 'expected {"duplicate_intermediate": true|false}', "status": 422}
            )
        if "duplicate_intermediate" in data:
            sender.duplicate_intermediate = data["duplicate_intermediate"]
        return json_response({"duplicate_intermediate": sender.duplicate_intermediate})

    return [
        api_route(state, "/v1/webhooks/default/secret", secret, methods=["GET"]),
        api_route(
            state,
            "/_emulator/webhooks/settings",
            settings,
            methods=["POST"],
            auth=False,
            bucket=None,
        ),
    ]
