# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.deployments`: list, get, create, update, delete and predictions.create, over respx
and against the emulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from _client_support import API, TOKEN, problem, reply
from replicate_async import (
    AsyncClient,
    Deployment,
    NotFoundError,
    PredictionStatus,
    ServerError,
    ValidationError,
)

if TYPE_CHECKING:
    import respx

pytestmark = pytest.mark.anyio

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
OTHER_VERSION = "a" * 64


def _deployment(name: str = "my-app", number: int = 1, **configuration: Any) -> dict[str, Any]:
    """A deployment as the API sends it."""
    config = {"hardware": "gpu-t4", "min_instances": 1, "max_instances": 5, **configuration}
    return {
        "owner": "acme",
        "name": name,
        "current_release": {
            "number": number,
            "model": "acme/painter",
            "version": VERSION,
            "created_at": "2025-01-01T00:00:00Z",
            "created_by": {"type": "organization", "username": "acme", "name": "Acme"},
            "configuration": config,
        },
    }


def _page(names: list[str], next_url: str | None) -> httpx.Response:
    return httpx.Response(
        200,
        json={"results": [_deployment(n) for n in names], "next": next_url, "previous": None},
    )


CREATE_ARGS: dict[str, Any] = {
    "model": "acme/painter",
    "version": VERSION,
    "hardware": "gpu-t4",
    "min_instances": 1,
    "max_instances": 5,
}


# -- list -------------------------------------------------------------------------------------


async def test_list_is_lazy_and_follows_next_cursors(api: respx.Router, make_client):
    """list() sends nothing until iterated, then fetches each page only when it is reached."""
    second = api.get("/v1/deployments", params={"cursor": "cD0y"}).mock(
        return_value=_page(["c"], None)
    )
    first = api.get("/v1/deployments").mock(
        return_value=_page(["a", "b"], f"{API}/v1/deployments?cursor=cD0y")
    )
    async with make_client() as client:
        pages = client.deployments.list()
        assert len(api.calls) == 0
        items = aiter(pages)
        assert (await anext(items)).name == "a"
        assert (await anext(items)).name == "b"
        assert second.call_count == 0
        assert [d.name async for d in items] == ["c"]
    assert (first.call_count, second.call_count) == (1, 1)


async def test_list_page_by_cursor(api: respx.Router, make_client):
    """list().page(cursor) fetches exactly the page the cursor names."""
    route = api.get("/v1/deployments", params={"cursor": "abc"}).mock(
        return_value=_page(["z"], None)
    )
    async with make_client() as client:
        page = await client.deployments.list().page("abc")
    assert [d.name for d in page.results] == ["z"]
    assert route.call_count == 1


# -- get --------------------------------------------------------------------------------------


async def test_get_decodes_the_deployment_and_its_release(api: respx.Router, make_client):
    """get() sends GET /v1/deployments/{owner}/{name} and decodes the current release."""
    route = api.get("/v1/deployments/acme/my-app").mock(
        return_value=httpx.Response(200, json={**_deployment(), "new_key": 1})
    )
    async with make_client() as client:
        got = await client.deployments.get("acme/my-app")
    release = got.current_release
    assert (got.owner, got.name, got.ref) == ("acme", "my-app", Deployment("acme/my-app"))
    assert (release.number, release.model, release.version) == (1, "acme/painter", VERSION)
    assert release.created_by.username == "acme"
    config = release.configuration
    assert (config.hardware, config.min_instances, config.max_instances) == ("gpu-t4", 1, 5)
    assert got.extra == {"new_key": 1}
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_get_of_an_unknown_deployment_raises_not_found(api: respx.Router, make_client):
    """A 404 from get() is NotFoundError with the server's detail."""
    api.get("/v1/deployments/acme/gone").mock(return_value=problem(404, detail="Not found."))
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="Not found"):
            await client.deployments.get("acme/gone")


