# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""client.webhooks.default_secret and WebhookWaiter: units, and end to end with the emulator.

End to end: a Starlette receiver served by uvicorn on loopback (in the test's event loop),
the emulator delivering signed webhooks to it, the client awaiting through the waiter.
"""

from __future__ import annotations

import json
import socket
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from _client_support import API, TOKEN, prediction
from replicate_async import (
    AsyncClient,
    Client,
    NotFoundError,
    PredictionStatus,
    PredictionTimeout,
    WebhookVerificationError,
    WebhookWaiter,
    webhooks,
)
from replicate_async._resources.webhooks import AsyncWebhooks
from replicate_async._sansio.signing import generate_secret, sign, signed_headers
from replicate_async._sync import SyncWebhooks

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.requests import Request

    from replicate_async.emulator._server import EmulatorServer

SECRET = generate_secret()
GET_ROUTE = "GET /v1/predictions/{id}"


@pytest.fixture
def anyio_backend() -> str:
    """uvicorn serves the receiver in the test's loop: asyncio only."""
    return "asyncio"


def _delivery(status: str = "succeeded", pid: str = "p1", secret: str = SECRET, **fields: Any):
    body = json.dumps(prediction(pid, status, **fields)).encode()
    return signed_headers(secret, f"msg_{pid}_{status}", int(time.time()), body), body


class Api:
    """Scripted API replies: the secret, gets (in order) and cancels; every request recorded."""

    def __init__(self, *gets: httpx.Response) -> None:
        self.gets = list(gets)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/webhooks/default/secret":
            return httpx.Response(200, json={"key": SECRET})
        if request.url.path.endswith("/cancel"):
            return httpx.Response(200, json=prediction("p1", "canceled"))
        if request.method == "POST":
            return httpx.Response(201, json=prediction("p1", "starting"))
        return self.gets.pop(0)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)


def _client(api: Api) -> AsyncClient:
    return AsyncClient(TOKEN, API, transport=httpx.MockTransport(api.handler))


# -- default_secret ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_default_secret_is_fetched_once() -> None:
    """default_secret() asks the API once and caches the answer for the client."""
    api = Api()
    async with _client(api) as client:
        first = await client.webhooks.default_secret()
        second = await client.webhooks.default_secret()
    assert first == second == SECRET
    assert api.count("GET", "/v1/webhooks/default/secret") == 1
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.anyio
async def test_default_secret_from_the_emulator(replicate_emulator: EmulatorServer) -> None:
    """The emulator's secret is a whsec_ secret that verifies its own signatures."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        secret = await client.webhooks.default_secret()
    headers, body = _delivery(secret=secret)
    webhooks.verify(headers, body, secret)
    assert secret.startswith("whsec_")


def test_sync_default_secret(replicate_emulator: EmulatorServer) -> None:
    """The blocking client's webhooks.default_secret() returns the same secret."""
    with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
        secret = client.webhooks.default_secret()
        assert repr(client.webhooks).startswith("<SyncWebhooks of <Client")
    assert secret.startswith("whsec_")
    assert SyncWebhooks.default_secret.__doc__ == AsyncWebhooks.default_secret.__doc__


def test_async_webhooks_repr() -> None:
    """client.webhooks has a readable repr."""
    assert repr(AsyncClient(TOKEN, API).webhooks).startswith("<AsyncWebhooks of <AsyncClient")


# -- verify: refusals not covered elsewhere ------------------------------------------------


