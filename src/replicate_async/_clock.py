# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The event loop's clock and sleep, read cheaply on the hot path.

``anyio.current_time()`` and ``anyio.sleep()`` find the running async library through
sniffio on every call (a lookup of the current task, about 1 us); a batch reads the clock
several times per prediction. On asyncio these ask the running loop directly (one C call);
anywhere else (trio) they are anyio's own. Both clocks are the one anyio's cancel scopes
use for their deadlines (on asyncio, ``loop.time()``), so the values mix freely.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["now", "sleep"]


def now() -> float:
    """The running event loop's clock, in seconds (``anyio.current_time()``, cheaper)."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:  # not asyncio: trio
        return anyio.current_time()


def sleep(delay: float) -> Awaitable[None]:
    """Sleep *delay* seconds (``anyio.sleep``, without its library lookup on asyncio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio
        return anyio.sleep(delay)
    return asyncio.sleep(delay)
