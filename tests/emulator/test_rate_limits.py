# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Token buckets: headers on every API response, the real 429 body, Retry-After."""

from __future__ import annotations

import pytest

import replicate_async
from replicate_async._ratelimit import RateLimiter
from replicate_async.emulator import RateLimit, RateLimits
from replicate_async.emulator._limits import Bucket

pytestmark = pytest.mark.anyio


@pytest.fixture
def limited(state):
    """The state with the real default limits."""
    state.set_rate_limits(RateLimits())
    return state


async def test_headers_show_each_bucket(client, limited):
    """Creates, GET prediction and other calls each have their own bucket."""
    created = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}
    )
    got = await client.get(f"/v1/predictions/{created.json()['id']}")
    listed = await client.get("/v1/predictions")
    remaining = [r.headers["ratelimit-remaining"] for r in (created, got, listed)]
    assert remaining == ["599", "59999", "2999"]
    assert created.headers["ratelimit-reset"] == "1"


async def test_throttled_create_is_429_with_retry_after(client, limited):
    """Past the burst a create gets the real 429 body and Retry-After."""
    limited.set_rate_limits(RateLimits(create=RateLimit(per_minute=6, burst=1)))
    await client.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    response = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}
    )
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Request was throttled. Your rate limit resets in ~10s.",
        "status": 429,
        "retry_after": 10,
    }
    assert (response.headers["retry-after"], limited.stats.throttled, limited.stats.creates) == (
        "10",
        1,
        1,
    )


async def test_unlimited_sends_no_headers(client):
    """With buckets off no ratelimit headers are sent."""
    response = await client.get("/v1/predictions")
    assert "ratelimit-remaining" not in response.headers


def test_bucket_refills_over_time():
    """A drained bucket allows a request again after 1/rate seconds."""
    bucket = Bucket(RateLimit(per_minute=60, burst=1), now=0.0)
    assert bucket.take(0.0)[0]
    assert bucket.take(0.5) == (False, 0, 1)
    assert bucket.take(1.6)[0]


def test_zero_rate_bucket_never_refills():
    """A bucket with no refill reports 60 s waits."""
    bucket = Bucket(RateLimit(per_minute=0, burst=1), now=0.0)
    assert bucket.take(0.0) == (True, 0, 1)
    assert bucket.take(100.0) == (False, 0, 60)


def test_the_emulator_shares_the_clients_rate_limits():
    """One definition of the API's buckets: the emulator's names are the client's classes."""
    assert (RateLimit, RateLimits) == (replicate_async.RateLimit, replicate_async.RateLimits)


def test_a_bucket_without_refill_needs_a_burst_and_no_client_paces_by_it():
    """`per_minute=0` is a fixed allowance: the emulator enforces it, a client refuses it."""
    with pytest.raises(ValueError, match="per_minute"):
        RateLimit(per_minute=0)
    fixed = RateLimits(create=RateLimit(per_minute=0, burst=2))
    with pytest.raises(ValueError, match="per_minute=0"):
        RateLimiter(fixed)
