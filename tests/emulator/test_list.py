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


# -- over loopback: the filters (`created_after`, `created_before`, `source`) -----------------


def create_over(http, n=1):
    """Create `n` echo predictions over loopback; return their bodies, oldest first."""
    return [
        http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": str(i)}}).json()
        for i in range(n)
    ]


def listed_ids(http, **params):
    """The ids of the first page of `GET /v1/predictions` with `params`."""
    response = http.get("/v1/predictions", params=params)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["results"]]


def test_created_after_includes_its_own_instant(http):
    """`created_after` is "at or after": a prediction's own `created_at` includes it."""
    (prediction,) = create_over(http)
    assert listed_ids(http, created_after=prediction["created_at"]) == [prediction["id"]]


def test_created_before_excludes_its_own_instant(http):
    """`created_before` is strictly before: a prediction's own `created_at` excludes it."""
    (prediction,) = create_over(http)
    assert listed_ids(http, created_before=prediction["created_at"]) == []


def test_created_after_splits_a_sequence(http, replicate_emulator):
    """Predictions created after a moment are listed; earlier ones are not."""
    older, newer = create_over(http, 2)
    assert listed_ids(http, created_after=newer["created_at"]) == [newer["id"]]
    assert older["id"] in listed_ids(http, created_before=newer["created_at"])


@pytest.mark.parametrize(
    "moment",
    [
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00.123Z",
        "2000-01-01T00:00:00.123456789Z",
        "2000-01-01T00:00:00+00:00",
        "2000-01-01T01:00:00.5+01:00",
        "2000-01-01",
    ],
)
def test_iso_8601_forms_are_accepted(http, moment):
    """`Z`, 3 to 9 fractional digits, offsets and plain dates are all ISO 8601."""
    (prediction,) = create_over(http)
    assert listed_ids(http, created_after=moment) == [prediction["id"]]


@pytest.mark.parametrize("moment", ["yesterday", "2000-13-01T00:00:00Z", "1700000000", ""])
def test_a_bad_timestamp_is_a_400_problem(http, moment):
    """A filter that is not an ISO 8601 date-time is a 400 problem+json."""
    response = http.get("/v1/predictions", params={"created_before": moment})
    assert (response.status_code, response.headers["content-type"]) == (
        400,
        "application/problem+json",
    )


def test_source_web_lists_nothing(http):
    """`source=web` lists only web predictions: the emulator's all come from the API."""
    create_over(http, 2)
    assert listed_ids(http, source="web") == []


def test_source_other_than_web_is_a_400_problem(http):
    """`web` is the only value of `source`."""
    response = http.get("/v1/predictions", params={"source": "api"})
    assert (response.status_code, response.json()["status"]) == (400, 400)


async def test_every_filter_is_kept_in_next(client, state):
    """`created_after` and `created_before` are both carried, verbatim, into `next`."""
    fill(state, 101)
    params = {"created_after": "2000-01-01", "created_before": "2999-01-01T00:00:00Z"}
    next_url = (await client.get("/v1/predictions", params=params)).json()["next"]
    query = parse_qs(urlsplit(next_url).query)
    assert {k: query[k] for k in params} == {k: [v] for k, v in params.items()}


async def test_filtered_pages_follow_next_to_the_end(client, state):
    """Following `next` with a filter lists every matching prediction once."""
    ids = fill(state, 150)
    first = (await client.get("/v1/predictions", params={"created_after": "2000-01-01"})).json()
    second = (await client.get(first["next"])).json()
    assert [p["id"] for p in first["results"] + second["results"]] == ids[::-1]


async def test_created_after_is_inclusive_at_the_exact_instant(client, state):
    """A prediction created exactly at `created_after` is listed ("at or after")."""
    record = state.get(fill(state, 1)[0])
    record.created_at = 1_800_000_000.0
    listed = await client.get("/v1/predictions", params={"created_after": "2027-01-15T08:00:00Z"})
    assert [p["id"] for p in listed.json()["results"]] == [record.id]


async def test_created_before_is_exclusive_at_the_exact_instant(client, state):
    """A prediction created exactly at `created_before` is not listed ("before")."""
    record = state.get(fill(state, 1)[0])
    record.created_at = 1_800_000_000.0
    listed = await client.get("/v1/predictions", params={"created_before": "2027-01-15T08:00:00Z"})
    assert listed.json()["results"] == []
