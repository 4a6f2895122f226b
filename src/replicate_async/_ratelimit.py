# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The client-side rate limiter: one token bucket per server bucket, shared by every call.

The API meters three buckets per token: creates (600 per minute), ``GET
/v1/predictions/{id}`` (its own, much larger bucket: 60,000 per minute observed) and
everything else (3,000 per minute). Every request a client sends first takes a token
from the matching bucket here, so a large fan-out runs at the allowed rate instead of
discovering it through a storm of 429s (promise 6).

The bucket arithmetic (:class:`TokenBucket`) is pure: it takes the time as an argument
and never sleeps, so it is tested without an event loop. :class:`RateLimiter` is the thin
anyio shell around it: one FIFO lock per bucket, whose holder alone sleeps until the
next token is due, so thousands of waiting tasks cost one timer, not thousands. A queue goes
in groups (a second's worth of tokens, within the burst): the head waits for the group,
and the ones behind it find their tokens there, so the requests are sent together.

Steering from the server:

- ``ratelimit-remaining`` on a reply is the server's own count after that request.
  Requests sent after it may not have been counted yet, and the bucket has refilled
  since it was sent; the local bucket is lowered to that estimate when it is higher.
- A 429 pauses the whole bucket for the server's ``Retry-After`` (or the reply's
  ``ratelimit-reset``), not just the one request, and lowers the local rate by a fifth;
  the rate recovers by 5 % of the configured one per second.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final, Protocol

import anyio

from replicate_async._clock import now, sleep
from replicate_async._config import (
    DEFAULT_RATE_LIMITS,
    BucketName,
    RateLimit,
    RateLimits,
    stamina_testing,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "BucketName",
    "Limiter",
    "RateLimit",
    "RateLimiter",
    "RateLimits",
    "RequestHooks",
    "TokenBucket",
    "bucket_for",
    "header_number",
    "paced",
    "pause_of",
    "usable_burst",
]

#: Factor applied to a bucket's rate on a 429.
TIGHTEN: Final = 0.8
#: Lowest rate a bucket is tightened to, as a fraction of its configured rate.
FLOOR: Final = 0.1
#: Fraction of the configured rate recovered per second without a 429.
RECOVERY: Final = 0.05
#: Fraction of the configured rate actually used. Requests reach the server with varying
#: delays (new connections, a busy event loop), which bunches them up; running 3 % below
#: the limit lets the server's bucket keep a little slack to absorb that.
HEADROOM: Final = 0.97
#: Share of a bucket's burst the client leaves unused when it starts (at least one request's
#: worth). Starting full, the client would empty the server's bucket with its first burst, and
#: with its rate just under the server's, the next request that arrives early (jitter) would be
#: throttled; the reserve gives the server's bucket that slack from the first request on.
BURST_RESERVE: Final = 0.1
#: Seconds of tokens a queue of waiting requests is let go with at once. One request let go
#: every 1/rate seconds makes every request a lone wake-up of this process and of the server
#: (a bare aiohttp loop paced one create at a time at 20/s spent 2.9x the CPU of the same
#: loop unpaced; released five at a time, 1.9x); letting a queue go in groups of a second's
#: worth keeps the rate and the burst, and sends each group together (a paced run of ours:
#: 2.1x the CPU of the unpaced one with single tokens; with groups of half a second's worth,
#: 1.17 CPU-s per 1,000 predictions, of a second's worth 1.02-1.05, the unpaced 0.65-0.77).
BATCH_SECONDS: Final = 1.0
#: Longest pause in seconds a 429 may impose on a bucket (the client passes its
#: ``RetryPolicy.max_retry_after``).
MAX_PAUSE: Final = 60.0


class RequestHooks(Protocol):
    """What a fan-out job hears about its own requests (passed along with each request)."""

    def sending(self, bucket: BucketName) -> Awaitable[None] | None:
        """A request of *bucket* got its token and is about to be sent (may raise to stop it).

        May return an awaitable (a journal's write that must be committed before the request
        leaves): the limiter awaits it before the request is sent.
        """

    def throttled(self, bucket: BucketName) -> None:
        """A request of *bucket* was answered 429 (it is retried)."""


class Limiter(Protocol):
    """What a client asks of a rate limiter: a token before each request, a look at each reply.

    The default limiter keeps its buckets in the process;
    :class:`~replicate_async.RedisRateLimiter` (``AsyncClient(rate_limiter="redis://...")``)
    keeps them where every process of the account sees them. Implement this protocol to pace
    by another store, and pass the object as ``rate_limiter=``. The ticket is the limiter's
    own: the client hands what :meth:`acquire` returned back to :meth:`observe` untouched.

    .. versionadded:: 0.1.0
    """

    async def acquire(self, name: BucketName, hooks: RequestHooks | None = None) -> Any:
        """Wait for a token of bucket *name*, then tell *hooks* the request is about to go
        (awaiting what ``hooks.sending(name)`` returns, when it returns an awaitable)."""

    def observe(
        self,
        name: BucketName,
        ticket: Any,
        status: int,
        headers: Mapping[str, str],
        retry_after: float | None = None,
        *,
        hooks: RequestHooks | None = None,
    ) -> None:
        """Learn from the reply (status and rate-limit headers) to a request that took *ticket*.

        Called on the event loop right after the reply: it must not block. A shared backend
        may hold what it learnt and report it with its next :meth:`acquire`.
        """

    async def aclose(self) -> None:
        """Release what the limiter holds (connections); called when its client closes."""


