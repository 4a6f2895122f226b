# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Polls scheduled around the finish learned from a model's earlier predictions.

The server is a transport that answers on anyio's clock, and the tests run on trio with a
``MockClock`` that jumps to the next timer as soon as every task is waiting: the polls' real
delays (the default policy, not the conftest's zero one) pass in no wall time, and each
request's time is read exactly from ``anyio.current_time()``. Nothing sleeps to synchronise.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
import trio.testing

from _client_support import API, TOKEN, prediction
from replicate_async import AsyncClient, PollPolicy
from replicate_async._converters import structure
from replicate_async._models import Prediction
from replicate_async._running import _since_created
from replicate_async._sansio.polling import poll_delays

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "acme/painter"


@pytest.fixture
def anyio_backend() -> Any:
    """Trio with a clock that jumps to the next deadline whenever all tasks wait."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


def _stamp(seconds: float) -> str:
    return (EPOCH + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class TimedServer(httpx.AsyncBaseTransport):
    """Predictions that take ``run_time`` seconds after ``queue`` seconds, on anyio's clock.

    A create with ``Prefer: wait=N`` is held until the prediction finishes or N seconds pass.
    Every request is recorded as ``(method, prediction id, anyio.current_time())``.
    """

    def __init__(self, run_time: float, queue: float = 0.0) -> None:
        self.run_time = run_time
        self.queue = queue
        self.created: dict[str, tuple[float, float]] = {}  # id -> (created, run time)
        self.requests: list[tuple[str, str, float]] = []
        self._ids = itertools.count(1)

    def _body(self, pid: str, now: float) -> dict[str, Any]:
        created, run_time = self.created[pid]
        fields: dict[str, Any] = {"version": "hidden", "created_at": _stamp(created)}
        if now >= created + self.queue:
            fields["started_at"] = _stamp(created + self.queue)
            fields["status"] = "processing"
        if now >= created + self.queue + run_time:
            fields.update(
                status="succeeded",
                output="done",
                completed_at=_stamp(created + self.queue + run_time),
                metrics={"predict_time": run_time},
            )
        return prediction(pid, **fields)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = anyio.current_time()
        if request.method == "POST":
            pid = f"p{next(self._ids)}"
            self.created[pid] = (now, self.run_time)
            self.requests.append(("POST", pid, now))
            match = re.fullmatch(r"wait=(\d+)", request.headers.get("Prefer", ""))
            if match:
                finish = now + self.queue + self.run_time
                await anyio.sleep(max(0.0, min(finish, now + int(match[1])) - now))
            return httpx.Response(201, json=self._body(pid, anyio.current_time()))
        pid = request.url.path.rsplit("/", 1)[-1]
        self.requests.append(("GET", pid, now))
        return httpx.Response(200, json=self._body(pid, now))

    def gets(self, pid: str) -> list[float]:
        """The times of the GETs of *pid*, from its create."""
        created = self.created[pid][0]
        return [t - created for method, p, t in self.requests if method == "GET" and p == pid]


def _client(server: TimedServer, policy: PollPolicy | None = None) -> AsyncClient:
    return AsyncClient(api_token=TOKEN, base_url=API, transport=server, poll=policy or PollPolicy())


def _backoff_gets(policy: PollPolicy, held: float, finish: float) -> list[float]:
    """The GET times (from the create) of today's backoff for a create held *held* seconds."""
    delays = poll_delays(policy)
    spent = 0.0
    while spent < held:
        delay = next(delays)
        if delay >= policy.maximum * (1 - policy.jitter):
            break
        spent += delay
    times, at = [], held
    while True:
        at += next(delays)
        times.append(at)
        if at >= finish:
            return times


@pytest.mark.anyio
async def test_unknown_model_is_polled_on_the_backoff() -> None:
    """The first run of a model: exactly today's backoff (fast-forwarded past the hold)."""
    policy = PollPolicy(jitter=0)
    server = TimedServer(run_time=3.0)
    async with _client(server, policy) as client:
        assert await client.run(MODEL, input={"prompt": "a cat"}, wait=1) == "done"
    assert server.gets("p1") == pytest.approx(_backoff_gets(policy, 1.0, 3.0))
    assert len(server.gets("p1")) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("run_time", [3.0, 7.5, 40.0])
async def test_second_run_is_polled_at_the_learned_finish(run_time: float) -> None:
    """A model that took T once is next polled once, within jitter after T."""
    policy = PollPolicy()
    server = TimedServer(run_time=run_time)
    async with _client(server, policy) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
        first = server.gets("p1")
        assert await client.run(MODEL, input={"prompt": "a cat"}, wait=1) == "done"
    second = server.gets("p2")
    assert len(second) == 1
    assert run_time <= second[0] <= run_time * (1 + policy.jitter) + 1e-6
    assert len(second) <= len(first)
    # Today's backoff (its jitter at either end) would have needed at least one GET and
    # finished later.
    assert second[0] <= max(_backoff_gets(PollPolicy(jitter=0), 1.0, run_time)) * 1.1


@pytest.mark.anyio
async def test_learning_from_a_create_without_wait() -> None:
    """Without ``Prefer: wait`` the backoff starts short; the learned run goes straight to T."""
    server = TimedServer(run_time=3.0)
    async with _client(server, PollPolicy(jitter=0)) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=False)
        await client.run(MODEL, input={"prompt": "a cat"}, wait=False)
    assert len(server.gets("p1")) == 6  # 0.2, 0.5, 0.95, 1.625, 2.64, 4.16
    assert server.gets("p2") == pytest.approx([3.0])


