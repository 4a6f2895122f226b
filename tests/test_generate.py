"""Typed requests through the client: refusals before any request, validate=True, and generate.

The refusal and ``validate=True`` tests run over respx (no network). ``validate=True`` is checked
against a real recorded reply: stability-ai/sdxl from tests/fixtures/cassettes/models-get.yaml
(its ``latest_version.openapi_schema`` Input has ``num_outputs`` 1 to 4, a ``refine`` enum and
no ``aspect_ratio``). ``generate``, ``stream`` and the sync client run over loopback against the
emulator, one catalogue model per modality, on asyncio and trio.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from _cassettes import CASSETTES, load
from _client_support import API, TOKEN, reply
from replicate_async import (
    AsyncClient,
    Client,
    Deployment,
    FileOutput,
    Job,
    SyncFileOutput,
    ValidationError,
)
from replicate_async._journal import Journal, job_key
from replicate_async.catalog import (
    Catalog,
    CatalogEntry,
    ChatRequest,
    ImageInput,
    ImageRequest,
    MusicRequest,
    VideoRequest,
)

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer

FIRST = "https://example.com/first.png"
KLING = "kwaivgi/kling-v2.1"
KLING_CREATE = "/v1/models/kwaivgi/kling-v2.1/predictions"
# Kling v2.1 makes 5 or 10 s videos: 7 is refused by its entry, before any request.
BAD = VideoRequest("a kite", duration=7, images=[ImageInput(FIRST)])
GOOD = VideoRequest("a kite", duration=5, images=[ImageInput(FIRST)])

LLAMA = "meta/meta-llama-3-8b-instruct"
LLAMA_CREATE = "/v1/models/meta/meta-llama-3-8b-instruct/predictions"
FLUX = "black-forest-labs/flux-schnell"
FLUX_CREATE = "/v1/models/black-forest-labs/flux-schnell/predictions"
VIDEO01 = "minimax/video-01"
# meta/musicgen is not an official model: it runs by version (the shipped schema's).
MUSICGEN = "meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"

SDXL = "stability-ai/sdxl"
SDXL_GET = "/v1/models/stability-ai/sdxl"
SDXL_CREATE = "/v1/models/stability-ai/sdxl/predictions"


def _recorded(model: str) -> dict[str, Any]:
    """The recorded GET /v1/models/{model} reply from models-get.yaml."""
    for interaction in load(CASSETTES / "models-get.yaml"):
        if interaction.uri.endswith(f"/v1/models/{model}"):
            return interaction.payload
    raise LookupError(model)


SDXL_MODEL = _recorded(SDXL)
SDXL_VERSION = SDXL_MODEL["latest_version"]["id"]


def _body(route: respx.Route, index: int = -1) -> dict[str, Any]:
    return json.loads(route.calls[index].request.content)


def _sent(api: respx.Router) -> list[tuple[str, str]]:
    """Every request the router saw, as (method, path)."""
    return [(c.request.method, c.request.url.path) for c in api.calls]


# -- refusals make no HTTP request ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_run_refuses_a_bad_request_without_a_request(api: respx.Router, make_client):
    """run() with a request the entry refuses raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=r"kwaivgi/kling-v2.1: duration=7"):
            await client.run(KLING, input=BAD)
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_predictions_create_refuses_without_a_request(api: respx.Router, make_client):
    """predictions.create() with a refused request sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="duration=7"):
            await client.predictions.create(KLING, BAD)
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_generate_refuses_without_a_request(api: respx.Router, make_client):
    """generate() with a refused request sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="duration=7"):
            await client.generate(KLING, BAD)
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_run_many_refuses_without_a_request(api: respx.Router, make_client):
    """run_many() with a refused job raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="duration=7"):
            await client.run_many([(KLING, BAD)])
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_run_many_returns_the_refusal_in_its_place(api: respx.Router, make_client, tmp_path):
    """With return_exceptions, the refused job's ValidationError is its result; nothing is sent."""
    async with make_client() as client:
        [result] = await client.run_many(
            [Job(KLING, BAD)], return_exceptions=True, journal=tmp_path / "j.sqlite"
        )
    assert isinstance(result, ValidationError)
    assert len(api.calls) == 0
    with Journal(tmp_path / "j.sqlite") as journal:
        assert list(journal.rows()) == []


