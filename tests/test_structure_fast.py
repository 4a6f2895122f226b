# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The generated fast structure functions (issue 16) give exactly what cattrs gave.

The reference is a converter built with ``make_converter(fast=False)``: cattrs' generated
functions alone, as the package decoded before. For every recorded payload of the cassettes,
for generated payloads (well-formed and mangled) and for a payload of each wrong type per field
kind, the package's converter gives an object equal to the reference's in every field, ``extra``
included, with the same value types, or the same DecodeError text.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _cassettes import all_interactions
from replicate_async import _converters
from replicate_async._api_objects import (
    Account,
    Collection,
    DeploymentInfo,
    Hardware,
    Model,
    ModelVersion,
    SearchResults,
    Training,
)
from replicate_async._converters import (
    converter,
    make_converter,
    parse_datetime,
    structure,
    unstructure,
)
from replicate_async._models import File, Page, Prediction
from replicate_async._sansio import responses
from replicate_async._structure_fast import FastBuilder, Refused
from replicate_async.exceptions import DecodeError

CLASSES: list[Any] = [
    Prediction,
    Training,
    Model,
    ModelVersion,
    Collection,
    Hardware,
    Account,
    File,
    DeploymentInfo,
    SearchResults,
    Page[Prediction],
    Page[Model],
    Page[Collection],
    Page[File],
    Page[ModelVersion],
]

_REFERENCE = make_converter(fast=False)


@attrs.frozen(kw_only=True)
class Node:
    """A model class that contains itself."""

    child: Node | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False)


_BUILDER = FastBuilder(_converters._has_extra, parse_datetime)


