# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The `scale` profile: a concurrency sweep beside the bare aiohttp loop, and one big batch.

The sweep runs `--scale-n` fast predictions (1 s each) at each of `--scale-c` for `ours` and
the bare aiohttp loop: CPU per prediction, peak RSS and the TCP connections the server accepted;
with `--rounds K`, K times at each concurrency, the clients' order rotated every round, each
row then the medians of its rounds (the CPU ratio the median of the per-round ratios, with
their spread).
The big batch runs `--scale-big` predictions at the largest concurrency, sampling the client's
RSS every 0.5 s with the creates the emulator has accepted by then; its working RSS (peak less
the RSS before the load) over that of the sweep's run at the same concurrency is the memory
ratio (flat memory: close to 1). Within the big batch itself, its working RSS at the end over
that once `--scale-n` had finished (the samples up to `--scale-n` plus the concurrency creates)
is the same ratio without a second run, whose pool may fill at another pace; and over that
once its pool was full (99 % of the concurrency in connections) and `--scale-n` more jobs had
started: growth that is not the pool's filling.
"""

from __future__ import annotations

import sys
from typing import Any

from _bench_server import UNLIMITED
from _profiles import PROFILES, SPREAD, Row, combine_rounds, measure, rotated, table

CLIENTS = ("ours", "ours-stream", "aiohttp")
COLUMNS = (
    ("concurrency", "c", "{:,}"),
    ("jobs", "n", "{:,}"),
    ("wall s", "wall", "{:.1f}"),
    ("CPU s / 1,000", "cpu_per_1000", "{:.2f}"),
    ("x bare aiohttp", "cpu_x_aiohttp", "{:.2f}x"),
    ("spread", "cpu_x_aiohttp_spread", SPREAD),
    ("peak RSS MB", "rss_mb", "{:.0f}"),
    ("RSS x bare", "rss_x_aiohttp", "{:.2f}x"),
    ("working RSS MB", "working_rss_mb", "{:.0f}"),
    ("connections", "connections_opened", "{:,}"),
    ("connections / concurrency", "connections_x_c", "{:.3f}"),
    ("req / prediction", "requests_per_prediction", "{:.2f}"),
    ("failures", "failures", "{}"),
)


def _ratios(rows: list[dict[str, Any]]) -> None:
    """Against the bare aiohttp loop at the same concurrency and batch size."""
    ok = [r for r in rows if "error" not in r]
    for r in ok:
        r["connections_x_c"] = r["connections_opened"] / r["c"]
        bare = next(
            (b for b in ok if b["client"] == "aiohttp" and (b["c"], b["n"]) == (r["c"], r["n"])),
            None,
        )
        if bare is not None:
            r["cpu_x_aiohttp"] = r["cpu_per_1000"] / bare["cpu_per_1000"]
            r["rss_x_aiohttp"] = r["rss_mb"] / bare["rss_mb"]


def combine_sweep(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per client from the rounds of one concurrency of the sweep, with its ratios.

    One round: its rows, with their ratios. More: each round's ratios are taken within the
    round, then every number is its median over the rounds and the CPU ratio's per-round
    lowest and highest are kept (`combine_rounds`).
    """
    for rows in rounds:
        _ratios(rows)
    if len(rounds) == 1:
        return rounds[0]
    return combine_rounds("scale", rounds)


def run_scale(
    url: str,
    names: list[str],
    *,
    concurrencies: list[int],
    n: int,
    big: int,
    rounds: int = 1,
) -> dict[str, Any]:
    """The sweep (each concurrency *rounds* times, in an order rotated every round) and the big
    batch (once); prints their tables, returns the results."""
    clients = [name for name in CLIENTS if name in names]
    profile = PROFILES["fast"]
    big_c = max(concurrencies)
    sweep = []
    for c in concurrencies:
        per_round = []
        for k in range(rounds):
            rows = []
            for name in rotated(clients, k):
                row = Row(name, name, UNLIMITED)
                rows.append(measure(url, sys.executable, row, profile=profile, n=n, c=c))
                where = f"c={c}" if rounds == 1 else f"c={c} round {k + 1}/{rounds}"
                print(f"  scale {name} {where}: {_brief(rows[-1])}", file=sys.stderr)
            per_round.append(rows)
        sweep += combine_sweep(per_round)
    title = f"scale sweep: {n:,} fast predictions per run"
    if rounds > 1:
        title += f", {rounds} rounds, medians"
    print(table(title, sweep, COLUMNS), flush=True)
    batch = []
    if big:
        for name in clients:
            row = Row(name, name, UNLIMITED)
            result = measure(url, sys.executable, row, profile=profile, n=big, c=big_c, series=True)
            batch.append(result)
            print(f"  scale {name} n={big}: {_brief(result)}", file=sys.stderr)
        _ratios(batch)
        print(table(f"scale: {big:,} at concurrency {big_c:,}", batch, COLUMNS), flush=True)
    memory = _memory(sweep, batch, n=n, big=big, big_c=big_c)
    return {"sweep": sweep, "big": batch, "memory_ratio": memory, "n": n, "big_n": big}


