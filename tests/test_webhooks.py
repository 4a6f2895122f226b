"""The public webhook helpers: verify() and parse()."""

from __future__ import annotations

import json
import time
from typing import get_args

import httpx
import pytest
from starlette.datastructures import Headers as StarletteHeaders

from replicate_async import webhooks
from replicate_async._models import Prediction, PredictionStatus
from replicate_async._sansio.signing import generate_secret, sign, signed_headers
from replicate_async.exceptions import DecodeError, ReplicateError, WebhookVerificationError

# The published Standard Webhooks test vector: standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py (test_sign_function; DEFAULT_MSG_ID, DEFAULT_PAYLOAD,
# DEFAULT_SECRET). The signature was recomputed with hmac + base64 before use, and
# test_signing.py::test_vector_signature checks it against our signer.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# Same file, test_multi_sig_payload_is_valid: an entry that matches nothing.
OTHER_SIGNATURE = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

HEADERS = {
    "webhook-id": MSG_ID,
    "webhook-timestamp": str(TIMESTAMP),
    "webhook-signature": SIGNATURE,
}

# A delivery body shaped like Replicate's (a prediction, as GET returns it).
DELIVERY = {
    "id": "ufawqhfynnddngldkgtslldrkq",
    "model": "replicate/hello-world",
    "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    "input": {"text": "Alice"},
    "output": "hello Alice",
    "logs": "",
    "error": None,
    "status": "succeeded",
    "created_at": "2024-04-03T10:00:00.000000Z",
    "started_at": "2024-04-03T10:00:01.000000Z",
    "completed_at": "2024-04-03T10:00:02.000000Z",
    "urls": {
        "get": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq",
        "cancel": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel",
    },
    "metrics": {"predict_time": 0.5},
    "webhook": "https://example.com/replicate-webhook?job=7",
    "webhook_events_filter": ["start", "completed"],
}


def _verify(headers=None, body=BODY, secret=SECRET, **kwargs):
    """verify() on the vector, at the vector's own time unless told otherwise."""
    kwargs.setdefault("now", float(TIMESTAMP))
    webhooks.verify(HEADERS if headers is None else headers, body, secret, **kwargs)


def _reason(*args, **kwargs):
    """The reason verify() gives for refusing a delivery."""
    with pytest.raises(WebhookVerificationError) as info:
        _verify(*args, **kwargs)
    return info.value.reason


# -- Accepted deliveries ----------------------------------------------------------------------


def test_vector_verifies():
    """The Standard Webhooks test vector verifies and verify() returns None."""
    assert webhooks.verify(HEADERS, BODY, SECRET, now=TIMESTAMP) is None


def test_fresh_delivery_verifies_against_the_clock():
    """Without `now`, the system clock is used: a delivery signed just now verifies."""
    secret = generate_secret()
    headers = signed_headers(secret, "msg_1", int(time.time()), b"{}")
    webhooks.verify(headers, b"{}", secret)


def test_str_body_verifies():
    """A str body is checked as its UTF-8 bytes."""
    _verify(body=BODY.decode())


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_buffer_body_verifies(kind):
    """A bytearray or memoryview body is checked as its bytes."""
    _verify(body=kind(BODY))


def test_non_ascii_body_verifies():
    """A body with non-ASCII text signed as UTF-8 verifies given as bytes or str."""
    body = '{"text": "café 😀"}'
    headers = signed_headers(SECRET, MSG_ID, TIMESTAMP, body.encode())
    _verify(headers, body.encode())
    _verify(headers, body)


def test_uppercase_header_names():
    """Header names are matched in any case."""
    _verify({name.upper(): value for name, value in HEADERS.items()})


def test_mixed_case_header_names():
    """Header names in title case (as some frameworks spell them) are matched."""
    _verify({name.title(): value for name, value in HEADERS.items()})


def test_httpx_headers():
    """An httpx.Headers object works."""
    _verify(httpx.Headers(HEADERS))


def test_starlette_headers():
    """A Starlette Headers object (what an ASGI endpoint's request.headers is) works."""
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
    _verify(StarletteHeaders(raw=raw))


def test_list_of_str_pairs():
    """A list of (name, value) str pairs works."""
    _verify([("Content-Type", "application/json"), *HEADERS.items()])


def test_raw_asgi_byte_pairs():
    """An ASGI scope's raw headers (lower-case byte pairs) work."""
    _verify([(name.encode(), value.encode()) for name, value in HEADERS.items()])


def test_several_signatures_one_valid():
    """A signature header with several entries verifies when one v1 entry matches."""
    signature = f"v1,{OTHER_SIGNATURE} v2,{OTHER_SIGNATURE} {SIGNATURE}"
    _verify({**HEADERS, "webhook-signature": signature})


def test_secret_without_prefix():
    """The base64 key alone (no `whsec_`) is accepted as the secret."""
    _verify(secret=SECRET.removeprefix("whsec_"))


def test_first_duplicate_header_wins():
    """With a header repeated in pairs, the first value is used."""
    pairs = [*HEADERS.items(), ("webhook-id", "msg_forged")]
    _verify(pairs)


