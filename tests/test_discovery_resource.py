# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.collections`, `client.hardware`, `client.account` and `client.search`: the requests
sent (respx), the recorded real replies decoded, and the calls against the emulator."""

from __future__ import annotations

import httpx
import pytest

from _cassettes import CASSETTES, load
from _client_support import API, TOKEN, problem
from replicate_async import (
    Account,
    AsyncClient,
    AuthenticationError,
    ClientError,
    Collection,
    DecodeError,
    Hardware,
    Model,
    NotFoundError,
    SearchResults,
    ValidationError,
)

pytestmark = pytest.mark.anyio


def _client(emulator, **kwargs) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


def _replay(name: str) -> tuple[httpx.Response, object]:
    """The first reply recorded in a cassette, and its JSON."""
    interaction = load(CASSETTES / name)[0]
    headers = {"Content-Type": "application/json"}
    if interaction.response_bytes.startswith(b"\x1f\x8b"):
        headers["Content-Encoding"] = "gzip"
    reply = httpx.Response(interaction.status, content=interaction.response_bytes, headers=headers)
    return reply, interaction.payload


def _model_json(owner: str, name: str) -> dict:
    return {"owner": owner, "name": name, "url": f"https://replicate.com/{owner}/{name}"}


def _search_json() -> dict:
    return {
        "query": "upscale",
        "models": [
            {
                "model": _model_json("acme", "upscaler"),
                "metadata": {
                    "generated_description": "Makes images bigger",
                    "tags": ["image", "upscale"],
                    "score": 0.93,
                },
            }
        ],
        "collections": [
            {
                "name": "Super resolution",
                "slug": "super-resolution",
                "description": "Upscalers",
                "models": ["acme/upscaler"],
            }
        ],
        "pages": [{"name": "Upscaling", "href": "https://replicate.com/docs/upscaling"}],
    }


# -- collections --------------------------------------------------------------------------------


async def test_collections_list_decodes_the_recorded_reply(api, make_client):
    """collections.list sends GET /v1/collections; the real reply decodes to Collections."""
    reply, payload = _replay("collections-list.yaml")
    route = api.get(f"{API}/v1/collections").mock(return_value=reply)
    async with make_client() as client:
        found = [c async for c in client.collections.list()]
    assert [(c.slug, c.name) for c in found] == [(c["slug"], c["name"]) for c in payload["results"]]
    assert all(isinstance(c, Collection) and c.models == () for c in found)
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_collections_list_is_lazy_and_pages_by_cursor(api, make_client):
    """collections.list() sends nothing until asked; page(cursor) fetches that page."""
    route = api.get(f"{API}/v1/collections").mock(
        return_value=httpx.Response(
            200,
            json={
                "results": [{"slug": "b", "name": "B"}],
                "next": f"{API}/v1/collections?cursor=c3",
                "previous": f"{API}/v1/collections?cursor=c1",
            },
        )
    )
    async with make_client() as client:
        collections = client.collections.list()
        assert len(api.calls) == 0
        page = await collections.page("c2")
    assert dict(route.calls.last.request.url.params) == {"cursor": "c2"}
    assert (page.next_cursor, page.previous_cursor) == ("c3", "c1")
    assert [c.slug for c in page.results] == ["b"]


async def test_collections_get_decodes_its_models(api, make_client):
    """collections.get sends GET /v1/collections/{slug} and decodes its models and description."""
    api.get(f"{API}/v1/collections/super-resolution").mock(
        return_value=httpx.Response(
            200,
            json={
                "slug": "super-resolution",
                "name": "Super resolution",
                "description": "Upscalers",
                "full_description": "Models that upscale images.",
                "models": [_model_json("acme", "upscaler"), _model_json("acme", "zoom")],
            },
        )
    )
    async with make_client() as client:
        collection = await client.collections.get("super-resolution")
    assert collection.full_description == "Models that upscale images."
    assert [m.ref for m in collection.models] == ["acme/upscaler", "acme/zoom"]
    assert all(isinstance(m, Model) for m in collection.models)


async def test_collections_get_of_an_unknown_slug_raises_not_found(api, make_client):
    """A 404 from collections.get raises NotFoundError."""
    api.get(f"{API}/v1/collections/nothing").mock(return_value=problem(404, detail="Not found."))
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="Not found"):
            await client.collections.get("nothing")


@pytest.mark.parametrize("slug", ["", "a/b", "..", "a b", None, "x?y=1"])
async def test_collections_get_refuses_a_malformed_slug(api, make_client, slug):
    """A slug that is not one path segment raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid collection slug") as caught:
            await client.collections.get(slug)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


# -- hardware and account -------------------------------------------------------------------------


async def test_hardware_list_decodes_the_recorded_bare_array(api, make_client):
    """hardware.list reads the real bare JSON array into a list of Hardware."""
    reply, payload = _replay("hardware-list.yaml")
    api.get(f"{API}/v1/hardware").mock(return_value=reply)
    async with make_client() as client:
        hardware = await client.hardware.list()
    assert type(hardware) is list
    assert all(isinstance(h, Hardware) for h in hardware)
    assert [(h.sku, h.name) for h in hardware] == [(h["sku"], h["name"]) for h in payload]


async def test_hardware_list_refuses_a_page_shaped_reply(api, make_client):
    """A paginated object where the bare array belongs raises DecodeError."""
    api.get(f"{API}/v1/hardware").mock(
        return_value=httpx.Response(200, json={"results": [], "next": None})
    )
    async with make_client() as client:
        with pytest.raises(DecodeError):
            await client.hardware.list()


