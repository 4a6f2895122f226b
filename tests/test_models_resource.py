# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.models`, `client.models.versions` and `client.models.predictions`: the requests
sent (respx), the recorded real replies decoded, and the calls against the emulator."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from _cassettes import CASSETTES, load
from _client_support import API, TOKEN, prediction, problem
from replicate_async import (
    AsyncClient,
    ClientError,
    Deployment,
    Model,
    ModelVersion,
    NotFoundError,
    Prediction,
    ValidationError,
)

pytestmark = pytest.mark.anyio

VERSION = "a" * 64
MODEL_PATH = f"{API}/v1/models/acme/painter"


def _model_json(owner: str = "acme", name: str = "painter", **fields) -> dict:
    body = {
        "url": f"https://replicate.com/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": "Paints",
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 7,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": _version_json(),
    }
    body.update(fields)
    return body


def _version_json(version_id: str = VERSION) -> dict:
    return {
        "id": version_id,
        "created_at": "2025-01-01T00:00:00Z",
        "cog_version": "0.9.0",
        "openapi_schema": {
            "components": {"schemas": {"Input": {"type": "object", "title": "Input"}}}
        },
    }


def _page(results: list, next_url: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"results": results, "next": next_url, "previous": None})


def _client(emulator, **kwargs) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


def _recorded(name: str, index: int = 0):
    return load(CASSETTES / name)[index]


def _replay(interaction) -> httpx.Response:
    """The recorded reply as it came over the wire (some were recorded gzip-encoded)."""
    headers = {"Content-Type": "application/json"}
    if interaction.response_bytes.startswith(b"\x1f\x8b"):
        headers["Content-Encoding"] = "gzip"
    return httpx.Response(interaction.status, content=interaction.response_bytes, headers=headers)


# -- models.get ---------------------------------------------------------------------------------


async def test_get_decodes_the_model(api, make_client):
    """models.get sends GET /v1/models/{owner}/{name} with the token and decodes a Model."""
    route = api.get(MODEL_PATH).mock(return_value=httpx.Response(200, json=_model_json()))
    async with make_client() as client:
        model = await client.models.get("acme/painter")
    assert isinstance(model, Model)
    assert (model.ref, model.description, model.run_count) == ("acme/painter", "Paints", 7)
    assert model.latest_version is not None
    assert model.latest_version.input_schema == {"type": "object", "title": "Input"}
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_get_decodes_the_recorded_reply(api, make_client):
    """The real models.get reply (stability-ai/sdxl) decodes, default example included."""
    recorded = _recorded("models-get.yaml")
    api.get(f"{API}/v1/models/stability-ai/sdxl").mock(return_value=_replay(recorded))
    async with make_client() as client:
        model = await client.models.get("stability-ai/sdxl")
    expected = recorded.payload
    assert (model.owner, model.name, model.github_url) == (
        "stability-ai",
        "sdxl",
        expected["github_url"],
    )
    assert isinstance(model.default_example, Prediction)
    assert model.latest_version is not None
    assert model.latest_version.id == expected["latest_version"]["id"]
    assert model.latest_version.input_schema is not None


async def test_get_of_an_unknown_model_raises_not_found(api, make_client):
    """A 404 from models.get raises NotFoundError with the server's detail."""
    api.get(MODEL_PATH).mock(
        return_value=problem(404, detail="The requested resource could not be found.")
    )
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="could not be found") as caught:
            await client.models.get("acme/painter")
    assert caught.value.status_code == 404


async def test_get_strips_spaces_around_the_name(api, make_client):
    """' acme/painter ' is read as acme/painter."""
    api.get(MODEL_PATH).mock(return_value=httpx.Response(200, json=_model_json()))
    async with make_client() as client:
        assert (await client.models.get(" acme/painter ")).ref == "acme/painter"


