"""Decoding replies: recorded payloads, status code to error class, Retry-After, the token check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replicate_async._models import Deployment, Page, Prediction, PredictionStatus
from replicate_async._sansio.requests import REF_HELP
from replicate_async._sansio.responses import (
    check_token,
    decode,
    decode_prediction,
    error_for,
    header,
    retry_after,
)
from replicate_async.exceptions import (
    APIError,
    AuthenticationError,
    ClientError,
    DecodeError,
    InvalidField,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "r8_" + "Z" * 37


def fixture(name: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body bytes of a recorded reply in tests/fixtures."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data["status"], data["headers"], data["body"].encode()


VALIDATION_BODY = json.dumps(
    {
        "detail": '- input.output_format: output_format must be one of the following: "jpg", "png"\n'
        "- input.prompt: prompt is required\n",
        "status": 422,
        "title": "Input validation failed",
        "invalid_fields": [
            {"type": "enum", "field": "input.output_format", "description": "must be jpg or png"},
            {"type": "required", "field": "input.prompt", "description": "prompt is required"},
            "not an object",
        ],
    }
).encode()


# -- recorded successes ---------------------------------------------------------------------------


def test_decode_succeeded_prediction():
    """A recorded succeeded GET decodes with its timestamps, output, metrics and urls."""
    pred = decode_prediction(*fixture("prediction_succeeded.json"))
    assert pred.id == "vgcm4plb7tgzlyznry5d5jkgvu"
    assert pred.status is PredictionStatus.SUCCEEDED
    assert pred.created_at is not None
    assert pred.created_at.tzinfo is UTC
    assert pred.output
    assert pred.metrics is not None
    assert pred.metrics.predict_time is not None
    assert pred.urls.get == "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu"


def test_decode_processing_with_output():
    """The recorded sync reply is processing, with output, without completed_at or metrics."""
    pred = decode_prediction(*fixture("prediction_processing_with_output.json"))
    assert pred.status is PredictionStatus.PROCESSING
    assert not pred.status.is_terminal
    assert isinstance(pred.output, list)
    assert pred.output
    assert pred.completed_at is None
    assert pred.metrics is None
    assert pred.version == "dp-a557b7387b4940df25b23f779dc534c4"
    assert pred.urls.stream is not None


def test_decode_canceled_prediction_keeps_legacy_key():
    """The recorded cancel reply decodes; webhook_completed is kept in extra."""
    pred = decode_prediction(*fixture("prediction_canceled.json"))
    assert pred.status is PredictionStatus.CANCELED
    assert pred.logs is None
    assert pred.extra == {"webhook_completed": None}


def test_decode_page_with_next():
    """A page decodes its predictions and its next cursor."""
    page = decode(*fixture("page_with_next.json"), Page[Prediction])
    assert page.next is not None
    assert page.next.startswith("https://api.replicate.com/v1/predictions?cursor=")
    assert page.previous is None
    assert [p.status for p in page.results] == [
        PredictionStatus.SUCCEEDED,
        PredictionStatus.CANCELED,
    ]


def test_decode_accepts_str_body():
    """A body given as text decodes like bytes."""
    assert decode_prediction(200, {}, '{"id": "x", "status": "starting"}').id == "x"


# -- malformed successes ----------------------------------------------------------------------------


def test_decode_non_json_body():
    """A non-JSON success body raises DecodeError with the status, request and an excerpt."""
    with pytest.raises(DecodeError) as info:
        decode_prediction(
            201,
            {"Content-Type": "text/html"},
            b"<html>\n<b>oops</b></html>",
            method="POST",
            path="/v1/predictions",
        )
    assert str(info.value) == (
        "HTTP 201 on POST /v1/predictions: the reply is not JSON (text/html): '<html> <b>oops</b></html>'"
    )
    assert info.value.status_code == 201
    assert isinstance(info.value.__cause__, ValueError)


def test_decode_non_json_without_content_type():
    """Without a content type the message says so."""
    with pytest.raises(DecodeError, match="no content type"):
        decode_prediction(200, {}, b"x" * 500)


def test_decode_long_body_excerpt_is_cut():
    """The excerpt of a long body is capped."""
    with pytest.raises(DecodeError) as info:
        decode_prediction(200, {}, b"y" * 5000)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_decode_empty_body(body):
    """An empty success body raises DecodeError."""
    with pytest.raises(DecodeError, match="empty body"):
        decode_prediction(200, {}, body)


def test_decode_wrong_shape():
    """JSON of the wrong shape raises DecodeError naming the field, chained from cattrs."""
    with pytest.raises(
        DecodeError, match=r"HTTP 200 on GET /v1/predictions/x: .*Prediction\.status"
    ) as info:
        decode_prediction(200, {}, b'{"id": "x"}', method="GET", path="/v1/predictions/x")
    assert info.value.__cause__ is not None


def test_decode_unexpected_status():
    """A 3xx where a prediction belongs raises DecodeError."""
    with pytest.raises(DecodeError, match="HTTP 304: unexpected status"):
        decode_prediction(304, {}, b"")


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ClientError),
        (401, AuthenticationError),
        (402, ClientError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ClientError),
        (413, ClientError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (599, ServerError),
    ],
)
def test_status_to_error_class(status, cls):
    """Each status maps to its class exactly, and keeps the status code."""
    exc = error_for(status, {}, b'{"detail": "x"}')
    assert type(exc) is cls
    assert exc.status_code == status


def test_decode_raises_error_for_status():
    """decode_prediction raises the mapped error for >= 400."""
    with pytest.raises(ServerError):
        decode_prediction(500, {}, b"")


def test_status_below_400_is_plain_api_error():
    """error_for on a non-error status still returns an APIError."""
    assert type(error_for(302, {}, b"")) is APIError


def test_recorded_401():
    """The recorded 401 says the token was refused and to check REPLICATE_API_TOKEN."""
    status, headers, body = fixture("error_401.json")
    exc = error_for(status, headers, body, method="POST", path="/v1/predictions")
    assert isinstance(exc, AuthenticationError)
    assert str(exc) == (
        "HTTP 401 on POST /v1/predictions: the API token was refused "
        "(Unauthenticated: You did not pass a valid authentication token); "
        "check REPLICATE_API_TOKEN or the api_token= argument"
    )
    assert exc.title == "Unauthenticated"


def test_401_never_contains_the_token():
    """Even a server echoing the token does not put it in the message."""
    exc = error_for(401, {}, json.dumps({"detail": f"bad token {TOKEN}"}).encode())
    assert TOKEN not in str(exc)


def test_recorded_404_without_ref():
    """A 404 without a ref keeps the server's detail."""
    status, headers, body = fixture("error_404.json")
    exc = error_for(status, headers, body)
    assert isinstance(exc, NotFoundError)
    assert str(exc) == "HTTP 404: The specified training destination does not exist"


