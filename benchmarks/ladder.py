# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Where the fan-out's CPU goes over real HTTP: one layer of ours added per rung (prints, never asserts).

    python benchmarks/ladder.py [-n 3000] [-c 1000] [--rounds 4] [--rungs aiohttp backend ...] [--no-gc]

The ``fast`` profile of ``benchmarks/fanout.py`` (a 1 s model answered within ``Prefer: wait``,
then one confirming GET: two requests per prediction) against the same emulator in its own
process, run by the same worker loop (``-c`` asyncio tasks taking jobs from one iterator) at
each rung, every rung in a process of its own:

- ``aiohttp``: the bare aiohttp loop of the fan-out benchmark (the reference);
- ``backend``: our aiohttp backend's ``fetch`` with the request our session builds, the reply
  read by ``json.loads`` (the transport alone: connect gate, timeouts, capped read);
- ``session``: our session's ``send_prediction`` (headers, JSON encoding, rate limiter, slot,
  retry wrapper, decoding into a Prediction), the create then a GET;
- ``run``: ``client.run`` per job (the run engine: plan, create, confirm, output);
- ``run_many``: one ``client.run_many`` over all the jobs (the fan-out engine), as the fan-out
  benchmark runs it.

Rounds alternate the rungs (``aiohttp``, ``backend``, ..., ``aiohttp``, ...), so a slow minute
of a shared machine falls on all of them; each rung's figure is its median over the rounds,
and the step column is what that rung adds to the one before it, in microseconds per
prediction. Read the steps and ratios, never the absolute times. ``--no-gc`` switches the garbage
collector off in every rung after its imports: the steps then show our code's own cost, without
the collections its objects bring.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import TOKEN, UNLIMITED, prepare, raise_fd_limit, start_server
from _peers import load_aiohttp, run_jobs, session_jobs

MODEL = "bench/fast"
TIME_SCALE = 0.1  # the fast profile's: the 10 s model answers in 1 s
RUNGS = ("aiohttp", "backend", "session", "run", "run_many")
TERMINAL = ("succeeded", "failed", "canceled", "aborted")


def _client(url: str, c: int) -> Any:
    from replicate_async import AsyncClient, RateLimits

    return AsyncClient(
        api_token=TOKEN, base_url=url, rate_limits=RateLimits.unlimited(), max_concurrency=c
    )


async def rung_backend(url: str, n: int, c: int) -> int:
    """Our backend's ``fetch`` with the session's own headers and timeouts, JSON by json.loads."""
    from replicate_async import _sansio
    from replicate_async._backend import Outgoing

    async with _client(url, c) as client:
        session = client._session  # noqa: SLF001 - the measuring seam
        backend = session.backend
        phases = session.phases(66.0)
        headers = {**session.headers, "Prefer": "wait=60", "Content-Type": "application/json"}
        get_headers = dict(session.headers)
        cap = session.limits.max_reply_bytes

        async def one(i: int) -> None:
            request = _sansio.build_create(MODEL, {"prompt": f"job {i}"}, wait=60)
            content = json.dumps(request.json, separators=(",", ":")).encode()
            out = Outgoing("POST", session.url(request.path), headers, content, phases, cap)
            data = json.loads((await backend.fetch(out)).content)
            while data["status"] not in TERMINAL:
                await asyncio.sleep(0.5)
                get = Outgoing(
                    "GET", session.url(f"/v1/predictions/{data['id']}"), get_headers, None,
                    session.phases(), cap,
                )  # fmt: skip
                data = json.loads((await backend.fetch(get)).content)

        return await run_jobs(n, c, one)


async def rung_session(url: str, n: int, c: int) -> int:
    """Our session's ``send_prediction``: the create, then a GET every 0.5 s until terminal."""
    async with _client(url, c) as client:
        session = client._session  # noqa: SLF001 - the measuring seam
        return await session_jobs(session, MODEL, n, c, 0.5)


async def rung_run(url: str, n: int, c: int) -> int:
    """``client.run`` per job."""
    async with _client(url, c) as client:

        async def one(i: int) -> None:
            await client.run(MODEL, {"prompt": f"job {i}"})

        return await run_jobs(n, c, one)


async def rung_aiohttp(url: str, n: int, c: int) -> int:
    """The bare aiohttp loop of the fan-out benchmark."""
    return await load_aiohttp(url, MODEL, n, c, "none")


async def rung_run_many(url: str, n: int, c: int) -> int:
    """One ``client.run_many`` over every job."""
    async with _client(url, c) as client:
        jobs = [(MODEL, {"prompt": f"job {i}"}) for i in range(n)]
        results = await client.run_many(jobs, concurrency=c, return_exceptions=True)
    return sum(isinstance(result, Exception) for result in results)


LOADS = {
    "aiohttp": rung_aiohttp,
    "backend": rung_backend,
    "session": rung_session,
    "run": rung_run,
    "run_many": rung_run_many,
}


def _child(rung: str, url: str, n: int, c: int, *, no_gc: bool) -> None:
    """In the rung's own process: import, warm the loop, run the load, print its CPU seconds."""
    raise_fd_limit()
    import aiohttp  # noqa: F401 - imported before measuring, as every rung needs it

    if rung != "aiohttp":
        import replicate_async  # noqa: F401

    asyncio.run(asyncio.sleep(0))
    if no_gc:
        gc.disable()
    cpu = time.process_time()
    failures = asyncio.run(LOADS[rung](url, n, c))
    cpu = time.process_time() - cpu
    if failures:
        sys.exit(f"{failures} of {n} predictions failed")
    print(json.dumps({"cpu": cpu}))


def main() -> None:
    """Run the rungs in alternating rounds and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("-c", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rungs", nargs="*", choices=RUNGS, default=list(RUNGS))
    parser.add_argument("--no-gc", action="store_true", help="the collector off in every rung")
    parser.add_argument("--child", choices=RUNGS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.url, args.n, args.c, no_gc=args.no_gc)
        return
    rungs = [r for r in RUNGS if r in args.rungs]
    spent: dict[str, list[float]] = {r: [] for r in rungs}
    proc, url = start_server()
    try:
        for _ in range(args.rounds):
            for rung in rungs:
                prepare(url, time_scale=TIME_SCALE, limits=UNLIMITED)
                command = [sys.executable, __file__, "--child", rung, "--url", url]
                command += ["-n", str(args.n), "-c", str(args.c)]
                command += ["--no-gc"] if args.no_gc else []
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"{rung} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
                cpu = json.loads(done.stdout.strip().splitlines()[-1])["cpu"]
                spent[rung].append(cpu / args.n * 1e6)
                print(f"  {rung}: {spent[rung][-1]:.0f} us", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
    collector = ", the collector off" if args.no_gc else ""
    print(
        f"\n{args.n:,} fast predictions at concurrency {args.c:,}, {args.rounds} rounds{collector}"
    )
    print("| rung | CPU us / prediction (median) | min - max | step | x aiohttp |")
    print("|---|---:|---:|---:|---:|")
    previous = None
    bare = statistics.median(spent["aiohttp"]) if "aiohttp" in spent else None
    for rung in rungs:
        median = statistics.median(spent[rung])
        step = "" if previous is None else f"{median - previous:+.0f}"
        ratio = "" if bare is None else f"{median / bare:.2f}x"
        low, high = min(spent[rung]), max(spent[rung])
        print(f"| {rung} | {median:.0f} | {low:.0f} - {high:.0f} | {step} | {ratio} |")
        previous = median


if __name__ == "__main__":
    main()