async def test_account_get_decodes_the_account(api, make_client):
    """account.get sends GET /v1/account and decodes the Account, unknown keys kept in extra."""
    route = api.get(f"{API}/v1/account").mock(
        return_value=httpx.Response(
            200,
            json={
                "type": "organization",
                "username": "acme",
                "name": "Acme Inc.",
                "github_url": "https://github.com/acme",
                "avatar_url": None,
                "plan": "pro",
            },
        )
    )
    async with make_client() as client:
        account = await client.account.get()
    assert isinstance(account, Account)
    assert (account.username, account.type, account.name) == ("acme", "organization", "Acme Inc.")
    assert account.extra == {"plan": "pro"}
    assert route.calls.last.request.url.query == b""


async def test_account_get_with_a_refused_token_raises(api, make_client):
    """A 401 from account.get raises AuthenticationError."""
    api.get(f"{API}/v1/account").mock(
        return_value=problem(
            401, "Unauthenticated", "You did not pass a valid authentication token"
        )
    )
    async with make_client() as client:
        with pytest.raises(AuthenticationError):
            await client.account.get()


# -- search -------------------------------------------------------------------------------------


async def test_search_sends_query_and_limit(api, make_client):
    """client.search sends GET /v1/search with query and limit, and decodes all three lists."""
    route = api.get(f"{API}/v1/search").mock(return_value=httpx.Response(200, json=_search_json()))
    async with make_client() as client:
        results = await client.search("upscale & zoom/ü", limit=50)
    assert dict(route.calls.last.request.url.params) == {"query": "upscale & zoom/ü", "limit": "50"}
    assert isinstance(results, SearchResults)
    (found,) = results.models
    assert (found.model.ref, found.metadata.tags, found.metadata.score) == (
        "acme/upscaler",
        ("image", "upscale"),
        0.93,
    )
    assert [(c.slug, c.models) for c in results.collections] == [
        ("super-resolution", ("acme/upscaler",))
    ]
    assert [p.href for p in results.pages] == ["https://replicate.com/docs/upscaling"]


async def test_search_without_a_limit_sends_only_the_query(api, make_client):
    """Without limit, only `query` is sent (the server's default applies); spaces are trimmed."""
    route = api.get(f"{API}/v1/search").mock(return_value=httpx.Response(200, json=_search_json()))
    async with make_client() as client:
        await client.search("  upscale ")
    assert dict(route.calls.last.request.url.params) == {"query": "upscale"}


@pytest.mark.parametrize("limit", [0, 51, -1, True, 2.5, "10"])
async def test_search_refuses_a_limit_outside_1_to_50(api, make_client, limit):
    """A limit that is not a whole number from 1 to 50 raises ValidationError, sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="from 1 to 50") as caught:
            await client.search("upscale", limit=limit)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


@pytest.mark.parametrize("query", ["", "  ", None, 5])
async def test_search_refuses_an_empty_query(api, make_client, query):
    """A query without words raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="non-empty string") as caught:
            await client.search(query)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_search_raises_the_servers_400(api, make_client):
    """The server's plain-JSON 400 for a search raises a ClientError with its detail."""
    api.get(f"{API}/v1/search").mock(
        return_value=httpx.Response(400, json={"detail": 'Query parameter "query" is required'})
    )
    async with make_client() as client:
        with pytest.raises(ClientError, match="is required") as caught:
            await client.search("upscale")
    assert caught.value.status_code == 400


async def test_reprs_name_the_session(make_client):
    """The discovery resources' reprs say what they are and whose session they use."""
    async with make_client() as client:
        reprs = [repr(client.collections), repr(client.hardware), repr(client.account)]
    assert [r.split(" ")[0] for r in reprs] == [
        "<AsyncCollections",
        "<AsyncHardware",
        "<AsyncAccount",
    ]
    assert all(API in r for r in reprs)


# -- against the emulator -----------------------------------------------------------------------


async def test_emulator_collections_list_and_get(replicate_emulator):
    """collections.list has the emulator collection; collections.get gives its models."""
    async with _client(replicate_emulator) as client:
        slugs = [c.slug async for c in client.collections.list()]
        collection = await client.collections.get("emulator")
    assert "emulator" in slugs
    assert "emulator/echo" in {m.ref for m in collection.models}
    assert collection.full_description


async def test_emulator_collections_get_of_an_unknown_slug_raises(replicate_emulator):
    """collections.get of a slug the emulator lacks raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.collections.get("no-such-collection")


async def test_emulator_hardware_list(replicate_emulator):
    """hardware.list returns the emulator's SKUs, cpu and gpu-t4 among them."""
    async with _client(replicate_emulator) as client:
        hardware = await client.hardware.list()
    assert {"cpu", "gpu-t4"} <= {h.sku for h in hardware}


async def test_emulator_account_get(replicate_emulator):
    """account.get returns the emulator's user account."""
    async with _client(replicate_emulator) as client:
        account = await client.account.get()
    assert (account.username, account.type) == ("emulator", "user")


async def test_emulator_search_finds_the_echo_model(replicate_emulator):
    """client.search('echoes') finds emulator/echo, with tags and a score."""
    async with _client(replicate_emulator) as client:
        results = await client.search("echoes")
    found = {m.model.ref: m.metadata for m in results.models}
    assert "emulator/echo" in found
    assert found["emulator/echo"].tags == ("text",)
    assert found["emulator/echo"].score is not None
    assert results.query == "echoes"


async def test_emulator_search_honours_the_limit(replicate_emulator):
    """client.search(..., limit=1) returns one model where more match."""
    async with _client(replicate_emulator) as client:
        assert len((await client.search("echoes")).models) > 1
        assert len((await client.search("echoes", limit=1)).models) == 1
