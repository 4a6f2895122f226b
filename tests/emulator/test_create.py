# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Creating predictions on the three routes, and their 404/422 answers."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.anyio

REQUIRED = {
    "id",
    "model",
    "version",
    "input",
    "output",
    "data_removed",
    "error",
    "status",
    "created_at",
    "urls",
}
INVALID_VERSION = {
    "title": "Invalid version or not permitted",
    "detail": "The specified version does not exist (or perhaps you don't have permission to use it?)",
    "status": 422,
}
NOT_FOUND = {"detail": "The requested resource could not be found.", "status": 404}


async def test_async_create_is_201_starting_with_required_keys(client):
    """A create without Prefer answers 201, `starting`, no output, empty logs, every required key."""
    response = await client.post("/v1/models/t/queued/predictions", json={"input": {"prompt": "x"}})
    body = response.json()
    assert response.status_code == 201
    assert set(body) >= REQUIRED
    assert (body["status"], body["output"], body["logs"]) == ("starting", None, "")


async def test_prediction_ids_are_26_char_base32(client):
    """Ids are 26 lowercase base32-style characters."""
    body = (
        await client.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    ).json()
    assert re.fullmatch(r"[0-9a-z]{26}", body["id"])


async def test_official_model_reports_hidden_version(client):
    """Official models report `version: "hidden"`."""
    body = (
        await client.post(
            "/v1/predictions", json={"version": "emulator/echo", "input": {"prompt": "x"}}
        )
    ).json()
    assert (body["model"], body["version"]) == ("emulator/echo", "hidden")


async def test_create_by_version_id(client, state):
    """A bare 64-hex version id runs that version and reports it."""
    version = state.models["meta/musicgen"].version_id
    response = await client.post("/v1/predictions", json={"version": version, "input": {}})
    assert response.status_code == 201
    assert response.json()["version"] == version


async def test_create_by_owner_name_colon_version(client, state):
    """`owner/name:version` runs that version."""
    version = state.models["emulator/echo-versioned"].version_id
    response = await client.post(
        "/v1/predictions",
        json={"version": f"emulator/echo-versioned:{version}", "input": {"prompt": "hi"}},
        headers={"Prefer": "wait"},
    )
    assert response.json()["output"] == "hi"


async def test_wrong_version_of_known_model_is_422(client):
    """`owner/name:` with another version id is an invalid version."""
    response = await client.post(
        "/v1/predictions", json={"version": "emulator/echo-versioned:" + "0" * 64, "input": {}}
    )
    assert (response.status_code, response.json()) == (422, INVALID_VERSION)


async def test_unknown_version_id_is_422_invalid_version(client):
    """An unknown 64-hex id gets the real invalid-version body."""
    response = await client.post("/v1/predictions", json={"version": "a" * 64, "input": {}})
    assert (response.status_code, response.json()) == (422, INVALID_VERSION)


async def test_non_official_owner_name_as_version_is_422(client):
    """`owner/name` alone only works for official models."""
    response = await client.post("/v1/predictions", json={"version": "meta/musicgen", "input": {}})
    assert response.json() == INVALID_VERSION


async def test_models_route_refuses_non_official_model_with_404(client):
    """`/v1/models/{o}/{n}/predictions` on a community model is the generic 404."""
    response = await client.post("/v1/models/meta/musicgen/predictions", json={"input": {}})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_models_route_unknown_model_is_404(client):
    """An unknown model on the models route is 404."""
    response = await client.post("/v1/models/no/such/predictions", json={"input": {}})
    assert response.status_code == 404


async def test_deployment_create_sets_deployment(client, state):
    """A deployment create runs its model and names the deployment."""
    response = await client.post(
        "/v1/deployments/emulator/echo-deployment/predictions",
        json={"input": {"prompt": "d"}},
        headers={"Prefer": "wait"},
    )
    body = response.json()
    assert (response.status_code, body["deployment"], body["output"]) == (
        201,
        "emulator/echo-deployment",
        "d",
    )
    assert body["version"] == state.models["emulator/echo"].version_id


