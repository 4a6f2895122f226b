# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The fan-out benchmark's profiles: which model, time scale and limits each row runs against.

- `fast`: a model taking 1 s (time scale 0.1), answered within `Prefer: wait` (60 s, held 6 s).
- `polled`: a model taking 3 s at time scale 1/60: the clients' 60 s wait is held 1 s, then they
  poll (the bare loops every 0.5 s, the reference for wall time).
- `paced`: this library with its default rate limits against a server enforcing the API's
  default limits (600 creates a minute, a minute's burst), beside the same load unpaced.
- `slow`: a 10 s model at scale 0.1 (the wait held 6 s, then polled).
- `limited`: fast jobs against a server with a small create bucket (`--limit`, `--burst`); our
  client is told the same limits; reports the create rate reached.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from _bench_server import DEFAULT_LIMITS, TOKEN, UNLIMITED, control, prepare, rss_mb

SCRIPT = str(Path(__file__).resolve().parent / "fanout.py")


@dataclass(frozen=True)
class Profile:
    """A model at a time scale."""

    model: str
    time_scale: float
    title: str


PROFILES = {
    "fast": Profile("bench/fast", 0.1, "fast model (1 s, answered within the wait)"),
    "polled": Profile("bench/polled", 1 / 60, "polled model (3 s, the create's wait held 1 s)"),
    "paced": Profile("bench/fast", 0.1, "paced: default rate limits, server at the API's limits"),
    "slow": Profile("bench/slow", 0.1, "slow model (10 s, the wait held 6 s)"),
    "limited": Profile("bench/fast", 0.1, "limited: a small create bucket"),
}


@dataclass(frozen=True)
class Row:
    """One client's run in a profile: what the server enforces and what our client is told."""

    label: str
    client: str
    server_limits: dict[str, Any]
    client_limits: str = "none"  # ours: "none", "default" or "PER_MINUTE,BURST"


def rows_for(profile: str, names: list[str], limit: tuple[float, float]) -> list[Row]:
    """The rows a profile runs for the selected clients."""
    if profile == "paced":
        rows = []
        if "ours" in names:
            rows += [
                Row("ours paced", "ours", DEFAULT_LIMITS, "default"),
                Row("ours unpaced", "ours", UNLIMITED),
            ]
        return rows + [Row(n, n, UNLIMITED) for n in names if n == "aiohttp"]
    if profile == "limited":
        server = {"create": {"per_minute": limit[0], "burst": limit[1]}}
        server |= {"get_prediction": None, "other": None}
        return [Row(n, n, server, f"{limit[0]},{limit[1]}") for n in names]
    return [Row(n, n, UNLIMITED) for n in names]


def _sample(
    proc: subprocess.Popen[str], url: str, series: list[tuple[float, float, int, int]], opened: int
) -> None:
    """Every 0.5 s until the process ends: (seconds since start, its RSS in MB, the creates the
    emulator has accepted so far: how far the batch has got, whatever its pool's filling; the
    TCP connections the client has opened so far: how full its pool is). *opened*: the
    emulator's connection count before the run (each stats request opens one more)."""
    start = time.perf_counter()
    while proc.poll() is None:
        rss = rss_mb(proc.pid)
        if rss is not None:
            stats = control(url, "/_emulator/stats")
            connections = int(stats["connections_opened"]) - opened - (len(series) + 1)
            sample = (round(time.perf_counter() - start, 2), round(rss, 1), int(stats["creates"]))
            series.append((*sample, connections))
        time.sleep(0.5)


def measure(
    url: str,
    python: str,
    row: Row,
    *,
    profile: Profile,
    n: int,
    c: int,
    series: bool = False,
) -> dict[str, Any]:
    """Run one row's load in a subprocess against a freshly reset emulator; its measurements."""
    opened = prepare(url, time_scale=profile.time_scale, limits=row.server_limits)
    command = [python, SCRIPT, "--client", row.client, "--url", url, "--model", profile.model]
    command += ["-n", str(n), "-c", str(c), "--client-limits", row.client_limits]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float, int, int]] = []
    sampler = threading.Thread(target=_sample, args=(proc, url, samples, opened), daemon=True)
    if series:
        sampler.start()
    stdout, stderr = proc.communicate(timeout=7200)
    if series:
        sampler.join()
    stats = control(url, "/_emulator/stats")
    requests = sum(
        int(count)
        for route, statuses in stats["requests"].items()
        if " /v1/" in route
        for count in statuses.values()
    )
    base = {"label": row.label, "client": row.client, "n": n, "c": c}
    if proc.returncode != 0 or not stdout.strip():
        return base | {"error": (stderr.strip().splitlines() or ["failed"])[-1][:200]}
    result = base | json.loads(stdout.strip().splitlines()[-1])
    result |= {
        "cpu_per_1000": result["cpu"] / n * 1000,
        "working_rss_mb": result["rss_mb"] - result["rss_before_mb"],
        "requests_per_prediction": requests / n,
        "throttled": stats["throttled"],
        "creates": stats["creates"],
        # minus one: the connection of the stats request above (and one per sample's)
        "connections_opened": stats["connections_opened"] - opened - 1 - len(samples),
        "sample_error": (stderr.strip().splitlines() or [""])[0][:160],
    }
    if series:
        result["rss_series"] = samples
    return result


def _created_at(url: str) -> list[float]:
    """Every prediction's `created_at` (Unix seconds), following the list's cursors."""
    import urllib.request

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


