"""The API's other objects decode from real payloads: models, versions, hardware, collections,
trainings and files from the recorded cassettes, deployments from the OpenAPI document.

What is a recording and what is not:

- Recorded (tests/fixtures/cassettes, real replies of api.replicate.com, 2023-08 to 2024-10):
  every `GET /v1/models/{owner}/{name}`, `POST /v1/models` and `QUERY /v1/models` (search; its body
  is stored gzip-compressed) reply, every `GET .../versions/{id}` reply and each model's
  `latest_version`, `GET /v1/hardware`, `GET /v1/collections`, the training create/get/cancel
  replies and the file upload/get/list replies.
- Not recorded: no cassette holds a deployment. The deployment payloads below are the JSON
  examples printed in the OpenAPI document's own descriptions of `deployments.get`, `.list`,
  `.create` and `.update` (tests/fixtures/replicate-openapi.json, Replicate's published spec): they
  are documentation, shaped like `schemas_deployment_response`, not server replies.

Each payload must decode with the recorded values, keep every key the library does not model in
`extra` (at every level), and survive `unstructure` with all its JSON keys, decoding back equal.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from _cassettes import Interaction, all_interactions
from replicate_async._api_objects import (
    Collection,
    DeploymentInfo,
    Hardware,
    Model,
    ModelVersion,
    Training,
)
from replicate_async._converters import structure, unstructure
from replicate_async._models import Deployment, File, Page, PredictionStatus

OPENAPI = Path(__file__).parent / "fixtures" / "replicate-openapi.json"

_INTERACTIONS = all_interactions()
_BY_ID = {i.id: i for i in _INTERACTIONS}

_MODEL_PATH = re.compile(r"https://api\.replicate\.com/v1/models(/[^/]+/[^/]+)?")
_VERSION_PATH = re.compile(
    r"https://api\.replicate\.com/v1/models/[^/]+/[^/]+/versions/(?P<id>[0-9a-f]{64})"
)
_TRAINING_PATH = re.compile(
    r"https://api\.replicate\.com/v1/(trainings/.+|models/[^/]+/[^/]+/versions/[0-9a-f]{64}/trainings)"
)
_FILES_PATH = re.compile(r"https://api\.replicate\.com/v1/files(/[^/]+)?")


def _recorded(pattern: re.Pattern[str], *methods: str) -> list[Interaction]:
    """The successful recorded exchanges whose URL matches pattern."""
    return [
        i
        for i in _INTERACTIONS
        if i.status < 400 and i.method in methods and pattern.fullmatch(i.uri)
    ]


def _payload(interaction_id: str) -> Any:
    return _BY_ID[interaction_id].payload


def assert_extra_holds_unknown_keys(obj: Any, payload: Any) -> None:
    """Recursively: each object's `extra` is exactly the payload's keys it has no field for."""
    if isinstance(obj, tuple | list):
        assert len(obj) == len(payload)
        for item, raw in zip(obj, payload, strict=True):
            assert_extra_holds_unknown_keys(item, raw)
        return
    if not (attrs.has(type(obj)) and isinstance(payload, dict)):
        return
    names = {a.name for a in attrs.fields(type(obj))} - {"extra"}
    assert dict(obj.extra) == {k: v for k, v in payload.items() if k not in names}
    for name in names & set(payload):
        assert_extra_holds_unknown_keys(getattr(obj, name), payload[name])


def assert_keys_kept(original: Any, data: Any, where: str = "$") -> None:
    """Recursively: every JSON key of original is in data (values may gain defaults)."""
    if isinstance(original, dict):
        assert isinstance(data, dict), where
        missing = set(original) - set(data)
        assert not missing, f"{where}: {sorted(missing)}"
        for key, value in original.items():
            assert_keys_kept(value, data[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(data, list | tuple), where
        assert len(data) == len(original), where
        for n, (a, b) in enumerate(zip(original, data, strict=True)):
            assert_keys_kept(a, b, f"{where}[{n}]")


def decode_checked(payload: Any, cls: Any) -> Any:
    """Structure payload into cls, check `extra` and the round trip, return the object."""
    obj = structure(payload, cls)
    assert_extra_holds_unknown_keys(obj, payload)
    data = unstructure(obj)
    assert_keys_kept(payload, data)
    assert structure(json.loads(json.dumps(data)), cls) == obj
    return obj


# -- models and versions ---------------------------------------------------------------------

MODEL_REPLIES = _recorded(_MODEL_PATH, "GET", "POST")
SEARCH_REPLIES = _recorded(_MODEL_PATH, "QUERY")
VERSION_REPLIES = _recorded(_VERSION_PATH, "GET")


def test_model_corpus():
    """The corpus has the model, search and version replies this file is about."""
    assert {i.cassette for i in MODEL_REPLIES} >= {"models-get.yaml", "models-create.yaml"}
    assert len(MODEL_REPLIES) == 16
    assert [i.id for i in SEARCH_REPLIES] == ["models-search.yaml#0"]
    assert len(VERSION_REPLIES) == 18


@pytest.mark.parametrize("interaction", MODEL_REPLIES, ids=lambda i: i.id)
def test_recorded_model_decodes(interaction):
    """Each recorded model reply decodes with its owner and name, extras kept, round-tripping."""
    model = decode_checked(interaction.payload, Model)
    assert model.ref == f"{interaction.payload['owner']}/{interaction.payload['name']}"
    if interaction.method == "GET":
        assert interaction.uri.endswith(f"/v1/models/{model.ref}")


def test_models_get_sdxl_values():
    """models-get.yaml#0 gives stability-ai/sdxl with its recorded fields."""
    model = decode_checked(_payload("models-get.yaml#0"), Model)
    assert (model.owner, model.name, model.visibility) == ("stability-ai", "sdxl", "public")
    assert model.url == "https://replicate.com/stability-ai/sdxl"
    assert model.github_url == "https://github.com/replicate/cog-sdxl"
    assert model.paper_url == "https://arxiv.org/abs/2307.01952"
    assert model.run_count == 19361490
    assert model.is_official is None  # the 2023 reply has no is_official key


