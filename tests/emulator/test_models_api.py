# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Model discovery: model objects, versions with their openapi_schema."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_model_object_carries_real_schema(client):
    """flux-schnell's latest_version serves its verbatim Input schema (allOf enum refs kept)."""
    body = (await client.get("/v1/models/black-forest-labs/flux-schnell")).json()
    schemas = body["latest_version"]["openapi_schema"]["components"]["schemas"]
    assert (body["owner"], body["name"], body["is_official"]) == (
        "black-forest-labs",
        "flux-schnell",
        True,
    )
    assert schemas["Input"]["properties"]["output_format"]["allOf"] == [
        {"$ref": "#/components/schemas/output_format"}
    ]
    assert schemas["output_format"]["enum"] == ["webp", "jpg", "png"]
    assert schemas["Output"]["type"] == "array"


async def test_token_model_output_is_iterator(client):
    """The LLM's Output schema is a string array with `x-cog-array-type: iterator`."""
    body = (await client.get("/v1/models/meta/meta-llama-3-8b-instruct")).json()
    output = body["latest_version"]["openapi_schema"]["components"]["schemas"]["Output"]
    assert output["x-cog-array-type"] == "iterator"


async def test_versions_list_and_get(client, state):
    """The version list holds the one version, which GET returns."""
    version = state.models["meta/musicgen"].version_id
    listed = (await client.get("/v1/models/meta/musicgen/versions")).json()
    single = (await client.get(f"/v1/models/meta/musicgen/versions/{version}")).json()
    assert [v["id"] for v in listed["results"]] == [version]
    assert (
        single["id"]
        == version
        == "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
    )


async def test_unknown_model_and_version_are_404(client):
    """Unknown models and versions are 404."""
    assert (await client.get("/v1/models/no/such")).status_code == 404
    assert (await client.get("/v1/models/no/such/versions")).status_code == 404
    assert (await client.get("/v1/models/meta/musicgen/versions/" + "0" * 64)).status_code == 404


async def test_default_output_schemas_by_kind(state):
    """Helper models derive Output schemas from their kind."""
    kinds = {
        ref: state.models[ref].output_json_schema()["type"]
        for ref in ("emulator/echo", "emulator/image", "t/audio")
    }
    assert kinds == {"emulator/echo": "string", "emulator/image": "array", "t/audio": "string"}


# -- over loopback: versions, examples, default_example ----------------------------------------


def test_version_get_over_loopback(http, replicate_emulator):
    """GET of a version answers id, created_at, cog_version and the openapi_schema."""
    version = replicate_emulator.state.models["emulator/echo-versioned"].version_id
    response = http.get(f"/v1/models/emulator/echo-versioned/versions/{version}")
    body = response.json()
    assert (response.status_code, set(body), body["id"]) == (
        200,
        {"id", "created_at", "cog_version", "openapi_schema"},
        version,
    )
    assert body["openapi_schema"]["components"]["schemas"]["Input"]["required"] == ["prompt"]


def test_version_get_of_an_unknown_version_over_loopback_is_404(http):
    """GET of a version the model does not have is a 404 problem."""
    response = http.get("/v1/models/emulator/echo-versioned/versions/" + "f" * 64)
    assert (response.status_code, response.headers["content-type"]) == (
        404,
        "application/problem+json",
    )


def test_examples_are_a_page_of_predictions(http):
    """GET .../examples answers a page of succeeded predictions of the model."""
    page = http.get("/v1/models/emulator/echo/examples").json()
    (example,) = page["results"]
    assert (page["next"], page["previous"]) == (None, None)
    assert (example["model"], example["status"], example["output"]) == (
        "emulator/echo",
        "succeeded",
        "An example prompt",
    )


def test_example_has_the_prediction_keys(http):
    """An example carries what a finished prediction carries (timestamps, metrics, urls)."""
    (example,) = http.get("/v1/models/emulator/image/examples").json()["results"]
    assert {
        "id",
        "input",
        "output",
        "logs",
        "metrics",
        "started_at",
        "completed_at",
        "urls",
    } <= set(example)


def test_example_output_files_are_served(http, replicate_emulator):
    """An example's output files are served by the delivery route without a token."""
    (example,) = http.get("/v1/models/emulator/image/examples").json()["results"]
    response = httpx.get(example["output"][0])
    assert (response.status_code, response.headers["content-type"]) == (200, "image/png")


def test_default_example_is_the_first_example(http):
    """The model object's default_example is its (first) example."""
    model = http.get("/v1/models/emulator/echo").json()
    (example,) = http.get("/v1/models/emulator/echo/examples").json()["results"]
    assert model["default_example"] == example


def test_a_model_that_always_fails_has_no_examples(http):
    """emulator/fail has no successful example: no examples, no default_example."""
    examples = http.get("/v1/models/emulator/fail/examples").json()["results"]
    model = http.get("/v1/models/emulator/fail").json()
    assert (examples, model["default_example"]) == ([], None)


def test_examples_are_not_the_accounts_predictions(http):
    """Examples are not listed by GET /v1/predictions, nor fetched by id."""
    (example,) = http.get("/v1/models/emulator/echo/examples").json()["results"]
    listed = http.get("/v1/predictions").json()["results"]
    assert (listed, http.get(f"/v1/predictions/{example['id']}").status_code) == ([], 404)


def test_examples_of_a_created_model_are_empty(http):
    """A model created through the API has no examples."""
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "new", "visibility": "private", "hardware": "cpu"},
    )
    assert http.get("/v1/models/emulator/new/examples").json()["results"] == []


def test_readme_of_a_created_model_is_404_until_set(http):
    """A created model has no readme until an update gives it one."""
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "new", "visibility": "private", "hardware": "cpu"},
    )
    before = http.get("/v1/models/emulator/new/readme").status_code
    http.patch("/v1/models/emulator/new", json={"readme": "# New\n"})
    assert (before, http.get("/v1/models/emulator/new/readme").text) == (404, "# New\n")
