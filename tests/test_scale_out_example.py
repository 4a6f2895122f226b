# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""docs/examples/scale_out_dask.py run for real: one batch over Dask workers on one journal.

The example runs as a user would run it (a subprocess, token and base URL from the
environment) against the emulator on a loopback port, a PostgreSQL and a Redis started by
the suite. First on a local cluster it starts itself: every job created once, every task
returns every result. Then on a cluster this test starts (``--scheduler``), with one Dask
worker process SIGKILLed mid-batch: its claims are taken over when its lease ends, Dask runs
its task again elsewhere, and still every job is created once. And a journal the workers
cannot reach: one line, exit code 2.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from _pg_server import pg_server_fixture, pg_url_fixture  # noqa: F401 - fixtures pg_server, pg_url
from _redis_server import redis_url  # noqa: F401 - the session's Redis, a fixture
from replicate_async.emulator import EmulatorConfig, EmulatorServer, FakeModel, default_catalogue

if importlib.util.find_spec("distributed") is None:
    if os.environ.get("CI"):
        pytest.fail(
            "dask[distributed] is not installed; on CI the tests dependency group brings it",
            pytrace=False,
        )
    pytest.skip(
        "the Dask example needs dask[distributed] (pip install 'dask[distributed]')",
        allow_module_level=True,
    )

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "scale_out_dask.py"
REF = "dask/echo"
N = 200
WORKERS = 4
REPORT = re.compile(
    r"^  (?P<worker>\S+) \(pid (?P<pid>\d+)\): created (?P<created>\d+), took (?P<taken>\d+)"
    r" from the journal, (?P<results>\d+) results \((?P<failed>\d+) failed\)",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def emulator():
    """The emulator with a 0.4 s echo model, the real rate limits, on a loopback port."""
    echo = FakeModel(owner="dask", name="echo", kind="text", official=True, latency=2.0)
    config = EmulatorConfig(models=(*default_catalogue(), echo), time_scale=0.2)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def fresh(emulator):
    emulator.reset()
    return emulator


def example_env(emulator: EmulatorServer) -> dict[str, str]:
    """The environment the example and its workers read the token and API root from."""
    return {
        "REPLICATE_API_TOKEN": emulator.token,
        "REPLICATE_BASE_URL": emulator.base_url,
        "PYTHONUNBUFFERED": "1",
    }


def query(url: str, statement: str, *params: object) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def reports(stdout: str) -> list[dict[str, Any]]:
    """The per-worker lines of the example's summary."""
    found = [
        {k: v if k == "worker" else int(v) for k, v in m.groupdict().items()}
        for m in REPORT.finditer(stdout)
    ]
    assert len(found) == WORKERS, stdout
    return found


def assert_created_once(emulator: EmulatorServer, inputs: int) -> None:
    stats = emulator.stats()
    assert stats["creates"] == inputs
    assert len(stats["creates_by_input"]) == inputs
    assert set(stats["creates_by_input"].values()) == {1}


def assert_batch_done(pg_url: str, batch: str, states: dict[str, int]) -> None:
    """Every row terminal, none still claimed."""
    rows = query(
        pg_url,
        "SELECT state, count(*), count(claimed_by) FROM replicate_async_jobs WHERE batch = %s"
        " GROUP BY state ORDER BY state",
        batch,
    )
    assert rows == [(state, count, 0) for state, count in sorted(states.items())]


def run_example(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the example in a process group of its own: past 90 s, its Dask workers go with it."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the example ran over 90 s: {err[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_example_splits_a_batch_over_four_dask_workers(fresh, pg_url, redis_url, tmp_path):  # noqa: F811
    """200 jobs (two of them failing) over 4 workers sharing one Redis limiter."""
    import redis

    failing = {17, 150}
    lines = [
        {"model": "emulator/fail" if i in failing else REF, "input": {"prompt": f"job {i}"}}
        for i in range(N)
    ]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    results = tmp_path / "results.jsonl"
    command = [sys.executable, str(EXAMPLE), pg_url, "--batch", "example", "--jobs", str(jobs)]
    command += ["--workers", str(WORKERS), "--concurrency", "16", "--redis", redis_url]
    command += ["--results", str(results)]
    done = run_example(command, example_env(fresh))
    assert done.returncode == 1, done.stderr[-3000:]  # 1: some jobs failed
    found = reports(done.stdout)
    assert sum(r["created"] for r in found) == N, done.stdout  # each job by one worker
    for r in found:
        assert (r["results"], r["failed"]) == (N, len(failing)), done.stdout
        assert r["created"] + r["taken"] == N, done.stdout
    assert f"every task returned all {N} results; 198 succeeded, 2 failed" in done.stdout
    assert "job 17: PredictionFailed" in done.stdout
    written = [json.loads(line) for line in results.read_text().splitlines()]
    for i, row in enumerate(written):
        assert row["index"] == i
        if i in failing:
            assert row["error"].startswith("PredictionFailed")
        else:
            assert row["output"] == f"job {i}"
    assert len(written) == N
    assert_created_once(fresh, N)
    assert fresh.stats()["throttled"] == 0
    assert_batch_done(pg_url, "example", {"succeeded": N - 2, "failed": 2})
    assert redis.Redis.from_url(redis_url).keys("replicate-async:ratelimit:*")  # shared limiter
    assert all(gone(r["pid"]) for r in found)  # the local cluster left no process behind


def wait_for_victim(
    pg_url: str, batch: str, workers: set[int], script: subprocess.Popen[str], log: Path
) -> int:
    """A Dask worker's pid once a quarter of the jobs are done, holding creates in flight.

    Polls the journal (the table appears when the first worker opens it).
    """
    import psycopg

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and script.poll() is None:
        try:
            rows = query(
                pg_url,
                "SELECT state, claimed_by FROM replicate_async_jobs WHERE batch = %s",
                batch,
            )
        except psycopg.errors.UndefinedTable:
            rows = []
        succeeded = sum(state == "succeeded" for state, _ in rows)
        holders = [
            int(holder.split(":")[-2])
            for state, holder in rows
            if holder and state in {"creating", "created"}
        ]
        busy = [pid for pid in holders if pid in workers]
        if succeeded >= N // 4 and busy:
            return max(set(busy), key=busy.count)
        time.sleep(0.02)  # polling the journal's rows, not synchronising on time
    if script.poll() is not None:
        pytest.fail(f"the example ended before a worker was killed: {log.read_text()[-3000:]}")
    pytest.fail("no worker held creates in flight after a quarter of the batch")


def test_a_dask_worker_killed_mid_batch_and_every_job_is_still_created_once(
    fresh, pg_url, tmp_path
):
    """SIGKILL one of 4 Dask workers (2 s lease): the batch still finishes, each job once."""
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=WORKERS,
        processes=True,
        threads_per_worker=1,
        dashboard_address=":0",  # any free port: 8787 may be taken
        env=example_env(fresh),
    )
    pids: dict[str, int] = {}
    started = time.monotonic()
    try:
        with distributed.Client(cluster) as client:
            pids = client.run(os.getpid)
            command = [sys.executable, str(EXAMPLE), pg_url, "--batch", "killed"]
            command += ["--model", REF, "--count", str(N), "--concurrency", "8"]
            command += ["--scheduler", cluster.scheduler_address, "--workers", str(WORKERS)]
            command += ["--lease", "2", "--recreate-unknown"]
            log = tmp_path / "stderr.txt"
            with log.open("w") as stderr:
                script = subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                    env={**os.environ, **example_env(fresh)},
                )
            try:
                victim = wait_for_victim(pg_url, "killed", set(pids.values()), script, log)
                os.kill(victim, signal.SIGKILL)
                stdout, _ = script.communicate(timeout=90)
            finally:
                if script.poll() is None:
                    script.kill()
                    script.communicate()
    finally:
        cluster.close()
    assert script.returncode == 0, log.read_text()[-3000:]
    found = reports(stdout)
    assert victim not in {r["pid"] for r in found}  # its task ran again, on another worker
    for r in found:
        assert (r["results"], r["failed"]) == (N, 0), stdout
    assert f"every task returned all {N} results" in stdout
    assert_created_once(fresh, N)
    assert_batch_done(pg_url, "killed", {"succeeded": N})
    ran = {r["pid"] for r in found}  # the nanny's new worker among them, if the re-run went there
    assert all(gone(pid) for pid in {victim, *pids.values(), *ran})  # the cluster left none behind
    elapsed = time.monotonic() - started
    print(f"{WORKERS} Dask workers, {N} jobs, one SIGKILLed: {elapsed:.1f} s")  # noqa: T201 - -s shows it


def test_a_journal_the_workers_cannot_reach_is_one_line_and_nothing_is_created(fresh):
    """The JournalError raised in a Dask worker reaches the user as one line, exit code 2."""
    import socket

    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/batches"
    command = [sys.executable, str(EXAMPLE), url, "--batch", "unreachable"]
    command += ["--model", REF, "--count", "5", "--workers", "1"]
    done = run_example(command, example_env(fresh))
    assert done.returncode == 2, done.stderr[-3000:]
    [line] = done.stderr.splitlines()  # one line: no traceback, no log of the failed task
    assert line.startswith(
        f"error: cannot connect to the PostgreSQL journal {url.replace('postgres@', '')} ("
    )
    assert line.endswith(
        "check that the server runs there and the URL's user, password and database"
    )
    assert done.stdout == ""
    assert fresh.stats()["creates"] == 0
