# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A one-route aiohttp server on loopback that answers a fixed prediction (with TLS when given
a context): for tests that need a real server but not the emulator. Imports aiohttp only, so
a subprocess can use it to show what a client loads."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def serving(
    prediction: dict[str, Any], *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``GET /v1/predictions/{id}`` with *prediction* on 127.0.0.1; yields the base URL."""

    async def get(_: web.Request) -> web.Response:
        return web.json_response(prediction)

    app = web.Application()
    app.router.add_get("/v1/predictions/{id}", get)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
