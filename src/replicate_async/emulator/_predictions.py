# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Prediction routes: create (three routes), get, list, cancel; `Prefer: wait`, `Cancel-After`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

import attrs

from replicate_async.emulator._bodies import parse_json
from replicate_async.emulator._http import Endpoint, api_route, base_url, json_response, problem
from replicate_async.emulator._pages import INVALID_CURSOR, decode_cursor, encode_cursor
from replicate_async.emulator._render import render_prediction
from replicate_async.emulator._util import INVALID_VERSION, NOT_FOUND, parse_iso
from replicate_async.emulator._validation import body_errors, problem_422

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._fake_models import FakeModel
    from replicate_async.emulator._records import PredictionRecord
    from replicate_async.emulator._state import EmulatorState

PAGE_SIZE = 100
MIN_CANCEL_AFTER = 5.0
_VERSION_KEYS = frozenset({"version", "input", "webhook", "webhook_events_filter", "stream"})
_MODEL_KEYS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PREFER = re.compile(r"wait(?:=([1-9][0-9]?))?")
MAX_WAIT = 60
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")

INVALID_PREFER: dict[str, Any] = {
    "title": "Invalid Prefer header",
    "detail": "The Prefer header must be 'wait' or 'wait=N' with N an integer from 1 to 60.",
    "status": 422,
}
INVALID_CANCEL_AFTER: dict[str, Any] = {
    "title": "Invalid Cancel-After header",
    "detail": "Cancel-After must be a duration of at least 5 seconds, such as 90, 90s, 5m or 1h30m.",
    "status": 422,
}
INVALID_BODY: dict[str, Any] = {"detail": "The request body must be a JSON object.", "status": 400}
INVALID_DATE: dict[str, Any] = {
    "detail": "created_after and created_before must be ISO 8601 date-times.",
    "status": 400,
}
INVALID_SOURCE: dict[str, Any] = {"detail": 'source must be "web".', "status": 400}
#: The query parameters a list filters by (and carries into `next`).
_FILTERS = ("created_after", "created_before", "source")


def parse_prefer(value: str) -> int | None:
    """Seconds of a `Prefer: wait[=N]` header (None: invalid)."""
    match = _PREFER.fullmatch(value.strip())
    if match is None:
        return None
    seconds = int(match.group(1)) if match.group(1) else MAX_WAIT
    return seconds if seconds <= MAX_WAIT else None


def parse_cancel_after(value: str) -> float | None:
    """Seconds of a `Cancel-After` header (None: invalid or under the 5 s minimum)."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            return None
        hours, minutes, secs = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    if seconds != seconds or seconds < MIN_CANCEL_AFTER:  # NaN or too short  # noqa: PLR0124
        return None
    return seconds


def _reject(response: Response) -> NoReturn:
    """Answer the current create with `response`."""
    raise _RejectError(response)


class _RejectError(Exception):
    """A create that is answered with an error response (control flow, never escapes)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _resolve_version(state: EmulatorState, ref: str) -> tuple[FakeModel, str]:
    """The model and reported version of a `version` field (64-hex, owner/name:id, owner/name).

    Any version the registry holds runs: the fake models' own and those trainings pushed.
    """
    registry = state.registry
    model: FakeModel | None = None
    if _HEX64.fullmatch(ref):
        found = registry.find_version(ref)
        model = found[1].runs if found is not None else None
    elif ":" in ref:
        name, _, version_id = ref.partition(":")
        entry = registry.models.get(name)
        version = entry.version(version_id) if entry is not None else None
        model = version.runs if version is not None else None
    else:
        entry = registry.models.get(ref)
        if entry is not None and entry.official:
            model = entry.fake
    if model is None:
        _reject(problem(INVALID_VERSION))
    return model, "hidden" if model.official else model.version_id


@attrs.frozen
class _Create:
    """A parsed, validated create request."""

    model: FakeModel
    version: str
    body: dict[str, Any]
    deployment: str | None
    wait: int | None
    prefer: str | None
    cancel_after: float | None