def state(value: Any) -> Any:
    """Everything an object holds, recursively, with each value's type: equal states mean
    equal objects, ``extra`` included, and no 1 where 1.0 was."""
    if attrs.has(type(value)):
        fields = {a.name: state(getattr(value, a.name)) for a in attrs.fields(type(value))}
        return (type(value), fields)
    if isinstance(value, Mapping):
        return (type(value), {k: state(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return (type(value), [state(v) for v in value])
    return (type(value), value)


def reference(data: Any, cls: Any) -> tuple[str, Any]:
    """What cattrs' path alone gives: ("ok", state) or ("error", the DecodeError text)."""
    saved = _converters._converter
    _converters._converter = _REFERENCE
    try:
        return outcome(data, cls)
    finally:
        _converters._converter = saved


def outcome(data: Any, cls: Any) -> tuple[str, Any]:
    """What the package's converter gives: ("ok", state) or ("error", the DecodeError text)."""
    try:
        obj = structure(data, cls)
    except DecodeError as exc:
        return ("error", exc.message)
    return ("ok", (state(obj), state(unstructure(obj))))


def assert_same(data: Any, cls: Any) -> tuple[str, Any]:
    """The package's converter and cattrs' path agree on data."""
    got = outcome(data, cls)
    assert got == reference(data, cls)
    return got


# -- the recorded corpus ----------------------------------------------------------------------


def _payloads() -> list[tuple[str, Any]]:
    out = []
    for interaction in all_interactions():
        if interaction.status >= 400:
            continue
        try:
            payload = interaction.payload
        except ValueError:  # an event stream, not JSON
            continue
        if isinstance(payload, dict | list):
            out.append((interaction.id, payload))
    return out


PAYLOADS = _payloads()


def test_corpus_has_payloads():
    """The cassettes give the recorded replies this file compares."""
    assert len(PAYLOADS) > 100


@pytest.mark.parametrize(("name", "payload"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_recorded_payload_same_for_every_class(name, payload):
    """Every recorded reply, read as each model class, gives what cattrs gave (object or error)."""
    results = {cls: assert_same(payload, cls)[0] for cls in CLASSES}
    assert name
    if isinstance(payload, dict) and "status" in payload and "id" in payload:
        assert results[Prediction] == "ok"
        assert _BUILDER.function(Prediction) is not None
        _BUILDER.function(Prediction)(payload)  # the fast path itself takes it: no fallback


def test_recorded_predictions_take_the_fast_path():
    """Every recorded prediction and training reply is handled by the fast function itself."""
    fast_prediction, fast_training = _BUILDER.function(Prediction), _BUILDER.function(Training)
    assert fast_prediction is not None
    assert fast_training is not None
    taken = 0
    for _, payload in PAYLOADS:
        if isinstance(payload, dict) and {"id", "status"} <= payload.keys():
            assert state(fast_prediction(payload)) == state(
                _REFERENCE.structure(payload, Prediction)
            )
            assert state(fast_training(payload)) == state(_REFERENCE.structure(payload, Training))
            taken += 1
    assert taken > 100


def test_every_model_class_gets_a_fast_function():
    """Each model class with ``extra`` in the decoded replies has a generated function."""
    for cls in CLASSES:
        assert _BUILDER.function(cls) is not None, cls


# -- generated payloads -----------------------------------------------------------------------

_timestamps = st.builds(
    lambda when, digits: (
        when.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{when.microsecond:06d}"[: digits + 1] if digits else "")
        + "Z"
    ),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),  # noqa: DTZ001
    st.integers(min_value=0, max_value=9),
)
_json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_maybe_str = st.none() | st.text(max_size=10)
_numbers = st.none() | st.integers() | st.floats(allow_nan=False)
_well_formed = st.fixed_dictionaries(
    {
        "id": st.text(max_size=26),
        "status": st.sampled_from(
            ["starting", "processing", "succeeded", "failed", "canceled", "aborted", "queued"]
        ),
    },
    optional={
        "model": _maybe_str,
        "version": _maybe_str,
        "input": st.none() | st.dictionaries(st.text(max_size=5), _json, max_size=3),
        "output": _json,
        "logs": _maybe_str,
        "error": _json,
        "created_at": st.none() | _timestamps,
        "started_at": st.none() | _timestamps,
        "completed_at": st.none() | _timestamps,
        "deadline": st.none() | _timestamps,
        "urls": st.fixed_dictionaries(
            {},
            optional={"get": _maybe_str, "cancel": _maybe_str, "stream": _maybe_str, "new": _json},
        ),
        "metrics": st.none()
        | st.fixed_dictionaries(
            {},
            optional={"predict_time": _numbers, "total_time": _numbers, "input_token_count": _json},
        ),
        "data_removed": st.booleans(),
        "source": _maybe_str,
        "webhook_events_filter": st.none() | st.lists(st.text(max_size=8), max_size=3),
        "destination": _maybe_str,
        "extra": _json,
        "something_new": _json,
    },
)
_mangled = st.builds(
    lambda good, changes: {**good, **changes},
    _well_formed,
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "status",
                "input",
                "urls",
                "metrics",
                "created_at",
                "data_removed",
                "webhook_events_filter",
                "logs",
            ]
        ),
        _json,
        min_size=1,
        max_size=2,
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_well_formed)
def test_well_formed_payloads_take_the_fast_path(payload):
    """A well-formed prediction is decoded by the fast function, equal to cattrs' in every field."""
    for cls in (Prediction, Training):
        fast = _BUILDER.function(cls)
        assert fast is not None
        assert state(fast(payload)) == state(_REFERENCE.structure(payload, cls))
        assert_same(payload, cls)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_mangled | _json)
def test_mangled_payloads_same_as_cattrs(payload):
    """Any field replaced by any JSON value: the same object or the same DecodeError text."""
    for cls in (Prediction, Training, Page[Prediction]):
        assert_same(payload, cls)


# -- one wrong value per field kind -----------------------------------------------------------

_GOOD: dict[str, Any] = {
    "id": "p1",
    "status": "succeeded",
    "input": {"prompt": "a cat"},
    "created_at": "2025-01-01T00:00:00.000Z",
    "urls": {"get": "https://api.test/v1/predictions/p1"},
    "metrics": {"predict_time": 1.5},
    "webhook_events_filter": ["completed"],
}

WRONG = [
    ("id", 5),  # str: cattrs makes "5"
    ("id", None),  # cattrs makes "None"
    ("model", 5),
    ("status", 5),
    ("status", ["succeeded"]),
    ("input", []),
    ("input", "text"),
    ("created_at", 5),
    ("created_at", "yesterday"),
    ("created_at", "2025-02-30T00:00:00Z"),
    ("urls", None),
    ("urls", []),
    ("urls", {"get": 5}),
    ("metrics", "fast"),
    ("metrics", {"predict_time": "1.5"}),  # float: cattrs makes 1.5
    ("metrics", {"predict_time": True}),  # cattrs makes 1.0
    ("data_removed", "false"),  # bool: cattrs makes True
    ("data_removed", None),
    ("data_removed", 0),
    ("webhook_events_filter", "abc"),  # cattrs makes ('a', 'b', 'c')
    ("webhook_events_filter", [1]),
    ("webhook_events_filter", {"a": 1}),
]


@pytest.mark.parametrize(("key", "value"), WRONG, ids=[f"{k}={v!r}" for k, v in WRONG])
def test_wrong_type_falls_back_to_cattrs(key, value):
    """The fast function refuses a value of another type; cattrs' answer (a converted value
    or its DecodeError text) is what the package gives."""
    payload = {**_GOOD, key: value}
    fast = _BUILDER.function(Prediction)
    assert fast is not None
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal hands over to cattrs
        fast(payload)
    assert_same(payload, Prediction)


@pytest.mark.parametrize(
    "value",
    ["2025-01-01T00:00:00.0000000Z", "2025-01-01T00:00:00+02:00", "2025-01-01 00:00:00", "2025"],
)
def test_other_timestamp_shapes_same(value):
    """Timestamps of other shapes go through the general parser: the same value or error."""
    assert_same({**_GOOD, "created_at": value}, Prediction)


@pytest.mark.parametrize("payload", [[], "x", None, {"status": "succeeded"}, {"id": "x"}])
def test_not_a_prediction_same_error(payload):
    """Not an object, or a required key missing: the same DecodeError text as cattrs."""
    kind, message = assert_same(payload, Prediction)
    assert kind == "error"
    assert message.startswith("unexpected reply shape")


def test_unknown_keys_kept_at_every_level():
    """New keys land in ``extra`` at every level, a key named 'extra' among them."""
    payload = {**_GOOD, "extra": 1, "new": [2], "urls": {"web": "w", "x": 3}, "metrics": {"n": 4}}
    obj = structure(payload, Prediction)
    assert obj.extra == {"extra": 1, "new": [2]}
    assert obj.urls.extra == {"x": 3}
    assert obj.metrics is not None
    assert obj.metrics.extra == {"n": 4}
    assert structure(_GOOD, Prediction).extra == {}
    assert_same(payload, Prediction)


def test_input_is_the_decoded_object():
    """``input`` and ``output`` are the very objects of the decoded JSON."""
    payload = {**_GOOD, "output": [1]}
    obj = structure(payload, Prediction)
    assert obj.input is payload["input"]
    assert obj.output is payload["output"]


def test_the_package_converter_uses_the_fast_path():
    """The converter's hook for Prediction runs the generated function (no cattrs call)."""
    hook = converter().get_structure_hook(Prediction)
    assert hook.__name__ == "structure_Prediction_or_cattrs"


def test_generated_source_is_in_tracebacks():
    """A generated function's lines show in a traceback (linecache), like attrs' own."""
    fast = _BUILDER.function(Prediction)
    assert fast is not None
    with pytest.raises(Refused) as info:
        fast({"id": 5, "status": "x"})
    text = "".join(traceback.format_exception(info.value))
    assert "structure_Prediction" in text
    assert "raise Refused" in text


def test_class_with_a_validator_keeps_cattrs():
    """A class whose ``__init__`` does more than store values gets no fast function."""

    @attrs.frozen(kw_only=True)
    class Checked:
        n: int = attrs.field(validator=attrs.validators.ge(0))
        extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False)

    assert _BUILDER.function(Checked) is None
    assert structure({"n": 1, "m": 2}, Checked).extra == {"m": 2}
    with pytest.raises(DecodeError):
        structure({"n": -1}, Checked)


