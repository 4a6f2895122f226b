# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The server counts the TCP connections it accepts (`connections_opened`, for benchmarks)."""

from __future__ import annotations

import httpx
import pytest

from replicate_async.emulator import EmulatorConfig, EmulatorServer, RateLimits


@pytest.fixture
def server():
    """An emulator of its own, so that no other test's connections are counted."""
    with EmulatorServer(EmulatorConfig(rate_limits=RateLimits.unlimited())) as server:
        yield server


def test_keep_alive_requests_share_one_connection(server):
    """Five requests over one keep-alive client are one connection; three fresh clients, three."""
    with httpx.Client(base_url=server.base_url) as http:
        for _ in range(5):
            assert http.get("/_emulator/stats").status_code == 200
    assert server.stats()["connections_opened"] == 1
    for _ in range(3):
        with httpx.Client(base_url=server.base_url) as http:
            http.get("/_emulator/stats")
    assert server.stats()["connections_opened"] == 4


def test_reset_forgets_the_count(server):
    """The counter restarts at reset, like every other counter."""
    httpx.get(f"{server.base_url}/_emulator/stats")
    assert server.stats()["connections_opened"] == 1
    httpx.post(f"{server.base_url}/_emulator/reset")
    stats = httpx.get(f"{server.base_url}/_emulator/stats").json()
    assert stats["connections_opened"] == 1  # only the request asking