def test_404_for_model_ref():
    """A 404 for owner/name says which model was not found and how to pin a version."""
    body = b'{"detail":"The requested resource could not be found.","status":404}'
    exc = error_for(
        404, {}, body, method="POST", path="/v1/models/acme/private/predictions", ref="acme/private"
    )
    message = str(exc)
    assert "model 'acme/private' was not found" in message
    assert "'owner/name:<64-hex version id>'" in message
    assert "official" in message


def test_404_for_deployment_ref():
    """A 404 for a deployment names the deployment."""
    exc = error_for(404, {}, b'{"detail":"Not found."}', ref=Deployment("acme/dep"))
    assert "deployment 'acme/dep' was not found" in str(exc)


def test_404_for_version_ref():
    """A 404 for a version names it and says how refs are written."""
    version = "a" * 64
    exc = error_for(404, {}, b'{"detail":"Not found."}', ref=version)
    assert f"model version '{version}' was not found" in str(exc)
    assert REF_HELP in str(exc)


def test_404_for_malformed_ref_still_reads_well():
    """A ref that does not parse is still named, with the help text."""
    exc = error_for(404, {}, b"", ref="Nope")
    assert "model reference 'Nope' was not found (Not Found)" in str(exc)
    assert REF_HELP in str(exc)


def test_422_keeps_invalid_fields_and_one_line():
    """A 422 keeps invalid_fields (skipping junk entries) and collapses the bulleted detail."""
    exc = error_for(
        422,
        {"Content-Type": "application/problem+json"},
        VALIDATION_BODY,
        method="POST",
        path="/v1/predictions",
    )
    assert isinstance(exc, ValidationError)
    assert exc.invalid_fields == (
        InvalidField(type="enum", field="input.output_format", description="must be jpg or png"),
        InvalidField(type="required", field="input.prompt", description="prompt is required"),
    )
    assert str(exc) == (
        "HTTP 422 on POST /v1/predictions: Input validation failed: input.output_format: "
        'output_format must be one of the following: "jpg", "png"; input.prompt: prompt is required'
    )


