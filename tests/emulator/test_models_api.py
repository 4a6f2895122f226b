# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Model discovery: model objects, versions with their openapi_schema."""

from __future__ import annotations

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
