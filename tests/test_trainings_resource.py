# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.trainings`: create, get, list, cancel and wait, over respx and against the emulator."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from _client_support import API, TOKEN, problem
from replicate_async import (
    AsyncClient,
    Deployment,
    NotFoundError,
    PredictionStatus,
    PredictionTimeout,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from replicate_async._api_objects import Training

if TYPE_CHECKING:
    import respx

pytestmark = pytest.mark.anyio

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
NEW_VERSION = "acme/tuned:" + "b" * 64
TRAINER = f"acme/trainer:{VERSION}"
CREATE_PATH = f"/v1/models/acme/trainer/versions/{VERSION}/trainings"


def _training(tid: str = "t1", status: str = "starting", **fields: Any) -> dict[str, Any]:
    """A training as the API sends it (urls under /v1/predictions, as the create answers)."""
    body: dict[str, Any] = {
        "id": tid,
        "model": "acme/trainer",
        "version": VERSION,
        "input": {"steps": 10},
        "output": None,
        "logs": "",
        "error": None,
        "status": status,
        "created_at": "2025-01-01T00:00:00Z",
        "urls": {
            "get": f"{API}/v1/predictions/{tid}",
            "cancel": f"{API}/v1/predictions/{tid}/cancel",
        },
    }
    body.update(fields)
    return body


def _reply(status: str = "starting", code: int = 200, **fields: Any) -> httpx.Response:
    return httpx.Response(code, json=_training(status=status, **fields))


def _succeeded() -> dict[str, Any]:
    return _training(
        status="succeeded",
        output={"version": NEW_VERSION, "weights": "https://files.test/w.tar"},
        logs="done",
    )


def _decoded(body: dict[str, Any]) -> Training:
    from replicate_async._sansio import decode

    return decode(200, {}, json.dumps(body).encode(), Training)


# -- create -----------------------------------------------------------------------------------


async def test_create_posts_to_the_version_and_decodes_a_training(api: respx.Router, make_client):
    """create() POSTs destination, input and webhook to the version's trainings; 201 decodes."""
    route = api.post(CREATE_PATH).mock(return_value=_reply(code=201))
    async with make_client() as client:
        created = await client.trainings.create(
            TRAINER,
            destination="acme/tuned",
            input={"steps": 10},
            webhook="https://example.com/hook",
            webhook_events_filter=["completed", "start"],
        )
    assert isinstance(created, Training)
    assert (created.id, created.status) == ("t1", PredictionStatus.STARTING)
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Prefer" not in request.headers
    assert json.loads(request.content) == {
        "destination": "acme/tuned",
        "input": {"steps": 10},
        "webhook": "https://example.com/hook",
        "webhook_events_filter": ["completed", "start"],
    }


async def test_create_sends_nested_mappings_and_tuples_as_json(api: respx.Router, make_client):
    """A nested mapping or tuple in the input goes as a JSON object or array."""
    from types import MappingProxyType

    route = api.post(CREATE_PATH).mock(return_value=_reply(code=201))
    async with make_client() as client:
        await client.trainings.create(
            TRAINER,
            destination="acme/tuned",
            input=MappingProxyType({"cfg": MappingProxyType({"lr": 0.1}), "ids": (1, 2)}),
        )
    body = json.loads(route.calls.last.request.content)
    assert body == {"destination": "acme/tuned", "input": {"cfg": {"lr": 0.1}, "ids": [1, 2]}}


async def test_create_is_not_retried_after_a_5xx(api: respx.Router, make_client):
    """A 5xx to create() raises ServerError at once: the training may exist (promise 1)."""
    route = api.post(CREATE_PATH).mock(return_value=problem(500, detail="oops"))
    async with make_client() as client:
        with pytest.raises(ServerError) as info:
            await client.trainings.create(TRAINER, destination="acme/tuned", input={})
    assert route.call_count == 1
    message = str(info.value)
    assert "HTTP 500 on POST" in message
    assert "oops" in message
    assert "the training may have been created" in message
    assert "client.trainings.list()" in message
    assert "predictions" not in message
    assert info.value.status_code == 500


async def test_create_is_not_retried_after_it_was_sent(api: respx.Router, make_client):
    """A failure after the create was sent raises TransportError(request_sent=True), once."""
    route = api.post(CREATE_PATH).mock(side_effect=httpx.ReadTimeout("slow"))
    async with make_client() as client:
        with pytest.raises(TransportError) as info:
            await client.trainings.create(TRAINER, destination="acme/tuned", input={})
    assert route.call_count == 1
    assert info.value.request_sent is True
    message = str(info.value)
    assert message.startswith(f"POST {CREATE_PATH} failed after the request was sent (")
    assert "client.trainings.list()" in message
    assert "predictions" not in message
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_create_is_retried_when_surely_unsent(api: respx.Router, make_client):
    """A connect failure (never sent) and a 429 are retried; the create then succeeds."""
    route = api.post(CREATE_PATH).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            problem(429, detail="throttled", retry_after=0),
            _reply(code=201),
        ]
    )
    async with make_client() as client:
        created = await client.trainings.create(TRAINER, destination="acme/tuned", input={})
    assert created.id == "t1"
    assert route.call_count == 3


