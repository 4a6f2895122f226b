# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Trainings: create, get, list, cancel; the destination 404, the urls quirk, the output shape."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from replicate_async.emulator._records import Training
from replicate_async.emulator._trainings import INVALID_DESTINATION, WEIGHTS, training_plan
from replicate_async.emulator._util import NOT_FOUND

pytestmark = pytest.mark.anyio

HEX64 = re.compile(r"[0-9a-f]{64}")
TRAINING_KEYS = {
    "id",
    "model",
    "version",
    "input",
    "logs",
    "output",
    "error",
    "status",
    "created_at",
    "started_at",
    "completed_at",
    "metrics",
    "source",
    "urls",
}


def path_of(state, ref="emulator/echo"):
    """The trainings create path of a catalogue model's version."""
    return f"/v1/models/{ref}/versions/{state.models[ref].version_id}/trainings"


async def start(client, state, ref="emulator/echo", **extra):
    """Create a training of `ref` into `emulator/echo-versioned`; return the response."""
    body = {"destination": "emulator/echo-versioned", "input": {"steps": 1}, **extra}
    return await client.post(path_of(state, ref), json=body)


async def test_create_is_201_and_starting(client, state):
    """A create answers 201 with the queued training: `starting`, empty logs, no output."""
    body = (await start(client, state)).json()
    assert (body["status"], body["logs"], body["output"]) == ("starting", "", None)


async def test_create_status_code(client, state):
    """A create answers 201."""
    assert (await start(client, state)).status_code == 201


async def test_create_has_the_recorded_queued_keys(client, state):
    """The create answer has no `started_at`, `completed_at` or `metrics` (as recorded)."""
    body = (await start(client, state)).json()
    assert set(body) == TRAINING_KEYS - {"started_at", "completed_at", "metrics"}


async def test_create_reports_the_trained_model_and_version(client, state):
    """`model` and `version` are the trained model's, not the destination's."""
    body = (await start(client, state)).json()
    expected = ("emulator/echo", state.models["emulator/echo"].version_id)
    assert (body["model"], body["version"]) == expected


async def test_create_urls_point_into_predictions(client, state):
    """The recorded quirk: the create answer's urls are under `/v1/predictions/{id}`."""
    body = (await start(client, state)).json()
    pid = body["id"]
    assert body["urls"] == {
        "get": f"http://emu/v1/predictions/{pid}",
        "cancel": f"http://emu/v1/predictions/{pid}/cancel",
    }


async def test_get_urls_point_into_trainings(client, state):
    """`GET /v1/trainings/{id}` answers urls under `/v1/trainings/{id}`."""
    pid = (await start(client, state, "t/queued")).json()["id"]
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    assert body["urls"] == {
        "get": f"http://emu/v1/trainings/{pid}",
        "cancel": f"http://emu/v1/trainings/{pid}/cancel",
    }


async def test_get_while_starting_has_every_key_with_nulls(client, state):
    """A queued training shows every key: `started_at`/`completed_at` null, `metrics` {}."""
    pid = (await start(client, state, "t/queued")).json()["id"]
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    assert (set(body), body["started_at"], body["completed_at"], body["metrics"]) == (
        TRAINING_KEYS,
        None,
        None,
        {},
    )


async def test_get_while_processing(client, state):
    """After its queue time a training is `processing` with `started_at` and training logs."""
    pid = (await start(client, state, "t/queued")).json()["id"]
    state.travel(120)
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    assert (body["status"], body["started_at"] is not None, body["logs"]) == (
        "processing",
        True,
        "Preparing training data\n",
    )


async def test_success_output_is_new_version_and_weights(client, state):
    """On success `output` is `{version, weights}`: `destination:<new 64-hex id>` and a URL."""
    pid = (await start(client, state)).json()["id"]
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    output = body["output"]
    destination, _, version = output["version"].partition(":")
    assert (body["status"], set(output), destination, bool(HEX64.fullmatch(version))) == (
        "succeeded",
        {"version", "weights"},
        "emulator/echo-versioned",
        True,
    )