def test_models_get_default_example_is_a_prediction():
    """The sdxl default_example decodes as a succeeded Prediction; webhook_completed goes to extra."""
    example = decode_checked(_payload("models-get.yaml#0"), Model).default_example
    assert example.id == "dzsqmb3bg4lqpjkz2iptjqgccm"
    assert example.status is PredictionStatus.SUCCEEDED
    assert example.input["prompt"] == "An astronaut riding a rainbow unicorn, cinematic, dramatic"
    assert example.metrics.predict_time == 4.981337
    assert example.created_at == datetime(2023, 10, 12, 17, 10, 7, 956869, tzinfo=UTC)
    assert example.completed_at == datetime(2023, 10, 12, 17, 10, 12, 909279, tzinfo=UTC)
    assert example.urls.get == "https://api.replicate.com/v1/predictions/dzsqmb3bg4lqpjkz2iptjqgccm"
    assert example.extra == {"webhook_completed": None}


def test_models_get_latest_version_values():
    """The sdxl latest_version decodes with its id, datetime fraction, Cog version and schema."""
    version = decode_checked(_payload("models-get.yaml#0"), Model).latest_version
    assert version.id == "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
    assert version.created_at == datetime(2023, 11, 6, 23, 13, 7, 906314, tzinfo=UTC)
    assert version.cog_version == "0.8.6"
    assert version.input_schema["type"] == "object"
    assert version.input_schema["properties"]["prompt"]["type"] == "string"


def test_models_get_empty_model_has_no_version():
    """models-get.yaml#1 (mattt/empty, never pushed) decodes with nulls as None."""
    model = decode_checked(_payload("models-get.yaml#1"), Model)
    assert model.ref == "mattt/empty"
    assert (model.description, model.latest_version, model.default_example) == (None, None, None)
    assert model.run_count == 0


def test_models_create_reply_values():
    """models-create.yaml#0 (201) gives the new private model the request asked for."""
    interaction = _BY_ID["models-create.yaml#0"]
    assert interaction.status == 201
    model = decode_checked(interaction.payload, Model)
    assert model.ref == "test/python-example"
    assert model.visibility == "private"
    assert model.description == "An example model"
    assert model.run_count == 0
    assert model.latest_version is None


