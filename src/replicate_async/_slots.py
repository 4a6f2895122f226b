# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The client's concurrency slots: at most so many requests in flight at once.

Every API request takes a slot, so its cost is paid twice per prediction. On asyncio the
slots are asyncio's own semaphore: a free slot is taken with one check (anyio's semaphore,
even with ``fast_acquire``, first looks the task's cancel scopes up, about 1 us more per
request). Cancellation is the same: anyio cancels an asyncio task by cancelling it, which
a waiting acquire obeys, and a request that took a free slot meets its cancellation at its
first wait for the network. Elsewhere (trio) they are anyio's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from types import TracebackType

__all__ = ["Slots"]


class Slots:
    """*size* slots, made on first use in the running event loop (asyncio's semaphore binds
    to it); :meth:`grow` adds slots at any time.

    Args:
        size: The number of slots (>= 1).
    """

    __slots__ = ("_semaphore", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._semaphore: asyncio.Semaphore | anyio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"<Slots {self.value}/{self._size} free>"

    @property
    def value(self) -> int:
        """The slots free now."""
        semaphore = self._semaphore
        if semaphore is None:
            return self._size
        if isinstance(semaphore, asyncio.Semaphore):
            return semaphore._value  # noqa: SLF001 - asyncio has no public count of free slots
        return semaphore.value

    def _make(self) -> asyncio.Semaphore | anyio.Semaphore:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # not asyncio: trio
            semaphore: asyncio.Semaphore | anyio.Semaphore = anyio.Semaphore(
                self._size, fast_acquire=True
            )
        else:
            semaphore = asyncio.Semaphore(self._size)
        self._semaphore = semaphore
        return semaphore

    def acquire(self) -> Awaitable[object]:
        """Take a slot (waiting for one); give it back with :meth:`release`."""
        return (self._semaphore or self._make()).acquire()

    def release(self) -> None:
        """Give back a slot taken with :meth:`acquire`."""
        assert self._semaphore is not None  # noqa: S101 - only after an acquire
        self._semaphore.release()

    def grow(self, extra: int) -> None:
        """Add *extra* slots: each lets a waiting request go, or is free."""
        self._size += extra
        semaphore = self._semaphore
        if semaphore is not None:
            for _ in range(extra):
                semaphore.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
