# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`benchmarks/fanout.py --rounds K`: how K rounds of rows become one row each (pure functions).

The rounds are made up here (no load is run): the benchmark's own measurements are what it
prints. `benchmarks/` is not a package, so its `_profiles.py` (and the `_bench_server.py` it
imports, standard library only) are loaded from their files.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_load("_bench_server")
profiles = _load("_profiles")


def row(label: str, cpu: float, **extra: Any) -> dict[str, Any]:
    """A measured row as `measure` returns it (n = 1,000, so cpu_per_1000 equals cpu)."""
    base = {"label": label, "client": label.partition(" ")[0], "n": 1000, "c": 500, "wall": 3.0}
    base |= {"cpu": cpu, "cpu_per_1000": cpu, "rss_mb": 40.0, "failures": 0, "sample_error": ""}
    return base | {"connections_opened": 500, "requests_per_prediction": 2.0} | extra


def by_label(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["label"]: r for r in rows}


def test_the_ratio_is_the_median_of_per_round_ratios_not_a_ratio_of_medians() -> None:
    # The machine slows down in round 2 for both rows; the per-round ratio stays near 1.5x.
    rounds = [
        [row("ours", 1.5), row("aiohttp", 1.0)],
        [row("ours", 3.2), row("aiohttp", 2.0)],
        [row("ours", 2.1), row("aiohttp", 1.5)],
    ]
    combined = by_label(profiles.combine_rounds("fast", rounds))
    ours = combined["ours"]
    assert ours["cpu_x_aiohttp"] == pytest.approx(1.5)  # per round: 1.5, 1.6, 1.4
    assert ours["cpu_x_aiohttp_spread"] == pytest.approx([1.4, 1.6])
    assert ours["cpu_x_aiohttp_rounds"] == pytest.approx([1.5, 1.6, 1.4])
    # medians of ours (2.1) over aiohttp (1.5) would be 1.4x
    assert ours["cpu_per_1000"] == pytest.approx(2.1)
    assert ours["cpu_per_1000_rounds"] == [1.5, 3.2, 2.1]
    assert ours["rounds"] == 3
    assert combined["aiohttp"]["cpu_x_aiohttp"] == pytest.approx(1.0)
    assert [r["label"] for r in profiles.combine_rounds("fast", rounds)] == ["ours", "aiohttp"]


def test_numbers_are_medians_failures_summed_counts_stay_ints() -> None:
    rounds = [
        [row("ours", 1.0, wall=2.0, failures=1, connections_opened=500)],
        [row("ours", 1.0, wall=9.0, failures=0, connections_opened=503)],
        [row("ours", 1.0, wall=2.5, failures=2, connections_opened=501)],
        [row("ours", 1.0, wall=2.4, failures=0, connections_opened=502)],
    ]
    (ours,) = profiles.combine_rounds("fast", rounds)
    assert ours["wall"] == pytest.approx(2.45)
    assert ours["failures"] == 3
    assert ours["connections_opened"] == 501.5  # an even count's median may fall between
    assert ours["requests_per_prediction"] == 2.0
    assert ours["c"] == 500
    assert isinstance(ours["c"], int)
    assert "cpu_x_aiohttp" not in ours  # no bare loop ran: no ratio


def test_paced_and_polled_ratios_are_per_round_too() -> None:
    paced = [
        [row("ours paced", 1.1), row("ours unpaced", 1.0), row("aiohttp", 0.5)],
        [row("ours paced", 2.4), row("ours unpaced", 2.0), row("aiohttp", 1.0)],
        [row("ours paced", 1.5), row("ours unpaced", 1.5), row("aiohttp", 0.75)],
    ]
    combined = by_label(profiles.combine_rounds("paced", paced))
    assert combined["ours paced"]["cpu_x_unpaced"] == pytest.approx(1.1)
    assert combined["ours paced"]["cpu_x_unpaced_spread"] == pytest.approx([1.0, 1.2])
    assert "cpu_x_unpaced" not in combined["ours unpaced"]
    polled = [
        [row("ours", 1.0, wall=3.0), row("aiohttp", 1.0, wall=3.5)],
        [row("ours", 1.0, wall=3.3), row("aiohttp", 1.0, wall=3.0)],
    ]
    ours = by_label(profiles.combine_rounds("polled", polled))["ours"]
    assert ours["wall_x_poll_spread"] == pytest.approx([3.0 / 3.5, 1.1])
    assert ours["wall_x_poll"] == pytest.approx((3.0 / 3.5 + 1.1) / 2)


