# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Deployments over loopback: list, create (200), get, update (new releases), delete, predictions."""

from __future__ import annotations

import pytest

from replicate_async.emulator._deployments import PAGE_SIZE
from replicate_async.emulator._util import NOT_FOUND

CONFIGURED = "/v1/deployments/emulator/echo-deployment"
CREATE_FIELDS = ("name", "model", "version", "hardware", "min_instances", "max_instances")


def echo_version(server):
    """The version of the catalogue's `emulator/echo`."""
    return server.state.models["emulator/echo"].version_id


def body(server, **changes):
    """A valid create body, with changes (a value of None drops the key)."""
    base = {
        "name": "made",
        "model": "emulator/echo",
        "version": echo_version(server),
        "hardware": "gpu-t4",
        "min_instances": 1,
        "max_instances": 3,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def create(http, server, **changes):
    """POST /v1/deployments; return the response."""
    return http.post("/v1/deployments", json=body(server, **changes))


def fields(response):
    """`(type, field)` of each invalid field of a 422."""
    return [(f["type"], f["field"]) for f in response.json()["invalid_fields"]]


def train_new_echo_version(http, server):
    """Train `emulator/echo` into itself; return the version that training pushed."""
    created = http.post(
        f"/v1/models/emulator/echo/versions/{echo_version(server)}/trainings",
        json={"destination": "emulator/echo", "input": {}},
    )
    output = http.get(f"/v1/trainings/{created.json()['id']}").json()["output"]
    return output["version"].partition(":")[2]


# -- create -----------------------------------------------------------------------------------


def test_create_answers_the_deployment_at_release_1(http, replicate_emulator):
    """A create answers the account's deployment with release 1 of what it asked for."""
    answer = create(http, replicate_emulator).json()
    release = answer["current_release"]
    assert (answer["owner"], answer["name"], release["number"]) == ("emulator", "made", 1)
    assert (release["model"], release["version"]) == (
        "emulator/echo",
        echo_version(replicate_emulator),
    )
    assert release["configuration"] == {
        "hardware": "gpu-t4",
        "min_instances": 1,
        "max_instances": 3,
    }


def test_release_names_its_creator_and_time(http, replicate_emulator):
    """`created_by` is the account (type, username, name, ...); `created_at` a UTC timestamp."""
    release = create(http, replicate_emulator).json()["current_release"]
    creator = release["created_by"]
    assert (creator["type"], creator["username"], creator["name"]) == (
        "user",
        "emulator",
        "Replicate Emulator",
    )
    assert release["created_at"].endswith("Z")


@pytest.mark.parametrize("missing", CREATE_FIELDS)
def test_create_without_a_field_is_422(http, replicate_emulator, missing):
    """Every field is required: a missing one is a 422 `required` entry."""
    response = create(http, replicate_emulator, **{missing: None})
    assert (response.status_code, fields(response)) == (422, [("required", "")])
    assert response.json()["detail"] == f"- {missing} is required\n"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"min_instances": 6}, [("number_lte", "min_instances")]),
        ({"min_instances": -1}, [("number_gte", "min_instances")]),
        ({"max_instances": 21}, [("number_lte", "max_instances")]),
        ({"max_instances": "3"}, [("invalid_type", "max_instances")]),
        ({"min_instances": 4, "max_instances": 2}, [("number_lte", "min_instances")]),
        ({"hardware": "gpu-quantum"}, [("enum", "hardware")]),
        ({"name": "Not A Name"}, [("pattern", "name")]),
        ({"model": "no/such"}, [("invalid", "model")]),
        ({"version": "0" * 64}, [("invalid", "version")]),
        ({"color": "red"}, [("additional_property_not_allowed", "")]),
    ],
)
def test_invalid_create_is_422_with_invalid_fields(http, replicate_emulator, changes, expected):
    """Out-of-range bounds, unknown hardware, models and versions, extra keys: 422 problems."""
    response = create(http, replicate_emulator, **changes)
    assert (response.status_code, response.headers["content-type"], fields(response)) == (
        422,
        "application/problem+json",
        expected,
    )


def test_create_body_must_be_a_json_object(http):
    """A body that is not a JSON object is a 400."""
    response = http.post("/v1/deployments", json=["name"])
    assert response.status_code == 400


def test_create_of_a_taken_name_is_409(http, replicate_emulator):
    """A second deployment of the same name is a 409 conflict."""
    create(http, replicate_emulator)
    assert create(http, replicate_emulator).status_code == 409


def test_created_deployment_is_gettable(http, replicate_emulator):
    """GET of a created deployment answers what the create answered."""
    created = create(http, replicate_emulator).json()
    assert http.get("/v1/deployments/emulator/made").json() == created


# -- list and get -----------------------------------------------------------------------------


def test_list_holds_the_configured_deployment(http):
    """The configured `emulator/echo-deployment` is listed, at release 1 of emulator/echo."""
    (item,) = http.get("/v1/deployments").json()["results"]
    assert (item["owner"], item["name"], item["current_release"]["model"]) == (
        "emulator",
        "echo-deployment",
        "emulator/echo",
    )


def test_list_is_newest_first(http, replicate_emulator):
    """Deployments are listed newest first."""
    create(http, replicate_emulator, name="older")
    create(http, replicate_emulator, name="newer")
    names = [d["name"] for d in http.get("/v1/deployments").json()["results"]]
    assert names == ["newer", "older", "echo-deployment"]


