# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Plot the scale results of `benchmarks/fanout.py --profiles scale --json OUT` into a PNG.

Usage: python benchmarks/plot_scale.py benchmarks/results/scale.json docs/scale.png [BIG.json]

With BIG.json (another run's results, e.g. `--scale-big 0` rounds for the sweep and a separate
`--only ours-stream` big batch), the big batch's panel is drawn from that file instead.

Needs matplotlib, a benchmark-only requirement (not a dependency of the library): e.g.
`python -m venv /tmp/plot && /tmp/plot/bin/pip install matplotlib`, then run this with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

COLOURS = {"ours": "tab:green", "ours-stream": "tab:olive", "aiohttp": "tab:gray"}
LABELS = {
    "ours": "replicate-async run_many",
    "ours-stream": "replicate-async as_completed",
    "aiohttp": "bare aiohttp loop",
}
SWEEP = (
    ("cpu_per_1000", "client CPU s per 1,000 predictions"),
    ("rss_mb", "peak RSS, MB"),
    ("connections_x_c", "connections opened / concurrency"),
)


def _by_client(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if "error" not in r:
            out.setdefault(r["client"], []).append(r)
    return out


def main(source: str, target: str, big: str | None = None) -> None:
    """Draw the sweep (three panels) and the big batch's RSS over time (one panel, from *big*
    when given)."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))["scale"]
    if big is not None:
        other = json.loads(Path(big).read_text(encoding="utf-8"))["scale"]
        data = data | {"big": other["big"], "big_n": other["big_n"]}
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    for ax, (key, label) in zip(axes, SWEEP, strict=False):
        for client, rows in _by_client(data["sweep"]).items():
            xs = [r["c"] for r in rows]
            ys = [r[key] for r in rows]
            ax.plot(xs, ys, "o-", color=COLOURS.get(client), label=LABELS.get(client, client))
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(f"{y:.2f}" if y < 10 else f"{y:.0f}", (x, y), fontsize=8)
        ax.set_xscale("log")
        ax.set_xticks([r["c"] for r in data["sweep"]])
        ax.set_xticklabels([f"{r['c']:,}" for r in data["sweep"]])
        ax.set_xlabel("concurrency")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{label}\n{data['n']:,} predictions per run", fontsize=9)
    axes[0].legend(fontsize=8)
    ax = axes[3]
    pool = None
    for r in data.get("big", []):
        if "error" in r or not r.get("rss_series"):
            continue
        # (t, RSS), then the creates (since session 13) and the connections (session 14)
        t, rss, *rest = zip(*r["rss_series"], strict=True)
        ax.plot(t, rss, color=COLOURS.get(r["client"]), label=LABELS.get(r["client"], r["client"]))
        if len(rest) > 1:  # the pool's filling, on an axis of its own
            pool = pool or ax.twinx()
            pool.plot(t, rest[1], ":", color=COLOURS.get(r["client"]), label="connections opened")
            pool.set_ylabel("connections opened", fontsize=8)
            pool.set_ylim(bottom=0)
            pool.legend(fontsize=8, loc="center right")
    if data.get("big"):
        big_c = data["big"][0]["c"]
        ax.set_title(f"client RSS during {data['big_n']:,} predictions, concurrency {big_c:,}")
        ax.title.set_fontsize(9)
        ax.set_xlabel("seconds")
        ax.set_ylabel("RSS, MB")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:4])
