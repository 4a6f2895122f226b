# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fan-out at scale: our run_many against the official clients and bare loops (prints, never asserts).

    python benchmarks/fanout.py [-n 5000] [-c 1000] [--profiles fast slow limited]
        [--limited-jobs 600] [--limit 1200] [--burst 5]
        [--replicate1 PYTHON] [--replicate2 PYTHON] [--only NAME ...] [--json OUT]

One emulator is served in its own process (rate limits off). Each client runs its load in
a subprocess of its own (the official clients in their own virtual environments, given by
their interpreters), and reports wall time, CPU seconds spent on the load, peak RSS and
failures; the emulator's counters give HTTP requests per prediction and 429s.

Profiles: ``fast`` is a model taking 1 s of wall time (answered within ``Prefer: wait``);
``slow`` outlives the wait, so it is polled. The emulator runs at ``--time-scale`` (0.1 by
default), which also scales ``Prefer: wait``: 60 s of wait are 6 s, the slow model runs
100 emulated seconds (10 s). ``limited`` runs ``--limited-jobs`` fast jobs against a server
whose create bucket allows ``--limit`` per minute with a burst of ``--burst`` (real time;
our client is told the same limits, the others have no such setting) and reports the
create rate reached, from the predictions' ``created_at``, against the allowed rate: the
creates after the burst over the time from the first create to the last.

Clients: ``ours`` (AsyncClient.run_many), ``replicate1`` (replicate==1.0.7,
``async_run`` under a semaphore), ``replicate2`` (replicate==2.0.0b4, ``AsyncReplicate.run``),
``httpx`` and ``aiohttp`` (bare loops: create with ``Prefer: wait``, then GET every 0.5 s as
the official clients do).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from typing import Any

TOKEN = "r8_emulator0000000000000000000000000000"  # noqa: S105 - the emulator's public token
CLIENTS = ["ours", "replicate1", "replicate2", "httpx", "aiohttp"]
MODELS = {"fast": "bench/fast", "slow": "bench/slow", "limited": "bench/fast"}
POLL = 0.5  # the official clients' fixed poll interval
LIMIT: tuple[float, float] | None = None  # (per minute, burst) in a client process of `limited`


# --------------------------------------------------------------------------- the server


