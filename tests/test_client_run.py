# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient.run over respx: one request when terminal, confirmation, deadlines, cancellation."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from _client_support import prediction, reply
from replicate_async import (
    FileOutput,
    PredictionCanceled,
    PredictionFailed,
    PredictionStatus,
    PredictionTimeout,
)
from replicate_async._running import CANCEL_AFTER_SLACK

if TYPE_CHECKING:
    import respx

CREATE = "/v1/models/acme/painter/predictions"
GET = "/v1/predictions/p1"
CANCEL = "/v1/predictions/p1/cancel"


@pytest.mark.asyncio
async def test_terminal_wait_reply_is_the_result_in_one_request(api: respx.Router, make_client):
    """A create answered `succeeded` returns its output after exactly one HTTP request."""
    create = api.post(CREATE).mock(return_value=reply("succeeded", 201, output="a cat"))
    async with make_client() as client:
        out = await client.run("acme/painter", {"prompt": "a cat"})
    assert out == "a cat"
    assert create.call_count == 1
    assert len(api.calls) == 1
    assert create.calls.last.request.headers["Prefer"] == "wait=60"


@pytest.mark.asyncio
async def test_processing_with_output_is_confirmed_by_polling(api: respx.Router, make_client):
    """A `processing` reply with output is confirmed by a GET; the final output is returned."""
    api.post(CREATE).mock(return_value=reply("processing", 201, output=["Once"]))
    get = api.get(GET).mock(return_value=reply("succeeded", output=["Once", " upon"]))
    async with make_client() as client:
        out = await client.run("acme/painter", {"prompt": "x"})
    assert out == ["Once", " upon"]
    assert get.call_count == 1


@pytest.mark.asyncio
async def test_partial_output_is_never_returned(api: respx.Router, make_client):
    """When the confirming GET shows a failure, run raises instead of returning partial output."""
    api.post(CREATE).mock(return_value=reply("processing", 201, output=["Once"]))
    api.get(GET).mock(return_value=reply("failed", output=["Once"], error="CUDA out of memory"))
    async with make_client() as client:
        with pytest.raises(PredictionFailed, match="CUDA out of memory") as info:
            await client.run("acme/painter", {"prompt": "x"})
    assert info.value.prediction.status is PredictionStatus.FAILED


@pytest.mark.asyncio
async def test_starting_is_polled_until_terminal(api: respx.Router, make_client):
    """A `starting` reply is polled through `processing` until `succeeded`."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    get = api.get(GET).mock(
        side_effect=[reply("processing"), reply("unknown-new-status"), reply("succeeded", output=1)]
    )
    async with make_client() as client:
        assert await client.run("acme/painter") == 1
    assert get.call_count == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("status", ["canceled", "aborted"])
async def test_canceled_or_aborted_raises_prediction_canceled(
    api: respx.Router, make_client, status: str
):
    """A canceled or aborted prediction raises PredictionCanceled carrying it."""
    api.post(CREATE).mock(return_value=reply(status, 201))
    async with make_client() as client:
        with pytest.raises(PredictionCanceled) as info:
            await client.run("acme/painter")
    assert info.value.prediction.status == status


@pytest.mark.asyncio
async def test_wait_false_sends_no_prefer_header(api: respx.Router, make_client):
    """run(wait=False) creates without `Prefer` and polls."""
    create = api.post(CREATE).mock(return_value=reply("starting", 201))
    api.get(GET).mock(return_value=reply("succeeded", output="ok"))
    async with make_client() as client:
        assert await client.run("acme/painter", wait=False) == "ok"
    assert "Prefer" not in create.calls.last.request.headers


@pytest.mark.asyncio
async def test_timeout_shortens_the_wait(api: respx.Router, make_client):
    """A timeout below `wait` shortens `Prefer: wait` to fit, and sends no Cancel-After by itself."""
    create = api.post(CREATE).mock(return_value=reply("succeeded", 201))
    async with make_client() as client:
        await client.run("acme/painter", wait=60, timeout=10.5)
    headers = create.calls.last.request.headers
    assert headers["Prefer"] == "wait=10"
    assert "Cancel-After" not in headers


@pytest.mark.asyncio
async def test_cancel_on_timeout_sends_cancel_after(api: respx.Router, make_client):
    """With cancel_on_timeout, the create carries Cancel-After: the timeout plus slack."""
    create = api.post(CREATE).mock(return_value=reply("succeeded", 201))
    async with make_client() as client:
        await client.run("acme/painter", timeout=30.2, cancel_on_timeout=True)
    assert create.calls.last.request.headers["Cancel-After"] == f"{31 + CANCEL_AFTER_SLACK}s"


@pytest.mark.asyncio
async def test_polling_stops_at_the_deadline(api: respx.Router, make_client):
    """Polling a prediction that never finishes raises PredictionTimeout with the last one seen."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    api.get(GET).mock(return_value=reply("processing", logs="still going"))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout, match=r"within 0\.2 s") as info:
            await client.run("acme/painter", timeout=0.2)
    assert info.value.prediction.status is PredictionStatus.PROCESSING


