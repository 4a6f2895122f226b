# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Changing models over loopback: create (201), update (200), delete (204), version delete (202)."""

from __future__ import annotations

import pytest

from replicate_async.emulator._model_changes import MODEL_EXISTS
from replicate_async.emulator._util import INVALID_VERSION, NOT_FOUND

MODEL_KEYS = {
    "url",
    "owner",
    "name",
    "description",
    "visibility",
    "github_url",
    "paper_url",
    "license_url",
    "run_count",
    "cover_image_url",
    "default_example",
    "latest_version",
    "is_official",
    "created_at",
}


def create(http, **changes):
    """POST /v1/models of `emulator/made` (private, cpu) with changes; None drops a key."""
    body = {"owner": "emulator", "name": "made", "visibility": "private", "hardware": "cpu"}
    body.update(changes)
    return http.post("/v1/models", json={k: v for k, v in body.items() if v is not None})


def fields(response):
    """`(type, field)` of each invalid field of a 422."""
    return [(f["type"], f["field"]) for f in response.json()["invalid_fields"]]


def version_of(server, ref):
    """The version id of a catalogue model."""
    return server.state.models[ref].version_id


def train_into(http, server, destination):
    """Train `emulator/echo` into `destination`; return the pushed version id."""
    created = http.post(
        f"/v1/models/emulator/echo/versions/{version_of(server, 'emulator/echo')}/trainings",
        json={"destination": destination, "input": {}},
    )
    output = http.get(f"/v1/trainings/{created.json()['id']}").json()["output"]
    return output["version"].partition(":")[2]


# -- create -----------------------------------------------------------------------------------


def test_create_answers_201_with_the_new_model(http):
    """A create answers 201 with the whole model object."""
    response = create(http, description="An example model")
    answer = response.json()
    assert (response.status_code, set(answer)) == (201, MODEL_KEYS)
    assert (answer["owner"], answer["name"], answer["visibility"], answer["description"]) == (
        "emulator",
        "made",
        "private",
        "An example model",
    )


def test_created_model_has_no_version_and_no_example(http):
    """A new model has no versions yet (as recorded), no example, and is not official."""
    answer = create(http).json()
    assert (
        answer["latest_version"],
        answer["default_example"],
        answer["run_count"],
        answer["is_official"],
    ) == (None, None, 0, False)


def test_create_keeps_the_optional_urls(http):
    """github_url, paper_url, license_url and cover_image_url come back as given."""
    urls = {
        "github_url": "https://github.com/e/m",
        "paper_url": "https://arxiv.org/abs/1",
        "license_url": "https://license.test/",
        "cover_image_url": "https://img.test/c.png",
    }
    answer = create(http, **urls).json()
    assert {k: answer[k] for k in urls} == urls


def test_created_model_is_gettable(http):
    """GET of a created model answers what the create answered."""
    created = create(http).json()
    assert http.get("/v1/models/emulator/made").json() == created


def test_created_model_is_listed(http):
    """A created model is in `GET /v1/models`, newest first."""
    create(http)
    first = http.get("/v1/models").json()["results"][0]
    assert (first["owner"], first["name"]) == ("emulator", "made")


def test_created_model_is_found_by_query(http):
    """QUERY /v1/models finds a created model by its description."""
    create(http, description="quite unmistakable")
    found = http.request(
        "QUERY", "/v1/models", content="unmistakable", headers={"Content-Type": "text/plain"}
    ).json()["results"]
    assert [m["name"] for m in found] == ["made"]