def test_several_signatures_none_valid_are_refused() -> None:
    """A header with several signatures of which none matches is refused."""
    headers, body = _delivery()
    other = sign(generate_secret(), headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    headers["webhook-signature"] = f"{other} v1,AAAA v2,{headers['webhook-signature'][3:]}"
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        webhooks.verify(headers, body, SECRET)


def test_webhooks_module_has_no_other_lazy_names() -> None:
    """Asking replicate_async.webhooks for an unknown name raises AttributeError."""
    with pytest.raises(AttributeError, match="nothing_here"):
        webhooks.nothing_here  # noqa: B018


# -- WebhookWaiter units ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_delivery_wakes_the_waiter() -> None:
    """A verified terminal delivery resolves the waiter for its prediction, without a GET."""
    api = Api()
    async with _client(api) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        result: list[Any] = []
        async with anyio.create_task_group() as group:

            async def wait() -> None:
                result.append(await waiter.wait("p1"))

            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert waiter.waiting == 1
            await waiter.deliver(*_delivery("succeeded", output="done"))
    assert (result[0].status, result[0].output) == (PredictionStatus.SUCCEEDED, "done")
    assert api.requests == []
    assert waiter.waiting == 0


@pytest.mark.anyio
async def test_delivery_before_wait_is_kept() -> None:
    """A terminal delivery that beats the waiter is kept and handed to the later wait()."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        await waiter.deliver(*_delivery("failed", error="boom"))
        assert waiter.unclaimed == 1
        result = await waiter.wait("p1")
    assert result.error == "boom"
    assert waiter.unclaimed == 0


@pytest.mark.anyio
async def test_bad_signature_is_refused_and_wakes_nobody() -> None:
    """A delivery with a wrong signature raises WebhookVerificationError and is not kept."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        headers, body = _delivery(secret=generate_secret())
        with pytest.raises(WebhookVerificationError):
            await waiter.deliver(headers, body)
    assert waiter.unclaimed == 0


@pytest.mark.anyio
async def test_non_terminal_deliveries_are_ignored() -> None:
    """start/output/logs deliveries (non-terminal) are returned but resolve nothing."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        seen = await waiter.deliver(*_delivery("processing"))
    assert seen.status is PredictionStatus.PROCESSING
    assert waiter.unclaimed == 0


@pytest.mark.anyio
async def test_duplicate_deliveries_keep_the_first() -> None:
    """A repeated terminal delivery (a retry) changes nothing: the first one is kept."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        await waiter.deliver(*_delivery("succeeded", output="first"))
        await waiter.deliver(*_delivery("succeeded", output="second"))
        result = await waiter.wait("p1")
    assert result.output == "first"


@pytest.mark.anyio
async def test_duplicate_delivery_while_waiting_keeps_the_first() -> None:
    """Two terminal deliveries for an awaited prediction: the waiter gets the first."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        result: list[Any] = []
        async with anyio.create_task_group() as group:

            async def wait() -> None:
                result.append(await waiter.wait("p1"))

            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            await waiter.deliver(*_delivery("succeeded", output="first"))
            await waiter.deliver(*_delivery("succeeded", output="second"))
    assert result[0].output == "first"


@pytest.mark.anyio
async def test_unclaimed_deliveries_are_bounded() -> None:
    """Past max_unclaimed, the oldest kept delivery is dropped."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET, max_unclaimed=2)
        for pid in ("a", "b", "c"):
            await waiter.deliver(*_delivery(pid=pid))
        assert waiter.unclaimed == 2
        assert "a" not in waiter._unclaimed


@pytest.mark.anyio
async def test_max_unclaimed_zero_keeps_nothing() -> None:
    """With max_unclaimed=0 a delivery nobody awaits is dropped."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET, max_unclaimed=0)
        await waiter.deliver(*_delivery())
    assert waiter.unclaimed == 0


@pytest.mark.anyio
async def test_unclaimed_deliveries_expire() -> None:
    """A kept delivery older than unclaimed_ttl is forgotten."""
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET, unclaimed_ttl=60)
        await waiter.deliver(*_delivery(pid="old"))
        waiter._unclaimed["old"] = (waiter._unclaimed["old"][0], anyio.current_time() - 61)
        await waiter.deliver(*_delivery(pid="new"))
    assert list(waiter._unclaimed) == ["new"]


@pytest.mark.anyio
async def test_secret_is_fetched_from_the_client_when_not_given() -> None:
    """Without secret=, the first delivery fetches client.webhooks.default_secret()."""
    api = Api()
    async with _client(api) as client:
        waiter = WebhookWaiter(client)
        await waiter.deliver(*_delivery())
        await waiter.deliver(*_delivery(pid="p2"))
    assert api.count("GET", "/v1/webhooks/default/secret") == 1


@pytest.mark.anyio
async def test_terminal_prediction_returns_at_once() -> None:
    """wait() on a prediction already terminal returns it without a request."""
    from replicate_async._converters import structure
    from replicate_async._models import Prediction

    api = Api()
    done = structure(prediction("p1", "succeeded"), Prediction)
    async with _client(api) as client:
        assert await WebhookWaiter(client, secret=SECRET).wait(done) is done
    assert api.requests == []


@pytest.mark.anyio
async def test_lost_webhook_falls_back_to_polling() -> None:
    """With no webhook, the waiter GETs the prediction after fallback_after, until terminal."""
    api = Api(
        httpx.Response(200, json=prediction("p1", "processing")),
        httpx.Response(200, json=prediction("p1", "succeeded", output="late")),
    )
    async with _client(api) as client:
        result = await WebhookWaiter(client, secret=SECRET, fallback_after=0.01).wait("p1")
    assert result.output == "late"
    assert api.count("GET", "/v1/predictions/p1") == 2


@pytest.mark.anyio
async def test_fallback_error_keeps_the_last_prediction() -> None:
    """A failing fallback GET is logged and the waiter goes on with what it knew."""
    from replicate_async._converters import structure
    from replicate_async._models import Prediction

    api = Api(
        httpx.Response(404, json={"detail": "gone", "status": 404}),
        httpx.Response(200, json=prediction("p1", "succeeded")),
    )
    known = structure(prediction("p1", "processing"), Prediction)
    async with _client(api) as client:
        result = await WebhookWaiter(client, secret=SECRET, fallback_after=0.01).wait(known)
    assert result.status is PredictionStatus.SUCCEEDED


@pytest.mark.anyio
async def test_fallback_error_without_a_prediction_raises() -> None:
    """A failing fallback GET when nothing is known about the prediction raises."""
    api = Api(httpx.Response(404, json={"detail": "gone", "status": 404}))
    async with _client(api) as client:
        with pytest.raises(NotFoundError):
            await WebhookWaiter(client, secret=SECRET, fallback_after=0.01).wait("p1")


@pytest.mark.anyio
async def test_timeout_raises_with_the_last_prediction() -> None:
    """Past its timeout, wait() raises PredictionTimeout carrying the prediction."""
    api = Api(httpx.Response(200, json=prediction("p1", "processing")))
    async with _client(api) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        with pytest.raises(PredictionTimeout) as caught:
            await waiter.wait("p1", timeout=0.01)
    assert caught.value.prediction.status is PredictionStatus.PROCESSING


@pytest.mark.anyio
async def test_cancelled_wait_cancels_the_prediction() -> None:
    """Cancelling the waiting task cancels the prediction remotely (by default)."""
    api = Api()
    async with _client(api) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await waiter.wait("p1")
    assert api.count("POST", "/v1/predictions/p1/cancel") == 1


@pytest.mark.anyio
async def test_cancelled_wait_can_leave_the_prediction() -> None:
    """With cancel_on_cancellation=False, a cancelled wait sends no cancel."""
    api = Api()
    async with _client(api) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await waiter.wait("p1", cancel_on_cancellation=False)
    assert api.requests == []


@pytest.mark.anyio
async def test_create_sends_the_webhook_url_and_completed_filter() -> None:
    """waiter.create() creates without waiting, with webhook=url and only `completed`."""
    api = Api()
    async with _client(api) as client:
        waiter = WebhookWaiter(client, url="https://example.com/hook", secret=SECRET)
        await waiter.create("acme/painter", {"prompt": "a cat"})
    (create,) = [r for r in api.requests if r.method == "POST"]
    body = json.loads(create.content)
    assert (body["webhook"], body["webhook_events_filter"]) == (
        "https://example.com/hook",
        ["completed"],
    )
    assert "prefer" not in create.headers


@pytest.mark.anyio
async def test_create_without_url_is_refused() -> None:
    """waiter.create() without a url raises ValueError before any request."""
    async with _client(Api()) as client:
        with pytest.raises(ValueError, match="url"):
            await WebhookWaiter(client).create("acme/painter", {})


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"fallback_after": 0}, ValueError),
        ({"unclaimed_ttl": float("inf")}, ValueError),
        ({"max_unclaimed": -1}, ValueError),
        ({"max_unclaimed": True}, TypeError),
    ],
)
def test_constructor_checks(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """Bad settings are refused when the waiter is made."""
    with pytest.raises(error):
        WebhookWaiter(AsyncClient(TOKEN, API), **kwargs)


def test_repr() -> None:
    """repr shows the url and the counts."""
    waiter = WebhookWaiter(AsyncClient(TOKEN, API), url="https://x/hook")
    assert repr(waiter) == "<WebhookWaiter url='https://x/hook' waiting=0 unclaimed=0>"


def test_waiter_importable_from_the_webhooks_module() -> None:
    """WebhookWaiter is importable from replicate_async.webhooks too."""
    assert webhooks.WebhookWaiter is WebhookWaiter


# -- end to end: emulator -> Starlette receiver -> waiter ----------------------------------------


def receiver_app(waiter: WebhookWaiter, *, lose: bool = False) -> Starlette:
    """The docs' receiving endpoint (docs/webhooks.md); with `lose`, every delivery fails (500)."""
    seen: list[str] = []

    async def replicate_webhook(request: Request) -> Response:
        if lose:
            return Response(status_code=500)
        body = await request.body()
        try:
            prediction = await waiter.deliver(request.headers, body)
        except WebhookVerificationError:
            return Response(status_code=400)
        seen.append(prediction.status.value)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks/replicate", replicate_webhook, methods=["POST"])])
    app.state.seen = seen
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Starlette], str]]:
    """Serve Starlette apps with uvicorn on loopback in this loop; yields a function giving the URL."""
    async with anyio.create_task_group() as group:
        servers: list[uvicorn.Server] = []

        def start(app: Starlette) -> str:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))  # bound (and listening below) before anyone connects
            sock.listen(128)
            server = uvicorn.Server(
                uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
            )
            servers.append(server)
            group.start_soon(server.serve, [sock])
            return f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/replicate"

        yield start
        for server in servers:
            server.should_exit = True


