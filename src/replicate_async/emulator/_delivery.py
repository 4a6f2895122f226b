# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Output files, served by the emulator itself: no auth, public caching, gone after retention.

The files of the models' example predictions (`_registry`) are served too, and never expire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from replicate_async.emulator._fake_models import FileItem
from replicate_async.emulator._http import api_route, problem
from replicate_async.emulator._render import file_bytes
from replicate_async.emulator._util import NOT_FOUND

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._state import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    """`GET /delivery/{id}/{name}`: the bytes of one output file."""

    async def deliver(request: Request) -> Response:
        pid = request.path_params["id"]
        record = state.get(pid) or state.registry.example(pid)
        if record is None or record.data_removed:
            return problem(NOT_FOUND)
        name = request.path_params["name"]
        output = record.output if isinstance(record.output, list) else [record.output]
        item = next((i for i in output if isinstance(i, FileItem) and i.name == name), None)
        if item is None:
            return problem(NOT_FOUND)
        data, content_type = file_bytes(record, item)
        headers = {"Cache-Control": "public,max-age=3600"}
        return Response(data, 200, headers, content_type)

    return [
        api_route(
            state,
            "/delivery/{id}/{name}",
            deliver,
            methods=["GET", "HEAD"],
            auth=False,
            bucket=None,
            file_route=True,
        )
    ]