@pytest.mark.asyncio
async def test_stream_refuses_without_a_request(api: respx.Router, make_client):
    """Iterating stream() of a refused request raises ValidationError and sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match=r"meta/meta-llama-3-8b-instruct: top_p=2"):
            async for _ in client.stream(LLAMA, ChatRequest("hi", top_p=2)):
                pass  # pragma: no cover - refused before the first event
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_official_model_create_refuses_without_a_request(api: respx.Router, make_client):
    """models.predictions.create() with a refused request sends nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="duration=7"):
            await client.models.predictions.create(KLING, BAD)
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_the_wrong_request_class_is_refused_without_a_request(api: respx.Router, make_client):
    """An ImageRequest for a video model raises ValidationError naming both; nothing is sent."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="takes a VideoRequest, not a ImageRequest"):
            await client.generate(KLING, ImageRequest("a kite"))
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_a_client_registered_entry_refuses_without_a_request(api: respx.Router, make_client):
    """An entry registered on client.catalog checks creates, before any request."""

    def only_short(request, b):
        b.set("prompt", request.prompt)
        b.set("duration", b.choice("duration", request.duration, (2,), " s"))

    async with make_client() as client:
        client.catalog.register(
            CatalogEntry(model="acme/clip", request=VideoRequest, build=only_short)
        )
        with pytest.raises(ValidationError, match=r"acme/clip: duration=3"):
            await client.run("acme/clip", VideoRequest("x", duration=3))
    assert len(api.calls) == 0


def test_sync_generate_refuses_without_a_request(api: respx.Router):
    """The blocking Client's generate refuses the same way, sending nothing."""
    transport = httpx.MockTransport(api.async_handler)
    with (
        Client(TOKEN, API, transport=transport) as client,
        pytest.raises(ValidationError, match="duration=7"),
    ):
        client.generate(KLING, BAD)
    assert len(api.calls) == 0


# -- typed requests become the create body --------------------------------------------------------


@pytest.mark.asyncio
async def test_run_with_a_request_returns_the_output(api: respx.Router, make_client):
    """run(model, input=request) sends the mapped input and returns the output."""
    create = api.post(KLING_CREATE).mock(
        return_value=reply("succeeded", 201, output="https://x.test/out.mp4")
    )
    async with make_client() as client:
        out = await client.run(KLING, input=GOOD, use_file_output=False)
    assert out == "https://x.test/out.mp4"
    assert _body(create) == {"input": Catalog().build(KLING, GOOD)}
    assert _body(create)["input"] == {"prompt": "a kite", "start_image": FIRST, "duration": 5}


@pytest.mark.asyncio
async def test_predictions_create_sends_the_mapped_input(api: respx.Router, make_client):
    """predictions.create(model, request) posts the catalogue's input for the request."""
    request = ChatRequest("hi", system_prompt="be brief", max_tokens=20, stop=["\n"])
    create = api.post(LLAMA_CREATE).mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.predictions.create(LLAMA, request)
        expected = client.catalog.build(LLAMA, request)
    assert _body(create) == {"input": expected}
    assert "stop" not in expected  # llama 3 has no stop input: dropped, not sent
    assert expected["max_tokens"] == 20


@pytest.mark.asyncio
async def test_a_versioned_reference_posts_the_version_and_the_mapped_input(
    api: respx.Router, make_client
):
    """owner/name:version maps by the name and creates by the version."""
    version = "daad218feb714b03e2a1ac445986aebb9d05243cd00da2af17be2e4049f48f69"
    create = api.post("/v1/predictions").mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.predictions.create(f"{KLING}:{version}", GOOD)
    assert _body(create) == {"version": version, "input": Catalog().build(KLING, GOOD)}


