# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Model discovery for the fake models: `models.get`, `versions.list`, `versions.get`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._util import NOT_FOUND, iso

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._fake_models import FakeModel
    from replicate_async.emulator._state import EmulatorState

#: When the emulator's fake versions say they were pushed.
VERSION_CREATED_AT = iso(1_717_200_000.0)


def version_object(model: FakeModel) -> dict[str, Any]:
    """A model's (only) version object.

    Args:
        model: The fake model.

    .. versionadded:: 0.1.0
    """
    return {
        "id": model.version_id,
        "created_at": VERSION_CREATED_AT,
        "cog_version": "0.9.0",
        "openapi_schema": model.openapi_schema(),
    }


def model_object(model: FakeModel, base: str) -> dict[str, Any]:
    """The model object of `GET /v1/models/{owner}/{name}`.

    Args:
        model: The fake model.
        base: Absolute URL base.

    .. versionadded:: 0.1.0
    """
    return {
        "url": f"{base}/{model.ref}",
        "owner": model.owner,
        "name": model.name,
        "description": model.description,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": version_object(model),
        "is_official": model.official,
        "created_at": VERSION_CREATED_AT,
    }


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The model discovery routes."""

    def find(request: Request) -> FakeModel | None:
        params = request.path_params
        return state.models.get(f"{params['owner']}/{params['name']}")

    async def get_model(request: Request) -> Response:
        model = find(request)
        if model is None:
            return problem(NOT_FOUND)
        return json_response(model_object(model, base_url(state, request.scope)))

    async def list_versions(request: Request) -> Response:
        model = find(request)
        if model is None:
            return problem(NOT_FOUND)
        return json_response({"next": None, "previous": None, "results": [version_object(model)]})

    async def get_version(request: Request) -> Response:
        model = find(request)
        if model is None or request.path_params["version"] != model.version_id:
            return problem(NOT_FOUND)
        return json_response(version_object(model))

    return [
        api_route(state, "/v1/models/{owner}/{name}", get_model, methods=["GET"]),
        api_route(state, "/v1/models/{owner}/{name}/versions", list_versions, methods=["GET"]),
        api_route(
            state, "/v1/models/{owner}/{name}/versions/{version}", get_version, methods=["GET"]
        ),
    ]
