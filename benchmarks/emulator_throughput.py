# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Emulator throughput: creates per second with `Prefer: wait` under uvicorn (prints, never asserts).

    python benchmarks/emulator_throughput.py [--duration 10] [--connections 64] [--generator auto]
                                             [--threads 1] [--plain]

Two servers run in turn, each alone in a subprocess under the same uvicorn settings (one
worker, access log off, uvloop and httptools when installed, else asyncio and h11):

- the emulator with one zero-latency official model, rate limits and faults off;
- a bare Starlette app whose one route reads the body and answers a fixed prediction-shaped JSON.

A separate load-generator process sends `POST /v1/models/bench/instant/predictions` with
`Prefer: wait` and a small JSON input over keep-alive connections: `wrk` (Debian package `wrk`)
when it is on PATH, else an aiohttp script in its own process. Each server gets a short warm-up,
then a measured run. The script prints both rates, their ratio, and the share of the emulator's
per-request time spent in its own logic (1 - emulator/bare), against the targets of issue 3:
at least 5,000 creates/s, and the emulator's own logic at most two thirds of its per-request time.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MODEL = "bench/instant"
PATH = f"/v1/models/{MODEL}/predictions"
TOKEN = "r8_benchmark0000000000000000000000000000"  # noqa: S105 - a dummy for the loopback server
BODY = json.dumps({"input": {"prompt": "hello"}})
TARGET_RATE = 5_000.0
TARGET_LOGIC_SHARE = 2 / 3

#: What the bare route answers: the shape of a finished sync-wait prediction.
BARE_REPLY: dict[str, Any] = {
    "id": "bare0000000000000000000000",
    "model": MODEL,
    "version": "hidden",
    "input": {"prompt": "hello"},
    "logs": "",
    "output": "hello",
    "data_removed": False,
    "error": None,
    "status": "processing",
    "created_at": "2026-01-01T00:00:00.000000Z",
    "urls": {
        "get": "http://127.0.0.1/v1/predictions/bare0000000000000000000000",
        "cancel": "http://127.0.0.1/v1/predictions/bare0000000000000000000000/cancel",
        "web": "http://127.0.0.1/p/bare0000000000000000000000",
    },
    "source": "api",
}

_WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Prefer"] = "wait"
"""


# -- servers (run in their own subprocess) ----------------------------------------------------


def uvicorn_settings(*, plain: bool = False) -> dict[str, str]:
    """The event loop and HTTP parser uvicorn gets: the fast ones when installed (not `plain`)."""
    return {
        "loop": "uvloop" if not plain and importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if not plain and importlib.util.find_spec("httptools") else "h11",
    }


def emulator_app() -> Any:
    """The emulator with one zero-latency model, no rate limits, no faults."""
    from replicate_async.emulator import (
        EmulatorConfig,
        FakeModel,
        RateLimits,
        create_app,
    )

    model = FakeModel(owner="bench", name="instant", kind="text", official=True, logs=())
    config = EmulatorConfig(
        tokens=(TOKEN,), models=(model,), deployments=(), rate_limits=RateLimits.unlimited()
    )
    return create_app(config)


def bare_app() -> Any:
    """A bare Starlette app: one route reading the body and answering fixed JSON."""
    from starlette.applications import Starlette
    from starlette.requests import Request  # noqa: TC002
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def create(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(BARE_REPLY, status_code=201)

    return Starlette(routes=[Route(PATH, create, methods=["POST"])])


def serve(which: str, port: int, *, plain: bool) -> None:
    """Run one server in the foreground (the subprocess's job)."""
    import uvicorn

    app = emulator_app() if which == "emulator" else bare_app()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        **uvicorn_settings(plain=plain),  # type: ignore[arg-type]
    )