@pytest.mark.asyncio
async def test_a_deployment_create_sends_the_generic_mapping(api: respx.Router, make_client):
    """A typed request to a deployment gets the generic mapping (prompt, seed, ...)."""
    create = api.post("/v1/deployments/acme/prod/predictions").mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.deployments.predictions.create("acme/prod", VideoRequest("x", seed=3))
    assert _body(create) == {"input": {"prompt": "x", "seed": 3}}


@pytest.mark.asyncio
async def test_a_request_file_source_is_encoded_in_the_create(api: respx.Router, make_client):
    """A bytes first frame is mapped to start_image and sent as a data URI."""
    create = api.post(KLING_CREATE).mock(return_value=reply(code=201))
    image = b"\x89PNG\r\n\x1a\n-tiny"
    async with make_client() as client:
        await client.predictions.create(KLING, VideoRequest("x", images=[ImageInput(image)]))
    sent = _body(create)["input"]["start_image"]
    assert sent.startswith("data:")
    assert base64.b64decode(sent.split(",", 1)[1]) == image


@pytest.mark.asyncio
async def test_generate_returns_the_generation(api: respx.Router, make_client):
    """generate() over respx: the prediction, its file, the input sent and the dropped fields."""
    request = VideoRequest("a kite", images=[ImageInput(FIRST)], seed=4)
    create = api.post(KLING_CREATE).mock(
        return_value=reply("succeeded", 201, output="https://x.test/out.mp4")
    )
    async with make_client() as client:
        generation = await client.generate(KLING, request)
    assert generation.prediction.id == "p1"
    assert [f.url for f in generation.files] == ["https://x.test/out.mp4"]
    assert isinstance(generation.file, FileOutput)
    assert generation.text is None
    assert generation.input == _body(create)["input"] == {"prompt": "a kite", "start_image": FIRST}
    assert generation.dropped == ("seed",)
    assert generation.model == KLING


@pytest.mark.asyncio
async def test_generate_with_a_dict_sends_it_as_it_is(api: respx.Router, make_client):
    """generate(model, dict) sends the dict unchanged and reports nothing dropped."""
    create = api.post(SDXL_CREATE).mock(return_value=reply("succeeded", 201, output="done"))
    async with make_client() as client:
        generation = await client.generate(SDXL, {"prompt": "x", "bpm": 1})
    assert _body(create) == {"input": {"prompt": "x", "bpm": 1}}
    assert generation.input == {"prompt": "x", "bpm": 1}
    assert generation.dropped == ()
    assert generation.text == "done"


@pytest.mark.asyncio
async def test_generate_on_a_deployment(api: respx.Router, make_client):
    """generate(Deployment, request) creates through the deployment with the generic mapping."""
    create = api.post("/v1/deployments/acme/prod/predictions").mock(
        return_value=reply("succeeded", 201, output=["a", "b"])
    )
    async with make_client() as client:
        generation = await client.generate(Deployment("acme/prod"), ChatRequest("x", top_p=0.5))
    assert _body(create) == {"input": {"prompt": "x"}}
    assert generation.dropped == ("top_p",)
    assert generation.text == "ab"
    assert "acme/prod" in generation.model


@pytest.mark.asyncio
async def test_as_completed_sends_the_mapped_input(api: respx.Router, make_client):
    """as_completed() maps a typed job like run_many."""
    request = ChatRequest("hi", temperature=0.2)
    create = api.post(LLAMA_CREATE).mock(return_value=reply("succeeded", 201, output=["ok"]))
    async with make_client() as client:
        results = [item async for item in client.as_completed([(LLAMA, request)])]
        expected = client.catalog.build(LLAMA, request)
    assert results == [(0, ["ok"])]
    assert _body(create) == {"input": expected}


