# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""One batch shared by several workers on a PostgreSQL journal, against the emulator.

Each worker is given the same jobs; each job is created once, by one worker; every worker
returns every job's result. The must-show: four worker processes, one SIGKILLed half-way,
finish 2,000 jobs with every prediction created exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from _emulator_support import unlimited_client, unlimited_emulator
from _pg_server import pg_server_fixture, pg_url_fixture  # noqa: F401 - fixtures pg_server, pg_url
from replicate_async import (
    JournalError,
    JournalLocked,
    PostgresJournal,
    PredictionFailed,
    ProgressEvent,
)
from replicate_async._journal import job_key
from replicate_async.emulator import EmulatorServer, FakeModel

REF = "shared/echo"
FAILING = "shared/fail"


@pytest.fixture(scope="module")
def emulator():
    """An emulator with a 1 s echo model and a failing one (0.1 s of wall time), no limits."""
    models = (
        FakeModel(owner="shared", name="echo", kind="text", official=True, latency=1.0),
        FakeModel(owner="shared", name="fail", kind="fail", official=True, latency=0.5),
    )
    with unlimited_emulator(*models, time_scale=0.1) as server:
        yield server


@pytest.fixture
def fresh(emulator):
    """The emulator with its predictions and counters reset."""
    emulator.reset()
    return emulator


def jobs(n: int, prefix: str = "job") -> list[tuple[str, dict[str, Any]]]:
    return [(REF, {"prompt": f"{prefix} {i}"}) for i in range(n)]