async def test_success_version_is_not_the_trained_one(client, state):
    """The output version is new: neither the trained nor the destination model's version."""
    pid = (await start(client, state)).json()["id"]
    version = (await client.get(f"/v1/trainings/{pid}")).json()["output"]["version"]
    assert version.partition(":")[2] not in state.versions


async def test_success_has_metrics(client, state):
    """A finished training has `completed_at` and `metrics` with both times."""
    pid = (await start(client, state)).json()["id"]
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    assert (body["completed_at"] is not None, set(body["metrics"])) == (
        True,
        {"predict_time", "total_time"},
    )


async def test_weights_are_served_without_auth(app, client, state):
    """The weights URL is the emulator's delivery route and answers without a token."""
    pid = (await start(client, state)).json()["id"]
    weights = (await client.get(f"/v1/trainings/{pid}")).json()["output"]["weights"]
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu") as anonymous:
        response = await anonymous.get(weights)
    assert (urlsplit(weights).path, response.status_code) == (f"/delivery/{pid}/{WEIGHTS}", 200)


async def test_failing_model_training_fails(client, state):
    """Training a model that fails ends `failed` with its error and no output."""
    pid = (await start(client, state, "emulator/fail")).json()["id"]
    state.travel(1)
    body = (await client.get(f"/v1/trainings/{pid}")).json()
    assert (body["status"], body["error"], body["output"]) == (
        "failed",
        state.models["emulator/fail"].error,
        None,
    )


async def test_get_through_predictions_route_is_the_training(client, state):
    """The create's `urls.get` (under `/v1/predictions`) answers the training object."""
    created = (await start(client, state, "t/queued")).json()
    body = (await client.get(created["urls"]["get"])).json()
    assert (body["id"], set(body)) == (created["id"], TRAINING_KEYS)


async def test_get_unknown_is_404(client):
    """An unknown training id is a 404 with the generic body."""
    response = await client.get("/v1/trainings/nope")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_get_a_prediction_as_training_is_404(client):
    """A prediction id is not a training."""
    created = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}
    )
    response = await client.get(f"/v1/trainings/{created.json()['id']}")
    assert response.status_code == 404


async def test_cancel_running_training(client, state):
    """Cancel ends a running training `canceled`."""
    pid = (await start(client, state, "t/queued")).json()["id"]
    body = (await client.post(f"/v1/trainings/{pid}/cancel")).json()
    assert (body["status"], body["output"], body["completed_at"] is not None) == (
        "canceled",
        None,
        True,
    )


async def test_cancel_urls_point_into_predictions(client, state):
    """As recorded, the cancel answer's urls are under `/v1/predictions/{id}`."""
    pid = (await start(client, state, "t/queued")).json()["id"]
    body = (await client.post(f"/v1/trainings/{pid}/cancel")).json()
    assert body["urls"]["get"] == f"http://emu/v1/predictions/{pid}"


async def test_cancel_unknown_is_404(client):
    """Cancelling an unknown training is a 404 with the generic body."""
    response = await client.post("/v1/trainings/nope/cancel")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_unknown_destination_is_the_recorded_404(client, state):
    """A destination not in the catalogue answers the recorded 404 body."""
    response = await client.post(path_of(state), json={"destination": "<invalid>", "input": {}})
    assert (response.status_code, response.json()) == (404, INVALID_DESTINATION)


async def test_non_string_destination_is_the_destination_404(client, state):
    """A destination that is not a string does not exist either."""
    response = await client.post(path_of(state), json={"destination": ["a/b"], "input": {}})
    assert response.json() == INVALID_DESTINATION


async def test_missing_destination_is_422(client, state):
    """`destination` is required: 422 with a `required` invalid field."""
    response = await client.post(path_of(state), json={"input": {}})
    fields = response.json()["invalid_fields"]
    assert (response.status_code, fields) == (
        422,
        [{"type": "required", "field": "", "description": "destination is required"}],
    )


async def test_missing_input_is_422(client, state):
    """`input` is required: 422."""
    response = await client.post(path_of(state), json={"destination": "emulator/echo"})
    assert (response.status_code, response.json()["detail"]) == (422, "- input is required\n")