def serve(port: int, time_scale: float) -> None:
    """Serve the emulator (foreground) with the two benchmark models, rate limits off."""
    from replicate_async.emulator import (
        EmulatorConfig,
        FakeModel,
        RateLimits,
        default_catalogue,
    )
    from replicate_async.emulator import (
        serve as run_server,
    )

    models = (
        *default_catalogue(),
        FakeModel(owner="bench", name="fast", kind="text", official=True, latency=1.0 / time_scale),
        FakeModel(
            owner="bench", name="slow", kind="text", official=True, latency=10.0 / time_scale
        ),
    )
    config = EmulatorConfig(
        models=models, time_scale=time_scale, rate_limits=RateLimits.unlimited(), retention=86400
    )
    run_server("127.0.0.1", port, config)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _control(url: str, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
        return json.loads(reply.read() or b"null")


def _limits(url: str, limits: dict[str, Any]) -> None:
    """Set the emulator's rate limits."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + "/_emulator/settings",
        data=json.dumps({"rate_limits": limits}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - loopback
        pass


def start_server(time_scale: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator process and wait until it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--time-scale", str(time_scale)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            _control(url, "/_emulator/stats")
        except OSError:
            time.sleep(0.05)
        else:
            return proc, url
    proc.kill()
    raise RuntimeError("the emulator did not start")


# --------------------------------------------------------------------------- the loads


def _inputs(n: int) -> list[dict[str, str]]:
    return [{"prompt": f"job {i}"} for i in range(n)]


async def _gather(n: int, c: int, one: Any) -> int:
    """Run one(i) for each job, c at once; return the number of failures."""
    semaphore = asyncio.Semaphore(c)
    failures = 0

    async def job(i: int) -> None:
        nonlocal failures
        async with semaphore:
            try:
                await one(i)
            except Exception as exc:
                failures += 1
                if failures <= 3:
                    print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)

    await asyncio.gather(*(job(i) for i in range(n)))
    return failures


async def load_ours(url: str, model: str, n: int, c: int) -> int:
    from replicate_async import AsyncClient, RateLimit, RateLimits

    limits = RateLimits.unlimited()
    if LIMIT is not None:  # the limited profile: the server's create bucket, told to the client
        per_minute, burst = LIMIT
        limits = RateLimits(
            create=RateLimit(per_minute=per_minute, burst=burst), get_prediction=None, other=None
        )
    async with AsyncClient(
        api_token=TOKEN,
        base_url=url,
        rate_limits=limits,
        max_concurrency=max(c, 1000),
    ) as client:
        jobs = [(model, x) for x in _inputs(n)]
        results = await client.run_many(jobs, concurrency=c, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    for exc in errors[:3]:
        print(f"{type(exc).__name__}: {exc}"[:300], file=sys.stderr)
    return len(errors)


async def load_replicate1(url: str, model: str, n: int, c: int) -> int:
    import replicate

    client = replicate.Client(api_token=TOKEN, base_url=url)
    inputs = _inputs(n)
    return await _gather(n, c, lambda i: client.async_run(model, input=inputs[i]))


async def load_replicate2(url: str, model: str, n: int, c: int) -> int:
    import replicate

    client = replicate.AsyncReplicate(bearer_token=TOKEN, base_url=url + "/v1")
    inputs = _inputs(n)
    return await _gather(n, c, lambda i: client.run(model, input=inputs[i]))


async def load_httpx(url: str, model: str, n: int, c: int) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait=60"}
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    inputs = _inputs(n)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:

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

        return await _gather(n, c, one)


async def load_aiohttp(url: str, model: str, n: int, c: int) -> int:
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

        return await _gather(n, c, one)


LOADS = {
    "ours": load_ours,
    "replicate1": load_replicate1,
    "replicate2": load_replicate2,
    "httpx": load_httpx,
    "aiohttp": load_aiohttp,
}


def run_client(name: str, url: str, model: str, n: int, c: int) -> None:
    """In the client's own process: run the load, print one JSON line of measurements."""
    asyncio.run(asyncio.sleep(0))  # warm the loop machinery before measuring
    cpu, wall = time.process_time(), time.perf_counter()
    failures = asyncio.run(LOADS[name](url, model, n, c))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss, "failures": failures}))


# --------------------------------------------------------------------------- the driver


