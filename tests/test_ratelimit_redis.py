# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The shared rate limiter: its Lua bucket against a real Redis, then through the clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import redis.asyncio
import stamina
import trio

from _redis_server import redis_url  # noqa: F401 - the session's Redis, a fixture
from replicate_async import (
    AsyncClient,
    Client,
    RateLimit,
    RateLimitError,
    RateLimits,
    RedisRateLimiter,
    RetryPolicy,
    TransportError,
)
from replicate_async._ratelimit import FLOOR, HEADROOM, RECOVERY, TIGHTEN, RateLimiter
from replicate_async._ratelimit_redis import token_hash

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer

TOKEN = "r8_" + "t" * 37
OTHER_TOKEN = "r8_" + "o" * 37
SLOW = RateLimits(create=RateLimit(per_minute=60, burst=5), get_prediction=None, other=None)
"""Creates at ~1/s, four tokens to start with (a fifth of the burst, at least one, held back)."""


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests never share a bucket."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
def make(redis_url: str, prefix: str):  # noqa: F811 - the fixture imported above
    """Make RedisRateLimiters on the session's Redis under this test's prefix (tests close them)."""

    def limiter(
        limits: RateLimits = SLOW, token: str | None = TOKEN, **kwargs: Any
    ) -> RedisRateLimiter:
        return RedisRateLimiter(redis_url, limits=limits, prefix=prefix, api_token=token, **kwargs)

    return limiter


async def _flushed(limiter: RedisRateLimiter) -> None:
    """Wait for the 429 reports observe() started."""
    await asyncio.gather(*limiter._flushes)


# -- the bucket's arithmetic, server-side ----------------------------------------------------------


@pytest.mark.asyncio
async def test_tokens_are_taken_until_the_bucket_is_empty(make) -> None:
    """A new bucket holds its burst less the reserve; then the script returns the wait."""
    limiter = make()
    try:
        waits = [(await limiter._call("create", take=True))[0] for _ in range(5)]
        state = await limiter.state("create")
    finally:
        await limiter.aclose()
    assert waits[:4] == [0.0, 0.0, 0.0, 0.0]
    # The fifth token is a whole token's refill away at 97 % of 1/s, less what refilled meanwhile.
    assert 0.9 < waits[4] <= 1 / HEADROOM + 1e-9
    assert state["taken"] == 4
    assert state["tokens"] < 1


@pytest.mark.asyncio
async def test_tickets_count_every_token_of_the_bucket(make) -> None:
    """A ticket holds the token's sequence number and the server's time it was taken at."""
    first, second = make(), make()
    try:
        one = await first.acquire("create")
        two = await second.acquire("create")
    finally:
        await first.aclose()
        await second.aclose()
    assert one is not None
    assert two is not None
    assert (one[0], two[0]) == (1, 2)
    assert one[1] <= two[1]


@pytest.mark.asyncio
async def test_an_empty_bucket_refills_at_its_rate(make) -> None:
    """Past the burst, acquire waits the refill time the script returned, then gets the token."""
    limiter = make(RateLimits(create=RateLimit(per_minute=600, burst=2)))
    try:
        await limiter.acquire("create")  # the one token a burst of 2 starts with
        started = anyio.current_time()
        ticket = await limiter.acquire("create")
        waited = anyio.current_time() - started
    finally:
        await limiter.aclose()
    assert ticket is not None
    assert ticket[0] == 2
    assert 0.09 < waited < 0.5  # a token per 1 / (10 * 0.97) s


@pytest.mark.asyncio
async def test_waiters_of_one_process_queue_behind_one_asker(make) -> None:
    """Ten tasks waiting for tokens are served in turn, each token taken once."""
    limiter = make(RateLimits(create=RateLimit(per_minute=6000, burst=2)))
    tickets: list[float] = []
    calls = 0
    call = limiter._call

    async def counted(*args: Any, **kwargs: Any) -> tuple[float, float, float, float]:
        nonlocal calls
        calls += 1
        return await call(*args, **kwargs)

    limiter._call = counted

    async def one() -> None:
        ticket = await limiter.acquire("create")
        assert ticket is not None
        tickets.append(ticket[0])

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(one)
        state = await limiter.state("create")
    finally:
        await limiter.aclose()
    assert sorted(tickets) == [float(n) for n in range(1, 11)]
    assert state["taken"] == 10
    # All ten ask once at first; then only the queue's head asks, once per token when on time.
    assert calls <= 10 + 9 + 3


@pytest.mark.asyncio
async def test_ratelimit_remaining_lowers_the_shared_level(make) -> None:
    """A reply's ratelimit-remaining: 0 empties the shared bucket for another process too."""
    mine, theirs = make(), make()
    try:
        ticket = await mine.acquire("create")
        mine.observe("create", ticket, 201, {"ratelimit-remaining": "0"})
        await mine._call("create", take=False)  # what the next acquire would send along
        wait = (await theirs._call("create", take=True))[0]
    finally:
        await mine.aclose()
        await theirs.aclose()
    assert wait > 0.5  # three tokens were left before the reply said none


