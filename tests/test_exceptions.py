"""The public error tree: hierarchy, one-line messages, no token, pickling."""

from __future__ import annotations

import pickle

import pytest

from replicate_async import exceptions
from replicate_async._models import Prediction, PredictionStatus
from replicate_async.exceptions import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    ClientError,
    DecodeError,
    InvalidField,
    NotFoundError,
    PermissionDeniedError,
    PredictionCanceled,
    PredictionError,
    PredictionFailed,
    PredictionTimeout,
    RateLimitError,
    ReplicateError,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
    WebhookVerificationError,
)

TOKEN = "r8_" + "A" * 37


def _pred(status: str, **kw) -> Prediction:
    return Prediction(id="gm3qorzdhgbfurvjtvhg6dckhu", status=PredictionStatus(status), **kw)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (APIError, ReplicateError),
        (ClientError, APIError),
        (AuthenticationError, ClientError),
        (PermissionDeniedError, ClientError),
        (NotFoundError, ClientError),
        (ValidationError, ClientError),
        (RateLimitError, ClientError),
        (ServerError, APIError),
        (TransportError, ReplicateError),
        (RequestTimeout, TransportError),
        (RequestTimeout, TimeoutError),
        (DecodeError, ReplicateError),
        (PredictionError, ReplicateError),
        (PredictionFailed, PredictionError),
        (PredictionCanceled, PredictionError),
        (PredictionTimeout, PredictionError),
        (WebhookVerificationError, ReplicateError),
        (ClientClosedError, ReplicateError),
        (ClientClosedError, RuntimeError),
    ],
)
def test_hierarchy(child, parent):
    """Each error sits where the docstring's tree draws it."""
    assert issubclass(child, parent)


def test_all_is_sorted_and_complete():
    """__all__ is sorted and names every public error class."""
    public = {
        name
        for name, value in vars(exceptions).items()
        if not name.startswith("_")
        and isinstance(value, type)
        and value.__module__ == exceptions.__name__
    }
    assert exceptions.__all__ == sorted(exceptions.__all__)
    assert set(exceptions.__all__) == public


def test_docstring_draws_every_error():
    """The module docstring's tree names every exception class."""
    doc = exceptions.__doc__ or ""
    for name in exceptions.__all__:
        if name != "InvalidField":
            assert name in doc


def test_base_error_message_is_str():
    """str() of a ReplicateError is its message."""
    assert str(ReplicateError(message="boom")) == "boom"


def test_constructors_are_keyword_only():
    """Positional arguments are refused, so fields cannot be swapped by accident."""
    with pytest.raises(TypeError):
        ReplicateError("boom")  # type: ignore[misc]


def test_message_collapses_bulleted_lines():
    """A bulleted multi-line detail becomes one line joined with '; '."""
    exc = ValidationError(
        status_code=422,
        title="Input validation failed",
        detail="- input.prompt: prompt is required\n- input.width: must be an integer\n",
    )
    assert str(exc) == (
        "HTTP 422: Input validation failed: input.prompt: prompt is required; "
        "input.width: must be an integer"
    )
    assert "\n" not in str(exc)


def test_message_drops_blank_lines():
    """Blank lines between paragraphs vanish instead of leaving empty '; ;' pieces."""
    assert str(ReplicateError(message="first\n\n  \nsecond")) == "first; second"


def test_message_redacts_replicate_tokens():
    """A token echoed into a message is replaced by r8_***."""
    exc = APIError(status_code=400, detail=f"bad token {TOKEN}")
    assert TOKEN not in str(exc)
    assert "r8_***" in str(exc)


def test_message_redacts_bearer_values():
    """An Authorization value echoed into a message is redacted."""
    exc = ReplicateError(message="sent Authorization: Bearer abcdefghijklmnop")
    assert "abcdefghijklmnop" not in str(exc)
    assert "Bearer ***" in str(exc)


