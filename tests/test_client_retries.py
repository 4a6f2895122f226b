# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Retries: creates only when surely unsent or throttled; GETs and cancels on 429, 5xx, transport."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import stamina
import stamina.instrumentation

from _client_support import API, TOKEN, prediction, problem, reply
from replicate_async import (
    RateLimitError,
    RequestTimeout,
    RetryPolicy,
    ServerError,
    TransportError,
)
from replicate_async._client import AsyncClient

if TYPE_CHECKING:
    import respx

CREATE = "/v1/models/acme/painter/predictions"
GET = "/v1/predictions/p1"
CANCEL = "/v1/predictions/p1/cancel"


def throttled(retry_after: str | None = None, body_retry_after: int | None = None):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {"detail": "Request was throttled.", "status": 429}
    if body_retry_after is not None:
        body["retry_after"] = body_retry_after
    return httpx.Response(429, json=body, headers=headers)


@pytest.fixture
def waits():
    """The waits stamina scheduled, with real backoff (testing mode off) for this test."""
    seen: list[float] = []
    stamina.instrumentation.set_on_retry_hooks([lambda details: seen.append(details.wait_for)])
    with stamina.set_testing(False):
        yield seen
    stamina.instrumentation.set_on_retry_hooks(None)


# ------------------------------------------------------------------ creates


@pytest.mark.asyncio
async def test_create_answered_500_is_sent_exactly_once(api: respx.Router, make_client):
    """A 5xx on a create raises ServerError without retrying (it may have been accepted)."""
    create = api.post(CREATE).mock(return_value=problem(500, "Internal Server Error"))
    async with make_client() as client:
        with pytest.raises(ServerError):
            await client.run("acme/painter")
    assert create.call_count == 1


@pytest.mark.asyncio
async def test_create_read_timeout_is_sent_exactly_once(api: respx.Router, make_client):
    """A read timeout on a create raises RequestTimeout(request_sent=True) without retrying."""
    create = api.post(CREATE).mock(side_effect=httpx.ReadTimeout("timed out"))
    async with make_client() as client:
        with pytest.raises(RequestTimeout) as info:
            await client.predictions.create("acme/painter")
    assert create.call_count == 1
    assert info.value.request_sent
    assert "may have been created" in str(info.value)
    assert "not retried" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.asyncio
async def test_create_disconnect_after_sending_is_not_retried(api: respx.Router, make_client):
    """A connection lost after the create was sent raises TransportError(request_sent=True) once."""
    create = api.post(CREATE).mock(side_effect=httpx.RemoteProtocolError("server hung up"))
    async with make_client() as client:
        with pytest.raises(TransportError) as info:
            await client.predictions.create("acme/painter")
    assert create.call_count == 1
    assert info.value.request_sent
    assert not isinstance(info.value, RequestTimeout)


@pytest.mark.asyncio
@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_create_failing_before_sending_is_retried(
    api: respx.Router, make_client, error: type[Exception]
):
    """A create that surely never left (connect or pool failure) is retried."""
    create = api.post(CREATE).mock(side_effect=[error("no connection"), reply("succeeded", 201)])
    async with make_client() as client:
        prediction = await client.predictions.create("acme/painter")
    assert prediction.status == "succeeded"
    assert create.call_count == 2


@pytest.mark.asyncio
async def test_create_throttled_is_retried_after_the_server_delay(
    api: respx.Router, make_client, waits: list[float]
):
    """A 429 with Retry-After is waited out (the server's delay) and the create then succeeds."""
    create = api.post(CREATE).mock(side_effect=[throttled("0.05"), reply("succeeded", 201)])
    async with make_client() as client:
        prediction = await client.predictions.create("acme/painter")
    assert prediction.status == "succeeded"
    assert create.call_count == 2
    assert waits == [0.05]


@pytest.mark.asyncio
async def test_body_retry_after_is_honoured(api: respx.Router, make_client, waits: list[float]):
    """Without a Retry-After header, the body's `retry_after` sets the wait."""
    api.post(CREATE).mock(side_effect=[throttled(body_retry_after=0), reply("succeeded", 201)])
    async with make_client() as client:
        await client.predictions.create("acme/painter")
    assert waits == [0.0]


@pytest.mark.asyncio
async def test_retry_after_is_capped(api: respx.Router, make_client, waits: list[float]):
    """A Retry-After beyond RetryPolicy.max_retry_after is shortened to the cap."""
    api.post(CREATE).mock(side_effect=[throttled("3600"), reply("succeeded", 201)])
    async with make_client(retry=RetryPolicy(max_retry_after=0.01)) as client:
        await client.predictions.create("acme/painter")
    assert waits == [0.01]


