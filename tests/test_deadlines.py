# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`_deadlines.Deadlines`: many cancel scopes' deadlines on one event-loop timer.

Each scope must be cancelled at its own deadline, as a scope given that deadline would be,
and never when it left first; the timer and the heap must not grow with the scopes seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import anyio
import pytest

from _client_support import prediction
from replicate_async import AsyncClient, Prediction, PredictionTimeout
from replicate_async import _clock as clock
from replicate_async._converters import structure
from replicate_async._deadlines import Deadlines, TaskDeadline

if TYPE_CHECKING:
    from collections.abc import Callable


async def _wait_in(deadlines: Deadlines, deadline: float) -> anyio.CancelScope:
    """Enter a scope kept at *deadline* and wait in it until it is cancelled (a keeper that
    never cancels it fails the test after 10 s instead of hanging it)."""
    scope = anyio.CancelScope()
    kept = deadlines.keep(scope, deadline)
    try:
        with anyio.fail_after(10), scope:
            await anyio.sleep_forever()
    finally:
        deadlines.drop(kept)
    return scope


@pytest.mark.anyio
async def test_a_scope_is_cancelled_at_its_deadline() -> None:
    deadlines = Deadlines()
    due = clock.now() + 0.05
    scope = await _wait_in(deadlines, due)
    assert scope.cancelled_caught
    assert clock.now() >= due
    assert len(deadlines) == 0


@pytest.mark.anyio
async def test_a_scope_kept_past_its_deadline_is_cancelled_at_its_first_wait() -> None:
    deadlines = Deadlines()
    scope = await _wait_in(deadlines, clock.now() - 1.0)
    assert scope.cancelled_caught
    assert len(deadlines) == 0


@pytest.mark.anyio
async def test_a_scope_that_leaves_first_is_never_cancelled() -> None:
    deadlines = Deadlines()
    scope = anyio.CancelScope()
    kept = deadlines.keep(scope, clock.now() + 0.05)
    with scope:
        await anyio.sleep(0)
    deadlines.drop(kept)
    await anyio.sleep(0.1)  # past the deadline it had
    assert not scope.cancel_called
    assert len(deadlines) == 0


@pytest.mark.anyio
async def test_an_earlier_deadline_is_not_held_up_by_a_later_one(anyio_backend: str) -> None:
    """A scope kept after another with a far deadline is still cancelled at its own."""
    deadlines = Deadlines()
    results: dict[str, anyio.CancelScope] = {}

    async def wait(name: str, deadline: float) -> None:
        results[name] = await _wait_in(deadlines, deadline)

    start = clock.now()
    async with anyio.create_task_group() as tg:
        tg.start_soon(wait, "far", start + 3600.0)
        await anyio.sleep(0)
        tg.start_soon(wait, "near", start + 0.05)
        with anyio.fail_after(10):
            while "near" not in results:
                await anyio.sleep(0.01)
        assert results["near"].cancelled_caught
        assert clock.now() - start < 3600.0
        # The far one still waits, kept here on asyncio (trio keeps scopes' deadlines itself).
        assert len(deadlines) == (1 if anyio_backend == "asyncio" else 0)
        tg.cancel_scope.cancel()
    assert len(deadlines) == 0


@pytest.mark.anyio
async def test_scopes_with_the_same_deadline_are_all_cancelled() -> None:
    deadlines = Deadlines()
    due = clock.now() + 0.05
    scopes: list[anyio.CancelScope] = []

    async def wait() -> None:
        scopes.append(await _wait_in(deadlines, due))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(wait)
    assert len(scopes) == 50
    assert all(scope.cancelled_caught for scope in scopes)


def test_one_timer_and_a_bounded_heap_for_many_scopes() -> None:
    """Thousands of scopes leaving before their deadline: one loop timer, a heap that stays small."""

    async def main() -> None:
        deadlines = Deadlines()
        loop = asyncio.get_running_loop()
        timers_before = len(loop._scheduled)  # type: ignore[attr-defined]
        now = loop.time()
        for i in range(10_000):
            scope = anyio.CancelScope()
            kept = deadlines.keep(scope, now + 3600.0 + i)
            with scope:
                pass
            deadlines.drop(kept)
        assert len(deadlines) == 0
        assert len(deadlines._heap) <= 64 + 1
        assert len(loop._scheduled) == timers_before + 1  # type: ignore[attr-defined]

    asyncio.run(main())


def test_a_keeper_moves_to_the_loop_it_is_used_on() -> None:
    """A client used from two asyncio.run calls: its deadlines still fire on the second loop."""
    deadlines = Deadlines()

    async def once() -> bool:
        scope = await _wait_in(deadlines, clock.now() + 0.02)
        return scope.cancelled_caught

    assert asyncio.run(once())
    assert asyncio.run(once())


@pytest.mark.parametrize("how", ["keep", "bound"])
def test_under_trio_the_scope_gets_its_deadline(how: str) -> None:
    """A scope given to keep(), or the block bound() makes: trio keeps its deadline itself."""
    trio = pytest.importorskip("trio")

    async def main() -> None:
        deadlines = Deadlines()
        due = clock.now() + 0.02
        if how == "keep":
            scope = anyio.CancelScope()
            assert deadlines.keep(scope, due) is None
        else:
            block = deadlines.bound(due)
            assert isinstance(block, anyio.CancelScope)
            scope = block
        assert scope.deadline == due
        with scope:
            await anyio.sleep_forever()
        assert scope.cancelled_caught
        assert len(deadlines) == 0

    trio.run(main)


