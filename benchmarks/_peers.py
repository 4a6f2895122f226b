# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The fan-out benchmark's clients: each load runs in a process of its own (`run_client`).

Every load runs `n` predictions of one model, at most `c` at once, and counts failures. CPU and
wall time are the load's own, after the client's library and HTTP stack are imported (their
import CPU is reported apart); the working RSS is the peak less the RSS before the load.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _bench_server import TOKEN, raise_fd_limit, rss_mb

CLIENTS = ["ours", "ours-stream", "replicate1", "replicate2", "httpx", "aiohttp", "js"]
POLL = 0.5  # the official clients' (and the bare loops') fixed poll interval
JS_DIR = Path(__file__).resolve().parent / "js"
#: What each load imports before its clock starts.
PREIMPORTS = {
    "ours": ("replicate_async", "aiohttp", "cattrs"),
    "ours-stream": ("replicate_async", "aiohttp", "cattrs"),
    "replicate1": ("replicate", "httpx"),
    "replicate2": ("replicate", "httpx"),
    "httpx": ("httpx",),
    "aiohttp": ("aiohttp",),
    "js": (),
}


def _inputs(n: int) -> list[dict[str, str]]:
    return [{"prompt": f"job {i}"} for i in range(n)]


async def run_jobs(n: int, c: int, one: Any) -> int:
    """Run one(i) for each job from c worker tasks; return the number of failures."""
    failures = 0
    jobs = iter(range(n))

    async def worker() -> None:
        nonlocal failures
        for i in jobs:
            try:
                await one(i)
            except Exception as exc:
                failures += 1
                if failures <= 3:
                    print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(min(c, n))))
    return failures


async def session_jobs(session: Any, model: str, n: int, c: int, poll: float) -> int:
    """Our session's ``send_prediction`` per job, from *c* workers: the create, then a GET every
    *poll* seconds until terminal (the floor under the run engine); the failures."""
    from replicate_async import _sansio

    read = _sansio.create_read_timeout(60, session.timeouts)

    async def one(i: int) -> None:
        request = _sansio.build_create(model, {"prompt": f"job {i}"}, wait=60)
        prediction = await session.send_prediction(
            request, create=True, read_timeout=read, ref=model
        )
        while _sansio.needs_confirmation(prediction):
            await asyncio.sleep(poll)
            prediction = await session.send_prediction(_sansio.build_get(prediction.id))

    return await run_jobs(n, c, one)


async def load_ours(url: str, model: str, n: int, c: int, limits: str) -> int:
    """`AsyncClient.run_many`: `limits` is "none" (unlimited), "default", or "PER_MINUTE,BURST"."""
    from replicate_async import AsyncClient, RateLimit, RateLimits

    options: dict[str, Any] = {}
    if limits == "none":
        options["rate_limits"] = RateLimits.unlimited()
    elif limits != "default":
        per_minute, burst = (float(x) for x in limits.split(","))
        create = RateLimit(per_minute=per_minute, burst=burst)
        options["rate_limits"] = RateLimits(create=create, get_prediction=None, other=None)
    # The client's defaults: a batch above max_concurrency (1,000) grows the pool to its own.
    async with AsyncClient(api_token=TOKEN, base_url=url, **options) as client:
        jobs = [(model, x) for x in _inputs(n)]
        results = await client.run_many(jobs, concurrency=c, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    for exc in errors[:3]:
        print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)
    return len(errors)


async def load_ours_stream(url: str, model: str, n: int, c: int, limits: str) -> int:
    """`AsyncClient.as_completed` over a generator of jobs: nothing kept per finished job (the
    shape for a batch too big to hold, and what the bare loops keep: their inputs, no results)."""
    from replicate_async import AsyncClient, RateLimits

    options: dict[str, Any] = {"rate_limits": RateLimits.unlimited()} if limits == "none" else {}
    failures = 0
    async with AsyncClient(api_token=TOKEN, base_url=url, **options) as client:
        jobs = ((model, {"prompt": f"job {i}"}) for i in range(n))
        async for _, result in client.as_completed(jobs, concurrency=c):
            if isinstance(result, Exception):
                failures += 1
                if failures <= 3:
                    print(f"{type(result).__name__}: {result}"[:300], file=sys.stderr)
    return failures


async def load_replicate1(url: str, model: str, n: int, c: int, _limits: str) -> int:
    """replicate==1.0.7: `async_run` under the concurrency limit."""
    import replicate

    client = replicate.Client(api_token=TOKEN, base_url=url)
    inputs = _inputs(n)
    return await run_jobs(n, c, lambda i: client.async_run(model, input=inputs[i]))