@pytest.mark.anyio
async def test_queue_time_is_learned_too() -> None:
    """The expected finish is the queue time plus the run time."""
    server = TimedServer(run_time=2.0, queue=4.0)
    async with _client(server, PollPolicy(jitter=0)) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
    assert server.gets("p2") == pytest.approx([6.0])


@pytest.mark.anyio
@pytest.mark.parametrize("factor", [0.3, 0.8, 1.05, 1.3, 2.0, 5.0])
async def test_a_changed_run_time_never_costs_more_gets_than_the_backoff(factor: float) -> None:
    """When the model runs shorter or longer than learned, the GETs stay within the backoff's."""
    policy = PollPolicy(jitter=0)
    learned_from = 4.0
    server = TimedServer(run_time=learned_from)
    async with _client(server, policy) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
        server.run_time = learned_from * factor
        assert await client.run(MODEL, input={"prompt": "a cat"}, wait=1) == "done"
    gets = server.gets("p2")
    backoff = _backoff_gets(policy, min(1.0, server.run_time), server.run_time)
    finished = min(1.0, server.run_time) >= server.run_time
    assert len(gets) <= (0 if finished else len(backoff))
    if gets:
        assert gets[0] >= min(backoff[0], learned_from)  # never sooner than the backoff's first
    if factor >= 1:  # learned too short: the finish is seen no later than the backoff sees it
        assert gets[-1] <= backoff[-1] + 1e-6


@pytest.mark.anyio
async def test_a_batch_after_a_run_is_polled_at_the_learned_finish() -> None:
    """run_many's jobs use what the client learned: one GET each, around T."""
    server = TimedServer(run_time=5.0)
    async with _client(server) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
        outputs = await client.run_many(
            [(MODEL, {"prompt": f"cat {i}"}) for i in range(20)], wait=1, concurrency=20
        )
    assert outputs == ["done"] * 20
    for i in range(2, 22):
        gets = server.gets(f"p{i}")
        assert len(gets) == 1
        assert 5.0 <= gets[0] <= 5.0 * 1.1 + 1e-6


@pytest.mark.anyio
async def test_wait_on_an_existing_prediction_keeps_the_backoff() -> None:
    """``predictions.wait`` (no create time known) polls on the backoff even for a known model."""
    policy = PollPolicy(jitter=0)
    server = TimedServer(run_time=3.0)
    async with _client(server, policy) as client:
        await client.run(MODEL, input={"prompt": "a cat"}, wait=1)
        created = await client.predictions.create(MODEL, input={"prompt": "a cat"}, wait=False)
        done = await client.predictions.wait(created)
    assert done.status == "succeeded"
    assert server.gets("p2") == pytest.approx(_backoff_gets(policy, 0.0, 3.0))


