# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The shared rate limiter from a caller's view: checked by pyright and mypy --strict, never run."""

from __future__ import annotations

from typing import assert_type

from replicate_async import AsyncClient, Client, RateLimit, RateLimits, RedisRateLimiter


async def shared_limiter() -> None:
    async with AsyncClient(rate_limiter="redis://localhost") as client:
        assert_type(client.base_url, str)
    limits = RateLimits(create=RateLimit(per_minute=600))
    limiter = RedisRateLimiter("redis://localhost:6379/0", limits=limits, prefix="my-app")
    async with AsyncClient(rate_limits=limits, rate_limiter=limiter):
        assert_type(await limiter.state("create"), dict[str, float])
    assert_type(limiter.key("create"), str)
    AsyncClient(rate_limiter=None)


def sync_shared_limiter() -> None:
    with Client(rate_limiter="rediss://cache.internal:6380/1") as client:
        client.run("owner/name", input={"prompt": "x"})
