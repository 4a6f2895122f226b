"""Plot the JSON written by `benchmarks/fanout.py --json OUT` into a PNG for docs/.

Usage: python benchmarks/plot_fanout.py results.json docs/fanout.png   (needs matplotlib)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

METRICS = (
    ("cpu_per_1000", "client CPU s per 1,000 predictions (log)", True),
    ("requests_per_prediction", "HTTP requests per prediction", False),
    ("wall", "wall time, s", False),
)


def main(source: str, target: str) -> None:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    profiles = list(data["profiles"])
    fig, axes = plt.subplots(
        len(profiles),
        len(METRICS),
        figsize=(4.2 * len(METRICS), 3.2 * len(profiles)),
        squeeze=False,
    )
    for row, profile in enumerate(profiles):
        results = [r for r in data["profiles"][profile] if "error" not in r]
        names = [r.get("label", r["client"]) for r in results]
        colours = ["tab:green" if n.startswith("ours") else "tab:gray" for n in names]
        for col, (key, label, log) in enumerate(METRICS):
            ax = axes[row][col]
            values = [r[key] for r in results]
            ax.barh(names, values, color=colours)
            if log:
                ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.invert_yaxis()
            for y, (value, r) in enumerate(zip(values, results, strict=True)):
                note = f" {value:.2f}" + (f"  ({r['failures']} failed)" if r["failures"] else "")
                ax.text(value, y, note, va="center", fontsize=8)
        jobs = data.get("jobs", {}).get(profile, data["n"])
        title = f"{profile} model: {jobs:,} jobs, concurrency {data['c']:,}"
        if data.get("rounds", 1) > 1:  # fanout.py --rounds K: each bar is a median
            title += f", medians of {data['rounds']} rounds"
        allowed = next((r["allowed_rate"] for r in results if "allowed_rate" in r), None)
        if allowed is not None:
            title += f", server limit {allowed:,.0f} creates/min"
        axes[row][0].set_title(title, loc="left")
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:3])
