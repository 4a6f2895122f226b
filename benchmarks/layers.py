# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Our own layers, without the network: CPU per prediction, and memory per prediction in flight.

    python benchmarks/layers.py cpu [-n 5000] [-c 500] [--profile 40]
    python benchmarks/layers.py memory [-n 2000]
    python benchmarks/layers.py growth [-n 200000] [-c 10000] [--api as_completed|run_many]
        [--answer succeeded|processing] [--delay S] [--no-trace]
    python benchmarks/layers.py waits [-n 3000] [-c 1000] [--delay 1] [--poll 0.2] [--rounds 3]

Both put a backend that never touches a socket under a real ``AsyncClient`` (it replaces the
session's backend, a package-internal seam: this is a measuring tool, not an example), so
what is measured is this library alone: the fan-out, the run engine, the session, the rate
limiter's fast path, encoding and decoding.

``cpu``: every create is answered ``processing`` with output and the confirming GET
``succeeded`` at once (two requests per prediction, as the ``fast`` profile of
``benchmarks/fanout.py``); prints CPU microseconds per prediction (``--profile N``: the top N
functions of cProfile by own time, which slows the run: read ratios, not the total).

``memory``: every create is held open (its reply never comes) until all ``-n`` jobs are in
flight; prints the Python memory each prediction in flight holds (tracemalloc, after a
collection), by file and by line. aiohttp's socket buffers are not counted (no socket).

``growth``: ``-n`` jobs at concurrency ``-c`` through ``as_completed`` (or ``run_many``) over
a generator of jobs, each create answered with a prediction of its own id after one pass of
the event loop (so ``-c`` are really in flight) or, ``--delay S``, after a random time (S on
average: jobs finish out of order, as over HTTP), ``succeeded`` (the ``fast`` profile of
``benchmarks/fanout.py``: answered within the wait) or ``processing`` (then one poll). Every
``n/20`` jobs taken, and once all are taken (``-c`` still in flight), it prints the working
RSS (VmRSS less that before the batch and tracemalloc's own), the memory tracemalloc sees and
the objects the collector tracks; then the growth from 10 % of the jobs taken (20,000 of
200,000) to all, and what grew between the two by line (``--no-trace``: RSS and objects only,
and the RSS comparable: tracing slows the run and its snapshots take memory). Flat memory:
ratios close to 1; RSS growing while the objects and the traced memory stay flat is the
allocator (memory freed but not reused or returned), not objects kept.

``waits``: the ``fast`` profile's shape with real waits and no network: every create is answered
``processing`` with output after ``--delay`` seconds (1 by default; 0: a loop pass), every GET
``succeeded`` at once, and the poll waits as it does over HTTP. Three loads, each from ``-c`` tasks
taking jobs from one iterator, the collector off: the session's two requests (``send_prediction``,
with ``--poll`` seconds between them, our first poll's delay), ``client.run`` per job, and one
``run_many`` (the client polls after ``--poll`` seconds, 0.2 by default as its policy). Prints the
median CPU microseconds per prediction of each over ``--rounds`` alternating rounds: with ``-c 1
--delay 0 --poll 0`` one prediction at a time, with ``-c 1000`` among a thousand in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import random
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy

from _bench_server import rss_mb
from _peers import run_jobs
from replicate_async import AsyncClient, PollPolicy, RateLimits, _sansio
from replicate_async._backend_base import Reply

if TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "r8_" + "0" * 37  # never sent anywhere
HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


def _body(status: str) -> bytes:
    """A prediction as the API sends it (the fields of a real reply)."""
    done = status == "succeeded"
    return json.dumps(
        {
            "id": "ufawqhfynnddngldkgtslldrkq",
            "model": "bench/fast",
            "version": "hidden",
            "input": {"prompt": "job 1"},
            "logs": "",
            "output": ["hello", " world"],
            "data_removed": False,
            "error": None,
            "source": "api",
            "status": status,
            "created_at": "2026-12-06T05:52:19.123456Z",
            "started_at": "2026-12-06T05:52:19.223456Z",
            "completed_at": "2026-12-06T05:52:20.123456Z" if done else None,
            "urls": {
                "cancel": "http://x/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel",
                "get": "http://x/v1/predictions/ufawqhfynnddngldkgtslldrkq",
                "web": "https://replicate.com/p/ufawqhfynnddngldkgtslldrkq",
            },
            "metrics": {"predict_time": 0.9, "total_time": 1.0} if done else {},
        }
    ).encode()


PROCESSING, SUCCEEDED = _body("processing"), _body("succeeded")


class Instant:
    """Answers every create ``processing`` with output, every GET ``succeeded``, at once."""

    async def fetch(self, outgoing: Any) -> Reply:
        if outgoing.method == "POST":
            return Reply(201, HEADERS, PROCESSING)
        return Reply(200, HEADERS, SUCCEEDED)

    async def aclose(self) -> None:
        """Nothing to close."""


class Held:
    """Holds every create open until :attr:`gate` is set; :attr:`full` once *n* arrived."""

    def __init__(self, n: int) -> None:
        self.gate = asyncio.Event()
        self.full = asyncio.Event()
        self.arrived = 0
        self.n = n

    async def fetch(self, _outgoing: Any) -> Reply:
        self.arrived += 1
        if self.arrived >= self.n:
            self.full.set()
        await self.gate.wait()
        return Reply(201, HEADERS, PROCESSING)

    async def aclose(self) -> None:
        """Nothing to close."""


class Yielding:
    """Answers each create after one pass of the loop (or *delay* s on average), with an id of
    its own.

    ``answer="succeeded"``: the create's reply is terminal (no poll); ``"processing"``: it is
    not, and the one GET that follows answers ``succeeded``.
    """

    ID = b"ufawqhfynnddngldkgtslldrkq"

    def __init__(self, answer: str, delay: float) -> None:
        self.created = SUCCEEDED if answer == "succeeded" else PROCESSING
        self.made = 0
        self.delay = delay
        self.random = random.Random(16)  # noqa: S311 - timing, not secrets

    async def fetch(self, outgoing: Any) -> Reply:
        # A loop pass, or a timer: jobs then finish out of order, as they do over HTTP.
        await asyncio.sleep(self.random.uniform(0, 2 * self.delay) if self.delay else 0)
        if outgoing.method == "POST":
            self.made += 1
            made = f"p{self.made:025d}".encode()
            return Reply(201, HEADERS, self.created.replace(self.ID, made))
        made = outgoing.url.rsplit("/", 1)[-1].encode()
        return Reply(200, HEADERS, SUCCEEDED.replace(self.ID, made))

    async def aclose(self) -> None:
        """Nothing to close."""


class Waiting:
    """Answers each create ``processing`` with output after *delay* seconds, each GET at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def fetch(self, outgoing: Any) -> Reply:
        if outgoing.method == "POST":
            await asyncio.sleep(self.delay)
            return Reply(201, HEADERS, PROCESSING)
        return Reply(200, HEADERS, SUCCEEDED)

    async def aclose(self) -> None:
        """Nothing to close."""


def _client(backend: object) -> AsyncClient:
    client = AsyncClient(
        api_token=TOKEN,
        base_url="http://127.0.0.1:1",
        rate_limits=RateLimits.unlimited(),
        poll=PollPolicy(initial=0, maximum=0, jitter=0),
    )
    client._session.__dict__["backend"] = backend  # noqa: SLF001 - the measuring seam
    return client


def _jobs(n: int) -> list[tuple[str, dict[str, str]]]:
    return [("bench/fast", {"prompt": f"job {i}"}) for i in range(n)]


async def cpu(n: int, c: int, profile: int) -> None:
    """Print CPU microseconds per prediction over *n* jobs at concurrency *c*."""
    async with _client(Instant()) as client:
        await client.run_many(_jobs(100), concurrency=100)  # warm every path once
        jobs = _jobs(n)
        profiler = cProfile.Profile()
        started = time.process_time()
        if profile:
            profiler.enable()
        await client.run_many(jobs, concurrency=c)
        profiler.disable()
        spent = time.process_time() - started
    print(f"CPU per prediction: {spent / n * 1e6:.0f} us ({n} jobs, concurrency {c})")
    if profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)


async def memory(n: int) -> None:
    """Print the bytes each of *n* predictions in flight holds."""
    backend = Held(n)
    async with _client(backend) as client:
        gc.collect()
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        batch = asyncio.ensure_future(client.run_many(_jobs(n), concurrency=n))
        await backend.full.wait()
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        backend.gate.set()  # the creates answer (the batch's cancels are answered too)
        batch.cancel()
        await asyncio.gather(batch, return_exceptions=True)

    def where(frame: tracemalloc.Frame) -> str:
        return frame.filename.split("site-packages/")[-1].split("src/")[-1]

    by_file = after.compare_to(before, "filename")
    print(f"per prediction in flight: {sum(d.size_diff for d in by_file) / n:.0f} bytes")
    for d in by_file[:12]:
        print(f"{d.size_diff / n:8.0f} B {d.count_diff / n:6.1f} objects  {where(d.traceback[0])}")
    print("by line:")
    for d in after.compare_to(before, "lineno")[:12]:
        frame = d.traceback[0]
        print(f"{d.size_diff / n:8.0f} B  {where(frame)}:{frame.lineno}")


class _Sampler:
    """Samples memory every *every* jobs taken from the generator it wraps."""

    def __init__(self, n: int, *, trace: bool) -> None:
        self.n = n
        self.every = max(1, n // 20)
        self.trace = trace
        self.rows: list[tuple[int, float, float, int]] = []
        self.tenth: tracemalloc.Snapshot | None = None
        self.end: tracemalloc.Snapshot | None = None
        self.base = 0.0

    def working(self) -> float:
        """Working RSS, MB: less the RSS before the batch and tracemalloc's own memory."""
        own = tracemalloc.get_tracemalloc_memory() / 2**20 if self.trace else 0.0
        return (rss_mb() or 0.0) - own - self.base

    def sample(self, taken: int) -> None:
        traced = tracemalloc.get_traced_memory()[0] / 2**20 if self.trace else 0.0
        row = (taken, self.working(), traced, len(gc.get_objects()))
        self.rows.append(row)
        print(f"{row[0]:>9,} {row[1]:10.1f} {row[2]:10.1f} {row[3]:>10,}", flush=True)
        if self.trace and self.tenth is None and taken >= self.n // 10:
            self.tenth = tracemalloc.take_snapshot()

    def jobs(self) -> Iterator[tuple[str, dict[str, str]]]:
        for i in range(self.n):
            if i % self.every == 0 and i:
                self.sample(i)
            yield ("bench/fast", {"prompt": f"job {i}"})
        # Every job taken, the last -c still in flight: the state to compare with 10 %.
        self.sample(self.n)
        if self.trace:
            self.end = tracemalloc.take_snapshot()


async def growth(n: int, c: int, *, api: str, answer: str, delay: float, trace: bool) -> None:
    """Print the memory of a batch of *n* jobs at concurrency *c* as it runs."""
    backend = Yielding(answer, delay)
    sampler = _Sampler(n, trace=trace)
    async with _client(backend) as client:
        # Every path once (lazy imports), not at size: the batch's own growth is measured.
        async for _ in client.as_completed(_jobs(100), concurrency=100):
            pass
        gc.collect()
        if trace:
            tracemalloc.start(4)
        sampler.base = (rss_mb() or 0.0) - (
            tracemalloc.get_tracemalloc_memory() / 2**20 if trace else 0
        )
        print(
            f"{api} over a generator: {n:,} jobs, concurrency {c:,}, creates {answer} "
            f"after {f'{delay} s on average' if delay else 'a loop pass'}"
        )
        print(f"{'jobs':>9} {'working MB':>10} {'traced MB':>10} {'objects':>10}")
        started = time.process_time()
        if api == "run_many":
            results = await client.run_many(sampler.jobs(), concurrency=c, return_exceptions=True)
            failures = sum(isinstance(r, Exception) for r in results)
        else:
            failures = 0
            async for _, result in client.as_completed(sampler.jobs(), concurrency=c):
                failures += isinstance(result, Exception)
        spent = time.process_time() - started
        gc.collect()
        after = sampler.working()
        tracemalloc.stop()
    tenth = next(r for r in sampler.rows if r[0] >= n // 10)
    last = sampler.rows[-1]
    peak = max(r[1] for r in sampler.rows)
    traced = f"; traced {last[2]:.1f} / {tenth[2]:.1f} MB = {last[2] / max(tenth[2], 1e-9):.2f}x"
    print(
        f"failures {failures}; CPU {spent / n * 1e6:.0f} us per prediction"
        f"{' (traced: slower)' if trace else ''}\n"
        f"every job taken ({c:,} in flight) against {tenth[0]:,} taken: working RSS "
        f"{last[1]:.1f} / {tenth[1]:.1f} MB = {last[1] / tenth[1]:.2f}x (peak {peak:.1f} MB); "
        f"objects {last[3]:,} / {tenth[3]:,} = {last[3] / tenth[3]:.2f}x"
        f"{traced if trace else ''}\n"
        f"working RSS after the batch, after a collection: {after:.1f} MB"
    )
    if sampler.end is not None and sampler.tenth is not None:
        print(f"grew from {tenth[0]:,} jobs taken to all {n:,}, by line:")
        for d in sampler.end.compare_to(sampler.tenth, "lineno")[:15]:
            frame = d.traceback[0]
            where = frame.filename.split("site-packages/")[-1].split("src/")[-1]
            print(f"{d.size_diff / 1024:10.1f} KiB {d.count_diff:+9,}  {where}:{frame.lineno}")


async def _waits_once(load: str, n: int, c: int, delay: float, poll: float) -> float:
    """One load of ``waits`` on a fresh client: its CPU microseconds per prediction."""
    client = AsyncClient(
        api_token=TOKEN,
        base_url="http://127.0.0.1:1",
        rate_limits=RateLimits.unlimited(),
        poll=PollPolicy(initial=poll, maximum=max(poll, 5.0)),
    )
    client._session.__dict__["backend"] = Waiting(delay)  # noqa: SLF001 - the measuring seam
    async with client:
        session = client._session  # noqa: SLF001 - the measuring seam
        read = _sansio.create_read_timeout(60, session.timeouts)

        async def by_session(i: int) -> None:
            create = _sansio.build_create("bench/fast", {"prompt": f"job {i}"}, wait=60)
            made = await session.send_prediction(create, create=True, read_timeout=read)
            while _sansio.needs_confirmation(made):
                await asyncio.sleep(poll)
                made = await session.send_prediction(_sansio.build_get(made.id))

        async def by_run(i: int) -> None:
            await client.run("bench/fast", {"prompt": f"job {i}"})

        await client.run_many(_jobs(min(n, 100)), concurrency=min(c, 100))  # warm every path
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            if load == "session":
                failures = await run_jobs(n, c, by_session)
            elif load == "run":
                failures = await run_jobs(n, c, by_run)
            else:
                results = await client.run_many(_jobs(n), concurrency=c, return_exceptions=True)
                failures = sum(isinstance(result, Exception) for result in results)
            spent = (time.process_time() - started) / n * 1e6
        finally:
            gc.enable()
    if failures:
        raise SystemExit(f"waits {load}: {failures} of {n} predictions failed")
    return spent


def waits(n: int, c: int, delay: float, poll: float, rounds: int) -> None:
    """Print the median CPU per prediction of each ``waits`` load over alternating rounds."""
    loads = ("session", "run", "run_many")
    spent: dict[str, list[float]] = {load: [] for load in loads}
    for _ in range(rounds):
        for load in loads:
            spent[load].append(asyncio.run(_waits_once(load, n, c, delay, poll)))
    print(
        f"{n:,} jobs at concurrency {c:,}, creates answered after {delay:g} s, "
        f"polled after {poll:g} s, the collector off:"
    )
    for load in loads:
        values = sorted(spent[load])
        print(f"  {load:9s} {values[len(values) // 2]:6.0f} us ({values[0]:.0f}-{values[-1]:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("what", choices=["cpu", "memory", "growth", "waits"])
    parser.add_argument(
        "-n", type=int, default=None, help="jobs (cpu: 5000, memory: 2000, growth: 200000)"
    )
    parser.add_argument("-c", type=int, default=None, help="concurrency (cpu: 500, growth: 10000)")
    parser.add_argument("--profile", type=int, default=0, help="cpu: show the top N functions")
    parser.add_argument("--api", choices=["as_completed", "run_many"], default="as_completed")
    parser.add_argument("--answer", choices=["succeeded", "processing"], default="succeeded")
    parser.add_argument(
        "--delay",
        type=float,
        default=None,
        help="growth: mean seconds to answer (0, the default: a loop pass); waits: 1 by default",
    )
    parser.add_argument("--rounds", type=int, default=3, help="waits: alternating rounds")
    parser.add_argument("--poll", type=float, default=0.2, help="waits: seconds before the poll")
    parser.add_argument("--no-trace", action="store_true", help="growth: without tracemalloc")
    args = parser.parse_args()
    if args.what == "cpu":
        asyncio.run(cpu(args.n or 5000, args.c or 500, args.profile))
    elif args.what == "growth":
        asyncio.run(
            growth(
                args.n or 200_000,
                args.c or 10_000,
                api=args.api,
                answer=args.answer,
                delay=args.delay or 0.0,
                trace=not args.no_trace,
            )
        )
    elif args.what == "waits":
        delay = 1.0 if args.delay is None else args.delay
        waits(args.n or 3000, args.c or 1000, delay, args.poll, args.rounds)
    else:
        asyncio.run(memory(args.n or 2000))


if __name__ == "__main__":
    main()