@pytest.mark.asyncio
async def test_a_higher_remaining_never_raises_the_level(make) -> None:
    """ratelimit-remaining only ever lowers the shared bucket."""
    limiter = make()
    try:
        ticket = await limiter.acquire("create")
        limiter.observe("create", ticket, 201, {"ratelimit-remaining": "599"})
        await limiter._call("create", take=False)
        state = await limiter.state("create")
    finally:
        await limiter.aclose()
    assert state["tokens"] < 3.5


@pytest.mark.asyncio
async def test_a_429_pauses_the_shared_bucket_for_every_process(make) -> None:
    """A 429 with Retry-After seen by one limiter makes another one wait as long, at a lower rate."""
    mine, theirs = make(), make()
    with stamina.set_testing(False):
        try:
            ticket = await mine.acquire("create")
            mine.observe("create", ticket, 429, {"retry-after": "5"})
            await _flushed(mine)  # reported at once, without waiting for mine's next request
            wait = (await theirs._call("create", take=True))[0]
            state = await theirs.state("create")
        finally:
            await mine.aclose()
            await theirs.aclose()
    assert 4.5 < wait <= 5
    assert state["throttled"] == 1
    assert state["rate"] == pytest.approx(HEADROOM * TIGHTEN, rel=1e-3)


@pytest.mark.asyncio
async def test_ratelimit_reset_stands_in_for_retry_after(make) -> None:
    """A 429 without Retry-After pauses for the reply's ratelimit-reset."""
    limiter = make()
    with stamina.set_testing(False):
        try:
            ticket = await limiter.acquire("create")
            limiter.observe("create", ticket, 429, {"ratelimit-reset": "3"})
            await _flushed(limiter)
            state = await limiter.state("create")
        finally:
            await limiter.aclose()
    assert state["blocked"] - state["updated"] == pytest.approx(3, abs=0.01)


@pytest.mark.asyncio
async def test_a_pause_is_capped(make) -> None:
    """A Retry-After past max_pause pauses the bucket for max_pause only."""
    limiter = make(max_pause=2.0)
    with stamina.set_testing(False):
        try:
            ticket = await limiter.acquire("create")
            limiter.observe("create", ticket, 429, {"retry-after": "3600"})
            await _flushed(limiter)
            state = await limiter.state("create")
        finally:
            await limiter.aclose()
    assert state["blocked"] - state["updated"] == pytest.approx(2, abs=0.01)


@pytest.mark.asyncio
async def test_the_tightened_rate_recovers_by_the_server_clock(make) -> None:
    """After a 429 the shared rate is a fifth lower, then regains 5 % of its own per second."""
    limiter = make(RateLimits(create=RateLimit(per_minute=600, burst=50)))
    try:
        ticket = await limiter.acquire("create")
        limiter.observe("create", ticket, 429, {})  # no delay said: tighten and empty only
        await _flushed(limiter)
        before = await limiter.state("create")
        await anyio.sleep(0.2)  # the recovery under test takes time
        await limiter._call("create", take=False)
        after = await limiter.state("create")
    finally:
        await limiter.aclose()
    configured = 10 * HEADROOM
    assert before["rate"] == pytest.approx(configured * TIGHTEN)
    elapsed = after["updated"] - before["updated"]
    assert after["rate"] == pytest.approx(configured * (TIGHTEN + RECOVERY * elapsed))


@pytest.mark.asyncio
async def test_429s_never_tighten_below_the_floor(make) -> None:
    """Many 429s in a row leave the shared rate at a tenth of the configured one."""
    limiter = make()
    try:
        ticket = await limiter.acquire("create")
        for _ in range(20):
            limiter.observe("create", ticket, 429, {})
            await _flushed(limiter)
        state = await limiter.state("create")
    finally:
        await limiter.aclose()
    assert state["rate"] == pytest.approx(HEADROOM * FLOOR, rel=1e-2)
    assert state["throttled"] == 20


@pytest.mark.asyncio
async def test_tokens_of_other_api_tokens_are_apart(make, redis_url) -> None:  # noqa: F811
    """Another API token's buckets are its own; keys hold a hash of the token, never the token."""
    mine, theirs = make(token=TOKEN), make(token=OTHER_TOKEN)
    try:
        for _ in range(4):
            await mine.acquire("create")
        mine_wait = (await mine._call("create", take=True))[0]
        theirs_wait = (await theirs._call("create", take=True))[0]
        keys = [k.decode() async for k in mine._redis().scan_iter(match=f"{mine.prefix}:*")]
    finally:
        await mine.aclose()
        await theirs.aclose()
    assert mine_wait > 0
    assert theirs_wait == 0
    assert sorted(keys) == sorted(
        f"{mine.prefix}:{token_hash(t)}:create" for t in (TOKEN, OTHER_TOKEN)
    )
    assert not any(TOKEN in k or OTHER_TOKEN in k for k in keys)
    assert TOKEN not in repr(mine)


