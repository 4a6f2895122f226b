# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`Prefer: wait`: the real quirk, the switches, timeouts, invalid values."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.anyio


async def test_wait_answers_processing_with_full_output(client):
    """A finished wait answers `processing` with the output and no completed_at/metrics (the quirk)."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "hi"}},
        headers={"Prefer": "wait"},
    )
    body = response.json()
    assert (response.status_code, body["status"], body["output"]) == (201, "processing", "hi")
    assert not {"completed_at", "metrics", "started_at"} & set(body)


async def test_wait_echoes_preference_applied(client):
    """`Preference-Applied` repeats the honoured preference verbatim."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Prefer": "wait=5"},
    )
    assert response.headers["preference-applied"] == "wait=5"


async def test_get_after_wait_is_terminal(client):
    """The prediction a wait answered `processing` is `succeeded` on the next GET."""
    created = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Prefer": "wait"},
    )
    body = (await client.get(f"/v1/predictions/{created.json()['id']}")).json()
    assert (body["status"], "completed_at" in body, "metrics" in body) == ("succeeded", True, True)


async def test_wait_returns_terminal_switch(client, state):
    """With `wait_returns_terminal` a finished wait answers `succeeded` with metrics."""
    state.wait_returns_terminal = True
    body = (
        await client.post(
            "/v1/models/emulator/echo/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Prefer": "wait"},
        )
    ).json()
    assert (body["status"], "metrics" in body) == ("succeeded", True)


@pytest.mark.parametrize("value", ["wait=0", "wait=61", "wait=abc", "respond-async"])
async def test_invalid_prefer_is_422(client, value):
    """Prefer values outside `wait` / `wait=1..60` are a 422."""
    response = await client.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Prefer": value},
    )
    assert (response.status_code, response.json()["title"]) == (422, "Invalid Prefer header")


async def test_wait_that_runs_out_answers_starting(client, state):
    """When the wait ends first the answer is `starting` without output, as clients assume."""
    state.time_scale = 0.001  # wait=1 lasts 1 ms; the model needs 100 s of processing
    body = (
        await client.post(
            "/v1/models/t/running/predictions",
            json={"input": {"prompt": "p"}},
            headers={"Prefer": "wait=1"},
        )
    ).json()
    assert (body["status"], body["output"]) == ("starting", None)


async def test_wait_timeout_actual_switch_shows_progress(client, state):
    """With `wait_timeout_status="actual"` a timed-out wait shows the real (processing) state."""
    state.time_scale = 0.001
    state.wait_timeout_status = "actual"
    body = (
        await client.post(
            "/v1/models/t/running/predictions",
            json={"input": {"prompt": "p"}},
            headers={"Prefer": "wait=1"},
        )
    ).json()
    assert body["status"] == "processing"


async def test_wait_holds_until_outputs_complete(client, state):
    """A wait on a model with latency returns once every chunk exists."""
    state.time_scale = 0.001
    body = (
        await client.post(
            "/v1/models/emulator/tokens/predictions",
            json={"input": {"prompt": "a b"}},
            headers={"Prefer": "wait"},
        )
    ).json()
    assert (body["status"], body["output"]) == (
        "processing",
        ["Emulated", " reply:", " a", " b", ""],
    )


async def test_wait_on_failing_model_answers_failed(client, state):
    """A failure within the wait answers `failed` with its error and logs."""
    state.time_scale = 0.001
    body = (
        await client.post(
            "/v1/models/emulator/fail/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Prefer": "wait"},
        )
    ).json()
    assert (body["status"], body["error"]) == ("failed", "Prediction failed (emulated model error)")
    assert "Traceback" in body["logs"]


async def test_sync_data_urls_switch(client, state):
    """With `sync_data_urls` sync file outputs are `data:` URLs holding the PNG."""
    state.sync_data_urls = True
    state.time_scale = 0.001
    body = (
        await client.post(
            "/v1/models/emulator/image/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Prefer": "wait"},
        )
    ).json()
    head, _, data = body["output"][0].partition(",")
    assert head == "data:image/png;base64"
    assert base64.b64decode(data).startswith(b"\x89PNG")
