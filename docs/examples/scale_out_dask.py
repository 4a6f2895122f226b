# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
# ruff: noqa: T201, INP001 - an example script: it prints, and docs/examples is not a package
"""One batch split over Dask workers, all on one PostgreSQL journal.

Every Dask task is given the same jobs and runs the whole batch with ``run_many``; the
journal's claims split them, so each job is created once, by one worker, and every task
returns every job's result. A worker that dies loses its claims when its lease ends, and the
others take them over; when Dask runs the dead worker's task again, that run takes the
finished jobs from the journal and creates nothing twice.

    pip install 'replicate-async[postgres,redis]' 'dask[distributed]>=2025.4'
    export REPLICATE_API_TOKEN=r8_...
    python scale_out_dask.py postgresql://me@db.internal/batches --batch nightly-1 \\
        --jobs jobs.jsonl --workers 4 --redis redis://redis.internal:6379/0

Without ``--scheduler`` it starts a local cluster of ``--workers`` processes; with
``--scheduler tcp://host:8786`` it uses a running Dask cluster. The workers read
``REPLICATE_API_TOKEN`` (and ``REPLICATE_BASE_URL``) from their own environment: the token
never travels through Dask.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, TypedDict

import distributed

from replicate_async import Client, Job, PostgresJournal, ProgressEvent
from replicate_async.exceptions import ReplicateError


class Report(TypedDict):
    """What one worker's task returns to the submitting process."""

    worker: str  # the Dask worker's address
    pid: int  # the worker's process
    created: int  # jobs whose prediction this task created
    taken: int  # jobs whose result it took from the journal (run by another task)
    outputs: list[Any]  # every job's output, in job order (None where it failed)
    failures: dict[int, str]  # a failed job's index: its error
    seconds: float


def run_batch(
    url: str,
    batch: str,
    jobs: list[Job],
    *,
    concurrency: int,
    lease: float,
    redis: str | None,
    recreate_unknown: bool,
) -> Report:
    """One Dask task: run the whole batch on this worker; the journal splits the work."""
    counts = {"submitted": 0, "resumed": 0}

    def on_progress(event: ProgressEvent) -> None:
        if event.kind in counts:
            counts[event.kind] += 1

    started = time.monotonic()
    journal = PostgresJournal(url, batch=batch, lease=lease)
    with Client(rate_limiter=redis, max_concurrency=concurrency) as client:
        results = client.run_many(
            jobs,
            concurrency=concurrency,
            journal=journal,
            return_exceptions=True,
            recreate_unknown=recreate_unknown,
            use_file_output=False,  # plain URLs: they pickle, and print as they are
            on_progress=on_progress,
        )
    failures = {
        i: f"{type(r).__name__}: {r}" for i, r in enumerate(results) if isinstance(r, Exception)
    }
    return Report(
        worker=distributed.get_worker().address,
        pid=os.getpid(),
        created=counts["submitted"],
        taken=counts["resumed"],
        outputs=[None if i in failures else r for i, r in enumerate(results)],
        failures=failures,
        seconds=time.monotonic() - started,
    )


def read_jobs(path: Path) -> list[Job]:
    """A JSONL file of jobs: ``{"model": "owner/name", "input": {...}, "key": "..."}`` a line
    (``replicate-async batch``'s format: ``ref`` or ``version`` may stand for ``model``)."""
    jobs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            ref = data.get("model") or data.get("ref") or data["version"]
            jobs.append(Job(ref, data.get("input", {}), key=data.get("key")))
    return jobs


def submit(
    client: distributed.Client, tasks: int, jobs: list[Job], args: argparse.Namespace
) -> list[Report]:
    """One task per worker (spread over the cluster's workers), each given every job."""
    workers = list(client.scheduler_info(n_workers=-1)["workers"])
    [shared] = client.scatter([jobs], broadcast=True)  # sent to each worker once
    futures = [
        client.submit(
            run_batch,
            args.postgres,
            args.batch,
            shared,
            concurrency=args.concurrency,
            lease=args.lease,
            redis=args.redis,
            recreate_unknown=args.recreate_unknown,
            pure=False,  # run every task, though their arguments are the same
            workers=[workers[i % len(workers)]],
            allow_other_workers=True,  # a task whose worker died may run on another
        )
        for i in range(tasks)
    ]
    reports: list[Report] = client.gather(futures)
    return reports


