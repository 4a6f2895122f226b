# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Webhook deliveries: check a Standard-Webhooks signature, decode the body. Pure.

The public face is :mod:`replicate_async.webhooks`; the webhook waiter uses these too.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from typing import Final, Literal, TypeAlias

from replicate_async._converters import structure
from replicate_async._models import Prediction
from replicate_async._sansio import signing
from replicate_async.exceptions import DecodeError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "WEBHOOK_EVENTS",
    "HeadersLike",
    "WebhookEvent",
    "parse",
    "verify",
]

WebhookEvent: TypeAlias = Literal["start", "output", "logs", "completed"]
"""The events a prediction's ``webhook_events_filter`` can name.

.. versionadded:: 0.1.0
"""

WEBHOOK_EVENTS: Final[tuple[WebhookEvent, ...]] = ("start", "output", "logs", "completed")
"""Every `WebhookEvent`, in the order they happen.

.. versionadded:: 0.1.0
"""

DEFAULT_TOLERANCE: Final = 300
"""How far (in seconds) a delivery's timestamp may be from now: Replicate's docs use 5 minutes.

.. versionadded:: 0.1.0
"""

HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
"""Request headers: a mapping (a dict, httpx's or Starlette's ``Headers``) or name/value pairs
(for example an ASGI scope's raw ``headers``).

.. versionadded:: 0.1.0
"""

_ID = "webhook-id"
_TIMESTAMP = "webhook-timestamp"
_SIGNATURE = "webhook-signature"
_WANTED = (_ID, _TIMESTAMP, _SIGNATURE)


_HEADERS_HELP = "headers must be a mapping or name/value pairs of str or bytes"


def _text(value: object) -> str:
    """A header name or value as str (raw ASGI headers are latin-1 bytes)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    raise TypeError(f"{_HEADERS_HELP}, got a {type(value).__name__} name or value")


def _signature_headers(headers: HeadersLike) -> dict[str, str]:
    """The three signature headers found, by lower-case name (the first of duplicates wins)."""
    items: Iterable[tuple[str | bytes, str | bytes]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    try:
        for name, value in items:
            key = _text(name).lower()
            if key in _WANTED and key not in found:
                found[key] = _text(value)
    except (TypeError, ValueError) as exc:  # not iterable, or an item that is not a pair
        if isinstance(exc, TypeError) and str(exc).startswith(_HEADERS_HELP):
            raise
        raise TypeError(f"{_HEADERS_HELP}, got {type(headers).__name__}") from None
    return found


def _check_number(value: object, name: str, *, positive: bool) -> float:
    """*value* as a float when it is a finite (and, if asked, positive) int or float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0):
        kind = "a finite number above 0" if positive else "a finite number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return number


def _utf8(text: str, what: str) -> bytes:
    """*text* as UTF-8; a lone surrogate (no header or body has one) fails verification."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise WebhookVerificationError(reason=f"{what} is not valid text") from None


def verify(
    headers: HeadersLike,
    body: bytes | bytearray | memoryview | str,
    secret: str,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> None:
    """Check that a webhook delivery was signed by Replicate with *secret*, recently.

    Returns normally when one ``v1`` entry of ``webhook-signature`` is the HMAC-SHA256 of
    ``{webhook-id}.{webhook-timestamp}.{body}`` (compared in constant time) and the timestamp
    is within *tolerance* seconds of now, in either direction. Other signature versions are
    ignored.

    Args:
        headers: The request's headers, names in any case: a mapping (a dict, httpx's or
            Starlette's ``Headers``) or an iterable of name/value pairs (str or bytes).
        body: The raw request body, exactly as received (a str is encoded as UTF-8).
        secret: Your ``whsec_`` signing secret (from ``client.webhooks.default_secret()``).
        tolerance: How many seconds the ``webhook-timestamp`` may be off from now, to refuse
            replayed deliveries.
        now: The current Unix time; the system clock when omitted.

    Raises:
        WebhookVerificationError: With a ``reason`` saying which check failed: a missing
            header, an invalid, too old or future timestamp, a malformed secret, or no
            matching signature.
        TypeError: A programming error, not a bad delivery: *secret* is not a str (a
            missing environment variable gives None), *tolerance* or *now* is not a number,
            or *headers* is not a mapping or pairs of str or bytes.
        ValueError: *tolerance* is not finite and above 0, or *now* is not finite (a NaN
            tolerance would accept a delivery from 1970: a replay).

    These are not WebhookVerificationError on purpose: an endpoint answers that with 400 and
    Replicate gives up, so a misconfigured server would drop every delivery quietly; an
    uncaught error is a 500, logged, and the delivery is retried once it is fixed.

    .. versionadded:: 0.1.0
    """
    if not isinstance(secret, str):
        raise TypeError(
            f"secret must be a str (your 'whsec_...' signing secret), got {type(secret).__name__}"
        )
    tolerance = _check_number(tolerance, "tolerance", positive=True)
    now = time.time() if now is None else _check_number(now, "now", positive=False)
    found = _signature_headers(headers)
    missing = [name for name in _WANTED if not found.get(name)]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise WebhookVerificationError(reason=f"missing {', '.join(missing)} header{plural}")
    raw = _utf8(body, "body") if isinstance(body, str) else bytes(body)
    _utf8(found[_ID], "webhook-id header")  # signing encodes it: check it can be
    signing.check(
        secret,
        msg_id=found[_ID],
        timestamp=found[_TIMESTAMP],
        signature=found[_SIGNATURE],
        body=raw,
        now=now,
        tolerance=tolerance,
    )


def parse(body: bytes | bytearray | memoryview | str) -> Prediction:
    """Decode a webhook delivery's body (the prediction, as ``GET`` returns it).

    Call `verify` first: the body is only trustworthy once its signature checked out.

    Args:
        body: The raw request body.

    Raises:
        DecodeError: If the body is not JSON or not a prediction.

    .. versionadded:: 0.1.0
    """
    try:
        data = json.loads(bytes(body) if isinstance(body, memoryview) else body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise DecodeError(message=f"webhook body is not JSON: {exc}") from exc
    except RecursionError:
        raise DecodeError(message="webhook body is not a prediction: nested too deeply") from None
    return structure(data, Prediction)
