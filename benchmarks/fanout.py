# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fan-out at scale: our run_many against the official clients and bare loops (prints, never asserts).

    python benchmarks/fanout.py [-n 1000] [-c 500] [--profiles fast polled paced ...]
        [--paced-n 1000] [--limited-jobs 600] [--limit 1200] [--burst 5]
        [--scale-c 500 2000 10000] [--scale-n 20000] [--scale-big 200000]
        [--replicate1 PYTHON] [--replicate2 PYTHON] [--only NAME ...] [--rounds K] [--json OUT]

One emulator is served in its own process (`_bench_server.py`). Each client runs its load in a
subprocess of its own (the official Python clients in their own virtual environments, given by
their interpreters; the JS client in node, installed into benchmarks/js by `npm ci` on first
use) and reports wall time, CPU seconds of the load (after its imports, which are reported
apart), peak RSS and failures; the emulator's counters give HTTP requests per prediction, 429s
and the TCP connections it accepted. Profiles are described in `_profiles.py` (fast, polled,
paced, slow, limited) and `_scale.py` (scale). Every table shows ratios against the bare aiohttp
loop measured in the same run.

With `--rounds K` (K > 1) every profile runs its rows K times (`scale`: its sweep, not its big
batch), alternating them within each round in an order rotated by one every round (ours,
aiohttp, ...; then aiohttp, ..., ours), so a slow minute of a shared machine falls on all of
them and no row always runs right after the same one. Each row then reports its medians over
the rounds (failures summed), the raw `cpu_per_1000_rounds`, and as its ratios (`x bare
aiohttp`, `CPU x unpaced`, `wall x 0.5 s polling`) the median of the per-round ratios, each
round's row against that round's reference, with their lowest and highest in a `spread` column.
K = 1 (the default) is one measurement per row, as before.

Clients: `ours` (AsyncClient.run_many), `ours-stream` (as_completed over a generator),
`replicate1` (replicate==1.0.7, `async_run` under the concurrency limit), `replicate2` (replicate==2.0.0b4, `AsyncReplicate.run`), `js` (the official
JS client `replicate` 1.4.0, `replicate.run` with its defaults), `httpx` and `aiohttp` (bare
loops: create with `Prefer: wait`, then GET every 0.5 s as the official clients do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _bench_server import start_server
from _peers import CLIENTS, js_ready, run_client
from _profiles import (
    PROFILES,
    Row,
    add_ratios,
    combine_rounds,
    create_rate,
    measure,
    rotated,
    rows_for,
    table,
)
from _scale import run_scale

DEFAULT_PROFILES = ["fast", "polled", "paced"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="jobs per client (fast, polled, slow)")
    parser.add_argument("-c", type=int, default=500, help="concurrency (all but scale)")
    parser.add_argument(
        "--profiles",
        nargs="*",
        default=DEFAULT_PROFILES,
        choices=[*PROFILES, "scale"],
        help=f"default: {' '.join(DEFAULT_PROFILES)}",
    )
    parser.add_argument("--paced-n", type=int, default=1000, help="jobs in `paced`")
    parser.add_argument("--limited-jobs", type=int, default=600, help="jobs in `limited`")
    parser.add_argument("--limit", type=float, default=1200, help="creates/min in `limited`")
    parser.add_argument("--burst", type=float, default=5, help="create burst in `limited`")
    parser.add_argument("--scale-c", type=int, nargs="*", default=[500, 2000, 10000])
    parser.add_argument("--scale-n", type=int, default=20000, help="jobs per sweep run")
    parser.add_argument("--scale-big", type=int, default=200000, help="the big batch (0: none)")
    parser.add_argument("--replicate1", help="python of a venv with replicate==1.0.7")
    parser.add_argument("--replicate2", help="python of a venv with replicate==2.0.0b4")
    parser.add_argument("--only", nargs="*", choices=CLIENTS)
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=1,
        metavar="K",
        help="run each profile's rows K times, alternating in a rotated order, and report "
        "medians and the spread of the per-round ratios (default 1; scale: its sweep, the big "
        "batch runs once)",
    )
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--client-limits", default="none", help=argparse.SUPPRESS)
    return parser


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a whole number of rounds of at least 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _clients(args: argparse.Namespace) -> dict[str, str]:
    """The selected clients that can run, with their interpreters."""
    pythons = dict.fromkeys(("ours", "ours-stream", "httpx", "aiohttp"), sys.executable)
    pythons["js"] = sys.executable  # the Python wrapper measuring node
    if args.replicate1:
        pythons["replicate1"] = args.replicate1
    if args.replicate2:
        pythons["replicate2"] = args.replicate2
    selected = {name: pythons[name] for name in (args.only or CLIENTS) if name in pythons}
    if "js" in selected:
        why = js_ready()
        if why is not None:
            print(why, file=sys.stderr)
            del selected["js"]
    return selected


def _round(
    args: argparse.Namespace,
    url: str,
    pythons: dict[str, str],
    *,
    profile: str,
    plan: list[Row],
    n: int,
    k: int | None = None,
) -> list[dict[str, Any]]:
    """Measure every row of the plan once, in order (round *k* of several, if given)."""
    rows = []
    for row in plan if k is None else rotated(plan, k - 1):
        result = measure(url, pythons[row.client], row, profile=PROFILES[profile], n=n, c=args.c)
        if profile == "limited" and "error" not in result:
            result["create_rate"] = create_rate(url, burst=args.burst)
        rows.append(result)
        where = profile if k is None else f"{profile} round {k}/{args.rounds}"
        print(f"  {where} {row.label}: {result}", file=sys.stderr)
    return rows


def main() -> None:
    """Run the profiles (or, with --client, one client's load in this process)."""
    args = _parser().parse_args()
    if args.client:
        run_client(args.client, args.url, args.model, n=args.n, c=args.c, limits=args.client_limits)
        return
    pythons = _clients(args)
    names = list(pythons)
    proc, url = start_server()
    results: dict[str, Any] = {"n": args.n, "c": args.c, "profiles": {}, "jobs": {}}
    if args.rounds > 1:
        results["rounds"] = args.rounds
    try:
        for profile in args.profiles:
            if profile == "scale":
                results["scale"] = run_scale(
                    url,
                    names,
                    concurrencies=args.scale_c,
                    n=args.scale_n,
                    big=args.scale_big,
                    rounds=args.rounds,
                )
                continue
            n = {"paced": args.paced_n, "limited": args.limited_jobs}.get(profile, args.n)
            spec = PROFILES[profile]
            title = f"{spec.title}: {n:,} jobs, concurrency {args.c:,}"
            plan = rows_for(profile, names, (args.limit, args.burst))
            if args.rounds == 1:
                rows = _round(args, url, pythons, profile=profile, plan=plan, n=n)
                add_ratios(profile, rows)
            else:
                rounds = [
                    _round(args, url, pythons, profile=profile, plan=plan, n=n, k=k)
                    for k in range(1, args.rounds + 1)
                ]
                rows = combine_rounds(profile, rounds)
                title += f", {args.rounds} rounds, medians"
            results["profiles"][profile] = rows
            results["jobs"][profile] = n
            print(table(title, rows), flush=True)
    finally:
        proc.terminate()
        proc.wait()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
