# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A batch's pool of worker tasks: run so many copies of one coroutine function to their end.

On asyncio the workers are asyncio's own tasks, for two reasons.

- **Cancellation from asyncio.** ``task.cancel()``, ``asyncio.timeout()``, ``wait_for`` and
  Ctrl-C under ``asyncio.run`` cancel the caller's task natively. In an anyio task group that
  cancellation stops at the group's exit, which goes on waiting for its tasks: a batch's
  workers run their jobs in shielded scopes (a create on the wire gets its grace), so the
  batch ran every job to its end before the cancellation went on, and cancelled nothing
  remotely. Here a cancellation of the caller, native or anyio's, calls *interrupt* (the
  batch cancels its jobs, remotely too) and waits for the workers before it goes on.
- **What a worker holds.** anyio (since 4.14) gives each task of a group a handle, a cancel
  scope, two events and a coroutine of its own: about 15 objects per worker that the garbage
  collector walks, 10,000 times over at 10,000 in flight. An asyncio task is one task.

Under trio the workers are an anyio task group's (trio has no other cancellation), and a
cancellation of the caller, or a worker's failure, interrupts them the same way.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

__all__ = ["run_workers"]


async def run_workers(
    count: int, work: Callable[[], Coroutine[Any, Any, None]], *, interrupt: Callable[[], None]
) -> None:
    """Run *count* tasks of ``work()`` until each has returned.

    If the calling task is cancelled meanwhile, *interrupt* is called, once (it must make the
    workers end soon), and the workers are waited for, shielded, before the cancellation goes
    on. A worker's exception interrupts the others too, and is raised, as an anyio task group
    would, in an exception group once every worker has ended.
    """
    interrupted = False

    def once() -> None:
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            interrupt()

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # trio
        await _run_in_group(count, work, once)
        return
    pool = _Tasks(loop, once)
    for _ in range(count):
        pool.start(work())
    try:
        await pool.wait()
    except asyncio.CancelledError:  # the caller's, or its scope's by interrupt() on a failure
        once()
        with anyio.CancelScope(shield=True):  # from anyio's cancellation
            await pool.wait(through_cancellation=True)
        if not pool.failed:
            raise
    if pool.failed:  # raised over a cancellation, as anyio's task group does
        raise BaseExceptionGroup("a batch's worker failed", pool.failed)


async def _run_in_group(
    count: int, work: Callable[[], Coroutine[Any, Any, None]], interrupt: Callable[[], None]
) -> None:
    """run_workers in an anyio task group (trio), cancellation and failures handled alike."""
    left = count
    ended = anyio.Event()

    async def worker() -> None:
        nonlocal left
        try:
            await work()
        finally:
            left -= 1
            if not left:
                ended.set()

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(worker)
        try:
            if count:
                await ended.wait()
        except anyio.get_cancelled_exc_class():  # the caller's, or the group's on a failure
            interrupt()
            with anyio.CancelScope(shield=True):
                await ended.wait()
            raise


class _Tasks:
    """asyncio tasks being waited for, with nothing kept per task but the task."""

    __slots__ = ("_context", "_ended", "_interrupt", "_loop", "_waiter", "failed", "running")

    def __init__(self, loop: asyncio.AbstractEventLoop, interrupt: Callable[[], None]) -> None:
        self._loop = loop
        self._interrupt = interrupt
        self._context = contextvars.copy_context()  # one for every callback (each copies its own)
        self._ended = self._end  # one bound method for every task
        self._waiter: asyncio.Future[None] | None = None
        self.running: set[asyncio.Task[None]] = set()  # asyncio keeps only weak references
        self.failed: list[BaseException] = []

    def start(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run *coro* in a task of its own."""
        task = self._loop.create_task(coro)
        task.add_done_callback(self._ended, context=self._context)
        self.running.add(task)

    def _end(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._interrupt()  # once: run_workers' own guard
            self.failed.append(exc)
        if not self.running and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, *, through_cancellation: bool = False) -> None:
        """Until every task has ended; *through_cancellation*: asyncio's cancellation of the
        waiting task too (a cancelled wait cancels its future: each wait has a new one)."""
        while self.running:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            except asyncio.CancelledError:
                if not through_cancellation:
                    raise
