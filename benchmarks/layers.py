# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Our own layers, without the network: CPU per prediction, and memory per prediction in flight.

    python benchmarks/layers.py cpu [-n 5000] [-c 500] [--profile 40]
    python benchmarks/layers.py memory [-n 2000]

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
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import time
import tracemalloc
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from replicate_async import AsyncClient, PollPolicy, RateLimits
from replicate_async._backend_base import Reply

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("what", choices=["cpu", "memory"])
    parser.add_argument("-n", type=int, default=None, help="jobs (cpu: 5000, memory: 2000)")
    parser.add_argument("-c", type=int, default=500, help="concurrency (cpu)")
    parser.add_argument("--profile", type=int, default=0, help="cpu: show the top N functions")
    args = parser.parse_args()
    if args.what == "cpu":
        asyncio.run(cpu(args.n or 5000, args.c, args.profile))
    else:
        asyncio.run(memory(args.n or 2000))


if __name__ == "__main__":
    main()
