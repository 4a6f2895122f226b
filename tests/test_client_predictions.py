# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""client.predictions over respx: create, get, cancel, wait and list."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from _client_support import API, TOKEN, prediction, reply
from replicate_async import (
    DecodeError,
    Deployment,
    PredictionStatus,
    PredictionTimeout,
    Timeouts,
    ValidationError,
)

if TYPE_CHECKING:
    import respx

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


@pytest.mark.asyncio
async def test_create_sends_json_headers_and_token(api: respx.Router, make_client):
    """A create posts the input as JSON with the token, User-Agent, Prefer and Cancel-After."""
    create = api.post("/v1/models/acme/painter/predictions").mock(return_value=reply(code=201))
    async with make_client() as client:
        created = await client.predictions.create(
            "acme/painter", {"prompt": "a cat"}, wait=5, cancel_after="2m"
        )
    request = create.calls.last.request
    assert created.id == "p1"
    assert json.loads(request.content) == {"input": {"prompt": "a cat"}}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"].startswith("replicate-async/")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Prefer"] == "wait=5"
    assert request.headers["Cancel-After"] == "2m"


@pytest.mark.asyncio
async def test_create_read_timeout_follows_the_wait(api: respx.Router, make_client):
    """A create's read timeout is its wait plus the margin; other calls keep the default."""
    create = api.post("/v1/models/acme/painter/predictions").mock(return_value=reply(code=201))
    get = api.get("/v1/predictions/p1").mock(return_value=reply())
    timeouts = Timeouts(read=10, wait_margin=5)
    async with make_client(timeouts=timeouts) as client:
        await client.predictions.create("acme/painter", wait=60)
        await client.predictions.get("p1")
    create_timeout = create.calls.last.request.extensions["timeout"]
    assert create_timeout["read"] == 65
    assert create_timeout["connect"] == 5
    assert get.calls.last.request.extensions["timeout"]["read"] == 10


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("ref", "path", "body"),
    [
        (f"acme/painter:{VERSION}", "/v1/predictions", {"version": VERSION, "input": {}}),
        (VERSION, "/v1/predictions", {"version": VERSION, "input": {}}),
        (Deployment("acme/prod"), "/v1/deployments/acme/prod/predictions", {"input": {}}),
    ],
)
async def test_create_routes_by_reference(api: respx.Router, make_client, ref, path, body):
    """Versions go to /v1/predictions, deployments to their own endpoint."""
    route = api.post(path).mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.predictions.create(ref)
    assert json.loads(route.calls.last.request.content) == body


@pytest.mark.asyncio
async def test_create_passes_the_webhook(api: respx.Router, make_client):
    """The webhook and its event filter go in the body."""
    route = api.post("/v1/models/acme/painter/predictions").mock(return_value=reply(code=201))
    async with make_client() as client:
        await client.predictions.create(
            "acme/painter", webhook="https://hooks.test/x", webhook_events_filter=["completed"]
        )
    body = json.loads(route.calls.last.request.content)
    assert body["webhook"] == "https://hooks.test/x"
    assert body["webhook_events_filter"] == ["completed"]


@pytest.mark.asyncio
async def test_get_and_cancel(api: respx.Router, make_client):
    """get fetches and cancel posts to the prediction's cancel endpoint."""
    api.get("/v1/predictions/p1").mock(return_value=reply("processing"))
    api.post("/v1/predictions/p1/cancel").mock(return_value=reply("canceled"))
    async with make_client() as client:
        assert (await client.predictions.get("p1")).status is PredictionStatus.PROCESSING
        assert (await client.predictions.cancel("p1")).status is PredictionStatus.CANCELED


# ------------------------------------------------------------------ wait


@pytest.mark.asyncio
async def test_wait_on_a_terminal_prediction_sends_nothing(api: respx.Router, make_client):
    """wait() returns a prediction that is already terminal without a request."""
    done = await _decoded(prediction(status="failed", error="boom"))
    async with make_client() as client:
        assert await client.predictions.wait(done) is done
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_wait_by_id_polls_until_terminal(api: respx.Router, make_client):
    """wait(id) fetches the prediction and polls; a failed prediction is returned, not raised."""
    get = api.get("/v1/predictions/p1").mock(
        side_effect=[reply("starting"), reply("processing"), reply("failed", error="boom")]
    )
    async with make_client() as client:
        result = await client.predictions.wait("p1")
    assert result.status is PredictionStatus.FAILED
    assert get.call_count == 3


@pytest.mark.asyncio
async def test_wait_deadline_raises_with_last_prediction(api: respx.Router, make_client):
    """wait() raises PredictionTimeout with the last prediction seen, without cancelling it."""
    api.get("/v1/predictions/p1").mock(return_value=reply("processing", logs="step 3"))
    async with make_client() as client:
        started = await client.predictions.get("p1")
        with pytest.raises(PredictionTimeout) as info:
            await client.predictions.wait(started, timeout=0.05)
    assert info.value.prediction.logs == "step 3"
    assert info.value.timeout == 0.05


@pytest.mark.asyncio
async def test_wait_cancel_on_timeout_cancels(api: respx.Router, make_client):
    """wait(cancel_on_timeout=True) cancels the prediction when the deadline passes."""
    api.get("/v1/predictions/p1").mock(return_value=reply("starting"))
    cancel = api.post("/v1/predictions/p1/cancel").mock(return_value=reply("canceled"))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout):
            await client.predictions.wait("p1", timeout=0.05, cancel_on_timeout=True)
    assert cancel.call_count == 1