def test_models_search_reply_decodes():
    """The QUERY /v1/models reply (gzip on the wire) is a page of 25 models, created_at in extra."""
    interaction = SEARCH_REPLIES[0]
    assert interaction.request_body == "llama"
    assert interaction.response_bytes.startswith(b"\x1f\x8b")
    page = decode_checked(interaction.payload, Page[Model])
    assert len(page.results) == 25
    assert (page.next, page.previous) == (None, None)
    first = page.results[0]
    assert first.ref == "meta/meta-llama-3-8b"
    assert first.run_count == 49122441
    assert first.latest_version.id == (
        "9a9e68fc8695f5847ce944a5cecf9967fd7c64d0fb8c8af1d5bdcc71f03c5e47"
    )
    assert first.extra == {"created_at": "2024-04-17T18:04:26.049832Z"}


@pytest.mark.parametrize("interaction", VERSION_REPLIES, ids=lambda i: i.id)
def test_recorded_version_decodes(interaction):
    """Each recorded GET .../versions/{id} reply decodes with the URL's id and an input schema."""
    version = decode_checked(interaction.payload, ModelVersion)
    assert version.id == _VERSION_PATH.fullmatch(interaction.uri)["id"]
    assert version.created_at.tzinfo is UTC
    assert version.input_schema["type"] == "object"


def test_every_recorded_latest_version_decodes():
    """Each model reply's latest_version (search results' too) decodes with a 64-hex id."""
    payloads = [i.payload for i in MODEL_REPLIES]
    payloads += SEARCH_REPLIES[0].payload["results"]
    versions = [p["latest_version"] for p in payloads if p["latest_version"] is not None]
    assert len(versions) == 39
    for raw in versions:
        version = decode_checked(raw, ModelVersion)
        assert re.fullmatch(r"[0-9a-f]{64}", version.id)
        assert version.openapi_schema == raw["openapi_schema"]


# -- hardware and collections ----------------------------------------------------------------


def test_hardware_list_is_a_bare_array():
    """hardware-list.yaml#0, a JSON array, decodes as list[Hardware] with the recorded SKUs."""
    payload = _payload("hardware-list.yaml#0")
    hardware = structure(payload, list[Hardware])
    assert [(h.sku, h.name) for h in hardware] == [
        ("cpu", "CPU"),
        ("gpu-t4", "Nvidia T4 GPU"),
        ("gpu-a40-small", "Nvidia A40 GPU"),
        ("gpu-a40-large", "Nvidia A40 (Large) GPU"),
    ]
    assert unstructure(hardware) == payload


def test_hardware_keeps_unknown_keys():
    """A hardware entry with a key the library does not know keeps it in extra."""
    raw = {**_payload("hardware-list.yaml#0")[1], "gpu_count": 1}
    hardware = decode_checked(raw, Hardware)
    assert hardware.extra == {"gpu_count": 1}
    assert unstructure(hardware) == raw


def test_collections_list_values():
    """collections-list.yaml#0 is one page of 19 collections, slugs and names as recorded."""
    page = decode_checked(_payload("collections-list.yaml#0"), Page[Collection])
    assert (page.next, page.previous) == (None, None)
    assert len(page.results) == 19
    first, last = page.results[0], page.results[-1]
    assert (first.slug, first.name) == ("vision-models", "Vision models")
    assert (last.slug, last.name) == ("text-to-image", "Text to image")
    assert last.description == "Models that generate images from text prompts"
    assert all(c.models == () and c.full_description is None for c in page.results)


# -- trainings -------------------------------------------------------------------------------

TRAINING_REPLIES = _recorded(_TRAINING_PATH, "GET", "POST")


def test_training_corpus():
    """The four successful recorded training replies are all here."""
    assert [i.id for i in TRAINING_REPLIES] == [
        "trainings-cancel.yaml#0",
        "trainings-cancel.yaml#1",
        "trainings-create.yaml#0",
        "trainings-get.yaml#0",
    ]


