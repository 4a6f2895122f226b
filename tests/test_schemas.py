# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`replicate_async._schemas`: the shipped model schemas, their resolution and the offline check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicate_async import _schemas
from replicate_async.exceptions import InvalidField, ValidationError

SHIPPED = Path(_schemas.__file__).parent

#: The 19 models of the typed catalogue, as `owner__name` stems.
CATALOGUE = (
    "black-forest-labs__flux-1.1-pro",
    "black-forest-labs__flux-schnell",
    "douwantech__musetalk",
    "google__veo-3",
    "ideogram-ai__ideogram-v3-turbo",
    "kwaivgi__kling-lip-sync",
    "kwaivgi__kling-v1.6-standard",
    "kwaivgi__kling-v2.1",
    "luma__ray",
    "meta__meta-llama-3-70b-instruct",
    "meta__meta-llama-3-8b-instruct",
    "meta__meta-llama-3.1-405b-instruct",
    "meta__musicgen",
    "minimax__hailuo-02",
    "minimax__video-01",
    "stability-ai__stable-diffusion-3.5-large",
    "wan-video__wan-2.1-1.3b",
    "wan-video__wan-2.2-i2v-fast",
    "wavespeedai__wan-2.1-i2v-480p",
)


def test_names_lists_the_19_records_sorted():
    """names() lists every shipped record, sorted: the catalogue's 19 models."""
    assert _schemas.names() == CATALOGUE


def test_load_by_both_name_forms_is_one_object():
    """load() takes `owner/name` and `owner__name` and answers the same object."""
    record = _schemas.load("kwaivgi/kling-v2.1")
    assert record is _schemas.load("kwaivgi__kling-v2.1")
    assert record["model"] == "kwaivgi/kling-v2.1"


@pytest.mark.parametrize("stem", CATALOGUE)
def test_load_answers_the_file_unchanged(stem):
    """Each record is its JSON file as shipped, naming its own model."""
    record = _schemas.load(stem)
    assert record == json.loads((SHIPPED / f"{stem}.json").read_text(encoding="utf-8"))
    assert record["model"].replace("/", "__") == stem


def test_load_of_an_unknown_model_is_a_key_error():
    """A model with no shipped record raises KeyError naming it."""
    with pytest.raises(KeyError, match="no/such"):
        _schemas.load("no/such")


def test_resolve_inlines_an_all_of_ref_enum():
    """An `allOf: [{$ref}]` property becomes the referenced enum, keeping its own default."""
    record = _schemas.load("luma/ray")
    resolved = _schemas.resolve(record["input"], record["components"])
    prop = resolved["properties"]["aspect_ratio"]
    assert "allOf" not in prop
    assert prop["enum"] == record["components"]["aspect_ratio"]["enum"]
    assert (prop["type"], prop["default"]) == ("string", "16:9")
    assert prop["description"] == record["input"]["properties"]["aspect_ratio"]["description"]


def test_resolve_makes_nullable_a_union_and_leaves_its_input_alone():
    """`nullable: true` becomes a type union with null; the given schema is not changed."""
    node = {"type": "object", "properties": {"seed": {"type": "integer", "nullable": True}}}
    resolved = _schemas.resolve(node, {})
    assert resolved["properties"]["seed"] == {"type": ["integer", "null"]}
    assert node["properties"]["seed"] == {"type": "integer", "nullable": True}


def test_input_errors_accepts_a_valid_input():
    """A valid input has no errors, by record or by name."""
    value = {"prompt": "a fox", "aspect_ratio": "16:9"}
    assert _schemas.input_errors("black-forest-labs/flux-1.1-pro", value) == []
    assert _schemas.input_errors(_schemas.load("black-forest-labs/flux-1.1-pro"), value) == []


def test_input_errors_reports_an_enum_violation_at_its_input_path():
    """A value outside a (referenced) enum is an `enum` error at `input.<field>`."""
    problems = _schemas.input_errors("luma/ray", {"prompt": "x", "aspect_ratio": "2:1"})
    assert [(p.type, p.field) for p in problems] == [("enum", "input.aspect_ratio")]
    assert problems[0].description.startswith('"2:1" is not one of "1:1", ')


def test_input_errors_reports_an_unknown_key():
    """A key the schema does not name is an error at `input.<key>`, listing what the model takes."""
    problems = _schemas.input_errors("kwaivgi__kling-v2.1", {"prompt": "x", "aspect_ratio": "1:1"})
    unknown = [p for p in problems if p.type == "additional_property_not_allowed"]
    assert [p.field for p in unknown] == ["input.aspect_ratio"]
    assert "start_image" in unknown[0].description


def test_check_input_raises_validation_error_with_invalid_fields():
    """check_input raises ValidationError (no status: no request) naming model and fields."""
    with pytest.raises(ValidationError) as caught:
        _schemas.check_input("google__veo-3", "google/veo-3", {"prompt": "x", "duration": 5})
    error = caught.value
    assert error.status_code is None
    assert error.invalid_fields == (
        InvalidField(type="enum", field="input.duration", description="5 is not one of 4, 6, 8"),
    )
    assert "google/veo-3" in str(error)
    assert "input.duration" in str(error)


def test_check_input_passes_a_valid_input():
    """check_input returns None for an input the schema accepts."""
    assert _schemas.check_input("meta/musicgen", "meta/musicgen", {"prompt": "jazz"}) is None