@pytest.mark.anyio
async def test_waiter_resolves_through_emulator_webhooks(
    replicate_emulator: EmulatorServer, serve
) -> None:
    """The emulator's signed `completed` webhook reaches the receiver and wakes the waiter: no polling."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        waiter = WebhookWaiter(client)
        app = receiver_app(waiter)
        waiter.url = serve(app)
        created = await waiter.create("emulator/slow", {"prompt": "hello"})
        result = await waiter.wait(created, timeout=30)
    assert (result.status, result.output) == (PredictionStatus.SUCCEEDED, "hello")
    assert GET_ROUTE not in replicate_emulator.stats()["requests"]
    assert app.state.seen == ["succeeded"]


@pytest.mark.anyio
async def test_waiter_ignores_intermediate_emulator_webhooks(
    replicate_emulator: EmulatorServer, serve
) -> None:
    """With every event sent, start/output/logs deliveries are accepted and only completed resolves."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        waiter = WebhookWaiter(client)
        app = receiver_app(waiter)
        waiter.url = serve(app)
        created = await waiter.create("emulator/slow", {"prompt": "a"}, webhook_events_filter=None)
        result = await waiter.wait(created, timeout=30)
        final = await client.predictions.get(created.id)
    assert result.output == final.output
    assert "succeeded" in app.state.seen


