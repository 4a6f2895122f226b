"""The sans-I/O Standard Webhooks signing core."""

from __future__ import annotations

import base64

import pytest

from replicate_async._sansio.signing import (
    SECRET_PREFIX,
    check,
    decode_secret,
    generate_secret,
    sign,
    signed_headers,
)
from replicate_async.exceptions import WebhookVerificationError

# The published test vector of Standard Webhooks: standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py (test_sign_function, and DEFAULT_MSG_ID /
# DEFAULT_PAYLOAD / DEFAULT_SECRET there). The expected signature was recomputed here with
# hmac + base64 before use, and test_vector_signature checks it against `sign`.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# Same file, test_invalid_signature_raises_error: the vector with its last character changed.
WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
# Same file, test_multi_sig_payload_is_valid: entries that match nothing.
OTHER_SIGNATURE = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="


def _check(**overrides):
    """Run `check` on the vector, with some arguments replaced."""
    kwargs = {
        "secret": SECRET,
        "msg_id": MSG_ID,
        "timestamp": str(TIMESTAMP),
        "signature": SIGNATURE,
        "body": BODY,
        "now": float(TIMESTAMP),
        "tolerance": 300.0,
        **overrides,
    }
    check(kwargs.pop("secret"), **kwargs)


def _reason(**overrides):
    """The reason `check` gives for refusing the vector with some arguments replaced."""
    with pytest.raises(WebhookVerificationError) as info:
        _check(**overrides)
    return info.value.reason


# -- sign -------------------------------------------------------------------------------------


def test_vector_signature():
    """`sign` reproduces the Standard Webhooks test vector."""
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_sign_str_body_as_utf8():
    """A str body is signed as its UTF-8 bytes."""
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY.decode()) == SIGNATURE


def test_sign_secret_without_prefix():
    """The `whsec_` prefix is optional, as in the reference library."""
    assert sign(SECRET.removeprefix(SECRET_PREFIX), MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_sign_refuses_malformed_secret():
    """A secret that is not base64 raises ValueError."""
    with pytest.raises(ValueError, match="base64"):
        sign("whsec_not base64!", MSG_ID, TIMESTAMP, BODY)


def test_signed_headers():
    """The three headers carry the id, the timestamp as text and the signature."""
    assert signed_headers(SECRET, MSG_ID, TIMESTAMP, BODY) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": SIGNATURE,
    }


# -- secrets ----------------------------------------------------------------------------------