def _memory(
    sweep: list[dict[str, Any]], batch: list[dict[str, Any]], *, n: int, big: int, big_c: int
) -> dict[str, dict[str, Any]]:
    """Each client's memory ratio: the big batch's working RSS over the sweep's run at its
    concurrency, and over its own once *n* had finished; printed, and returned."""
    memory = {}
    for r in batch:
        small = next(
            (
                s
                for s in sweep
                if (s["client"], s["c"]) == (r["client"], big_c) and "error" not in s
            ),
            None,
        )
        if small is not None and "error" not in r and small["working_rss_mb"] > 0:
            memory[r["client"]] = {
                "working_rss_small_mb": small["working_rss_mb"],
                "working_rss_big_mb": r["working_rss_mb"],
                "ratio": r["working_rss_mb"] / small["working_rss_mb"],
                "small_n": n,
                "big_n": big,
                "c": big_c,
            } | _in_run(r, n + big_c)
            memory[r["client"]] |= _from_full_pool(r, n, big_c)
    for client, m in memory.items():
        print(
            f"{client}: working RSS {m['working_rss_big_mb']:.0f} MB at {big:,} against "
            f"{m['working_rss_small_mb']:.0f} MB at {n:,} (concurrency {big_c:,}): "
            f"{m['ratio']:.2f}x"
        )
        if "in_run_ratio" in m:
            print(
                f"{client}, within the run: working RSS {m['working_rss_big_mb']:.0f} MB at the "
                f"end against {m['in_run_working_rss_mb']:.0f} MB once {n:,} had finished (the "
                f"first {m['in_run_creates']:,} creates, {m['in_run_seconds']:.0f} s): "
                f"{m['in_run_ratio']:.2f}x"
            )
        if "full_pool_ratio" in m:
            print(
                f"{client}, from a full pool: working RSS {m['working_rss_big_mb']:.0f} MB at the "
                f"end against {m['full_pool_working_rss_mb']:.0f} MB once the pool had "
                f"{m['full_pool_connections']:,} connections and {n:,} more jobs had started "
                f"({m['full_pool_creates']:,} creates, {m['full_pool_seconds']:.0f} s): "
                f"{m['full_pool_ratio']:.2f}x"
            )
    return memory


def _from_full_pool(r: dict[str, Any], n: int, c: int) -> dict[str, Any]:
    """The big batch's working RSS at its end over that once its pool was full (99 % of *c*
    connections opened) and *n* more jobs had started (its peak over the samples up to there):
    growth apart from the pool's filling, which a client that sends its requests more slowly
    than the model answers does over many waves, not in the first."""
    series = [s for s in r.get("rss_series") or [] if len(s) > 3]
    full = next((s for s in series if s[3] >= 0.99 * c), None)
    if full is None:  # an older result, or a pool that never filled
        return {}
    found = _working_up_to(r, series, full[2] + n, "full_pool")
    return found | {"full_pool_connections": full[3]} if found else {}


def _in_run(r: dict[str, Any], creates: int) -> dict[str, Any]:
    """The big batch's working RSS when about *creates* less its concurrency had finished (its
    peak over the samples up to the first that saw *creates* creates), and the run's peak over
    it: growth within one run, apart from a separate run's pool filling at another pace."""
    return _working_up_to(r, r.get("rss_series") or [], creates, "in_run")


def _working_up_to(
    r: dict[str, Any], series: list[Any], creates: int, prefix: str
) -> dict[str, Any]:
    """The working RSS (the peak less the RSS before the load) over *series* up to its first
    sample that saw *creates* creates, and the run's working RSS over it, keyed by *prefix*;
    empty for an older result without creates, or a run too short."""
    upto = next((i for i, s in enumerate(series) if len(s) > 2 and s[2] >= creates), None)
    if upto is None:
        return {}
    working = max(s[1] for s in series[: upto + 1]) - r["rss_before_mb"]
    if working <= 0:
        return {}
    return {
        f"{prefix}_working_rss_mb": working,
        f"{prefix}_creates": series[upto][2],
        f"{prefix}_seconds": series[upto][0],
        f"{prefix}_ratio": r["working_rss_mb"] / working,
    }


def _brief(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"error {r['error']}"
    return (
        f"wall {r['wall']:.1f} cpu/1000 {r['cpu_per_1000']:.2f} rss {r['rss_mb']:.0f} "
        f"conns {r['connections_opened']} failures {r['failures']}"
    )
