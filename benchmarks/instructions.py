# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Instructions per prediction of our own layers, counted by valgrind: CPU cost without the machine's noise (prints, never asserts).

    python benchmarks/instructions.py [-n 4000] [--base 1000] [-c 1000] [--no-gc] [--http] [TREE ...]

CPU seconds on a shared 2-core machine move by 15 % from one run to the next, so a change
worth 3 % takes a dozen alternating rounds to show (``ab.py``). An instruction count hardly
moves, but over real HTTP it follows the timing too: how many replies and timers one pass of
the event loop handles changes what a prediction costs, and under valgrind the client runs
fifty times slower than the emulator it talks to. So this counts our code alone, with the
network taken out: the replies of the fast profile's model (a create answered ``processing``
with its output, then a GET answered ``succeeded``) are recorded once from the emulator, and
every load then runs in a process of its own, under ``valgrind --tool=cachegrind
--cache-sim=no``, against a backend that hands those replies back at once (one pass of the
loop each, as a reply would take):

- ``session``: our session's ``send_prediction``, the create and then a GET every 0.2 s
  until terminal, from ``-c`` worker tasks (the floor: headers, JSON, limiter, slot,
  decoding);
- ``run_many``: one ``client.run_many`` over every job (the run engine and the fan-out above
  the same session).