def test_failed_rounds_are_left_out_and_counted() -> None:
    error = {"label": "ours", "client": "ours", "n": 1000, "c": 500, "error": "boom"}
    rounds = [
        [row("ours", 1.5), row("aiohttp", 1.0)],
        [error, row("aiohttp", 9.0)],
        [row("ours", 1.2), row("aiohttp", 1.0)],
    ]
    combined = by_label(profiles.combine_rounds("fast", rounds))
    ours = combined["ours"]
    assert ours["rounds"] == 2
    assert ours["failed_rounds"] == 1
    assert ours["round_error"] == "boom"
    assert ours["cpu_x_aiohttp_rounds"] == pytest.approx([1.5, 1.2])
    assert combined["aiohttp"]["rounds"] == 3
    never = by_label(profiles.combine_rounds("fast", [[error], [error]]))["ours"]
    assert never["error"] == "boom"
    assert never["failed_rounds"] == 2
    assert "did not run: boom" in profiles.table("t", [never])


def test_the_table_shows_spread_only_for_rounds() -> None:
    one = [row("ours", 1.5), row("aiohttp", 1.0)]
    profiles.add_ratios("fast", one)
    assert "spread" not in profiles.table("one run", one)
    assert "1.50x" in profiles.table("one run", one)
    rounds = [[row("ours", 1.5), row("aiohttp", 1.0)], [row("ours", 2.6), row("aiohttp", 2.0)]]
    text = profiles.table("rounds", profiles.combine_rounds("fast", rounds))
    header, _, ours, _ = text.strip().splitlines()[1:]
    assert "| x bare aiohttp | spread |" in header
    assert "| 1.40x | 1.30-1.50x |" in ours


def test_each_round_rotates_the_order_so_every_row_takes_every_place() -> None:
    plan = ["ours", "aiohttp", "js"]
    orders = [profiles.rotated(plan, k) for k in range(3)]
    assert orders == [
        ["ours", "aiohttp", "js"],
        ["aiohttp", "js", "ours"],
        ["js", "ours", "aiohttp"],
    ]
    for place in range(3):
        assert sorted(order[place] for order in orders) == sorted(plan)
    assert profiles.rotated(plan, 4) == orders[1]  # round k + len(plan) is round k again
    assert profiles.rotated([], 2) == []


scale = _load("_scale")


def test_the_scale_sweep_combines_its_rounds_at_each_concurrency() -> None:
    def at(label: str, cpu: float, **extra: Any) -> dict[str, Any]:
        return row(label, cpu, c=10000, n=20000, **extra)

    # Rounds run in rotated order: the rows are matched by client, not by place.
    rounds = [
        [at("ours", 1.5, rss_mb=300.0, connections_opened=10000), at("aiohttp", 1.0, rss_mb=250.0)],
        [at("aiohttp", 0.8, rss_mb=240.0), at("ours", 1.2, rss_mb=280.0, connections_opened=10010)],
        [at("ours", 1.3, rss_mb=290.0, connections_opened=10000), at("aiohttp", 1.0, rss_mb=250.0)],
    ]
    combined = by_label(scale.combine_sweep(rounds))
    ours = combined["ours"]
    assert ours["cpu_x_aiohttp"] == pytest.approx(1.5)  # per round: 1.5, 1.5, 1.3
    assert ours["cpu_x_aiohttp_spread"] == pytest.approx([1.3, 1.5])
    assert ours["rss_x_aiohttp"] == pytest.approx(280 / 240)  # per round: 1.2, 1.1667, 1.16
    assert ours["connections_x_c"] == pytest.approx(1.0)  # per round: 1.0, 1.001, 1.0
    assert ours["rounds"] == 3
    assert "spread" in scale.table("t", list(combined.values()), scale.COLUMNS)
    # One round: its own rows and ratios, no spread.
    (one,) = [
        r
        for r in scale.combine_sweep([[at("ours", 1.5), at("aiohttp", 1.0)]])
        if r["label"] == "ours"
    ]
    assert one["cpu_x_aiohttp"] == pytest.approx(1.5)
    assert "cpu_x_aiohttp_spread" not in one
    assert "spread" not in scale.table("t", [one], scale.COLUMNS)