def test_create_without_the_required_fields_is_422(http):
    """owner, name, visibility and hardware are required: one `required` entry each."""
    response = http.post("/v1/models", json={})
    assert (response.status_code, response.json()["detail"], fields(response)) == (
        422,
        (
            "- owner is required\n- name is required\n- visibility is required\n"
            "- hardware is required\n"
        ),
        [("required", "")] * 4,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"visibility": "secret"}, [("enum", "visibility")]),
        ({"hardware": "gpu-quantum"}, [("enum", "hardware")]),
        ({"name": "Has Spaces"}, [("pattern", "name")]),
        ({"description": 3}, [("invalid_type", "description")]),
        ({"weights_url": "https://w.test"}, [("additional_property_not_allowed", "")]),
    ],
)
def test_invalid_create_is_422(http, changes, expected):
    """Bad enums, names, types and unknown keys are 422 problems with `invalid_fields`."""
    response = create(http, **changes)
    assert (response.status_code, response.headers["content-type"], fields(response)) == (
        422,
        "application/problem+json",
        expected,
    )


def test_create_for_another_owner_is_403(http):
    """The owner must be the token's account (`emulator`): another one is a 403."""
    response = create(http, owner="someone-else")
    assert (response.status_code, response.json()["status"]) == (403, 403)


def test_create_of_a_taken_name_is_409(http):
    """A name the account already uses is a 409 (as observed on the real API)."""
    create(http)
    response = create(http)
    assert (response.status_code, response.json()) == (409, MODEL_EXISTS)


def test_create_of_a_catalogue_name_is_409(http):
    """The catalogue's own `emulator/echo` is taken too."""
    assert create(http, name="echo").status_code == 409


def test_create_body_must_be_a_json_object(http):
    """A body that is not a JSON object is a 400."""
    assert http.post("/v1/models", content=b"owner=emulator").status_code == 400


# -- update -----------------------------------------------------------------------------------


def test_update_answers_the_whole_model(http):
    """PATCH answers 200 with the full model object, changed."""
    response = http.patch("/v1/models/emulator/echo", json={"description": "Changed"})
    answer = response.json()
    assert (response.status_code, set(answer), answer["description"]) == (
        200,
        MODEL_KEYS,
        "Changed",
    )


def test_update_changes_only_the_given_fields(http):
    """An update of paper_url keeps the description and github_url."""
    create(http, description="kept", github_url="https://github.com/e/m")
    answer = http.patch(
        "/v1/models/emulator/made", json={"paper_url": "https://arxiv.org/abs/2"}
    ).json()
    assert (answer["description"], answer["github_url"], answer["paper_url"]) == (
        "kept",
        "https://github.com/e/m",
        "https://arxiv.org/abs/2",
    )


def test_update_is_what_get_answers_next(http):
    """GET after an update answers the updated model."""
    updated = http.patch("/v1/models/emulator/echo", json={"license_url": "https://l.test"}).json()
    assert http.get("/v1/models/emulator/echo").json() == updated


def test_update_of_the_readme_is_served(http):
    """An updated readme is what `GET .../readme` serves."""
    http.patch("/v1/models/emulator/echo", json={"readme": "# Changed\n"})
    assert http.get("/v1/models/emulator/echo/readme").text == "# Changed\n"


def test_update_takes_weights_url(http):
    """weights_url may be updated (the spec's model object does not show it)."""
    response = http.patch("/v1/models/emulator/echo", json={"weights_url": "https://hf.test/w"})
    assert (response.status_code, "weights_url" in response.json()) == (200, False)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"visibility": "private"}, [("additional_property_not_allowed", "")]),
        ({"cover_image_url": "https://c.test"}, [("additional_property_not_allowed", "")]),
        ({"description": ["a"]}, [("invalid_type", "description")]),
    ],
)
def test_update_of_other_fields_is_422(http, change, expected):
    """Only description, readme, github_url, paper_url, weights_url and license_url change."""
    response = http.patch("/v1/models/emulator/echo", json=change)
    assert (response.status_code, fields(response)) == (422, expected)


def test_update_of_another_accounts_model_is_403(http):
    """The account may update only its own models."""
    response = http.patch("/v1/models/meta/musicgen", json={"description": "mine now"})
    assert response.status_code == 403


def test_update_of_an_unknown_model_is_404(http):
    """PATCH of an unknown model is the generic 404."""
    response = http.patch("/v1/models/emulator/no-such", json={"description": "x"})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# -- delete -----------------------------------------------------------------------------------