@pytest.mark.anyio
async def test_waiter_survives_a_lost_webhook(replicate_emulator: EmulatorServer, serve) -> None:
    """A receiver that fails every delivery still gets its result by the fallback poll."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        waiter = WebhookWaiter(client, fallback_after=0.2)
        waiter.url = serve(receiver_app(waiter, lose=True))
        created = await waiter.create("emulator/slow", {"prompt": "lost"})
        result = await waiter.wait(created, timeout=30)
    assert result.output == "lost"
    assert GET_ROUTE in replicate_emulator.stats()["requests"]


@pytest.mark.anyio
async def test_emulator_delivery_with_a_wrong_secret_is_refused(
    replicate_emulator: EmulatorServer, serve
) -> None:
    """A waiter holding another secret refuses the emulator's deliveries (the receiver answers 400)."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        waiter = WebhookWaiter(client, secret=generate_secret(), fallback_after=0.2)
        app = receiver_app(waiter)
        waiter.url = serve(app)
        created = await waiter.create("emulator/slow", {"prompt": "x"})
        result = await waiter.wait(created, timeout=30)
    assert result.status is PredictionStatus.SUCCEEDED  # by the fallback poll
    assert app.state.seen == []


@pytest.mark.anyio
async def test_two_waiters_for_one_prediction_share_the_delivery() -> None:
    """Two tasks awaiting the same prediction are both woken by its one terminal delivery."""
    from replicate_async._converters import structure
    from replicate_async._models import Prediction

    known = structure(prediction("p1", "processing"), Prediction)
    async with _client(Api()) as client:
        waiter = WebhookWaiter(client, secret=SECRET)
        results: list[Any] = []
        async with anyio.create_task_group() as group:

            async def wait(what: Any) -> None:
                results.append(await waiter.wait(what))

            group.start_soon(wait, known)
            group.start_soon(wait, "p1")
            await anyio.wait_all_tasks_blocked()
            assert waiter.waiting == 1
            await waiter.deliver(*_delivery("succeeded", output="both"))
    assert [r.output for r in results] == ["both", "both"]
