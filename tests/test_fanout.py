# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""run_many / as_completed against the emulator over loopback: scale, order, limits, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import anyio
import pytest
import stamina

from _emulator_support import unlimited_client, unlimited_emulator
from replicate_async import (
    Client,
    CreateOutcomeUnknown,
    Job,
    PredictionFailed,
    PredictionTimeout,
    RateLimit,
    RateLimits,
    ServerError,
    ValidationError,
)
from replicate_async.emulator import (
    FakeModel,
    FaultRule,
)
from replicate_async.emulator import RateLimit as ServerLimit
from replicate_async.emulator import RateLimits as ServerLimits

#: Emulated seconds run 5x faster: a 1 s model takes 0.2 s, so 1,000 jobs at 500 overlap.
TIME_SCALE = 0.2
MODELS = (
    FakeModel(owner="fan", name="second", kind="text", official=True, latency=1.0),
    FakeModel(owner="fan", name="long", kind="text", official=True, latency=1000.0),
    FakeModel(owner="fan", name="fail", kind="fail", official=True, latency=0.1),
)


@pytest.fixture(scope="module")
def server():
    """One emulator for the module, with a 1 s model and a long one."""
    with unlimited_emulator(*MODELS, time_scale=TIME_SCALE) as srv:
        yield srv


@pytest.fixture
def emulator(server):
    """The module's emulator, reset."""
    server.reset()
    return server


def _jobs(n: int, model: str = "fan/second") -> list[tuple[str, dict]]:
    return [(model, {"prompt": f"job {i}"}) for i in range(n)]


def _duplicates(stats) -> int:
    return sum(n - 1 for n in stats["creates_by_input"].values() if n > 1)


# -- must show: scale, order, errors in place ------------------------------------------------------


@pytest.mark.anyio
async def test_a_thousand_jobs_at_500_all_succeed_once_each(emulator, anyio_backend):
    """1,000 jobs at concurrency 500 with a 1 s model: all succeed, in order, one create each."""
    async with unlimited_client(emulator) as client:
        outputs = await client.run_many(_jobs(1000), concurrency=500)
    stats = emulator.stats()
    assert outputs == [f"job {i}" for i in range(1000)]
    assert stats["creates"] == 1000
    assert _duplicates(stats) == 0
    assert stats["peak_in_flight"] > 100  # they really overlapped


@pytest.mark.anyio
async def test_failed_jobs_hold_their_errors_in_place(emulator, anyio_backend):
    """With return_exceptions=True a failed job's exception sits at its index."""
    jobs = [
        ("fan/second", {"prompt": "a"}),
        ("fan/fail", {"prompt": "b"}),
        ("fan/second", {"prompt": "c"}),
    ]
    async with unlimited_client(emulator) as client:
        results = await client.run_many(jobs, return_exceptions=True)
    assert results[0] == "a"
    assert isinstance(results[1], PredictionFailed)
    assert results[2] == "c"


@pytest.mark.anyio
async def test_the_first_error_is_raised_and_the_rest_cancelled(emulator, anyio_backend):
    """Without return_exceptions the first failure raises and the other predictions are cancelled."""
    jobs = [("fan/fail", {"prompt": "x"}), *[("fan/long", {"prompt": f"l{i}"}) for i in range(5)]]
    async with unlimited_client(emulator) as client:
        with pytest.raises(PredictionFailed):
            await client.run_many(jobs, concurrency=6, wait=1)
    stats = emulator.stats()
    assert stats["cancels"] == stats["creates"] - 1


# -- must show: limits ----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # ~15 s by nature: run it once
async def test_a_batch_at_the_account_limit_meets_next_to_no_429s(emulator, anyio_backend):
    """Create limit 1,200/min with a burst of 5: 300 jobs finish with at most 3 responses of 429."""
    emulator.set_rate_limits(
        ServerLimits(create=ServerLimit(per_minute=1200, burst=5), get_prediction=None, other=None)
    )
    limits = RateLimits(create=RateLimit(per_minute=1200, burst=5), get_prediction=None, other=None)
    with stamina.set_testing(False):
        async with unlimited_client(emulator, rate_limits=limits) as client:
            outputs = await client.run_many(_jobs(300), concurrency=100)
    stats = emulator.stats()
    assert len(outputs) == 300
    assert stats["throttled"] <= 3
    # The rate reached against the allowed one is measured by benchmarks/fanout.py, not here.