def test_class_caching_its_hash_keeps_cattrs():
    """A class with a slot that is no field (attrs' cached hash) gets no fast function."""

    @attrs.frozen(kw_only=True, cache_hash=True)
    class Cached:
        n: int = 0
        extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)

    @attrs.frozen(kw_only=True)
    class Plain:
        n: int = 0
        extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)

    assert _BUILDER.function(Plain) is not None
    assert _BUILDER.function(Cached) is None
    assert hash(structure({"n": 1}, Cached)) == hash(Cached(n=1))


def test_class_containing_itself_keeps_cattrs():
    """A class nesting itself is left to cattrs (no endless generation)."""
    builder = FastBuilder(_converters._has_extra, parse_datetime)
    assert builder.function(Node) is None


# -- timestamps -------------------------------------------------------------------------------

_OLD_COMMON = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6})?Z")


def old_parse_datetime(value: str) -> datetime:
    """parse_datetime as it was before the fast path (a regular expression first)."""
    if _OLD_COMMON.fullmatch(value) is not None:
        return datetime.fromisoformat(value)
    return _converters.parse_any_datetime(value)  # the regular expression path, unchanged


def _parsed(parse: Any, value: str) -> Any:
    try:
        result = parse(value)
    except ValueError as exc:
        return ("error", str(exc))
    return ("ok", result, result.tzinfo)