# ------------------------------------------------------- bound(): the poll loop's block


def test_a_block_is_left_at_its_deadline_and_the_task_goes_on() -> None:
    """On asyncio: the task is cancelled at the deadline, the block swallows it, and the task
    is not left cancelled (its next wait runs)."""

    async def main() -> None:
        deadlines = Deadlines()
        due = clock.now() + 0.05
        block = deadlines.bound(due)
        assert isinstance(block, TaskDeadline)
        with block:
            await asyncio.sleep(10)
        assert block.cancelled_caught
        assert clock.now() >= due
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0.01)  # not cancelled again
        assert len(deadlines) == 0

    asyncio.run(main())


def test_a_block_that_ends_first_is_never_cancelled() -> None:
    async def main() -> None:
        deadlines = Deadlines()
        with deadlines.bound(clock.now() + 0.05) as block:
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)  # past the deadline it had
        assert not block.cancel_called
        assert not block.cancelled_caught
        assert len(deadlines) == 0

    asyncio.run(main())


def test_a_deadline_already_past_cancels_at_the_first_wait_only() -> None:
    """Past its deadline, a block that waits is left at its first wait; one that never waits
    runs to its end, and its task is not cancelled later (no cancellation left pending)."""

    async def main() -> None:
        deadlines = Deadlines()
        reached = False
        with deadlines.bound(clock.now() - 1.0) as waits:
            await asyncio.sleep(10)
            reached = True
        assert waits.cancelled_caught
        assert not reached
        with deadlines.bound(clock.now() - 1.0) as quick:
            reached = True
        assert reached
        assert not quick.cancelled_caught
        await asyncio.sleep(0.01)  # would raise CancelledError had a cancel been left pending
        assert len(deadlines) == 0

    asyncio.run(main())


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_cancellation_from_outside_goes_through_the_block() -> None:
    """An anyio scope around the block, cancelled while it waits (its deadline far off): the
    block does not swallow it, the outer scope catches it."""
    deadlines = Deadlines()
    with anyio.CancelScope() as outer:
        with deadlines.bound(clock.now() + 3600.0) as block:
            outer.cancel()
            await anyio.sleep(10)
        pytest.fail("the outer cancellation was swallowed")  # pragma: no cover
    assert outer.cancelled_caught
    assert not block.cancel_called
    assert len(deadlines) == 0


def test_a_cancellation_at_the_deadline_from_outside_too_goes_on() -> None:
    """The deadline passes and the task is cancelled from outside in the same wait: the
    block leaves the outside cancellation to go on (as asyncio.timeout does)."""

    async def inner(deadlines: Deadlines, seen: list[TaskDeadline]) -> None:
        with deadlines.bound(clock.now() + 3600.0) as block:
            assert isinstance(block, TaskDeadline)
            seen.append(block)
            await asyncio.sleep(10)

    async def main() -> None:
        deadlines = Deadlines()
        seen: list[TaskDeadline] = []
        task = asyncio.create_task(inner(deadlines, seen))
        await asyncio.sleep(0)  # the block entered; the task waits in it
        seen[0].cancel()  # its deadline passes (what the keeper's timer calls)
        task.cancel()  # and the caller cancels it too, before it runs again
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen[0].cancel_called
        assert not seen[0].cancelled_caught

    asyncio.run(main())


def test_a_block_whose_body_swallows_the_cancellation_leaves_none_pending() -> None:
    """The body catches the deadline's cancellation itself and ends: the block undoes the
    cancellation, and the task's next wait is not cancelled."""

    async def main() -> None:
        deadlines = Deadlines()
        with (
            deadlines.bound(clock.now() + 0.02) as block,
            contextlib.suppress(asyncio.CancelledError),
        ):
            await asyncio.sleep(10)
        assert block.cancel_called
        assert not block.cancelled_caught
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0.01)

    asyncio.run(main())


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_block_that_is_not_native_respects_an_anyio_shield() -> None:
    """bound(native=False) on asyncio: an anyio scope, whose deadline does not cut the shielded
    work inside it; the block is left at the next wait after it."""
    deadlines = Deadlines()
    finished = False
    with deadlines.bound(clock.now() + 0.02, native=False) as block:
        assert isinstance(block, anyio.CancelScope)
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.1)  # past the deadline
        finished = True
        await anyio.sleep(10)
    assert finished
    assert block.cancelled_caught
    assert len(deadlines) == 0


@pytest.mark.anyio
async def test_a_poll_ends_at_its_deadline_even_when_its_cancellation_is_swallowed(
    make_client: Callable[..., AsyncClient],
) -> None:
    """Something inside the poll loop swallows the deadline's cancellation (as an older anyio's
    scope could, meeting it in the same pass as its own): the loop ends all the same, and the
    poll times out instead of polling on."""
    processing = structure(prediction(status="processing"), Prediction)
    calls = 0

    async def fetch(prediction_id: str) -> Prediction:
        nonlocal calls
        calls += 1
        try:
            await anyio.sleep(1)  # the poll's deadline (0.05 s) passes in here
        except anyio.get_cancelled_exc_class():
            pass  # swallowed
        return processing

    async with make_client() as client:
        with anyio.fail_after(5), pytest.raises(PredictionTimeout):
            await client._runner.poll(
                processing,
                within=0.05,
                reported_timeout=0.05,
                cancel_on_timeout=False,
                abandon=None,
                fetch=fetch,
            )
    assert calls == 1
