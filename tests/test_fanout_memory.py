# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Flat memory (issue 16): a batch over a generator keeps nothing of a job once it is finished.

Against the emulator over loopback. What is checked is what holds memory, never how much:
the inputs of finished jobs are freed while the batch goes on (weak references), the ids the
run engine remembers stay within their bound (in a few strings, not one object per id), and ``as_completed`` hands over every result
already waiting at once (a consumer behind does not leave results and workers piling up).
RSS is for ``benchmarks/layers.py growth``.
"""

from __future__ import annotations

import contextlib
import gc
import weakref

import anyio
import pytest

from _emulator_support import unlimited_client, unlimited_emulator
from replicate_async import _running as running
from replicate_async._claims import CHUNK, Claims
from replicate_async.emulator import FakeModel

pytestmark = pytest.mark.anyio

MODEL = FakeModel(owner="mem", name="quick", kind="text", official=True, latency=0.05)
CONCURRENCY = 6
JOBS = 60


@pytest.fixture(scope="module")
def server():
    """One emulator for the module, with a quick model."""
    with unlimited_emulator(MODEL) as srv:
        yield srv


@pytest.fixture
def emulator(server):
    """The module's emulator, reset."""
    server.reset()
    return server


class Input(dict):
    """A job's input a weak reference can watch (a plain dict cannot be)."""


class Watched:
    """A generator of jobs that notes, as it hands out each one, how many earlier inputs live."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.inputs: list[weakref.ref[Input]] = []
        self.most_alive = 0

    def jobs(self):
        for i in range(self.n):
            if i >= 3 * CONCURRENCY:
                gc.collect()
                alive = sum(ref() is not None for ref in self.inputs)
                self.most_alive = max(self.most_alive, alive)
            job = Input(prompt=f"job {i}")
            self.inputs.append(weakref.ref(job))
            yield ("mem/quick", job)
            del job


async def test_as_completed_over_a_generator_frees_each_finished_job(emulator, anyio_backend):
    """Mid-batch, only the jobs in flight (or whose result waits for the consumer) live."""
    watched = Watched(JOBS)
    seen = 0
    async with unlimited_client(emulator) as client:
        async for _, result in client.as_completed(watched.jobs(), concurrency=CONCURRENCY):
            assert not isinstance(result, Exception), result
            seen += 1
    assert seen == JOBS
    # One per worker (running a job, or blocked handing over its result); a result in the
    # stream's buffer holds no input.
    assert 0 < watched.most_alive <= CONCURRENCY
    gc.collect()
    assert all(ref() is None for ref in watched.inputs)


async def test_run_many_over_a_generator_keeps_only_the_results(emulator, anyio_backend):
    """run_many over a generator: each job freed once finished; the results are kept."""
    watched = Watched(JOBS)
    async with unlimited_client(emulator) as client:
        results = await client.run_many(watched.jobs(), concurrency=CONCURRENCY)
    assert len(results) == JOBS
    assert 0 < watched.most_alive <= CONCURRENCY
    gc.collect()
    assert all(ref() is None for ref in watched.inputs)


async def test_the_ids_the_run_engine_remembers_stay_bounded(emulator, monkeypatch, anyio_backend):
    """The ids of a runner's own predictions (for a lost create's look-up) are capped, and
    their send times are kept only for the predictions still to poll."""
    monkeypatch.setattr(running, "MAX_CLAIMED", 10)
    n = 10 + 3 * CHUNK
    async with unlimited_client(emulator) as client:
        async for _, result in client.as_completed(
            ((MODEL.ref, {"prompt": f"job {i}"}) for i in range(n)), concurrency=CONCURRENCY
        ):
            assert not isinstance(result, Exception), result
        claims = client._runner._claimed
        assert 10 <= len(claims) < 10 + 2 * CHUNK
        assert claims.sent("any") is None
        # Every send time kept was read by its poll: none is left behind (a create answered
        # with output is polled untimed and keeps none).
        assert not claims._sent


def test_claims_keep_the_newest_ids_in_few_objects():
    """Claims: the newest *limit* ids are found, older ones dropped a chunk at a time."""
    limit = 1000
    claims = Claims(limit)
    ids = [f"p{i:025d}" for i in range(5 * limit)]
    for prediction_id in ids:
        claims.add(prediction_id)
    assert limit <= len(claims) < limit + 2 * CHUNK
    assert all(prediction_id in claims for prediction_id in ids[-limit:])
    assert not any(prediction_id in claims for prediction_id in ids[: 3 * limit])
    # Neither a part of an id nor two ids across a separator is taken for one.
    assert ids[-1][:-1] not in claims
    assert f"{ids[-3]}\n{ids[-2]}" not in claims
    assert 42 not in claims
    # Kept in a few strings, not one object per id.
    assert len(claims._chunks) <= limit // CHUNK + 2
    assert len(claims._recent) < CHUNK


def test_claims_hand_over_a_send_time_once_and_hold_a_bounded_number():
    """A create's send time is for its first poll: taken once; the unpolled are capped."""
    claims = Claims(10)
    claims.add("a", 1.5)
    claims.add("b")
    assert claims.sent("a") == 1.5
    assert claims.sent("a") is None
    assert claims.sent("b") is None
    for i in range(100):
        claims.add(f"x{i}", float(i))
    assert len(claims._sent) == 10
    assert claims.sent("x99") == 99.0
    assert claims.sent("x0") is None


async def test_as_completed_hands_over_every_waiting_result_at_once(emulator, anyio_backend):
    """Results already waiting come without a pass of the event loop between two of them.

    All the jobs finish while the consumer holds its first result; then a task is started,
    which would run at the loop's next pass: it must not run before the last result.
    """
    n = 12
    finished = anyio.Event()
    succeeded = 0

    def on_progress(event) -> None:
        nonlocal succeeded
        succeeded += event.kind == "succeeded"
        if succeeded == n:
            finished.set()

    ran: list[int] = []

    async def mark() -> None:
        ran.append(len(order))

    order: list[int] = []
    async with unlimited_client(emulator) as client, anyio.create_task_group() as tg:
        jobs = [(MODEL.ref, {"prompt": f"job {i}"}) for i in range(n)]
        batch = client.as_completed(jobs, concurrency=n, on_progress=on_progress)
        async with contextlib.aclosing(batch):
            async for index, _ in batch:
                order.append(index)
                if len(order) == 1:
                    await finished.wait()
                    await anyio.wait_all_tasks_blocked()  # every result handed to the stream
                    tg.start_soon(mark)
                else:
                    assert not ran, f"the loop ran between two waiting results ({ran})"
    assert sorted(order) == list(range(n))
    assert ran == [n]
