# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Changing models: `models.create`, `models.update`, `models.delete`, `models.versions.delete`.

The account is the emulator's (`GET /v1/account`, username `emulator`): it owns the `emulator/*`
fake models and whatever it creates. Statuses (reference sections 2.3 and 12 item 16): create
201 with the model object, update 200 with the whole model, delete 204 and version delete 202,
both with an empty body. Refusals are problem+json: a malformed body 400, invalid fields 422
(`invalid_fields`, as for prediction creates), another account's model 403, an unknown one the
generic 404, and what the API's rules forbid (a name taken, deleting a public model or one with
versions, a version a deployment runs or a training still trains) 409. Unlike the real API, a
version of a public model may be deleted (so the account's `emulator/*` models can be used to test
deletes); the deletion is immediate, where the real one "might take a few minutes".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from replicate_async.emulator._bodies import json_object
from replicate_async.emulator._files_api import OWNER
from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._models_api import model_object
from replicate_async.emulator._predictions import INVALID_BODY
from replicate_async.emulator._registry import SKUS
from replicate_async.emulator._util import NOT_FOUND
from replicate_async.emulator._validation import BodyValidator, problem_422

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._registry import ModelEntry
    from replicate_async.emulator._state import EmulatorState

#: Model (and deployment) names: lowercase letters, digits, `-`, `_`, `.`; at most 100.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"
_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_URL_FIELDS = ("description", "github_url", "paper_url", "license_url", "cover_image_url")
CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["owner", "name", "visibility", "hardware"],
    "additionalProperties": False,
    "properties": {
        "owner": {"type": "string"},
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "hardware": {"type": "string", "enum": list(SKUS)},
        **dict.fromkeys(_URL_FIELDS, _TEXT),
    },
}
#: What `PATCH /v1/models/{owner}/{name}` may change.
UPDATABLE = ("description", "readme", "github_url", "paper_url", "weights_url", "license_url")
UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": dict.fromkeys(UPDATABLE, _TEXT),
}
MODEL_EXISTS: dict[str, Any] = {
    "title": "Conflict",
    "detail": "This model already exists. Try a different name!",
    "status": 409,
}


def forbidden(detail: str) -> dict[str, Any]:
    """A 403 problem body."""
    return {"title": "Permission denied", "detail": detail, "status": 403}


def conflict(detail: str) -> dict[str, Any]:
    """A 409 problem body: what the API's rules do not allow now."""
    return {"title": "Conflict", "detail": detail, "status": 409}


class _Handlers:
    """The model-changing endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.create_validator = BodyValidator(CREATE_SCHEMA)
        self.update_validator = BodyValidator(UPDATE_SCHEMA)

    def _own(self, request: Request, what: str) -> ModelEntry | Response:
        """The path's model if the account owns it, else the 404 or 403 response."""
        self.state.settle_trainings()
        params = request.path_params
        entry = self.state.registry.models.get(f"{params['owner']}/{params['name']}")
        if entry is None:
            return problem(NOT_FOUND)
        if entry.owner != OWNER:
            return problem(forbidden(f"You can only {what} models you own."))
        return entry

    async def create(self, request: Request) -> Response:
        """`POST /v1/models`: 201 with the new model (no versions yet)."""
        state = self.state
        body = await json_object(request, state.config.limits.json_depth)
        if body is None:
            return problem(INVALID_BODY)
        errors = self.create_validator.errors(body)
        if errors:
            return problem(problem_422(errors))
        owner, name = body["owner"], body["name"]
        if owner != OWNER:
            detail = f"You can only create models owned by your own account ({OWNER})."
            return problem(forbidden(detail))
        if f"{owner}/{name}" in state.registry.models:
            return problem(MODEL_EXISTS)
        entry = state.registry.add_model(
            owner=owner,
            name=name,
            created_iso=state.timestamp(state.now()),
            visibility=body["visibility"],
            hardware=body["hardware"],
            **{key: body.get(key) for key in _URL_FIELDS},
        )
        return json_response(model_object(state, entry, base_url(state, request.scope)), 201)

    async def update(self, request: Request) -> Response:
        """`PATCH /v1/models/{owner}/{name}`: 200 with the whole, updated model."""
        state = self.state
        entry = self._own(request, "update")
        if isinstance(entry, Response):
            return entry
        body = await json_object(request, state.config.limits.json_depth)
        if body is None:
            return problem(INVALID_BODY)
        errors = self.update_validator.errors(body)
        if errors:
            return problem(problem_422(errors))
        for key, value in body.items():
            setattr(entry, key, value)
        return json_response(model_object(state, entry, base_url(state, request.scope)))

    async def delete(self, request: Request) -> Response:
        """`DELETE /v1/models/{owner}/{name}`: 204, for a private model without versions."""
        entry = self._own(request, "delete")
        if isinstance(entry, Response):
            return entry
        if entry.visibility != "private":
            return problem(conflict("You can only delete private models."))
        if entry.versions:
            detail = "You can only delete models without versions: delete its versions first."
            return problem(conflict(detail))
        self.state.registry.remove_model(entry)
        return Response(b"", 204)

    async def delete_version(self, request: Request) -> Response:
        """`DELETE /v1/models/{owner}/{name}/versions/{version}`: 202, deleted at once."""
        state = self.state
        entry = self._own(request, "delete versions of")
        if isinstance(entry, Response):
            return entry
        version = entry.version(request.path_params["version"])
        if version is None:
            return problem(NOT_FOUND)
        refusal = None
        if state.registry.deploys(version.id):
            refusal = "You cannot delete a version a deployment runs."
        elif any(
            r.training is not None and r.version == version.id and not r.terminal
            for r in state.records()
        ):
            refusal = "You cannot delete a version while a training of it runs."
        if refusal is not None:
            return problem(conflict(refusal))
        state.registry.remove_version(entry, version)
        return Response(b"", 202)


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The model-changing routes."""
    h = _Handlers(state)
    model = "/v1/models/{owner}/{name}"
    return [
        api_route(state, "/v1/models", h.create, methods=["POST"]),
        api_route(state, model, h.update, methods=["PATCH"]),
        api_route(state, model, h.delete, methods=["DELETE"]),
        api_route(state, model + "/versions/{version}", h.delete_version, methods=["DELETE"]),
    ]