@pytest.mark.asyncio
async def test_a_switched_off_bucket_never_asks_redis() -> None:
    """A bucket the limits switch off gives no ticket and needs no server."""
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", limits=SLOW, api_token=TOKEN)
    assert await limiter.acquire("other") is None
    limiter.observe("other", None, 429, {})
    await limiter.aclose()


@pytest.mark.asyncio
async def test_a_forgotten_script_is_sent_again(make, redis_url) -> None:  # noqa: F811
    """After SCRIPT FLUSH (a restarted server) the next acquire sends the script and works."""
    limiter = make()
    try:
        await limiter.acquire("create")
        await limiter._redis().script_flush()
        ticket = await limiter.acquire("create")
    finally:
        await limiter.aclose()
    assert ticket is not None
    assert ticket[0] == 2


@pytest.mark.asyncio
async def test_idle_buckets_expire(make) -> None:
    """A bucket's key expires once an idle bucket would be full again anyway."""
    limiter = make()
    try:
        await limiter.acquire("create")
        ttl = await limiter._redis().pttl(limiter.key("create"))
    finally:
        await limiter.aclose()
    assert 0 < ttl <= (5 / HEADROOM + 1 / RECOVERY + 61) * 1000


# -- failures and misuse ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_unreachable_redis_is_a_transport_error_naming_the_url() -> None:
    """Redis down: acquire raises TransportError with the URL (no password), never redis's own."""
    with socket_closed() as port:
        limiter = RedisRateLimiter(
            f"redis://:hunter2@127.0.0.1:{port}/0", limits=SLOW, api_token=TOKEN, timeout=2
        )
        with pytest.raises(TransportError) as caught:
            await limiter.acquire("create")
        await limiter.aclose()
    message = str(caught.value)
    assert f"redis://127.0.0.1:{port}/0" in message
    assert "rate_limiter=None" in message
    assert "hunter2" not in message
    assert "hunter2" not in repr(limiter)
    assert caught.value.request_sent is False
    assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)


class socket_closed:  # noqa: N801 - reads as a context manager
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("url", ["memcached://localhost", "http://localhost:6379", "localhost"])
def test_an_unknown_scheme_is_refused(url: str) -> None:
    """Only redis://, rediss:// and unix:// URLs are accepted, and the error names them."""
    with pytest.raises(ValueError, match=r"redis://, rediss://, unix://"):
        AsyncClient(TOKEN, rate_limiter=url)


def test_a_missing_redis_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without redis installed the limiter raises ImportError with the pip command."""
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r"pip install 'replicate-async\[redis\]'"):
        RedisRateLimiter("redis://localhost")


def test_a_rate_limiter_of_another_type_is_refused() -> None:
    """rate_limiter= takes None, a URL or a limiter: anything else is a TypeError."""
    with pytest.raises(TypeError, match="rate_limiter must be"):
        AsyncClient(TOKEN, rate_limiter=42)  # type: ignore[arg-type]


def test_a_limiter_serves_one_api_token() -> None:
    """A limiter made for one token refuses a client of another."""
    limiter = RedisRateLimiter("redis://localhost", api_token=TOKEN)
    with pytest.raises(ValueError, match="another API token"):
        AsyncClient(OTHER_TOKEN, rate_limiter=limiter)


def test_a_limiter_without_token_cannot_name_its_keys() -> None:
    """Until it has a token (its own or its client's) a limiter has no keys."""
    with pytest.raises(ValueError, match="no API token"):
        RedisRateLimiter("redis://localhost").key("create")


@pytest.mark.parametrize("anyio_backend", ["trio"])
@pytest.mark.anyio
async def test_trio_is_refused_when_made(anyio_backend: str) -> None:
    """Made under trio, the limiter says it needs asyncio."""
    with pytest.raises(RuntimeError, match="asyncio only"):
        RedisRateLimiter("redis://localhost", api_token=TOKEN)


def test_trio_is_refused_at_first_use() -> None:
    """Made outside any loop and used under trio, the limiter says it needs asyncio."""
    limiter = RedisRateLimiter("redis://localhost", limits=SLOW, api_token=TOKEN)
    with pytest.raises(RuntimeError, match="asyncio only"):
        trio.run(limiter.acquire, "create")


def test_importing_the_package_loads_no_redis() -> None:
    """redis is imported when a limiter is made, never with the package."""
    code = "import json, sys, replicate_async; print(json.dumps('redis' in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    assert json.loads(out.stdout) is False


# -- through the clients ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_client_paces_by_the_shared_bucket(
    replicate_emulator: EmulatorServer,
    redis_url: str,  # noqa: F811
    prefix: str,
) -> None:
    """AsyncClient(rate_limiter=URL) takes each request's token from Redis, and closes it."""
    limits = RateLimits(create=RateLimit(per_minute=6000, burst=20))
    client = AsyncClient(
        replicate_emulator.token,
        replicate_emulator.base_url,
        rate_limits=limits,
        rate_limiter=redis_url,
    )
    limiter = client._session.rate
    assert isinstance(limiter, RedisRateLimiter)
    limiter.prefix = prefix  # this test's own keys
    async with client:
        outputs = [await client.run("emulator/echo", {"prompt": str(i)}) for i in range(3)]
        state = await limiter.state("create")
    assert outputs == ["0", "1", "2"]
    assert state["taken"] == 3
    assert limiter._client is None  # closed with the client
    assert replicate_emulator.stats()["throttled"] == 0