def bucket_for(method: str, path: str) -> BucketName:
    """The server bucket a request is metered in, from its method and path (or absolute URL).

    On every request: string partitions only, no list of the path's parts but for a GET of
    the right depth.
    """
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    path = path.partition("?")[0].rstrip("/")
    if method == "POST":
        return "create" if path.rpartition("/")[2] == "predictions" else "other"
    # /v1/predictions/{id}
    if method == "GET" and path.count("/") == 3:  # noqa: PLR2004
        parts = path.split("/")
        if parts[1] == "v1" and parts[2] == "predictions":
            return "get_prediction"
    return "other"


def paced(limits: RateLimits) -> dict[BucketName, RateLimit]:
    """The buckets *limits* switches on, by name.

    Raises:
        ValueError: A bucket at ``per_minute=0``: pacing by a bucket that never refills would
            stall the client for good.
    """
    on: dict[BucketName, RateLimit] = {}
    for name in ("create", "get_prediction", "other"):
        limit: RateLimit | None = getattr(limits, name)
        if limit is None:
            continue
        if limit.per_minute == 0:
            raise ValueError(f"a client cannot pace {name} at per_minute=0")
        on[name] = limit
    return on


def usable_burst(capacity: float, reserve: float = BURST_RESERVE) -> float:
    """The tokens a bucket of *capacity* starts with: the burst less the share of it left
    unused (at least one token when *reserve* is above 0) as slack for the server's bucket."""
    unused = max(1.0, capacity * reserve) if reserve > 0 else 0.0
    return max(1.0, capacity - unused)


