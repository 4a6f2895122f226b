# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The lifecycle: phases by latency, cancel, Cancel-After, retention, bounded memory."""

from __future__ import annotations

import httpx
import pytest

from replicate_async.emulator import EmulatorConfig, FakeModel, create_app
from replicate_async.emulator._predictions import parse_cancel_after

pytestmark = pytest.mark.anyio


async def create(client, model, payload=None, **headers):
    """Create a prediction of `model` and return its body."""
    response = await client.post(
        f"/v1/models/{model}/predictions",
        json={"input": payload or {"prompt": "p"}},
        headers=headers,
    )
    return response.json()


async def get(client, pid):
    """GET a prediction."""
    return (await client.get(f"/v1/predictions/{pid}")).json()


async def test_phases_follow_latency(client, state):
    """A queued model is starting, then processing, then succeeded as the clock moves."""
    pid = (await create(client, "t/queued", {"prompt": "q"}))["id"]
    state.travel(150)
    middle = await get(client, pid)
    state.travel(100)
    end = await get(client, pid)
    assert (middle["status"], "started_at" in middle) == ("processing", True)
    assert (end["status"], end["output"], end["metrics"]["predict_time"]) == (
        "succeeded",
        "q",
        pytest.approx(100, abs=1),
    )


async def test_token_output_grows_during_run(client, state):
    """A token model's output array grows chunk by chunk while processing."""
    pid = (await create(client, "t/running", {"prompt": "one two three"}))["id"]
    state.travel(50)
    partial = (await get(client, pid))["output"]
    state.travel(60)
    final = (await get(client, pid))["output"]
    assert 0 < len(partial) < len(final)
    assert "".join(final) == "Emulated reply: one two three"


async def test_cancel_running_prediction(client, state):
    """Cancel turns a running prediction `canceled` with completed_at and metrics."""
    pid = (await create(client, "t/running"))["id"]
    response = await client.post(f"/v1/predictions/{pid}/cancel")
    body = response.json()
    assert (response.status_code, body["status"], "completed_at" in body) == (200, "canceled", True)
    assert state.stats.cancels == 1


async def test_cancel_terminal_prediction_is_unchanged(client):
    """Cancelling a finished prediction answers it unchanged, 200."""
    pid = (await create(client, "emulator/echo", {"prompt": "x"}))["id"]
    response = await client.post(f"/v1/predictions/{pid}/cancel")
    assert (response.status_code, response.json()["status"]) == (200, "succeeded")


async def test_cancel_and_get_unknown_are_404(client):
    """Unknown ids are the generic 404 on get and cancel."""
    assert (await client.get("/v1/predictions/nope")).status_code == 404
    assert (await client.post("/v1/predictions/nope/cancel")).status_code == 404


async def test_cancel_after_sets_deadline(client):
    """`Cancel-After` shows as `deadline`."""
    body = await create(client, "t/queued", None, **{"Cancel-After": "1m"})
    assert body["deadline"] > body["created_at"]


async def test_deadline_before_start_aborts(client, state):
    """A deadline reached while starting ends `aborted`."""
    pid = (await create(client, "t/queued", None, **{"Cancel-After": "10s"}))["id"]
    state.travel(11)
    body = await get(client, pid)
    assert (body["status"], "predict_time" in body["metrics"]) == ("aborted", False)


async def test_deadline_during_run_cancels(client, state):
    """A deadline reached while processing ends `canceled`."""
    pid = (await create(client, "t/running", None, **{"Cancel-After": "30s"}))["id"]
    state.travel(31)
    assert (await get(client, pid))["status"] == "canceled"


