# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Before and after: our fan-out built from several source trees, beside the bare aiohttp loop (prints, never asserts).

    git worktree add /tmp/before <commit>
    python benchmarks/ab.py [-n 3000] [-c 1000] [--rounds 5] /tmp/before/src src

The ``fast`` profile of ``benchmarks/fanout.py`` (its emulator, its ``ours`` and ``aiohttp``
loads, each in a process of its own), for every source tree given (``ours`` imports
``replicate_async`` from there, put first on ``PYTHONPATH``). Rounds alternate the bare loop and
the trees, each round in an order rotated by one (no load always follows the same one), so a
slow minute of a shared machine falls on all of them; each tree's figure is the
median over the rounds of its CPU per 1,000 predictions, and of its ratio to the bare loop of
the same round (with their lowest and highest). Compare the trees' ratios, never absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import UNLIMITED, prepare, start_server
from _profiles import rotated

FANOUT = str(Path(__file__).resolve().parent / "fanout.py")
MODEL = "bench/fast"
TIME_SCALE = 0.1  # the fast profile's


def _cpu_per_1000(url: str, client: str, src: str | None, n: int, c: int) -> float:
    """One load in a process of its own: its CPU seconds per 1,000 predictions."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-compiled, as users run it
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    command = [sys.executable, FANOUT, "--client", client, "--url", url, "--model", MODEL]
    command += ["-n", str(n), "-c", str(c)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        sys.exit(f"{client} {src or ''} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["failures"]:
        sys.exit(f"{client} {src or ''}: {result['failures']} failed predictions")
    return float(result["cpu"]) / n * 1000


def main() -> None:
    """Alternate the bare loop and the trees in rounds; print medians and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("trees", nargs="+", help="source trees holding replicate_async")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("-c", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for tree in args.trees:
        if not (Path(tree) / "replicate_async" / "__init__.py").is_file():
            parser.error(f"{tree} holds no replicate_async package (give a tree's src folder)")
    bare: list[float] = []
    spent: dict[str, list[float]] = {tree: [] for tree in args.trees}
    proc, url = start_server()
    try:
        loads: list[str | None] = [None, *args.trees]  # None: the bare loop
        for round_ in range(1, args.rounds + 1):
            # Each round starts one place further along: no load always runs right after the
            # same one, so whatever a load leaves behind (in the emulator, in the machine's
            # caches) falls on every load in turn.
            for tree in rotated(loads, round_ - 1):
                prepare(url, time_scale=TIME_SCALE, limits=UNLIMITED)
                if tree is None:
                    bare.append(_cpu_per_1000(url, "aiohttp", None, args.n, args.c))
                    print(f"  round {round_}: aiohttp {bare[-1]:.3f}", file=sys.stderr)
                else:
                    spent[tree].append(_cpu_per_1000(url, "ours", tree, args.n, args.c))
                    print(f"  round {round_}: {tree} {spent[tree][-1]:.3f}", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
    print(f"\nfast: {args.n:,} jobs at concurrency {args.c:,}, {args.rounds} rounds, medians")
    print("| client | CPU s / 1,000 | x bare aiohttp | lowest - highest |")
    print("|---|---:|---:|---:|")
    print(f"| bare aiohttp | {statistics.median(bare):.3f} | 1.00x | |")
    for tree, values in spent.items():
        ratios = [ours / base for ours, base in zip(values, bare, strict=True)]
        print(
            f"| ours ({tree}) | {statistics.median(values):.3f} | "
            f"{statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f}x |"
        )


if __name__ == "__main__":
    main()
