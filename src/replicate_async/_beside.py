# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Work run beside a block that may be left from another task: ``as_completed``'s batch.

``as_completed`` is an async generator, and a plain ``break`` (or an exception) out of its
``async for`` does not close it: the event loop closes it later, in a task of its own, once
it is garbage. Had the generator entered a task group (a cancel scope) around its ``yield``,
that task would exit a scope another task entered: on asyncio anyio raises RuntimeError
there and the scope's cancellation lands on the consumer's task (a stray CancelledError in
the caller); trio fails with TrioInternalError. Either way the batch's predictions went on.

So the batch runs in a task of its own, held by the client (:class:`Background`): an
asyncio task, or a trio system task. The generator enters no scope across its ``yield``.
Leaving the block, from whichever task, cancels the work and waits for it: the batch cancels
its predictions remotely. Closing the client first ends the work still running, while its
connections are open (a ``break`` followed by the client's ``async with`` exit, the commonest
script, would otherwise close the connections under those cancels).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import TYPE_CHECKING, Any, Final

import anyio

from replicate_async.exceptions import ClientClosedError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

__all__ = ["Background", "beside"]

_CLOSED: Final = (
    "the client was closed while as_completed was running: its predictions were cancelled; "
    "close the client after the loop"
)


class _Running:
    """One piece of work in a task of its own: a scope to cancel it by, its end, its failure."""

    __slots__ = ("closed", "ended", "failure", "scope", "task")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.ended = anyio.Event()
        self.failure: BaseException | None = None
        self.closed = False  # ended by the client's close
        self.task: object = None  # the asyncio task (asyncio keeps only weak references)

    async def run(
        self, work: Callable[[], Coroutine[Any, Any, None]], holder: set[_Running]
    ) -> None:
        """Run ``work()``, keep how it failed, then leave *holder* (which held it meanwhile)."""
        try:
            with self.scope:
                await work()
        except BaseException as exc:  # noqa: BLE001 - handed to the block, which raises it
            self.failure = exc
        finally:
            self.ended.set()
            holder.discard(self)

    async def wait(self) -> None:
        """Until the work has ended: shielded from anyio's cancellation, and through asyncio's
        (raised once the work has ended)."""
        cancelled: BaseException | None = None
        with anyio.CancelScope(shield=True):
            while not self.ended.is_set():
                try:
                    await self.ended.wait()
                except anyio.get_cancelled_exc_class() as exc:  # asyncio's own: not shielded
                    cancelled = exc
        if cancelled is not None:
            raise cancelled


class Background:
    """The work a client runs beside its callers, ended when the client closes."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: set[_Running] = set()

    def start(self, work: Callable[[], Coroutine[Any, Any, None]]) -> _Running:
        """Run ``work()`` in a task of its own (asyncio's, or a trio system task), held until
        it ends."""
        running = _Running()
        self._running.add(running)
        context = contextvars.copy_context()  # the caller's, as a task group's task would have
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio: a system task belongs to no nursery the caller entered
            import trio  # noqa: PLC0415 - only under trio

            trio.lowlevel.spawn_system_task(
                running.run, work, self._running, name="replicate_async batch", context=context
            )
        else:
            running.task = loop.create_task(running.run(work, self._running), context=context)
        return running

    async def end(self) -> None:
        """Cancel the work still running and wait for each to end (shielded)."""
        while self._running:
            running = self._running.pop()
            running.closed = True
            running.scope.cancel()
            await running.wait()


@contextlib.asynccontextmanager
async def beside(
    background: Background, work: Callable[[], Coroutine[Any, Any, None]]
) -> AsyncIterator[None]:
    """Run ``work()`` while the block runs (see the module's docstring).

    Leaving the block with an exception (``GeneratorExit`` included) cancels the work and waits
    for it to end; at the block's end the work is waited for, and its failure raised.

    Raises:
        ClientClosedError: The block ended because the client was closed under it.
    """
    running = background.start(work)
    try:
        yield
    except BaseException:
        running.scope.cancel()
        await running.wait()
        raise
    await running.wait()
    if running.closed:
        raise ClientClosedError(message=_CLOSED)
    if running.failure is not None:
        raise running.failure
