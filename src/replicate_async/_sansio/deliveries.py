# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Webhook deliveries: check a Standard-Webhooks signature, decode the body. Pure.

The public face is :mod:`replicate_async.webhooks`; the webhook waiter uses these too.
"""

from __future__ import annotations

import json
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


def _text(value: str | bytes) -> str:
    """A header name or value as str (raw ASGI headers are latin-1 bytes)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _signature_headers(headers: HeadersLike) -> dict[str, str]:
    """The three signature headers found, by lower-case name (the first of duplicates wins)."""
    items: Iterable[tuple[str | bytes, str | bytes]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        key = _text(name).lower()
        if key in _WANTED and key not in found:
            found[key] = _text(value)
    return found


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

    .. versionadded:: 0.1.0
    """
    found = _signature_headers(headers)
    missing = [name for name in _WANTED if not found.get(name)]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise WebhookVerificationError(reason=f"missing {', '.join(missing)} header{plural}")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    signing.check(
        secret,
        msg_id=found[_ID],
        timestamp=found[_TIMESTAMP],
        signature=found[_SIGNATURE],
        body=raw,
        now=time.time() if now is None else now,
        tolerance=tolerance,
    )


def parse(body: bytes | bytearray | str) -> Prediction:
    """Decode a webhook delivery's body (the prediction, as ``GET`` returns it).

    Call `verify` first: the body is only trustworthy once its signature checked out.

    Args:
        body: The raw request body.

    Raises:
        DecodeError: If the body is not JSON or not a prediction.

    .. versionadded:: 0.1.0
    """
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise DecodeError(message=f"webhook body is not JSON: {exc}") from exc
    return structure(data, Prediction)