# -- run_many with typed jobs and a journal -------------------------------------------------------


@pytest.mark.asyncio
async def test_run_many_journals_the_mapped_input_and_resumes(
    api: respx.Router, make_client, tmp_path
):
    """A typed job's journal row holds the mapped input; a second run creates nothing."""
    chat = ChatRequest("hi", system_prompt="be brief")
    image = ImageRequest("a fox", num_outputs=2, negative_prompt="blur")
    llama = api.post(LLAMA_CREATE).mock(
        return_value=reply("succeeded", 201, pid="p-chat", output=["Hel", "lo"])
    )
    flux = api.post(FLUX_CREATE).mock(
        return_value=reply("succeeded", 201, pid="p-img", output=["https://x.test/0.png"])
    )
    path = tmp_path / "j.sqlite"
    jobs = [(LLAMA, chat), (FLUX, image)]
    async with make_client() as client:
        first = await client.run_many(jobs, journal=path, use_file_output=False)
        second = await client.run_many(jobs, journal=path, use_file_output=False)
    assert first == second == [["Hel", "lo"], ["https://x.test/0.png"]]
    assert (llama.call_count, flux.call_count) == (1, 1)
    catalog = Catalog()
    with Journal(path) as journal:
        rows = {row.ref: row for row in journal.rows()}
    for index, (ref, request) in enumerate(jobs):
        mapped = catalog.build(ref, request)
        assert json.loads(rows[ref].input) == mapped
        assert rows[ref].key == job_key(ref, mapped, index)
    assert _body(llama)["input"] == catalog.build(LLAMA, chat)
    assert _body(flux)["input"] == {"prompt": "a fox", "num_outputs": 2}


# -- validate=True: a model outside the catalogue, checked against its own schema -----------------


@pytest.fixture
def sdxl_schema(api: respx.Router) -> respx.Route:
    """GET /v1/models/stability-ai/sdxl answers the recorded model (its schema included)."""
    return api.get(SDXL_GET).mock(return_value=httpx.Response(200, json=SDXL_MODEL))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"prompt": "x", "num_outputs": 9}, "input.num_outputs"),
        ({"prompt": "x", "refine": "sharpen"}, "input.refine"),
        ({"promt": "x"}, "input.promt"),
        ({"prompt": 5}, "input.prompt"),
    ],
    ids=["range", "enum", "unknown-key", "type"],
)
async def test_validate_refuses_an_invalid_dict_without_a_create(
    api: respx.Router, make_client, sdxl_schema, bad, field
):
    """An input breaking the fetched schema raises ValidationError; only the schema GET is sent."""
    async with make_client(validate=True) as client:
        with pytest.raises(ValidationError) as info:
            await client.run(SDXL, bad)
    assert [f.field for f in info.value.invalid_fields] == [field]
    assert SDXL in str(info.value)
    assert _sent(api) == [("GET", SDXL_GET)]


@pytest.mark.asyncio
async def test_validate_lets_a_valid_dict_through_once(api: respx.Router, make_client, sdxl_schema):
    """A valid input is created once, after one schema GET."""
    create = api.post(SDXL_CREATE).mock(return_value=reply("succeeded", 201, output="ok"))
    async with make_client(validate=True) as client:
        assert await client.run(SDXL, {"prompt": "x", "num_outputs": 4}) == "ok"
    assert _sent(api) == [("GET", SDXL_GET), ("POST", SDXL_CREATE)]
    assert _body(create) == {"input": {"prompt": "x", "num_outputs": 4}}


@pytest.mark.asyncio
async def test_the_schema_is_fetched_once_for_two_calls(
    api: respx.Router, make_client, sdxl_schema
):
    """Two validated calls on one client fetch the model's schema once (cached)."""
    create = api.post(SDXL_CREATE).mock(return_value=reply("succeeded", 201, output="ok"))
    async with make_client(validate=True) as client:
        await client.run(SDXL, {"prompt": "a"})
        await client.predictions.create(SDXL, {"prompt": "b"})
        with pytest.raises(ValidationError):
            await client.generate(SDXL, {"prompt": "c", "num_outputs": 0})
    assert sdxl_schema.call_count == 1
    assert create.call_count == 2