async def test_unknown_deployment_is_404(client):
    """An unknown deployment is the generic 404."""
    response = await client.post("/v1/deployments/no/such/predictions", json={"input": {}})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_unknown_top_level_key_is_422(client):
    """Unknown body keys are `additional_property_not_allowed` with an empty field."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {}, "model": "x"}
    )
    assert response.json() == {
        "detail": "- Additional property model is not allowed\n",
        "status": 422,
        "title": "Input validation failed",
        "invalid_fields": [
            {
                "type": "additional_property_not_allowed",
                "field": "",
                "description": "Additional property model is not allowed",
            }
        ],
    }


async def test_missing_version_and_input_are_422(client):
    """Both missing fields are listed, newline-terminated."""
    response = await client.post("/v1/predictions", json={})
    assert response.json()["detail"] == "- version is required\n- input is required\n"


async def test_non_string_version_is_invalid_type(client):
    """`version` must be a string."""
    response = await client.post("/v1/predictions", json={"version": 3, "input": {}})
    assert response.json()["invalid_fields"][0]["type"] == "invalid_type"


async def test_non_object_input_is_invalid_type(client):
    """`input` must be an object."""
    response = await client.post("/v1/models/emulator/echo/predictions", json={"input": "x"})
    assert response.json()["detail"] == "- input: Invalid type. Expected: object, given: string\n"


async def test_bad_webhook_fields_are_422(client):
    """A non-string webhook and an unknown webhook event are both reported."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}, "webhook": 1, "webhook_events_filter": ["start", "nope"]},
    )
    fields = [f["field"] for f in response.json()["invalid_fields"]]
    assert fields == ["webhook", "webhook_events_filter.1"]


async def test_webhook_events_filter_must_be_a_list(client):
    """`webhook_events_filter` must be an array."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}, "webhook_events_filter": "start"},
    )
    assert response.json()["invalid_fields"][0]["type"] == "invalid_type"


async def test_body_that_is_not_an_object_is_400(client):
    """A body that is not a JSON object is a 400."""
    response = await client.post("/v1/models/emulator/echo/predictions", content=b"[1")
    assert response.status_code == 400


async def test_enum_violation_has_real_422_shape(client):
    """An enum error reads like the real one, with the allowed values quoted."""
    response = await client.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"prompt": "p", "output_format": "gif"}},
    )
    assert response.json()["detail"] == (
        '- input.output_format: output_format must be one of the following: "webp", "jpg", "png"\n'
    )


async def test_missing_required_input_names_the_field(client):
    """A missing required input is `required` on field `input`."""
    response = await client.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions", json={"input": {}}
    )
    assert response.json()["invalid_fields"] == [
        {"type": "required", "field": "input", "description": "prompt is required"}
    ]


async def test_range_violation_is_number_lte(client):
    """A value over `maximum` is `number_lte`."""
    response = await client.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"prompt": "p", "num_outputs": 9}},
    )
    assert response.json()["detail"] == "- input.num_outputs: Must be less than or equal to 4\n"


async def test_stream_url_only_for_streaming_models(client):
    """Token models get `urls.stream` on a separate path; others do not."""
    tokens = (
        await client.post("/v1/models/emulator/tokens/predictions", json={"input": {}})
    ).json()
    echo = (
        await client.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    ).json()
    assert tokens["urls"]["stream"] == f"http://emu/stream/v1/predictions/{tokens['id']}"
    assert "stream" not in echo["urls"]


async def test_urls_are_absolute_on_request_host(client):
    """`urls.get`, `cancel`, `web` are absolute, on the request's host."""
    body = (
        await client.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    ).json()
    pid = body["id"]
    assert body["urls"] == {
        "get": f"http://emu/v1/predictions/{pid}",
        "cancel": f"http://emu/v1/predictions/{pid}/cancel",
        "web": f"http://emu/p/{pid}",
    }


async def test_create_counts_input_canonically(client, state):
    """Accepted creates are counted per canonical JSON input."""
    for payload in ({"b": 1, "prompt": "x"}, {"prompt": "x", "b": 1}):
        await client.post("/v1/models/emulator/echo/predictions", json={"input": payload})
    assert state.stats.creates_by_input['{"b":1,"prompt":"x"}'] == 2


async def test_async_create_answers_starting_however_fast_the_model(client):
    """Without `Prefer`, a create answers `starting` with no output, even for a zero-latency model."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}
    )
    body = response.json()
    assert (response.status_code, body["status"], body["output"], body["logs"]) == (
        201,
        "starting",
        None,
        "",
    )
    assert "completed_at" not in body
