# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Response models back to the API's JSON (`to_dict`, `to_json`), and reprs that stay short."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from _cassettes import CASSETTES, load
from replicate_async import (
    Account,
    Collection,
    DeploymentInfo,
    File,
    Hardware,
    Model,
    ModelVersion,
    Page,
    Prediction,
    PredictionStatus,
    SearchResults,
    Training,
    _api_objects,
    _models,
)
from replicate_async._converters import structure, unstructure
from replicate_async._models import REPR_CUT, APIObject, short_repr


def _recorded(name: str, index: int) -> Any:
    return load(CASSETTES / name)[index].payload


#: Real replies (replicate-python's cassettes) and, for objects no cassette holds, payloads shaped
#: like the API's OpenAPI examples, each with a key this version does not know.
PAYLOADS: list[tuple[str, Any, Any]] = [
    ("prediction", Prediction, _recorded("run.yaml", 12)),
    ("model", Model, _recorded("models-get.yaml", 0)),
    ("version", ModelVersion, _recorded("models-get.yaml", 0)["latest_version"]),
    ("training", Training, _recorded("trainings-get.yaml", 0)),
    ("file", File, _recorded("file-operations.yaml", 0)),
    ("files page", Page[File], _recorded("file-operations.yaml", 2)),
    ("search page", Page[Model], _recorded("models-search.yaml", 0)),
    ("collections page", Page[Collection], _recorded("collections-list.yaml", 0)),
    ("hardware", Hardware, _recorded("hardware-list.yaml", 0)[0]),
    (
        "deployment",
        DeploymentInfo,
        {
            "owner": "acme",
            "name": "my-app-image-generator",
            "current_release": {
                "number": 1,
                "model": "stability-ai/sdxl",
                "version": "da77bc59ee60423279fd632efb4795ab731d9e3ca9705ef3341091fb989b7eaf",
                "created_at": "2024-02-15T16:32:57.018467Z",
                "created_by": {"type": "organization", "username": "acme", "name": "Acme Corp"},
                "configuration": {"hardware": "gpu-t4", "min_instances": 1, "max_instances": 5},
            },
            "scaling_note": "new key",
        },
    ),
    ("account", Account, {"type": "user", "username": "mattt", "name": "Mattt", "plan": "pro"}),
    (
        "search results",
        SearchResults,
        {
            "query": "upscale",
            "models": [
                {
                    "model": {"owner": "nightmareai", "name": "real-esrgan", "run_count": 5},
                    "metadata": {"tags": ["upscale"], "score": 0.9, "rank": 1},
                }
            ],
            "collections": [{"slug": "super-resolution", "name": "Super resolution"}],
            "pages": [{"name": "Upscaling", "href": "https://replicate.com/docs/upscale"}],
        },
    ),
]


def _keys_kept(original: Any, data: Any, where: str = "$") -> None:
    """Every JSON key of *original* is in *data*, at every level."""
    if isinstance(original, dict):
        assert isinstance(data, dict), where
        assert not set(original) - set(data), f"{where}: {sorted(set(original) - set(data))}"
        for key, value in original.items():
            _keys_kept(value, data[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(data, list), where
        assert len(data) == len(original), where
        for n, (a, b) in enumerate(zip(original, data, strict=True)):
            _keys_kept(a, b, f"{where}[{n}]")


# -- to_dict and to_json ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cls", "payload"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_to_dict_gives_the_api_json_back(name, cls, payload):
    """to_dict keeps every key the API sent (unknown ones too) and decodes back equal."""
    obj = structure(payload, cls)
    data = obj.to_dict()
    _keys_kept(payload, data)
    assert data == unstructure(obj)
    assert structure(data, cls) == obj


@pytest.mark.parametrize(("name", "cls", "payload"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_to_json_is_to_dict_as_text(name, cls, payload):
    """to_json is valid JSON equal to to_dict."""
    obj = structure(payload, cls)
    assert json.loads(obj.to_json()) == obj.to_dict()


def test_unknown_keys_come_back_at_every_level():
    """Keys this version does not model come back from `extra`, nested objects' included."""
    pred = structure(
        {
            "id": "p1",
            "status": "succeeded",
            "urls": {"get": "https://x.test/p1", "events": "https://x.test/e"},
            "metrics": {"predict_time": 1.5, "input_token_count": 12},
            "billing": {"cents": 3},
        },
        Prediction,
    )
    data = pred.to_dict()
    assert data["billing"] == {"cents": 3}
    assert data["urls"]["events"] == "https://x.test/e"
    assert data["metrics"] == {"predict_time": 1.5, "total_time": None, "input_token_count": 12}


def test_an_extra_key_never_overrides_a_field():
    """An `extra` entry named like a field does not replace the field's value."""
    pred = Prediction(id="real", status=PredictionStatus.STARTING, extra={"id": "evil", "n": 1})
    assert pred.to_dict()["id"] == "real"
    assert pred.to_dict()["n"] == 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 10, 4, 18, 7, 33, 396000, tzinfo=UTC), "2024-10-04T18:07:33.396000Z"),
        (datetime(2024, 10, 4, 18, 7, 33, tzinfo=UTC), "2024-10-04T18:07:33Z"),
        (
            datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-01T10:00:00+02:00",
        ),
    ],
)
def test_datetimes_are_rfc_3339(value, text):
    """Datetimes become RFC 3339 strings, `Z` for UTC, offsets kept."""
    data = Prediction(id="p", status=PredictionStatus.SUCCEEDED, created_at=value).to_dict()
    assert data["created_at"] == text
    assert structure(data, Prediction).created_at == value