def _headers(request: Request) -> tuple[int | None, str | None, float | None]:
    """`Prefer` wait seconds, the `Prefer` text, and `Cancel-After` seconds."""
    headers = request.headers
    wait: int | None = None
    prefer = headers.get("prefer")
    if prefer is not None:
        wait = parse_prefer(prefer)
        if wait is None:
            _reject(problem(INVALID_PREFER))
    cancel_after: float | None = None
    cancel_header = headers.get("cancel-after")
    if cancel_header is not None:
        cancel_after = parse_cancel_after(cancel_header)
        if cancel_after is None:
            _reject(problem(INVALID_CANCEL_AFTER))
    return wait, prefer, cancel_after


def _target(
    state: EmulatorState, request: Request, kind: str, body: dict[str, Any]
) -> tuple[FakeModel, str, str | None]:
    """The model, reported version and deployment a create runs."""
    params = request.path_params
    if kind == "version":
        return (*_resolve_version(state, body["version"]), None)
    name = f"{params['owner']}/{params['name']}"
    registry = state.registry
    if kind == "model":
        entry = registry.models.get(name)
        found = entry.fake if entry is not None and entry.official else None
        if found is None:
            _reject(problem(NOT_FOUND))
        return found, "hidden", None
    deployment = registry.deployments.get(name)
    runs = registry.runnable(deployment) if deployment is not None else None
    if deployment is None or runs is None:
        _reject(problem(NOT_FOUND))
    return runs, deployment.current.version, name


async def _parse_create(state: EmulatorState, request: Request, kind: str) -> _Create:
    """Parse and validate a create request (raises `_RejectError` with the error response)."""
    try:
        body = parse_json(await request.body(), state.config.limits.json_depth)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        _reject(problem(INVALID_BODY))
    wait, prefer, cancel_after = _headers(request)
    allowed = _VERSION_KEYS if kind == "version" else _MODEL_KEYS
    errors = body_errors(body, allowed, needs_version=kind == "version")
    if errors:
        _reject(problem(problem_422(errors)))
    model, version, deployment = _target(state, request, kind, body)
    invalid = state.validator(model).errors(body["input"])
    if invalid:
        _reject(problem(problem_422(invalid)))
    return _Create(model, version, body, deployment, wait, prefer, cancel_after)


class _Handlers:
    """The prediction endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def create(self, request: Request, kind: str) -> Response:
        """Any of the three creates."""
        state = self.state
        try:
            req = await _parse_create(state, request, kind)
        except _RejectError as reject:
            return reject.response
        body = req.body
        record = state.create(
            req.model,
            body["input"],
            version=req.version,
            deployment=req.deployment,
            webhook=body.get("webhook"),
            webhook_events_filter=body.get("webhook_events_filter"),
            cancel_after=req.cancel_after,
        )
        base = base_url(state, request.scope)
        if req.wait is None:
            # The real API answers an async create as just queued (reference 12.2), however
            # fast the model: `starting`, no output, empty logs.
            return json_response(render_prediction(state, record, base, "sync_starting"), 201)
        if not record.outputs_done:
            deadline = state.now() + req.wait * state.time_scale
            await state.wait_for_outputs(record, deadline)
        view = _wait_view(state, record)
        applied = {"Preference-Applied": (req.prefer or "").strip()}
        return json_response(render_prediction(state, record, base, view), 201, applied)

    async def create_by_version(self, request: Request) -> Response:
        """`POST /v1/predictions`."""
        return await self.create(request, "version")

    async def create_by_model(self, request: Request) -> Response:
        """`POST /v1/models/{owner}/{name}/predictions`."""
        return await self.create(request, "model")

    async def create_by_deployment(self, request: Request) -> Response:
        """`POST /v1/deployments/{owner}/{name}/predictions`."""
        return await self.create(request, "deployment")

    async def get(self, request: Request) -> Response:
        """`GET /v1/predictions/{id}`."""
        state = self.state
        record = state.get(request.path_params["id"])
        if record is None:
            return problem(NOT_FOUND)
        return json_response(render_prediction(state, record, base_url(state, request.scope)))

    async def cancel(self, request: Request) -> Response:
        """`POST /v1/predictions/{id}/cancel`."""
        state = self.state
        record = state.get(request.path_params["id"])
        if record is None:
            return problem(NOT_FOUND)
        state.cancel(record)
        return json_response(render_prediction(state, record, base_url(state, request.scope)))

    async def list(self, request: Request) -> Response:
        """`GET /v1/predictions`: newest first, 100 per page, cursor in `next`."""
        state = self.state

        def render(record: PredictionRecord, base: str) -> dict[str, Any]:
            return render_prediction(state, record, base, "list")

        return list_page(state, request, "/v1/predictions", render, trainings=False)


@attrs.frozen
class _Filters:
    """A list's filters: `created_after` (inclusive), `created_before` (exclusive), `source`."""

    after: float | None
    before: float | None
    web_only: bool

    def keeps(self, record: PredictionRecord) -> bool:
        """Whether `record` passes (every emulated prediction comes from the API, not the web)."""
        created = record.created_at
        return not (
            (self.after is not None and created < self.after)
            or (self.before is not None and created >= self.before)
            or self.web_only
        )