With ``--http`` the network is back in, its timing pinned: the same replies come over
loopback HTTP from a server in the load's own process, answered as soon as each request is
read, and the bare aiohttp loop of ``fanout.py`` (``aiohttp``) is counted beside ours. The
server's own instructions are in every load, so compare the loads by their difference from
the bare loop (the table's last rows), not by ratio.

Each load runs twice, with ``--base`` and with ``-n`` jobs; its figure is the difference in
instructions over the difference in jobs (imports, start and close cancel out). The polls'
jitter is seeded; with ``--no-gc`` two runs of one load agree within 0.1 %, so one run tells
a change of 1 % (give several source trees to compare them: each is put first on
``PYTHONPATH``; the repository's ``src`` by default). With the collector on, when its
collections fall moves the count by 1 to 3 % (over HTTP, two runs of one tree gave 1.592 M
and 1.562 M).
Instructions are not time (a cache miss costs more than its count): confirm what pays in
CPU seconds (``ab.py``). Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import TOKEN, UNLIMITED, control, prepare, start_server
from _peers import load_aiohttp, session_jobs

SRC = str(Path(__file__).resolve().parent.parent / "src")
MODEL = "bench/fast"
TIME_SCALE = 0.1  # the fast profile's: the model finishes 1 s after its create
LOADS = ("session", "run_many")
HTTP_LOADS = ("aiohttp", *LOADS)

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def record_replies(url: str) -> dict[str, Any]:
    """One create of the fast model and its GET once it finished, as the emulator answers."""
    import httpx

    prepare(url, time_scale=TIME_SCALE, limits=UNLIMITED)
    headers = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait=60"}
    with httpx.Client(base_url=url, headers=headers) as http:
        created = http.post(f"/v1/models/{MODEL}/predictions", json={"input": {"prompt": "job"}})
        created.raise_for_status()
        pid = created.json()["id"]
        for _ in range(100):  # the model takes 1 s: 20 s is plenty
            got = http.get(f"/v1/predictions/{pid}")
            got.raise_for_status()
            if got.json()["status"] == "succeeded":
                break
            time.sleep(0.2)
        else:
            sys.exit(f"the emulator's {MODEL} did not finish: {got.text[:200]}")
    control(url, "/_emulator/reset", {})
    return {"id": pid, "url": url, "create": created.text, "get": got.text}


class _CannedServer(asyncio.Protocol):
    """The recorded replies over HTTP/1.1, each request answered as soon as it is read."""

    def __init__(self, replies: dict[str, Any], url: str, ids: itertools.count[int]) -> None:
        self._old = replies["id"]
        # The replies' own URLs (``urls.get``) point at this server, not the emulator.
        self._create = replies["create"].replace(replies["url"], url)
        self._get = replies["get"].replace(replies["url"], url)
        self._ids = ids
        self._buffer = b""
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer, replies = self._buffer + data, []
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end]
            at = head.lower().find(b"\r\ncontent-length:")
            length = 0 if at < 0 else int(head[at + 17 :].split(b"\r\n", 1)[0])
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            method, path = head.split(b" ", 2)[:2]
            replies.append(self._reply(method, path.decode()))
        self._buffer = buffer
        if replies:
            self._transport.write(b"".join(replies))

    def _reply(self, method: bytes, path: str) -> bytes:
        if method == b"POST":
            status, body = (
                b"201 Created",
                self._create.replace(self._old, f"p{next(self._ids):025d}"),
            )
        else:
            status, body = b"200 OK", self._get.replace(self._old, path.rsplit("/", 1)[1])
        data = body.encode()
        head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        return head % (status, len(data)) + data


class _Canned:
    """A backend handing back the recorded replies, each with a fresh prediction id."""

    def __init__(self, replies: dict[str, Any]) -> None:
        from multidict import CIMultiDict

        from replicate_async._backend import Reply

        self._reply = Reply
        self._headers = CIMultiDict({"Content-Type": "application/json"})
        self._old = replies["id"]
        self._create = replies["create"]
        self._get = replies["get"]
        self._ids = itertools.count()

    async def fetch(self, outgoing: Any) -> Any:
        """The create's or the GET's reply, after one pass of the event loop."""
        await asyncio.sleep(0)
        if outgoing.method == "POST":
            pid = f"p{next(self._ids):025d}"
            return self._reply(201, self._headers, self._create.replace(self._old, pid).encode())
        pid = outgoing.url.rsplit("/", 1)[1]
        return self._reply(200, self._headers, self._get.replace(self._old, pid).encode())

    def open(self, outgoing: Any) -> Any:
        """Streams are not part of this load."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Nothing to close."""


async def _load(load: str, replies: dict[str, Any], n: int, c: int, *, http: bool) -> int:
    """Run *n* predictions at concurrency *c* over the canned backend (or *http*, from the
    canned server in this process); the failures."""
    if not http:
        return await _load_on(load, replies, n, c, "http://127.0.0.1:9")
    listening = socket.create_server(("127.0.0.1", 0), backlog=4096)
    url, ids = f"http://127.0.0.1:{listening.getsockname()[1]}", itertools.count()
    server = await asyncio.get_running_loop().create_server(
        lambda: _CannedServer(replies, url, ids), sock=listening
    )
    try:
        if load == "aiohttp":
            return await load_aiohttp(url, MODEL, n, c, "")
        return await _load_on(load, None, n, c, url)
    finally:
        server.close()


async def _load_on(load: str, replies: dict[str, Any] | None, n: int, c: int, url: str) -> int:
    """Our load at *url*, over the canned backend when given its *replies*; the failures."""
    from replicate_async import AsyncClient, RateLimits

    client = AsyncClient(
        api_token=TOKEN, base_url=url, rate_limits=RateLimits.unlimited(), max_concurrency=c,
    )  # fmt: skip
    async with client:
        session = client._session  # noqa: SLF001 - the measuring seam
        if replies is not None:
            session.__dict__["backend"] = _Canned(replies)  # no HTTP: our code alone
        if load == "run_many":
            jobs = [(MODEL, {"prompt": f"job {i}"}) for i in range(n)]
            results = await client.run_many(jobs, concurrency=c, return_exceptions=True)
            return sum(isinstance(result, Exception) for result in results)
        return await session_jobs(session, MODEL, n, c, 0.2)


def _child(args: argparse.Namespace) -> None:
    """In the load's own process (under valgrind): run it, print its failures."""
    replies = json.loads(Path(args.replies).read_text())
    import replicate_async  # noqa: F401 - imported before the load, as every load needs it

    # The polls' jitter drawn from the same seed in every run: the same timers, the same count.
    for module in ("replicate_async._sansio.polling", "replicate_async._poll_schedule"):
        rng = getattr(sys.modules.get(module), "_JITTER", None)
        if rng is not None:
            rng.seed(0)
    if args.no_gc:
        gc.disable()
    failures = asyncio.run(_load(args.child, replies, args.n, args.c, http=args.http))
    print(json.dumps({"failures": failures}))


def instructions(load: str, tree: str, replies: str, n: int, args: argparse.Namespace) -> int:
    """The instructions one run of *load* with *n* jobs executes, counted by valgrind."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-compiled, as users run it
    env["PYTHONHASHSEED"] = "0"  # the same dict and set layouts in every run
    env["PYTHONPATH"] = str(Path(tree).resolve())
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += [sys.executable, __file__, "--child", load, "--replies", replies]
    command += ["-n", str(n), "-c", str(args.c)] + (["--no-gc"] if args.no_gc else [])
    command += ["--http"] if args.http else []
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None or not done.stdout.strip():
        sys.exit(f"{load} {tree} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    if json.loads(done.stdout.strip().splitlines()[-1])["failures"]:
        sys.exit(f"{load} {tree}: failed predictions")
    return int(found.group(1).replace(",", ""))


def count_all(replies: dict[str, Any], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every tree's instructions per prediction of every load."""
    # Byte-compiled first (the trees and the installed packages): else the first run counts
    # the compiling.
    for tree in [*args.trees, sysconfig.get_paths()["purelib"]]:
        subprocess.run([sys.executable, "-m", "compileall", "-q", tree], check=True)
    counts: dict[str, dict[str, float]] = {tree: {} for tree in args.trees}
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "replies.json")
        Path(path).write_text(json.dumps(replies))
        for tree in args.trees:
            for load in args.loads:
                if load == "aiohttp" and tree != args.trees[0]:  # the same in every tree
                    counts[tree][load] = counts[args.trees[0]][load]
                    continue
                low = instructions(load, tree, path, args.base, args)
                high = instructions(load, tree, path, args.n, args)
                counts[tree][load] = (high - low) / (args.n - args.base)
                print(f"  {tree} {load}: {counts[tree][load]:,.0f}", file=sys.stderr)
    return counts