def test_status_and_tuples_are_json_values():
    """The status is its string; tuples are lists."""
    pred = Prediction(
        id="p",
        status=PredictionStatus.PROCESSING,
        webhook_events_filter=("start", "completed"),
        output=("a", "b"),
    )
    data = pred.to_dict()
    assert data["status"] == "processing"
    assert type(data["status"]) is str
    assert data["webhook_events_filter"] == ["start", "completed"]


def test_a_page_gives_its_results_as_a_list_of_objects():
    """Page.to_dict is the list reply: results, next, previous."""
    page = structure(_recorded("file-operations.yaml", 2), Page[File])
    data = page.to_dict()
    assert set(data) >= {"results", "next", "previous"}
    assert [r["id"] for r in data["results"]] == [f.id for f in page.results]


def test_a_training_keeps_its_destination():
    """Training.to_dict has the prediction's keys and the destination."""
    training = Training(id="t", status=PredictionStatus.SUCCEEDED, destination="me/model")
    data = training.to_dict()
    assert data["destination"] == "me/model"
    assert data["status"] == "succeeded"


def test_to_json_indents_and_keeps_characters():
    """indent= spreads the text over lines; non-ASCII characters are written as they are."""
    pred = Prediction(id="p", status=PredictionStatus.SUCCEEDED, input={"prompt": "café ☕"})
    assert "café ☕" in pred.to_json()
    assert pred.to_json(indent=2).startswith('{\n  "id": "p"')
    assert "\n" not in pred.to_json()


def _response_classes() -> list[type]:
    """Every attrs class of the response modules (the reference Deployment and progress aside)."""
    found = [
        getattr(module, name)
        for module in (_models, _api_objects)
        for name in module.__all__
        if isinstance(getattr(module, name), type) and attrs.has(getattr(module, name))
    ]
    return [c for c in found if c not in {_models.Deployment, _models.PredictionProgress}]


@pytest.mark.parametrize("cls", _response_classes(), ids=lambda c: c.__name__)
def test_every_response_model_has_to_dict(cls):
    """Each response model is an APIObject: to_dict and to_json, with `extra` out of its repr."""
    assert issubclass(cls, APIObject)
    assert not attrs.fields_dict(cls)["extra"].repr


# -- reprs that stay short ------------------------------------------------------------------------

DATA_URI = "data:image/png;base64," + "iVBORw0KGgo" * 20_000  # 220 KB


def test_a_data_uri_in_the_input_is_cut():
    """A 220 KB data URI in input shows its start and its length; the repr stays short."""
    pred = Prediction(id="p", status=PredictionStatus.STARTING, input={"image": DATA_URI})
    text = repr(pred)
    assert len(text) < 1500
    assert f"...({len(DATA_URI)} chars)" in text
    assert repr(DATA_URI[:REPR_CUT]) in text


def test_a_training_repr_is_cut_too():
    """Training's repr cuts the same fields (input, logs, output)."""
    training = Training(
        id="t",
        status=PredictionStatus.PROCESSING,
        input={"train_data": DATA_URI},
        logs="step\n" * 100_000,
        destination="me/model",
    )
    text = repr(training)
    assert text.startswith("Training(")
    assert len(text) < 1500
    assert "destination='me/model'" in text


def test_long_logs_and_outputs_are_cut():
    """Long logs show their start; a language model's 5000 tokens show the first items."""
    tokens = [f" token{i}" for i in range(5000)]
    pred = Prediction(
        id="p", status=PredictionStatus.SUCCEEDED, logs="x" * 1_000_000, output=tokens
    )
    text = repr(pred)
    assert len(text) < 1500
    assert "...(1000000 chars)" in text
    assert "' token0', ' token1'" in text
    assert "more)]" in text


def test_extra_stays_out_of_the_repr():
    """Unknown keys are never printed."""
    pred = Prediction(id="p", status=PredictionStatus.STARTING, extra={"secret_key": "zzz"})
    assert "secret_key" not in repr(pred)
    assert "extra" not in repr(pred)


def test_short_values_print_as_before():
    """Values within the limits print exactly as repr() does."""
    value = {"prompt": "a cat", "n": [1, 2.5, None, True], "t": ("x",), "b": b"ok"}
    assert short_repr(value) == repr(value)
    pred = Prediction(id="p", status=PredictionStatus.STARTING, input={"prompt": "a cat"})
    assert "input={'prompt': 'a cat'}" in repr(pred)


def test_deep_nesting_is_cut_without_recursing_far():
    """An input nested 10 000 deep prints a few levels, then the item count."""
    value: Any = "leaf"
    for _ in range(10_000):
        value = [value]
    text = short_repr({"deep": value})
    assert text.startswith("{'deep': [[[[[")
    assert "...(1 items)" in text
    assert len(text) < 100


def test_wide_nesting_stays_within_its_room():
    """Many long strings in nested lists still make a repr of bounded length."""
    value = [[["y" * 500] * 50] * 50] * 50
    assert len(short_repr(value)) < 2000


def test_long_bytes_and_other_values_are_cut():
    """Bytes show their start and byte count; any other long repr is cut likewise."""
    assert short_repr(b"\x00" * 1000).endswith("...(1000 bytes)")

    class Loud:
        def __repr__(self) -> str:
            return "L" * 5000

    assert short_repr(Loud()) == "L" * REPR_CUT + "...(5000 chars)"


def test_a_version_with_a_big_schema_prints_short():
    """ModelVersion's OpenAPI schema (kilobytes) is cut in its repr; so are a Model's."""
    model = structure(_recorded("models-get.yaml", 0), Model)
    assert len(repr(model.latest_version)) < 1500
    assert len(repr(model)) < 4000
    assert len(repr(structure(_recorded("models-search.yaml", 0), Page[Model]))) < 1500
