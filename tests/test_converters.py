"""The cattrs converter: tolerant decoding, kept extra keys, round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async import _converters
from replicate_async._converters import (
    CONVERTER,
    format_datetime,
    make_converter,
    parse_datetime,
    structure,
    unstructure,
)
from replicate_async._models import Page, Prediction, PredictionStatus
from replicate_async.exceptions import DecodeError


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2024-10-04T18:07:33Z", 0),
        ("2024-10-04T18:07:33.3Z", 300000),
        ("2024-10-04T18:07:33.396Z", 396000),
        ("2023-09-08T16:19:34.765994Z", 765994),
        ("2023-08-16T18:57:08.36078514Z", 360785),
        ("2023-08-16T18:57:08.360785149Z", 360785),
    ],
)
def test_parse_datetime_fraction_digits(text, micro):
    """0 to 9 fractional digits parse (extra digits are truncated to microseconds)."""
    parsed = parse_datetime(text)
    assert parsed.microsecond == micro
    assert parsed.tzinfo is UTC


def test_parse_datetime_offset():
    """An explicit offset is honoured."""
    parsed = parse_datetime("2024-01-02T03:04:05.5+02:30")
    assert parsed.utcoffset() == timedelta(hours=2, minutes=30)


def test_parse_datetime_negative_offset_without_colon():
    """A '-0500' style offset is honoured too."""
    assert parse_datetime("2024-01-02T03:04:05-0500").utcoffset() == timedelta(hours=-5)


def test_parse_datetime_hour_only_offset():
    """A '+02' style offset is honoured."""
    assert parse_datetime("2024-01-02T03:04:05+02").utcoffset() == timedelta(hours=2)


def test_parse_datetime_naive_is_utc():
    """A timestamp without an offset is read as UTC."""
    assert parse_datetime("2024-01-02 03:04:05").tzinfo is UTC


def test_parse_datetime_rejects_garbage():
    """Non-timestamps raise ValueError."""
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        parse_datetime("yesterday")


def test_format_datetime_utc_uses_z():
    """UTC renders with a trailing Z."""
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == (
        "2024-01-02T03:04:05.000006Z"
    )


def test_format_datetime_naive_is_utc():
    """A naive datetime renders as UTC."""
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"  # noqa: DTZ001


def test_format_datetime_keeps_other_offsets():
    """A non-UTC offset is kept."""
    tz = timezone(timedelta(hours=1))
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)) == "2024-01-02T03:04:05+01:00"


def test_structure_keeps_unknown_keys_in_extra():
    """Keys the model does not know are kept in extra, at every level."""
    pred = structure(
        {
            "id": "x",
            "status": "succeeded",
            "webhook_completed": None,
            "urls": {"get": "g", "future": "f"},
            "metrics": {"predict_time": 1, "input_token_count": 12},
        },
        Prediction,
    )
    assert pred.extra == {"webhook_completed": None}
    assert pred.urls.extra == {"future": "f"}
    assert pred.metrics is not None
    assert pred.metrics.extra == {"input_token_count": 12}
    assert pred.metrics.predict_time == 1.0


def test_structure_key_named_extra_is_kept_as_unknown():
    """A server key literally called 'extra' lands in extra, not over it."""
    pred = structure({"id": "x", "status": "starting", "extra": 5}, Prediction)
    assert pred.extra == {"extra": 5}


def test_structure_without_unknown_keys_has_empty_extra():
    """No unknown keys, empty extra."""
    assert structure({"id": "x", "status": "starting"}, Prediction).extra == {}


def test_structure_unknown_status_is_unknown():
    """An unknown status string structures to UNKNOWN."""
    assert structure({"id": "x", "status": "queued"}, Prediction).status is PredictionStatus.UNKNOWN


def test_structure_hidden_and_pseudo_versions_are_strings():
    """'hidden' and 'dp-...' versions are kept as plain strings."""
    for version in ("hidden", "dp-a557b7387b4940df25b23f779dc534c4"):
        assert (
            structure({"id": "x", "status": "starting", "version": version}, Prediction).version
            == version
        )


def test_structure_input_and_output_pass_through():
    """input and output are the very objects decoded from JSON."""
    data = {"id": "x", "status": "succeeded", "input": {"a": [1]}, "output": ["x", {"y": 2}]}
    pred = structure(data, Prediction)
    assert pred.input is data["input"]
    assert pred.output is data["output"]


def test_structure_null_input_is_empty():
    """A null input (after data removal) becomes an empty mapping."""
    assert structure({"id": "x", "status": "succeeded", "input": None}, Prediction).input == {}


def test_structure_list_to_tuple():
    """webhook_events_filter becomes a tuple."""
    pred = structure(
        {"id": "x", "status": "starting", "webhook_events_filter": ["start", "completed"]},
        Prediction,
    )
    assert pred.webhook_events_filter == ("start", "completed")


def test_structure_datetime_instances_pass():
    """Already-parsed datetimes are accepted as they are."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert (
        structure({"id": "x", "status": "starting", "created_at": when}, Prediction).created_at
        == when
    )


def test_structure_missing_id_is_decode_error():
    """A missing required field raises DecodeError with cattrs' explanation, chained."""
    with pytest.raises(DecodeError, match=r"required field missing @ Prediction\.id") as info:
        structure({"status": "starting"}, Prediction)
    assert isinstance(info.value.__cause__, cattrs.ClassValidationError)


