# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Reading models: `models.get`, `models.versions.list`/`get`, `models.examples.list`.

The objects come from the registry (`_registry`): metadata a `PATCH` may have changed, the
versions trainings pushed, the fake models' example predictions. Changing models lives in
`_model_changes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._pages import sequence_page
from replicate_async.emulator._render import render_prediction
from replicate_async.emulator._util import NOT_FOUND

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._registry import ModelEntry, VersionEntry
    from replicate_async.emulator._state import EmulatorState

#: Versions and examples per page.
PAGE_SIZE = 100


def version_object(version: VersionEntry) -> dict[str, Any]:
    """A version object: id, when it was pushed, and the OpenAPI schema of what it runs.

    Args:
        version: The registry's version.

    .. versionadded:: 0.1.0
    """
    return {
        "id": version.id,
        "created_at": version.created_iso,
        "cog_version": "0.9.0",
        "openapi_schema": version.runs.openapi_schema(),
    }


def model_object(state: EmulatorState, entry: ModelEntry, base: str) -> dict[str, Any]:
    """The model object of `GET /v1/models/{owner}/{name}` (and of lists, search, collections).

    Args:
        state: The emulator state (renders the default example).
        entry: The registry's model.
        base: Absolute URL base.

    .. versionadded:: 0.1.0
    """
    latest = entry.latest
    example = entry.examples[0] if entry.examples else None
    return {
        "url": f"{base}/{entry.ref}",
        "owner": entry.owner,
        "name": entry.name,
        "description": entry.description,
        "visibility": entry.visibility,
        "github_url": entry.github_url,
        "paper_url": entry.paper_url,
        "license_url": entry.license_url,
        "run_count": 0,
        "cover_image_url": entry.cover_image_url,
        "default_example": None if example is None else render_prediction(state, example, base),
        "latest_version": None if latest is None else version_object(latest),
        "is_official": entry.official,
        "created_at": entry.created_iso,
    }


class _Handlers:
    """The model-reading endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def _find(self, request: Request) -> ModelEntry | None:
        """The path's model, with the versions trainings pushed by now."""
        self.state.settle_trainings()
        params = request.path_params
        return self.state.registry.models.get(f"{params['owner']}/{params['name']}")

    async def get_model(self, request: Request) -> Response:
        """`GET /v1/models/{owner}/{name}`."""
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        return json_response(model_object(self.state, entry, base_url(self.state, request.scope)))

    async def list_versions(self, request: Request) -> Response:
        """`GET /v1/models/{owner}/{name}/versions`: newest first."""
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        path = f"/v1/models/{entry.ref}/versions"
        newest_first = entry.versions[::-1]
        return sequence_page(
            self.state,
            request,
            newest_first,
            lambda v, _base: version_object(v),
            path=path,
            size=PAGE_SIZE,
        )

    async def get_version(self, request: Request) -> Response:
        """`GET /v1/models/{owner}/{name}/versions/{version}`."""
        entry = self._find(request)
        version = entry.version(request.path_params["version"]) if entry is not None else None
        if version is None:
            return problem(NOT_FOUND)
        return json_response(version_object(version))

    async def list_examples(self, request: Request) -> Response:
        """`GET /v1/models/{owner}/{name}/examples`: prediction objects."""
        entry = self._find(request)
        if entry is None:
            return problem(NOT_FOUND)
        state = self.state
        return sequence_page(
            state,
            request,
            entry.examples,
            lambda record, base: render_prediction(state, record, base),
            path=f"/v1/models/{entry.ref}/examples",
            size=PAGE_SIZE,
        )


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The model-reading routes."""
    h = _Handlers(state)
    return [
        api_route(state, "/v1/models/{owner}/{name}", h.get_model, methods=["GET"]),
        api_route(state, "/v1/models/{owner}/{name}/versions", h.list_versions, methods=["GET"]),
        api_route(
            state, "/v1/models/{owner}/{name}/versions/{version}", h.get_version, methods=["GET"]
        ),
        api_route(state, "/v1/models/{owner}/{name}/examples", h.list_examples, methods=["GET"]),
    ]