def summary(reports: list[Report], jobs: int) -> list[str]:
    """What each worker did, then the batch's totals and its failures."""
    lines = [
        f"  {r['worker']} (pid {r['pid']}): created {r['created']}, took {r['taken']} from the"
        f" journal, {len(r['outputs'])} results ({len(r['failures'])} failed) in"
        f" {r['seconds']:.1f} s"
        for r in reports
    ]
    complete = all(len(r["outputs"]) == jobs for r in reports)
    agree = all(r["outputs"] == reports[0]["outputs"] for r in reports)
    failures = reports[0]["failures"]
    created = sum(r["created"] for r in reports)
    others = jobs - created  # by a task whose worker died (Dask ran it again), or an earlier run
    by_others = (
        f" (the other {others} by an earlier run, or a task whose worker died)" if others else ""
    )
    same = "all" if complete and agree else "NOT all the same"
    lines.append(
        f"{created} predictions created by these tasks for {jobs} jobs{by_others};"
        f" every task returned {same} {jobs} results;"
        f" {jobs - len(failures)} succeeded, {len(failures)} failed"
    )
    lines += [f"  job {i}: {error}" for i, error in sorted(failures.items())[:10]]
    return lines


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("postgres", help="the journal's database: postgresql://user@host/db")
    parser.add_argument("--batch", required=True, help="the batch's name (reuse it to resume)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--jobs", type=Path, help="a JSONL file of jobs")
    source.add_argument("--model", help="generate --count jobs for this model instead")
    parser.add_argument("--count", type=int, default=100, help="jobs to generate (--model)")
    parser.add_argument("--workers", type=int, help="tasks (default: 4, or the cluster's size)")
    parser.add_argument("--scheduler", help="a running Dask scheduler: tcp://host:8786")
    parser.add_argument("--redis", help="share one rate limiter: redis://host:6379/0")
    parser.add_argument("--concurrency", type=int, default=32, help="jobs in flight per worker")
    parser.add_argument("--lease", type=float, default=30.0, help="seconds a dead worker holds")
    parser.add_argument(
        "--recreate-unknown",
        action="store_true",
        help="create again a dead worker's create whose prediction is not found",
    )
    parser.add_argument("--results", type=Path, help="write every job's result here (JSONL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the batch; 0 when every job succeeded, 1 when some failed, 2 on an error."""
    args = parse(argv)
    if args.jobs:
        try:
            jobs = read_jobs(args.jobs)
        except (OSError, ValueError, KeyError) as exc:
            print(f"error: cannot read the jobs of {args.jobs}: {exc!r}", file=sys.stderr)
            return 2
    else:
        jobs = [Job(args.model, {"prompt": f"job {i}"}) for i in range(args.count)]
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.scheduler:
            client = stack.enter_context(distributed.Client(args.scheduler))
            client.wait_for_workers(1)
        else:
            cluster = distributed.LocalCluster(
                n_workers=args.workers or 4,
                processes=True,
                threads_per_worker=1,
                dashboard_address=":0",  # any free port: 8787 may be taken
                silence_logs=logging.CRITICAL,  # a failed task: its error once, not its log too
            )
            stack.enter_context(cluster)
            client = stack.enter_context(distributed.Client(cluster))
        tasks = args.workers or len(client.scheduler_info(n_workers=-1)["workers"])
        try:
            reports = submit(client, tasks, jobs, args)
        except (ReplicateError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(
        f"batch {args.batch!r}: {len(jobs)} jobs, {tasks} Dask tasks,"
        f" {time.monotonic() - started:.1f} s"
    )
    print("\n".join(summary(reports, len(jobs))))
    if args.results:
        with args.results.open("w", encoding="utf-8") as out:
            for i, output in enumerate(reports[0]["outputs"]):
                error = reports[0]["failures"].get(i)
                row = {"index": i, "error": error} if error else {"index": i, "output": output}
                out.write(json.dumps(row) + "\n")
    return 1 if reports[0]["failures"] else 0


if __name__ == "__main__":  # the guard Dask's worker processes need
    sys.exit(main())
