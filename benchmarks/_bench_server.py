# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The fan-out benchmark's emulator: its own process, its models, and the control calls.

    python benchmarks/_bench_server.py PORT     (what `start_server` runs)

Rate limits are off unless a profile sets them; the time scale is set per profile (runtime
switch). Models' latencies are emulated seconds: `bench/fast` 10 (1 s of wall time at scale 0.1),
`bench/slow` 100 (10 s at 0.1), `bench/polled` 180 (3 s at scale 1/60, where the clients'
`Prefer: wait` of 60 s is held 1 s).
"""

from __future__ import annotations

import json
import logging
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "r8_emulator0000000000000000000000000000"  # noqa: S105 - the emulator's public token
#: Emulated seconds each benchmark model runs.
LATENCIES = {"fast": 10.0, "slow": 100.0, "polled": 180.0}
#: The API's documented default limits, as the emulator's settings route takes them.
DEFAULT_LIMITS: dict[str, Any] = {
    "create": {"per_minute": 600},
    "get_prediction": {"per_minute": 60_000},
    "other": {"per_minute": 3_000},
}
UNLIMITED: dict[str, Any] = {"create": None, "get_prediction": None, "other": None}


def raise_fd_limit() -> None:
    """Raise this process's open-file limit to the hard limit (10,000 sockets need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb(pid: int | str = "self") -> float | None:
    """The resident set of process *pid* (this one by default) now, MB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def _quiet(_port: int) -> None:
    """No access log: at 10,000 requests a second it would cost the server more than routing."""
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False


def serve(port: int) -> None:
    """Serve the emulator (foreground, uvloop) with the benchmark models, rate limits off."""
    from replicate_async.emulator import EmulatorConfig, FakeModel, RateLimits, default_catalogue
    from replicate_async.emulator import serve as run_server

    raise_fd_limit()
    models = tuple(
        FakeModel(owner="bench", name=name, kind="text", official=True, latency=latency)
        for name, latency in LATENCIES.items()
    )
    config = EmulatorConfig(
        models=(*default_catalogue(), *models),
        rate_limits=RateLimits.unlimited(),
        retention=86400,
    )
    run_server("127.0.0.1", port, config, ready=_quiet)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def control(url: str, path: str, data: Any = None) -> Any:
    """GET (no data) or POST (JSON data) a control route; the decoded reply."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + path,
        data=body,
        headers={"Content-Type": "application/json"},
        method="GET" if data is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback
        return json.loads(reply.read() or b"null")


def prepare(url: str, *, time_scale: float, limits: dict[str, Any] | None) -> int:
    """Reset the emulator, set the time scale and limits; the connections opened so far."""
    control(url, "/_emulator/reset", {})
    control(url, "/_emulator/settings", {"time_scale": time_scale})
    if limits is not None:
        control(url, "/_emulator/settings", {"rate_limits": limits})
    return int(control(url, "/_emulator/stats")["connections_opened"])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator process and wait until it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            control(url, "/_emulator/stats")
        except OSError:
            time.sleep(0.05)
        else:
            return proc, url
    proc.kill()
    raise RuntimeError("the emulator did not start")


if __name__ == "__main__":
    serve(int(sys.argv[1]))