async def test_get_retries_a_5xx(api: respx.Router, make_client):
    """A GET is retried on 503 (the session's retries), then decoded."""
    route = api.get("/v1/deployments/acme/my-app").mock(
        side_effect=[problem(503, detail="busy"), httpx.Response(200, json=_deployment())]
    )
    async with make_client() as client:
        assert (await client.deployments.get("acme/my-app")).name == "my-app"
    assert route.call_count == 2


# -- create -----------------------------------------------------------------------------------


async def test_create_posts_every_field_and_takes_200(api: respx.Router, make_client):
    """create() POSTs name, model, version, hardware and instance bounds; the API answers 200."""
    route = api.post("/v1/deployments").mock(return_value=httpx.Response(200, json=_deployment()))
    async with make_client() as client:
        created = await client.deployments.create("my-app", **CREATE_ARGS)
    assert created.ref == Deployment("acme/my-app")
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "my-app",
        "model": "acme/painter",
        "version": VERSION,
        "hardware": "gpu-t4",
        "min_instances": 1,
        "max_instances": 5,
    }


async def test_create_refused_by_the_server_keeps_invalid_fields(api: respx.Router, make_client):
    """A 422 to create() is ValidationError with the server's invalid_fields."""
    api.post("/v1/deployments").mock(
        return_value=problem(
            422,
            title="Input validation failed",
            detail="- hardware: unknown",
            invalid_fields=[{"type": "enum", "field": "hardware", "description": "unknown"}],
        )
    )
    async with make_client() as client:
        with pytest.raises(ValidationError) as info:
            await client.deployments.create("my-app", **CREATE_ARGS)
    assert info.value.status_code == 422
    assert [f.field for f in info.value.invalid_fields] == ["hardware"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"name": "acme/my-app"}, "without the owner, e.g. 'my-app'"),
        ({"name": "My App"}, "invalid deployment name"),
        ({"name": ""}, "invalid deployment name"),
        ({"model": "painter"}, "invalid model 'painter'"),
        ({"version": "abc"}, "64-character hex version id"),
        ({"version": f"acme/painter:{VERSION}"}, "pass only the part after ':'"),
        ({"hardware": ""}, "invalid hardware"),
        ({"hardware": "gpu t4"}, "invalid hardware"),
        ({"min_instances": -1}, "min_instances -1: expected a whole number from 0 to 5"),
        ({"min_instances": 6}, "from 0 to 5"),
        ({"min_instances": True}, "invalid min_instances True"),
        ({"min_instances": "1"}, "invalid min_instances '1'"),
        ({"max_instances": 21}, "max_instances 21: expected a whole number from 0 to 20"),
        ({"max_instances": 1.5}, "invalid max_instances 1.5"),
        ({"min_instances": 3, "max_instances": 2}, r"min_instances \(3\) is above max_instances"),
    ],
)
async def test_create_checks_arguments_before_any_request(
    api: respx.Router, make_client, change, match
):
    """A malformed create argument raises ValidationError (no status) and sends nothing."""
    args = {"name": "my-app", **CREATE_ARGS, **change}
    name = args.pop("name")
    async with make_client() as client:
        with pytest.raises(ValidationError, match=match) as info:
            await client.deployments.create(name, **args)
    assert info.value.status_code is None
    assert len(api.calls) == 0


# -- update -----------------------------------------------------------------------------------


async def test_update_patches_only_the_given_fields(api: respx.Router, make_client):
    """update() PATCHes only what was given and returns the new release."""
    route = api.patch("/v1/deployments/acme/my-app").mock(
        return_value=httpx.Response(200, json=_deployment(number=2, max_instances=10))
    )
    async with make_client() as client:
        updated = await client.deployments.update("acme/my-app", max_instances=10)
    assert json.loads(route.calls.last.request.content) == {"max_instances": 10}
    assert updated.current_release.number == 2
    assert updated.current_release.configuration.max_instances == 10