def query(url: str, statement: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of one statement on the journal's database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def assert_created_once(emulator: EmulatorServer, n: int) -> None:
    stats = emulator.stats()
    assert stats["creates"] == n
    assert len(stats["creates_by_input"]) == n
    assert set(stats["creates_by_input"].values()) == {1}


def test_two_workers_split_a_batch_and_both_return_every_result(fresh, pg_url):
    """Run at once in one event loop: each job created once, by one of them."""
    n = 120
    url = f"{pg_url}?batch=split"
    submitted: list[list[int]] = [[], []]

    async def worker(me: int) -> list[Any]:
        def on_progress(event: ProgressEvent) -> None:
            if event.kind == "submitted":
                submitted[me].append(event.index)

        async with unlimited_client(fresh) as c:
            return await c.run_many(jobs(n), concurrency=8, journal=url, on_progress=on_progress)

    async def both() -> list[list[Any]]:
        return list(await asyncio.gather(worker(0), worker(1)))

    first, second = asyncio.run(both())
    expected = [f"job {i}" for i in range(n)]
    assert first == expected
    assert second == expected
    assert submitted[0], "both workers ran jobs"
    assert submitted[1], "both workers ran jobs"
    assert sorted(submitted[0] + submitted[1]) == list(range(n))
    assert_created_once(fresh, n)


def test_as_completed_beside_run_many_yields_every_job_once(fresh, pg_url):
    n = 60
    journal_a = PostgresJournal(pg_url, batch="mixed", lease=5)
    journal_b = PostgresJournal(pg_url, batch="mixed", lease=5)

    async def streamed() -> dict[int, Any]:
        async with unlimited_client(fresh) as c:
            return {
                i: r async for i, r in c.as_completed(jobs(n), concurrency=6, journal=journal_a)
            }

    async def listed() -> list[Any]:
        async with unlimited_client(fresh) as c:
            return await c.run_many(jobs(n), concurrency=6, journal=journal_b)

    async def both() -> tuple[dict[int, Any], list[Any]]:
        return await asyncio.gather(streamed(), listed())

    yielded, results = asyncio.run(both())
    expected = [f"job {i}" for i in range(n)]
    assert [yielded[i] for i in range(n)] == expected
    assert len(yielded) == n
    assert results == expected
    assert_created_once(fresh, n)


def test_a_later_worker_takes_every_result_from_the_rows_failures_too(fresh, pg_url):
    """A failed prediction is the same PredictionFailed in a worker that did not run it."""
    url = f"{pg_url}?batch=failures"
    batch = [(REF, {"prompt": "fine"}), (FAILING, {"prompt": "broken"})]
    events: list[str] = []

    async def run() -> list[Any]:
        async with unlimited_client(fresh) as c:
            return await c.run_many(
                batch,
                journal=url,
                return_exceptions=True,
                on_progress=lambda e: events.append(e.kind),
            )

    ran = asyncio.run(run())
    events.clear()
    taken = asyncio.run(run())
    assert ran[0] == taken[0] == "fine"
    assert isinstance(ran[1], PredictionFailed)
    assert isinstance(taken[1], PredictionFailed)
    assert str(taken[1]) == str(ran[1])
    assert sorted(events) == ["failed", "resumed", "resumed", "succeeded"]
    assert fresh.stats()["creates"] == 2


def test_a_url_without_a_batch_name_is_refused_before_anything_is_sent(fresh, pg_url):
    async def run() -> None:
        async with unlimited_client(fresh) as c:
            await c.run_many(jobs(3), journal=pg_url)

    with pytest.raises(JournalError, match=r"needs a batch name: add \?batch=NAME"):
        asyncio.run(run())
    assert fresh.stats()["creates"] == 0


WORKER = textwrap.dedent(
    """
    import sys
    from replicate_async import Client, PostgresJournal, RateLimits

    base_url, token, url, n, report = sys.argv[1:6]
    jobs = [("shared/echo", {"prompt": f"job {i}"}) for i in range(int(n))]
    counts = {"submitted": 0, "resumed": 0}

    def on_progress(event):
        if event.kind in counts:
            counts[event.kind] += 1
        if report == "1" and event.kind == "submitted":
            print("submitted", event.index, flush=True)

    journal = PostgresJournal(url, batch="must-show", lease=2.0)
    with Client(
        api_token=token, base_url=base_url, rate_limits=RateLimits.unlimited(), max_concurrency=32
    ) as client:
        outputs = client.run_many(
            jobs, concurrency=32, journal=journal, recreate_unknown=True, on_progress=on_progress
        )
    assert outputs == [f"job {i}" for i in range(len(jobs))]
    print("done", len(outputs), counts["submitted"], counts["resumed"], flush=True)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_four_workers_one_killed_finish_2000_jobs_each_created_once(fresh, pg_url, tmp_path):
    """The must-show: 4 processes on one journal, one SIGKILLed half-way through its share."""
    n = 2000
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, str(script), fresh.base_url, fresh.token, pg_url, str(n)]
    started = time.monotonic()
    victim = subprocess.Popen([*args, "1"], stdout=subprocess.PIPE, text=True, env=env)
    outs = [(tmp_path / f"worker{i}.out").open("w+") for i in range(3)]
    survivors = [subprocess.Popen([*args, "0"], stdout=out, text=True, env=env) for out in outs]
    assert victim.stdout is not None
    sent = 0
    for line in victim.stdout:  # blocks on the pipe until the victim reports progress
        sent += line.startswith("submitted")
        if sent == n // 8:  # half of its share created, its last create just sent
            break
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdout.close()
    # What the victim held when it died: creates in flight, which the survivors take over
    # when its lease ends (claimed rows created afresh, creating ones looked up, created ones polled).
    held = dict(
        query(
            pg_url,
            "SELECT state, count(*) FROM replicate_async_jobs WHERE claimed_by LIKE %s"
            " GROUP BY state",
            f"%:{victim.pid}:%",
        )
    )
    reports = []
    for worker, out in zip(survivors, outs, strict=True):
        assert worker.wait(timeout=120) == 0, out.seek(0) or out.read()[-3000:]
        out.seek(0)
        reports.append(out.read().split())
        out.close()
    elapsed = time.monotonic() - started
    assert sent == n // 8
    for report in reports:
        assert report[:2] == ["done", str(n)], report
    by_survivors = sum(int(r[2]) for r in reports)
    assert 0 < by_survivors < n  # the victim created some, the survivors the rest
    assert_created_once(fresh, n)
    assert held.get("creating", 0) + held.get("created", 0) > 0, held
    rows = query(
        pg_url, "SELECT state, count(*), count(claimed_by) FROM replicate_async_jobs GROUP BY state"
    )
    assert rows == [("succeeded", n, 0)]
    print(f"4 workers, {n} jobs, one SIGKILLed holding {held}: {elapsed:.1f} s")  # noqa: T201 - -s shows it


class LosesItsFirstClaim(PostgresJournal):
    """A worker whose first claim is taken over by a thief between the claim and the create
    (as when it is frozen longer than its lease); the thief lets go once the job is set aside."""

    thief: PostgresJournal
    lost: str | None = None
    deferred = False

    async def creating(self, key: str, ref: str, input: Any) -> None:  # noqa: A002
        if self.lost is None:
            self.lost = key
            await self._run(
                "UPDATE replicate_async_jobs SET lease_until = now() - interval '1 s'"
                " WHERE key = %(key)s",
                {"key": key},
            )
            assert not (await self.thief.claim(key, ref, input)).busy
        await super().creating(key, ref, input)

    async def settle(self, keys: Any) -> Any:
        if self.lost in keys:
            self.deferred = True
            await self.thief.release(self.lost)
        return await super().settle(keys)


def test_a_worker_that_lost_its_claim_does_not_send_the_create(fresh, pg_url):
    """The fence: no create leaves without a live claim; the job is set aside, then run once."""
    n = 10
    journal = LosesItsFirstClaim(pg_url, batch="fenced", lease=5)
    journal.thief = PostgresJournal(pg_url, batch="fenced", lease=60)
    submitted: list[int] = []

    async def run() -> list[Any]:
        await journal.thief.open()
        try:
            async with unlimited_client(fresh) as c:
                return await c.run_many(
                    jobs(n),
                    concurrency=2,
                    journal=journal,
                    on_progress=lambda e: e.kind == "submitted" and submitted.append(e.index),
                )
        finally:
            await journal.thief.close()

    assert asyncio.run(run()) == [f"job {i}" for i in range(n)]
    assert journal.lost is not None
    assert journal.deferred  # the create was not sent while the thief held the job
    assert sorted(submitted) == list(range(n))  # and it was submitted once, later
    assert_created_once(fresh, n)


def test_one_journal_object_serves_one_batch_at_a_time(fresh, pg_url):
    journal = PostgresJournal(pg_url, batch="once", lease=5)

    async def run() -> list[Any]:
        async with unlimited_client(fresh) as c:
            return await c.run_many(jobs(20, "twice"), concurrency=4, journal=journal)

    async def both() -> list[Any]:
        return await asyncio.gather(run(), run(), return_exceptions=True)

    first, second = asyncio.run(both())
    assert first == [f"twice {i}" for i in range(20)]
    assert isinstance(second, JournalLocked)
    assert "in use by another batch of this process" in str(second)
    assert asyncio.run(run()) == first  # usable again once the first is done
    assert_created_once(fresh, 20)


def test_a_dead_workers_jobs_are_taken_over_and_its_unknown_create_is_found(fresh, pg_url):
    """A worker died holding three jobs: one claimed only, one whose create was sent (its
    prediction exists, its id unknown), one created; another worker runs the first, finds the
    second's prediction in the list, polls the third: one create per job in all."""
    n = 6
    batch = jobs(n)
    keys = [job_key(REF, job_input, i) for i, (_, job_input) in enumerate(batch)]

    async def die_holding() -> None:
        dead = PostgresJournal(pg_url, batch="takeover", lease=60)
        await dead.open()
        async with unlimited_client(fresh) as c:
            for i in (0, 1, 2):
                await dead.claim(keys[i], REF, batch[i][1])
            await dead.creating(keys[1], REF, batch[1][1])
            await c.predictions.create(REF, batch[1][1], wait=False)  # then it died
            await dead.creating(keys[2], REF, batch[2][1])
            made = await c.predictions.create(REF, batch[2][1], wait=False)
            await dead.created(keys[2], made.id)
        for conn in dead._idle:  # died: no close(), so its claims stay until their lease ends
            await conn.close()
        await sql_async(
            pg_url,
            "UPDATE replicate_async_jobs SET lease_until = now() - interval '1 s'"
            " WHERE claimed_by = %s",
            dead.worker,
        )

    events: list[tuple[str, int]] = []

    async def survive() -> list[Any]:
        async with unlimited_client(fresh) as c:
            return await c.run_many(
                batch,
                concurrency=3,
                journal=f"{pg_url}?batch=takeover",
                on_progress=lambda e: events.append((e.kind, e.index)),
            )

    asyncio.run(die_holding())
    assert asyncio.run(survive()) == [f"job {i}" for i in range(n)]
    assert ("resumed", 1) in events  # found in the list, not created again
    assert ("resumed", 2) in events  # its id was known: polled
    assert ("submitted", 0) in events  # claimed and never sent: created
    assert_created_once(fresh, n)


async def sql_async(url: str, statement: str, *params: object) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(statement, params)  # type: ignore[arg-type]