def test_message_redacts_legacy_token_auth_values():
    """A legacy 'Token <value>' echoed into a message is redacted."""
    exc = ReplicateError(message="Authorization: Token 0123456789abcdef0123456789abcdef01234567")
    assert str(exc) == "Authorization: Token ***"


def test_message_keeps_the_word_token_in_prose():
    """Prose around the word 'token' is not mistaken for a secret."""
    text = "the Replicate API token contains spaces; check the token configuration"
    assert str(ReplicateError(message=text)) == text


def test_message_is_capped():
    """A huge detail is cut to a readable length with an ellipsis."""
    exc = APIError(status_code=500, detail="x" * 5000)
    assert len(str(exc)) <= 1000
    assert str(exc).endswith("...")


def test_api_error_includes_status_and_request_line():
    """Status code, method and path (without the query) lead the message."""
    exc = APIError(
        status_code=404,
        title="Not found",
        request_method="GET",
        request_path="/v1/predictions?cursor=abc",
    )
    assert str(exc) == "HTTP 404 on GET /v1/predictions: Not found"


def test_api_error_without_status_puts_request_line_last():
    """A client-side error with a known request line keeps it in parentheses."""
    exc = ValidationError(
        status_code=None, message="wait out of range", request_method="POST", request_path="/v1/x"
    )
    assert str(exc) == "wait out of range (POST /v1/x)"


def test_api_error_without_status_or_request():
    """A client-side error is just its message."""
    assert str(ValidationError(status_code=None, message="bad ref")) == "bad ref"


def test_api_error_without_title_or_detail():
    """With neither title nor detail the message is still a sentence."""
    assert str(ServerError(status_code=503)) == "HTTP 503: the API returned an error"


def test_api_error_keeps_fields():
    """The RFC 7807 members and the body are kept as attributes."""
    exc = ClientError(
        status_code=402,
        title="Insufficient credit",
        detail="buy more",
        type="about:blank",
        instance="/x",
        body={"a": 1},
    )
    assert (exc.status_code, exc.title, exc.detail, exc.type, exc.instance, exc.body) == (
        402,
        "Insufficient credit",
        "buy more",
        "about:blank",
        "/x",
        {"a": 1},
    )


def test_validation_error_keeps_invalid_fields():
    """invalid_fields is a tuple of InvalidField."""
    field = InvalidField(type="required", field="input.prompt", description="prompt is required")
    exc = ValidationError(status_code=422, invalid_fields=[field])  # type: ignore[arg-type]
    assert exc.invalid_fields == (field,)


def test_rate_limit_error_keeps_retry_after():
    """retry_after is kept."""
    assert RateLimitError(status_code=429, retry_after=8.0).retry_after == 8.0


