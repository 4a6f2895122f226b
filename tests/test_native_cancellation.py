# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Promise 4 for a batch cancelled the way asyncio cancels: ``task.cancel()``,
``asyncio.timeout()`` (and ``wait_for``, and Ctrl-C under ``asyncio.run``, which cancel the same
way). anyio's cancellation of a batch is covered in ``test_cancel_during_create.py``; asyncio's
went past a batch's shielded workers, which ran every job to its end before it went on.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from replicate_async import AsyncClient
from replicate_async._journal_backend import Claim, LocalJournal

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from replicate_async.emulator import EmulatorServer

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])

SLOW = "emulator/slow"  # runs for 30 s at time_scale=1.0: then the next four jobs would start
JOBS = [(SLOW, {"prompt": f"p{i}"}) for i in range(8)]


async def _until_created(emulator: EmulatorServer, count: int) -> None:
    """Wait (bounded) until the emulator has accepted *count* creates."""
    with anyio.fail_after(10):
        while emulator.stats()["creates"] < count:
            await anyio.sleep(0.01)


async def _statuses(emulator: EmulatorServer) -> list[str]:
    """The status of every prediction the emulator holds."""
    async with AsyncClient(emulator.token, emulator.base_url) as client:
        return [p.status.value async for p in client.predictions.list()]


async def _consume(client: AsyncClient, how: str) -> Any:
    """Run the batch of eight jobs four at a time, by run_many or as_completed."""
    if how == "run_many":
        return await client.run_many(JOBS, concurrency=4, wait=60)
    return [item async for item in client.as_completed(JOBS, concurrency=4, wait=60)]


@pytest.mark.anyio
@asyncio_only
@pytest.mark.parametrize("how", ["run_many", "as_completed"])
async def test_task_cancel_of_a_batch_cancels_its_predictions(
    replicate_emulator: EmulatorServer, how: str
) -> None:
    """task.cancel() during the held creates: the batch raises CancelledError, starts no other
    job (run to their end, the first four would be followed by four more), and every prediction
    it made is cancelled."""
    replicate_emulator.configure(time_scale=1.0)
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        task = asyncio.create_task(_consume(client, how))
        await _until_created(replicate_emulator, 4)
        task.cancel()
        with anyio.fail_after(60), pytest.raises(asyncio.CancelledError):
            await task
    assert replicate_emulator.stats()["creates"] == 4
    assert await _statuses(replicate_emulator) == ["canceled"] * 4


@pytest.mark.anyio
@asyncio_only
async def test_asyncio_timeout_around_run_many_ends_it(replicate_emulator: EmulatorServer) -> None:
    """asyncio.timeout() passing during the held creates ends run_many with TimeoutError, and
    every prediction it made is cancelled."""
    replicate_emulator.configure(time_scale=1.0)
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:

        async def pass_when_created(timeout: asyncio.Timeout) -> None:
            await _until_created(replicate_emulator, 4)
            timeout.reschedule(asyncio.get_running_loop().time())  # it passes now

        async def batch() -> None:
            async with asyncio.timeout(None) as timeout:
                watcher = asyncio.create_task(pass_when_created(timeout))
                await client.run_many(JOBS, concurrency=4, wait=60)
            await watcher  # pragma: no cover - the timeout raises first

        with anyio.move_on_after(60), pytest.raises(TimeoutError):
            await batch()  # (the guard's cancellation would come out as TimeoutError too)
    assert replicate_emulator.stats()["creates"] == 4  # the next four never started
    assert await _statuses(replicate_emulator) == ["canceled"] * 4


_SCRIPT = """
import asyncio, sys
from replicate_async import AsyncClient
from replicate_async._journal_backend import Claim, LocalJournal

async def main():
    jobs = [("emulator/slow", {"prompt": f"p{i}"}) for i in range(8)]
    async with AsyncClient(sys.argv[1], sys.argv[2]) as client:
        await client.run_many(jobs, concurrency=4, wait=60)

asyncio.run(main())
"""


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_under_asyncio_run_cancels_a_batchs_predictions(
    replicate_emulator: EmulatorServer,
) -> None:
    """A plain script's Ctrl-C (asyncio.run cancels its main task) during run_many's held
    creates: the script ends with KeyboardInterrupt, and every prediction it made is cancelled."""
    replicate_emulator.configure(time_scale=1.0)
    command = [sys.executable, "-c", _SCRIPT, replicate_emulator.token, replicate_emulator.base_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        anyio.run(_until_created, replicate_emulator, 4)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=25)  # the batch would take 60 s to its end
    finally:
        process.kill()
    assert "KeyboardInterrupt" in err
    assert replicate_emulator.stats()["creates"] == 4
    assert anyio.run(_statuses, replicate_emulator) == ["canceled"] * 4


class _HeldAtFirst(LocalJournal):
    """A journal "shared" with a worker that holds every job at first, then lets it go: the
    batch sets each job aside and runs it from its settle phase."""

    shared = True  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.seen: set[str] = set()

    async def claim(self, key: str, ref: str, input: Mapping[str, Any]) -> Claim:  # noqa: A002
        if key not in self.seen:
            self.seen.add(key)
            return Claim(None, busy=True)
        return await super().claim(key, ref, input)


@pytest.mark.anyio
@asyncio_only
async def test_task_cancel_while_a_batch_runs_jobs_set_aside_cancels_them(
    replicate_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """task.cancel() while the jobs another worker held are being run (the settle phase of a
    shared journal): their predictions are cancelled, not run to their end."""
    replicate_emulator.configure(time_scale=1.0)
    journal = _HeldAtFirst(tmp_path / "journal.sqlite")
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        task = asyncio.create_task(client.run_many(JOBS[:4], concurrency=4, journal=journal))
        await _until_created(replicate_emulator, 4)
        task.cancel()
        with anyio.fail_after(60), pytest.raises(asyncio.CancelledError):
            await task
    assert len(journal.seen) == 4  # each job was set aside first
    assert await _statuses(replicate_emulator) == ["canceled"] * 4