@pytest.mark.asyncio
async def test_per_call_validate_false_overrides_the_client(
    api: respx.Router, make_client, sdxl_schema
):
    """validate=False on a call skips the check a client-wide True asks for: no GET."""
    create = api.post(SDXL_CREATE).mock(return_value=reply("succeeded", 201, output="ok"))
    async with make_client(validate=True) as client:
        await client.run(SDXL, {"prompt": "x", "num_outputs": 9}, validate=False)
        await client.predictions.create(SDXL, {"prompt": "x", "num_outputs": 9}, validate=False)
        await client.generate(SDXL, {"prompt": "x", "num_outputs": 9}, validate=False)
        await client.run(SDXL, {"prompt": "x"})  # the route is declared: use it once
    assert create.call_count == 4
    assert sdxl_schema.call_count == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["run", "generate", "predictions.create"])
async def test_per_call_validate_true_on_a_default_client(
    api: respx.Router, make_client, sdxl_schema, method
):
    """validate=True on one call checks the input though the client does not by default."""
    async with make_client() as client:
        call = (
            client.predictions.create if method == "predictions.create" else getattr(client, method)
        )
        with pytest.raises(ValidationError, match="num_outputs"):
            await call(SDXL, {"prompt": "x", "num_outputs": 9}, validate=True)
    assert _sent(api) == [("GET", SDXL_GET)]


@pytest.mark.asyncio
async def test_a_default_client_does_not_validate(api: respx.Router, make_client):
    """Without validate, an input is sent as it is: no schema GET."""
    create = api.post(SDXL_CREATE).mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.predictions.create(SDXL, {"prompt": "x", "num_outputs": 9})
    assert _sent(api) == [("POST", SDXL_CREATE)]
    assert _body(create) == {"input": {"prompt": "x", "num_outputs": 9}}


@pytest.mark.asyncio
async def test_a_version_reference_fetches_that_version(api: respx.Router, make_client):
    """owner/name:version is checked against GET /v1/models/{o}/{n}/versions/{id}."""
    path = f"/v1/models/stability-ai/sdxl/versions/{SDXL_VERSION}"
    version = api.get(path).mock(
        return_value=httpx.Response(200, json=SDXL_MODEL["latest_version"])
    )
    create = api.post("/v1/predictions").mock(return_value=reply(code=201))
    async with make_client(validate=True) as client:
        with pytest.raises(ValidationError, match="refine"):
            await client.predictions.create(f"{SDXL}:{SDXL_VERSION}", {"refine": "sharpen"})
        await client.predictions.create(f"{SDXL}:{SDXL_VERSION}", {"refine": "no_refiner"})
    assert version.call_count == 1
    assert _body(create) == {"version": SDXL_VERSION, "input": {"refine": "no_refiner"}}
    assert ("GET", SDXL_GET) not in _sent(api)


@pytest.mark.asyncio
async def test_a_bare_version_id_is_let_through_without_a_get(api: respx.Router, make_client):
    """A bare version id has no route to its schema: created unchecked, no GET."""
    create = api.post("/v1/predictions").mock(return_value=reply(code=201))
    async with make_client(validate=True) as client:
        await client.predictions.create(SDXL_VERSION, {"num_outputs": 9})
    assert _sent(api) == [("POST", "/v1/predictions")]
    assert _body(create) == {"version": SDXL_VERSION, "input": {"num_outputs": 9}}


