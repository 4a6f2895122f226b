# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The whole API over loopback: every operation of Replicate's OpenAPI document, and the quirks.

`test_every_operation_answers_its_documented_success` walks the 37 operations of
tests/fixtures/replicate-openapi.json (an unchanged copy of the document Replicate serves, see
tests/fixtures/NOTICE.md): each is sent, with a valid request, to the `replicate_emulator`
fixture's server and must answer the spec's success status, so none falls through to the generic
404 or 405. The other tests pin the status codes and shapes that break naive assumptions
(reference section 12 item 16).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from replicate_async.emulator._util import NOT_FOUND

SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "replicate-openapi.json"
METHODS = ("get", "post", "put", "patch", "delete", "query")


def spec_operations():
    """`(operation id, METHOD, path template, success status)` of every operation in the spec."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            success = min(int(code) for code in operation["responses"] if code.startswith("2"))
            found.append((operation["operationId"], method.upper(), path, success))
    return found


OPERATIONS = spec_operations()


def version_of(server, ref):
    """The version id of a catalogue model."""
    return server.state.models[ref].version_id


@pytest.fixture
def world(http, replicate_emulator):
    """What the walk's requests name: a prediction, a training, a file, a private model."""
    server = replicate_emulator
    echo = version_of(server, "emulator/echo")
    versioned = version_of(server, "emulator/echo-versioned")
    prediction = http.post("/v1/predictions", json={"version": versioned, "input": {"prompt": "w"}})
    training = http.post(
        f"/v1/models/emulator/echo/versions/{echo}/trainings",
        json={"destination": "emulator/echo-versioned", "input": {}},
    )
    upload = http.post("/v1/files", files={"content": ("a.txt", b"hello", "text/plain")})
    file_id = upload.json()["id"]
    signed = httpx.get(f"{server.base_url}/_emulator/files/{file_id}/download-url").json()["url"]
    private = http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "walk", "visibility": "private", "hardware": "cpu"},
    )
    statuses = {r.status_code for r in (prediction, training, upload, private)}
    assert statuses == {201}, [r.text for r in (prediction, training, upload, private)]
    return {
        "echo": echo,
        "versioned": versioned,
        "params": {
            "model_owner": "emulator",
            "model_name": "echo",
            "version_id": echo,
            "deployment_owner": "emulator",
            "deployment_name": "echo-deployment",
            "collection_slug": "emulator",
            "prediction_id": prediction.json()["id"],
            "training_id": training.json()["id"],
            "file_id": file_id,
        },
        "signed_query": urlsplit(signed).query,
    }


def walk_request(operation_id, world):
    """Path parameters, query, and body keywords of a valid request for `operation_id`."""
    params = dict(world["params"])
    query = ""
    body = {}
    if operation_id == "models.delete":
        params["model_name"] = "walk"  # private, without versions
    elif operation_id == "models.versions.delete":
        params.update(model_name="echo-versioned", version_id=world["versioned"])  # not deployed
    elif operation_id == "files.download":
        query = world["signed_query"]
    elif operation_id == "search":
        query = "query=echo"
    bodies = {
        "deployments.create": {
            "name": "walked",
            "model": "emulator/echo",
            "version": world["echo"],
            "hardware": "cpu",
            "min_instances": 0,
            "max_instances": 1,
        },
        "deployments.update": {"max_instances": 2},
        "deployments.predictions.create": {"input": {"prompt": "x"}},
        "models.create": {
            "owner": "emulator",
            "name": "walked",
            "visibility": "public",
            "hardware": "cpu",
        },
        "models.update": {"description": "walked"},
        "models.predictions.create": {"input": {"prompt": "x"}},
        "predictions.create": {"version": world["versioned"], "input": {"prompt": "x"}},
        "trainings.create": {"destination": "emulator/echo-versioned", "input": {}},
    }
    if operation_id in bodies:
        body = {"json": bodies[operation_id]}
    elif operation_id == "files.create":
        body = {"files": {"content": ("b.txt", b"walk", "text/plain")}}
    elif operation_id == "models.search":
        body = {"content": "echo", "headers": {"Content-Type": "text/plain"}}
    return params, query, body


def test_the_copy_of_the_spec_has_37_operations():
    """The fixture is the whole document: 37 distinct operations."""
    assert len({op for op, _, _, _ in OPERATIONS}) == len(OPERATIONS) == 37


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_every_operation_answers_its_documented_success(http, world, operation):
    """A valid request of each spec operation gets the spec's (lowest) success status."""
    operation_id, method, template, success = operation
    params, query, body = walk_request(operation_id, world)
    url = "/v1" + template.format(**params) + (f"?{query}" if query else "")
    response = http.request(method, url, **body)
    assert response.status_code not in (404, 405) or response.json() != NOT_FOUND, response.text
    assert response.status_code == success, response.text


