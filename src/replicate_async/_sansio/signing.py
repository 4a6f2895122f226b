"""Standard Webhooks signing, sans I/O: the HMAC scheme Replicate signs its webhooks with.

The scheme (https://github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md;
Replicate's "Verify webhooks" page): the content signed is ``{webhook-id}.{webhook-timestamp}.{body}``
with HMAC-SHA256, keyed by the base64-decoded part of a ``whsec_`` secret; the
``webhook-signature`` header holds space-separated ``v1,<base64>`` entries.

The emulator signs its deliveries with `sign` / `signed_headers`; `replicate_async.webhooks.verify`
is the public check built on `check`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from replicate_async.exceptions import WebhookVerificationError

__all__ = [
    "SECRET_PREFIX",
    "check",
    "decode_secret",
    "generate_secret",
    "sign",
    "signed_headers",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the scheme's marker, not a secret
# The spec asks for random secrets of 24 to 64 bytes; the emulator's are in that range.
_GENERATED_KEY_BYTES = 32
# Unix seconds have 10 digits until the year 2286; anything much longer is not a timestamp
# (and would make int() do needless work on hostile input).
_MAX_TIMESTAMP_DIGITS = 15


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional, padding too).

    Args:
        secret: The secret, as Replicate's ``GET /v1/webhooks/default/secret`` returns it.

    Raises:
        ValueError: If the secret is empty or not base64. The message never contains it.

    .. versionadded:: 0.1.0
    """
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("expected 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("the key after 'whsec_' is empty")
    return key


def generate_secret() -> str:
    """A new random ``whsec_`` secret (32 random bytes, base64).

    .. versionadded:: 0.1.0
    """
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_GENERATED_KEY_BYTES)).decode()


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    """The raw HMAC-SHA256 of ``{msg_id}.{timestamp}.{body}``."""
    signed = b"%s.%s.%s" % (msg_id.encode(), timestamp.encode(), body)
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<base64>`` signature of one delivery attempt.

    Args:
        secret: The ``whsec_`` secret.
        msg_id: The ``webhook-id`` (the same on every retry of one message).
        timestamp: The Unix seconds of this attempt, sent as ``webhook-timestamp``.
        body: The request body exactly as sent (a str is encoded as UTF-8).

    Raises:
        ValueError: If the secret is malformed.

    .. versionadded:: 0.1.0
    """
    raw = body.encode() if isinstance(body, str) else body
    digest = _digest(decode_secret(secret), msg_id, str(timestamp), raw)
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt.

    Args:
        secret: The ``whsec_`` secret.
        msg_id: The ``webhook-id``.
        timestamp: The Unix seconds of this attempt.
        body: The request body exactly as sent.

    .. versionadded:: 0.1.0
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def _parse_timestamp(value: str) -> int:
    """Unix seconds from a ``webhook-timestamp`` header: ASCII digits only."""
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError(reason="invalid webhook-timestamp header")
    return int(value)


def check(
    secret: str,
    *,
    msg_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float,
    tolerance: float,
) -> None:
    """Verify one delivery's signature headers against its raw body.

    Args:
        secret: The ``whsec_`` secret.
        msg_id: The ``webhook-id`` header.
        timestamp: The ``webhook-timestamp`` header, verbatim (it is part of the signed text).
        signature: The ``webhook-signature`` header: space-separated ``v<N>,<base64>``
            entries, of which only ``v1`` ones are considered.
        body: The raw request body.
        now: The current Unix time.
        tolerance: How many seconds the timestamp may be away from *now*, either way.

    Raises:
        WebhookVerificationError: With reason ``"malformed secret"``,
            ``"invalid webhook-timestamp header"``, ``"timestamp too old"``,
            ``"timestamp in the future"`` or ``"no matching signature"``.

    .. versionadded:: 0.1.0
    """
    try:
        key = decode_secret(secret)
    except ValueError as exc:
        raise WebhookVerificationError(reason=f"malformed secret: {exc}") from None
    sent_at = _parse_timestamp(timestamp)
    if sent_at < now - tolerance:
        raise WebhookVerificationError(reason="timestamp too old")
    if sent_at > now + tolerance:
        raise WebhookVerificationError(reason="timestamp in the future")
    expected = _digest(key, msg_id, timestamp, body)
    for entry in signature.split():
        version, comma, encoded = entry.partition(",")
        if version != "v1" or not comma:
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError(reason="no matching signature")
