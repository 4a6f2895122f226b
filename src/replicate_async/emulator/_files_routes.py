# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The Files API endpoints: `POST /v1/files` (multipart), list, get, delete, signed downloads.

Each works on the state's `FileStore` (`_files_api`); the emulator's own control routes hand out
signed download URLs and switch the size limit.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import FileResponse, Response

from replicate_async.emulator._bodies import parse_json
from replicate_async.emulator._files_api import (
    FILE_NOT_FOUND,
    TOO_LARGE,
    bad_request,
    file_store,
)
from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._multipart import Upload, boundary, receive
from replicate_async.emulator._pages import INVALID_CURSOR, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._state import EmulatorState

#: The longest a signed download URL handed out by the control route stays valid.
_MAX_SIGNED_TTL = 7 * 24 * 3600


class _Handlers:
    """The Files API endpoints, bound to one store."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.store = file_store(state)

    def body_limit(self) -> tuple[int, dict[str, Any]]:
        """The most an upload body may be (the size switch plus the fields), and the real 413."""
        return self.state.config.limits.upload_bytes(self.store.max_size), TOO_LARGE

    async def create(self, request: Request) -> Response:
        """`POST /v1/files`."""
        store = self.store
        found = boundary(request.headers.get("content-type", ""))
        if found is None:
            return problem(bad_request("Expected a multipart/form-data body"))
        upload = Upload(found, store.directory(), store.max_size, self.state.config.limits)
        async with aclosing(request.stream()) as stream:
            try:
                refusal = await receive(upload, stream)
            except BaseException:  # the body passed its limit (`Refused`), the client left, ...
                upload.discard()
                raise
            if refusal is not None:
                # The rest of the body is left unread: `Guarded` drains it or closes.
                upload.discard()
                if refusal["status"] == TOO_LARGE["status"]:
                    store.rejected += 1
                return problem(refusal)
        stored = store.add(upload)
        return json_response(stored.render(base_url(self.state, request.scope)), 201)

    async def list(self, request: Request) -> Response:
        """`GET /v1/files`: newest first, 100 per page."""
        position: int | None = None
        cursor = request.query_params.get("cursor")
        if cursor is not None:
            position = decode_cursor(cursor)
            if position is None:
                return problem(INVALID_CURSOR)
        page, more = self.store.page(position)
        base = base_url(self.state, request.scope)
        next_url = None
        if more:
            next_url = f"{base}/v1/files?cursor={encode_cursor(page[-1].seq)}"
        results = [f.render(base) for f in page]
        return json_response({"next": next_url, "previous": None, "results": results})

    async def get(self, request: Request) -> Response:
        """`GET /v1/files/{id}`."""
        stored = self.store.get(request.path_params["id"])
        if stored is None:
            return problem(FILE_NOT_FOUND)
        return json_response(stored.render(base_url(self.state, request.scope)))

    async def delete(self, request: Request) -> Response:
        """`DELETE /v1/files/{id}`: 204, empty, `text/plain` (as the real one)."""
        self.store.get(request.path_params["id"])  # expire first
        if not self.store.remove(request.path_params["id"]):
            return problem(FILE_NOT_FOUND)
        return Response(b"", 204, media_type="text/plain; charset=UTF-8")

    async def download(self, request: Request) -> Response:
        """`GET /v1/files/{id}/download?owner=&expiry=&signature=` (no auth)."""
        file_id = request.path_params["id"]
        refused = self.store.check_signature(file_id, request.query_params)
        if refused is not None:
            return problem(refused)
        stored = self.store.get(file_id)
        if stored is None:
            return problem(FILE_NOT_FOUND)
        self.store.downloads += 1
        return FileResponse(
            stored.path, media_type="application/octet-stream", filename=stored.name
        )

    async def signed_url(self, request: Request) -> Response:
        """`GET /_emulator/files/{id}/download-url[?ttl=seconds]` (control, no auth)."""
        file_id = request.path_params["id"]
        if self.store.get(file_id) is None:
            return problem(FILE_NOT_FOUND)
        ttl_text = request.query_params.get("ttl", "3600")
        ttl = float(ttl_text) if ttl_text.isdigit() else 3600.0
        base = base_url(self.state, request.scope)
        return json_response(
            {"url": self.store.download_url(file_id, base, min(ttl, _MAX_SIGNED_TTL))}
        )

    async def settings(self, request: Request) -> Response:
        """`POST /_emulator/files/settings` `{"max_size": N}` (control, no auth)."""
        try:
            data = parse_json(await request.body() or b"{}", self.state.config.limits.json_depth)
        except ValueError:
            data = None
        size = data.get("max_size") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or set(data) - {"max_size"}
            or (
                "max_size" in data
                and (not isinstance(size, int) or isinstance(size, bool) or size < 1)
            )
        ):
            return problem({"detail": 'expected {"max_size": N} with N >= 1', "status": 422})
        if size is not None:
            self.store.max_size = size
        return json_response({"max_size": self.store.max_size})


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The Files API routes and their control routes."""
    h = _Handlers(state)
    return [
        api_route(state, "/v1/files", h.create, methods=["POST"], body_limit=h.body_limit),
        api_route(state, "/v1/files", h.list, methods=["GET"]),
        api_route(state, "/v1/files/{id}", h.get, methods=["GET"]),
        api_route(state, "/v1/files/{id}", h.delete, methods=["DELETE"]),
        api_route(
            state,
            "/v1/files/{id}/download",
            h.download,
            methods=["GET"],
            auth=False,
            bucket=None,
            file_route=True,
        ),
        api_route(
            state,
            "/_emulator/files/{id}/download-url",
            h.signed_url,
            methods=["GET"],
            auth=False,
            bucket=None,
        ),
        api_route(
            state,
            "/_emulator/files/settings",
            h.settings,
            methods=["POST"],
            auth=False,
            bucket=None,
        ),
    ]


async def background(state: EmulatorState) -> None:
    """Remove the store's directory when the app shuts down."""
    try:
        await anyio.sleep_forever()
    finally:
        file_store(state).close()
