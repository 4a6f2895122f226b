# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A batch killed with SIGKILL half-way, run again with its journal: every job, no duplicate create."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from replicate_async.emulator import (
    EmulatorConfig,
    EmulatorServer,
    FakeModel,
    RateLimits,
    default_catalogue,
)

JOBS = 200

SCRIPT = textwrap.dedent(
    """
    import sys
    from replicate_async import Client, RateLimits

    base_url, token, journal, recreate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

    def on_progress(event):
        if event.kind in ("succeeded", "resumed"):
            print(event.kind, event.index, flush=True)

    jobs = [("crash/second", {"prompt": f"job {i}"}) for i in range(int(sys.argv[5]))]
    with Client(api_token=token, base_url=base_url, rate_limits=RateLimits.unlimited()) as client:
        outputs = client.run_many(
            jobs, concurrency=20, journal=journal, recreate_unknown=recreate, on_progress=on_progress
        )
    assert outputs == [f"job {i}" for i in range(len(jobs))], outputs
    print("done", len(outputs), flush=True)
    """
)


@pytest.fixture(scope="module")
def emulator():
    """An emulator with a 1 s model (0.2 s of wall time) and no rate limits."""
    model = FakeModel(owner="crash", name="second", kind="text", official=True, latency=1.0)
    config = EmulatorConfig(
        models=(*default_catalogue(), model), time_scale=0.2, rate_limits=RateLimits.unlimited()
    )
    with EmulatorServer(config) as server:
        yield server


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_killed_batch_resumes_without_duplicate_creates(emulator, tmp_path):
    """SIGKILL after a quarter of the jobs; the re-run finishes all of them, each created once."""
    script = tmp_path / "batch.py"
    script.write_text(SCRIPT)
    journal = str(tmp_path / "batch.sqlite")
    args = [sys.executable, str(script), emulator.base_url, emulator.token, journal]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    first = subprocess.Popen([*args, "0", str(JOBS)], stdout=subprocess.PIPE, text=True, env=env)
    assert first.stdout is not None
    finished = 0
    for line in first.stdout:  # blocks on the pipe until the batch reports progress
        finished += line.startswith("succeeded")
        if finished == JOBS // 4:
            break
    first.send_signal(signal.SIGKILL)
    first.wait()
    first.stdout.close()
    created_before = emulator.stats()["creates"]

    second = subprocess.run(
        [*args, "1", str(JOBS)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    stats = emulator.stats()
    assert second.returncode == 0, second.stderr
    assert f"done {JOBS}" in second.stdout
    assert JOBS // 4 <= created_before < JOBS
    assert "resumed" in second.stdout
    assert stats["creates"] == JOBS
    assert all(n == 1 for n in stats["creates_by_input"].values())