@pytest.mark.asyncio
async def test_429_without_delay_uses_the_backoff(
    api: respx.Router, make_client, waits: list[float]
):
    """A 429 without any delay hint is retried after the policy's own backoff."""
    api.post(CREATE).mock(side_effect=[throttled(), reply("succeeded", 201)])
    policy = RetryPolicy(wait_initial=0.01, wait_max=0.01, wait_jitter=0)
    async with make_client(retry=policy) as client:
        await client.predictions.create("acme/painter")
    assert waits == [0.01]


@pytest.mark.asyncio
async def test_throttling_that_persists_raises_rate_limit_error(api: respx.Router, make_client):
    """When every attempt is throttled, RateLimitError is raised with the server's delay."""
    create = api.post(CREATE).mock(return_value=throttled("7"))
    async with make_client() as client:
        with pytest.raises(RateLimitError) as info:
            await client.predictions.create("acme/painter")
    assert info.value.retry_after == 7
    assert create.call_count == 3  # the test cap on attempts (conftest)


@pytest.mark.asyncio
async def test_attempts_are_bounded_by_the_policy(api: respx.Router, make_client):
    """RetryPolicy.attempts bounds the tries of one request."""
    get = api.get(GET).mock(return_value=problem(503, "Service Unavailable"))
    async with make_client(retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(ServerError):
            await client.predictions.get("p1")
    assert get.call_count == 2


@pytest.mark.asyncio
async def test_retry_timeout_counts_the_first_try(api: respx.Router, make_client, waits):
    """RetryPolicy.timeout runs from the first try: one slower than it is not retried."""

    async def slow_failure(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.2)
        return problem(503, "Service Unavailable")

    get = api.get(GET).mock(side_effect=[slow_failure, reply("processing")])
    policy = RetryPolicy(timeout=0.1, wait_initial=0.0, wait_jitter=0.0)
    async with make_client(retry=policy) as client:
        with pytest.raises(ServerError):
            await client.predictions.get("p1")
    assert get.call_count == 1
    assert waits == []


@pytest.mark.asyncio
async def test_retry_within_the_timeout_follows_a_first_failure(
    api: respx.Router, make_client, waits
):
    """A first try that fails fast is retried by stamina, which schedules one backoff."""
    get = api.get(GET).mock(side_effect=[problem(503), reply("processing")])
    policy = RetryPolicy(wait_initial=0.01, wait_max=0.01, wait_jitter=0.0)
    async with make_client(retry=policy) as client:
        prediction = await client.predictions.get("p1")
    assert prediction.status == "processing"
    assert get.call_count == 2
    assert waits == [0.01]


# ------------------------------------------------------------------ gets and cancels


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "first",
    [
        problem(502, "Bad Gateway"),
        throttled("0"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("hung up"),
    ],
    ids=["5xx", "429", "read-timeout", "disconnect"],
)
async def test_get_is_retried(api: respx.Router, make_client, first):
    """A GET is retried after a 5xx, a 429 or any transport failure."""
    get = api.get(GET).mock(side_effect=[first, reply("processing")])
    async with make_client() as client:
        prediction = await client.predictions.get("p1")
    assert prediction.status == "processing"
    assert get.call_count == 2


@pytest.mark.asyncio
async def test_cancel_is_retried_on_5xx(api: respx.Router, make_client):
    """A cancel is retried after a 5xx."""
    cancel = api.post(CANCEL).mock(side_effect=[problem(500), reply("canceled")])
    async with make_client() as client:
        prediction = await client.predictions.cancel("p1")
    assert prediction.status == "canceled"
    assert cancel.call_count == 2


@pytest.mark.asyncio
async def test_unsupported_protocol_is_not_retried(api: respx.Router, make_client):
    """A failure no retry can fix (an unsupported protocol) raises at once."""
    get = api.get(GET).mock(side_effect=httpx.UnsupportedProtocol("nope"))
    async with make_client() as client:
        with pytest.raises(TransportError) as info:
            await client.predictions.get("p1")
    assert get.call_count == 1
    assert not info.value.request_sent
    assert "before the request was sent" in str(info.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "expected", "sent"),
    [
        (httpx.ReadError("reset"), TransportError, True),
        (httpx.WriteError("broken pipe"), TransportError, True),
        (httpx.WriteTimeout("slow"), RequestTimeout, True),
        (httpx.ConnectTimeout("slow"), RequestTimeout, False),
        (httpx.ConnectError("refused"), TransportError, False),
        (httpx.DecodingError("bad gzip"), TransportError, True),
        (httpx.TooManyRedirects("loop"), TransportError, True),
    ],
)
async def test_no_httpx_exception_reaches_the_caller(
    api: respx.Router, make_client, error, expected, sent
):
    """Every httpx failure surfaces as TransportError/RequestTimeout, chained to the original."""
    api.get(GET).mock(side_effect=error)
    async with make_client() as client:
        with pytest.raises(expected) as info:
            await client.predictions.get("p1")
    assert info.value.request_sent is sent
    assert info.value.__cause__ is error
    assert not isinstance(info.value, httpx.HTTPError)


