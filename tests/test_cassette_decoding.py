"""Every prediction payload in the real recorded traffic decodes (tests/fixtures/cassettes).

The corpus holds no page of predictions with a cursor; tests/fixtures/page_with_next.json
(assembled from recorded predictions) covers pages in test_sansio_responses.py.
"""

from __future__ import annotations

import json

import pytest

from _cassettes import all_interactions
from replicate_async._converters import unstructure
from replicate_async._models import Prediction, PredictionStatus
from replicate_async._sansio.responses import decode_prediction, error_for
from replicate_async.exceptions import APIError

_INTERACTIONS = all_interactions()


def _is_prediction(value: object) -> bool:
    return isinstance(value, dict) and "id" in value and "status" in value


def _headers(raw: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in raw.items() if v}


PREDICTIONS = [i for i in _INTERACTIONS if i.status < 400 and _is_prediction(i.json)]
ERRORS = [i for i in _INTERACTIONS if i.status >= 400]


def test_corpus_is_not_empty():
    """The corpus has prediction payloads and error replies to check."""
    assert len(PREDICTIONS) > 100
    assert ERRORS


@pytest.mark.parametrize("interaction", PREDICTIONS, ids=lambda i: i.id)
def test_prediction_payload_decodes(interaction):
    """Each recorded prediction decodes with its id and a known status."""
    pred = decode_prediction(
        interaction.status,
        _headers(interaction.response_headers),
        interaction.response_body.encode(),
        method=interaction.method,
        path=interaction.uri,
    )
    assert pred.id == interaction.json["id"]
    assert pred.status is not PredictionStatus.UNKNOWN
    assert pred.status.value == interaction.json["status"]


@pytest.mark.parametrize("interaction", PREDICTIONS, ids=lambda i: i.id)
def test_prediction_payload_round_trips(interaction):
    """Each recorded prediction unstructures with every original key and decodes back equal."""
    pred = decode_prediction(interaction.status, {}, interaction.response_body.encode())
    data = unstructure(pred)
    assert set(interaction.json) <= set(data)
    assert decode_prediction(200, {}, json.dumps(data).encode()) == pred
    assert isinstance(pred, Prediction)


@pytest.mark.parametrize("interaction", ERRORS, ids=lambda i: i.id)
def test_error_payload_maps_to_api_error(interaction):
    """Each recorded error reply becomes an APIError with a one-line message."""
    exc = error_for(
        interaction.status,
        _headers(interaction.response_headers),
        interaction.response_body.encode(),
        method=interaction.method,
        path=interaction.uri,
    )
    assert isinstance(exc, APIError)
    assert exc.status_code == interaction.status
    assert "\n" not in str(exc)