async def test_create_gives_up_on_429_after_the_attempts(api: respx.Router, make_client):
    """429s past the retry attempts raise RateLimitError unchanged."""
    route = api.post(CREATE_PATH).mock(return_value=problem(429, detail="slow", retry_after=0))
    async with make_client() as client:
        with pytest.raises(RateLimitError, match="slow"):
            await client.trainings.create(TRAINER, destination="acme/tuned", input={})
    assert route.call_count == 3


async def test_create_of_a_missing_destination_is_not_found(api: respx.Router, make_client):
    """The server's 404 for a destination that does not exist is NotFoundError with its detail."""
    api.post(CREATE_PATH).mock(
        return_value=problem(404, detail="The specified training destination does not exist")
    )
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="training destination does not exist"):
            await client.trainings.create(TRAINER, destination="acme/missing", input={})


@pytest.mark.parametrize(
    ("version", "change", "match"),
    [
        ("acme/trainer", {}, "invalid model version 'acme/trainer'.*'owner/name:<64-hex"),
        (VERSION, {}, "invalid model version"),
        ("acme/trainer:latest", {}, "invalid model version"),
        (Deployment("acme/trainer"), {}, "invalid model version"),
        (None, {}, "invalid model version"),
        (TRAINER, {"destination": "tuned"}, "invalid destination 'tuned'"),
        (TRAINER, {"destination": f"acme/tuned:{VERSION}"}, "invalid destination"),
        (TRAINER, {"input": None}, "input must be a mapping"),
        (TRAINER, {"input": [1]}, "input must be a mapping"),
        (TRAINER, {"input": {1: "a"}}, "input names must be strings"),
        (TRAINER, {"input": {"lr": math.nan}}, "input.lr: nan is not valid JSON"),
        (TRAINER, {"input": {"when": {1, 2}}}, "input.when: set is not JSON"),
        (TRAINER, {"input": {"data": Path("x.zip")}}, "input.data: a training's input takes URLs"),
        (TRAINER, {"webhook": "ftp://example.com"}, "webhook must be an https:// URL"),
        (TRAINER, {"webhook_events_filter": "completed"}, "must be a list of events"),
        (TRAINER, {"webhook_events_filter": ["done"]}, "unknown webhook event 'done'"),
    ],
)
async def test_create_checks_arguments_before_any_request(
    api: respx.Router, make_client, version, change, match
):
    """A malformed create argument raises ValidationError (no status) and sends nothing."""
    args: dict[str, Any] = {"destination": "acme/tuned", "input": {"steps": 1}, **change}
    async with make_client() as client:
        with pytest.raises(ValidationError, match=match) as info:
            await client.trainings.create(version, **args)
    assert info.value.status_code is None
    assert len(api.calls) == 0


# -- get, cancel, list ------------------------------------------------------------------------


async def test_get_decodes_the_training_and_its_result(api: respx.Router, make_client):
    """get() sends GET /v1/trainings/{id}; a success's output reads as TrainingOutput."""
    route = api.get("/v1/trainings/t1").mock(
        return_value=httpx.Response(200, json={**_succeeded(), "destination": "acme/tuned"})
    )
    async with make_client() as client:
        got = await client.trainings.get("t1")
    assert route.call_count == 1
    assert isinstance(got, Training)
    assert (got.status, got.destination) == (PredictionStatus.SUCCEEDED, "acme/tuned")
    assert (got.result.version, got.result.weights) == (NEW_VERSION, "https://files.test/w.tar")


async def test_get_of_an_unknown_training_is_not_found(api: respx.Router, make_client):
    """A 404 from get() raises NotFoundError."""
    api.get("/v1/trainings/nope").mock(return_value=problem(404, detail="Not found."))
    async with make_client() as client:
        with pytest.raises(NotFoundError):
            await client.trainings.get("nope")


async def test_cancel_posts_to_the_trainings_cancel(api: respx.Router, make_client):
    """cancel() sends POST /v1/trainings/{id}/cancel and returns the training."""
    route = api.post("/v1/trainings/t1/cancel").mock(return_value=_reply("canceled"))
    async with make_client() as client:
        canceled = await client.trainings.cancel("t1")
    assert canceled.status is PredictionStatus.CANCELED
    assert route.call_count == 1