def test_decode_secret_vector():
    """The key is the base64 decoding of the part after `whsec_` (24 bytes for the vector)."""
    assert decode_secret(SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_decode_secret_accepts_missing_padding():
    """Unpadded base64 is accepted, as the reference library does."""
    padded = "whsec_" + base64.b64encode(b"k" * 25).decode()
    assert padded.endswith("=")
    assert decode_secret(padded.rstrip("=")) == b"k" * 25


@pytest.mark.parametrize(
    "secret", ["whsec_not base64!", "whsec_abcde", "whsec_é", "whsec_-_-_"], ids=repr
)
def test_decode_secret_refuses_non_base64(secret):
    """Text that is not standard base64 raises ValueError without echoing the secret."""
    with pytest.raises(ValueError, match="base64") as info:
        decode_secret(secret)
    assert secret.removeprefix(SECRET_PREFIX) not in str(info.value)


@pytest.mark.parametrize("secret", ["", "whsec_"])
def test_decode_secret_refuses_empty_key(secret):
    """A secret with no key bytes raises ValueError."""
    with pytest.raises(ValueError, match="empty"):
        decode_secret(secret)


def test_generate_secret_shape():
    """A generated secret is `whsec_` and 32 random bytes in base64."""
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(decode_secret(secret)) == 32


def test_generate_secret_is_random():
    """Two generated secrets differ."""
    assert generate_secret() != generate_secret()


def test_generated_secret_round_trip():
    """A delivery signed with a generated secret checks out with it."""
    secret = generate_secret()
    headers = signed_headers(secret, "msg_1", 1_700_000_000, b"{}")
    check(
        secret,
        msg_id=headers["webhook-id"],
        timestamp=headers["webhook-timestamp"],
        signature=headers["webhook-signature"],
        body=b"{}",
        now=1_700_000_000,
        tolerance=300,
    )


# -- check ------------------------------------------------------------------------------------


def test_check_accepts_vector():
    """The test vector verifies at its own timestamp."""
    _check()


def test_check_refuses_wrong_signature():
    """The vector's signature with one character changed does not verify."""
    assert _reason(signature=WRONG_SIGNATURE) == "no matching signature"


def test_check_refuses_wrong_secret():
    """A signature made with another secret does not verify."""
    assert _reason(secret=generate_secret()) == "no matching signature"


def test_check_refuses_tampered_body():
    """A body differing by one byte does not verify."""
    assert _reason(body=BODY.replace(b"4", b"5", 1)) == "no matching signature"


def test_check_refuses_other_message_id():
    """The message id is part of the signed text."""
    assert _reason(msg_id="msg_other") == "no matching signature"


def test_check_refuses_replay_with_new_timestamp():
    """A captured delivery re-sent with a fresh timestamp does not verify."""
    assert _reason(timestamp=str(TIMESTAMP + 60), now=TIMESTAMP + 60) == "no matching signature"


def test_check_accepts_one_valid_among_several():
    """Several space-separated entries verify when any v1 entry matches (reference vector)."""
    signature = " ".join(
        [f"v1,{OTHER_SIGNATURE}", f"v2,{OTHER_SIGNATURE}", SIGNATURE, f"v1,{OTHER_SIGNATURE}"]
    )
    _check(signature=signature)


def test_check_tolerates_repeated_spaces():
    """Extra whitespace between entries is not an entry."""
    _check(signature=f"  v1,{OTHER_SIGNATURE}   {SIGNATURE} ")


def test_check_ignores_other_versions():
    """The right digest under a version other than v1 does not count."""
    digest = SIGNATURE.removeprefix("v1,")
    assert _reason(signature=f"v2,{digest} v1a,{digest}") == "no matching signature"


def test_check_skips_entries_without_comma():
    """An entry with no version separator is skipped, not an error."""
    _check(signature=f"garbage {SIGNATURE}")


def test_check_skips_entries_with_bad_base64():
    """An entry whose signature is not base64 is skipped, not an error."""
    _check(signature=f"v1,not!base64 {SIGNATURE}")


def test_check_refuses_bare_digest():
    """A digest without its `v1,` prefix does not count."""
    assert _reason(signature=SIGNATURE.removeprefix("v1,")) == "no matching signature"


def test_check_refuses_malformed_secret():
    """A secret that is not base64 is refused before anything else."""
    assert _reason(secret="whsec_%%%").startswith("malformed secret")


def test_check_malformed_secret_reason_hides_secret():
    """The refusal for a malformed secret does not contain the secret."""
    assert "sekrit" not in _reason(secret="whsec_sekrit!")


def test_check_accepts_timestamp_at_tolerance_edge():
    """Exactly `tolerance` seconds away is still accepted, both ways."""
    _check(now=TIMESTAMP + 300.0)
    _check(now=TIMESTAMP - 300.0)


def test_check_refuses_stale_timestamp():
    """A timestamp more than `tolerance` seconds old is refused."""
    assert _reason(now=TIMESTAMP + 301.0) == "timestamp too old"


def test_check_refuses_future_timestamp():
    """A timestamp more than `tolerance` seconds ahead is refused."""
    assert _reason(now=TIMESTAMP - 301.0) == "timestamp in the future"


@pytest.mark.parametrize(
    "timestamp", ["hello", "", "-1", "1614265330.0", " 1614265330", "\u0661\u0662", "9" * 16]
)
def test_check_refuses_invalid_timestamp(timestamp):
    """A timestamp that is not plain ASCII digits (of sane length) is refused."""
    assert _reason(timestamp=timestamp) == "invalid webhook-timestamp header"