def test_422_with_ref_names_it():
    """A 422 on a create names the model reference."""
    body = b'{"title":"Invalid version or not permitted","detail":"The specified version does not exist","status":422}'
    exc = error_for(422, {}, body, ref=Deployment("a/b"))
    assert "(model reference \"Deployment('a/b')\")" in str(exc)
    exc = error_for(422, {}, body, ref="a/b")
    assert "(model reference 'a/b')" in str(exc)


def test_422_with_invalid_fields_not_a_list():
    """A malformed invalid_fields gives an empty tuple."""
    exc = error_for(422, {}, b'{"invalid_fields": {"a": 1}}')
    assert isinstance(exc, ValidationError)
    assert exc.invalid_fields == ()


def test_422_entry_with_non_string_members():
    """Non-string members of an invalid field are rendered as JSON text."""
    exc = error_for(422, {}, b'{"invalid_fields": [{"type": 1, "field": null}]}')
    assert isinstance(exc, ValidationError)
    assert exc.invalid_fields == (InvalidField(type="1", field="", description=""),)


def test_429_takes_retry_after_header():
    """A 429 carries retry_after from the header."""
    body = b'{"detail":"Request was throttled. Your rate limit resets in ~8s.","status":429,"retry_after":8}'
    exc = error_for(429, {"Retry-After": "3"}, body)
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 3.0
    assert str(exc) == "HTTP 429: Request was throttled. Your rate limit resets in ~8s."


def test_429_falls_back_to_body_retry_after():
    """Without the header, the body's retry_after is used."""
    exc = error_for(429, {}, b'{"detail":"slow down","retry_after":8}')
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 8.0


def test_error_keeps_problem_members():
    """type, instance, and the decoded body are kept."""
    exc = error_for(
        409, {}, b'{"type":"https://x/t","instance":"/i","title":"Conflict","status":409}'
    )
    assert (exc.type, exc.instance, exc.body["status"]) == ("https://x/t", "/i", 409)


def test_error_html_body():
    """An HTML error page is described, not dumped."""
    exc = error_for(
        502, {}, b"<!DOCTYPE html><html>...</html>", method="GET", path="/v1/predictions/x"
    )
    assert str(exc) == "HTTP 502 on GET /v1/predictions/x: the server sent an HTML error page"


def test_error_text_body():
    """A plain-text error body is quoted, on one line."""
    exc = error_for(503, {}, b"upstream\nconnect error")
    assert str(exc) == "HTTP 503: upstream connect error"
    assert exc.body == "upstream\nconnect error"


def test_error_empty_body_uses_reason_phrase():
    """An empty error body falls back to the standard reason phrase."""
    assert str(error_for(500, {}, b"")) == "HTTP 500: Internal Server Error"
    assert error_for(500, {}, None).body is None


def test_error_unknown_status_without_body():
    """A non-standard status with no body still gives a sentence."""
    assert str(error_for(599, {}, b"")) == "HTTP 599: the API returned an error"


def test_error_json_not_object():
    """A JSON error body that is not an object is kept as the body."""
    exc = error_for(400, {}, b"[1, 2]")
    assert exc.body == [1, 2]
    assert str(exc) == "HTTP 400: Bad Request"