@pytest.mark.asyncio
async def test_a_deployment_is_checked_against_its_release(api: respx.Router, make_client):
    """A deployment's input is checked against its current release's version schema."""
    deployment = {
        "owner": "acme",
        "name": "prod",
        "current_release": {
            "number": 1,
            "model": SDXL,
            "version": SDXL_VERSION,
            "created_at": "2025-01-01T00:00:00Z",
            "created_by": {"type": "organization", "username": "acme"},
            "configuration": {"hardware": "gpu-a40-large", "min_instances": 0, "max_instances": 1},
        },
    }
    api.get("/v1/deployments/acme/prod").mock(return_value=httpx.Response(200, json=deployment))
    api.get(f"/v1/models/stability-ai/sdxl/versions/{SDXL_VERSION}").mock(
        return_value=httpx.Response(200, json=SDXL_MODEL["latest_version"])
    )
    async with make_client(validate=True) as client:
        with pytest.raises(ValidationError, match="num_outputs"):
            await client.run(Deployment("acme/prod"), {"num_outputs": 9})
    assert [method for method, _ in _sent(api)] == ["GET", "GET"]


@pytest.mark.asyncio
async def test_a_model_without_a_schema_is_let_through(api: respx.Router, make_client):
    """A model with no version (mattt/empty, recorded) cannot be checked: created; fetched once."""
    get = api.get("/v1/models/mattt/empty").mock(
        return_value=httpx.Response(200, json=_recorded("mattt/empty"))
    )
    create = api.post("/v1/models/mattt/empty/predictions").mock(return_value=reply(code=201))
    async with make_client(validate=True) as client:
        await client.predictions.create("mattt/empty", {"anything": 1})
        await client.predictions.create("mattt/empty", {"anything": 2})
    assert get.call_count == 1
    assert create.call_count == 2


@pytest.mark.asyncio
async def test_validate_checks_a_generic_mapped_request(
    api: respx.Router, make_client, sdxl_schema
):
    """A typed request for a model outside the catalogue is checked against the fetched schema."""
    create = api.post(SDXL_CREATE).mock(return_value=reply(code=201))
    async with make_client(validate=True) as client:
        with pytest.raises(ValidationError) as info:
            await client.generate(SDXL, ImageRequest("a fox", aspect_ratio="1:1"))
        await client.predictions.create(SDXL, ImageRequest("a fox", seed=2, steps=30))
    assert [f.field for f in info.value.invalid_fields] == ["input.aspect_ratio"]
    assert _body(create) == {"input": {"prompt": "a fox", "seed": 2}}
    assert sdxl_schema.call_count == 1


@pytest.mark.asyncio
async def test_validate_passes_a_file_input_as_a_placeholder(
    api: respx.Router, make_client, sdxl_schema, tmp_path
):
    """A Path where the schema wants a URI passes the check and is sent as a data URI."""
    image = tmp_path / "in.png"
    image.write_bytes(b"\x89PNG-small")
    create = api.post(SDXL_CREATE).mock(return_value=reply(code=201))
    async with make_client(validate=True) as client:
        await client.predictions.create(SDXL, {"prompt": "x", "image": image})
    assert _body(create)["input"]["image"].startswith("data:")


@pytest.mark.asyncio
async def test_a_catalogued_request_is_not_fetched_under_validate(api: respx.Router, make_client):
    """A typed request the catalogue checked offline needs no schema GET, even with validate."""
    create = api.post(KLING_CREATE).mock(return_value=reply("succeeded", 201, output="x"))
    async with make_client(validate=True) as client:
        await client.run(KLING, GOOD, use_file_output=False)
        await client.generate(KLING, GOOD)
        await client.predictions.create(KLING, GOOD)
    assert _sent(api) == [("POST", KLING_CREATE)] * 3
    assert create.call_count == 3


