# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The emulator's rate limits: one token bucket per API token and bucket name, as the real API.

The limits themselves are the client's `RateLimits` (`replicate_async._config`); the buckets here
enforce them the server's way (full at start, 429 with `Retry-After` when empty), where the
client's `_ratelimit` paces below them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replicate_async._config import BucketName, RateLimit, RateLimits


class Bucket:
    """A token bucket."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, limit: RateLimit, now: float) -> None:
        """A full bucket."""
        self.capacity = limit.capacity
        self.rate = limit.per_minute / 60.0
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> tuple[bool, int, int]:
        """Take one token: (allowed, remaining, seconds until reset or retry)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            reset = max(1, math.ceil((self.capacity - self.tokens) / self.rate)) if self.rate else 1
            return True, int(self.tokens), min(reset, 60)
        wait = math.ceil((1 - self.tokens) / self.rate) if self.rate else 60
        return False, 0, max(1, wait)


class TokenBuckets:
    """Every API token's buckets under one set of limits, each made full on first use.

    Args:
        limits: The limits; a bucket that is None there is off.
    """

    __slots__ = ("_buckets", "limits")

    def __init__(self, limits: RateLimits) -> None:
        """No bucket yet."""
        self.limits = limits
        self._buckets: dict[tuple[str, BucketName], Bucket] = {}

    def take(self, token: str, name: BucketName, now: float) -> tuple[bool, int, int] | None:
        """Take from `token`'s bucket `name` (see `Bucket.take`); None when that bucket is off."""
        limit: RateLimit | None = getattr(self.limits, name)
        if limit is None:
            return None
        key = (token, name)
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = Bucket(limit, now)
        return found.take(now)
