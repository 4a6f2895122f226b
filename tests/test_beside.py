# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`_beside`: work run beside a block, on its own, and waited for however the block is left."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from replicate_async._beside import Background, beside


class _Stop(BaseException):
    """Not an Exception: what as_completed's producer does not catch itself."""


@pytest.mark.anyio
async def test_the_works_failure_comes_out_at_the_blocks_end() -> None:
    """Work that fails with a BaseException of its own: the block's end raises it."""
    background = Background()

    async def fail() -> None:
        raise _Stop

    with pytest.raises(_Stop):
        async with beside(background, fail):
            pass
    await background.end()  # nothing left to end


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_second_asyncio_cancel_does_not_abandon_the_work() -> None:
    """The block's task cancelled twice the asyncio way while the work is still unwinding: the
    cancellation comes out only once the work has ended."""
    background = Background()
    started, unwinding, release = anyio.Event(), anyio.Event(), anyio.Event()
    order: list[str] = []

    async def work() -> None:
        try:
            started.set()
            await anyio.sleep_forever()
        finally:
            unwinding.set()
            with anyio.CancelScope(shield=True):  # unwinding takes a while
                await release.wait()
            order.append("work ended")

    async def block() -> None:
        try:
            async with beside(background, work):
                await anyio.sleep_forever()
        finally:
            order.append("block left")

    task = asyncio.create_task(block())
    await started.wait()
    task.cancel()
    await unwinding.wait()  # beside() cancelled the work: it waits for it now
    task.cancel()  # a second cancellation meanwhile
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()  # still waiting for the work
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert order == ["work ended", "block left"]
