# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`replicate-async batch --journal postgresql://...`: the command's batch on a shared journal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from _cli_support import api_get, cli
from _pg_server import pg_server_fixture, pg_url_fixture  # noqa: F401 - fixtures pg_server, pg_url

if TYPE_CHECKING:
    from pathlib import Path


def _jobs(path: Path, count: int) -> Path:
    lines = [
        json.dumps({"model": "emulator/echo", "input": {"prompt": f"job {i}"}, "key": f"k{i}"})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _creates(server) -> list[str]:
    return [p["id"] for p in api_get(server, "/v1/predictions")["results"]]


def test_batch_on_a_postgresql_journal_runs_once_and_a_second_run_takes_every_job_from_it(
    replicate_emulator, pg_url, tmp_path
):
    """Every job runs once; the same command again creates nothing; no local journal file."""
    jobs = _jobs(tmp_path / "jobs.jsonl", 4)
    url = f"{pg_url}?batch=cli-test"
    first = cli(replicate_emulator, "batch", str(jobs), "--journal", url)
    assert first.returncode == 0, first.stderr
    assert "4 of 4 succeeded" in first.stdout
    assert "batch=cli-test" in first.stdout  # the summary names the journal
    made = _creates(replicate_emulator)
    assert len(made) == 4
    assert not (tmp_path / "jobs.journal").exists()

    again = cli(replicate_emulator, "batch", str(jobs), "--journal", url, "--results", "-")
    assert again.returncode == 0, again.stderr
    assert sorted(_creates(replicate_emulator)) == sorted(made)  # nothing created twice
    results = [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")]
    assert sorted(r["prediction_id"] for r in results) == sorted(made)


def test_a_postgresql_url_without_a_batch_name_exits_2_before_any_create(
    replicate_emulator, pg_url, tmp_path
):
    """One line saying to add ?batch=NAME; nothing is created."""
    jobs = _jobs(tmp_path / "jobs.jsonl", 2)
    done = cli(replicate_emulator, "batch", str(jobs), "--journal", pg_url)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "?batch=NAME" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _creates(replicate_emulator) == []