async def test_update_sends_every_field_given(api: respx.Router, make_client):
    """update() with every field sends all four, a zero included."""
    route = api.patch("/v1/deployments/acme/my-app").mock(
        return_value=httpx.Response(200, json=_deployment(number=3))
    )
    async with make_client() as client:
        await client.deployments.update(
            "acme/my-app",
            version=OTHER_VERSION,
            hardware="gpu-a40-large",
            min_instances=0,
            max_instances=0,
        )
    assert json.loads(route.calls.last.request.content) == {
        "version": OTHER_VERSION,
        "hardware": "gpu-a40-large",
        "min_instances": 0,
        "max_instances": 0,
    }


@pytest.mark.parametrize(
    ("deployment", "change", "match"),
    [
        ("acme/my-app", {}, "changes nothing: pass at least one of"),
        ("my-app", {"min_instances": 1}, "invalid deployment 'my-app'"),
        ("acme/my-app", {"version": "latest"}, "64-character hex version id"),
        ("acme/my-app", {"min_instances": 9}, "from 0 to 5"),
        ("acme/my-app", {"max_instances": -2}, "from 0 to 20"),
        ("acme/my-app", {"min_instances": 4, "max_instances": 1}, "is above max_instances"),
    ],
)
async def test_update_checks_arguments_before_any_request(
    api: respx.Router, make_client, deployment, change, match
):
    """A malformed or empty update raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=match) as info:
            await client.deployments.update(deployment, **change)
    assert info.value.status_code is None
    assert len(api.calls) == 0


# -- delete -----------------------------------------------------------------------------------


async def test_delete_takes_204(api: respx.Router, make_client):
    """delete() sends DELETE and returns None on 204 with an empty body."""
    route = api.delete("/v1/deployments/acme/my-app").mock(return_value=httpx.Response(204))
    async with make_client() as client:
        assert await client.deployments.delete("acme/my-app") is None
    assert route.call_count == 1


async def test_delete_refused_raises(api: respx.Router, make_client):
    """A refused delete (the deployment is still in use) raises the status's error."""
    api.delete("/v1/deployments/acme/my-app").mock(
        return_value=problem(409, detail="The deployment is still online")
    )
    async with make_client() as client:
        with pytest.raises(Exception, match="still online") as info:
            await client.deployments.delete("acme/my-app")
    assert getattr(info.value, "status_code", None) == 409


@pytest.mark.parametrize("name", ["acme", "acme/my-app:v1", "../x", "acme/my app", None])
@pytest.mark.parametrize("call", ["get", "delete"])
async def test_get_and_delete_check_the_name(api: respx.Router, make_client, call, name):
    """get() and delete() refuse a malformed 'owner/name' before any request."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid deployment") as info:
            await getattr(client.deployments, call)(name)
    assert info.value.status_code is None
    assert len(api.calls) == 0


# -- predictions.create -----------------------------------------------------------------------


async def test_prediction_create_posts_to_the_deployment(api: respx.Router, make_client):
    """predictions.create() POSTs the input to the deployment with Prefer, Cancel-After, webhook."""
    route = api.post("/v1/deployments/acme/my-app/predictions").mock(
        return_value=reply("starting", 201)
    )
    async with make_client() as client:
        created = await client.deployments.predictions.create(
            "acme/my-app",
            {"prompt": "a cat"},
            wait=5,
            cancel_after="2m",
            webhook="https://example.com/hook",
            webhook_events_filter=["completed"],
        )
    assert (created.id, created.status) == ("p1", PredictionStatus.STARTING)
    request = route.calls.last.request
    assert json.loads(request.content) == {
        "input": {"prompt": "a cat"},
        "webhook": "https://example.com/hook",
        "webhook_events_filter": ["completed"],
    }
    assert (request.headers["Prefer"], request.headers["Cancel-After"]) == ("wait=5", "2m")


async def test_prediction_create_is_not_retried_after_a_5xx(api: respx.Router, make_client):
    """A deployment prediction's create is not re-sent after a 5xx (promise 1)."""
    route = api.post("/v1/deployments/acme/my-app/predictions").mock(
        return_value=problem(500, detail="oops")
    )
    async with make_client() as client:
        with pytest.raises(ServerError, match="may have been created"):
            await client.deployments.predictions.create("acme/my-app", {"prompt": "x"})
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("deployment", "kwargs", "match"),
    [
        ("my-app", {}, "invalid deployment 'my-app'"),
        (f"acme/my-app:{VERSION}", {}, "invalid deployment"),
        ("acme/my-app", {"wait": 0}, "wait must be an integer"),
        ("acme/my-app", {"webhook": "ftp://x"}, "webhook must be an https:// URL"),
        ("acme/my-app", {"webhook_events_filter": ["nope"]}, "unknown webhook event 'nope'"),
    ],
)
async def test_prediction_create_checks_arguments_before_any_request(
    api: respx.Router, make_client, deployment, kwargs, match
):
    """A malformed deployment prediction create raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=match):
            await client.deployments.predictions.create(deployment, {"prompt": "x"}, **kwargs)
    assert len(api.calls) == 0


async def test_reprs_name_the_api_root_not_the_token(make_client):
    """The resources' reprs show the API root and never the token."""
    async with make_client() as client:
        shown = repr(client.deployments) + repr(client.deployments.predictions)
    assert API in shown
    assert TOKEN not in shown
    assert shown.startswith("<AsyncDeployments of <AsyncClient")


