# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What the shared (Redis) rate limiter costs per request against the in-process one (prints, never asserts).

    python benchmarks/limiter_cost.py [-n 5000] [-c 64] [--paced-n 300] [--paced-rate 6000]
        [--redis redis://host:port/0] [--json OUT]

Each scenario runs ``acquire`` then ``observe`` (with a ``ratelimit-remaining`` header, as a
reply to a create carries) on one limiter, without HTTP, so the numbers are the limiter's own:

- ``free, 1 task``: tokens always available (a limit no run reaches), one request at a time:
  the cost of a request that finds its token (for Redis: one round trip).
- ``free, C tasks``: the same with C tasks at once (round trips overlap).
- ``paced, C tasks``: an empty bucket refilling at ``--paced-rate`` per minute, C tasks
  queueing: the cost of waiting (for Redis: the queue's head asks, the others wait locally).

Reported per request: the client process's CPU (µs), wall time (µs; in the paced scenario the
pacing itself), and for Redis the server's own CPU (µs, from ``INFO cpu``). Without ``--redis``
a ``redis-server`` is started on a free loopback port (no persistence) and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from replicate_async import RateLimit, RateLimits, RedisRateLimiter
from replicate_async._ratelimit import RateLimiter

TOKEN = "r8_" + "b" * 37
FREE = RateLimits(create=RateLimit(per_minute=1e12), get_prediction=None, other=None)
HEADERS = {"ratelimit-remaining": "100000"}


def _start_redis(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed: apt-get install redis-server, or pass --redis")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    command += ["no", "--dir", folder]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.01)
    process.kill()
    sys.exit("redis-server did not start")


async def _server_cpu(limiter: Any) -> float:
    """The Redis server's CPU seconds so far (0 for the in-process limiter)."""
    if not isinstance(limiter, RedisRateLimiter):
        return 0.0
    info = await limiter._redis().info("cpu")  # noqa: SLF001 - the server's own counters
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _scenario(limiter: Any, n: int, tasks: int) -> dict[str, float]:
    """Run n acquire+observe pairs over *tasks* tasks; per-request costs."""
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            ticket = await limiter.acquire("create")
            limiter.observe("create", ticket, 201, HEADERS)

    await limiter.acquire("create")  # connect, load the script, make the bucket
    server_before = await _server_cpu(limiter)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    server = await _server_cpu(limiter) - server_before
    return {
        "cpu_us": cpu / n * 1e6,
        "wall_us": wall / n * 1e6,
        "server_cpu_us": server / n * 1e6,
        "rate_per_min": n / wall * 60,
    }


def _limiter(kind: str, url: str, limits: RateLimits, prefix: str) -> Any:
    if kind == "in-process":
        return RateLimiter(limits)
    return RedisRateLimiter(url, limits=limits, prefix=prefix, api_token=TOKEN)


async def _run(args: argparse.Namespace, url: str) -> list[dict[str, Any]]:
    paced = RateLimits(create=RateLimit(per_minute=args.paced_rate, burst=2))
    scenarios = [
        ("free, 1 task", FREE, args.n, 1),
        (f"free, {args.c} tasks", FREE, args.n, args.c),
        (f"paced {args.paced_rate:g}/min, {args.c} tasks", paced, args.paced_n, args.c),
    ]
    rows = []
    for i, (name, limits, n, tasks) in enumerate(scenarios):
        for kind in ("in-process", "redis"):
            limiter = _limiter(kind, url, limits, f"bench:{time.time_ns()}:{i}")
            try:
                row = await _scenario(limiter, n, tasks)
            finally:
                await limiter.aclose()
            rows.append({"scenario": name, "limiter": kind, "n": n, **row})
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        (
            "| scenario | limiter | client CPU µs / request | wall µs / request "
            "| Redis server CPU µs / request | requests/min |"
        ),
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        server = f"{r['server_cpu_us']:.1f}" if r["limiter"] == "redis" else "-"
        lines.append(
            f"| {r['scenario']} | {r['limiter']} | {r['cpu_us']:.1f} | {r['wall_us']:.1f} "
            f"| {server} | {r['rate_per_min']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the scenarios, print the table, write the JSON if asked."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="requests per free scenario")
    parser.add_argument("-c", type=int, default=64, help="tasks at once")
    parser.add_argument("--paced-n", type=int, default=300, help="requests in the paced one")
    parser.add_argument("--paced-rate", type=float, default=6000, help="paced limit per minute")
    parser.add_argument("--redis", help="a Redis URL (default: start a redis-server)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process = None
        url = args.redis
        if url is None:
            process, url = _start_redis(folder)
        try:
            rows = asyncio.run(_run(args, url))
        finally:
            if process is not None:
                process.terminate()
                process.wait(10)
    print(f"\nrate limiter cost per request (acquire + observe), Python {sys.version.split()[0]}")
    print(_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