_BAD_NAME_CALLS = {
    "get": lambda c, m: c.models.get(m),
    "delete": lambda c, m: c.models.delete(m),
    "readme": lambda c, m: c.models.readme(m),
    "update": lambda c, m: c.models.update(m, description="x"),
    "create": lambda c, m: c.models.create(m, hardware="cpu"),
    "examples": lambda c, m: c.models.examples(m).page(),
    "versions.list": lambda c, m: c.models.versions.list(m).page(),
    "versions.get": lambda c, m: c.models.versions.get(m, VERSION),
    "versions.delete": lambda c, m: c.models.versions.delete(m, VERSION),
    "predictions.create": lambda c, m: c.models.predictions.create(m, {}),
}


@pytest.mark.parametrize("call", sorted(_BAD_NAME_CALLS))
@pytest.mark.parametrize("name", ["painter", "acme/painter/x", "Acme/Painter", "", None, "a/../b"])
async def test_a_malformed_model_name_sends_nothing(api, make_client, call, name):
    """Every models call refuses a name that is not 'owner/name' before any request."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="owner/name") as caught:
            await _BAD_NAME_CALLS[call](client, name)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_a_versioned_name_points_to_versions(api, make_client):
    """models.get('owner/name:version') says a version goes to client.models.versions."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=r"client\.models\.versions"):
            await client.models.get(f"acme/painter:{VERSION}")
    assert len(api.calls) == 0


# -- models.list and models.search ----------------------------------------------------------------


async def test_list_without_options_sends_no_query(api, make_client):
    """models.list() sends GET /v1/models with no query string."""
    route = api.get(f"{API}/v1/models").mock(return_value=_page([_model_json()]))
    async with make_client() as client:
        models = [m async for m in client.models.list()]
    assert [m.ref for m in models] == ["acme/painter"]
    assert route.calls.last.request.url.query == b""


async def test_list_sends_the_sort_options(api, make_client):
    """sort_by and sort_direction go into the query string as given."""
    route = api.get(f"{API}/v1/models").mock(return_value=_page([]))
    async with make_client() as client:
        await client.models.list(sort_by="model_created_at", sort_direction="asc").page()
    assert dict(route.calls.last.request.url.params) == {
        "sort_by": "model_created_at",
        "sort_direction": "asc",
    }


@pytest.mark.parametrize(
    "options",
    [{"sort_by": "newest"}, {"sort_direction": "up"}, {"sort_by": 1}, {"sort_direction": ""}],
)
async def test_list_refuses_unknown_sort_options(api, make_client, options):
    """An unknown sort_by or sort_direction raises ValidationError naming the choices."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="pass '") as caught:
            client.models.list(**options)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_list_fetches_the_next_page_only_when_needed(api, make_client):
    """Nothing is fetched by list(); the second page only once the first is used up."""
    second = api.get(f"{API}/v1/models", params={"cursor": "c2"}).mock(
        return_value=_page([_model_json(name="b")])
    )
    first = api.get(f"{API}/v1/models").mock(
        return_value=_page([_model_json(name="a")], f"{API}/v1/models?cursor=c2")
    )
    async with make_client() as client:
        models = client.models.list()
        assert len(api.calls) == 0
        items = aiter(models)
        assert (await anext(items)).name == "a"
        assert (first.call_count, second.call_count) == (1, 0)
        assert (await anext(items)).name == "b"
        assert second.call_count == 1
        with pytest.raises(StopAsyncIteration):
            await anext(items)


async def test_page_with_a_cursor_keeps_the_sort_options(api, make_client):
    """list(...).page(cursor) fetches that page with the list's query, and gives its cursors."""
    route = api.get(f"{API}/v1/models").mock(
        return_value=_page([_model_json()], f"{API}/v1/models?cursor=c3")
    )
    async with make_client() as client:
        page = await client.models.list(sort_by="model_created_at").page("c2")
    assert dict(route.calls.last.request.url.params) == {
        "sort_by": "model_created_at",
        "cursor": "c2",
    }
    assert (page.next_cursor, [m.ref for m in page.results]) == ("c3", ["acme/painter"])