def _free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post_once(port: int) -> int:
    """One create; its status (0: not answering yet)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}",
        data=BODY.encode(),
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
            "Prefer": "wait",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return int(response.status)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


class Server:
    """A server subprocess: started, answering, then stopped."""

    def __init__(self, which: str, *, plain: bool) -> None:
        """Start it and wait until it answers a create."""
        self.port = _free_port()
        command = [sys.executable, __file__, "--serve", which, "--port", str(self.port)]
        self.process = subprocess.Popen([*command, "--plain"] if plain else command)
        deadline = time.monotonic() + 20
        while (status := _post_once(self.port)) == 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the {which} server did not start")
            time.sleep(0.05)
        if status != 201:
            self.stop()
            raise RuntimeError(f"the {which} server answered {status}, not 201")

    def stop(self) -> None:
        """Terminate it."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- load generators (their own process) ------------------------------------------------------


def run_wrk(port: int, duration: float, connections: int, threads: int) -> tuple[float, int]:
    """wrk against one server: (requests per second, non-2xx answers)."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "create.lua"
        script.write_text(_WRK_SCRIPT.format(body=json.dumps(BODY), token=TOKEN))
        result = subprocess.run(
            [
                shutil.which("wrk") or "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{PATH}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    errors = re.search(r"Socket errors:.*", result.stdout)
    if rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{result.stdout}\n{result.stderr}")
    if errors:
        print(f"  wrk: {errors.group(0)}")
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


async def _aiohttp_load(port: int, duration: float, connections: int) -> tuple[float, int]:
    """Keep `connections` creates in flight for `duration` seconds."""
    import aiohttp

    url = f"http://127.0.0.1:{port}{PATH}"
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "Prefer": "wait",
    }
    done = bad = 0
    stop_at = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done, bad
            while time.perf_counter() < stop_at:
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    done += 1
                    bad += response.status != 201

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return done / elapsed, bad


def run_aiohttp(port: int, duration: float, connections: int) -> tuple[float, int]:
    """The aiohttp load generator in a subprocess of its own: (requests per second, non-201)."""
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            str(port),
            "--duration",
            str(duration),
            "--connections",
            str(connections),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate, bad = json.loads(result.stdout.strip().splitlines()[-1])
    return float(rate), int(bad)


# -- the measurement --------------------------------------------------------------------------


def measure(which: str, args: argparse.Namespace, generator: str) -> tuple[float, int]:
    """Warm up, then measure one server."""
    server = Server(which, plain=args.plain)
    try:
        if generator == "wrk":
            run_wrk(server.port, min(2.0, args.duration), args.connections, args.threads)
            return run_wrk(server.port, args.duration, args.connections, args.threads)
        run_aiohttp(server.port, min(2.0, args.duration), args.connections)
        return run_aiohttp(server.port, args.duration, args.connections)
    finally:
        server.stop()


def main() -> None:
    """Parse arguments; serve, generate load, or run the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--generator", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument(
        "--plain", action="store_true", help="asyncio and h11 even when uvloop/httptools exist"
    )
    parser.add_argument("--serve", choices=["emulator", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, plain=args.plain)
        return
    if args.load:
        print(json.dumps(asyncio.run(_aiohttp_load(args.load, args.duration, args.connections))))
        return
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "aiohttp"
    settings = uvicorn_settings(plain=args.plain)
    print(
        f"uvicorn: loop={settings['loop']} http={settings['http']}, 1 worker, access log off; "
        f"load: {generator}, {args.connections} connections, {args.duration:g} s per run; "
        f"{os.cpu_count()} CPUs"
    )
    emulator, emulator_bad = measure("emulator", args, generator)
    bare, bare_bad = measure("bare", args, generator)
    print(f"emulator (zero-latency model, Prefer: wait): {emulator:10,.0f} creates/s")
    print(f"bare Starlette JSON route:                   {bare:10,.0f} requests/s")
    if emulator_bad or bare_bad:
        print(f"non-201 answers: emulator {emulator_bad}, bare {bare_bad}")
    ratio = emulator / bare
    print(f"ratio emulator/bare: {ratio:.2f}")
    verdict = "meets" if emulator >= TARGET_RATE else "below"
    print(f"target >= {TARGET_RATE:,.0f} creates/s: {verdict}")
    share = 1 - ratio
    verdict = "meets" if share <= TARGET_LOGIC_SHARE else "above"
    print(
        f"emulator's own logic: {share:.0%} of its per-request time "
        f"(target <= {TARGET_LOGIC_SHARE:.0%}): {verdict}"
    )


if __name__ == "__main__":
    main()
