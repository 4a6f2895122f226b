"""The batch's worker pool: every worker waited for, and a cancellation of the caller (asyncio's
own, as ``task.cancel()``, ``asyncio.timeout`` and Ctrl-C deliver it, or anyio's) interrupts them."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from replicate_async._worker_pool import run_workers

pytestmark = pytest.mark.anyio


class _Crew:
    """Workers that run until interrupted (each in a shielded scope, as a batch's), counted."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self.interrupts = 0
        self.stop = anyio.Event()

    def interrupt(self) -> None:
        self.interrupts += 1
        self.stop.set()

    async def work(self) -> None:
        self.started += 1
        with anyio.CancelScope(shield=True):
            await self.stop.wait()
            await anyio.sleep(0.01)  # still ending after the interrupt
        self.ended += 1


async def test_every_worker_runs_to_its_end() -> None:
    """run_workers returns once each of its workers has returned, and interrupts nothing."""
    done: list[int] = []

    async def work() -> None:
        await anyio.sleep(0)
        done.append(1)

    await run_workers(5, work, interrupt=pytest.fail)
    assert done == [1] * 5


async def test_no_workers_return_at_once() -> None:
    """A pool of none ends at once."""
    await run_workers(0, anyio.sleep_forever, interrupt=pytest.fail)


async def test_an_anyio_cancellation_of_the_caller_interrupts_and_waits() -> None:
    """Cancelled by an anyio scope, the caller interrupts its workers and waits for them all."""
    crew = _Crew()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: run_workers(3, crew.work, interrupt=crew.interrupt))
            while crew.started < 3:
                await anyio.sleep(0)
            scope.cancel()
    assert scope.cancelled_caught
    assert (crew.interrupts, crew.ended) == (1, 3)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_cancelling_the_caller_interrupts_and_waits() -> None:
    """task.cancel() of the caller: the workers are interrupted and waited for (a second cancel
    meanwhile too), then the caller's cancellation goes on."""
    crew = _Crew()
    caller = asyncio.create_task(run_workers(3, crew.work, interrupt=crew.interrupt))
    while crew.started < 3:
        await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0)
    caller.cancel()  # again, while it waits for its workers
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert (crew.interrupts, crew.ended) == (1, 3)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_timeout_around_the_pool_ends_it() -> None:
    """asyncio.timeout() around the pool interrupts it and raises TimeoutError after it ends."""
    crew = _Crew()

    async def run() -> None:
        async with asyncio.timeout(0):  # passed already: at the pool's first wait
            await run_workers(2, crew.work, interrupt=crew.interrupt)

    with pytest.raises(TimeoutError):
        await run()
    assert (crew.interrupts, crew.ended) == (1, 2)


async def test_a_failed_worker_interrupts_the_others_and_is_raised() -> None:
    """A worker's exception interrupts the rest; once all ended it is raised in a group."""
    crew = _Crew()
    seen = 0

    async def work() -> None:
        nonlocal seen
        seen += 1
        if seen == 2:
            raise ValueError("boom")
        await crew.work()

    scope = anyio.CancelScope()

    def interrupt() -> None:  # as a batch's: it cancels the caller's scope too
        crew.interrupt()
        scope.cancel()

    with pytest.raises(ExceptionGroup) as info, scope:  # the scope is the caller's
        await run_workers(3, work, interrupt=interrupt)
    assert [type(e) for e in info.value.exceptions] == [ValueError]
    assert (crew.interrupts, crew.ended) == (1, 2)