# -- the quirks (reference section 12, item 16) ----------------------------------------------


def test_deployment_create_answers_200(http, replicate_emulator):
    """POST /v1/deployments answers 200 (not 201) with a JSON deployment object."""
    response = http.post(
        "/v1/deployments",
        json={
            "name": "quirk",
            "model": "emulator/echo",
            "version": version_of(replicate_emulator, "emulator/echo"),
            "hardware": "gpu-t4",
            "min_instances": 0,
            "max_instances": 1,
        },
    )
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")


def test_version_delete_is_202_with_an_empty_body(http, replicate_emulator):
    """DELETE of a version answers 202 with no body at all."""
    version = version_of(replicate_emulator, "emulator/echo-versioned")
    response = http.delete(f"/v1/models/emulator/echo-versioned/versions/{version}")
    assert (response.status_code, response.content) == (202, b"")


def test_model_delete_is_204_with_an_empty_body(http):
    """DELETE of a private model without versions answers 204 with no body."""
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "gone", "visibility": "private", "hardware": "cpu"},
    )
    response = http.delete("/v1/models/emulator/gone")
    assert (response.status_code, response.content) == (204, b"")


def test_deployment_delete_is_204_with_an_empty_body(http):
    """DELETE of a deployment answers 204 with no body."""
    response = http.delete("/v1/deployments/emulator/echo-deployment")
    assert (response.status_code, response.content) == (204, b"")


def test_hardware_list_is_a_bare_array_over_loopback(http):
    """GET /v1/hardware answers a JSON array, not a page."""
    body = http.get("/v1/hardware").json()
    assert isinstance(body, list)
    assert {"name": "CPU", "sku": "cpu"} in body


def test_query_models_takes_a_text_body(http):
    """QUERY /v1/models with a text/plain body answers a page of matching models."""
    response = http.request(
        "QUERY", "/v1/models", content="streams", headers={"Content-Type": "text/plain"}
    )
    assert [m["name"] for m in response.json()["results"]] == ["tokens"]


def test_readme_is_text_plain_over_loopback(http):
    """The readme is Markdown served as text/plain."""
    response = http.get("/v1/models/emulator/echo/readme")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("# emulator/echo\n")


def test_search_without_query_is_the_real_400(replicate_emulator):
    """GET /v1/search needs no token; without `query` it is the recorded 400, plain JSON."""
    response = httpx.get(f"{replicate_emulator.base_url}/v1/search")
    assert (response.status_code, response.headers["content-type"], response.json()) == (
        400,
        "application/json",
        {"detail": 'Query parameter "query" is required'},
    )


@pytest.mark.parametrize("limit", ["0", "51", "ten"])
def test_search_limit_outside_1_to_50_is_400(replicate_emulator, limit):
    """`limit` must be an integer from 1 to 50."""
    response = httpx.get(
        f"{replicate_emulator.base_url}/v1/search", params={"query": "echo", "limit": limit}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/no/such",
        "/v1/models/no/such/versions",
        "/v1/models/no/such/examples",
        "/v1/models/no/such/readme",
        "/v1/deployments/no/such",
        "/v1/collections/no-such",
        "/v1/predictions/nosuchprediction",
        "/v1/trainings/nosuchtraining",
    ],
)
def test_unknown_resources_are_the_generic_404_problem(http, path):
    """Unknown resources answer the generic 404 as application/problem+json."""
    response = http.get(path)
    assert (response.status_code, response.headers["content-type"], response.json()) == (
        404,
        "application/problem+json",
        NOT_FOUND,
    )


def test_reset_forgets_created_models_and_deployments(http, replicate_emulator):
    """The emulator's reset drops what the API created and restores what it deleted."""
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "kept", "visibility": "private", "hardware": "cpu"},
    )
    http.delete("/v1/deployments/emulator/echo-deployment")
    replicate_emulator.reset()
    statuses = (
        http.get("/v1/models/emulator/kept").status_code,
        http.get("/v1/deployments/emulator/echo-deployment").status_code,
    )
    assert statuses == (404, 200)


def test_deployment_predictions_count_in_the_create_bucket(http, replicate_emulator):
    """A create through a deployment takes from the create bucket; managing deployments does not."""
    from replicate_async.emulator import RateLimit, RateLimits

    replicate_emulator.set_rate_limits(
        RateLimits(create=RateLimit(per_minute=1, burst=1), get_prediction=None, other=None)
    )
    path = "/v1/deployments/emulator/echo-deployment"
    first = http.post(f"{path}/predictions", json={"input": {"prompt": "a"}})
    second = http.post(f"{path}/predictions", json={"input": {"prompt": "b"}})
    update = http.patch(path, json={"max_instances": 2})
    assert (first.status_code, second.status_code, update.status_code) == (201, 429, 200)
