# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The client's concurrency slots (_slots.Slots) on asyncio and trio: counting, waiting,
growing, and a cancelled wait that takes nothing."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from replicate_async._slots import Slots

pytestmark = pytest.mark.anyio


async def test_slots_count_what_is_taken(anyio_backend: str) -> None:
    """value is the free slots: the size before first use, less each acquire, back on release."""
    slots = Slots(3)
    assert slots.value == 3
    await slots.acquire()
    await slots.acquire()
    assert slots.value == 1
    slots.release()
    assert slots.value == 2
    # asyncio's own semaphore on asyncio (the cheap path), anyio's elsewhere.
    is_asyncio = isinstance(slots._semaphore, asyncio.Semaphore)
    assert is_asyncio == (anyio_backend == "asyncio")


async def test_a_full_slot_waits_until_one_is_released(anyio_backend: str) -> None:
    """With every slot taken, an acquire waits; a release lets exactly that waiter go."""
    slots = Slots(1)
    await slots.acquire()
    went = anyio.Event()

    async def second() -> None:
        async with slots:
            went.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert not went.is_set()
        slots.release()
    assert went.is_set()
    assert slots.value == 1


async def test_grow_before_and_after_first_use(anyio_backend: str) -> None:
    """grow adds free slots before the semaphore exists, and lets a waiter go after."""
    slots = Slots(1)
    slots.grow(2)
    assert slots.value == 3
    for _ in range(3):
        await slots.acquire()
    went = anyio.Event()

    async def fourth() -> None:
        await slots.acquire()
        went.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(fourth)
        await anyio.wait_all_tasks_blocked()
        assert not went.is_set()
        slots.grow(1)
    assert went.is_set()
    assert slots.value == 0


async def test_a_cancelled_wait_takes_no_slot(anyio_backend: str) -> None:
    """An acquire waiting when its cancel scope is cancelled raises out and takes nothing."""
    slots = Slots(1)
    await slots.acquire()
    with anyio.move_on_after(0) as scope:
        await slots.acquire()
    assert scope.cancelled_caught
    slots.release()
    assert slots.value == 1
    assert "1/1 free" in repr(slots)
