# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The client-side rate limiter: pure bucket math (no event loop), then its anyio shell."""

from __future__ import annotations

import anyio
import httpx
import pytest
import stamina

from replicate_async import AsyncClient, RateLimit, RateLimits
from replicate_async._ratelimit import (
    RateLimiter,
    TokenBucket,
    bucket_for,
)

# -- configuration --------------------------------------------------------------------------------


def test_burst_defaults_to_a_minute_of_requests():
    """Without a burst the bucket holds per_minute tokens, as the real API's first reply shows."""
    assert RateLimit(per_minute=600).capacity == 600


def test_burst_sets_the_capacity():
    """An explicit burst is the bucket's size."""
    assert RateLimit(per_minute=1200, burst=5).capacity == 5


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan")])
def test_rates_must_be_finite_and_positive(value):
    """A rate that is not a finite number > 0 is refused."""
    with pytest.raises(ValueError, match="per_minute"):
        RateLimit(per_minute=value)


def test_rates_must_be_numbers():
    """A rate that is not a number is refused with TypeError."""
    with pytest.raises(TypeError, match="burst"):
        RateLimit(per_minute=1, burst="5")


def test_default_limits_are_the_documented_ones():
    """600/min creates, 60,000/min polls, 3,000/min for the rest."""
    limits = RateLimits()
    assert limits.create.per_minute == 600
    assert limits.get_prediction.per_minute == 60_000
    assert limits.other.per_minute == 3_000


def test_unlimited_switches_every_bucket_off():
    """RateLimits.unlimited() has no bucket."""
    assert RateLimits.unlimited() == RateLimits(create=None, get_prediction=None, other=None)


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "bucket"),
    [
        ("POST", "/v1/predictions", "create"),
        ("POST", "/v1/models/a/b/predictions", "create"),
        ("POST", "/v1/deployments/a/b/predictions", "create"),
        ("GET", "/v1/predictions/abc", "get_prediction"),
        ("GET", "https://api.replicate.com/v1/predictions/abc?x=1", "get_prediction"),
        ("POST", "/v1/predictions/abc/cancel", "other"),
        ("GET", "/v1/predictions", "other"),
        ("GET", "/v1/models/a/b", "other"),
    ],
)
def test_requests_map_to_the_server_buckets(method, path, bucket):
    """Each route is metered in the bucket the server meters it in."""
    assert bucket_for(method, path) == bucket


# -- the bucket (sans-I/O) ------------------------------------------------------------------------


def test_a_full_bucket_gives_its_burst_at_once():
    """A fresh bucket hands out `burst` tokens without waiting, then asks to wait."""
    bucket = TokenBucket(RateLimit(per_minute=60, burst=3), now=0.0, headroom=1.0, reserve=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("burst", "first"), [(5, 4), (600, 540), (1, 1)])
def test_a_fresh_bucket_leaves_part_of_the_burst_to_the_server(burst, first):
    """A new bucket starts a tenth (at least one token) short of its burst, never below one."""
    bucket = TokenBucket(RateLimit(per_minute=60, burst=burst), now=0.0, headroom=1.0)
    given = 0
    while bucket.take(0.0) == 0.0:
        given += 1
    assert given == first


def test_tokens_refill_at_the_configured_rate():
    """After the burst, one token comes per 1/rate seconds."""
    bucket = TokenBucket(RateLimit(per_minute=120, burst=1), now=0.0, headroom=1.0, reserve=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.25) == pytest.approx(0.25)
    assert bucket.take(0.5) == 0.0


def test_the_level_never_exceeds_the_burst():
    """A long idle time refills to the burst, not beyond."""
    bucket = TokenBucket(RateLimit(per_minute=60, burst=2), now=0.0, headroom=1.0, reserve=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert [bucket.take(1000.0) for _ in range(3)][2] > 0


def test_a_429_pauses_the_whole_bucket_for_retry_after():
    """After a 429 with Retry-After 5 nothing is taken for 5 s."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.throttle(5.0, now=10.0)
    assert bucket.take(12.0) == pytest.approx(3.0)
    assert bucket.take(15.0) == 0.0


def test_a_429_lowers_the_rate_once_per_pause():
    """Several 429s of one storm lower the rate by a fifth once."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.throttle(2.0, now=0.0)
    bucket.throttle(2.0, now=0.5)
    assert bucket.rate == pytest.approx(10 * 0.8 + 10 * 0.05 * 0.5)  # recovered for 0.5 s
    assert bucket.throttled == 2


def test_the_rate_runs_a_little_below_the_limit():
    """By default a bucket refills at 97 % of the configured rate, to absorb jitter."""
    assert TokenBucket(RateLimit(per_minute=600), now=0.0).rate == pytest.approx(9.7)


def test_the_rate_recovers_without_429s():
    """The lowered rate grows back by 5 % of the configured rate per second."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.throttle(None, now=0.0)
    bucket.take(2.0)
    assert bucket.rate == pytest.approx(8.0 + 10 * 0.05 * 2)
    bucket.take(100.0)
    assert bucket.rate == pytest.approx(10.0)


def test_a_429_without_delay_only_empties_the_bucket():
    """No Retry-After: no pause, but the next token waits for the refill."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.throttle(None, now=0.0)
    assert bucket.take(0.0) == pytest.approx(1 / 8)


def test_a_pause_is_capped():
    """A huge Retry-After pauses the bucket at most max_pause seconds."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.throttle(3600.0, now=0.0, max_pause=2.0)
    assert bucket.take(0.0) == pytest.approx(2.0)


def test_the_server_count_lowers_the_level():
    """ratelimit-remaining below the local level brings the level down."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.take(0.0)
    bucket.observe(remaining=10, ticket=bucket.taken, sent_at=0.0, now=0.0)
    assert bucket.tokens == pytest.approx(10)


def test_requests_sent_later_count_against_the_server_level():
    """Requests sent after the observed one are subtracted from the server's count."""
    bucket = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0, reserve=0.0)
    bucket.take(0.0)
    ticket = bucket.taken
    for _ in range(4):
        bucket.take(0.0)
    bucket.observe(remaining=10, ticket=ticket, sent_at=0.0, now=0.0)
    assert bucket.tokens == pytest.approx(6)