async def test_unknown_top_level_key_is_422(client, state):
    """Unknown top-level keys are a 422, like predictions."""
    response = await start(client, state, version="x")
    assert response.json()["invalid_fields"][0]["type"] == "additional_property_not_allowed"


async def test_webhook_fields_are_accepted(client, state):
    """`webhook` and `webhook_events_filter` are allowed in the body."""
    response = await start(
        client, state, webhook="https://example.com/hook", webhook_events_filter=["completed"]
    )
    assert response.status_code == 201


async def test_body_not_an_object_is_400(client, state):
    """A body that is not a JSON object is a 400."""
    response = await client.post(path_of(state), content=b"[1]")
    assert response.status_code == 400


async def test_body_not_json_is_400(client, state):
    """A body that is not JSON at all is a 400."""
    response = await client.post(path_of(state), content=b"{")
    assert response.status_code == 400


async def test_unknown_model_is_generic_404(client):
    """An unknown model is a 404 with the generic body."""
    path = f"/v1/models/nobody/nothing/versions/{'0' * 64}/trainings"
    response = await client.post(path, json={"destination": "emulator/echo", "input": {}})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_unknown_version_is_generic_404(client):
    """A version that is not the model's is a 404 with the generic body."""
    path = f"/v1/models/emulator/echo/versions/{'0' * 64}/trainings"
    response = await client.post(path, json={"destination": "emulator/echo", "input": {}})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def fill(state, n):
    """Create `n` trainings directly; return their ids, oldest first."""
    model = state.models["emulator/echo"]
    return [
        state.create(
            model,
            {"i": i},
            version=model.version_id,
            plan=training_plan(state, model),
            training=Training("emulator/echo-versioned", "0" * 64),
        ).id
        for i in range(n)
    ]


async def test_list_pages_newest_first(client, state):
    """`GET /v1/trainings` pages 100 newest first; `next` leads to the rest, then null."""
    ids = fill(state, 150)
    first = (await client.get("/v1/trainings")).json()
    second = (await client.get(first["next"])).json()
    listed = [t["id"] for t in first["results"] + second["results"]]
    assert (len(first["results"]), second["next"], listed) == (100, None, ids[::-1])


async def test_list_next_is_under_trainings(client, state):
    """The list's `next` is an absolute `/v1/trainings` URL with a cursor."""
    fill(state, 101)
    parts = urlsplit((await client.get("/v1/trainings")).json()["next"])
    assert (parts.netloc, parts.path, parts.query.startswith("cursor=")) == (
        "emu",
        "/v1/trainings",
        True,
    )


async def test_list_items_are_trainings_with_trainings_urls(client, state):
    """List items are full training objects whose urls point into `/v1/trainings`."""
    (pid,) = fill(state, 1)
    (item,) = (await client.get("/v1/trainings")).json()["results"]
    assert (set(item), item["urls"]["get"]) == (TRAINING_KEYS, f"http://emu/v1/trainings/{pid}")


async def test_list_leaves_out_predictions(client, state):
    """Predictions are not listed as trainings."""
    created = await client.post(
        "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}
    )
    listed = (await client.get("/v1/trainings")).json()["results"]
    assert (created.status_code, listed) == (201, [])


async def test_predictions_list_leaves_out_trainings(client, state):
    """Trainings are not listed as predictions."""
    fill(state, 1)
    assert (await client.get("/v1/predictions")).json()["results"] == []


async def test_list_bad_cursor_is_404(client):
    """A malformed cursor is a 404, as for predictions."""
    response = await client.get("/v1/trainings", params={"cursor": "%%%"})
    assert response.status_code == 404


# -- over loopback: the version a training pushes -----------------------------------------------


def train(http, server, destination="emulator/echo-versioned", ref="emulator/echo"):
    """Train `ref` into `destination` and fetch it (a zero-latency model: it has finished)."""
    version = server.state.models[ref].version_id
    created = http.post(
        f"/v1/models/{ref}/versions/{version}/trainings",
        json={"destination": destination, "input": {"steps": 1}},
    )
    return http.get(f"/v1/trainings/{created.json()['id']}").json()


