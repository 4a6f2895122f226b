# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`GET /v1/predictions`: newest first, 100 per page, absolute `next` with an opaque cursor."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from replicate_async.emulator._predictions import decode_cursor, encode_cursor

pytestmark = pytest.mark.anyio


def fill(state, n):
    """Create `n` echo predictions directly; return their ids, oldest first."""
    model = state.models["emulator/echo"]
    return [state.create(model, {"prompt": str(i)}, version="hidden").id for i in range(n)]


async def test_pages_newest_first_and_follow_next(client, state):
    """Pages hold 100 newest-first predictions; `next` leads to the rest, then null."""
    ids = fill(state, 150)
    first = (await client.get("/v1/predictions")).json()
    second = (await client.get(first["next"])).json()
    listed = [p["id"] for p in first["results"] + second["results"]]
    assert (len(first["results"]), second["next"], listed) == (100, None, ids[::-1])


async def test_next_is_absolute_with_cursor(client, state):
    """`next` is an absolute URL carrying an opaque base64 cursor."""
    fill(state, 101)
    next_url = (await client.get("/v1/predictions")).json()["next"]
    parts = urlsplit(next_url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "emu", "/v1/predictions")
    assert decode_cursor(parse_qs(parts.query)["cursor"][0]) is not None


async def test_filters_are_kept_in_next(client, state):
    """`created_after` stays in the `next` URL and filters every page."""
    fill(state, 101)
    response = await client.get("/v1/predictions", params={"created_after": "2000-01-01T00:00:00Z"})
    assert "created_after=2000-01-01T00%3A00%3A00Z" in response.json()["next"]


async def test_created_before_excludes_newer(client, state):
    """`created_before` in the past lists nothing."""
    fill(state, 3)
    response = await client.get("/v1/predictions", params={"created_before": "2000-01-01T00:00:00"})
    assert response.json()["results"] == []


async def test_created_after_in_future_lists_nothing(client, state):
    """`created_after` after every prediction lists nothing."""
    fill(state, 3)
    future = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
    response = await client.get("/v1/predictions", params={"created_after": future})
    assert response.json() == {"next": None, "previous": None, "results": []}


async def test_list_items_omit_logs(client, state):
    """List items carry no `logs` (as in the spec example)."""
    fill(state, 1)
    item = (await client.get("/v1/predictions")).json()["results"][0]
    assert "logs" not in item
    assert item["status"] == "succeeded"


async def test_invalid_cursor_is_404(client):
    """A malformed cursor is a 404."""
    assert (await client.get("/v1/predictions", params={"cursor": "!!!"})).status_code == 404
    assert (
        await client.get("/v1/predictions", params={"cursor": encode_cursor(1)[:-2] + "zz"})
    ).status_code == 404


async def test_invalid_date_is_400(client):
    """A malformed date filter is a 400."""
    assert (
        await client.get("/v1/predictions", params={"created_after": "yesterday"})
    ).status_code == 400


def test_cursor_round_trip():
    """Cursors decode to the position they encode."""
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor("cT0x") is None  # "q=1"