def test_a_stale_count_does_not_lower_the_level():
    """A reply to a request held for a minute says nothing about the level now."""
    bucket = TokenBucket(RateLimit(per_minute=600, burst=20), now=0.0, headroom=1.0, reserve=0.0)
    bucket.take(60.0)
    bucket.observe(remaining=0, ticket=bucket.taken, sent_at=0.0, now=60.0)
    assert bucket.tokens == pytest.approx(19)


def test_a_held_request_in_a_steady_stream_keeps_the_level():
    """A create held for a second while others flow at the rate says the level is unchanged."""
    bucket = TokenBucket(RateLimit(per_minute=1200, burst=5), now=0.0, headroom=1.0, reserve=0.0)
    assert bucket.take(0.0) == 0.0
    ticket = bucket.taken
    for i in range(1, 21):  # 20 more at 20 per second, while the first one is held
        assert bucket.take(i * 0.05) == 0.0
    bucket.observe(remaining=0, ticket=ticket, sent_at=0.0, now=1.0)
    # The server had 0 left, then refilled 20 and counted 20: still 0, not 5 - 20.
    assert bucket.tokens == pytest.approx(0)


def test_a_higher_server_count_changes_nothing():
    """The server having more tokens than the local bucket does not raise the level."""
    bucket = TokenBucket(RateLimit(per_minute=600, burst=5), now=0.0, headroom=1.0, reserve=0.0)
    for _ in range(5):
        bucket.take(0.0)
    bucket.observe(remaining=599, ticket=bucket.taken, sent_at=0.0, now=0.0)
    assert bucket.tokens == pytest.approx(0)


# -- the limiter (anyio shell) --------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_switched_off_buckets_are_not_made():
    """A bucket set to None has no state."""
    limiter = RateLimiter(RateLimits(create=None), Clock())
    assert limiter.bucket("create") is None
    assert limiter.bucket("other") is not None


def test_repr_shows_the_limits():
    """repr names the limits."""
    assert "RateLimits" in repr(RateLimiter(RateLimits.unlimited()))


@pytest.mark.anyio
async def test_acquire_without_a_bucket_returns_no_ticket():
    """A switched-off bucket lets every request through at once."""
    limiter = RateLimiter(RateLimits.unlimited())
    assert await limiter.acquire("create") is None


@pytest.mark.anyio
async def test_acquire_waits_for_the_next_token():
    """Past the burst, acquire sleeps until the refill (measured on anyio's clock)."""
    limiter = RateLimiter(RateLimits(create=RateLimit(per_minute=600, burst=1)))
    started = anyio.current_time()
    await limiter.acquire("create")
    await limiter.acquire("create")
    assert anyio.current_time() - started >= 0.09


@pytest.mark.anyio
async def test_waiters_are_served_in_order():
    """Tasks queued on a bucket get their tokens first come, first served."""
    limiter = RateLimiter(RateLimits(create=RateLimit(per_minute=6000, burst=1)))
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire("create")
        order.append(n)

    async with anyio.create_task_group() as tg:
        for n in range(5):
            tg.start_soon(take, n)
            await anyio.lowlevel.checkpoint()
    assert order == [0, 1, 2, 3, 4]


def test_observe_ignores_switched_off_buckets():
    """A reply on a bucket without state is ignored."""
    limiter = RateLimiter(RateLimits.unlimited())
    limiter.observe("create", None, 200, {"ratelimit-remaining": "0"})
    assert limiter.throttled == 0


def test_observe_reads_ratelimit_remaining():
    """A reply's ratelimit-remaining lowers the local bucket."""
    limiter = RateLimiter(RateLimits(), Clock())
    bucket = limiter.bucket("other")
    bucket.take(0.0)
    limiter.observe("other", (bucket.taken, 0.0), 200, {"ratelimit-remaining": "3"})
    assert bucket.tokens == pytest.approx(3)