@pytest.mark.parametrize("interaction", TRAINING_REPLIES, ids=lambda i: i.id)
def test_recorded_training_decodes(interaction):
    """Each recorded training reply decodes as a Training of stability-ai/sdxl, extras kept."""
    training = decode_checked(interaction.payload, Training)
    assert training.id == interaction.payload["id"]
    assert training.status.value == interaction.payload["status"]
    assert training.model == "stability-ai/sdxl"
    assert training.input == {
        "input_images": "https://replicate.delivery/pbxt/JMV5OrEWpBAC5gO8rre0tPOyJIOkaXvG0TWfVJ9b4zhLeEUY/data.zip",
        "use_face_detection_instead": True,
    }
    # The 2023 replies never carried `destination` (the request did).
    assert training.destination is None
    assert training.result is None


def test_training_create_values():
    """trainings-create.yaml#0 (201): starting, urls under /v1/predictions, 9-digit fraction."""
    training = decode_checked(_payload("trainings-create.yaml#0"), Training)
    assert training.id == "wj4is6lbdqqkdepnwpr6v2kuva"
    assert training.status is PredictionStatus.STARTING
    assert training.version == "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
    assert training.logs == ""
    # "2023-08-16T19:33:26.678378653Z": nanoseconds truncated to microseconds.
    assert training.created_at == datetime(2023, 8, 16, 19, 33, 26, 678378, tzinfo=UTC)
    assert (
        training.urls.get == "https://api.replicate.com/v1/predictions/wj4is6lbdqqkdepnwpr6v2kuva"
    )
    assert training.urls.cancel == f"{training.urls.get}/cancel"
    assert training.metrics is None


def test_training_get_values():
    """trainings-get.yaml#0: processing, empty metrics, webhook_completed kept in extra."""
    training = decode_checked(_payload("trainings-get.yaml#0"), Training)
    assert training.id == "medrnz3bm5dd6ultvad2tejrte"
    assert training.status is PredictionStatus.PROCESSING
    assert not training.status.is_terminal
    assert training.started_at == datetime(2023, 8, 16, 19, 33, 42, 114513, tzinfo=UTC)
    assert training.completed_at is None
    assert training.urls.get == "https://api.replicate.com/v1/trainings/medrnz3bm5dd6ultvad2tejrte"
    assert (training.metrics.predict_time, training.metrics.total_time) == (None, None)
    assert training.extra == {"webhook_completed": None}


def test_training_cancel_values():
    """trainings-cancel.yaml: created (8-digit fraction) then canceled with its metrics."""
    created = decode_checked(_payload("trainings-cancel.yaml#0"), Training)
    assert created.created_at == datetime(2023, 8, 16, 19, 33, 27, 75263, tzinfo=UTC)
    canceled = decode_checked(_payload("trainings-cancel.yaml#1"), Training)
    assert canceled.id == created.id == "xxi2kydbnla3ocjp64sclkewku"
    assert canceled.status is PredictionStatus.CANCELED
    assert canceled.status.is_terminal
    assert canceled.completed_at == datetime(2023, 8, 16, 19, 33, 27, 215203, tzinfo=UTC)
    assert canceled.metrics.predict_time == 3e-06
    assert canceled.extra == {"webhook_completed": None}


# -- files -----------------------------------------------------------------------------------

FILE_REPLIES = _recorded(_FILES_PATH, "GET", "POST")
_FILE_ID = "NGZiNmY2YzQtMThhZi00ZjcyLWFhZjktODg4NTY0NWNlMDEy"


def test_file_corpus():
    """file-operations.yaml has an upload, a get and two list pages with a body (gzip ones too)."""
    assert [i.id for i in FILE_REPLIES] == [
        "file-operations.yaml#0",
        "file-operations.yaml#1",
        "file-operations.yaml#2",
        "file-operations.yaml#4",
    ]