@pytest.mark.asyncio
async def test_invalid_url_becomes_transport_error(make_client, monkeypatch):
    """An httpx.InvalidURL (not an HTTPError) is mapped as well."""
    async with make_client() as client:
        monkeypatch.setattr(client._session, "base_url", "https://api\x00test")
        with pytest.raises(TransportError) as info:
            await client.predictions.get("p1")
    assert isinstance(info.value.__cause__, httpx.InvalidURL)


def test_retry_hook_decisions() -> None:
    """The retry hook: 429 always (with its capped delay), 5xx and transport only when allowed."""
    client = AsyncClient(api_token="r8_x", base_url="https://api.test")
    create, other = client._session.retry_on(create=True), client._session.retry_on(create=False)
    server = ServerError(status_code=500)
    sent = TransportError(message="x", request_sent=True)
    unsent = TransportError(message="x", request_sent=False)
    assert create(RateLimitError(status_code=429, retry_after=5)) == 5
    assert create(RateLimitError(status_code=429, retry_after=500)) == 60
    assert create(RateLimitError(status_code=429)) is True
    assert create(server) is False
    assert other(server) is True
    assert create(sent) is False
    assert other(sent) is True
    assert create(unsent) is True
    assert other(ValueError()) is False


# ------------------------------------------------------------------ logging


def _retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "replicate_async" and r.levelno == logging.INFO and "retrying" in r.msg
    ]


@pytest.mark.asyncio
async def test_retries_are_logged_with_the_real_waits_and_attempts(
    api: respx.Router, make_client, waits: list[float], caplog: pytest.LogCaptureFixture
):
    """Each retry is one INFO line of our logger naming the request, wait, cause and attempt."""
    caplog.set_level(logging.INFO, logger="replicate_async")
    api.get(GET).mock(side_effect=[problem(503), problem(502), reply("processing")])
    policy = RetryPolicy(attempts=4, wait_initial=0.01, wait_max=1.0, wait_jitter=0.0)
    async with make_client(retry=policy) as client:
        await client.predictions.get("p1")
    assert waits == pytest.approx([0.01, 0.02])  # what stamina really slept
    assert _retry_lines(caplog) == [
        "retrying GET /v1/predictions/p1 in 0.01 s after ServerError 503, attempt 2 of 4",
        "retrying GET /v1/predictions/p1 in 0.02 s after ServerError 502, attempt 3 of 4",
    ]


@pytest.mark.asyncio
async def test_a_throttled_create_logs_the_servers_delay(
    api: respx.Router, make_client, waits: list[float], caplog: pytest.LogCaptureFixture
):
    """A 429 retry logs the Retry-After wait stamina used, and never the token."""
    caplog.set_level(logging.DEBUG)
    api.post(CREATE).mock(side_effect=[throttled("0.05"), reply("succeeded", 201)])
    async with make_client() as client:
        await client.predictions.create("acme/painter")
    assert waits == [0.05]
    assert _retry_lines(caplog) == [
        f"retrying POST {CREATE} in 0.05 s after RateLimitError 429, attempt 2 of 8"
    ]
    assert TOKEN not in caplog.text


@pytest.mark.asyncio
async def test_the_last_failure_is_not_logged_as_a_retry(
    api: respx.Router, make_client, waits: list[float], caplog: pytest.LogCaptureFixture
):
    """When the attempts run out no line announces a retry, and no line shows a query string."""
    caplog.set_level(logging.INFO, logger="replicate_async")
    first = {"results": [prediction()], "next": f"{API}/v1/predictions?cursor=c2VjcmV0"}
    api.get("/v1/predictions").mock(
        side_effect=[httpx.Response(200, json=first), problem(503), problem(503)]
    )
    policy = RetryPolicy(attempts=2, wait_initial=0.0, wait_jitter=0.0)
    async with make_client(retry=policy) as client:
        with pytest.raises(ServerError):
            [p async for p in client.predictions.list()]
    assert waits == [0.0]
    assert _retry_lines(caplog) == [
        "retrying GET /v1/predictions in 0 s after ServerError 503, attempt 2 of 2"
    ]
