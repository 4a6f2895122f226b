# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The app factory: assembles the routes of every emulator module around one state."""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from replicate_async.emulator._config import EmulatorConfig
from replicate_async.emulator._http import RAW_SEND, problem
from replicate_async.emulator._state import EmulatorState
from replicate_async.emulator._util import NOT_FOUND

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Sequence

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.types import Receive, Scope, Send

#: The modules whose `routes(state)` make up the app, in matching order. A module may also
#: define `setup(state)` (called once, e.g. to add a listener) and `async background(state)`
#: (run in the lifespan task group). Add a module here to add its routes.
MODULES: Sequence[str] = (
    "replicate_async.emulator._predictions",
    "replicate_async.emulator._trainings",
    "replicate_async.emulator._models_api",
    "replicate_async.emulator._model_changes",
    "replicate_async.emulator._deployments",
    "replicate_async.emulator._delivery",
    "replicate_async.emulator._control",
    "replicate_async.emulator._streams",
    "replicate_async.emulator._files_routes",
    "replicate_async.emulator._webhooks",
    "replicate_async.emulator._discovery",
)


class EmulatorApp(Starlette):
    """A Starlette app that also hands routes the server's own `send` (to drop connections)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Remember the raw `send` in the scope, then run Starlette."""
        if scope["type"] == "http":
            scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def _lifespan(
    state: EmulatorState, background: list[Callable[[EmulatorState], Coroutine[Any, Any, Any]]]
) -> Callable[[Starlette], Any]:
    """A lifespan running the scheduler and the modules' background tasks."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            state.task_group = group
            group.start_soon(state.run_scheduler)
            for task in background:
                group.start_soon(task, state)
            try:
                yield
            finally:
                state.task_group = None
                group.cancel_scope.cancel()

    return lifespan


async def _not_found(_request: Request, exc: Exception) -> Response:
    """The generic problem body for unknown routes and wrong methods."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return problem({"detail": "Method not allowed.", "status": 405})
    return problem(NOT_FOUND)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The emulator as an ASGI application.

    Its state (`EmulatorState`) is `app.state.emulator`. Under uvicorn the lifespan runs a
    scheduler for predictions with webhooks; in-process through `httpx.ASGITransport` (which
    sends no lifespan events) everything else works the same, predictions advance on access.

    Args:
        config: The configuration; default `EmulatorConfig()`.

    .. versionadded:: 0.1.0
    """
    state = EmulatorState(config or EmulatorConfig())
    routes: list[BaseRoute] = []
    background: list[Callable[[EmulatorState], Coroutine[Any, Any, Any]]] = []
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "setup"):
            module.setup(state)
        if hasattr(module, "background"):
            background.append(module.background)
        routes.extend(module.routes(state))
    app = EmulatorApp(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=_lifespan(state, background),
    )
    app.state.emulator = state
    return app