class TokenBucket:
    """A token bucket whose level the server's replies correct (sans-I/O: times are arguments).

    Args:
        limit: The configured rate and burst.
        now: The current time (any monotonic clock, in seconds).
        headroom: The fraction of the configured rate to use.
        reserve: The share of the burst left unused at the start (at least one token when
            above 0), as slack for the server's bucket.

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "batch",
        "blocked_until",
        "capacity",
        "configured_rate",
        "rate",
        "taken",
        "throttled",
        "tokens",
        "updated",
    )

    def __init__(
        self,
        limit: RateLimit,
        now: float,
        headroom: float = HEADROOM,
        reserve: float = BURST_RESERVE,
    ) -> None:
        self.configured_rate = limit.per_minute / 60.0 * headroom
        self.rate = self.configured_rate
        self.capacity = limit.capacity
        self.tokens = usable_burst(self.capacity, reserve)
        self.batch = max(1.0, min(self.rate * BATCH_SECONDS, self.tokens))
        """Tokens a queue waits for before its head goes (see :meth:`take`)."""
        self.updated = now
        self.blocked_until = -math.inf
        self.taken = 0
        """How many tokens were taken so far (the sequence number of the last one)."""
        self.throttled = 0
        """How many 429s were reported."""

    def _refill(self, now: float) -> None:
        """Add the tokens due since the last update, and let a tightened rate recover."""
        elapsed = max(0.0, now - self.updated)
        self.updated = max(self.updated, now)
        if self.rate < self.configured_rate:
            self.rate = min(
                self.configured_rate, self.rate + self.configured_rate * RECOVERY * elapsed
            )
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)

    def take(self, now: float, batch: float = 1.0) -> float:
        """Take one token: 0.0 when taken, else the seconds to wait before asking again.

        *batch*: when no token is left, wait until that many are (at most the capacity), so
        the requests queued behind this one go together with it (see :attr:`batch`).
        """
        if now < self.blocked_until:
            return self.blocked_until - now
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            self.taken += 1
            return 0.0
        return (max(1.0, min(batch, self.capacity)) - self.tokens) / self.rate

    def observe(self, remaining: float, ticket: int, sent_at: float, now: float) -> None:
        """Lower the level to what the server reported (``ratelimit-remaining``) when it is lower.

        Args:
            remaining: The server's tokens left after counting the request.
            ticket: The value of :attr:`taken` when the request took its token.
            sent_at: When the request was sent.
            now: The current time.
        """
        self._refill(now)
        # The server's level since then: refilled for at most the time elapsed, minus the
        # requests sent after this one (the server may not have counted them yet), and never
        # above its size. Capping before subtracting would wrongly count a steady stream's
        # refill as lost: a create held for its Prefer: wait while others flowed at the rate
        # then pulled the level a whole burst below the server's (batches ran at 57 %).
        since = max(0.0, now - sent_at)
        server = min(self.capacity, remaining + since * self.rate - (self.taken - ticket))
        self.tokens = max(-self.capacity, min(self.tokens, server))

    def throttle(self, retry_after: float | None, now: float, max_pause: float = MAX_PAUSE) -> None:
        """A 429: pause the whole bucket for *retry_after* seconds and lower its rate.

        Several requests in flight meet the same 429 storm; only the first one of a pause
        lowers the rate. Without a delay the bucket is only emptied.
        """
        self._refill(now)
        self.throttled += 1
        pause = 0.0 if retry_after is None else min(max(retry_after, 0.0), max_pause)
        if now >= self.blocked_until:
            self.rate = max(self.configured_rate * FLOOR, self.rate * TIGHTEN)
        self.blocked_until = max(self.blocked_until, now + pause)
        self.tokens = min(self.tokens, 0.0)


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric header's value, or None when absent or malformed."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def pause_of(headers: Mapping[str, str], retry_after: float | None) -> float | None:
    """The seconds a 429 asks to wait: *retry_after* when given, else ``Retry-After``, else
    ``ratelimit-reset``; 0 under ``stamina.set_testing`` (its retry waits are zero too)."""
    if retry_after is None:
        retry_after = header_number(headers, "retry-after")
    if retry_after is None:
        retry_after = header_number(headers, "ratelimit-reset")
    return 0.0 if stamina_testing() else retry_after


class RateLimiter:
    """The client's rate limiter: takes a token before each request, learns from each reply.

    Args:
        limits: The account's limits.
        clock: The time source (the event loop's, as ``anyio.current_time``, by default).
        max_pause: Longest pause in seconds a 429 imposes on its bucket.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        limits: RateLimits,
        clock: Callable[[], float] = now,
        *,
        max_pause: float = MAX_PAUSE,
    ) -> None:
        paced(limits)  # refuses a bucket that never refills, before any request
        self.limits = limits
        self._max_pause = max_pause
        self._clock = clock
        self._buckets: dict[BucketName, TokenBucket] = {}
        self._locks: dict[BucketName, anyio.Lock] = {}

    def __repr__(self) -> str:
        return f"<RateLimiter {self.limits!r}>"

    async def aclose(self) -> None:
        """Nothing to release: the buckets live in this process."""

    def bucket(self, name: BucketName) -> TokenBucket | None:
        """The bucket *name* (made on first use), or None when that bucket is switched off."""
        found = self._buckets.get(name)
        if found is None:
            limit: RateLimit | None = getattr(self.limits, name)
            if limit is None:
                return None
            found = self._buckets[name] = TokenBucket(limit, self._clock())
        return found

    @property
    def throttled(self) -> int:
        """How many 429 replies this limiter has seen, over all buckets."""
        return sum(b.throttled for b in self._buckets.values())

    async def acquire(
        self, name: BucketName, hooks: RequestHooks | None = None
    ) -> tuple[int, float] | None:
        """Wait for a token of bucket *name*; returns the ticket to pass to :meth:`observe`.

        *hooks*, when given, hear that the request is about to be sent.
        """
        bucket = self.bucket(name)
        ticket: tuple[int, float] | None = None
        if bucket is not None:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = anyio.Lock()
            # Fast path: nobody queues (the head of the queue holds the lock while it sleeps).
            if lock.locked() or bucket.take(self._clock()) > 0.0:
                async with lock:
                    # One sleeper for the whole queue; the delay is computed, not signalled.
                    # A queue goes in groups: its head waits for a group's worth of tokens.
                    while (delay := bucket.take(self._clock(), bucket.batch)) > 0.0:
                        await sleep(delay)
            ticket = bucket.taken, self._clock()
        if hooks is not None and (pending := hooks.sending(name)) is not None:
            await pending
        return ticket

    def observe(
        self,
        name: BucketName,
        ticket: tuple[int, float] | None,
        status: int,
        headers: Mapping[str, str],
        retry_after: float | None = None,
        *,
        hooks: RequestHooks | None = None,
    ) -> None:
        """Learn from the reply to a request that took *ticket*.

        Args:
            name: The request's bucket.
            ticket: What :meth:`acquire` returned.
            status: The reply's status code.
            headers: The reply's headers (``ratelimit-remaining``, ``ratelimit-reset``).
            retry_after: For a 429, the seconds the server asked to wait, if it said.
            hooks: The request's hooks, told of a 429.
        """
        if status == 429 and hooks is not None:  # noqa: PLR2004
            hooks.throttled(name)
        bucket = self._buckets.get(name)
        if bucket is None or ticket is None:
            return
        now = self._clock()
        if status == 429:  # noqa: PLR2004
            bucket.throttle(pause_of(headers, retry_after), now, self._max_pause)
            return
        remaining = header_number(headers, "ratelimit-remaining")
        if remaining is not None:
            bucket.observe(remaining, ticket[0], ticket[1], now)
