# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A rate limiter shared by every process of an account: one token bucket per route class in Redis.

Ten replicas of a service, or a batch's workers on several machines, each with an in-process
:class:`~replicate_async._ratelimit.RateLimiter`, would each pace at the whole account's rate.
:class:`RedisRateLimiter` keeps the buckets in Redis instead, keyed by a prefix and a hash of the
API token (never the token), so every process with the same token takes from the same buckets.

The design is the in-process limiter's, moved server-side: one Lua script (:data:`SCRIPT`) refills
the bucket by the Redis server's clock (``TIME``, so machines need not agree on theirs), applies
what this process learnt since its last call (the lowest ``ratelimit-remaining``, the 429s with
their ``Retry-After``), and takes a token or says how long to wait, atomically, in one round trip.
A 429 seen by one process pauses the shared bucket and tightens the shared rate by a fifth for
every process (recovering by 5 % of the configured rate per second), at their next token.

Waiting costs little: a request that finds a token costs one round trip; when the bucket is empty
the script returns the wait, and the process's other waiters queue behind one local lock whose
holder alone sleeps and asks again, as in the in-process limiter. ``observe`` never does I/O:
what it learns rides with the next call (a 429 starts that call at once, so the other processes
hear of it without waiting for this one's next request).

``redis`` (``pip install 'replicate-async[redis]'``) is imported when a limiter is made, never
with the package; it runs on asyncio only (``redis.asyncio``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from typing import TYPE_CHECKING, Final, cast
from urllib.parse import urlsplit

import anyio

from replicate_async._backend import running_backend
from replicate_async._config import DEFAULT_RATE_LIMITS
from replicate_async._ratelimit import (
    FLOOR,
    HEADROOM,
    MAX_PAUSE,
    RECOVERY,
    TIGHTEN,
    header_number,
    paced,
    pause_of,
    usable_burst,
)
from replicate_async._urls import display_url
from replicate_async.exceptions import TransportError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import redis.asyncio

    from replicate_async._config import BucketName, RateLimits
    from replicate_async._ratelimit import Limiter, RequestHooks

__all__ = [
    "DEFAULT_PREFIX",
    "REDIS_SCHEMES",
    "SCRIPT",
    "RedisRateLimiter",
    "make_limiter",
    "token_hash",
]

logger = logging.getLogger("replicate_async")

REDIS_SCHEMES: Final = ("redis", "rediss", "unix")
"""The URL schemes a shared limiter accepts (plain, TLS, Unix socket)."""

DEFAULT_PREFIX: Final = "replicate-async:ratelimit"
"""The start of every key the limiter writes: ``<prefix>:<token hash>:<bucket>``."""

#: Connections one limiter opens at most; more concurrent calls wait for one.
POOL_SIZE: Final = 16

_INSTALL_HINT: Final = "pip install 'replicate-async[redis]'"

# KEYS[1]: the bucket's hash. ARGV: 1 capacity, 2 configured rate (per second, with headroom),
# 3 a new bucket's level, 4 longest pause, 5 "1" to take a token, 6 ratelimit-remaining ("" for
# none), 7 its ticket, 8 when its request was sent (server time), 9 how many 429s, 10 their
# Retry-After ("" for none). Returns {wait, ticket, now, next}: seconds to wait before asking
# again (0: taken), the token's sequence number, the server's time, and when the next token is
# due after this one (seconds). Numbers go out as strings: Redis truncates Lua numbers to integers.
SCRIPT: Final = f"""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity = tonumber(ARGV[1])
local configured = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'rate', 'blocked', 'taken', 'throttled')
local tokens = tonumber(s[1])
local updated, rate, blocked, taken, throttled
if tokens == nil then
  tokens = tonumber(ARGV[3]); updated = now; rate = configured
  blocked = 0; taken = 0; throttled = 0
else
  updated = tonumber(s[2]); rate = math.min(tonumber(s[3]), configured)
  blocked = tonumber(s[4]); taken = tonumber(s[5]); throttled = tonumber(s[6])
end
local elapsed = math.max(0, now - updated)
updated = math.max(updated, now)
if rate < configured then
  rate = math.min(configured, rate + configured * {RECOVERY!r} * elapsed)
end
tokens = math.min(capacity, tokens + elapsed * rate)
if ARGV[6] ~= '' then
  local since = math.max(0, now - tonumber(ARGV[8]))
  local server = math.min(capacity, tonumber(ARGV[6]) + since * rate - (taken - tonumber(ARGV[7])))
  tokens = math.max(-capacity, math.min(tokens, server))
end
local n = tonumber(ARGV[9])
if n > 0 then
  throttled = throttled + n
  local pause = 0
  if ARGV[10] ~= '' then
    pause = math.min(math.max(tonumber(ARGV[10]), 0), tonumber(ARGV[4]))
  end
  if now >= blocked then
    rate = math.max(configured * {FLOOR!r}, rate * {TIGHTEN!r})
  end
  blocked = math.max(blocked, now + pause)
  tokens = math.min(tokens, 0)
end
local wait = 0
if ARGV[5] == '1' then
  if now < blocked then
    wait = blocked - now
  elseif tokens >= 1 then
    tokens = tokens - 1
    taken = taken + 1
  else
    wait = (1 - tokens) / rate
  end
end
local due = 0
if now < blocked then
  due = blocked - now
elseif tokens < 1 then
  due = (1 - tokens) / rate
end
local f = '%.17g'
redis.call('HSET', KEYS[1], 'tokens', string.format(f, tokens), 'updated', string.format(f, updated),
  'rate', string.format(f, rate), 'blocked', string.format(f, blocked),
  'taken', string.format(f, taken), 'throttled', string.format(f, throttled))
-- Idle buckets vanish once a new one would be the same (refilled, recovered, unpaused).
local ttl = math.max(blocked - now, 0) + capacity / configured + 1 / {RECOVERY!r} + 60
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000))
return {{string.format(f, wait), string.format(f, taken), string.format(f, now),
  string.format(f, due)}}
"""

_SHA: Final = hashlib.sha1(SCRIPT.encode(), usedforsecurity=False).hexdigest()


def token_hash(token: str) -> str:
    """The part of the keys that names the API token: a SHA-256 digest, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class _Pending:
    """What this process learnt about one bucket since its last call to Redis."""

    __slots__ = ("remaining", "retry_after", "sent_at", "throttles", "ticket")

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.ticket = 0.0
        self.sent_at = 0.0
        self.throttles = 0
        self.retry_after: float | None = None

    def args(self) -> list[str]:
        """The script's ARGV 6 to 10."""
        has_remaining = self.remaining is not None
        return [
            repr(self.remaining) if has_remaining else "",
            repr(self.ticket) if has_remaining else "",
            repr(self.sent_at) if has_remaining else "",
            str(self.throttles),
            "" if self.retry_after is None else repr(self.retry_after),
        ]


_NOTHING: Final = ["", "", "", "0", ""]


def _check_asyncio(action: str) -> None:
    """Raise RuntimeError when *action* happens under trio (redis.asyncio needs asyncio)."""
    try:
        backend = running_backend()
    except Exception:  # noqa: BLE001 - no event loop yet: checked again at first use
        return
    if backend != "asyncio":
        raise RuntimeError(
            f"RedisRateLimiter runs on asyncio only (redis.asyncio), not {backend}: {action} "
            "under asyncio, or leave rate_limiter=None for the in-process limiter"
        )


class RedisRateLimiter:
    """A rate limiter shared through Redis by every process using the same API token.

    Give it to clients as ``AsyncClient(rate_limiter=RedisRateLimiter(url))`` (or pass the URL
    itself: ``AsyncClient(rate_limiter="redis://host:6379/0")``). Every process whose client has
    the same token and prefix takes its tokens from the same three buckets (creates, prediction
    GETs, other calls), so together they pace at the account's rate; a 429 or a low
    ``ratelimit-remaining`` seen by one slows them all. The client closes the limiter with
    itself (its connections only: using it again reconnects, so one limiter may serve several
    clients of the same token in turn).

    Runs on asyncio only. Redis unreachable: requests raise
    :class:`~replicate_async.TransportError` naming the Redis URL (without its password), with
    the request never sent.

    Args:
        url: The Redis server: ``redis://[:password@]host[:port][/db]``, ``rediss://...``
            (TLS) or ``unix:///path/to/socket``.
        limits: The account's limits (all processes should give the same); the API's
            documented ones by default.
        prefix: The start of every key, to keep several applications apart on one server.
        api_token: The token whose buckets these are; by default the token of the client the
            limiter is given to. Only its hash is kept.
        max_pause: Longest pause in seconds a 429 imposes on a shared bucket.
        timeout: Seconds to wait for Redis to connect or answer before the request fails.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        url: str,
        *,
        limits: RateLimits = DEFAULT_RATE_LIMITS,
        prefix: str = DEFAULT_PREFIX,
        api_token: str | None = None,
        max_pause: float = MAX_PAUSE,
        timeout: float = 5.0,
    ) -> None:
        if urlsplit(url).scheme not in REDIS_SCHEMES:
            schemes = ", ".join(f"{s}://" for s in REDIS_SCHEMES)
            raise ValueError(
                f"a shared rate limiter's URL starts with {schemes}; got {display_url(url)}"
            )
        try:
            import redis.asyncio  # noqa: PLC0415 - only for those who ask for it
            import redis.exceptions  # noqa: PLC0415
        except ImportError as exc:
            raise ImportError(
                f"the shared rate limiter needs the redis package: {_INSTALL_HINT}"
            ) from exc
        _check_asyncio("make it")
        self.limits: Final = limits
        """The limits every bucket is paced by."""
        self.prefix: Final = prefix
        """The start of every key."""
        self.url: Final = display_url(url)
        """The Redis server's URL, without credentials."""
        self._buckets: dict[BucketName, tuple[str, str, str]] = {}
        for name, limit in paced(limits).items():
            self._buckets[name] = (
                repr(limit.capacity),
                repr(limit.per_minute / 60.0 * HEADROOM),
                repr(usable_burst(limit.capacity)),
            )
        self._redis_module = redis.asyncio
        self._errors = redis.exceptions
        self._full_url = url
        self._timeout = timeout
        self._max_pause = repr(float(max_pause))
        self._hash = None if api_token is None else token_hash(api_token)
        self._client: redis.asyncio.Redis | None = None
        self._locks: dict[BucketName, anyio.Lock] = {}
        self._due: dict[BucketName, float] = {}
        self._pending: dict[BucketName, _Pending] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<RedisRateLimiter {self.url} prefix={self.prefix!r} {self.limits!r}>"

    def bind_token(self, api_token: str) -> None:
        """Key the buckets by *api_token*'s hash (the client the limiter is given to calls this).

        Args:
            api_token: The client's token.

        Raises:
            ValueError: The limiter already belongs to another token.

        .. versionadded:: 0.1.0
        """
        digest = token_hash(api_token)
        if self._hash is not None and self._hash != digest:
            raise ValueError(
                "this RedisRateLimiter serves another API token: make one limiter per token"
            )
        self._hash = digest

    def key(self, name: BucketName) -> str:
        """The Redis key of bucket *name*: ``<prefix>:<token hash>:<name>``.

        .. versionadded:: 0.1.0
        """
        if self._hash is None:
            raise ValueError(
                "RedisRateLimiter has no API token yet: pass api_token= or give it to a client"
            )
        return f"{self.prefix}:{self._hash}:{name}"

    async def aclose(self) -> None:
        """Close the connections to Redis (using the limiter again opens new ones).

        .. versionadded:: 0.1.0
        """
        flushes, self._flushes = self._flushes, set()
        for task in flushes:
            task.cancel()
        if flushes:
            await asyncio.gather(*flushes, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _redis(self) -> redis.asyncio.Redis:
        """The connection pool, made on first use in the running (asyncio) loop."""
        if self._client is None:
            _check_asyncio("use it")
            pool = self._redis_module.BlockingConnectionPool.from_url(
                self._full_url,
                max_connections=POOL_SIZE,
                timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                socket_timeout=self._timeout,
            )
            self._client = self._redis_module.Redis.from_pool(pool)  # closed with it
        return self._client

    async def _call(self, name: BucketName, *, take: bool) -> tuple[float, float, float, float]:
        """Run the script on bucket *name* with what was learnt: (wait, ticket, now, due)."""
        pending = self._pending.pop(name, None)
        key = self.key(name)
        args = [*self._buckets[name], self._max_pause, "1" if take else "0"]
        args += _NOTHING if pending is None else pending.args()
        client = self._redis()
        errors = self._errors
        try:
            try:
                reply = await client.evalsha(_SHA, 1, key, *args)
            except errors.NoScriptError:
                # A restarted or flushed server forgot the script: EVAL sends it and caches it.
                reply = await client.eval(SCRIPT, 1, key, *args)
        except (errors.RedisError, OSError) as exc:
            raise TransportError(
                message=(
                    f"the shared rate limiter could not use Redis at {self.url} "
                    f"({type(exc).__name__}: {exc}); check that Redis runs there, or pass "
                    "rate_limiter=None to pace in this process only"
                ),
                request_sent=False,
            ) from exc
        wait, ticket, now, due = (float(x) for x in reply)
        return wait, ticket, now, due

    async def acquire(
        self, name: BucketName, hooks: RequestHooks | None = None
    ) -> tuple[float, float] | None:
        """Wait for a token of the shared bucket *name*; returns the ticket for :meth:`observe`.

        *hooks*, when given, hear that the request is about to be sent.

        .. versionadded:: 0.1.0
        """
        ticket: tuple[float, float] | None = None
        if name in self._buckets:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = anyio.Lock()
            # Fast path: nobody of this process waits and no wait is known to be running.
            if not lock.locked() and anyio.current_time() >= self._due.get(name, -math.inf):
                ticket = await self._take(name)
            if ticket is None:
                async with lock:
                    # One asker for the whole queue; the others wait on the lock, not on Redis.
                    # _take sleeps until the token the last reply announced is due.
                    ticket = await self._take(name)
                    while ticket is None:
                        ticket = await self._take(name)
        if hooks is not None and (pending := hooks.sending(name)) is not None:
            await pending
        return ticket

    async def _take(self, name: BucketName) -> tuple[float, float] | None:
        """One round trip: the ticket when a token was taken, else None (``_due`` says when)."""
        delay = self._due.get(name, -math.inf) - anyio.current_time()
        if delay > 0:
            await anyio.sleep(delay)
        wait, ticket, now, due = await self._call(name, take=True)
        self._due[name] = anyio.current_time() + (wait or due)
        return None if wait > 0 else (ticket, now)

    def observe(
        self,
        name: BucketName,
        ticket: tuple[float, float] | None,
        status: int,
        headers: Mapping[str, str],
        retry_after: float | None = None,
        *,
        hooks: RequestHooks | None = None,
    ) -> None:
        """Learn from the reply to a request that took *ticket*; told to Redis with the next call.

        Args:
            name: The request's bucket.
            ticket: What :meth:`acquire` returned.
            status: The reply's status code.
            headers: The reply's headers (``ratelimit-remaining``, ``ratelimit-reset``).
            retry_after: For a 429, the seconds the server asked to wait, if it said.
            hooks: The request's hooks, told of a 429.

        .. versionadded:: 0.1.0
        """
        if status == 429 and hooks is not None:  # noqa: PLR2004
            hooks.throttled(name)
        if ticket is None or name not in self._buckets:
            return
        pending = self._pending.get(name)
        if pending is None:
            pending = self._pending[name] = _Pending()
        if status == 429:  # noqa: PLR2004
            retry_after = pause_of(headers, retry_after)
            pending.throttles += 1
            if retry_after is not None:
                pending.retry_after = max(retry_after, pending.retry_after or 0.0)
            self._flush_soon(name)
            return
        remaining = header_number(headers, "ratelimit-remaining")
        if remaining is not None and (pending.remaining is None or ticket[0] >= pending.ticket):
            pending.remaining = remaining
            pending.ticket, pending.sent_at = ticket

    def _flush_soon(self, name: BucketName) -> None:
        """Tell Redis of a 429 now, so that every process pauses, not only this one."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - observe runs on the client's loop
            return
        task = loop.create_task(self._flush(name))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, name: BucketName) -> None:
        """Send what was learnt about bucket *name* without taking a token."""
        if name not in self._pending:
            return  # an acquire took it along already
        try:
            _, _, _, due = await self._call(name, take=False)
        except TransportError as exc:
            # The next acquire meets the same failure and raises it to its caller.
            logger.debug("could not report a 429 to the shared rate limiter: %s", exc)
            return
        self._due[name] = max(self._due.get(name, -math.inf), anyio.current_time() + due)

    async def state(self, name: BucketName) -> dict[str, float]:
        """The shared bucket *name* as Redis holds it (empty before its first use).

        Keys: ``tokens``, ``updated`` and ``blocked`` (server time), ``rate`` (per second),
        ``taken`` and ``throttled`` (counts over every process).

        .. versionadded:: 0.1.0
        """
        raw = await self._redis().hgetall(self.key(name))
        return {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}


def make_limiter(
    spec: object, *, api_token: str, limits: RateLimits, max_pause: float
) -> Limiter | None:
    """The limiter a client's ``rate_limiter=`` asks for (None: the session's in-process one).

    Args:
        spec: None, a Redis URL (a limiter the client makes, with its *limits*), or a limiter.
        api_token: The client's token, whose hash keys a shared limiter's buckets.
        limits: The client's limits, for a limiter made from a URL.
        max_pause: Longest pause a 429 imposes, for a limiter made from a URL.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        return RedisRateLimiter(spec, limits=limits, api_token=api_token, max_pause=max_pause)
    if isinstance(spec, RedisRateLimiter):
        spec.bind_token(api_token)
        return spec
    if all(callable(getattr(spec, m, None)) for m in ("acquire", "observe", "aclose")):
        return cast("Limiter", spec)
    raise TypeError(
        "rate_limiter must be None, a redis://, rediss:// or unix:// URL, or a limiter "
        f"(acquire, observe, aclose), not {type(spec).__name__}"
    )