@pytest.mark.asyncio
async def test_deadline_with_cancel_on_timeout_cancels_remotely(api: respx.Router, make_client):
    """When the deadline passes and cancel_on_timeout is set, the prediction is canceled remotely."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    api.get(GET).mock(return_value=reply("starting"))
    cancel = api.post(CANCEL).mock(return_value=reply("canceled"))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout):
            await client.run("acme/painter", timeout=0.1, cancel_on_timeout=True)
    assert cancel.call_count == 1


@pytest.mark.asyncio
async def test_failed_remote_cancel_still_raises_the_timeout(api: respx.Router, make_client):
    """A remote cancel that fails is logged; the caller still gets PredictionTimeout."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    api.get(GET).mock(return_value=reply("starting"))
    api.post(CANCEL).mock(return_value=httpx.Response(404, json={"detail": "gone"}))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout):
            await client.run("acme/painter", timeout=0.1, cancel_on_timeout=True)


@pytest.mark.asyncio
async def test_task_cancellation_sends_the_remote_cancel(api: respx.Router, make_client):
    """Cancelling the task blocked in run() (while polling) sends a remote cancel, then re-raises."""
    polling = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # a slow model: the poll never returns
            polling.set()
            await asyncio.Event().wait()
        return await api.async_handler(request)

    api.post(CREATE).mock(return_value=reply("starting", 201))
    cancel = api.post(CANCEL).mock(return_value=reply("canceled"))
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        task = asyncio.create_task(client.run("acme/painter"))
        await polling.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert cancel.call_count == 1


@pytest.mark.anyio
async def test_scope_cancellation_sends_the_remote_cancel(api: respx.Router, make_client):
    """Cancelling run() through an anyio cancel scope (asyncio or trio) sends the remote cancel."""
    polling = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # a slow model: the poll never returns
            polling.set()
            await anyio.sleep_forever()
        return await api.async_handler(request)

    api.post(CREATE).mock(return_value=reply("starting", 201))
    cancel = api.post(CANCEL).mock(return_value=reply("canceled"))
    client = make_client(transport=httpx.MockTransport(handler))
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(client.run, "acme/painter")
        await polling.wait()
        tg.cancel_scope.cancel()
    assert cancel.call_count == 1


@pytest.mark.asyncio
async def test_cancellation_during_create_finds_and_cancels_its_prediction(
    api: respx.Router, make_client
):
    """While the create is in flight its id is unknown: it is found in the list and cancelled."""
    creating = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == CREATE:  # the create is held open
            creating.set()
            await asyncio.Event().wait()
        return await api.async_handler(request)

    now = datetime.now(UTC).isoformat()
    listed = api.get("/v1/predictions").respond(
        200,
        json={
            "results": [
                prediction("p0", "processing", input={"prompt": "other"}, created_at=now),
                prediction("p1", "processing", input={"prompt": "a cat"}, created_at=now),
            ],
            "next": None,
        },
    )
    cancel = api.post(CANCEL).mock(return_value=reply("canceled"))
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        task = asyncio.create_task(client.run("acme/painter", {"prompt": "a cat"}))
        await creating.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert listed.call_count == 1
    assert cancel.call_count == 1  # p1 (same model and input), not p0


@pytest.mark.asyncio
async def test_file_urls_become_file_outputs(api: respx.Router, make_client):
    """https file URLs in the output come back as FileOutput objects; other strings stay."""
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    api.post(CREATE).mock(return_value=reply("succeeded", 201, output=[url, "caption"]))
    async with make_client() as client:
        out = await client.run("acme/painter")
    assert isinstance(out[0], FileOutput)
    assert out[0].url == url
    assert out[1] == "caption"


@pytest.mark.asyncio
async def test_use_file_output_false_returns_plain_urls(api: respx.Router, make_client):
    """use_file_output=False returns the output as the server sent it."""
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    api.post(CREATE).mock(return_value=reply("succeeded", 201, output=url))
    async with make_client() as client:
        assert await client.run("acme/painter", use_file_output=False) == url


@pytest.mark.asyncio
@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan])
async def test_unusable_timeout_is_refused(make_client, timeout: float):
    """A timeout that is not a finite positive number raises ValueError before any request."""
    async with make_client() as client:
        with pytest.raises(ValueError, match="timeout"):
            await client.run("acme/painter", timeout=timeout)


@pytest.mark.asyncio
async def test_timeout_with_wait_false_keeps_no_prefer(api: respx.Router, make_client):
    """With wait=False a timeout does not add a Prefer header."""
    create = api.post(CREATE).mock(return_value=reply("succeeded", 201))
    async with make_client() as client:
        await client.run("acme/painter", wait=False, timeout=5)
    assert "Prefer" not in create.calls.last.request.headers