def _filters(query: Mapping[str, str]) -> _Filters | Response:
    """The filters of a list request, or its 400 response."""
    try:
        after = parse_iso(query["created_after"]) if "created_after" in query else None
        before = parse_iso(query["created_before"]) if "created_before" in query else None
    except ValueError:
        return problem(INVALID_DATE)
    source = query.get("source")
    if source not in (None, "web"):
        return problem(INVALID_SOURCE)
    return _Filters(after, before, web_only=source == "web")


def list_page(
    state: EmulatorState,
    request: Request,
    path: str,
    render: Callable[[PredictionRecord, str], dict[str, Any]],
    *,
    trainings: bool,
) -> Response:
    """A page of predictions (or of trainings): newest first, 100 per page, cursor in `next`.

    The filters (`created_after`, `created_before`, `source`) apply to every page: `next`
    carries them (reference section 9).
    """
    query = request.query_params
    filters = _filters(query)
    if not isinstance(filters, _Filters):
        return filters
    position: int | None = None
    if "cursor" in query:
        position = decode_cursor(query["cursor"])
        if position is None:
            return problem(INVALID_CURSOR)
    base = base_url(state, request.scope)
    page: list[PredictionRecord] = []
    more = False
    for record in state.records():
        if (record.training is not None) != trainings or (
            position is not None and record.seq >= position
        ):
            continue
        if not filters.keeps(record):
            continue
        if len(page) == PAGE_SIZE:
            more = True
            break
        page.append(record)
    results = []
    for record in page:
        state.advance(record)
        results.append(render(record, base))
    next_url = None
    if more:
        kept = {k: query[k] for k in _FILTERS if k in query}
        kept["cursor"] = encode_cursor(page[-1].seq)
        next_url = f"{base}{path}?{urlencode(kept)}"
    return json_response({"next": next_url, "previous": None, "results": results})


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The prediction routes."""
    h = _Handlers(state)

    def create(path: str, endpoint: Endpoint) -> BaseRoute:
        return api_route(state, path, endpoint, methods=["POST"], bucket="create", group="create")

    return [
        create("/v1/predictions", h.create_by_version),
        api_route(state, "/v1/predictions", h.list, methods=["GET"]),
        create("/v1/models/{owner}/{name}/predictions", h.create_by_model),
        create("/v1/deployments/{owner}/{name}/predictions", h.create_by_deployment),
        api_route(
            state,
            "/v1/predictions/{id}",
            h.get,
            methods=["GET"],
            bucket="get_prediction",
            group="get",
        ),
        api_route(state, "/v1/predictions/{id}/cancel", h.cancel, methods=["POST"]),
    ]


def _wait_view(state: EmulatorState, record: PredictionRecord) -> Any:
    """Which shape a `Prefer: wait` answer takes."""
    if not record.terminal:
        return "sync_starting" if state.wait_timeout_status == "starting" else "full"
    if record.status == "succeeded" and not state.wait_returns_terminal:
        return "sync_done"
    return "full"