def main() -> None:
    """Count each load's instructions per prediction for every tree; print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("trees", nargs="*", default=[SRC], help="source trees of replicate_async")
    parser.add_argument("-n", type=int, default=4000, help="jobs of the larger run")
    parser.add_argument("--base", type=int, default=1000, help="jobs of the smaller run")
    parser.add_argument("-c", type=int, default=1000)
    parser.add_argument("--loads", nargs="*", choices=HTTP_LOADS, help="(default: all)")
    parser.add_argument("--http", action="store_true", help="over loopback HTTP, bare loop too")
    parser.add_argument("--no-gc", action="store_true", help="the collector off in every load")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--child", choices=HTTP_LOADS, help=argparse.SUPPRESS)
    parser.add_argument("--replies", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    args.loads = args.loads or list(HTTP_LOADS if args.http else LOADS)
    if "aiohttp" in args.loads and not args.http:
        parser.error("the aiohttp load runs --http only")
    if not 0 < args.base < args.n:
        parser.error("need 0 < --base < -n")
    for tree in args.trees:
        if not (Path(tree) / "replicate_async" / "__init__.py").is_file():
            parser.error(f"{tree} holds no replicate_async package (give a tree's src folder)")
    proc, url = start_server()
    try:
        replies = record_replies(url)
    finally:
        proc.terminate()
        proc.wait()
    _report(count_all(replies, args), args)


def _report(counts: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    """Print the table of *counts* (and write it to ``--json``)."""
    collector = ", the collector off" if args.no_gc else ""
    network = "over loopback HTTP, the server in the load's process" if args.http else "no network"
    print(
        f"\nfast, {network}: instructions per prediction "
        f"({args.base:,} -> {args.n:,} jobs at {args.c:,}{collector})"
    )
    print("| tree | " + " | ".join(args.loads) + " |")
    print("|---|" + "---:|" * len(args.loads))
    for tree, row in counts.items():
        print(f"| {tree} | " + " | ".join(f"{row[load]:,.0f}" for load in args.loads) + " |")
    if "aiohttp" in args.loads:
        print("\nabove the bare loop (ours minus aiohttp):")
        for tree, row in counts.items():
            ours = (load for load in args.loads if load != "aiohttp")
            above = (f"{load} +{row[load] - row['aiohttp']:,.0f}" for load in ours)
            print(f"  {tree}: " + ", ".join(above))
    if args.json is not None:
        result = {
            "n": args.n,
            "base": args.base,
            "c": args.c,
            "no_gc": args.no_gc,
            "http": args.http,
        }
        args.json.write_text(json.dumps({**result, "counts": counts}, indent=1) + "\n")


if __name__ == "__main__":
    main()