@pytest.mark.parametrize("training_id", ["", "a/b", "..", "t 1", None])
@pytest.mark.parametrize("call", ["get", "cancel", "wait"])
async def test_ids_are_checked_before_any_request(
    api: respx.Router, make_client, call, training_id
):
    """get(), cancel() and wait() refuse an id that is not a path segment, sending nothing."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid training id") as info:
            await getattr(client.trainings, call)(training_id)
    assert info.value.status_code is None
    assert len(api.calls) == 0


def _page(ids: list[str], next_url: str | None) -> httpx.Response:
    return httpx.Response(
        200,
        json={"results": [_training(i) for i in ids], "next": next_url, "previous": None},
    )


async def test_list_is_lazy_and_follows_next_cursors(api: respx.Router, make_client):
    """list() sends nothing until iterated, then fetches each page only when reached."""
    second = api.get("/v1/trainings", params={"cursor": "cD0y"}).mock(
        return_value=_page(["c"], None)
    )
    first = api.get("/v1/trainings").mock(
        return_value=_page(["a", "b"], f"{API}/v1/trainings?cursor=cD0y")
    )
    async with make_client() as client:
        trainings = client.trainings.list()
        assert len(api.calls) == 0
        items = aiter(trainings)
        assert (await anext(items)).id == "a"
        assert (await anext(items)).id == "b"
        assert second.call_count == 0
        rest = [t async for t in items]
    assert [t.id for t in rest] == ["c"]
    assert all(isinstance(t, Training) for t in rest)
    assert (first.call_count, second.call_count) == (1, 1)


# -- wait -------------------------------------------------------------------------------------


async def test_wait_on_a_terminal_training_sends_nothing(api: respx.Router, make_client):
    """wait() returns a training that is already terminal without a request."""
    done = _decoded(_training(status="failed", error="boom"))
    async with make_client() as client:
        assert await client.trainings.wait(done) is done
    assert len(api.calls) == 0


async def test_wait_by_id_polls_the_trainings_route_until_terminal(api: respx.Router, make_client):
    """wait(id) polls GET /v1/trainings/{id} (not the urls under /v1/predictions) to success."""
    route = api.get("/v1/trainings/t1").mock(
        side_effect=[
            _reply("starting"),
            _reply("processing", logs="epoch 1"),
            httpx.Response(200, json=_succeeded()),
        ]
    )
    async with make_client() as client:
        done = await client.trainings.wait("t1")
    assert isinstance(done, Training)
    assert done.status is PredictionStatus.SUCCEEDED
    assert done.result.version == NEW_VERSION
    assert route.call_count == 3


async def test_wait_returns_a_failed_training(api: respx.Router, make_client):
    """A training that fails is returned by wait(), not raised."""
    api.get("/v1/trainings/t1").mock(return_value=_reply("failed", error="bad data"))
    async with make_client() as client:
        done = await client.trainings.wait(_decoded(_training(status="processing")))
    assert (done.status, done.error) == (PredictionStatus.FAILED, "bad data")


async def test_wait_timeout_raises_with_the_last_training_without_cancelling(
    api: respx.Router, make_client
):
    """Past its timeout wait() raises PredictionTimeout with the last training; no cancel."""
    api.get("/v1/trainings/t1").mock(return_value=_reply("processing", logs="epoch 3"))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout) as info:
            await client.trainings.wait(_decoded(_training(status="starting")), timeout=0.05)
    assert isinstance(info.value.prediction, Training)
    assert info.value.prediction.logs == "epoch 3"
    assert info.value.timeout == 0.05
    assert not any(call.request.method == "POST" for call in api.calls)


async def test_wait_cancel_on_timeout_cancels_the_training(api: respx.Router, make_client):
    """wait(cancel_on_timeout=True) cancels the training (not a prediction) at its timeout."""
    api.get("/v1/trainings/t1").mock(return_value=_reply("processing"))
    cancel = api.post("/v1/trainings/t1/cancel").mock(return_value=_reply("canceled"))
    async with make_client() as client:
        with pytest.raises(PredictionTimeout):
            await client.trainings.wait("t1", timeout=0.05, cancel_on_timeout=True)
    assert cancel.call_count == 1


async def test_wait_without_timeout_still_polls_to_the_end(api: respx.Router, make_client):
    """wait(timeout=None) polls until terminal (bounded by the client's longest wait)."""
    api.get("/v1/trainings/t1").mock(side_effect=[_reply("starting"), _reply("succeeded")])
    async with make_client() as client:
        assert (await client.trainings.wait("t1", timeout=None)).status == "succeeded"


@pytest.mark.parametrize("timeout", [math.inf, math.nan, -1, "60", True])
async def test_wait_refuses_an_unbounded_or_malformed_timeout(
    api: respx.Router, make_client, timeout
):
    """A timeout that is infinite, NaN, negative or not a number is refused before any request."""
    async with make_client() as client:
        with pytest.raises(ValidationError, match="invalid timeout"):
            await client.trainings.wait("t1", timeout=timeout)
    assert len(api.calls) == 0


def _blocking_polls(api: respx.Router) -> tuple[anyio.Event, httpx.MockTransport]:
    """A transport whose polls never return (a long training), with an event set at the first."""
    polling = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            polling.set()
            await anyio.sleep_forever()
        return await api.async_handler(request)

    return polling, httpx.MockTransport(handler)


async def test_cancelling_the_waiting_task_cancels_the_training(api: respx.Router, make_client):
    """Cancelling the task blocked in wait() cancels the training remotely (promise 4)."""
    cancel = api.post("/v1/trainings/t1/cancel").mock(return_value=_reply("canceled"))
    polling, transport = _blocking_polls(api)
    client = make_client(transport=transport)
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(client.trainings.wait, _decoded(_training(status="processing")))
        await polling.wait()
        tg.cancel_scope.cancel()
    assert cancel.call_count == 1


async def test_cancelling_wait_can_leave_the_training_running(api: respx.Router, make_client):
    """With cancel_on_cancellation=False, cancelling the waiting task sends no remote cancel."""
    polling, transport = _blocking_polls(api)
    client = make_client(transport=transport)
    training = _decoded(_training(status="processing"))
    async with client, anyio.create_task_group() as tg:

        async def watch() -> None:
            await client.trainings.wait(training, cancel_on_cancellation=False)

        tg.start_soon(watch)
        await polling.wait()
        tg.cancel_scope.cancel()
    assert [call.request.method for call in api.calls] == []


async def test_repr_names_the_api_root_not_the_token(make_client):
    """The resource's repr shows the API root and never the token."""
    async with make_client() as client:
        shown = repr(client.trainings)
    assert shown.startswith("<AsyncTrainings of <AsyncClient")
    assert API in shown
    assert TOKEN not in shown


# -- against the emulator ---------------------------------------------------------------------


def _client(emulator) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url)


