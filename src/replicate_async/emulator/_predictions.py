"""Prediction routes: create (three routes), get, list, cancel; `Prefer: wait`, `Cancel-After`."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._render import render_prediction
from replicate_async.emulator._util import INVALID_VERSION, NOT_FOUND, parse_iso
from replicate_async.emulator._validation import body_errors, problem_422

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._fake_models import FakeModel
    from replicate_async.emulator._state import EmulatorState, PredictionRecord

PAGE_SIZE = 100
_VERSION_KEYS = frozenset({"version", "input", "webhook", "webhook_events_filter", "stream"})
_MODEL_KEYS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PREFER = re.compile(r"wait(?:=([1-9]|[1-9][0-9]|60))?")
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


def parse_prefer(value: str) -> int | None:
    """Seconds of a `Prefer: wait[=N]` header (None: invalid)."""
    match = _PREFER.fullmatch(value.strip())
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else 60


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
    if seconds != seconds or seconds < 5:  # NaN or too short  # noqa: PLR0124
        return None
    return seconds


class _Reject(Exception):  # noqa: N818 - control flow, never escapes
    """A create that is answered with an error response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _resolve_version(state: EmulatorState, ref: str) -> tuple[FakeModel, str]:
    """The model and reported version of a `version` field (64-hex, owner/name:id, owner/name)."""
    model: FakeModel | None
    if _HEX64.fullmatch(ref):
        model = state.versions.get(ref)
    elif ":" in ref:
        name, _, version = ref.partition(":")
        model = state.models.get(name)
        if model is not None and model.version_id != version:
            model = None
    else:
        model = state.models.get(ref)
        if model is not None and not model.official:
            model = None
    if model is None:
        raise _Reject(problem(INVALID_VERSION))
    return model, "hidden" if model.official else model.version_id


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The prediction routes."""

    async def parse_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Reject(problem(INVALID_BODY))
        return body

    async def create(request: Request, kind: str) -> Response:
        try:
            body = await parse_body(request)
            headers = request.headers
            wait: int | None = None
            prefer = headers.get("prefer")
            if prefer is not None:
                wait = parse_prefer(prefer)
                if wait is None:
                    raise _Reject(problem(INVALID_PREFER))
            cancel_after: float | None = None
            cancel_header = headers.get("cancel-after")
            if cancel_header is not None:
                cancel_after = parse_cancel_after(cancel_header)
                if cancel_after is None:
                    raise _Reject(problem(INVALID_CANCEL_AFTER))
            allowed = _VERSION_KEYS if kind == "version" else _MODEL_KEYS
            errors = body_errors(body, allowed, needs_version=kind == "version")
            if errors:
                raise _Reject(problem(problem_422(errors)))
            deployment = None
            params = request.path_params
            if kind == "version":
                model, version = _resolve_version(state, body["version"])
            elif kind == "model":
                found = state.models.get(f"{params['owner']}/{params['name']}")
                if found is None or not found.official:
                    raise _Reject(problem(NOT_FOUND))
                model, version = found, "hidden"
            else:
                deployment = f"{params['owner']}/{params['name']}"
                found = state.deployments.get(deployment)
                if found is None:
                    raise _Reject(problem(NOT_FOUND))
                model, version = found, found.version_id
            prediction_input = body["input"]
            invalid = state.validators[model.ref].errors(prediction_input)
            if invalid:
                raise _Reject(problem(problem_422(invalid)))
        except _Reject as reject:
            return reject.response
        record = state.create(
            model,
            prediction_input,
            version=version,
            deployment=deployment,
            webhook=body.get("webhook"),
            webhook_events_filter=body.get("webhook_events_filter"),
            cancel_after=cancel_after,
        )
        base = base_url(state, request.scope)
        if wait is None:
            return json_response(render_prediction(state, record, base), 201)
        if not record.outputs_done:
            deadline = state.now() + wait * state.time_scale
            await state.wait_for_outputs(record, deadline)
        applied = {"Preference-Applied": prefer.strip()} if prefer else None
        return json_response(render_prediction(state, record, base, _wait_view(state, record)), 201, applied)

    async def create_by_version(request: Request) -> Response:
        return await create(request, "version")

    async def create_by_model(request: Request) -> Response:
        return await create(request, "model")

    async def create_by_deployment(request: Request) -> Response:
        return await create(request, "deployment")

    async def get_prediction(request: Request) -> Response:
        record = state.get(request.path_params["id"])
        if record is None:
            return problem(NOT_FOUND)
        return json_response(render_prediction(state, record, base_url(state, request.scope)))

    async def cancel_prediction(request: Request) -> Response:
        record = state.get(request.path_params["id"])
        if record is None:
            return problem(NOT_FOUND)
        state.cancel(record)
        return json_response(render_prediction(state, record, base_url(state, request.scope)))

    async def list_predictions(request: Request) -> Response:
        query = request.query_params
        try:
            after = parse_iso(query["created_after"]) if "created_after" in query else None
            before = parse_iso(query["created_before"]) if "created_before" in query else None
        except ValueError:
            return problem({"detail": "Invalid date in created_after or created_before.", "status": 400})
        position: int | None = None
        if "cursor" in query:
            position = decode_cursor(query["cursor"])
            if position is None:
                return problem({"detail": "Invalid cursor", "status": 404})
        base = base_url(state, request.scope)
        results: list[dict[str, Any]] = []
        last: PredictionRecord | None = None
        more = False
        for record in state.records():
            if position is not None and record.seq >= position:
                continue
            if after is not None and record.created_at <= after:
                continue
            if before is not None and record.created_at >= before:
                continue
            if len(results) == PAGE_SIZE:
                more = True
                break
            state.advance(record)
            results.append(render_prediction(state, record, base, "list"))
            last = record
        next_url = None
        if more and last is not None:
            kept = {k: query[k] for k in ("created_after", "created_before", "source") if k in query}
            kept["cursor"] = encode_cursor(last.seq)
            next_url = f"{base}/v1/predictions?{urlencode(kept)}"
        return json_response({"next": next_url, "previous": None, "results": results})

    return [
        api_route(state, "/v1/predictions", create_by_version, methods=["POST"], bucket="create", group="create"),
        api_route(state, "/v1/predictions", list_predictions, methods=["GET"]),
        api_route(
            state,
            "/v1/models/{owner}/{name}/predictions",
            create_by_model,
            methods=["POST"],
            bucket="create",
            group="create",
        ),
        api_route(
            state,
            "/v1/deployments/{owner}/{name}/predictions",
            create_by_deployment,
            methods=["POST"],
            bucket="create",
            group="create",
        ),
        api_route(
            state,
            "/v1/predictions/{id}",
            get_prediction,
            methods=["GET"],
            bucket="get_prediction",
            group="get",
        ),
        api_route(state, "/v1/predictions/{id}/cancel", cancel_prediction, methods=["POST"]),
    ]


def _wait_view(state: EmulatorState, record: PredictionRecord) -> Any:
    """Which shape a `Prefer: wait` answer takes."""
    if not record.terminal:
        return "sync_starting" if state.wait_timeout_status == "starting" else "full"
    if record.status == "succeeded" and not state.wait_returns_terminal:
        return "sync_done"
    return "full"


def encode_cursor(position: int) -> str:
    """An opaque cursor (base64 of a url-encoded position, DRF style)."""
    return base64.urlsafe_b64encode(f"p={position}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    """The position of a cursor (None: malformed)."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("p=") or not text[2:].isdigit():
        return None
    return int(text[2:])