def test_list_pages_follow_next(http, replicate_emulator):
    """More deployments than a page: `next` leads to the rest, then null."""
    for i in range(PAGE_SIZE):
        create(http, replicate_emulator, name=f"d{i:02d}")
    first = http.get("/v1/deployments").json()
    second = http.get(first["next"]).json()
    names = [d["name"] for d in first["results"] + second["results"]]
    assert (len(first["results"]), second["next"], names[-1]) == (
        PAGE_SIZE,
        None,
        "echo-deployment",
    )
    assert names[:-1] == [f"d{i:02d}" for i in reversed(range(PAGE_SIZE))]


def test_get_of_the_configured_deployment(http, replicate_emulator):
    """GET answers owner, name and the current release with its configuration."""
    release = http.get(CONFIGURED).json()["current_release"]
    assert (release["number"], release["version"], release["configuration"]) == (
        1,
        echo_version(replicate_emulator),
        {"hardware": "cpu", "min_instances": 0, "max_instances": 1},
    )


def test_get_of_an_unknown_deployment_is_404(http):
    """An unknown deployment is the generic 404."""
    response = http.get("/v1/deployments/emulator/no-such")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# -- update -----------------------------------------------------------------------------------


def test_each_update_is_a_new_release(http):
    """Every PATCH increments `current_release.number`."""
    numbers = [
        http.patch(CONFIGURED, json=change).json()["current_release"]["number"]
        for change in ({"min_instances": 1}, {"hardware": "gpu-t4"}, {"max_instances": 4})
    ]
    assert numbers == [2, 3, 4]


def test_update_changes_only_what_it_names(http):
    """An update of `max_instances` keeps the hardware and the lower bound."""
    answer = http.patch(CONFIGURED, json={"max_instances": 5}).json()
    assert answer["current_release"]["configuration"] == {
        "hardware": "cpu",
        "min_instances": 0,
        "max_instances": 5,
    }


def test_update_is_what_get_answers_next(http):
    """GET after an update answers the updated deployment."""
    updated = http.patch(CONFIGURED, json={"hardware": "gpu-l40s"}).json()
    assert http.get(CONFIGURED).json() == updated


def test_update_to_another_version_of_the_model(http, replicate_emulator):
    """A version a training pushed to the deployed model can be deployed."""
    version = train_new_echo_version(http, replicate_emulator)
    release = http.patch(CONFIGURED, json={"version": version}).json()["current_release"]
    assert (release["version"], release["model"]) == (version, "emulator/echo")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, [("required", "")]),
        ({"version": "f" * 64}, [("invalid", "version")]),
        ({"min_instances": 2}, [("number_lte", "min_instances")]),
        ({"max_instances": 99}, [("number_lte", "max_instances")]),
        ({"model": "emulator/tokens"}, [("additional_property_not_allowed", "")]),
    ],
)
def test_invalid_update_is_422(http, change, expected):
    """An empty update, an unknown version, bounds out of range, other keys: 422."""
    response = http.patch(CONFIGURED, json=change)
    assert (response.status_code, fields(response)) == (422, expected)


def test_invalid_update_makes_no_release(http):
    """A refused update leaves the release number where it was."""
    http.patch(CONFIGURED, json={"max_instances": 99})
    assert http.get(CONFIGURED).json()["current_release"]["number"] == 1


def test_update_of_an_unknown_deployment_is_404(http):
    """PATCH of an unknown deployment is the generic 404."""
    response = http.patch("/v1/deployments/emulator/no-such", json={"max_instances": 2})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# -- delete -----------------------------------------------------------------------------------


def test_deleted_deployment_is_gone(http):
    """After a delete, GET is 404 and the list no longer holds it."""
    http.delete(CONFIGURED)
    assert (http.get(CONFIGURED).status_code, http.get("/v1/deployments").json()["results"]) == (
        404,
        [],
    )


def test_deleted_deployment_runs_no_predictions(http):
    """Predictions through a deleted deployment are the generic 404."""
    http.delete(CONFIGURED)
    response = http.post(f"{CONFIGURED}/predictions", json={"input": {"prompt": "x"}})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_delete_of_an_unknown_deployment_is_404(http):
    """DELETE of an unknown deployment is the generic 404."""
    assert http.delete("/v1/deployments/emulator/no-such").status_code == 404


# -- predictions through a deployment ---------------------------------------------------------


def test_created_deployment_runs_its_model(http, replicate_emulator):
    """A prediction through a created deployment runs its model and names the deployment."""
    create(http, replicate_emulator)
    answer = http.post(
        "/v1/deployments/emulator/made/predictions",
        json={"input": {"prompt": "via deployment"}},
        headers={"Prefer": "wait"},
    ).json()
    assert (answer["model"], answer["output"], answer["deployment"]) == (
        "emulator/echo",
        "via deployment",
        "emulator/made",
    )


def test_predictions_run_the_current_release(http, replicate_emulator):
    """After an update to another version, predictions report that version."""
    version = train_new_echo_version(http, replicate_emulator)
    http.patch(CONFIGURED, json={"version": version})
    answer = http.post(f"{CONFIGURED}/predictions", json={"input": {"prompt": "x"}}).json()
    assert answer["version"] == version


def test_deployment_prediction_input_is_validated(http):
    """The deployed model's input schema applies: a missing required input is a 422."""
    response = http.post(f"{CONFIGURED}/predictions", json={"input": {}})
    assert (response.status_code, fields(response)) == (422, [("required", "input")])
