# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Paths of the API's resources: checked path segments, query strings, cursors. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlencode

from replicate_async._sansio.requests import NAME_PATTERN
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["owner_name", "segment", "timestamp", "with_query"]

_OWNER_NAME_RE: Final = re.compile(rf"({NAME_PATTERN})/({NAME_PATTERN})")
_SEGMENT_RE: Final = re.compile(r"[A-Za-z0-9_.=-]{1,200}")


def owner_name(value: object, what: str = "model") -> str:
    """Check an ``owner/name`` reference (a model or a deployment) and return it stripped.

    A ``:version`` suffix is refused with a line saying where versions go, since these
    calls address the model itself.
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _OWNER_NAME_RE.fullmatch(text):
        return text
    if isinstance(text, str) and ":" in text and _OWNER_NAME_RE.fullmatch(text.split(":")[0]):
        hint = f"; a version goes to client.models.versions, not into the {what} name"
    else:
        hint = ""
    raise ValidationError(
        status_code=None,
        message=(
            f"invalid {what} {value!r}: write it as 'owner/name' (lowercase letters, digits, "
            f"'-', '_' and '.'){hint}"
        ),
    )


def segment(value: object, what: str) -> str:
    """Check one path segment (an id or a slug): URL-safe characters only, 1 to 200."""
    if isinstance(value, str) and _SEGMENT_RE.fullmatch(value) and value not in {".", ".."}:
        return value
    raise ValidationError(
        status_code=None,
        message=f"invalid {what} {value!r}: expected letters, digits, '-', '_', '.' or '='",
    )


def timestamp(value: datetime | str, what: str) -> str:
    """A query-string timestamp: a datetime (naive means UTC) as RFC 3339, or a string as given."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    given: object = value
    if isinstance(given, str) and given.strip():
        return given.strip()
    raise ValidationError(
        status_code=None,
        message=f"invalid {what} {value!r}: pass a datetime or an ISO 8601 string",
    )


def with_query(path: str, params: Mapping[str, str | int | None]) -> str:
    """*path* with the parameters that are not None as its query string."""
    given = {key: str(value) for key, value in params.items() if value is not None}
    if not given:
        return path
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}{urlencode(given, quote_via=quote)}"