async def test_search_sends_a_query_request_with_a_text_body(api, make_client):
    """models.search sends QUERY /v1/models with the query as a text/plain body."""
    route = api.route(method="QUERY", url=f"{API}/v1/models").mock(
        return_value=_page([_model_json()])
    )
    async with make_client() as client:
        found = [m.ref async for m in client.models.search("upscale ünïcode")]
    request = route.calls.last.request
    assert found == ["acme/painter"]
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.content == "upscale ünïcode".encode()
    assert request.url.query == b""


async def test_search_sends_the_query_again_for_the_next_page(api, make_client):
    """The next page of a search is another QUERY with the same body."""
    second = api.route(method="QUERY", url=f"{API}/v1/models", params={"cursor": "c2"}).mock(
        return_value=_page([_model_json(name="b")])
    )
    first = api.route(method="QUERY", url=f"{API}/v1/models").mock(
        return_value=_page([_model_json(name="a")], f"{API}/v1/models?cursor=c2")
    )
    async with make_client() as client:
        names = [m.name async for m in client.models.search("paint")]
    assert names == ["a", "b"]
    assert first.calls.last.request.content == second.calls.last.request.content == b"paint"


async def test_search_decodes_the_recorded_reply(api, make_client):
    """The real search for 'llama' is sent as recorded and its models decode."""
    recorded = _recorded("models-search.yaml")
    route = api.route(method="QUERY", url=f"{API}/v1/models").mock(return_value=_replay(recorded))
    async with make_client() as client:
        found = [m async for m in client.models.search("llama")]
    assert route.calls.last.request.content.decode() == recorded.request_body
    assert [m.ref for m in found] == [
        f"{m['owner']}/{m['name']}" for m in recorded.payload["results"]
    ]


@pytest.mark.parametrize("query", ["", "   ", None, 3])
async def test_search_refuses_an_empty_query(api, make_client, query):
    """models.search without words raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="non-empty string") as caught:
            client.models.search(query)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


# -- models.create, update, delete ----------------------------------------------------------------


async def test_create_posts_the_required_and_given_fields(api, make_client):
    """models.create sends owner, name, visibility, hardware and only the optional fields given."""
    route = api.post(f"{API}/v1/models").mock(
        return_value=httpx.Response(
            201, json=_model_json(visibility="private", latest_version=None)
        )
    )
    async with make_client() as client:
        model = await client.models.create(
            "acme/painter", hardware="gpu-t4", description="Paints", paper_url=""
        )
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "owner": "acme",
        "name": "painter",
        "visibility": "private",
        "hardware": "gpu-t4",
        "description": "Paints",
        "paper_url": "",
    }
    assert (model.ref, model.visibility, model.latest_version) == ("acme/painter", "private", None)


async def test_create_sends_the_recorded_body(api, make_client):
    """models.create sends what the official client sent, and decodes the real 201 reply."""
    recorded = _recorded("models-create.yaml")
    route = api.post(f"{API}/v1/models").mock(return_value=_replay(recorded))
    async with make_client() as client:
        model = await client.models.create(
            "test/python-example", hardware="cpu", description="An example model"
        )
    assert json.loads(route.calls.last.request.content) == json.loads(recorded.request_body)
    assert (model.ref, model.visibility) == ("test/python-example", "private")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"hardware": ""}, "invalid hardware ''"),
        ({"hardware": "  "}, "invalid hardware"),
        ({"hardware": None}, "invalid hardware None"),
        ({"hardware": "cpu", "visibility": "secret"}, "invalid visibility 'secret'"),
        ({"hardware": "cpu", "visibility": None}, "invalid visibility"),
        ({"hardware": "cpu", "description": 3}, "invalid description 3"),
        ({"hardware": "cpu", "github_url": b"x"}, "invalid github_url"),
    ],
)
async def test_create_refuses_bad_options(api, make_client, options, match):
    """A missing hardware, an unknown visibility or a non-string field sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=match) as caught:
            await client.models.create("acme/painter", **options)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_create_of_an_existing_model_raises_the_servers_error(api, make_client):
    """A 409 from models.create raises a ClientError subclass with status 409."""
    api.post(f"{API}/v1/models").mock(return_value=problem(409, detail="already exists"))
    async with make_client() as client:
        with pytest.raises(ClientError, match="already exists") as caught:
            await client.models.create("acme/painter", hardware="cpu")
    assert caught.value.status_code == 409


