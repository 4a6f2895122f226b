# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What the garbage collector costs a fan-out: ours beside the bare aiohttp loop (prints, never asserts).

    python benchmarks/gc_cost.py [-n 3000] [-c 1000] [--only ours aiohttp] [--rounds 2]
        [--threshold T0 T1 T2]

Serves the fan-out benchmark's emulator (``_bench_server.py``) and runs each client's load of
the ``fast`` profile (``_peers.py``) in a process of its own, three times per round: as it is,
timing every collection of each generation (``gc.callbacks``, process CPU time); with the
collector switched off after the imports; and switched off again, counting the objects it
tracks every 0.1 s from a thread (that run's CPU is not reported). The difference between the
two CPU columns is what collecting cost that load; the objects tracked per prediction in flight
are what each collection has to walk. ``--threshold T0 T1 T2`` adds a fourth load per client
with ``gc.set_threshold(T0, T1, T2)`` after the imports (an application's tuning, never the
library's: the setting is process-wide), and its CPU and failures. Only ratios within one run
mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import LATENCIES, prepare, raise_fd_limit, start_server
from _peers import LOADS, PREIMPORTS

MODEL = "bench/fast"
TIME_SCALE = 0.1  # the fast profile's: the 10 s model answers in 1 s


def _measure(client: str, url: str, n: int, c: int, *, mode: str) -> dict[str, Any]:
    """In the client's own process: one load, with the collector timed (``timed``), switched off
    (``off``), or switched off with its objects counted (``count``)."""
    raise_fd_limit()
    for module in PREIMPORTS[client]:
        importlib.import_module(module)
    asyncio.run(asyncio.sleep(0))
    gc.collect()
    base = len(gc.get_objects())
    spent = [0.0, 0.0, 0.0]
    runs = [0, 0, 0]
    started = [0.0]
    peak = [base]
    done = threading.Event()

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            spent[info["generation"]] += time.process_time() - started[0]
            runs[info["generation"]] += 1

    def count() -> None:  # the GC-off run: the tracked objects, sampled (nothing is freed by GC)
        while not done.wait(0.1):
            peak[0] = max(peak[0], len(gc.get_objects()))

    if mode.startswith("tuned:"):
        gc.set_threshold(*(int(t) for t in mode.removeprefix("tuned:").split(",")))
    if mode == "timed" or mode.startswith("tuned:"):
        gc.callbacks.append(timer)
    else:
        gc.disable()
    if mode == "count":
        threading.Thread(target=count, daemon=True).start()
    cpu = time.process_time()
    failures = asyncio.run(LOADS[client](url, MODEL, n, c, "none"))
    cpu = time.process_time() - cpu
    done.set()
    return {
        "cpu_per_1000": cpu / n * 1000,
        "failures": failures,
        "gc_seconds": spent,
        "collections": runs,
        "objects_per_in_flight": (peak[0] - base) / min(n, c),
    }


def _run(client: str, url: str, n: int, c: int, *, mode: str) -> dict[str, Any]:
    """One load in a fresh process (its heap and imports its own)."""
    prepare(url, time_scale=TIME_SCALE, limits=None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", client, url, str(n), str(c), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    if result["failures"]:  # the load printed its first three failures
        print(f"{client} ({mode}): {done.stderr.strip()}", file=sys.stderr)
    return result


def main() -> None:
    """Run the rounds and print one table per round."""
    if sys.argv[1:2] == ["--child"]:
        client, url, n, c, mode = sys.argv[2:7]
        result = _measure(client, url, int(n), int(c), mode=mode)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=3000, help="jobs per load")
    parser.add_argument("-c", type=int, default=1000, help="concurrency")
    parser.add_argument("--only", nargs="*", default=["ours", "aiohttp"], choices=sorted(LOADS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--threshold",
        type=int,
        nargs=3,
        metavar="T",
        help="also a load with gc.set_threshold(T0, T1, T2)",
    )
    args = parser.parse_args()
    assert "fast" in LATENCIES
    server, url = start_server()
    try:
        for round_ in range(1, args.rounds + 1):
            rows = []
            for client in args.only:
                timed = _run(client, url, args.n, args.c, mode="timed")
                off = _run(client, url, args.n, args.c, mode="off")
                off["objects_per_in_flight"] = _run(client, url, args.n, args.c, mode="count")[
                    "objects_per_in_flight"
                ]
                tuned = None
                if args.threshold:
                    mode = "tuned:" + ",".join(str(t) for t in args.threshold)
                    tuned = _run(client, url, args.n, args.c, mode=mode)
                rows.append((client, timed, off, tuned))
            bare = next((r for r in rows if r[0] == "aiohttp"), rows[0])
            print(f"\nround {round_}: {args.n:,} fast predictions at concurrency {args.c:,}")
            tuning = (
                f" threshold {tuple(args.threshold)}: CPU s / 1,000 | x bare | failures |"
                if args.threshold
                else ""
            )
            print(
                "| client | CPU s / 1,000 | x bare | GC off: CPU s / 1,000 | x bare | collecting, "
                "us / prediction (gen 0 / 1 / 2) | collections (gen 0 / 1 / 2) | objects tracked "
                "per prediction in flight |" + tuning
            )
            print(
                "|---|---:|---:|---:|---:|---|---|---:|"
                + ("---:|---:|---:|" if args.threshold else "")
            )
            for client, timed, off, tuned in rows:
                per = [s / args.n * 1e6 for s in timed["gc_seconds"]]
                print(
                    f"| {client} | {timed['cpu_per_1000']:.2f} | "
                    f"{timed['cpu_per_1000'] / bare[1]['cpu_per_1000']:.2f}x | "
                    f"{off['cpu_per_1000']:.2f} | {off['cpu_per_1000'] / bare[2]['cpu_per_1000']:.2f}x | "
                    f"{sum(per):.0f} ({per[0]:.0f} / {per[1]:.0f} / {per[2]:.0f}) | "
                    f"{' / '.join(str(x) for x in timed['collections'])} | "
                    f"{off['objects_per_in_flight']:.0f} |"
                    + (
                        ""
                        if tuned is None or bare[3] is None
                        else f" {tuned['cpu_per_1000']:.2f} | "
                        f"{tuned['cpu_per_1000'] / bare[3]['cpu_per_1000']:.2f}x | "
                        f"{tuned['failures']} |"
                    )
                )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