# The API's timestamps with one to three characters changed (to digits of other scripts,
# other separators, letters, signs): near the fast shape, on either side of it.
_shaped = st.builds(
    lambda stamp, changes: "".join(changes.get(n, c) for n, c in enumerate(stamp)),
    _timestamps,
    st.dictionaries(
        st.integers(min_value=0, max_value=26),
        st.sampled_from("0123456789-:.TtZz+ ,W\u0661x"),
        min_size=1,
        max_size=3,
    ),
)


@settings(max_examples=2000)
@given(_timestamps | _shaped)
def test_parse_datetime_same_as_before(value):
    """The position checks give what the regular expression gave, value or error."""
    assert _parsed(parse_datetime, value) == _parsed(old_parse_datetime, value)


@settings(max_examples=1000)
@given(_timestamps | _shaped)
def test_generated_timestamps_same_as_cattrs(value):
    """The generated functions' own timestamp check gives cattrs' value or error text."""
    assert_same({"id": "x", "status": "starting", "created_at": value}, Prediction)


@pytest.mark.parametrize(
    "value",
    [
        "2024-10-04T18:07:33Z",
        "2024-10-04T18:07:33.3Z",
        "2023-08-16T18:57:12.17042Z",
        "2023-09-08T16:19:34.765994Z",
        "2023-08-16T18:57:08.3607851Z",
        "2023-W33-3T18:57:12Z",
        "2023-08-16T18:57:12.1+0Z",
        "2023-08-16T18:57:12,123Z",
        "2023-08-16T18:57:1\u0662Z",
        "2023-08-16t18:57:12Z",
    ],
)
def test_parse_datetime_shapes(value):
    """Shapes near the fast one give the old result."""
    assert _parsed(parse_datetime, value) == _parsed(old_parse_datetime, value)


# -- JSON -------------------------------------------------------------------------------------


def _loaded(parse: Any, body: bytes | str) -> Any:
    try:
        return ("ok", repr(parse(body)))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc))


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1}',
        '{"a": "\u00e9"}',
        '{"a": "\u00e9"}'.encode(),
        '{"a": 1}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-16-le"),
        '{"a": 1}'.encode("utf-32"),
        b'\xef\xbb\xbf{"a": 1}',
        '\ufeff{"a": 1}',
        b'{"a": "\xed\xa0\x80"}',  # a surrogate: json.loads decodes it (surrogatepass)
        b'{"a": "\xff"}',
        b'{"a": "x\ny"}',  # a raw newline in a string: not JSON (strict)
        b"[" * 100_000,
        b"nope",
        b'{"a": 1}\n',
        b'{"a": 1} \t\r\n',
        b'{"a": 1}\x0c',  # not JSON whitespace
        b'{"a": 1}\xc2\xa0',  # nor is a no-break space
        b' {"a": 1}',
        b'{"a": 1} x',
        b"1 2",
        b'"x"',
        b"",
        b"\xef\xbb\xbf",
        '{"a": 1}\n',
        b'{"a": NaN, "b": -Infinity}',
    ],
)
def test_parse_json_same_as_json_loads(body):
    """The reply parser gives json.loads' value, or an error of the same class."""
    assert _loaded(responses._parse_json, body) == _loaded(json.loads, body)


@settings(max_examples=300)
@given(st.binary(max_size=40) | _json.map(lambda v: json.dumps(v, ensure_ascii=False).encode()))
def test_parse_json_any_bytes(body):
    """Any bytes: json.loads' value or an error of the same class."""
    assert _loaded(responses._parse_json, body) == _loaded(json.loads, body)


@pytest.mark.parametrize(
    "body", [b"", b" \t\r\n\x0b\x0c", b"\x1c", "", " \u2003\x1c\n", "\u200b", b" x ", " x "]
)
def test_empty_body_same_as_strip(body):
    """A body is empty exactly when strip() leaves nothing, as before."""
    empty = not body or not body.strip()
    with pytest.raises(DecodeError) as info:
        responses.decode_prediction(200, {}, body)
    assert ("empty body" in info.value.message) == empty