async def test_update_patches_only_the_given_fields(api, make_client):
    """models.update sends PATCH with the given keys only; an empty string is given."""
    route = api.patch(MODEL_PATH).mock(
        return_value=httpx.Response(200, json=_model_json(description=""))
    )
    async with make_client() as client:
        model = await client.models.update("acme/painter", readme="# Painter", description="")
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"readme": "# Painter", "description": ""}
    assert model.description == ""


async def test_update_with_nothing_to_change_sends_nothing(api, make_client):
    """models.update without a field raises ValidationError listing the fields."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="pass at least one of description=") as caught:
            await client.models.update("acme/painter")
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_update_refuses_a_non_string_field(api, make_client):
    """A field that is not a string raises ValidationError naming it."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid weights_url 5"):
            await client.models.update("acme/painter", weights_url=5)
    assert len(api.calls) == 0


async def test_delete_sends_delete_and_returns_none_on_204(api, make_client):
    """models.delete sends DELETE /v1/models/{owner}/{name}; 204 returns None."""
    route = api.delete(MODEL_PATH).mock(return_value=httpx.Response(204))
    async with make_client() as client:
        assert await client.models.delete("acme/painter") is None
    assert route.call_count == 1


async def test_delete_refused_by_the_server_raises(api, make_client):
    """A model with versions cannot be deleted: the server's 400 is raised, not swallowed."""
    api.delete(MODEL_PATH).mock(return_value=problem(400, detail="Model has versions"))
    async with make_client() as client:
        with pytest.raises(ClientError, match="Model has versions") as caught:
            await client.models.delete("acme/painter")
    assert caught.value.status_code == 400


# -- examples and readme ------------------------------------------------------------------------


async def test_examples_are_predictions(api, make_client):
    """models.examples lists GET /v1/models/{owner}/{name}/examples as Predictions."""
    api.get(f"{MODEL_PATH}/examples").mock(
        return_value=_page([prediction("e1", "succeeded", output="x")])
    )
    async with make_client() as client:
        examples = [p async for p in client.models.examples("acme/painter")]
    assert [(p.id, p.status, p.output) for p in examples] == [("e1", "succeeded", "x")]
    assert isinstance(examples[0], Prediction)


async def test_readme_returns_the_markdown_text(api, make_client):
    """models.readme returns the text/plain body as a str."""
    text = "# Painter\n\nPaints — in colour.\n"
    route = api.get(f"{MODEL_PATH}/readme").mock(
        return_value=httpx.Response(
            200, content=text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
        )
    )
    async with make_client() as client:
        assert await client.models.readme("acme/painter") == text
    assert route.calls.last.request.method == "GET"


async def test_readme_of_a_model_without_one_raises_not_found(api, make_client):
    """A 404 from the readme raises NotFoundError."""
    api.get(f"{MODEL_PATH}/readme").mock(return_value=problem(404, detail="no readme"))
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="no readme"):
            await client.models.readme("acme/painter")


# -- versions -----------------------------------------------------------------------------------


async def test_versions_list_decodes_versions(api, make_client):
    """versions.list walks GET /v1/models/{owner}/{name}/versions as ModelVersions."""
    api.get(f"{MODEL_PATH}/versions").mock(
        return_value=_page([_version_json(), _version_json("b" * 64)])
    )
    async with make_client() as client:
        versions = [v async for v in client.models.versions.list("acme/painter")]
    assert [v.id for v in versions] == [VERSION, "b" * 64]
    assert all(isinstance(v, ModelVersion) for v in versions)


