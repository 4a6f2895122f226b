# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Import cost of the library beside its peers and its heavy dependencies (prints, never asserts).

    python benchmarks/import_time.py [--repeat 15] [--json OUT]

Each import runs in a fresh interpreter (``python -c "import X"``); the table shows the median
wall time of ``--repeat`` interleaved rounds (every target once per round, so a slow spell on a
shared machine hits all alike) minus the median of a bare ``python -c pass``, and the ratio to
``replicate`` (the official client) when it is installed. Also measured: the command line's
``--help``, and which heavy modules ``import replicate_async`` loads (none should be: they are
imported where they are first needed).

Python must be allowed to cache bytecode (no ``PYTHONDONTWRITEBYTECODE``), as on a user's
machine: without the cache every run compiles the package's own modules again, which measures
the compiler. The script warms the caches with one import of each target first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from importlib.util import find_spec

TARGETS = (
    ("replicate_async", "import replicate_async"),
    ("replicate_async.catalog", "import replicate_async.catalog"),
    ("replicate (official 1.x)", "import replicate"),
    ("aiohttp", "import aiohttp"),
    ("httpx", "import httpx"),
    ("cattrs", "import cattrs"),
    ("attrs", "import attrs"),
    ("anyio", "import anyio"),
    (
        "replicate-async --help",
        (
            "import sys; sys.argv=['replicate-async','--help'];"
            " from replicate_async.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
        ),
    ),
)
HEAVY = ("aiohttp", "httpx", "cattrs", "stamina", "jsonschema", "rich", "trio", "yaml")


def _time(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _available(code: str) -> bool:
    """Whether the module a plain ``import X`` names is installed (other code always runs)."""
    words = code.split()
    if len(words) != 2 or words[0] != "import":
        return True
    return find_spec(words[1].split(".")[0]) is not None


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "warning: PYTHONDONTWRITEBYTECODE is set: no bytecode cache, so this measures the compiler"
        )
    targets = [(name, code) for name, code in TARGETS if _available(code)]
    for _, code in targets:  # warm the bytecode caches
        _time(code)
    samples: dict[str, list[float]] = {name: [] for name, _ in targets}
    bare: list[float] = []
    for _ in range(args.repeat):
        bare.append(_time("pass"))
        for name, code in targets:
            samples[name].append(_time(code))
    floor = statistics.median(bare)
    costs = {name: statistics.median(times) - floor for name, times in samples.items()}
    peer = costs.get("replicate (official 1.x)")
    print(f"python startup (subtracted): {floor * 1000:.0f} ms, {args.repeat} rounds")
    print(f"{'import':<28} {'ms':>7} {'x replicate':>12}")
    for name, cost in costs.items():
        ratio = f"{cost / peer:.2f}" if peer else "-"
        print(f"{name:<28} {cost * 1000:>7.0f} {ratio:>12}")
    probe = (
        f"import sys, replicate_async; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    print(f"heavy modules loaded by `import replicate_async`: {loaded or 'none'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:  # noqa: PTH123
            json.dump({"floor": floor, "costs": costs, "samples": samples, "heavy": loaded}, out)


if __name__ == "__main__":
    main()