@pytest.mark.parametrize("value", ["3s", "abc", "", "1x", "nan"])
async def test_invalid_cancel_after_is_422(client, value):
    """Malformed or too short Cancel-After values are a 422."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Cancel-After": value},
    )
    assert (response.status_code, response.json()["title"]) == (422, "Invalid Cancel-After header")


@pytest.mark.parametrize(
    ("value", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m45s", 5445), ("7.5", 7.5)]
)
def test_cancel_after_durations(value, seconds):
    """Bare seconds and h/m/s combinations parse."""
    assert parse_cancel_after(value) == seconds


async def test_retention_removes_data(client, state):
    """After retention the prediction has data_removed, output null, and its files 404."""
    created = await create(client, "emulator/image", {"prompt": "x"}, Prefer="wait")
    state.travel(3601)
    body = await get(client, created["id"])
    file_status = (await client.get(created["output"][0])).status_code
    assert (body["data_removed"], body["output"], body["input"], file_status) == (
        True,
        None,
        {},
        404,
    )


async def test_forgotten_after_retention_and_grace(client, state):
    """Past retention and grace the oldest prediction is forgotten on the next create."""
    first = await create(client, "emulator/echo", {"prompt": "x"})
    state.travel(3600 + 601)
    await create(client, "emulator/echo", {"prompt": "y"})
    assert (await client.get(f"/v1/predictions/{first['id']}")).status_code == 404


async def test_running_head_is_not_forgotten(client, state):
    """A prediction still running is kept however old."""
    first = await create(client, "t/running")
    await create(client, "emulator/echo", {"prompt": "y"})
    assert first["id"] in state.predictions


async def test_cap_forgets_oldest():
    """Beyond `max_predictions` the oldest are forgotten, so memory stays bounded."""
    app = create_app(EmulatorConfig(max_predictions=3, tokens=()))
    state = app.state.emulator
    model = state.models["emulator/echo"]
    ids = [state.create(model, {"prompt": str(i)}, version="hidden").id for i in range(5)]
    assert list(state.predictions) == ids[-3:]


async def test_failed_prediction_has_error_and_logs(client, state):
    """A failing model ends `failed` with its error text and logs."""
    pid = (await create(client, "emulator/fail", {"prompt": "x"}))["id"]
    state.travel(1)
    body = await get(client, pid)
    assert (body["status"], body["error"]) == ("failed", "Prediction failed (emulated model error)")


async def test_events_history(state):
    """Each prediction keeps an append-only history: logs, outputs, then done."""
    record = state.create(state.models["emulator/echo"], {"prompt": "x"}, version="hidden")
    assert [e.kind for e in record.events] == ["logs", "output", "done"]


async def test_model_without_logs_has_empty_logs(state):
    """A model configured with no log lines prints nothing."""
    record = state.create(state.models["t/silent"], {"prompt": "x"}, version="hidden")
    assert record.logs == ""


async def test_wait_for_change_returns_on_new_event(state):
    """`wait_for_change` returns True as soon as a new event exists."""
    state.time_scale = 0.001
    record = state.create(state.models["emulator/tokens"], {"prompt": "a"}, version="hidden")
    assert await state.wait_for_change(record, len(record.events))


async def test_wait_for_change_times_out(state):
    """`wait_for_change` returns False at its deadline."""
    record = state.create(state.models["t/queued"], {}, version="hidden")
    assert not await state.wait_for_change(record, 0, state.now() + 0.001)


async def test_cancel_wakes_waiter(state):
    """A cancel wakes a waiter at once."""
    import anyio

    record = state.create(state.models["t/queued"], {}, version="hidden")
    result = []
    async with anyio.create_task_group() as group:

        async def waiter():
            result.append(await state.wait_for_change(record, 0))

        group.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        state.cancel(record)
    assert result == [True]


async def test_travel_wakes_waiter(state):
    """Moving the clock wakes waiters, which see the due steps."""
    import anyio

    record = state.create(state.models["t/queued"], {}, version="hidden")
    result = []
    async with anyio.create_task_group() as group:

        async def waiter():
            result.append(await state.wait_for_change(record, 0))

        group.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        state.travel(150)
    assert (result, record.status) == ([True], "processing")


async def test_reset_wakes_waiters_and_forgets(state):
    """`reset()` forgets predictions and releases anyone waiting."""
    import anyio

    record = state.create(state.models["t/queued"], {}, version="hidden")
    async with anyio.create_task_group() as group:
        group.start_soon(state.wait_for_change, record, 0, state.now() + 1000)
        await anyio.wait_all_tasks_blocked()
        state.reset()
        group.cancel_scope.cancel()
    assert state.predictions == {}


async def test_listener_gets_webhook_events_via_scheduler(app, state):
    """Under the lifespan, a listener hears start/logs/output/completed without any polling."""
    import anyio

    events = []
    done = anyio.Event()

    def listener(record, event):
        events.append(event)
        if event == "completed":
            done.set()

    state.add_listener(listener)
    state.time_scale = 0.001
    async with app.router.lifespan_context(app):
        state.create(
            state.models["emulator/tokens"], {"prompt": "a"}, version="hidden", webhook="https://x"
        )
        with anyio.fail_after(5):
            await done.wait()
    assert events[0] == "start"
    assert events[-1] == "completed"
    assert {"logs", "output"} <= set(events)


async def test_spawn_needs_lifespan(app, state):
    """`spawn` runs a coroutine in the app's task group, and refuses without one."""
    import anyio

    ran = anyio.Event()

    async def job():
        ran.set()

    refused = state.spawn(job)
    async with app.router.lifespan_context(app):
        assert state.spawn(job)
        with anyio.fail_after(5):
            await ran.wait()
    assert refused is False


async def test_deployment_of_unknown_model_is_rejected():
    """A deployment naming an unknown model is a configuration error."""
    from replicate_async.emulator import DeploymentConfig

    with pytest.raises(ValueError, match="unknown model"):
        create_app(EmulatorConfig(deployments=(DeploymentConfig(name="a/b", model="no/model"),)))


async def test_latency_range_is_within_bounds():
    """A `(low, high)` latency draws a duration in range."""
    model = FakeModel(owner="r", name="r", kind="text", official=True, latency=(2.0, 3.0))
    app = create_app(EmulatorConfig(models=(model,), deployments=()))
    record = app.state.emulator.create(model, {}, version="hidden")
    assert 2.0 <= record.end_at - record.start_at <= 3.0


async def test_audio_and_video_outputs_are_single_urls(client, state):
    """Single-file models output one delivery URL."""
    created = await create(client, "t/audio", {"prompt": "x"})
    body = await get(client, created["id"])
    assert body["output"].endswith("/out-0.wav")
    assert isinstance(httpx.URL(body["output"]).path, str)