def test_custom_tolerance():
    """A wider tolerance accepts an older delivery."""
    _verify(now=TIMESTAMP + 3600, tolerance=3601)


# -- Refused deliveries: one test per reason --------------------------------------------------


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(name):
    """A delivery without one of the three headers is refused, naming it."""
    headers = {k: v for k, v in HEADERS.items() if k != name}
    assert _reason(headers) == f"missing {name} header"


def test_empty_header_counts_as_missing():
    """A header present with an empty value is refused as missing."""
    assert _reason({**HEADERS, "webhook-id": ""}) == "missing webhook-id header"


def test_all_headers_missing():
    """A delivery with none of the headers names all three."""
    reason = _reason({"content-type": "application/json"})
    assert reason == "missing webhook-id, webhook-timestamp, webhook-signature headers"


def test_bad_timestamp():
    """A timestamp that is not Unix seconds is refused."""
    reason = _reason({**HEADERS, "webhook-timestamp": "hello"})
    assert reason == "invalid webhook-timestamp header"


def test_stale_timestamp():
    """A delivery signed more than five minutes ago is refused."""
    assert _reason(now=TIMESTAMP + 301) == "timestamp too old"


def test_future_timestamp():
    """A delivery timestamped more than five minutes ahead is refused."""
    assert _reason(now=TIMESTAMP - 301) == "timestamp in the future"


def test_wrong_signature():
    """A signature that is not the body's HMAC is refused."""
    headers = {**HEADERS, "webhook-signature": f"v1,{OTHER_SIGNATURE}"}
    assert _reason(headers) == "no matching signature"


def test_wrong_secret():
    """A delivery checked with another account's secret is refused."""
    assert _reason(secret=generate_secret()) == "no matching signature"


def test_malformed_secret():
    """A secret that is not `whsec_` and base64 is refused with its own reason."""
    assert _reason(secret="whsec_not base64!").startswith("malformed secret")


def test_tampered_body():
    """A body changed after signing is refused."""
    assert _reason(body=b'{"test": 2432232315}') == "no matching signature"


def test_v2_only_signatures_refused():
    """Entries under versions other than v1 are ignored, even with the right digest."""
    digest = SIGNATURE.removeprefix("v1,")
    headers = {**HEADERS, "webhook-signature": f"v2,{digest} v1a,{digest}"}
    assert _reason(headers) == "no matching signature"


def test_refusal_is_a_replicate_error_with_readable_message():
    """The refusal is a ReplicateError whose message names the reason and not the secret."""
    with pytest.raises(ReplicateError) as info:
        _verify(secret="whsec_c2VjcmV0LXZhbHVlLWhlcmU=")
    assert str(info.value) == "webhook verification failed: no matching signature"
    assert "c2VjcmV0" not in repr(info.value)


def test_refusal_exported_from_webhooks_module():
    """WebhookVerificationError can be imported from the webhooks module too."""
    assert webhooks.WebhookVerificationError is WebhookVerificationError


# -- Events and parse -------------------------------------------------------------------------


def test_webhook_events_constant():
    """WEBHOOK_EVENTS lists the four events of the Literal type, in lifecycle order."""
    assert webhooks.WEBHOOK_EVENTS == ("start", "output", "logs", "completed")
    assert get_args(webhooks.WebhookEvent) == webhooks.WEBHOOK_EVENTS


def test_parse_delivery():
    """A delivery body decodes into the Prediction it carries."""
    prediction = webhooks.parse(json.dumps(DELIVERY).encode())
    assert isinstance(prediction, Prediction)
    assert prediction.id == DELIVERY["id"]
    assert prediction.status is PredictionStatus.SUCCEEDED
    assert prediction.output == "hello Alice"
    assert prediction.webhook_events_filter == ("start", "completed")


def test_parse_str_body():
    """A str body decodes the same as bytes."""
    body = json.dumps(DELIVERY)
    assert webhooks.parse(body) == webhooks.parse(body.encode())


def test_parse_after_verify():
    """A body signed and verified parses to its prediction (the documented receiving flow)."""
    body = json.dumps(DELIVERY).encode()
    headers = signed_headers(SECRET, "msg_2", TIMESTAMP, body)
    webhooks.verify(headers, body, SECRET, now=TIMESTAMP)
    assert webhooks.parse(body).id == DELIVERY["id"]


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe{", b""], ids=repr)
def test_parse_refuses_non_json(body):
    """A body that is not JSON raises DecodeError."""
    with pytest.raises(DecodeError, match="webhook body is not JSON"):
        webhooks.parse(body)


def test_parse_refuses_non_prediction():
    """JSON that is not a prediction raises DecodeError."""
    with pytest.raises(DecodeError):
        webhooks.parse(b'{"test": 2432232314}')


def test_signature_depends_on_exact_bytes():
    """Re-serialised JSON (different spacing) does not verify: verify the raw body."""
    body = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert body != BODY
    assert sign(SECRET, MSG_ID, TIMESTAMP, body) != SIGNATURE
    assert _reason(body=body) == "no matching signature"