@pytest.mark.parametrize("interaction_id", ["file-operations.yaml#0", "file-operations.yaml#1"])
def test_recorded_file_decodes(interaction_id):
    """The upload (201) and get replies decode as the same File with the recorded fields."""
    file = decode_checked(_payload(interaction_id), File)
    assert file.id == _FILE_ID
    assert (file.name, file.content_type, file.size) == ("test_fileo20o3wth.txt", "text/plain", 0)
    assert file.etag == "d41d8cd98f00b204e9800998ecf8427e"  # the MD5 of nothing
    assert file.checksums == {
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "md5": "d41d8cd98f00b204e9800998ecf8427e",
    }
    assert file.metadata == {}
    # "2024-08-22T12:26:51.079Z": a 3-digit fraction.
    assert file.created_at == datetime(2024, 8, 22, 12, 26, 51, 79000, tzinfo=UTC)
    assert file.expires_at - file.created_at == timedelta(hours=24)
    assert file.urls.get == f"https://api.replicate.com/v1/files/{_FILE_ID}"


@pytest.mark.parametrize(
    ("interaction_id", "count"),
    [("file-operations.yaml#2", 38), ("file-operations.yaml#4", 37)],
)
def test_recorded_file_pages_decode(interaction_id, count):
    """Each recorded files page decodes as Page[File]; the later one lacks the deleted file."""
    page = decode_checked(_payload(interaction_id), Page[File])
    assert len(page.results) == count
    assert page.next is None
    assert all(f.urls.get.endswith(f.id) for f in page.results)
    ids = {f.id for f in page.results}
    assert (_FILE_ID in ids) == (interaction_id == "file-operations.yaml#2")


# -- deployments: the OpenAPI document's examples, not recordings ----------------------------

_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def _documented_example(operation_id: str) -> Any:
    """The JSON example in the description of operation_id in Replicate's OpenAPI document."""
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                (block,) = _JSON_BLOCK.findall(operation["description"])
                return json.loads(block)
    raise LookupError(operation_id)


@pytest.mark.parametrize("operation_id", ["deployments.get", "deployments.create"])
def test_documented_deployment_decodes(operation_id):
    """The spec's deployment example (documentation, not a recording) decodes with every field."""
    info = decode_checked(_documented_example(operation_id), DeploymentInfo)
    assert (info.owner, info.name) == ("acme", "my-app-image-generator")
    assert info.ref == Deployment("acme/my-app-image-generator")
    release = info.current_release
    assert (release.number, release.model) == (1, "stability-ai/sdxl")
    assert release.version == "da77bc59ee60423279fd632efb4795ab731d9e3ca9705ef3341091fb989b7eaf"
    assert release.created_at == datetime(2024, 2, 15, 16, 32, 57, 18467, tzinfo=UTC)
    assert (release.created_by.type, release.created_by.username) == ("organization", "acme")
    assert release.created_by.name == "Acme Corp, Inc."
    assert release.created_by.github_url == "https://github.com/acme"
    config = release.configuration
    assert (config.hardware, config.min_instances, config.max_instances) == ("gpu-t4", 1, 5)


def test_documented_deployment_update_bumps_the_release():
    """The spec's update example (not a recording) decodes as release 2 with the new bounds."""
    info = decode_checked(_documented_example("deployments.update"), DeploymentInfo)
    assert info.current_release.number == 2
    config = info.current_release.configuration
    assert (config.min_instances, config.max_instances) == (3, 10)


def test_documented_deployments_page_decodes():
    """The spec's deployments.list example (not a recording) is a page with a next cursor."""
    page = decode_checked(_documented_example("deployments.list"), Page[DeploymentInfo])
    assert [d.ref for d in page.results] == [Deployment("replicate/my-app-image-generator")]
    assert page.next_cursor == "cD0yMDIzLTA2LTA2KzIzJTNBNDAlM0EwOC45NjMwMDAlMkIwMCUzQTAw"


def test_deployment_keeps_unknown_keys_at_every_level():
    """New keys on the deployment, its release and its configuration land in their extra."""
    raw = _documented_example("deployments.get")
    raw["region"] = "us"
    raw["current_release"]["status"] = "ready"
    raw["current_release"]["configuration"]["scale_to_zero_delay"] = 60
    info = decode_checked(raw, DeploymentInfo)
    assert info.extra == {"region": "us"}
    assert info.current_release.extra == {"status": "ready"}
    assert info.current_release.configuration.extra == {"scale_to_zero_delay": 60}