def _trainer(emulator, model: str = "emulator/echo") -> str:
    return f"{model}:{emulator.state.models[model].version_id}"


async def test_emulator_training_runs_to_success_with_wait(replicate_emulator):
    """A training created on the emulator and waited for succeeds with a version and weights."""
    async with _client(replicate_emulator) as client:
        created = await client.trainings.create(
            _trainer(replicate_emulator),
            destination="emulator/echo-versioned",
            input={"steps": 1},
        )
        assert created.status is PredictionStatus.STARTING
        done = await client.trainings.wait(created, timeout=60)
    assert done.status is PredictionStatus.SUCCEEDED
    destination, _, version_id = done.result.version.partition(":")
    assert destination == "emulator/echo-versioned"
    assert len(version_id) == 64
    assert done.result.weights.startswith(replicate_emulator.base_url)
    stats = replicate_emulator.stats()["requests"]
    assert sum(stats["GET /v1/trainings/{id}"].values()) >= 1
    assert "GET /v1/predictions/{id}" not in stats


async def test_emulator_get_list_and_cancel(replicate_emulator):
    """get() and list() return the created training; cancel() of a slow one cancels it."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow then runs for 31 s
    async with _client(replicate_emulator) as client:
        created = await client.trainings.create(
            _trainer(replicate_emulator, "emulator/slow"),
            destination="emulator/echo-versioned",
            input={"steps": 1},
        )
        got = await client.trainings.get(created.id)
        listed = [t.id async for t in client.trainings.list()]
        canceled = await client.trainings.cancel(created.id)
        final = await client.trainings.wait(created.id, timeout=60)
    assert got.id == created.id
    assert listed == [created.id]
    assert canceled.status is PredictionStatus.CANCELED
    assert final.status is PredictionStatus.CANCELED


async def test_emulator_missing_destination_is_not_found(replicate_emulator):
    """A training into a model the emulator does not have raises NotFoundError, once."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError, match="training destination does not exist"):
            await client.trainings.create(
                _trainer(replicate_emulator), destination="emulator/nowhere", input={}
            )


async def test_emulator_cancelled_wait_cancels_the_training(replicate_emulator):
    """Cancelling a task waiting on a slow training cancels it on the server (promise 4)."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow then runs for 31 s
    async with _client(replicate_emulator) as client:
        created = await client.trainings.create(
            _trainer(replicate_emulator, "emulator/slow"),
            destination="emulator/echo-versioned",
            input={},
        )
        with anyio.move_on_after(0.3):
            await client.trainings.wait(created, timeout=60)
        final = await client.trainings.get(created.id)
    assert final.status is PredictionStatus.CANCELED