async def test_versions_get_decodes_the_version(api, make_client):
    """versions.get sends GET .../versions/{id} and decodes the schema."""
    api.get(f"{MODEL_PATH}/versions/{VERSION}").mock(
        return_value=httpx.Response(200, json=_version_json())
    )
    async with make_client() as client:
        version = await client.models.versions.get("acme/painter", VERSION)
    assert (version.id, version.cog_version) == (VERSION, "0.9.0")
    assert version.input_schema == {"type": "object", "title": "Input"}


async def test_versions_delete_accepts_an_empty_202(api, make_client):
    """versions.delete sends DELETE .../versions/{id}; the empty 202 returns None."""
    route = api.delete(f"{MODEL_PATH}/versions/{VERSION}").mock(return_value=httpx.Response(202))
    async with make_client() as client:
        assert await client.models.versions.delete("acme/painter", VERSION) is None
    assert route.call_count == 1


async def test_versions_delete_of_an_unknown_version_raises_not_found(api, make_client):
    """A 404 from versions.delete raises NotFoundError."""
    api.delete(f"{MODEL_PATH}/versions/{VERSION}").mock(return_value=problem(404))
    async with make_client() as client:
        with pytest.raises(NotFoundError):
            await client.models.versions.delete("acme/painter", VERSION)


_VERSION_ID_CALLS = {
    "get": lambda c, v: c.models.versions.get("acme/painter", v),
    "delete": lambda c, v: c.models.versions.delete("acme/painter", v),
}


@pytest.mark.parametrize("call", sorted(_VERSION_ID_CALLS))
@pytest.mark.parametrize("version_id", ["", "../x", "a/b", None, "a b", ".."])
async def test_versions_refuse_a_malformed_version_id(api, make_client, call, version_id):
    """A version id that is not one path segment raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid version id") as caught:
            await _VERSION_ID_CALLS[call](client, version_id)
    assert caught.value.status_code is None
    assert len(api.calls) == 0


_VERSIONED_NAME_CALLS = {
    "list": lambda c, m: c.models.versions.list(m).page(),
    "get": lambda c, m: c.models.versions.get(m, VERSION),
    "delete": lambda c, m: c.models.versions.delete(m, VERSION),
}


@pytest.mark.parametrize("call", sorted(_VERSIONED_NAME_CALLS))
async def test_versions_refuse_a_versioned_model_name(api, make_client, call):
    """'owner/name:version' in a versions call says to pass the version id separately."""
    expected = rf"versions\.{call}\('acme/painter', version_id\)"
    async with make_client() as client:
        with pytest.raises(ValidationError, match=expected):
            await _VERSIONED_NAME_CALLS[call](client, f"acme/painter:{VERSION}")
    assert len(api.calls) == 0


# -- models.predictions.create ----------------------------------------------------------------


async def test_predictions_create_posts_to_the_models_predictions_route(api, make_client):
    """models.predictions.create sends POST /v1/models/{owner}/{name}/predictions with its options."""
    route = api.post(f"{MODEL_PATH}/predictions").mock(
        return_value=httpx.Response(201, json=prediction("p9"))
    )
    async with make_client() as client:
        created = await client.models.predictions.create(
            "acme/painter",
            {"prompt": "a cat"},
            wait=5,
            cancel_after="5m",
            webhook="https://example.com/hook",
            webhook_events_filter=["completed"],
        )
    request = route.calls.last.request
    assert created.id == "p9"
    assert json.loads(request.content) == {
        "input": {"prompt": "a cat"},
        "webhook": "https://example.com/hook",
        "webhook_events_filter": ["completed"],
    }
    assert request.headers["Prefer"] == "wait=5"
    assert request.headers["Cancel-After"] == "5m"


async def test_predictions_create_without_wait_sends_no_prefer(api, make_client):
    """wait=False sends no Prefer header, and a missing input is sent as {}."""
    route = api.post(f"{MODEL_PATH}/predictions").mock(
        return_value=httpx.Response(201, json=prediction("p9"))
    )
    async with make_client() as client:
        await client.models.predictions.create("acme/painter", wait=False)
    request = route.calls.last.request
    assert "Prefer" not in request.headers
    assert json.loads(request.content) == {"input": {}}


async def test_predictions_create_sends_file_inputs_as_data_uris(api, make_client):
    """file_encoding='data_uri' turns bytes in the input into a data URI, as predictions.create."""
    route = api.post(f"{MODEL_PATH}/predictions").mock(
        return_value=httpx.Response(201, json=prediction("p9"))
    )
    async with make_client() as client:
        await client.models.predictions.create(
            "acme/painter", {"image": b"abc"}, file_encoding="data_uri"
        )
    sent = json.loads(route.calls.last.request.content)["input"]["image"]
    assert sent.startswith("data:")
    assert sent.endswith(";base64,YWJj")


async def test_predictions_create_of_a_non_official_model_raises_not_found(api, make_client):
    """The server's 404 for a model that needs a version raises NotFoundError."""
    api.post(f"{MODEL_PATH}/predictions").mock(
        return_value=problem(404, detail="The requested resource could not be found.")
    )
    async with make_client() as client:
        with pytest.raises(NotFoundError):
            await client.models.predictions.create("acme/painter", {})