@pytest.mark.asyncio
async def test_run_many_does_not_fetch_the_schema_of_a_catalogued_request():
    """A batch's typed job checked offline is not checked again remotely under validate=True."""
    # Its own router: the GET this test says must not happen is answered (a model without a
    # version, so the batch still succeeds) but need not be called.
    router = respx.Router(base_url=API, assert_all_called=False)
    router.get("/v1/models/kwaivgi/kling-v2.1").mock(
        return_value=httpx.Response(200, json=_recorded("mattt/empty"))
    )
    router.post(KLING_CREATE).mock(return_value=reply("succeeded", 201, output="x"))
    transport = httpx.MockTransport(router.async_handler)
    async with AsyncClient(TOKEN, API, transport=transport, validate=True) as client:
        assert await client.run_many([(KLING, GOOD)], use_file_output=False) == ["x"]
    assert _sent(router) == [("POST", KLING_CREATE)]


@pytest.mark.asyncio
async def test_run_many_validates_a_dict_job(api: respx.Router, make_client, sdxl_schema):
    """A client-wide validate=True checks a batch's dict job before its create."""
    async with make_client(validate=True) as client:
        with pytest.raises(ValidationError, match="num_outputs"):
            await client.run_many([(SDXL, {"prompt": "x", "num_outputs": 9})])
    assert _sent(api) == [("GET", SDXL_GET)]


# -- generate over loopback, one model per modality -----------------------------------------------


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


@pytest.fixture
def emulator(replicate_emulator: EmulatorServer) -> EmulatorServer:
    """The emulator, its models 1000 times faster than the real ones (a 2-minute video in 0.1 s)."""
    replicate_emulator.configure(time_scale=0.001)
    return replicate_emulator


@pytest.mark.anyio
async def test_generate_video(emulator: EmulatorServer) -> None:
    """minimax/video-01 from a VideoRequest: one MP4 file, the mapped input, seed dropped."""
    request = VideoRequest("a fox in the snow", enhance_prompt=True, seed=3)
    async with _client(emulator) as client:
        generation = await client.generate(VIDEO01, request)
        data = await generation.file.read()
        expected = client.catalog.build(VIDEO01, request)
    assert generation.prediction.status == "succeeded"
    assert len(generation.files) == 1
    assert isinstance(generation.file, FileOutput)
    assert data[4:8] == b"ftyp"  # an MP4 container
    assert generation.text is None
    assert generation.input == expected == {"prompt": "a fox in the snow", "prompt_optimizer": True}
    assert generation.prediction.input == expected  # what the server got
    assert generation.dropped == ("seed",)
    assert generation.model == VIDEO01


