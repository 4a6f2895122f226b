# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Leaving an ``as_completed`` loop any way but its end, without ``contextlib.aclosing``.

A plain ``break`` or an exception out of ``async for`` leaves the generator to be closed by the
event loop, later and from another task. The batch used to run in a task group entered around
the generator's ``yield``: on asyncio the close raised RuntimeError in that task and cancelled
the consumer's task instead (a stray CancelledError at its next await), on trio it failed with
TrioInternalError, and on both every prediction went on running (promise 4).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from replicate_async import AsyncClient, ClientClosedError

if TYPE_CHECKING:
    from replicate_async.emulator import EmulatorServer

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])
#: trio warns of every async generator it has to close itself (its nudge to aclosing).
unclosed = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <async_generator object as_completed"
    ":pytest.PytestUnraisableExceptionWarning"
)

SLOW = "emulator/slow"  # 30 s at time_scale=1.0: still running when the loop is left
QUICK = "emulator/echo"  # answers at once


def _jobs() -> list[tuple[str, dict[str, Any]]]:
    """One quick job that finishes first, then five slow ones."""
    return [(QUICK, {"prompt": "first"}), *[(SLOW, {"prompt": f"p{i}"}) for i in range(5)]]


async def _until(emulator: EmulatorServer, key: str, count: int) -> None:
    """Wait (bounded) until the emulator's *key* counter reaches *count*."""
    with anyio.fail_after(20):
        while emulator.stats()[key] < count:
            await anyio.sleep(0.01)


async def _statuses(emulator: EmulatorServer) -> list[str]:
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        return sorted([p.status.value async for p in client.predictions.list()])


@pytest.fixture
def emulator(replicate_emulator: EmulatorServer) -> EmulatorServer:
    replicate_emulator.configure(time_scale=1.0)
    return replicate_emulator


@pytest.mark.anyio
@unclosed
async def test_a_plain_break_then_closing_the_client_cancels_the_rest(
    emulator: EmulatorServer,
) -> None:
    """`break`, then the client's `async with` exit at once: the slow predictions are cancelled
    before the connections close, and the caller goes on unharmed."""
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        async for index, _ in client.as_completed(_jobs(), concurrency=6, wait=1):
            assert index == 0
            break
    # Reached: the client's exit was not cut short by a stray cancellation of the caller.
    assert emulator.stats()["creates"] == 6
    assert await _statuses(emulator) == ["canceled"] * 5 + ["succeeded"]


@pytest.mark.anyio
@unclosed
async def test_an_exception_in_the_loop_body_comes_out_as_it_is(emulator: EmulatorServer) -> None:
    """An error raised in the body reaches the caller itself (not a CancelledError or a
    RuntimeError from the generator's close), and the rest of the batch is cancelled."""

    async def fail_in_the_body(client: AsyncClient) -> None:
        async for _ in client.as_completed(_jobs(), concurrency=6, wait=1):
            raise LookupError("stop here")

    async with AsyncClient(emulator.token, emulator.base_url) as client:
        with pytest.raises(LookupError, match="stop here"):
            await fail_in_the_body(client)
    assert await _statuses(emulator) == ["canceled"] * 5 + ["succeeded"]


@pytest.mark.anyio
@unclosed
async def test_after_a_break_the_client_keeps_working(emulator: EmulatorServer) -> None:
    """After a `break` the same task runs more predictions while the abandoned batch is
    cancelled beside it (the old close cancelled this task's next await)."""
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        async for _ in client.as_completed(_jobs(), concurrency=6, wait=1):
            break
        assert await client.run(QUICK, {"prompt": "again"}) == "again"
        await _until(emulator, "cancels", 5)
    assert await _statuses(emulator) == ["canceled"] * 5 + ["succeeded"] * 2


@pytest.mark.anyio
async def test_closing_the_client_under_a_running_loop(emulator: EmulatorServer) -> None:
    """The client closed by another task while a loop waits for results: the batch's predictions
    are cancelled and the loop raises ClientClosedError, saying what to do."""
    seen = []
    async with AsyncClient(emulator.token, emulator.base_url) as client:

        async def loop() -> None:
            async for index, _ in client.as_completed(_jobs(), concurrency=6, wait=1):
                seen.append(index)

        async def consume() -> None:
            with pytest.raises(ClientClosedError, match="close the client after the loop"):
                await loop()

        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await _until(emulator, "creates", 6)
            with anyio.fail_after(20):
                while not seen:  # the quick one is through: the slow ones are running
                    await anyio.sleep(0.01)
            await client.aclose()
    assert seen == [0]
    assert await _statuses(emulator) == ["canceled"] * 5 + ["succeeded"]


@pytest.mark.anyio
@asyncio_only
async def test_asyncio_timeout_around_the_loop_cancels_the_batch(emulator: EmulatorServer) -> None:
    """asyncio.timeout() passing while the loop waits: TimeoutError, every prediction cancelled."""
    async with AsyncClient(emulator.token, emulator.base_url) as client:

        async def pass_when_created(timeout: asyncio.Timeout) -> None:
            await _until(emulator, "creates", 6)
            timeout.reschedule(asyncio.get_running_loop().time())  # it passes now

        async def batch() -> None:
            async with asyncio.timeout(None) as timeout:
                watcher = asyncio.create_task(pass_when_created(timeout))
                jobs = [(SLOW, {"prompt": f"p{i}"}) for i in range(6)]
                async for _ in client.as_completed(jobs, concurrency=6, wait=1):
                    pass  # pragma: no cover - nothing finishes
            await watcher  # pragma: no cover - the timeout raises first

        with pytest.raises(TimeoutError):
            await batch()
    assert await _statuses(emulator) == ["canceled"] * 6


@pytest.mark.anyio
async def test_an_anyio_scope_cancelled_around_the_loop_cancels_the_batch(
    emulator: EmulatorServer,
) -> None:
    """anyio's cancellation of the consumer while the loop waits (asyncio and trio): the scope
    catches it, and every prediction the batch made is cancelled before the scope exits."""
    jobs = [(SLOW, {"prompt": f"p{i}"}) for i in range(6)]
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        async with anyio.create_task_group() as group:
            with anyio.CancelScope() as scope:

                async def cancel_when_created() -> None:
                    await _until(emulator, "creates", 6)
                    scope.cancel()

                group.start_soon(cancel_when_created)
                async for _ in client.as_completed(jobs, concurrency=6, wait=1):
                    pass  # pragma: no cover - nothing finishes
        assert scope.cancelled_caught
        assert emulator.stats()["cancels"] == 6  # before the scope exited, not at the close
    assert await _statuses(emulator) == ["canceled"] * 6