def test_structure_wrong_types_are_listed():
    """Several problems are listed on one line."""
    with pytest.raises(DecodeError) as info:
        structure({"id": "x", "status": 3, "created_at": 5, "input": [1]}, Prediction)
    message = str(info.value)
    assert "Prediction.status" in message
    assert "Prediction.created_at" in message
    assert "Prediction.input" in message
    assert "\n" not in message


def test_structure_bad_timestamp_is_decode_error():
    """An unparseable timestamp raises DecodeError."""
    with pytest.raises(DecodeError, match="created_at"):
        structure({"id": "x", "status": "starting", "created_at": "soon"}, Prediction)


def test_structure_many_problems_are_summarised():
    """More than five problems are summarised with a count."""
    data = {
        "id": "x",
        "status": 1,
        "created_at": 1,
        "started_at": 1,
        "completed_at": 1,
        "deadline": 1,
        "urls": 1,
        "input": 1,
    }
    with pytest.raises(DecodeError, match=r"and \d+ more"):
        structure(data, Prediction)


def test_structure_not_an_object_is_decode_error():
    """A JSON array where an object belongs raises DecodeError."""
    with pytest.raises(DecodeError, match="expected a JSON object, got list"):
        structure([1, 2], Prediction)


def test_structure_page_of_predictions():
    """A page structures its results into a tuple of predictions and keeps cursors."""
    page = structure(
        {"next": "https://n", "previous": None, "results": [{"id": "a", "status": "succeeded"}]},
        Page[Prediction],
    )
    assert page.next == "https://n"
    assert page.results == (Prediction(id="a", status=PredictionStatus.SUCCEEDED),)


def test_structure_bad_page_names_the_page():
    """A page error names the Page type in its path."""
    with pytest.raises(DecodeError, match="Page"):
        structure({"results": [{"status": "succeeded"}]}, Page[Prediction])


def test_unstructure_uses_api_keys_and_extra():
    """Unstructuring gives the API's keys, datetimes as strings, extra keys included."""
    pred = structure(
        {
            "id": "x",
            "status": "succeeded",
            "created_at": "2024-10-04T18:07:33.396Z",
            "webhook_completed": None,
            "metrics": {"predict_time": 0.5, "tokens": 3},
        },
        Prediction,
    )
    data = unstructure(pred)
    assert data["status"] == "succeeded"
    assert data["created_at"] == "2024-10-04T18:07:33.396000Z"
    assert data["webhook_completed"] is None
    assert data["metrics"] == {"predict_time": 0.5, "total_time": None, "tokens": 3}
    json.dumps(data)


def test_unstructure_extra_never_overrides_fields():
    """An extra key with a field's name does not overwrite the field."""
    pred = Prediction(id="x", status=PredictionStatus.STARTING, extra={"id": "evil"})
    assert unstructure(pred)["id"] == "x"


def test_make_converter_is_not_the_global_converter():
    """The package converter is its own, not cattrs' global one."""
    assert CONVERTER is not cattrs.global_converter
    assert isinstance(make_converter(), cattrs.Converter)


def test_type_name_of_plain_object():
    """The readable type name falls back to str() for odd types."""
    assert _converters._type_name(42) == "42"


# -- hypothesis ------------------------------------------------------------------------------

_json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
_json = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_ts = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_known = {a for a in Prediction.__attrs_attrs__ if a.name != "extra"}  # type: ignore[attr-defined]
_unknown_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: k not in {a.name for a in _known} and k != "extra"
)


@st.composite
def _prediction_json(draw):
    data = {
        "id": draw(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=26)
        ),
        "status": draw(st.sampled_from([s.value for s in PredictionStatus])),
    }
    optional = {
        "model": st.text(max_size=20),
        "version": st.text(max_size=64),
        "input": st.dictionaries(st.text(max_size=8), _json, max_size=4),
        "output": _json,
        "logs": st.none() | st.text(max_size=40),
        "error": st.none() | st.text(max_size=40),
        "created_at": _ts.map(format_datetime),
        "started_at": st.none() | _ts.map(format_datetime),
        "data_removed": st.booleans(),
        "webhook_events_filter": st.none()
        | st.lists(st.sampled_from(["start", "output", "logs", "completed"]), max_size=4),
        "metrics": st.fixed_dictionaries(
            {}, optional={"predict_time": st.floats(0, 1e6), "custom": st.integers(0, 9)}
        ),
        "urls": st.fixed_dictionaries(
            {}, optional={"get": st.text(max_size=20), "later": st.text(max_size=5)}
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    data.update(draw(st.dictionaries(_unknown_keys, _json, max_size=3)))
    return data


@given(_prediction_json())
def test_round_trip_prediction(data):
    """structure(unstructure(p)) == p, and extra keys survive the round trip."""
    pred = structure(data, Prediction)
    again = structure(unstructure(pred), Prediction)
    assert again == pred
    assert again.extra == pred.extra


@given(_prediction_json())
def test_unknown_keys_are_kept(data):
    """Every key outside the model ends up in extra with its value."""
    pred = structure(data, Prediction)
    known = {a.name for a in _known}
    assert dict(pred.extra) == {k: v for k, v in data.items() if k not in known}


@given(_prediction_json())
def test_unstructure_keeps_every_original_key(data):
    """Unstructuring writes back every key the server sent."""
    assert set(data) <= set(unstructure(structure(data, Prediction)))