def test_concurrency_beyond_the_pool_grows_the_pool(emulator):
    """A batch asking for more jobs in flight than the client's max_concurrency just runs: the
    client's concurrency slot and pool grow to the batch's concurrency (they used to refuse it)."""

    async def main() -> tuple[list[object], int]:
        async with unlimited_client(emulator, max_concurrency=10) as client:
            outputs = await client.run_many(_jobs(30), concurrency=25)
            return outputs, client._session.max_concurrency

    outputs, grown = anyio.run(main)
    assert outputs == [f"job {i}" for i in range(30)]
    assert grown == 25
    assert _duplicates(emulator.stats()) == 0


# -- must show: cancellation ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_a_batch_cancels_every_started_prediction(emulator, anyio_backend):
    """Cancelling mid-batch cancels each prediction it created, remotely, and leaves no task."""
    before = len(asyncio.all_tasks()) if anyio_backend == "asyncio" else 0
    running = 0
    async with unlimited_client(emulator) as client:
        with anyio.CancelScope() as scope:

            def on_progress(event) -> None:
                nonlocal running
                if event.kind == "running":
                    running += 1
                    if running == 15:
                        scope.cancel()

            await client.run_many(
                _jobs(60, "fan/long"), concurrency=20, wait=1, on_progress=on_progress
            )
    stats = emulator.stats()
    assert scope.cancelled_caught
    assert stats["creates"] >= 15
    assert stats["cancels"] == stats["creates"]
    if anyio_backend == "asyncio":
        assert len(asyncio.all_tasks()) == before


@pytest.mark.anyio
async def test_leaving_as_completed_early_cancels_the_rest(emulator):
    """Closing the as_completed iterator after one result cancels the predictions still running."""
    jobs = [("fan/second", {"prompt": "quick"}), *_jobs(5, "fan/long")]
    async with (
        unlimited_client(emulator) as client,
        contextlib.aclosing(client.as_completed(jobs, concurrency=6, wait=1)) as results,
    ):
        async for index, result in results:
            assert (index, result) == (0, "quick")
            break
    stats = emulator.stats()
    assert stats["cancels"] == 5


# -- as_completed ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_as_completed_yields_every_job_tagged_with_its_index(emulator, anyio_backend):
    """Every job comes out once, as (index, output) or (index, exception)."""
    jobs = [*_jobs(10), ("fan/fail", {"prompt": "f"})]
    async with unlimited_client(emulator) as client:
        seen = {index: result async for index, result in client.as_completed(jobs, concurrency=4)}
    assert sorted(seen) == list(range(11))
    assert seen[3] == "job 3"
    assert isinstance(seen[10], PredictionFailed)


@pytest.mark.anyio
async def test_as_completed_raises_when_the_jobs_iterable_fails(emulator):
    """An error raised by the caller's job iterable comes out of the loop."""

    def jobs():
        yield ("fan/second", {"prompt": "a"})
        raise RuntimeError("no more jobs")

    async with unlimited_client(emulator) as client:
        with pytest.raises(RuntimeError, match="no more jobs"):
            async for _ in client.as_completed(jobs()):
                pass


# -- jobs -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_jobs_may_be_a_lazy_iterable(emulator):
    """A generator of jobs is consumed as workers take jobs, and the results keep its order."""
    produced = 0

    def jobs():
        nonlocal produced
        for i in range(30):
            produced += 1
            yield ("fan/second", {"prompt": f"g{i}"})

    async with unlimited_client(emulator) as client:
        outputs = await client.run_many(jobs(), concurrency=5)
    assert outputs == [f"g{i}" for i in range(30)]


@pytest.mark.anyio
async def test_a_job_overrides_the_batch_options(emulator):
    """Job(timeout=..., use_file_output=False) applies to that job alone."""
    jobs = [
        Job("fan/long", {"prompt": "t"}, timeout=1, wait=1, cancel_on_timeout=True),
        Job("emulator/image", {"prompt": "i", "num_outputs": 1}, use_file_output=False),
    ]
    async with unlimited_client(emulator) as client:
        results = await client.run_many(jobs, return_exceptions=True)
    assert isinstance(results[0], PredictionTimeout)
    assert isinstance(results[1][0], str)
    assert emulator.stats()["cancels"] == 1


@pytest.mark.anyio
async def test_a_malformed_job_fails_in_its_place(emulator):
    """Something that is neither a Job nor a (ref, input) pair is a TypeError at its index."""
    async with unlimited_client(emulator) as client:
        results = await client.run_many(
            [("fan/second", {"prompt": "a"}), "nope"], return_exceptions=True
        )
    assert results[0] == "a"
    assert isinstance(results[1], TypeError)


