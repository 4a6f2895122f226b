# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The module-level AsyncClient behind :func:`replicate_async.async_run`: one per event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replicate_async._backend import current_loop
from replicate_async._client import AsyncClient

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

__all__ = ["default_client"]

_default: tuple[object, AsyncClient, AsyncGenerator[None, None]] | None = None


async def _close_with_loop(client: AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended for the loop's life; asyncio.run and trio.run finalize it as they end."""
    try:
        yield
    finally:
        await client.aclose()


async def default_client() -> AsyncClient:
    """The module-level AsyncClient of the running event loop, made from the environment.

    It is closed when its event loop ends: both asyncio.run and trio.run finalize the
    suspended async generator that holds it.
    """
    global _default  # noqa: PLW0603 - one default client per process, by design
    loop = current_loop()
    if _default is None or _default[0] is not loop:
        client = AsyncClient()
        keeper = _close_with_loop(client)
        await anext(keeper)
        _default = (loop, client, keeper)
    return _default[1]