@pytest.mark.parametrize("ref", [f"acme/painter:{VERSION}", VERSION, "acme/painter:latest"])
async def test_predictions_create_points_versions_to_predictions_create(api, make_client, ref):
    """A version reference raises ValidationError pointing to client.predictions.create."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=r"client\.predictions\.create\(") as caught:
            await client.models.predictions.create(ref, {})
    assert caught.value.status_code is None
    assert len(api.calls) == 0


async def test_predictions_create_points_deployments_elsewhere(api, make_client):
    """A Deployment raises ValidationError pointing to client.deployments.predictions.create."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=r"client\.deployments\.predictions\.create"):
            await client.models.predictions.create(Deployment("acme/painter"), {})
    assert len(api.calls) == 0


async def test_predictions_create_checks_the_input_before_sending(api, make_client):
    """An input that is not JSON raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError):
            await client.models.predictions.create("acme/painter", {"x": float("nan")})
    assert len(api.calls) == 0


# -- repr ---------------------------------------------------------------------------------------


async def test_reprs_name_the_session(make_client):
    """The resources' reprs say what they are and whose session they use."""
    async with make_client() as client:
        reprs = [repr(client.models), repr(client.models.versions), repr(client.models.predictions)]
    assert [r.split(" ")[0] for r in reprs] == [
        "<AsyncModels",
        "<AsyncModelVersions",
        "<AsyncModelPredictions",
    ]
    assert all(API in r for r in reprs)


# -- against the emulator -----------------------------------------------------------------------


async def test_emulator_get_returns_the_catalogue_model(replicate_emulator):
    """models.get of emulator/tokens returns it with its input schema."""
    async with _client(replicate_emulator) as client:
        model = await client.models.get("emulator/tokens")
    assert (model.ref, model.is_official) == ("emulator/tokens", True)
    assert model.latest_version is not None
    assert model.latest_version.input_schema is not None
    assert "max_tokens" in model.latest_version.input_schema["properties"]


async def test_emulator_get_of_an_unknown_model_raises_not_found(replicate_emulator):
    """models.get of a model the emulator lacks raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.models.get("emulator/no-such-model")


async def test_emulator_list_walks_every_model(replicate_emulator):
    """models.list yields every catalogue model once; asc is the reverse of desc."""
    async with _client(replicate_emulator) as client:
        newest = [m.ref async for m in client.models.list()]
        oldest = [m.ref async for m in client.models.list(sort_direction="asc")]
    assert "emulator/echo" in newest
    assert len(set(newest)) == len(newest)
    assert oldest == newest[::-1]


async def test_emulator_search_finds_matching_models(replicate_emulator):
    """models.search('echoes') finds the echo models and nothing else."""
    async with _client(replicate_emulator) as client:
        found = {m.ref async for m in client.models.search("echoes its prompt")}
    assert {"emulator/echo", "emulator/echo-versioned"} <= found
    assert "emulator/tokens" not in found


async def test_emulator_readme_is_markdown(replicate_emulator):
    """models.readme returns the emulator's Markdown for the model."""
    async with _client(replicate_emulator) as client:
        text = await client.models.readme("emulator/echo")
    assert text.startswith("# emulator/echo\n")


