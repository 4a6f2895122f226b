# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Properties of webhooks.verify and webhooks.parse on arbitrary, hostile deliveries.

verify() either returns (only when the signature really matches, within the tolerance) or raises
WebhookVerificationError; parse() either decodes a Prediction or raises DecodeError. Nothing else
escapes, whatever the headers' shape (mappings or pairs, str or bytes), body or timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from replicate_async import webhooks
from replicate_async._models import Prediction
from replicate_async._sansio.signing import decode_secret, generate_secret, sign
from replicate_async.exceptions import DecodeError, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_700_000_000.0
NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")

# Text of every kind, lone surrogates included (a str header a framework got wrong).
any_text = st.text(st.characters(), max_size=40)
header_text = st.one_of(
    any_text, st.sampled_from(NAMES), st.sampled_from([n.upper() for n in NAMES])
)
header_part = st.one_of(header_text, header_text.map(lambda t: t.encode("utf-8", "surrogatepass")))
timestamps = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=int(NOW) - 1000, max_value=int(NOW) + 1000).map(str),
    any_text,
)
bodies = st.one_of(st.binary(max_size=200), any_text)


def _really_signed(headers: Any, body: bytes | str, secret: str) -> bool:
    """Whether the first signature headers hold a v1 signature of *body* under *secret*."""
    found: dict[str, str] = {}
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        key = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
        if key in NAMES and key not in found:
            found[key] = value.decode("latin-1") if isinstance(value, bytes) else value
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    signed = f"{found['webhook-id']}.{found['webhook-timestamp']}.".encode() + raw
    expected = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    for entry in found["webhook-signature"].split():
        version, _, encoded = entry.partition(",")
        if version == "v1" and encoded:
            try:
                if base64.b64decode(encoded, validate=True) == expected:
                    return True
            except ValueError:
                continue
    return False


def _check(headers: Any, body: bytes | str, secret: str, tolerance: float = 300) -> None:
    """Call verify; when it returns, the delivery must really be signed and recent."""
    refusal = ""
    try:
        webhooks.verify(headers, body, secret, tolerance, now=NOW)
    except WebhookVerificationError as exc:
        refusal = str(exc) or "(empty message)"
    if refusal:
        assert "\n" not in refusal  # one readable line
    else:
        assert _really_signed(headers, body, secret)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(st.tuples(header_part, header_part), max_size=6),
    as_dict=st.booleans(),
    body=bodies,
    secret=st.one_of(st.just(SECRET), any_text),
)
@example(
    pairs=[
        ("webhook-id", "\ud800"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", "v1,AAAA"),
    ],
    as_dict=True,
    body=b"{}",
    secret=SECRET,
)
@example(
    pairs=[
        ("webhook-id", "m"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", "v1,AAAA"),
    ],
    as_dict=False,
    body="\udcff",
    secret=SECRET,
)
@example(
    pairs=[
        ("webhook-id", "m"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", "v1,AAAA"),
    ],
    as_dict=True,
    body=b"",
    secret="whsec_\ud800",
)
def test_verify_returns_only_for_a_real_signature_or_raises_its_own_error(
    pairs: list[tuple[str | bytes, str | bytes]], as_dict: bool, body: bytes | str, secret: str
) -> None:
    """Arbitrary headers, bodies and secrets: verify returns only for a real signature, else WebhookVerificationError."""
    headers: Any = dict(pairs) if as_dict else pairs
    _check(headers, body, secret)


@settings(max_examples=300)
@given(
    msg_id=any_text,
    timestamp=timestamps,
    body=bodies,
    tamper=st.sampled_from(["none", "body", "timestamp", "id", "secret"]),
    as_bytes=st.booleans(),
)
def test_verify_accepts_exactly_the_untampered_recent_deliveries(
    msg_id: str, timestamp: str, body: bytes | str, tamper: str, as_bytes: bool
) -> None:
    """A delivery signed with the secret verifies when untampered and recent; any change is refused with our error."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        key = decode_secret(SECRET)
        signed = (
            msg_id.encode("utf-8", "surrogatepass")
            + b"."
            + timestamp.encode("utf-8", "surrogatepass")
            + b"."
            + raw
        )
    except UnicodeError:  # pragma: no cover - surrogatepass encodes every str
        return
    signature = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    secret = SECRET
    if tamper == "body":
        body = raw + b"!"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(NOW))
    elif tamper == "id":
        headers["webhook-id"] = msg_id + "x"
    elif tamper == "secret":
        secret = generate_secret()
    given_headers: Any = (
        [(k.encode(), v.encode("utf-8", "surrogatepass")) for k, v in headers.items()]
        if as_bytes
        else headers
    )
    _check(given_headers, body, secret)


@given(timestamp=st.integers(min_value=0, max_value=10**12), tolerance=st.floats(0.001, 1e9))
def test_a_real_signature_verifies_only_within_the_tolerance(
    timestamp: int, tolerance: float
) -> None:
    """A correctly signed delivery verifies iff its timestamp is within tolerance of now."""
    body = b'{"id": "x"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(SECRET, "msg_1", timestamp, body),
    }
    within = NOW - tolerance <= timestamp <= NOW + tolerance
    try:
        webhooks.verify(headers, body, SECRET, tolerance, now=NOW)
    except WebhookVerificationError:
        assert not within
    else:
        assert within


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
prediction_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "status": st.one_of(st.sampled_from(["succeeded", "failed", "processing"]), json_values),
        "input": json_values,
        "output": json_values,
        "created_at": st.one_of(st.just("2024-04-03T10:00:00Z"), json_values),
        "urls": json_values,
        "metrics": json_values,
        "logs": json_values,
    },
)


@settings(max_examples=300)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        any_text,
        json_values.map(json.dumps),
        prediction_like.map(json.dumps),
        prediction_like.map(lambda d: json.dumps(d).encode()),
    )
)
@example(body="[" * 100_000)
@example(body=b"\xff\xfe\x00")
@example(body="1" * 5000)
def test_parse_decodes_or_raises_decode_error(body: bytes | str) -> None:
    """Arbitrary bytes or text: parse returns a Prediction or raises DecodeError, nothing else."""
    result: object = None
    try:
        result = webhooks.parse(body)
    except DecodeError as exc:
        result = str(exc)
    if isinstance(result, str):
        assert result
        assert "\n" not in result
    else:
        assert isinstance(result, Prediction)