@pytest.mark.anyio
async def test_generate_images(emulator: EmulatorServer) -> None:
    """flux-schnell from an ImageRequest with num_outputs=2: two PNG files."""
    request = ImageRequest("a fox", num_outputs=2, negative_prompt="blur", guidance=3.0)
    async with _client(emulator) as client:
        generation = await client.generate(FLUX, request)
        images = [await f.read() for f in generation.files]
        expected = client.catalog.build(FLUX, request)
    assert generation.prediction.status == "succeeded"
    assert len(images) == 2
    assert all(image.startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert generation.files[0].url != generation.files[1].url
    assert generation.file is generation.files[0]
    assert generation.text is None
    assert generation.input == expected == {"prompt": "a fox", "num_outputs": 2}
    assert generation.prediction.input == expected
    assert generation.dropped == ("negative_prompt", "guidance")


@pytest.mark.anyio
async def test_generate_text(emulator: EmulatorServer) -> None:
    """Llama 3 8B from a ChatRequest: ``text`` is the joined reply, no files, stop dropped."""
    request = ChatRequest("Say hi", system_prompt="Be brief.", max_tokens=32, stop=["\n"])
    async with _client(emulator) as client:
        generation = await client.generate(LLAMA, request)
        expected = client.catalog.build(LLAMA, request)
    assert generation.prediction.status == "succeeded"
    assert generation.files == ()
    assert generation.file is None
    assert isinstance(generation.output, list)
    assert isinstance(generation.text, str)
    assert generation.text
    assert generation.text == "".join(generation.output)
    assert generation.input == expected
    assert generation.prediction.input == expected
    assert "<|start_header_id|>system<|end_header_id|>\n\nBe brief." in expected["prompt_template"]
    assert generation.dropped == ("stop",)


@pytest.mark.anyio
async def test_generate_music(emulator: EmulatorServer) -> None:
    """MusicGen (by version) from a MusicRequest: one WAV file, the mapped input, nothing dropped."""
    request = MusicRequest("calm piano", duration=3, output_format="wav", seed=9)
    async with _client(emulator) as client:
        generation = await client.generate(MUSICGEN, request)
        data = await generation.file.read()
        expected = client.catalog.build(MUSICGEN, request)
    assert generation.prediction.status == "succeeded"
    assert len(generation.files) == 1
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    assert generation.text is None
    assert generation.input == expected
    assert expected == {"prompt": "calm piano", "duration": 3, "output_format": "wav", "seed": 9}
    assert generation.prediction.input == expected
    assert generation.dropped == ()
    assert generation.model == MUSICGEN  # the version kept


@pytest.mark.anyio
async def test_generate_refusal_creates_nothing_on_the_emulator(emulator: EmulatorServer) -> None:
    """A refused request reaches no server: the emulator counts no request."""
    async with _client(emulator) as client:
        with pytest.raises(ValidationError):
            await client.generate(FLUX, ImageRequest("a fox", num_outputs=5))
    stats = emulator.stats()
    assert stats["creates"] == 0
    assert sum(sum(codes.values()) for codes in stats["requests"].values()) == 0


@pytest.mark.anyio
async def test_stream_a_chat_request(emulator: EmulatorServer) -> None:
    """stream(llama, ChatRequest) yields the reply's text; the server got the mapped input."""
    request = ChatRequest("Tell me a story", max_tokens=64)
    async with _client(emulator) as client:
        stream = client.stream(LLAMA, request)
        chunks = [chunk async for chunk in stream.text()]
        expected = client.catalog.build(LLAMA, request)
    assert chunks
    assert all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(chunks)
    assert stream.prediction.input == expected


@pytest.mark.anyio
async def test_run_with_a_request_over_loopback(emulator: EmulatorServer) -> None:
    """run(model, input=request) returns the output: flux-schnell's list of files."""
    async with _client(emulator) as client:
        output = await client.run(FLUX, input=ImageRequest("a fox", num_outputs=3))
    assert len(output) == 3
    assert all(isinstance(item, FileOutput) for item in output)


def test_sync_generate_returns_sync_files(replicate_emulator: EmulatorServer) -> None:
    """The blocking Client's generate returns SyncFileOutput files whose read() gives bytes."""
    replicate_emulator.configure(time_scale=0.001)
    request = ImageRequest("a fox", num_outputs=2)
    with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
        generation = client.generate(FLUX, request)
        images = [f.read() for f in generation.files]
        expected = client.catalog.build(FLUX, request)
    assert generation.prediction.status == "succeeded"
    assert len(generation.files) == 2
    assert all(isinstance(f, SyncFileOutput) for f in generation.files)
    assert all(image.startswith(b"\x89PNG") for image in images)
    assert generation.input == expected
    assert generation.dropped == ()


def test_sync_generate_text(replicate_emulator: EmulatorServer) -> None:
    """The blocking Client's generate gives a language model's text."""
    replicate_emulator.configure(time_scale=0.001)
    with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
        generation = client.generate(LLAMA, ChatRequest("hi"))
    assert isinstance(generation.text, str)
    assert generation.text
    assert generation.files == ()


def test_sync_stream_a_chat_request(replicate_emulator: EmulatorServer) -> None:
    """The blocking Client streams a ChatRequest's reply as text."""
    replicate_emulator.configure(time_scale=0.001)
    request = ChatRequest("Tell me a story", system_prompt="Be brief.")
    with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
        stream = client.stream(LLAMA, request)
        chunks = list(stream.text())
        expected = client.catalog.build(LLAMA, request)
    assert "".join(chunks)
    assert stream.prediction.input == expected