async def load_replicate2(url: str, model: str, n: int, c: int, _limits: str) -> int:
    """replicate==2.0.0b4: `AsyncReplicate.run` under the concurrency limit."""
    import replicate

    client = replicate.AsyncReplicate(bearer_token=TOKEN, base_url=url + "/v1")
    inputs = _inputs(n)
    return await run_jobs(n, c, lambda i: client.run(model, input=inputs[i]))


async def load_httpx(url: str, model: str, n: int, c: int, _limits: str) -> int:
    """A bare httpx loop: create with `Prefer: wait`, then GET every 0.5 s until terminal."""
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait=60"}
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    inputs = _inputs(n)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=600) as http:

        async def one(i: int) -> None:
            reply = await http.post(
                f"/v1/models/{model}/predictions", json={"input": inputs[i]}, headers=headers
            )
            reply.raise_for_status()
            data = reply.json()
            while data["status"] not in ("succeeded", "failed", "canceled", "aborted"):
                await asyncio.sleep(POLL)
                reply = await http.get(f"/v1/predictions/{data['id']}", headers=headers)
                reply.raise_for_status()
                data = reply.json()
            if data["status"] != "succeeded":
                raise RuntimeError(data["status"])

        return await run_jobs(n, c, one)


async def load_aiohttp(url: str, model: str, n: int, c: int, _limits: str) -> int:
    """A bare aiohttp loop: create with `Prefer: wait`, then GET every 0.5 s until terminal."""
    import aiohttp

    headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait=60"}
    inputs = _inputs(n)
    connector = aiohttp.TCPConnector(limit=c)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as http:

        async def one(i: int) -> None:
            async with http.post(
                f"/v1/models/{model}/predictions", json={"input": inputs[i]}, headers=headers
            ) as r:
                r.raise_for_status()
                data = await r.json()
            while data["status"] not in ("succeeded", "failed", "canceled", "aborted"):
                await asyncio.sleep(POLL)
                async with http.get(f"/v1/predictions/{data['id']}", headers=headers) as r:
                    r.raise_for_status()
                    data = await r.json()
            if data["status"] != "succeeded":
                raise RuntimeError(data["status"])

        return await run_jobs(n, c, one)


LOADS = {
    "ours": load_ours,
    "ours-stream": load_ours_stream,
    "replicate1": load_replicate1,
    "replicate2": load_replicate2,
    "httpx": load_httpx,
    "aiohttp": load_aiohttp,
}


def run_client(name: str, url: str, model: str, *, n: int, c: int, limits: str) -> None:
    """In the client's own process: run the load, print one JSON line of measurements."""
    raise_fd_limit()
    if name == "js":
        print(json.dumps(run_js(url, model, n, c)))
        return
    cpu = time.process_time()
    for module in PREIMPORTS[name]:
        importlib.import_module(module)
    asyncio.run(asyncio.sleep(0))  # warm the loop machinery before measuring
    import_cpu = time.process_time() - cpu
    rss_before = rss_mb() or 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    failures = asyncio.run(LOADS[name](url, model, n, c, limits))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "import_cpu": import_cpu,
                "rss_mb": rss,
                "rss_before_mb": rss_before,
                "failures": failures,
            }
        )
    )


# --------------------------------------------------------------------------- the JS client


def js_ready() -> str | None:
    """Install the JS client (`npm ci` in benchmarks/js) once; None, or why it cannot run."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the js peer (Node.js 18 or later): skipped"
    if (JS_DIR / "node_modules" / "replicate" / "package.json").exists():
        return None
    print(f"installing the JS client: npm ci in {JS_DIR}", file=sys.stderr)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"npm ci failed in {JS_DIR}: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def run_js(url: str, model: str, n: int, c: int) -> dict[str, Any]:
    """The JS client's load in node (a child of this process, measured by its rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["node", str(JS_DIR / "load.mjs"), url + "/v1", model, str(n), str(c)],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    total_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "wall": inner["wall"],
        "cpu": inner["cpu"],  # the load's own, measured by node after importing the client
        "import_cpu": total_cpu - inner["cpu"],  # node's start and the import, from rusage
        "process_cpu": total_cpu,
        "rss_mb": after.ru_maxrss / 1024,  # the only child: node's peak
        "rss_before_mb": inner["rss_before_mb"],
        "failures": inner["failures"],
    }