# -- against the emulator ---------------------------------------------------------------------


def _client(emulator) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url)


def _emulator_version(emulator, model: str = "emulator/echo") -> str:
    return str(emulator.state.models[model].version_id)


async def test_emulator_deployment_prediction_runs_to_success(replicate_emulator):
    """A prediction of the emulator's deployment, waited for, succeeds with the echoed output."""
    async with _client(replicate_emulator) as client:
        created = await client.deployments.predictions.create(
            "emulator/echo-deployment", {"prompt": "hello"}
        )
        done = await client.predictions.wait(created)
    assert (done.status, done.output) == (PredictionStatus.SUCCEEDED, "hello")
    stats = replicate_emulator.stats()["requests"]
    assert sum(stats["POST /v1/deployments/{owner}/{name}/predictions"].values()) == 1


async def test_emulator_deployment_of_an_unknown_name_is_not_found(replicate_emulator):
    """A prediction of a deployment the emulator does not know raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.deployments.predictions.create("emulator/nope", {"prompt": "x"})


async def test_emulator_lists_and_gets_the_configured_deployment(replicate_emulator):
    """list() holds the emulator's configured deployment and get() returns the same."""
    async with _client(replicate_emulator) as client:
        listed = [d async for d in client.deployments.list()]
        got = await client.deployments.get("emulator/echo-deployment")
    assert got.ref == Deployment("emulator/echo-deployment")
    assert got in listed
    assert got.current_release.model == "emulator/echo"


async def test_emulator_create_update_delete(replicate_emulator):
    """A deployment created, updated (a new release) and deleted round-trips through the API."""
    version = _emulator_version(replicate_emulator)
    async with _client(replicate_emulator) as client:
        created = await client.deployments.create(
            "made-here",
            model="emulator/echo",
            version=version,
            hardware="cpu",
            min_instances=0,
            max_instances=1,
        )
        ref = f"{created.owner}/{created.name}"
        assert created.name == "made-here"
        assert created.current_release.version == version
        updated = await client.deployments.update(ref, max_instances=3)
        assert updated.current_release.number == created.current_release.number + 1
        assert updated.current_release.configuration.max_instances == 3
        assert await client.deployments.get(ref) == updated
        prediction = await client.deployments.predictions.create(ref, {"prompt": "hi"})
        assert (await client.predictions.wait(prediction)).output == "hi"
        await client.deployments.delete(ref)
        with pytest.raises(NotFoundError):
            await client.deployments.get(ref)
