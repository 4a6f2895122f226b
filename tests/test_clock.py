# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The event loop's clock and sleep (``_clock``): sleeps on asyncio wake on a 20 ms grid.

A sleep never ends before its delay nor more than one tick after it, and sleeps due within
the same tick wake in the same pass of the event loop (the polls of a batch, jittered, go out
together instead of one pass each). A delay of 0 only yields; trio sleeps as anyio does.
"""

from __future__ import annotations

import asyncio
import itertools

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async import _clock as clock

pytestmark = pytest.mark.anyio


@given(st.floats(min_value=0.0, max_value=1e7, allow_nan=False))
def test_the_tick_after_a_time_is_on_the_grid_and_never_before_it(at: float) -> None:
    """tick_after(at) is at or after *at*, less than one tick after it, on the grid."""
    tick = clock.tick_after(at)
    assert at <= tick < at + clock.TICK + 1e-9
    assert abs(tick / clock.TICK - round(tick / clock.TICK)) < 1e-6


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sleeps_due_within_one_tick_wake_in_one_pass_of_the_loop() -> None:
    """Ten sleeps from one start, their delays 4 ms apart (0.1 to 0.136 s), each wakes no
    earlier than its delay and no later than a tick after it, and they wake in at most three
    groups (the ticks they fall in), not ten: the tasks of one group run back to back."""
    loop = asyncio.get_running_loop()
    delays = [0.1 + 0.004 * i for i in range(10)]
    woke: dict[float, float] = {}

    async def one(delay: float) -> None:
        await clock.sleep(delay)
        woke[delay] = loop.time()

    start = loop.time()
    await asyncio.gather(*(one(delay) for delay in delays))
    for delay, at in woke.items():
        assert at >= start + delay
        assert at < start + delay + clock.TICK + 0.5  # a tick, and room for a slow machine
    # Woken together, tasks run microseconds apart (a loop pass may also split a tick's
    # timers by its 1 ms select); without the grid they would be 4 ms apart, in ten passes.
    times = sorted(woke.values())
    groups = 1 + sum(1 for a, b in itertools.pairwise(times) if b - a > 0.0025)
    assert groups <= 3  # the ticks of 0.1 to 0.136 s from any start


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_sleep_of_zero_only_yields() -> None:
    """clock.sleep(0) (or less) lets the other tasks run once and comes back in that pass,
    not on the next tick."""
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    task = asyncio.ensure_future(other())
    loop = asyncio.get_running_loop()
    start = loop.time()
    await clock.sleep(0)
    await clock.sleep(-1.0)
    assert ran == ["other"]
    assert loop.time() - start < clock.TICK  # no tick waited for
    await task


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_sleeps_as_anyio_does() -> None:
    """Under trio, clock.sleep is anyio.sleep: at least its delay, off the grid."""
    start = anyio.current_time()
    await clock.sleep(0.05)
    assert anyio.current_time() - start >= 0.05
