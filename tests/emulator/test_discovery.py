"""Discovery: hardware, account, models list and QUERY search, search, collections, readme."""

from __future__ import annotations

import httpx
import pytest

from replicate_async.emulator import EmulatorConfig, FakeModel, RateLimits, create_app
from replicate_async.emulator._discovery import PAGE_SIZE, readme

pytestmark = pytest.mark.anyio


@pytest.fixture
async def anon(app):
    """An in-process client without a token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://emu") as c:
        yield c


async def test_hardware_is_a_bare_array(client):
    """GET /v1/hardware answers a JSON array of {name, sku}, not a page."""
    body = (await client.get("/v1/hardware")).json()
    assert isinstance(body, list)
    assert {"name": "CPU", "sku": "cpu"} in body
    assert all(set(item) == {"name", "sku"} for item in body)


async def test_account_has_the_required_fields(client):
    """GET /v1/account answers type, username, name, github_url, avatar_url."""
    body = (await client.get("/v1/account")).json()
    assert set(body) == {"type", "username", "name", "github_url", "avatar_url"}
    assert (body["type"], body["username"]) == ("user", "emulator")


async def test_discovery_routes_need_a_token(anon):
    """Hardware, account, models, collections and readme need a token (401)."""
    paths = [
        "/v1/hardware",
        "/v1/account",
        "/v1/models",
        "/v1/collections",
        "/v1/models/emulator/echo/readme",
    ]
    assert {(await anon.get(p)).status_code for p in paths} == {401}


async def _every_model(client, url):
    """The models of every page of a models list, following `next`."""
    found = []
    while url:
        body = (await client.get(url)).json()
        found.extend(body["results"])
        url = body["next"]
    return found


async def test_models_list_has_every_catalogue_model(client, state):
    """GET /v1/models lists the catalogue's models (over more than one page) as model objects."""
    models = await _every_model(client, "/v1/models")
    assert len(models) > PAGE_SIZE
    assert {f"{m['owner']}/{m['name']}" for m in models} == set(state.models)
    assert models[0]["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]


async def test_models_list_sort_direction(client):
    """`sort_direction=asc` reverses the default (desc) order."""
    desc = [m["name"] for m in await _every_model(client, "/v1/models")]
    asc = [
        m["name"]
        for m in await _every_model(
            client, "/v1/models?sort_by=model_created_at&sort_direction=asc"
        )
    ]
    assert asc == desc[::-1]


async def test_models_list_bad_sort_is_400(client):
    """An unknown sort_by or sort_direction is a 400 problem."""
    statuses = {
        (await client.get(f"/v1/models?{q}")).status_code
        for q in ("sort_by=name", "sort_direction=up")
    }
    assert statuses == {400}


async def test_models_list_pages_keep_the_sort(anon):
    """A long models list pages with an absolute `next` that keeps sort parameters."""
    models = tuple(
        FakeModel(owner="bulk", name=f"m{i:02d}", kind="text") for i in range(PAGE_SIZE + 5)
    )
    app = create_app(
        EmulatorConfig(models=models, deployments=(), rate_limits=RateLimits.unlimited())
    )
    headers = {"Authorization": "Bearer r8_emulator0000000000000000000000000000"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://emu", headers=headers
    ) as client:
        first = (await client.get("/v1/models?sort_direction=asc")).json()
        second = (await client.get(first["next"])).json()
        bad = await client.get("/v1/models?cursor=%%%")
    names = [m["name"] for m in first["results"] + second["results"]]
    assert first["next"].startswith("http://emu/v1/models?sort_direction=asc&cursor=")
    assert names == [m.name for m in models]
    assert (second["next"], bad.status_code) == (None, 404)


async def test_query_models_searches_by_text(client):
    """QUERY /v1/models with a text/plain body answers the matching models, paginated."""
    response = await client.request(
        "QUERY", "/v1/models", content=b"llama", headers={"Content-Type": "text/plain"}
    )
    body = response.json()
    assert response.status_code == 200
    assert {m["name"] for m in body["results"]} == {
        "meta-llama-3-8b-instruct",
        "meta-llama-3-70b-instruct",
        "meta-llama-3.1-405b-instruct",
    }
    assert body["next"] is None


async def test_search_needs_no_token(anon):
    """GET /v1/search works without a token and finds models and collections."""
    body = (await anon.get("/v1/search?query=flux")).json()
    assert body["query"] == "flux"
    assert {m["model"]["name"] for m in body["models"]} == {"flux-schnell", "flux-1.1-pro"}
    assert set(body["models"][0]["metadata"]) == {"generated_description", "tags", "score"}
    assert "text-to-image" in {c["slug"] for c in body["collections"]}
    assert body["pages"] == []


async def test_search_without_query_is_plain_json_400(anon):
    """A search without `query` is a 400 with the real body, as plain application/json."""
    response = await anon.get("/v1/search")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": 'Query parameter "query" is required'}


async def test_search_limit(anon):
    """`limit` caps the models (1-50); anything else is a 400."""
    one = (await anon.get("/v1/search?query=emulator&limit=1")).json()
    statuses = {
        (await anon.get(f"/v1/search?query=x&limit={n}")).status_code for n in ("0", "51", "many")
    }
    assert len(one["models"]) == 1
    assert statuses == {400}


async def test_search_matches_collection_names(anon):
    """A query naming a collection finds it even without matching models."""
    body = (await anon.get("/v1/search?query=videos")).json()
    assert [c["slug"] for c in body["collections"]] == ["text-to-video"]


async def test_collections_list(client):
    """GET /v1/collections lists {name, slug, description} pages."""
    body = (await client.get("/v1/collections")).json()
    assert {
        "text-to-image",
        "language-models",
        "text-to-video",
        "audio-generation",
        "emulator",
    } == {c["slug"] for c in body["results"]}
    assert all(set(c) == {"name", "slug", "description"} for c in body["results"])
    assert (body["next"], body["previous"]) == (None, None)


async def test_collection_has_its_models(client):
    """GET /v1/collections/{slug} includes full_description and the model objects."""
    body = (await client.get("/v1/collections/language-models")).json()
    assert set(body) == {"name", "slug", "description", "full_description", "models"}
    assert {m["owner"] for m in body["models"]} == {"meta", "emulator", "t"}


async def test_unknown_collection_is_404(client):
    """An unknown collection slug is a 404."""
    assert (await client.get("/v1/collections/nope")).status_code == 404


async def test_collections_without_models_are_left_out(anon):
    """A catalogue without video models has no video collection."""
    app = create_app(
        EmulatorConfig(models=(FakeModel(owner="a", name="b", kind="text"),), deployments=())
    )
    headers = {"Authorization": "Bearer r8_emulator0000000000000000000000000000"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://emu", headers=headers
    ) as client:
        body = (await client.get("/v1/collections")).json()
    assert body["results"] == []


async def test_readme_is_text_plain_markdown(client):
    """GET /v1/models/{o}/{n}/readme answers Markdown as text/plain."""
    response = await client.get("/v1/models/emulator/tokens/readme")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("# emulator/tokens\n")


async def test_readme_of_unknown_model_is_404(client):
    """An unknown model has no readme."""
    assert (await client.get("/v1/models/nobody/nothing/readme")).status_code == 404


def test_readme_names_the_output_kind():
    """The readme says what the model outputs."""
    assert "a token stream" in readme(FakeModel(owner="a", name="b", kind="tokens"))
    assert "outputs image" in readme(FakeModel(owner="a", name="b", kind="image"))


def test_discovery_over_loopback(http, replicate_emulator):
    """Over real HTTP: hardware, account, models, QUERY models and search answer."""
    found = http.request(
        "QUERY", "/v1/models", content="echo", headers={"Content-Type": "text/plain"}
    )
    assert http.get("/v1/hardware").status_code == 200
    assert http.get("/v1/account").json()["username"] == "emulator"
    assert {m["name"] for m in found.json()["results"]} >= {"echo", "echo-versioned"}
    assert httpx.get(f"{replicate_emulator.base_url}/v1/search?query=echo").status_code == 200
