# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Training routes: create, get, list, cancel (reference sections 2.2, 3 and 12 item 15).

A training is a `PredictionRecord` with `training` set: it shares the prediction id space, the
lazy lifecycle, cancellation and retention. It runs as long as a prediction of the model it trains
would, logs a few lines, and on success outputs the new version of its destination and a weights
file served by the delivery route. That version is pushed to the destination (its versions list
shows it; it runs like the version trained). Any version the registry holds can be trained,
including pushed ones; the destination must exist.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import attrs

from replicate_async.emulator._bodies import parse_json
from replicate_async.emulator._fake_models import FileItem, make_plan
from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._predictions import INVALID_BODY, list_page
from replicate_async.emulator._records import Training
from replicate_async.emulator._render import render_training
from replicate_async.emulator._util import NOT_FOUND
from replicate_async.emulator._validation import InvalidField, body_errors, problem_422

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._fake_models import FakeModel, Plan
    from replicate_async.emulator._records import PredictionRecord
    from replicate_async.emulator._state import EmulatorState

_KEYS = frozenset({"destination", "input", "webhook", "webhook_events_filter"})
INVALID_DESTINATION: dict[str, Any] = {
    "detail": "The specified training destination does not exist",
    "status": 404,
}
#: The name of the weights file a successful training outputs.
WEIGHTS = "trained_model.tar"
_LOGS = ("Preparing training data", "Training", "Uploading weights")


def training_plan(state: EmulatorState, model: FakeModel) -> Plan:
    """A training of `model`: its queue and run times, training logs, the weights at the end."""
    plan = make_plan(model, {}, state.rng)
    run = plan.run
    outputs = () if plan.error is not None else ((run, FileItem(WEIGHTS, 0)),)
    logs = tuple((run * i / (len(_LOGS) - 1), line) for i, line in enumerate(_LOGS))
    return attrs.evolve(plan, logs=logs, outputs=outputs, as_list=False, metrics={})


class _Handlers:
    """The training endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def create(self, request: Request) -> Response:
        """`POST /v1/models/{owner}/{name}/versions/{version_id}/trainings`."""
        state = self.state
        try:
            body = parse_json(await request.body(), state.config.limits.json_depth)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return problem(INVALID_BODY)
        errors = body_errors(body, _KEYS, needs_version=False)
        if "destination" not in body:
            errors.append(InvalidField("required", "", "destination is required"))
        if errors:
            return problem(problem_422(errors))
        params = request.path_params
        entry = state.registry.models.get(f"{params['owner']}/{params['name']}")
        version = entry.version(params["version_id"]) if entry is not None else None
        if version is None:
            return problem(NOT_FOUND)
        model = version.runs
        destination = body["destination"]
        if not isinstance(destination, str) or destination not in state.registry.models:
            return problem(INVALID_DESTINATION)
        new_version = hashlib.sha256(f"{destination}:{state.rng.random()}".encode()).hexdigest()
        record = state.create(
            model,
            body["input"],
            version=model.version_id,
            webhook=body.get("webhook"),
            webhook_events_filter=body.get("webhook_events_filter"),
            plan=training_plan(state, model),
            training=Training(destination, new_version),
        )
        base = base_url(state, request.scope)
        # The recorded quirk: the create answer's urls point into /v1/predictions.
        return json_response(
            render_training(state, record, base, created=True, urls_under="predictions"), 201
        )

    def _find(self, request: Request) -> PredictionRecord | None:
        """The training of the path's id (None: unknown, forgotten, or a prediction)."""
        record = self.state.get(request.path_params["id"])
        return record if record is not None and record.training is not None else None

    async def get(self, request: Request) -> Response:
        """`GET /v1/trainings/{id}`."""
        record = self._find(request)
        if record is None:
            return problem(NOT_FOUND)
        return json_response(
            render_training(self.state, record, base_url(self.state, request.scope))
        )

    async def cancel(self, request: Request) -> Response:
        """`POST /v1/trainings/{id}/cancel` (its urls point into /v1/predictions, as recorded)."""
        state = self.state
        record = self._find(request)
        if record is None:
            return problem(NOT_FOUND)
        state.cancel(record)
        base = base_url(state, request.scope)
        return json_response(render_training(state, record, base, urls_under="predictions"))

    async def list(self, request: Request) -> Response:
        """`GET /v1/trainings`: newest first, 100 per page, cursor in `next`."""
        state = self.state

        def render(record: PredictionRecord, base: str) -> dict[str, Any]:
            return render_training(state, record, base)

        return list_page(state, request, "/v1/trainings", render, trainings=True)


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The training routes."""
    h = _Handlers(state)
    return [
        api_route(
            state,
            "/v1/models/{owner}/{name}/versions/{version_id}/trainings",
            h.create,
            methods=["POST"],
        ),
        api_route(state, "/v1/trainings", h.list, methods=["GET"]),
        api_route(state, "/v1/trainings/{id}", h.get, methods=["GET"]),
        api_route(state, "/v1/trainings/{id}/cancel", h.cancel, methods=["POST"]),
    ]