async def test_emulator_versions_list_and_get_agree(replicate_emulator):
    """versions.list of emulator/echo-versioned has its version, and versions.get returns it."""
    expected = hashlib.sha256(b"emulator:emulator/echo-versioned").hexdigest()
    async with _client(replicate_emulator) as client:
        listed = [v async for v in client.models.versions.list("emulator/echo-versioned")]
        got = await client.models.versions.get("emulator/echo-versioned", expected)
    assert [v.id for v in listed] == [expected]
    assert got == listed[0]


async def test_emulator_versions_get_of_an_unknown_version_raises(replicate_emulator):
    """versions.get of an id the model does not have raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.models.versions.get("emulator/echo-versioned", "f" * 64)


async def test_emulator_predictions_create_runs_an_official_model(replicate_emulator):
    """models.predictions.create of emulator/echo returns its prediction, then it succeeds."""
    async with _client(replicate_emulator) as client:
        created = await client.models.predictions.create("emulator/echo", {"prompt": "hi"})
        done = await client.predictions.wait(created)
    assert created.model == "emulator/echo"
    assert (done.status, done.output) == ("succeeded", "hi")


async def test_emulator_create_then_get(replicate_emulator):
    """A model made by models.create is returned by models.get, private by default."""
    async with _client(replicate_emulator) as client:
        created = await client.models.create(
            "emulator/made-here", hardware="cpu", description="Made by a test"
        )
        fetched = await client.models.get("emulator/made-here")
    assert (created.ref, created.visibility, created.description) == (
        "emulator/made-here",
        "private",
        "Made by a test",
    )
    assert fetched.ref == created.ref
    assert fetched.description == "Made by a test"


async def test_emulator_update_changes_only_the_given_field(replicate_emulator):
    """models.update changes the description and keeps the github_url."""
    async with _client(replicate_emulator) as client:
        await client.models.create(
            "emulator/made-here", hardware="cpu", description="old", github_url="https://g.test/x"
        )
        updated = await client.models.update("emulator/made-here", description="new")
        fetched = await client.models.get("emulator/made-here")
    assert (updated.description, updated.github_url) == ("new", "https://g.test/x")
    assert fetched.description == "new"


async def test_emulator_delete_removes_the_model(replicate_emulator):
    """After models.delete, models.get raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        await client.models.create("emulator/made-here", hardware="cpu")
        await client.models.delete("emulator/made-here")
        with pytest.raises(NotFoundError):
            await client.models.get("emulator/made-here")


async def test_emulator_examples_are_predictions_of_the_model(replicate_emulator):
    """models.examples of emulator/echo yields Predictions of that model."""
    async with _client(replicate_emulator) as client:
        examples = [p async for p in client.models.examples("emulator/echo")]
    assert examples
    assert all(isinstance(p, Prediction) and p.model == "emulator/echo" for p in examples)


async def test_emulator_examples_of_an_unknown_model_raise(replicate_emulator):
    """models.examples of an unknown model raises NotFoundError when iterated."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.models.examples("emulator/no-such-model").page()


async def test_emulator_versions_delete_makes_the_version_404(replicate_emulator):
    """After versions.delete (202), versions.get of that version raises NotFoundError."""
    version = hashlib.sha256(b"emulator:emulator/echo-versioned").hexdigest()
    async with _client(replicate_emulator) as client:
        assert await client.models.versions.delete("emulator/echo-versioned", version) is None
        with pytest.raises(NotFoundError):
            await client.models.versions.get("emulator/echo-versioned", version)
