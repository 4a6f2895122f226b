# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Deployments: list, create, get, update, delete (reference sections 2.4 and 12 item 16).

A deployment belongs to the account, runs one version of a model (predictions through
`POST /v1/deployments/{owner}/{name}/predictions` run its current release, see
`_predictions`), and keeps its releases: create makes release 1, every update the next. Create
answers **200**, not 201, as the spec says; delete 204 with an empty body, at once (the real API
also wants the deployment offline and unused for 15 minutes; the emulator does not make tests
wait for that). Invalid bodies are 422 problems with `invalid_fields`, including a model or
version that does not exist; a name taken is 409; an unknown deployment the generic 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from replicate_async.emulator._bodies import json_object
from replicate_async.emulator._files_api import OWNER
from replicate_async.emulator._http import api_route, json_response, problem
from replicate_async.emulator._model_changes import NAME_PATTERN, conflict
from replicate_async.emulator._pages import sequence_page
from replicate_async.emulator._predictions import INVALID_BODY
from replicate_async.emulator._registry import ACCOUNT, SKUS, Release
from replicate_async.emulator._util import NOT_FOUND
from replicate_async.emulator._validation import BodyValidator, InvalidField, problem_422

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._registry import DeploymentEntry
    from replicate_async.emulator._state import EmulatorState

#: Deployments per page of `GET /v1/deployments`.
PAGE_SIZE = 25
_SETTINGS: dict[str, Any] = {
    "hardware": {"type": "string", "enum": list(SKUS)},
    "min_instances": {"type": "integer", "minimum": 0, "maximum": 5},
    "max_instances": {"type": "integer", "minimum": 0, "maximum": 20},
    "version": {"type": "string"},
}
CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "model", "version", "hardware", "min_instances", "max_instances"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "model": {"type": "string"},
        **_SETTINGS,
    },
}
UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": _SETTINGS,
}


def deployment_object(entry: DeploymentEntry) -> dict[str, Any]:
    """The deployment object: owner, name and the current release.

    Args:
        entry: The registry's deployment.

    .. versionadded:: 0.1.0
    """
    release = entry.current
    return {
        "owner": entry.owner,
        "name": entry.name,
        "current_release": {
            "number": release.number,
            "model": release.model,
            "version": release.version,
            "created_at": release.created_iso,
            "created_by": dict(ACCOUNT),
            "configuration": {
                "hardware": release.hardware,
                "min_instances": release.min_instances,
                "max_instances": release.max_instances,
            },
        },
    }


def _bounds(minimum: int, maximum: int) -> list[InvalidField]:
    """The error of a lower instance bound above the upper one."""
    if minimum <= maximum:
        return []
    text = "min_instances must be less than or equal to max_instances"
    return [InvalidField("number_lte", "min_instances", text)]


class _Handlers:
    """The deployment endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.create_validator = BodyValidator(CREATE_SCHEMA)
        self.update_validator = BodyValidator(UPDATE_SCHEMA)

    def _find(self, request: Request) -> DeploymentEntry | None:
        """The path's deployment."""
        params = request.path_params
        return self.state.registry.deployments.get(f"{params['owner']}/{params['name']}")

    def _version_error(self, model: str, version: str) -> list[InvalidField]:
        """Why `model` at `version` cannot be deployed (empty: it can)."""
        self.state.settle_trainings()
        entry = self.state.registry.models.get(model)
        if entry is None:
            return [InvalidField("invalid", "model", f"Model {model} does not exist")]
        if entry.version(version) is None:
            text = f"Version {version} does not exist for model {model}"
            return [InvalidField("invalid", "version", text)]
        return []

    async def list(self, request: Request) -> Response:
        """`GET /v1/deployments`: newest first."""
        newest_first = sorted(
            self.state.registry.deployments.values(), key=lambda d: d.seq, reverse=True
        )
        return sequence_page(
            self.state,
            request,
            newest_first,
            lambda entry, _base: deployment_object(entry),
            path="/v1/deployments",
            size=PAGE_SIZE,
        )

    async def create(self, request: Request) -> Response:
        """`POST /v1/deployments`: 200 with the deployment at release 1."""
        state = self.state
        body = await json_object(request, state.config.limits.json_depth)
        if body is None:
            return problem(INVALID_BODY)
        errors = self.create_validator.errors(body)
        if not errors:
            errors = _bounds(body["min_instances"], body["max_instances"])
            errors += self._version_error(body["model"], body["version"])
        if errors:
            return problem(problem_422(errors))
        name = body["name"]
        if f"{OWNER}/{name}" in state.registry.deployments:
            return problem(conflict(f"A deployment named {OWNER}/{name} already exists."))
        release = Release(
            number=1,
            model=body["model"],
            version=body["version"],
            created_iso=state.timestamp(state.now()),
            hardware=body["hardware"],
            min_instances=body["min_instances"],
            max_instances=body["max_instances"],
        )
        entry = state.registry.add_deployment(OWNER, name, release)
        return json_response(deployment_object(entry))

    async def get(self, request: Request) -> Response:
        """`GET /v1/deployments/{owner}/{name}`."""
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        return json_response(deployment_object(entry))

    async def update(self, request: Request) -> Response:
        """`PATCH /v1/deployments/{owner}/{name}`: a new release with the changes."""
        state = self.state
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        body = await json_object(request, state.config.limits.json_depth)
        if body is None:
            return problem(INVALID_BODY)
        errors = self.update_validator.errors(body)
        if not errors and not body:
            fields = ", ".join(sorted(_SETTINGS))
            errors = [InvalidField("required", "", f"one of {fields} is required")]
        current = entry.current
        if not errors:
            minimum = body.get("min_instances", current.min_instances)
            errors = _bounds(minimum, body.get("max_instances", current.max_instances))
            if "version" in body:
                errors += self._version_error(current.model, body["version"])
        if errors:
            return problem(problem_422(errors))
        entry.releases.append(
            Release(
                number=current.number + 1,
                model=current.model,
                version=body.get("version", current.version),
                created_iso=state.timestamp(state.now()),
                hardware=body.get("hardware", current.hardware),
                min_instances=body.get("min_instances", current.min_instances),
                max_instances=body.get("max_instances", current.max_instances),
            )
        )
        return json_response(deployment_object(entry))

    async def delete(self, request: Request) -> Response:
        """`DELETE /v1/deployments/{owner}/{name}`: 204 with an empty body."""
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        del self.state.registry.deployments[entry.ref]
        return Response(b"", 204)


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The deployment routes (its predictions route is in `_predictions`)."""
    h = _Handlers(state)
    one = "/v1/deployments/{owner}/{name}"
    return [
        api_route(state, "/v1/deployments", h.list, methods=["GET"]),
        api_route(state, "/v1/deployments", h.create, methods=["POST"]),
        api_route(state, one, h.get, methods=["GET"]),
        api_route(state, one, h.update, methods=["PATCH"]),
        api_route(state, one, h.delete, methods=["DELETE"]),
    ]