@pytest.mark.anyio
async def test_first_wave_polls_move_onto_the_first_finish() -> None:
    """A batch of a model not known yet: when its first prediction is seen finished, the others'
    next polls move onto their expected finish; no prediction takes more GETs than the backoff."""
    policy = PollPolicy()
    server = TimedServer(run_time=3.0)
    async with _client(server, policy) as client:
        outputs = await client.run_many(
            [(MODEL, {"prompt": f"cat {i}"}) for i in range(20)], wait=1, concurrency=20
        )
    assert outputs == ["done"] * 20
    gets = [server.gets(f"p{i}") for i in range(1, 21)]
    # The backoff past a 1 s hold polls at ~2.0 s and ~3.5 s, jittered: two GETs, or three
    # when the jitter ends the fast-forward a delay early (~1.7, ~2.7, ~4.2 s).
    assert all(len(g) <= 3 for g in gets)
    seen = [g[-1] for g in gets]
    # The first one seen finished teaches 3 s; the others poll within 10 % after it, not
    # over the half second the backoff's jitter spreads its second poll.
    assert max(seen) <= max(min(seen), 3.0 * (1 + policy.jitter)) + 1e-6


def test_time_since_created_prefers_the_send_and_the_reply() -> None:
    """A poll's timing counts from the create's send, and from the reply's created_at when
    that is later, never below half of the time since the run began (clocks differ)."""
    now = datetime.now(UTC)
    fresh = _prediction_at(now - timedelta(seconds=0.8))
    assert _since_created(2.0, fresh, None) == pytest.approx(1.0, abs=0.05)  # held / 2
    assert _since_created(2.0, _prediction_at(now - timedelta(seconds=1.5)), None) == (
        pytest.approx(1.5, abs=0.05)
    )
    assert _since_created(2.0, _prediction_at(now + timedelta(hours=1)), None) == 1.0
    assert _since_created(2.0, _prediction_at(EPOCH), None) == 2.0  # an old stamp: held


def _prediction_at(created: datetime) -> Prediction:
    return structure(prediction("p1", created_at=_iso(created)), Prediction)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def test_the_poll_after_a_moved_one_that_ran_long_is_sent_at_once():
    """After a poll moved onto the expected finish, the next is due at the planned time plus
    its delay; when that time has already passed (the poll's request was slow), the next poll
    goes at once (the demo met 'delay must be a non-negative number' here)."""
    from replicate_async._poll_schedule import FinishWatch, PollSchedule

    async def main() -> float:
        first = _prediction_at(datetime.now(UTC))
        schedule = PollSchedule(iter([0.5, 0.5]), FinishWatch(), first, held=None, jitter=0.0)
        schedule._planned = anyio.current_time() - 5.0  # the moved poll's plan, long passed
        started = anyio.current_time()
        await schedule.wait(first)
        return anyio.current_time() - started

    assert anyio.run(main) < 0.5


def test_a_prediction_showing_output_is_not_moved_by_its_models_first_finish():
    """A reply with output (the wait ended as the model finished) keeps its planned poll: the
    model's first finish, learned meanwhile, does not wake it (a first wave of a fast model
    would otherwise pay a wake-up per prediction for a poll the backoff already has close)."""
    from replicate_async._poll_schedule import FinishWatch, PollSchedule

    async def wait_with_a_finish_learned(output: object) -> float:
        watch = FinishWatch()
        now = datetime.now(UTC)
        fields = {"version": "hidden", "model": MODEL, "created_at": _iso(now)}
        shown = structure(prediction("p2", output=output, **fields), Prediction)
        finished = prediction(
            "p1",
            status="succeeded",
            output="done",
            started_at=_iso(now - timedelta(seconds=1)),
            completed_at=_iso(now - timedelta(seconds=0.5)),
            **fields,
        )
        schedule = PollSchedule(iter([5.0]), watch, shown, held=1.0, jitter=0.0)
        started = anyio.current_time()
        async with anyio.create_task_group() as tg:

            async def poll_wait() -> None:
                await schedule.wait(shown)

            tg.start_soon(poll_wait)
            await anyio.sleep(0.1)
            watch.learn(structure(finished, Prediction))  # the model runs 0.5 s: expected long past
        return anyio.current_time() - started

    clock = {"clock": trio.testing.MockClock(autojump_threshold=0)}
    # Without output the learned finish moves the poll to at once (the control) ...
    moved = anyio.run(wait_with_a_finish_learned, None, backend="trio", backend_options=clock)
    assert moved == pytest.approx(0.1)
    # ... with output the poll keeps its planned delay.
    clock = {"clock": trio.testing.MockClock(autojump_threshold=0)}
    kept = anyio.run(wait_with_a_finish_learned, "partial", backend="trio", backend_options=clock)
    assert kept == pytest.approx(5.0)