def test_pushed_version_is_listed_newest_first(http, replicate_emulator):
    """A successful training's version heads its destination's versions list."""
    pushed = train(http, replicate_emulator)["output"]["version"].partition(":")[2]
    listed = http.get("/v1/models/emulator/echo-versioned/versions").json()["results"]
    assert [v["id"] for v in listed] == [
        pushed,
        replicate_emulator.state.models["emulator/echo-versioned"].version_id,
    ]


def test_pushed_version_is_the_latest_version(http, replicate_emulator):
    """The destination's `latest_version` becomes the pushed version."""
    pushed = train(http, replicate_emulator)["output"]["version"].partition(":")[2]
    model = http.get("/v1/models/emulator/echo-versioned").json()
    assert model["latest_version"]["id"] == pushed


def test_pushed_version_runs_as_its_destination(http, replicate_emulator):
    """Running `destination:version` runs like the trained model, reported as the destination."""
    version = train(http, replicate_emulator)["output"]["version"]
    answer = http.post(
        "/v1/predictions",
        json={"version": version, "input": {"prompt": "tuned"}},
        headers={"Prefer": "wait"},
    ).json()
    assert (answer["model"], answer["version"], answer["output"]) == (
        "emulator/echo-versioned",
        version.partition(":")[2],
        "tuned",
    )


def test_a_created_model_is_a_destination(http, replicate_emulator):
    """A model created through the API can be trained into, and gets its first version."""
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "tuned", "visibility": "private", "hardware": "cpu"},
    )
    training = train(http, replicate_emulator, destination="emulator/tuned")
    model = http.get("/v1/models/emulator/tuned").json()
    assert model["latest_version"]["id"] == training["output"]["version"].partition(":")[2]


def test_pushed_version_appears_without_polling_the_training(http, replicate_emulator):
    """The destination shows the version once the training is done, even if nobody polled it."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow trains for 31 s
    version = replicate_emulator.state.models["emulator/slow"].version_id
    http.post(
        f"/v1/models/emulator/slow/versions/{version}/trainings",
        json={"destination": "emulator/echo-versioned", "input": {}},
    )
    path = "/v1/models/emulator/echo-versioned/versions"
    before = len(http.get(path).json()["results"])
    replicate_emulator.travel(60)
    assert (before, len(http.get(path).json()["results"])) == (1, 2)


def test_a_failed_training_pushes_nothing(http, replicate_emulator):
    """A training that fails adds no version to its destination."""
    failed = train(http, replicate_emulator, ref="emulator/fail")
    replicate_emulator.travel(1)
    listed = http.get("/v1/models/emulator/echo-versioned/versions").json()["results"]
    assert (http.get(f"/v1/trainings/{failed['id']}").json()["status"], len(listed)) == (
        "failed",
        1,
    )


def test_a_pushed_version_can_be_trained(http, replicate_emulator):
    """A pushed version is a model version like any: it can be trained again."""
    version = train(http, replicate_emulator)["output"]["version"].partition(":")[2]
    created = http.post(
        f"/v1/models/emulator/echo-versioned/versions/{version}/trainings",
        json={"destination": "emulator/echo-versioned", "input": {}},
    )
    assert (created.status_code, created.json()["version"]) == (201, version)


def test_training_into_a_deleted_destination_pushes_nothing(http, replicate_emulator):
    """A destination deleted while its training runs gets nothing (and nothing breaks)."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow trains for 31 s
    http.post(
        "/v1/models",
        json={"owner": "emulator", "name": "brief", "visibility": "private", "hardware": "cpu"},
    )
    created = train(http, replicate_emulator, destination="emulator/brief", ref="emulator/slow")
    http.delete("/v1/models/emulator/brief")
    replicate_emulator.travel(60)
    done = http.get(f"/v1/trainings/{created['id']}").json()
    assert (done["status"], http.get("/v1/models/emulator/brief").status_code) == (
        "succeeded",
        404,
    )
