# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Client-side CPU per 1,000 predictions through each HTTP stack (prints, never asserts).

    python benchmarks/transport.py [-n 1000] [-c 500] [--repeat 1] [--only NAME ...] [--json OUT]

The script starts a loopback server in a subprocess (the emulator with a zero-latency
model when the emulator can serve one, else a minimal Starlette app that answers every
create with a terminal prediction), then runs each client variant in a fresh subprocess
of its own and reads the CPU time that process spent on the predictions alone
(`time.process_time` around the workload, after imports and set-up). The server's CPU
is never counted. Each variant sends N creates (`Prefer: wait`) at concurrency C.

Variants: our AsyncClient and the aiohttp backend under it; a bare httpx.AsyncClient;
bare aiohttp; httpx over 32-connection pools used round-robin (the library's
`httpx_pools`, on asyncio too: issue 10 measured it against aiohttp, see
benchmarks/results/transport-sharded-httpx.json); and under trio, httpx with one pool, httpx sharded, and our AsyncClient (which
picks the sharded pools there).

With ``--repeat R`` the variants run in R interleaved rounds (every variant once per
round), so that a slow spell on a shared machine hits every variant alike; the table
shows the median of the rounds, ``--json`` also keeps every round and its ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from starlette.requests import Request

# The emulator's zero-latency model; the Starlette fallback answers any model path alike.
MODEL = "emulator/echo"
CREATE_PATH = f"/v1/models/{MODEL}/predictions"
TOKEN = "r8_benchmark_token"  # noqa: S105 - a dummy for the loopback server

ASYNCIO_VARIANTS = [
    "ours",
    "ours-backend",
    "httpx",
    "aiohttp",
    "httpx-sharded",
]
TRIO_VARIANTS = ["trio-httpx", "trio-httpx-sharded", "trio-ours"]
ALL_VARIANTS = ASYNCIO_VARIANTS + TRIO_VARIANTS

LABELS = {
    "ours": "replicate_async.AsyncClient.run (asyncio)",
    "ours-backend": "our aiohttp Backend.fetch, under the client",
    "httpx": "bare httpx.AsyncClient",
    "aiohttp": "bare aiohttp.ClientSession",
    "httpx-sharded": "httpx, 32-connection pools, round-robin",
    "trio-httpx": "trio: bare httpx.AsyncClient",
    "trio-httpx-sharded": "trio: httpx, 32-connection pools, round-robin",
    "trio-ours": "trio: replicate_async.AsyncClient.run",
}


# --------------------------------------------------------------------------- server


def _prediction(number: int, body: dict[str, Any]) -> dict[str, Any]:
    """A terminal prediction shaped like the real server's."""
    pid = f"bench{number:021d}"
    now = "2025-01-01T00:00:00.000000Z"
    return {
        "id": pid,
        "model": MODEL,
        "version": "hidden",
        "input": body.get("input", {}),
        "output": "done",
        "logs": "",
        "error": None,
        "status": "succeeded",
        "created_at": now,
        "started_at": now,
        "completed_at": now,
        "data_removed": False,
        "urls": {
            "get": f"http://127.0.0.1/v1/predictions/{pid}",
            "cancel": f"http://127.0.0.1/v1/predictions/{pid}/cancel",
        },
        "metrics": {"predict_time": 0.0, "total_time": 0.0},
    }


