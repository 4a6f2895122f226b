# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient set-up: token, base URL, headers, repr, lifecycle; and its error messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from _client_support import API, TOKEN, problem, reply
from replicate_async import (
    AsyncClient,
    AuthenticationError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from replicate_async._downloads import Downloader

if TYPE_CHECKING:
    import respx

CREATE = "/v1/models/acme/painter/predictions"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)


def test_missing_token_fails_before_any_request() -> None:
    """Without a token the client refuses to start, naming REPLICATE_API_TOKEN."""
    with pytest.raises(AuthenticationError, match="REPLICATE_API_TOKEN") as info:
        AsyncClient()
    assert info.value.status_code is None


@pytest.mark.asyncio
async def test_token_and_base_url_come_from_the_environment(monkeypatch, api: respx.Router):
    """REPLICATE_API_TOKEN and REPLICATE_BASE_URL are used when no arguments are given."""
    monkeypatch.setenv("REPLICATE_API_TOKEN", f" {TOKEN}\n")
    monkeypatch.setenv("REPLICATE_BASE_URL", f"{API}/v1/")
    route = api.get("/v1/predictions/p1").mock(return_value=reply())
    async with AsyncClient(transport=httpx.MockTransport(api.async_handler)) as client:
        assert client.base_url == API
        await client.predictions.get("p1")
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "given",
    ["https://api.replicate.com", "https://api.replicate.com/", "https://api.replicate.com/v1"],
)
def test_base_url_accepts_a_trailing_v1(given: str) -> None:
    """The API root may be given with or without a trailing slash or /v1."""
    assert AsyncClient(TOKEN, given).base_url == "https://api.replicate.com"


def test_base_url_defaults_to_the_public_api() -> None:
    """Without base_url or REPLICATE_BASE_URL, requests go to https://api.replicate.com."""
    assert AsyncClient(TOKEN).base_url == "https://api.replicate.com"


@pytest.mark.parametrize("bad", ["api.replicate.com", "ftp://api.replicate.com", "https://"])
def test_base_url_must_be_http(bad: str) -> None:
    """A base URL that is not an http(s) URL is refused at once."""
    with pytest.raises(ValueError, match="base_url"):
        AsyncClient(TOKEN, bad)


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (True, TypeError), ("8", TypeError)])
def test_max_concurrency_is_checked(value: object, error: type[Exception]) -> None:
    """max_concurrency must be a positive int."""
    with pytest.raises(error, match="max_concurrency"):
        AsyncClient(TOKEN, max_concurrency=value)  # type: ignore[arg-type]


def test_transport_and_http_client_are_exclusive() -> None:
    """transport= and http_client= cannot be combined."""
    with pytest.raises(ValueError, match="not both"):
        AsyncClient(
            TOKEN,
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
            http_client=httpx.AsyncClient(),
        )


def test_repr_never_shows_the_token() -> None:
    """repr(client) names the API root and concurrency, never the token."""
    client = AsyncClient(TOKEN, API, max_concurrency=7)
    assert repr(client) == f"<AsyncClient base_url='{API}' max_concurrency=7>"
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.predictions)


@pytest.mark.asyncio
async def test_custom_user_agent(api: respx.Router, make_client):
    """user_agent= replaces the default User-Agent."""
    route = api.get("/v1/predictions/p1").mock(return_value=reply())
    async with make_client(user_agent="my-app/2") as client:
        await client.predictions.get("p1")
    assert route.calls.last.request.headers["User-Agent"] == "my-app/2"


@pytest.mark.asyncio
async def test_given_http_client_is_used_and_left_open(api: respx.Router):
    """An http_client= is sent through and not closed by aclose()."""
    route = api.get("/v1/predictions/p1").mock(return_value=reply())
    http = httpx.AsyncClient(transport=httpx.MockTransport(api.async_handler))
    async with AsyncClient(TOKEN, API, http_client=http) as client:
        await client.predictions.get("p1")
    assert route.call_count == 1
    assert not http.is_closed
    await http.aclose()


@pytest.mark.asyncio
async def test_aclose_closes_pool_and_downloader_once(make_client):
    """aclose() closes the HTTP client and the lazily made downloader; a second call is a no-op."""
    client = make_client()
    downloader = client.downloader()
    assert isinstance(downloader, Downloader)
    assert client.downloader() is downloader
    await client.aclose()
    await client.aclose()
    assert client._session.backend._closed
    assert downloader._backend._closed


# ------------------------------------------------------------------ error messages


@pytest.mark.asyncio
async def test_401_says_the_token_was_refused(api: respx.Router, make_client):
    """A 401 raises AuthenticationError saying the token was refused, without the token."""
    api.post(CREATE).mock(
        return_value=problem(
            401, "Unauthenticated", "You did not pass a valid authentication token"
        )
    )
    async with make_client() as client:
        with pytest.raises(AuthenticationError) as info:
            await client.run("acme/painter")
    text = str(info.value)
    assert "refused" in text
    assert "REPLICATE_API_TOKEN" in text
    assert TOKEN not in text


@pytest.mark.asyncio
async def test_404_names_the_model_reference(api: respx.Router, make_client):
    """A 404 on a create says which model reference was not found and how refs are written."""
    api.post(CREATE).mock(
        return_value=problem(404, detail="The requested resource could not be found.")
    )
    async with make_client() as client:
        with pytest.raises(NotFoundError) as info:
            await client.run("acme/painter")
    assert "acme/painter" in str(info.value)
    assert "owner/name:" in str(info.value)


@pytest.mark.asyncio
async def test_422_keeps_invalid_fields(api: respx.Router, make_client):
    """A 422 raises ValidationError carrying the server's invalid_fields."""
    api.post(CREATE).mock(
        return_value=problem(
            422,
            "Input validation failed",
            "- input.steps: Must be less than or equal to 50\n",
            invalid_fields=[
                {"type": "number_lte", "field": "input.steps", "description": "Must be <= 50"}
            ],
        )
    )
    async with make_client() as client:
        with pytest.raises(ValidationError) as info:
            await client.run("acme/painter", {"steps": 99})
    assert [f.field for f in info.value.invalid_fields] == ["input.steps"]
    assert "\n" not in str(info.value)


@pytest.mark.asyncio
async def test_str_of_an_error_never_contains_the_token(api: respx.Router, make_client):
    """Even a server echoing the token back does not put it into str(exc)."""
    api.post(CREATE).mock(return_value=problem(500, "Oops", f"bad header Bearer {TOKEN}"))
    async with make_client() as client:
        with pytest.raises(ServerError) as info:
            await client.run("acme/painter")
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)


@pytest.mark.asyncio
async def test_bad_reference_fails_before_any_request(api: respx.Router, make_client):
    """A malformed model reference raises ValidationError without a request."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="owner/name"):
            await client.run("not a ref")
    assert len(api.calls) == 0