def measure(
    name: str,
    python: str,
    url: str,
    model: str,
    *,
    n: int,
    c: int,
    limit: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Run one client's load in a subprocess against a freshly reset emulator."""
    _control(url, "/_emulator/reset", "POST")  # also restores the server's configured limits
    extra: list[str] = []
    if limit is not None:
        create = {"per_minute": limit[0], "burst": limit[1]}
        _limits(url, {"create": create, "get_prediction": None, "other": None})
        extra = ["--client-limit", str(limit[0]), str(limit[1])]
    proc = subprocess.run(
        [
            python,
            __file__,
            "--client",
            name,
            "--url",
            url,
            "--model",
            model,
            "-n",
            str(n),
            "-c",
            str(c),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    stats = _control(url, "/_emulator/stats")
    requests = sum(
        int(count)
        for route, statuses in stats["requests"].items()
        if " /v1/" in route
        for count in statuses.values()
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"client": name, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(
        client=name,
        cpu_per_1000=result["cpu"] / n * 1000,
        requests_per_prediction=requests / n,
        throttled=stats["throttled"],
        creates=stats["creates"],
        sample_error=(proc.stderr.strip().splitlines() or [""])[0][:160],
    )
    if limit is not None:
        result["create_rate"] = create_rate(url, burst=limit[1])
        result["allowed_rate"] = limit[0]
    return result


def _created_at(url: str) -> list[float]:
    """Every prediction's ``created_at`` (Unix seconds), following the list's cursors."""
    stamps: list[float] = []
    page: str | None = url + "/v1/predictions"
    while page:
        request = urllib.request.Request(page, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
            data = json.loads(reply.read())
        stamps += [datetime.fromisoformat(p["created_at"]).timestamp() for p in data["results"]]
        page = data.get("next")
    return stamps


def create_rate(url: str, *, burst: float) -> float | None:
    """Creates per minute after the burst: (creates - burst) over first-to-last create time."""
    stamps = sorted(_created_at(url))
    if len(stamps) <= burst + 1 or stamps[-1] <= stamps[0]:
        return None
    return (len(stamps) - burst) / (stamps[-1] - stamps[0]) * 60


def _table(profile: str, n: int, c: int, rows: list[dict[str, Any]]) -> str:
    limited = any("allowed_rate" in r for r in rows)
    title = f"\n{profile} model, {n} jobs, concurrency {c}"
    head = "| client | wall s | CPU s / 1,000 | peak RSS MB | HTTP req / prediction | 429s | failures |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if limited:
        allowed = next(r["allowed_rate"] for r in rows if "allowed_rate" in r)
        title += f", server create limit {allowed:g}/min"
        head += " creates/min (of allowed) |"
        rule += "---:|"
    lines = [title, head, rule]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['client']} | did not run: {r['error']} ||||||" + "|" * limited)
            continue
        line = (
            f"| {r['client']} | {r['wall']:.1f} | {r['cpu_per_1000']:.2f} | {r['rss_mb']:.0f} "
            f"| {r['requests_per_prediction']:.2f} | {r['throttled']} | {r['failures']} |"
        )
        if limited:
            rate = r.get("create_rate")
            line += " n/a |" if rate is None else f" {rate:.0f} ({rate / r['allowed_rate']:.0%}) |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="jobs per client")
    parser.add_argument("-c", type=int, default=1000, help="concurrency")
    parser.add_argument("--profiles", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--limited-jobs", type=int, default=600, help="jobs in `limited`")
    parser.add_argument("--limit", type=float, default=1200, help="creates/min in `limited`")
    parser.add_argument("--burst", type=float, default=5, help="create burst in `limited`")
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--replicate1", help="python of a venv with replicate==1.0.7")
    parser.add_argument("--replicate2", help="python of a venv with replicate==2.0.0b4")
    parser.add_argument("--only", nargs="*", choices=CLIENTS)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--client-limit", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.time_scale)
        return
    if args.client:
        global LIMIT  # noqa: PLW0603 - this process runs one load
        LIMIT = tuple(args.client_limit) if args.client_limit else None
        run_client(args.client, args.url, args.model, args.n, args.c)
        return
    pythons = {"ours": sys.executable, "httpx": sys.executable, "aiohttp": sys.executable}
    if args.replicate1:
        pythons["replicate1"] = args.replicate1
    if args.replicate2:
        pythons["replicate2"] = args.replicate2
    names = [n for n in (args.only or CLIENTS) if n in pythons]
    proc, url = start_server(args.time_scale)
    results: dict[str, Any] = {
        "n": args.n,
        "c": args.c,
        "time_scale": args.time_scale,
        "profiles": {},
    }
    try:
        for profile in args.profiles:
            n, limit = args.n, None
            if profile == "limited":
                n, limit = args.limited_jobs, (args.limit, args.burst)
            rows = []
            for name in names:
                rows.append(
                    measure(name, pythons[name], url, MODELS[profile], n=n, c=args.c, limit=limit)
                )
                print(f"  {profile} {name}: {rows[-1]}", file=sys.stderr)
            results["profiles"][profile] = rows
            results.setdefault("jobs", {})[profile] = n
            print(_table(profile, n, args.c, rows), flush=True)
    finally:
        proc.terminate()
        proc.wait()
    if args.json:
        with open(args.json, "w") as f:  # noqa: PTH123
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