def serve(port: int) -> None:
    """Run the minimal Starlette server on *port* (in the server subprocess)."""
    import itertools

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    counter = itertools.count()

    async def create(request: Request) -> Response:
        body = await request.json()
        return JSONResponse(_prediction(next(counter), body), status_code=201)

    async def health(_request: Request) -> Response:
        return Response("ok")

    app = Starlette(
        routes=[
            Route("/v1/models/{owner}/{name}/predictions", create, methods=["POST"]),
            Route("/v1/predictions", create, methods=["POST"]),
            Route("/health", health),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


def _free_port() -> int:
    """Ask the OS for a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_emulator(port: int) -> None:
    """Run the emulator on *port* (in the server subprocess): no rate limits, terminal wait replies."""
    from replicate_async.emulator import EmulatorConfig, RateLimits, serve

    serve(
        "127.0.0.1",
        port,
        EmulatorConfig(tokens=(), rate_limits=RateLimits.unlimited(), wait_returns_terminal=True),
    )


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> bool:
    """Wait until *url* answers; False if the server process died first."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310 - loopback only
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(request, timeout=1):  # noqa: S310 - loopback only
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _emulator_available() -> bool:
    """Whether the emulator (and its extra) can serve here."""
    if os.environ.get("BENCH_SERVER") == "starlette":
        return False
    try:
        from replicate_async.emulator import serve  # noqa: F401
    except ImportError:
        return False
    return True


def start_server() -> tuple[subprocess.Popen[bytes], str, str]:
    """Start a loopback server in a subprocess: the emulator if it can, else the Starlette app."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if _emulator_available():
        proc = subprocess.Popen([sys.executable, __file__, "--serve-emulator", str(port)], **quiet)
        if _wait_until_up(f"{base}/v1/models/{MODEL}", proc):
            return proc, base, f"the emulator ({MODEL}, no rate limits, terminal wait replies)"
        proc.kill()
        proc.wait()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], **quiet)
    if not _wait_until_up(f"{base}/health", proc):
        raise SystemExit("the benchmark server did not start")
    return proc, base, "a minimal Starlette app answering creates with a terminal prediction"


# --------------------------------------------------------------------------- clients


def _body(number: int) -> bytes:
    return json.dumps({"input": {"prompt": f"p{number}"}}).encode()


def _headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "Prefer": "wait=60",
    }


async def _asyncio_fanout(n: int, c: int, one: Any) -> None:
    """Run *one(i)* for i in range(n), at most *c* at once, on asyncio."""
    sem = asyncio.Semaphore(c)

    async def job(i: int) -> None:
        async with sem:
            await one(i)

    await asyncio.gather(*(job(i) for i in range(n)))


async def _trio_fanout(n: int, c: int, one: Any) -> None:
    """Run *one(i)* for i in range(n), at most *c* at once, on trio."""
    import trio

    sem = trio.Semaphore(c)

    async def job(i: int) -> None:
        async with sem:
            await one(i)

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(job, i)


def _check(data: Any) -> None:
    if data["status"] != "succeeded":
        raise RuntimeError(f"unexpected reply {data!r}")


async def _run_httpx(client: Any, base: str, n: int, c: int, fanout: Any) -> float:
    url = base + CREATE_PATH
    headers = _headers()

    async def one(i: int) -> None:
        response = await client.post(url, content=_body(i), headers=headers)
        _check(response.json())

    start = time.process_time()
    await fanout(n, c, one)
    return time.process_time() - start


async def _run_ours(base: str, n: int, c: int, fanout: Any) -> float:
    from replicate_async import AsyncClient, RateLimits

    async with AsyncClient(
        api_token=TOKEN,
        base_url=base,
        max_concurrency=max(c, 1000),
        rate_limits=RateLimits.unlimited(),  # the emulator has none; the bucket would pace us
    ) as client:

        async def one(i: int) -> None:
            out = await client.run(MODEL, input={"prompt": f"p{i}"}, use_file_output=False)
            if out is None:
                raise RuntimeError("no output")

        start = time.process_time()
        await fanout(n, c, one)
        return time.process_time() - start


async def _run_aiohttp(base: str, n: int, c: int) -> float:
    import aiohttp

    url = base + CREATE_PATH
    headers = _headers()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:

        async def one(i: int) -> None:
            async with session.post(url, data=_body(i), headers=headers) as response:
                _check(await response.json())

        start = time.process_time()
        await _asyncio_fanout(n, c, one)
        return time.process_time() - start


async def _run_backend(base: str, n: int, c: int) -> float:
    from replicate_async._backend import Outgoing, Phases
    from replicate_async._backend_aiohttp import AiohttpBackend

    url = base + CREATE_PATH
    headers = _headers()
    phases = Phases(connect=5.0, read=120.0, write=30.0, pool=None)
    backend = AiohttpBackend(max_connections=1000)
    try:

        async def one(i: int) -> None:
            reply = await backend.fetch(Outgoing("POST", url, headers, _body(i), phases))
            _check(json.loads(reply.content))

        start = time.process_time()
        await _asyncio_fanout(n, c, one)
        return time.process_time() - start
    finally:
        await backend.aclose()


def _limits(size: int) -> Any:
    return httpx.Limits(max_connections=size, max_keepalive_connections=size)


async def _variant(name: str, base: str, n: int, c: int) -> float:
    """Run variant *name* and return the CPU seconds it spent."""
    fanout = _trio_fanout if name.startswith("trio-") else _asyncio_fanout
    if name in {"ours", "trio-ours"}:
        return await _run_ours(base, n, c, fanout)
    if name == "aiohttp":
        return await _run_aiohttp(base, n, c)
    if name == "ours-backend":
        return await _run_backend(base, n, c)
    transport: httpx.AsyncBaseTransport | None = None
    if name in {"httpx-sharded", "trio-httpx-sharded"}:
        from replicate_async._backend_httpx import httpx_pools

        transport = httpx_pools(1000, shard_size=32)
    async with httpx.AsyncClient(transport=transport, limits=_limits(1000), timeout=120) as client:
        return await _run_httpx(client, base, n, c, fanout)


def run_client(name: str, base: str, n: int, c: int) -> None:
    """Run one variant in this (child) process and print its result as JSON."""
    wall = time.perf_counter()
    if name.startswith("trio-"):
        import trio

        cpu = trio.run(_variant, name, base, n, c)
    else:
        cpu = asyncio.run(_variant(name, base, n, c))
    print(json.dumps({"cpu": cpu, "wall": time.perf_counter() - wall}))


# --------------------------------------------------------------------------- driver


def measure(name: str, base: str, n: int, c: int) -> dict[str, float] | str:
    """Run *name* in a fresh process; its numbers, or why it could not run."""
    proc = subprocess.run(
        [sys.executable, __file__, "--client", name, "--url", base, "-n", str(n), "-c", str(c)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return f"unavailable: {last[:90]}"
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Parse arguments and run the benchmark (or serve, or one client, in a child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="predictions per variant")
    parser.add_argument("-c", type=int, default=500, help="concurrency")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (median kept)")
    parser.add_argument("--only", nargs="*", choices=ALL_VARIANTS, help="variants to run")
    parser.add_argument("--json", help="also write every round, medians and ratios here")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=ALL_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve is not None:
        serve(args.serve)
        return
    if args.serve_emulator is not None:
        serve_emulator(args.serve_emulator)
        return
    if args.client is not None:
        run_client(args.client, args.url, args.n, args.c)
        return

    names = args.only or ALL_VARIANTS
    proc, base, kind = start_server()
    try:
        print(f"{args.n} predictions at concurrency {args.c} against {kind} at {base}")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, repeat {args.repeat}")
        rounds: list[dict[str, dict[str, float] | str]] = [
            {name: measure(name, base, args.n, args.c) for name in names}
            for _ in range(args.repeat)
        ]
        results: dict[str, dict[str, float] | str] = {}
        for name in names:
            runs = [one[name] for one in rounds]
            ok = [r for r in runs if isinstance(r, dict)]
            if ok:
                results[name] = {
                    "cpu": statistics.median(r["cpu"] for r in ok),
                    "wall": statistics.median(r["wall"] for r in ok),
                }
            else:
                results[name] = str(runs[0])
    finally:
        proc.terminate()
        proc.wait()

    base_cpu = results.get("aiohttp")
    reference = base_cpu["cpu"] if isinstance(base_cpu, dict) else None
    scale = 1000 / args.n
    print()
    print(f"{'variant':48} {'CPU s / 1000':>12} {'x aiohttp':>10} {'wall s':>8}")
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{LABELS[name]:48} {result}")
            continue
        cpu = result["cpu"] * scale
        ratio = f"{result['cpu'] / reference:.2f}" if reference else "-"
        print(f"{LABELS[name]:48} {cpu:12.2f} {ratio:>10} {result['wall']:8.2f}")
    if args.json:
        write_json(args, kind, names, rounds, results)


def _ratios(cpus: dict[str, dict[str, float] | str]) -> dict[str, dict[str, float]]:
    """Each variant's CPU over that of `aiohttp` and of `ours-backend` (same round)."""
    out: dict[str, dict[str, float]] = {}
    for ref in ("aiohttp", "ours-backend"):
        base = cpus.get(ref)
        if not isinstance(base, dict):
            continue
        out[ref] = {
            name: round(r["cpu"] / base["cpu"], 3)
            for name, r in cpus.items()
            if isinstance(r, dict)
        }
    return out


def write_json(
    args: argparse.Namespace,
    kind: str,
    names: list[str],
    rounds: list[dict[str, dict[str, float] | str]],
    results: dict[str, dict[str, float] | str],
) -> None:
    """Write the rounds, the medians and the CPU ratios (per round and of the medians)."""
    scale = 1000 / args.n
    per_1000 = {
        name: round(r["cpu"] * scale, 4) for name, r in results.items() if isinstance(r, dict)
    }
    data = {
        "n": args.n,
        "c": args.c,
        "repeat": args.repeat,
        "server": kind,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "labels": {name: LABELS[name] for name in names},
        "rounds": rounds,
        "round_ratios": [_ratios(one) for one in rounds],
        "median": results,
        "median_cpu_s_per_1000": per_1000,
        "median_ratios": _ratios(results),
    }
    Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