@pytest.mark.anyio
async def test_an_invalid_timeout_fails_the_job(emulator):
    """A job timeout that is not a positive finite number fails with ValueError."""
    async with unlimited_client(emulator) as client:
        results = await client.run_many(
            [Job("fan/second", {"prompt": "a"}, timeout=0)], return_exceptions=True
        )
    assert isinstance(results[0], ValueError)


@pytest.mark.anyio
async def test_a_refused_create_is_not_unknown(emulator):
    """A 422 on create is the job's ValidationError (nothing was created)."""
    async with unlimited_client(emulator) as client:
        results = await client.run_many(
            [("emulator/image", {"num_outputs": "many"})], return_exceptions=True
        )
    assert isinstance(results[0], ValidationError)


@pytest.mark.anyio
async def test_a_5xx_on_create_is_reported_as_outcome_unknown(emulator):
    """A create answered 5xx after the server made the prediction is CreateOutcomeUnknown, not retried."""
    emulator.set_faults(FaultRule(action="accept_then_error", route="create", count=1))
    async with unlimited_client(emulator) as client:
        results = await client.run_many([("fan/second", {"prompt": "a"})], return_exceptions=True)
    error = results[0]
    assert isinstance(error, CreateOutcomeUnknown)
    assert isinstance(error.__cause__, ServerError)
    assert error.index == 0
    assert error.job == Job("fan/second", {"prompt": "a"})
    assert emulator.stats()["creates"] == 1


# -- progress -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_progress_counts_every_step(emulator):
    """on_progress sees submitted, running and succeeded/failed for each job, with counts."""
    events = []
    jobs = [*_jobs(4), ("fan/fail", {"prompt": "f"})]
    async with unlimited_client(emulator) as client:
        await client.run_many(jobs, return_exceptions=True, on_progress=events.append)
    kinds = Counter(e.kind for e in events)
    assert kinds == {"submitted": 5, "running": 5, "succeeded": 4, "failed": 1}
    last = events[-1].progress
    assert (last.total, last.done, last.running, last.succeeded, last.failed) == (5, 5, 0, 4, 1)
    assert last.elapsed > 0
    failed = next(e for e in events if e.kind == "failed")
    assert failed.prediction_id == failed.error.prediction.id


@pytest.mark.anyio
async def test_429s_are_reported_as_retried(emulator):
    """A throttled create shows up as a 'retried' event of its job."""
    emulator.set_faults(FaultRule(action="error", status=429, route="create", count=1))
    events = []
    async with unlimited_client(emulator) as client:
        await client.run_many(_jobs(1), on_progress=events.append)
    assert "retried" in [e.kind for e in events]
    assert events[-1].progress.retried == 1


# -- the sync Client ------------------------------------------------------------------------------


def test_sync_run_many_and_as_completed(emulator):
    """The blocking Client runs a batch and iterates over one, with the same results."""
    with Client(
        api_token=emulator.token, base_url=emulator.base_url, rate_limits=RateLimits.unlimited()
    ) as client:
        assert client.run_many(_jobs(3)) == ["job 0", "job 1", "job 2"]
        assert sorted(client.as_completed(_jobs(3))) == [(0, "job 0"), (1, "job 1"), (2, "job 2")]
        images = client.run_many([("emulator/image", {"prompt": "p", "num_outputs": 1})])
        assert images[0][0].read().startswith(b"\x89PNG")


@pytest.mark.anyio
async def test_jobs_carry_the_batch_webhook_or_their_own(emulator):
    """Every create of a batch carries its webhook options; a Job's own override the batch's."""
    hook = "http://127.0.0.1:9/hook"  # loopback discard port: deliveries fail fast, go nowhere
    jobs = [
        ("fan/second", {"prompt": "batch"}),
        Job("fan/second", {"prompt": "own"}, webhook_events_filter=["completed"]),
    ]
    async with unlimited_client(emulator) as client:
        await client.run_many(jobs, webhook=hook, webhook_events_filter=["start", "completed"])

    def sent() -> dict[str, tuple[str | None, list[str] | None]]:
        return {
            r.input["prompt"]: (r.webhook, r.webhook_events_filter)
            for r in emulator.state.records()
        }

    assert emulator.call(sent) == {
        "batch": (hook, ["start", "completed"]),
        "own": (hook, ["completed"]),
    }