@pytest.mark.parametrize(
    "exc",
    [
        ReplicateError(message="boom"),
        APIError(status_code=500, title="t", detail="d", request_method="GET", request_path="/p"),
        ValidationError(status_code=422, invalid_fields=(InvalidField(field="input.x"),)),
        RateLimitError(status_code=429, retry_after=3.0),
        TransportError(message="connection reset", request_sent=True),
        RequestTimeout(message="read timeout", request_sent=True),
        DecodeError(message="not JSON", status_code=201),
        PredictionFailed(prediction=Prediction(id="x", status=PredictionStatus.FAILED)),
        PredictionTimeout(
            prediction=Prediction(id="x", status=PredictionStatus.STARTING), timeout=5
        ),
        WebhookVerificationError(reason="signature mismatch"),
        ClientClosedError(message="this AsyncClient is closed"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle(exc):
    """Errors survive pickling (process pools, multiprocessing) with their fields."""
    copy = pickle.loads(pickle.dumps(exc))  # noqa: S301
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    assert vars(copy).keys() == vars(exc).keys()


def test_transport_error_fields():
    """request_sent is kept."""
    assert TransportError(message="x", request_sent=False).request_sent is False


def test_decode_error_status():
    """DecodeError keeps the status code when known."""
    assert DecodeError(message="x", status_code=201).status_code == 201


def test_prediction_failed_message_has_error_and_last_logs():
    """The failure line carries the error text and the last log lines, on one line."""
    pred = _pred("failed", error="CUDA out of memory", logs="loading\nstep 1\nstep 2\nstep 3\n\n")
    exc = PredictionFailed(prediction=pred)
    assert str(exc) == (
        "prediction gm3qorzdhgbfurvjtvhg6dckhu failed: CUDA out of memory "
        "(last logs: step 1 | step 2 | step 3)"
    )
    assert exc.prediction is pred


def test_prediction_failed_without_error_or_logs():
    """With no error text and no logs the line still names the prediction."""
    exc = PredictionFailed(prediction=_pred("failed", logs=""))
    assert str(exc) == "prediction gm3qorzdhgbfurvjtvhg6dckhu failed"


def test_prediction_failed_non_string_error():
    """A structured error value is shown as text."""
    exc = PredictionFailed(prediction=_pred("failed", error={"code": 3}))
    assert "{'code': 3}" in str(exc)


def test_prediction_failed_long_logs_are_cut():
    """A long log tail is cut from the front, keeping the most recent text."""
    exc = PredictionFailed(prediction=_pred("failed", error="e", logs="y" * 2000 + "END"))
    assert str(exc).endswith("END)")
    assert len(str(exc)) < 400


def test_prediction_canceled_message():
    """Canceled predictions say so."""
    exc = PredictionCanceled(prediction=_pred("canceled"))
    assert str(exc) == "prediction gm3qorzdhgbfurvjtvhg6dckhu was canceled"


def test_prediction_aborted_message():
    """Aborted predictions say their deadline passed before they started."""
    exc = PredictionCanceled(prediction=_pred("aborted"))
    assert "aborted" in str(exc)
    assert "deadline" in str(exc)


def test_prediction_timeout_message_with_timeout():
    """The timeout line says how long and the last status."""
    exc = PredictionTimeout(prediction=_pred("processing"), timeout=600)
    assert str(exc) == (
        "prediction gm3qorzdhgbfurvjtvhg6dckhu did not finish within 600 s (last status: processing)"
    )
    assert exc.timeout == 600


def test_prediction_timeout_message_without_timeout():
    """Without a timeout value the line still reads well."""
    exc = PredictionTimeout(prediction=_pred("starting"))
    assert "did not finish in time" in str(exc)


def test_prediction_error_message_override():
    """An explicit message replaces the default line."""
    assert str(PredictionError(prediction=_pred("failed"), message="custom")) == "custom"


def test_prediction_error_default_message():
    """The base class describes the final status."""
    assert str(PredictionError(prediction=_pred("failed"))) == (
        "prediction gm3qorzdhgbfurvjtvhg6dckhu ended as failed"
    )


def test_webhook_verification_error_reason():
    """The reason is kept and shown."""
    exc = WebhookVerificationError(reason="timestamp too old")
    assert exc.reason == "timestamp too old"
    assert str(exc) == "webhook verification failed: timestamp too old"


def test_invalid_field_defaults():
    """InvalidField fields default to empty strings."""
    assert InvalidField() == InvalidField(type="", field="", description="")


@pytest.mark.parametrize(
    "error",
    [
        ServerError(status_code=503, title="busy", request_method="GET", request_path="/v1/x"),
        TransportError(message="broken", request_sent=True),
        WebhookVerificationError(reason="signature mismatch"),
    ],
)
def test_with_message_keeps_the_class_and_fields(error):
    """with_message gives an error of the same class, with the same fields, saying the new text."""
    changed = error.with_message("could not upload input.a")
    assert type(changed) is type(error)
    assert "could not upload input.a" in str(changed)
    for name in ("status_code", "request_sent", "request_method"):
        assert getattr(changed, name, None) == getattr(error, name, None)
