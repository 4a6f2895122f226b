"""The attrs models: status semantics, defaults, immutability."""

from __future__ import annotations

import attrs
import pytest

from replicate_async._models import (
    Deployment,
    Page,
    Prediction,
    PredictionMetrics,
    PredictionStatus,
    PredictionUrls,
)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (PredictionStatus.STARTING, False),
        (PredictionStatus.PROCESSING, False),
        (PredictionStatus.SUCCEEDED, True),
        (PredictionStatus.FAILED, True),
        (PredictionStatus.CANCELED, True),
        (PredictionStatus.ABORTED, True),
        (PredictionStatus.UNKNOWN, False),
    ],
)
def test_is_terminal(status, terminal):
    """Only succeeded, failed, canceled and aborted are terminal."""
    assert status.is_terminal is terminal


def test_status_is_a_string():
    """Statuses compare equal to the API's strings."""
    assert PredictionStatus.SUCCEEDED == "succeeded"
    assert str(PredictionStatus.PROCESSING) == "processing"


def test_unknown_status_string_maps_to_unknown():
    """A status this version does not know becomes UNKNOWN."""
    assert PredictionStatus("queued") is PredictionStatus.UNKNOWN


def test_non_string_status_is_rejected():
    """A non-string status is a ValueError, not UNKNOWN."""
    with pytest.raises(ValueError, match="5"):
        PredictionStatus(5)


def test_prediction_defaults():
    """Only id and status are required; the rest defaults sensibly."""
    pred = Prediction(id="x", status=PredictionStatus.STARTING)
    assert pred.input == {}
    assert pred.output is None
    assert pred.urls == PredictionUrls()
    assert pred.metrics is None
    assert pred.data_removed is False
    assert pred.extra == {}


def test_prediction_is_frozen():
    """Predictions cannot be mutated."""
    pred = Prediction(id="x", status=PredictionStatus.STARTING)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        pred.id = "y"  # type: ignore[misc]


def test_prediction_is_keyword_only():
    """Fields are keyword-only."""
    with pytest.raises(TypeError):
        Prediction("x", PredictionStatus.STARTING)  # type: ignore[misc]


def test_extra_is_not_in_repr_or_equality():
    """Unknown keys do not change equality nor clutter the repr."""
    a = Prediction(id="x", status=PredictionStatus.STARTING, extra={"new": 1})
    b = Prediction(id="x", status=PredictionStatus.STARTING)
    assert a == b
    assert "new" not in repr(a)


def test_models_have_slots():
    """The models are slotted (no per-instance dict)."""
    for cls in (Prediction, PredictionUrls, PredictionMetrics, Page, Deployment):
        assert "__slots__" in vars(cls)


def test_page_defaults():
    """An empty page has no results and no cursors."""
    page: Page[Prediction] = Page()
    assert (page.results, page.next, page.previous) == ((), None, None)


def test_deployment_is_positional():
    """Deployment("owner/name") reads like a reference."""
    assert Deployment("acme/my-dep").name == "acme/my-dep"


def test_metrics_extra_defaults_empty():
    """Metrics start without extra counters."""
    assert PredictionMetrics().extra == {}