def test_error_detail_with_raw_newline_in_string():
    """A JSON error body with a raw newline inside a string still parses."""
    exc = error_for(400, {}, b'{"detail": "line one\nline two"}')
    assert str(exc) == "HTTP 400: line one; line two"


# -- retry_after ------------------------------------------------------------------------------------


def test_retry_after_seconds():
    """An integer Retry-After is seconds."""
    assert retry_after({"Retry-After": "8"}) == 8.0


def test_retry_after_case_insensitive():
    """Header lookup ignores case on plain dicts."""
    assert retry_after({"retry-after": "2.5"}) == 2.5


def test_retry_after_negative_is_zero():
    """A negative value means now."""
    assert retry_after({"Retry-After": "-3"}) == 0.0


def test_retry_after_http_date():
    """An HTTP date is turned into seconds from now."""
    now = datetime(2024, 10, 4, 18, 0, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "Fri, 04 Oct 2024 18:00:30 GMT"}, now=now) == 30.0


def test_retry_after_http_date_in_the_past():
    """A past date means now."""
    now = datetime(2024, 10, 4, 18, 0, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "Fri, 04 Oct 2024 17:00:00 GMT"}, now=now) == 0.0


def test_retry_after_http_date_uses_clock():
    """Without now=, a far-future date gives a large positive delay."""
    assert retry_after({"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}) > 1e6


def test_retry_after_naive_http_date():
    """A date without a zone (-0000) is read as UTC."""
    now = datetime(2024, 10, 4, 18, 0, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "Fri, 04 Oct 2024 18:00:10 -0000"}, now=now) == 10.0


def test_retry_after_body_bytes():
    """Without a header, the raw body's retry_after is used."""
    assert retry_after({}, b'{"retry_after": 8}') == 8.0


def test_retry_after_body_decoded():
    """A decoded body works too."""
    assert retry_after({}, {"retry_after": 7}) == 7.0


def test_retry_after_body_numeric_string():
    """A numeric string in the body counts."""
    assert retry_after({}, {"retry_after": "4"}) == 4.0


def test_retry_after_garbage_header_falls_back_to_body():
    """An unusable header falls back to the body."""
    assert retry_after({"Retry-After": "soon"}, {"retry_after": 5}) == 5.0


@pytest.mark.parametrize(
    "body",
    [
        None,
        b"",
        b"not json",
        {"retry_after": True},
        {"retry_after": "x"},
        {"retry_after": None},
        {"retry_after": float("inf")},
        [1],
    ],
)
def test_retry_after_none_when_unusable(body):
    """Nothing usable gives None."""
    assert retry_after({}, body) is None


def test_header_missing():
    """A missing header is None."""
    assert header({"A": "1"}, "B") is None


# -- check_token ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "   ", "\n"])
def test_missing_token(token):
    """A missing token fails before any request, naming the variable and the argument."""
    with pytest.raises(AuthenticationError) as info:
        check_token(token)
    assert info.value.status_code is None
    assert "REPLICATE_API_TOKEN" in str(info.value)
    assert "api_token=" in str(info.value)


def test_token_is_stripped():
    """A trailing newline (token read from a file) is dropped."""
    assert check_token(f"{TOKEN}\n") == TOKEN


@pytest.mark.parametrize(
    "token", [f"{TOKEN} extra", f"r8_a\x00{TOKEN}", f"{TOKEN[:10]}\n{TOKEN[10:]}"]
)
def test_token_with_inner_whitespace_or_control(token):
    """A token with inner whitespace or control characters is refused, without echoing it."""
    with pytest.raises(AuthenticationError) as info:
        check_token(token)
    assert str(info.value) == (
        "the Replicate API token contains spaces or control characters; "
        "check REPLICATE_API_TOKEN or the api_token= argument"
    )


def test_non_string_token():
    """A token of the wrong type is treated as missing."""
    with pytest.raises(AuthenticationError, match="no Replicate API token"):
        check_token(42)  # type: ignore[arg-type]