def add_ratios(profile: str, rows: list[dict[str, Any]]) -> None:
    """Each row's CPU against the bare aiohttp loop's (and wall, paced ratios where they apply)."""
    ok = {r["label"]: r for r in rows if "error" not in r}
    bare = ok.get("aiohttp")
    for r in ok.values():
        if bare is not None and bare["cpu_per_1000"] > 0:
            r["cpu_x_aiohttp"] = r["cpu_per_1000"] / bare["cpu_per_1000"]
            r["rss_x_aiohttp"] = r["rss_mb"] / bare["rss_mb"]
            if profile == "polled":
                r["wall_x_poll"] = r["wall"] / bare["wall"]
    unpaced = ok.get("ours unpaced")
    if profile == "paced" and unpaced is not None and "ours paced" in ok:
        ok["ours paced"]["cpu_x_unpaced"] = ok["ours paced"]["cpu"] / unpaced["cpu"]


#: The ratios `add_ratios` sets; over rounds, each is the median of the per-round ratios.
RATIOS = ("cpu_x_aiohttp", "rss_x_aiohttp", "cpu_x_unpaced", "wall_x_poll")
#: The ratios whose per-round min and max are reported (`<ratio>_spread`).
SPREADS = ("cpu_x_aiohttp", "cpu_x_unpaced", "wall_x_poll")
#: Counts summed over rounds rather than taken at their median.
SUMMED = ("failures",)


def rotated(items: list[Any], k: int) -> list[Any]:
    """*items* rotated left by *k* places: round *k*'s order, so that over rounds every item
    takes every position and none always runs right after the same one."""
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]


def _median(values: list[Any]) -> Any:
    """The median, kept an int when the values are ints and it is whole (counts stay counts)."""
    median = statistics.median(values)
    whole = all(isinstance(v, int) for v in values) and float(median).is_integer()
    return int(median) if whole else median


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def combine_rounds(profile: str, rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per label from K rounds of the same rows: medians, and the per-round ratios.

    Each round's ratios are taken within that round (its rows against its own bare aiohttp
    row), so a slow minute of the machine falls on both sides of a ratio; the reported ratio is
    the median of those and `<ratio>_spread` their [min, max]. Every other number is the median
    over the rounds the row ran in, except the counts in `SUMMED`; `cpu_per_1000_rounds` keeps
    the raw per-round figures. A round that failed is left out and counted in `failed_rounds`;
    a row that failed in every round is its last error.
    """
    rounds = [[dict(r) for r in rows] for rows in rounds]  # add_ratios writes into rows
    for rows in rounds:
        add_ratios(profile, rows)
    labels = list(dict.fromkeys(r["label"] for rows in rounds for r in rows))
    combined = []
    for label in labels:
        runs = [r for rows in rounds for r in rows if r["label"] == label]
        ok = [r for r in runs if "error" not in r]
        if not ok:
            combined.append(runs[-1] | {"rounds": 0, "failed_rounds": len(runs)})
            continue
        row = dict(ok[0])
        for key in {k for r in ok for k, v in r.items() if _number(v)}:
            values = [r[key] for r in ok if _number(r.get(key))]
            row[key] = sum(values) if key in SUMMED else _median(values)
        for key in SPREADS:
            per_round = [r[key] for r in ok if key in r]
            if per_round:
                row[f"{key}_spread"] = [min(per_round), max(per_round)]
                row[f"{key}_rounds"] = per_round
        row["cpu_per_1000_rounds"] = [r["cpu_per_1000"] for r in ok]
        row["rounds"] = len(ok)
        if len(ok) < len(runs):
            row["failed_rounds"] = len(runs) - len(ok)
            row["round_error"] = next(r["error"] for r in runs if "error" in r)
        combined.append(row)
    return combined


#: A `<ratio>_spread` cell: the lowest and highest per-round ratio.
SPREAD = "{0[0]:.2f}-{0[1]:.2f}x"
#: (header, key, format) of the table's columns; a column no row has is left out.
COLUMNS = (
    ("wall s", "wall", "{:.1f}"),
    ("CPU s / 1,000", "cpu_per_1000", "{:.2f}"),
    ("x bare aiohttp", "cpu_x_aiohttp", "{:.2f}x"),
    ("spread", "cpu_x_aiohttp_spread", SPREAD),
    ("CPU x unpaced", "cpu_x_unpaced", "{:.2f}x"),
    ("spread", "cpu_x_unpaced_spread", SPREAD),
    ("wall x 0.5 s polling", "wall_x_poll", "{:.2f}x"),
    ("spread", "wall_x_poll_spread", SPREAD),
    ("import CPU s", "import_cpu", "{:.2f}"),
    ("peak RSS MB", "rss_mb", "{:.0f}"),
    ("req / prediction", "requests_per_prediction", "{:.2f}"),
    ("connections", "connections_opened", "{:,}"),
    ("429s", "throttled", "{}"),
    ("failures", "failures", "{}"),
    ("failed rounds", "failed_rounds", "{}"),
    ("creates/min", "create_rate", "{:.0f}"),
)


def table(title: str, rows: list[dict[str, Any]], columns: tuple[Any, ...] = COLUMNS) -> str:
    """A Markdown table of the rows."""
    ok = [r for r in rows if "error" not in r]
    shown = [col for col in columns if any(r.get(col[1]) is not None for r in ok)]
    lines = [
        f"\n{title}",
        "| client | " + " | ".join(h for h, _, _ in shown) + " |",
        "|---|" + "---:|" * len(shown),
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['label']} | did not run: {r['error']} |" + " |" * (len(shown) - 1))
            continue
        cells = [fmt.format(r[key]) if r.get(key) is not None else "" for _, key, fmt in shown]
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
