# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""``as_completed``: a batch (`_fanout`) whose results are yielded as each finishes.

The batch runs beside the consumer (`_beside`), never in a task group entered around the
``yield``: a ``break`` out of the loop closes the generator later, from another task, and
that must cancel the batch's predictions rather than the consumer's task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from replicate_async._beside import beside
from replicate_async._fanout import Batch

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator, Callable, Iterable

    from replicate_async._jobs import JobSpec, ProgressEvent
    from replicate_async._journal_backend import JournalBackend
    from replicate_async._running import Runner, RunOptions

__all__ = ["as_completed"]


async def as_completed(
    runner: Runner,
    jobs: Iterable[JobSpec],
    *,
    options: RunOptions,
    concurrency: int = 64,
    journal: str | os.PathLike[str] | JournalBackend | None = None,
    recreate_unknown: bool = False,
    on_progress: Callable[[ProgressEvent], object] | None = None,
) -> AsyncIterator[tuple[int, Any]]:
    """The engine of :meth:`AsyncClient.as_completed` (see there)."""
    batch = Batch(
        runner,
        concurrency=concurrency,
        return_exceptions=True,
        options=options,
        journal=journal,
        recreate_unknown=recreate_unknown,
        on_progress=on_progress,
    )
    send, receive = anyio.create_memory_object_stream[tuple[int, Any]](concurrency)

    async def deliver(index: int, value: Any) -> None:
        """Hand a result to the consumer (waits while it is behind)."""
        await send.send((index, value))

    async def produce() -> None:
        """Run the batch into the stream (closed however the batch ends)."""
        async with send:
            await batch.run(jobs, deliver)

    # Left early (an exception, the generator closed): beside() cancels the batch, which
    # cancels its predictions remotely, and waits for it; then the stream is closed. At the
    # stream's end beside() raises the batch's failure, if it failed, in the consumer's task.
    async with receive, beside(runner.session.background, produce):
        while True:
            try:
                item = await receive.receive()
            except anyio.EndOfStream:
                break
            yield item
            # Then every result already waiting, without a pass of the loop for each
            # (receive()'s checkpoint): a consumer behind catches up at once, so the results
            # waiting for it (and the workers blocked on them) do not pile up towards twice
            # the concurrency as a long batch goes on.
            while True:
                try:
                    item = receive.receive_nowait()
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                yield item
