# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Pagination (reference section 9): opaque cursors and pages of a known sequence.

A page is `{"next", "previous", "results"}` with absolute `next` URLs carrying an opaque
`cursor` (base64 of a url-encoded position, as the real API's Django REST Framework cursors are)
and whatever filters the request had, so following `next` verbatim keeps them.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from replicate_async.emulator._http import base_url, json_response, problem

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from starlette.requests import Request
    from starlette.responses import Response

    from replicate_async.emulator._state import EmulatorState

T = TypeVar("T")

INVALID_CURSOR: dict[str, Any] = {"detail": "Invalid cursor", "status": 404}


def encode_cursor(position: int) -> str:
    """An opaque cursor (base64 of a url-encoded position, DRF style)."""
    return base64.urlsafe_b64encode(f"p={position}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    """The position of a cursor (None: malformed)."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("p=") or not text[2:].isdigit():
        return None
    return int(text[2:])


def sequence_page(
    state: EmulatorState,
    request: Request,
    items: Sequence[T],
    render: Callable[[T, str], Any],
    *,
    path: str,
    size: int,
    kept: Mapping[str, str] | None = None,
) -> Response:
    """One page of `items` (already in listing order) at the request's `cursor`.

    Args:
        state: The emulator state (for the URL base).
        request: The request (its `cursor` query parameter).
        items: Everything listed, in order.
        render: Turns one item and the URL base into its JSON.
        path: The list's path, for `next`.
        size: Items per page.
        kept: Query parameters `next` carries besides the cursor (filters, sort order).
    """
    position = 0
    cursor = request.query_params.get("cursor")
    if cursor is not None:
        decoded = decode_cursor(cursor)
        if decoded is None:
            return problem(INVALID_CURSOR)
        position = decoded
    base = base_url(state, request.scope)
    page = items[position : position + size]
    next_url = None
    if position + size < len(items):
        query = {**(kept or {}), "cursor": encode_cursor(position + size)}
        next_url = f"{base}{path}?{urlencode(query)}"
    results = [render(item, base) for item in page]
    return json_response({"next": next_url, "previous": None, "results": results})