@pytest.mark.parametrize("value", ["soon", "inf"])
def test_observe_ignores_malformed_counts(value):
    """A malformed ratelimit-remaining is ignored."""
    limiter = RateLimiter(RateLimits(), Clock())
    bucket = limiter.bucket("other")
    bucket.take(0.0)
    before = bucket.tokens
    limiter.observe("other", (bucket.taken, 0.0), 200, {"ratelimit-remaining": value})
    assert bucket.tokens == before


def test_observe_without_headers_changes_nothing():
    """A reply without rate-limit headers leaves the bucket alone."""
    limiter = RateLimiter(RateLimits(), Clock())
    bucket = limiter.bucket("other")
    bucket.take(0.0)
    before = bucket.tokens
    limiter.observe("other", (bucket.taken, 0.0), 200, {})
    assert bucket.tokens == before


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"ratelimit-reset": "4"}, 4.0),
        ({}, 0.0),
    ],
)
def test_a_429_pauses_for_retry_after_else_ratelimit_reset(headers, pause):
    """The pause is Retry-After, else ratelimit-reset, else none."""
    clock = Clock()
    limiter = RateLimiter(RateLimits(), clock)
    bucket = limiter.bucket("create")
    with stamina.set_testing(False):
        limiter.observe("create", (1, 0.0), 429, headers)
    assert bucket.blocked_until == pytest.approx(pause)
    assert limiter.throttled == 1


def test_a_429_under_stamina_testing_does_not_pause():
    """Retry waits are zero in stamina's testing mode, the bucket pause too."""
    limiter = RateLimiter(RateLimits(), Clock())
    bucket = limiter.bucket("create")
    with stamina.set_testing(True):
        limiter.observe("create", (1, 0.0), 429, {"retry-after": "30"})
    assert bucket.blocked_until == 0.0


class Hooks:
    """Records what the limiter tells a job."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def sending(self, bucket):
        self.seen.append(("sending", bucket))

    def throttled(self, bucket):
        self.seen.append(("throttled", bucket))


@pytest.mark.anyio
async def test_the_job_hears_its_requests_and_429s():
    """The request's hooks hear it being sent and its 429, even without a bucket."""
    limiter = RateLimiter(RateLimits.unlimited())
    hooks = Hooks()
    ticket = await limiter.acquire("create", hooks)
    limiter.observe("create", ticket, 429, {}, hooks=hooks)
    assert hooks.seen == [("sending", "create"), ("throttled", "create")]


@pytest.mark.anyio
async def test_the_client_meters_its_requests(anyio_backend):
    """An AsyncClient takes a create token per create and learns the server's count."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            201,
            json={"id": f"p{calls}", "status": "succeeded", "output": "x"},
            headers={"ratelimit-remaining": "1", "ratelimit-reset": "1"},
        )

    limits = RateLimits(create=RateLimit(per_minute=600, burst=50))
    async with AsyncClient(
        api_token="r8_test",
        base_url="https://api.replicate.test",
        rate_limits=limits,
        transport=httpx.MockTransport(handler),
    ) as client:
        await client.predictions.create("a/b", {})
        bucket = client._session.rate.bucket("create")
        assert bucket.taken == 1
        assert bucket.tokens < 2  # lowered to the server count (plus a little refill)


# -- a queue goes in groups -----------------------------------------------------------------------


def test_batch_is_a_second_of_tokens_within_the_usable_burst():
    """A queue waits for a second's worth of tokens, never more than the burst left usable."""
    roomy = TokenBucket(RateLimit(per_minute=600), now=0.0, headroom=1.0)
    assert roomy.batch == pytest.approx(10.0)
    tight = TokenBucket(RateLimit(per_minute=1200, burst=5), now=0.0, headroom=1.0)
    assert tight.batch == pytest.approx(4.0)  # a burst of 5 less the reserve of 1
    slow = TokenBucket(RateLimit(per_minute=6), now=0.0, headroom=1.0)
    assert slow.batch == 1.0


def test_take_with_a_batch_waits_for_the_group():
    """Without a token, take(batch=4) asks to wait until 4 are due; then one is taken at a time."""
    bucket = TokenBucket(RateLimit(per_minute=60, burst=10), now=0.0, headroom=1.0, reserve=0.0)
    for _ in range(10):
        assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0, batch=4) == pytest.approx(4.0)
    assert bucket.take(0.0, batch=40) == pytest.approx(10.0)  # never more than the capacity
    assert [bucket.take(4.0, batch=4) for _ in range(5)][:4] == [0.0] * 4


@pytest.mark.anyio
async def test_a_queue_goes_in_groups():
    """Requests queued on an empty bucket are let go a group at a time, not one per refill."""
    limiter = RateLimiter(RateLimits(create=RateLimit(per_minute=1200, burst=5)))
    bucket = limiter.bucket("create")
    assert bucket is not None
    assert bucket.batch == pytest.approx(4.0)
    bucket.tokens = 0.0
    went: list[float] = []

    async def take() -> None:
        await limiter.acquire("create")
        went.append(anyio.current_time())

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(take)
    # Four tokens at 19.4/s take ~0.2 s to come; all four go at once after them.
    assert len(went) == 4
    assert max(went) - min(went) < 0.05