@pytest.mark.asyncio
async def test_wait_without_timeout_uses_the_longest_wait(api: respx.Router, make_client):
    """wait(timeout=None) still polls to a terminal status (bounded by an hour)."""
    api.get("/v1/predictions/p1").mock(side_effect=[reply("starting"), reply("succeeded")])
    async with make_client() as client:
        assert (await client.predictions.wait("p1", timeout=None)).status == "succeeded"


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), -1, "60", True])
@pytest.mark.asyncio
async def test_wait_refuses_a_timeout_that_never_ends(api: respx.Router, make_client, timeout):
    """An infinite, NaN, negative or non-number timeout is refused before any request (promise 2)."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid timeout"):
            await client.predictions.wait("p1", timeout=timeout)
    assert len(api.calls) == 0


@pytest.mark.asyncio
async def test_cancelling_wait_can_leave_the_prediction_running(api: respx.Router, make_client):
    """With cancel_on_cancellation=False, a task cancelled inside wait() sends no remote cancel."""
    polling = asyncio.Event()
    posts: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            polling.set()
            await asyncio.Event().wait()
        posts.append(request)
        return reply("canceled")

    started = await _decoded(prediction(status="starting"))
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        task = asyncio.create_task(client.predictions.wait(started, cancel_on_cancellation=False))
        await polling.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert posts == []


# ------------------------------------------------------------------ list


def _page(ids: list[str], next_url: str | None) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "results": [prediction(pid=i, status="succeeded") for i in ids],
            "next": next_url,
            "previous": None,
        },
    )


@pytest.mark.asyncio
async def test_list_follows_next_cursors_lazily(api: respx.Router, make_client):
    """list() yields page after page, fetching the next page only when it is reached."""
    second = api.get("/v1/predictions", params={"cursor": "cD0y"}).mock(
        return_value=_page(["c"], None)
    )
    first = api.get("/v1/predictions").mock(
        return_value=_page(["a", "b"], f"{API}/v1/predictions?cursor=cD0y")
    )
    async with make_client() as client:
        pages = aiter(client.predictions.list())
        assert (await anext(pages)).id == "a"
        assert (await anext(pages)).id == "b"
        assert second.call_count == 0
        assert [p.id async for p in pages] == ["c"]
    assert first.call_count == 1
    assert second.call_count == 1


@pytest.mark.asyncio
async def test_list_refuses_a_next_link_to_another_host(api: respx.Router, make_client):
    """A `next` link off the API's origin is refused; the token is never sent there."""
    api.get("/v1/predictions").mock(
        return_value=_page(["a"], "https://evil.test/v1/predictions?cursor=x")
    )
    async with make_client() as client:
        pages = aiter(client.predictions.list())
        assert (await anext(pages)).id == "a"
        with pytest.raises(DecodeError, match=r"evil\.test"):
            await anext(pages)
    assert len(api.calls) == 1


@pytest.mark.asyncio
async def test_list_stops_on_a_page_naming_itself_next(api: respx.Router, make_client):
    """A page whose `next` is itself raises DecodeError instead of looping forever."""
    url = f"{API}/v1/predictions?cursor=same"
    api.get("/v1/predictions", params={"cursor": "same"}).mock(return_value=_page(["b"], url))
    api.get("/v1/predictions").mock(return_value=_page(["a"], url))
    async with make_client() as client:
        with pytest.raises(DecodeError, match="names itself"):
            [p async for p in client.predictions.list()]


async def _decoded(body: dict):
    from replicate_async._sansio import decode_prediction

    return decode_prediction(200, {}, json.dumps(body).encode())


@pytest.mark.anyio
async def test_task_cancellation_during_wait_cancels_remotely(api: respx.Router, make_client):
    """Cancelling the task blocked in wait() sends a remote cancel (promise 4)."""
    polling = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # a slow model: the poll never returns
            polling.set()
            await anyio.sleep_forever()
        return await api.async_handler(request)

    cancel = api.post("/v1/predictions/p1/cancel").mock(return_value=reply("canceled"))
    started = await _decoded(prediction(status="processing"))
    client = make_client(transport=httpx.MockTransport(handler))
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(client.predictions.wait, started)
        await polling.wait()
        tg.cancel_scope.cancel()
    assert cancel.call_count == 1


@pytest.mark.asyncio
async def test_compressed_replies_are_asked_for_and_decoded(api: respx.Router, make_client):
    """API calls accept gzip, and a gzip-encoded reply decodes like a plain one."""
    import gzip

    body = gzip.compress(json.dumps(prediction(status="succeeded", output="a cat")).encode())
    route = api.get("/v1/predictions/p1").mock(
        return_value=httpx.Response(
            200,
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    )
    async with make_client() as client:
        got = await client.predictions.get("p1")
    assert got.output == "a cat"
    assert "gzip" in route.calls.last.request.headers["Accept-Encoding"]


@pytest.mark.asyncio
async def test_requests_are_logged_at_debug_without_the_token(
    api: respx.Router, make_client, caplog: pytest.LogCaptureFixture
):
    """Each API request is logged at DEBUG as method, path and status, never with the token."""
    api.get("/v1/predictions/p1").mock(return_value=reply("processing"))
    with caplog.at_level(logging.DEBUG, logger="replicate_async"):
        async with make_client() as client:
            await client.predictions.get("p1")
    messages = [r.getMessage() for r in caplog.records if r.name == "replicate_async"]
    assert messages == ["GET /v1/predictions/p1: 200"]
    assert TOKEN not in caplog.text
