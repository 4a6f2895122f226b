# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Session.reserve: a batch above max_concurrency grows the concurrency slot and the pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import pytest

from replicate_async import AsyncClient
from replicate_async._backend import LazyBackend

if TYPE_CHECKING:
    from anyio.abc import TaskStatus

pytestmark = pytest.mark.anyio


async def test_reserve_grows_slot_and_pool() -> None:
    """reserve(n) above max_concurrency makes n slots and an n-connection pool; lower does nothing."""
    async with AsyncClient(api_token="r8_test", max_concurrency=2) as client:
        session = client._session
        session.reserve(50)
        session.reserve(10)
        assert session.max_concurrency == 50
        assert session.slot.value == 50
        backend = session.backend
        assert isinstance(backend, LazyBackend)
        assert backend.max_connections == 50


async def test_reserve_lets_a_waiting_request_go() -> None:
    """A request waiting for the one slot goes as soon as reserve(2) adds a second."""
    async with AsyncClient(api_token="r8_test", max_concurrency=1) as client:
        session = client._session
        went = anyio.Event()

        async def second(*, task_status: TaskStatus[None]) -> None:
            task_status.started()
            async with session.slot:
                went.set()

        async with session.slot, anyio.create_task_group() as tg:
            await tg.start(second)
            await anyio.lowlevel.checkpoint()
            assert not went.is_set()  # the one slot is held
            session.reserve(2)
            with anyio.fail_after(5):
                await went.wait()


async def test_reserve_refuses_zero() -> None:
    """reserve(0) is a caller's mistake, said in one line."""
    async with AsyncClient(api_token="r8_test") as client:
        with pytest.raises(ValueError, match="concurrency must be >= 1"):
            client._session.reserve(0)
