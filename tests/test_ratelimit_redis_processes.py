# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Issue 15's must-show: four processes sharing one Redis limiter stay within the account's limit.

Each process is a separate Python with its own AsyncClient, all with the same token and one
Redis. Against the emulator's create limit they cause at most a handful of 429s and together
reach at least 85 % of the allowed rate (measured from the predictions' ``created_at``, as
benchmarks/fanout.py's ``create_rate`` does). One such run takes about 20 s.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from _redis_server import redis_url  # noqa: F401 - the session's Redis, a fixture
from replicate_async import AsyncClient, RateLimit, RateLimits, RedisRateLimiter

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer

PROCESSES = 4
CREATES = 28
"""Creates per process: 112 in all, about 21 s at the limit below."""
PER_MINUTE = 300
BURST = 10
LIMITS = RateLimits(create=RateLimit(per_minute=PER_MINUTE, burst=BURST))

WORKER = """
import asyncio, sys
from replicate_async import AsyncClient, RateLimit, RateLimits, RedisRateLimiter

base_url, token, redis_url, prefix, name, count, per_minute, burst = sys.argv[1:]
limits = RateLimits(create=RateLimit(per_minute=float(per_minute), burst=float(burst)))

async def main():
    limiter = RedisRateLimiter(redis_url, limits=limits, prefix=prefix)
    async with AsyncClient(token, base_url, rate_limits=limits, rate_limiter=limiter) as client:
        async def one(i):
            await client.predictions.create("emulator/echo", {"prompt": f"{name}-{i}"}, wait=False)
        await asyncio.gather(*(one(i) for i in range(int(count))))

asyncio.run(main())
"""


async def _created_at(emulator: EmulatorServer) -> list[float]:
    """Every prediction's creation time, through the list endpoint's pages."""
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        return [p.created_at.timestamp() async for p in client.predictions.list()]


@pytest.mark.asyncio
@pytest.mark.timeout(110)  # ~21 s of paced creates, plus four interpreters starting
async def test_four_processes_share_the_account_create_limit(
    replicate_emulator: EmulatorServer,
    redis_url: str,  # noqa: F811
) -> None:
    """Four processes on one Redis limiter: a handful of 429s at most, >= 85 % of the rate."""
    replicate_emulator.set_rate_limits(LIMITS)
    prefix = f"test:{uuid.uuid4().hex}"
    args = [replicate_emulator.base_url, replicate_emulator.token, redis_url, prefix]
    pace = [str(CREATES), str(PER_MINUTE), str(BURST)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args, f"p{n}", *pace],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=100)
        assert worker.returncode == 0, err

    stats = replicate_emulator.stats()
    assert stats["creates"] == PROCESSES * CREATES
    assert stats["throttled"] <= 3  # a handful, not a storm

    stamps = sorted(await _created_at(replicate_emulator))
    assert len(stamps) == PROCESSES * CREATES
    rate = (len(stamps) - BURST) / (stamps[-1] - stamps[0]) * 60
    assert rate >= 0.85 * PER_MINUTE, f"{rate:.0f} creates/min of {PER_MINUTE}"
    assert rate <= PER_MINUTE * 1.02  # within the limit (the server's clock, a little jitter)

    shared = RedisRateLimiter(
        redis_url, limits=LIMITS, prefix=prefix, api_token=replicate_emulator.token
    )
    state = await shared.state("create")
    await shared.aclose()
    assert state["taken"] == PROCESSES * CREATES + stats["throttled"]  # a retried 429 takes again