@pytest.mark.asyncio
async def test_a_429_through_one_client_pauses_another(
    replicate_emulator: EmulatorServer, make
) -> None:
    """A 429 met by one client's request pauses the shared bucket a second client takes from."""
    replicate_emulator.set_rate_limits(RateLimits(create=RateLimit(per_minute=60, burst=1)))
    limits = RateLimits(create=RateLimit(per_minute=6000, burst=20))
    first = make(limits, token=replicate_emulator.token)
    second = make(limits, token=replicate_emulator.token)
    with stamina.set_testing(False):  # the Retry-After is honoured, not zeroed
        async with AsyncClient(
            replicate_emulator.token,
            replicate_emulator.base_url,
            rate_limiter=first,
            retry=RetryPolicy(attempts=1),  # the 429 is not retried
        ) as client:
            await client.predictions.create("emulator/echo", {"prompt": "a"}, wait=False)
            with pytest.raises(RateLimitError):
                await client.predictions.create("emulator/echo", {"prompt": "b"}, wait=False)
            await _flushed(first)
        wait = (await second._call("create", take=True))[0]
        state = await second.state("create")
        await second.aclose()
    assert state["throttled"] == 1
    assert 0.5 < wait <= 1  # the emulator's Retry-After: 1
    assert first._client is None  # an instance given to a client is closed with it


def test_the_sync_client_takes_a_url(replicate_emulator: EmulatorServer, redis_url) -> None:  # noqa: F811
    """Client(rate_limiter=URL) forwards it to its AsyncClient."""
    with Client(
        replicate_emulator.token, replicate_emulator.base_url, rate_limiter=redis_url
    ) as client:
        assert client.run("emulator/echo", {"prompt": "sync"}) == "sync"
        assert isinstance(client._async._session.rate, RedisRateLimiter)


@pytest.mark.asyncio
async def test_any_limiter_instance_is_used(replicate_emulator: EmulatorServer) -> None:
    """rate_limiter= takes an object with the Limiter protocol's methods, as it is."""
    limiter = RateLimiter(RateLimits())
    async with AsyncClient(
        replicate_emulator.token, replicate_emulator.base_url, rate_limiter=limiter
    ) as client:
        assert await client.run("emulator/echo", {"prompt": "x"}) == "x"
    assert client._session.rate is limiter
    assert limiter.bucket("create").taken == 1


@pytest.mark.asyncio
async def test_a_client_with_redis_down_raises_the_limiters_error(
    replicate_emulator: EmulatorServer,
) -> None:
    """Redis down: the caller gets the limiter's TransportError (after retries), nothing is sent."""
    with socket_closed() as port:
        async with AsyncClient(
            replicate_emulator.token,
            replicate_emulator.base_url,
            rate_limiter=f"redis://127.0.0.1:{port}/0",
        ) as client:
            with pytest.raises(TransportError, match=f"Redis at redis://127.0.0.1:{port}/0"):
                await client.predictions.create("emulator/echo", {"prompt": "x"})
    assert replicate_emulator.stats()["creates"] == 0


@pytest.mark.asyncio
async def test_one_limiter_serves_clients_in_turn(replicate_emulator: EmulatorServer, make) -> None:
    """A limiter closed with its first client reconnects for the next one, on the same bucket."""
    # No token of its own: it takes its clients'.
    limiter = make(RateLimits(create=RateLimit(per_minute=6000, burst=20)), token=None)
    for prompt in ("first", "second"):
        async with AsyncClient(
            replicate_emulator.token, replicate_emulator.base_url, rate_limiter=limiter
        ) as client:
            assert await client.run("emulator/echo", {"prompt": prompt}) == prompt
    async with AsyncClient(replicate_emulator.token, rate_limiter=limiter):
        state = await limiter.state("create")
    assert state["taken"] == 2