def test_the_memory_ratio_within_the_big_run_reads_its_samples_by_creates(capsys) -> None:
    """Within the big batch: the working RSS at its end over its peak up to the first sample
    that saw `n + c` creates (an older result without creates gives no such ratio)."""
    small = {"client": "ours", "c": 100, "n": 1000, "working_rss_mb": 60.0}
    samples = [(0.5, 120.0, 100), (1.0, 150.0, 900), (1.5, 140.0, 1100), (2.0, 190.0, 1500)]
    big = {"client": "ours", "c": 100, "n": 5000, "rss_before_mb": 100.0, "working_rss_mb": 90.0}
    memory = scale._memory([small], [big | {"rss_series": samples}], n=1000, big=5000, big_c=100)
    m = memory["ours"]
    assert m["ratio"] == pytest.approx(90 / 60)  # against the separate run
    assert m["in_run_working_rss_mb"] == pytest.approx(50.0)  # peak 150 up to 1,100 creates
    assert (m["in_run_creates"], m["in_run_seconds"]) == (1100, 1.5)
    assert m["in_run_ratio"] == pytest.approx(90 / 50)
    assert "once 1,000 had finished" in capsys.readouterr().out
    older = [(t, rss) for t, rss, _ in samples]
    memory = scale._memory([small], [big | {"rss_series": older}], n=1000, big=5000, big_c=100)
    assert "in_run_ratio" not in memory["ours"]


def test_the_memory_ratio_from_a_full_pool_starts_where_the_connections_reach_the_concurrency(
    capsys,
) -> None:
    """From a full pool: the working RSS at the end over the peak up to the first sample that
    saw `n` more creates than the one where 99 % of the concurrency's connections were open."""
    small = {"client": "ours", "c": 100, "n": 1000, "working_rss_mb": 60.0}
    samples = [
        (0.5, 120.0, 100, 50),
        (1.0, 150.0, 900, 98),  # below 99 connections: the pool is not full yet
        (1.5, 170.0, 1100, 99),  # full here, at 1,100 creates
        (2.0, 175.0, 1900, 100),
        (2.5, 180.0, 2100, 100),  # 1,000 more creates: the reference ends here
        (3.0, 195.0, 4000, 100),
    ]
    big = {"client": "ours", "c": 100, "n": 5000, "rss_before_mb": 100.0, "working_rss_mb": 95.0}
    memory = scale._memory([small], [big | {"rss_series": samples}], n=1000, big=5000, big_c=100)
    m = memory["ours"]
    assert m["full_pool_connections"] == 99
    assert (m["full_pool_creates"], m["full_pool_seconds"]) == (2100, 2.5)
    assert m["full_pool_working_rss_mb"] == pytest.approx(80.0)  # peak 180 up to 2,100 creates
    assert m["full_pool_ratio"] == pytest.approx(95 / 80)
    assert "from a full pool" in capsys.readouterr().out
    never = [(t, rss, creates, 98) for t, rss, creates, _ in samples]
    memory = scale._memory([small], [big | {"rss_series": never}], n=1000, big=5000, big_c=100)
    assert "full_pool_ratio" not in memory["ours"]
    older = [(t, rss, creates) for t, rss, creates, _ in samples]
    memory = scale._memory([small], [big | {"rss_series": older}], n=1000, big=5000, big_c=100)
    assert "full_pool_ratio" not in memory["ours"]
    assert "in_run_ratio" in memory["ours"]
