# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Small shared helpers: ids, timestamps, JSON bytes, problem bodies."""

from __future__ import annotations

import functools
import json
import secrets
from datetime import UTC, datetime
from typing import Any

# Lowercase base32 without i, l, o, u (as in the newer real ids, which include 0, 1, 8, 9).
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

NOT_FOUND: dict[str, Any] = {"detail": "The requested resource could not be found.", "status": 404}
UNAUTHENTICATED: dict[str, Any] = {
    "title": "Unauthenticated",
    "detail": "You did not pass a valid authentication token",
    "status": 401,
}
INVALID_VERSION: dict[str, Any] = {
    "title": "Invalid version or not permitted",
    "detail": "The specified version does not exist (or perhaps you don't have permission to use it?)",
    "status": 422,
}

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def new_id() -> str:
    """A 26-character lowercase base32-style prediction id."""
    n = secrets.randbits(130)
    chars = []
    for _ in range(26):
        n, r = divmod(n, 32)
        chars.append(_ALPHABET[r])
    return "".join(chars)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return _encoder.encode(value).encode()


def iso(timestamp: float, digits: int = 6) -> str:
    """RFC 3339 UTC with `Z` and `digits` (3, 6 or 9) fractional digits."""
    whole = int(timestamp)
    base = _whole_seconds(whole)
    fraction = f"{timestamp - whole:.9f}"[2 : 2 + digits]
    return f"{base}.{fraction}Z"


@functools.lru_cache(maxsize=64)
def _whole_seconds(whole: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` of a Unix second (cached: consecutive calls share their second)."""
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_iso(text: str) -> float:
    """Unix seconds of an ISO 8601 timestamp (naive means UTC); ValueError when malformed."""
    parsed = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