def test_deleted_model_is_gone(http):
    """After deleting a private model without versions, GET is the generic 404."""
    create(http)
    http.delete("/v1/models/emulator/made")
    response = http.get("/v1/models/emulator/made")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_delete_of_a_public_model_is_409(http):
    """Only private models may be deleted."""
    create(http, visibility="public")
    assert http.delete("/v1/models/emulator/made").status_code == 409


def test_delete_of_a_model_with_versions_is_409(http, replicate_emulator):
    """A model a training pushed a version to cannot be deleted until the version is."""
    create(http)
    train_into(http, replicate_emulator, "emulator/made")
    assert http.delete("/v1/models/emulator/made").status_code == 409


def test_delete_after_deleting_its_versions(http, replicate_emulator):
    """Deleting the model's versions first lets the model be deleted."""
    create(http)
    version = train_into(http, replicate_emulator, "emulator/made")
    http.delete(f"/v1/models/emulator/made/versions/{version}")
    assert http.delete("/v1/models/emulator/made").status_code == 204


def test_delete_of_another_accounts_model_is_403(http):
    """The account may delete only its own models."""
    assert http.delete("/v1/models/meta/musicgen").status_code == 403


def test_delete_of_an_unknown_model_is_404(http):
    """DELETE of an unknown model is the generic 404."""
    assert http.delete("/v1/models/emulator/no-such").status_code == 404


# -- version delete ---------------------------------------------------------------------------


def test_deleted_version_is_gone(http, replicate_emulator):
    """After a version delete, GET of that version is the generic 404."""
    version = version_of(replicate_emulator, "emulator/echo-versioned")
    http.delete(f"/v1/models/emulator/echo-versioned/versions/{version}")
    response = http.get(f"/v1/models/emulator/echo-versioned/versions/{version}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_deleted_version_runs_no_predictions(http, replicate_emulator):
    """A create with a deleted version is the real 422 for an unknown version."""
    version = version_of(replicate_emulator, "emulator/echo-versioned")
    http.delete(f"/v1/models/emulator/echo-versioned/versions/{version}")
    response = http.post("/v1/predictions", json={"version": version, "input": {"prompt": "x"}})
    assert (response.status_code, response.json()) == (422, INVALID_VERSION)


def test_deleted_version_leaves_the_model_without_latest_version(http, replicate_emulator):
    """A model whose only version was deleted has `latest_version: null`."""
    version = version_of(replicate_emulator, "emulator/echo-versioned")
    http.delete(f"/v1/models/emulator/echo-versioned/versions/{version}")
    assert http.get("/v1/models/emulator/echo-versioned").json()["latest_version"] is None


def test_delete_of_a_deployed_version_is_409(http, replicate_emulator):
    """The version `emulator/echo-deployment` runs cannot be deleted."""
    version = version_of(replicate_emulator, "emulator/echo")
    assert http.delete(f"/v1/models/emulator/echo/versions/{version}").status_code == 409


def test_delete_of_a_version_in_training_is_409(http, replicate_emulator):
    """A version cannot be deleted while a training of it runs."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow trains for 31 s
    version = version_of(replicate_emulator, "emulator/slow")
    http.post(
        f"/v1/models/emulator/slow/versions/{version}/trainings",
        json={"destination": "emulator/echo-versioned", "input": {}},
    )
    assert http.delete(f"/v1/models/emulator/slow/versions/{version}").status_code == 409


def test_delete_of_another_accounts_version_is_403(http, replicate_emulator):
    """The account may delete versions only of its own models."""
    version = version_of(replicate_emulator, "meta/musicgen")
    assert http.delete(f"/v1/models/meta/musicgen/versions/{version}").status_code == 403


def test_delete_of_an_unknown_version_is_404(http):
    """DELETE of a version the model does not have is the generic 404."""
    response = http.delete("/v1/models/emulator/echo-versioned/versions/" + "0" * 64)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
