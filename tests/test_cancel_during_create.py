# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Promise 4 while the create is still held open by ``Prefer: wait`` and its id is unknown.

Each test abandons a create on the wire (task cancellation, a batch cancelled, Ctrl-C in the
sync client, the run's own deadline) and checks on the emulator that the prediction it made
was cancelled, not left running and billing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

import anyio
import anyio.from_thread
import pytest

from replicate_async import AsyncClient, Client, PredictionTimeout
from replicate_async.emulator import EmulatorServer, FaultRule

SLOW = "emulator/slow"  # runs for 30 s at time_scale=1.0


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


async def _until_created(emulator: EmulatorServer, count: int = 1) -> None:
    """Wait (bounded) until the emulator has accepted *count* creates."""
    with anyio.fail_after(10):
        while emulator.stats()["creates"] < count:
            await anyio.sleep(0.01)


async def _statuses(emulator: EmulatorServer) -> list[str]:
    """The status of every prediction the emulator holds."""
    async with _client(emulator) as client:
        return [p.status.value async for p in client.predictions.list()]


@pytest.mark.anyio
async def test_cancelling_run_during_its_held_create_cancels_the_prediction(
    replicate_emulator: EmulatorServer,
) -> None:
    """A run cancelled while its create waits (Prefer: wait=60) cancels the prediction it made."""
    replicate_emulator.configure(time_scale=1.0)
    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        tg.start_soon(lambda: client.run(SLOW, {"prompt": "x"}, wait=60))
        await _until_created(replicate_emulator)
        tg.cancel_scope.cancel()
    assert replicate_emulator.stats()["cancels"] == 1
    assert await _statuses(replicate_emulator) == ["canceled"]


@pytest.mark.anyio
async def test_cancelling_predictions_create_during_its_hold_cancels_the_prediction(
    replicate_emulator: EmulatorServer,
) -> None:
    """predictions.create(wait=60) cancelled before its reply cancels the prediction it made."""
    replicate_emulator.configure(time_scale=1.0)
    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        tg.start_soon(lambda: client.predictions.create(SLOW, {"prompt": "x"}, wait=60))
        await _until_created(replicate_emulator)
        tg.cancel_scope.cancel()
    assert await _statuses(replicate_emulator) == ["canceled"]


@pytest.mark.anyio
async def test_a_stream_abandoned_during_its_create_cancels_the_prediction(
    replicate_emulator: EmulatorServer,
) -> None:
    """A stream whose create reply is held back, abandoned, still cancels its prediction."""
    replicate_emulator.configure(time_scale=1.0)
    replicate_emulator.set_faults(FaultRule(action="delay", route="create", delay=30))

    async def consume(client: AsyncClient) -> None:
        async for _ in client.stream("emulator/tokens", {"prompt": "a b c"}):
            pass

    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        tg.start_soon(consume, client)
        await _until_created(replicate_emulator)
        tg.cancel_scope.cancel()
    assert await _statuses(replicate_emulator) == ["canceled"]


@pytest.mark.anyio
async def test_a_cancelled_batch_cancels_predictions_whose_creates_are_held(
    replicate_emulator: EmulatorServer,
) -> None:
    """Cancelling run_many while every create is held open cancels every prediction made."""
    replicate_emulator.configure(time_scale=1.0)
    jobs = [(SLOW, {"prompt": f"p{i}"}) for i in range(4)]
    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        tg.start_soon(lambda: client.run_many(jobs, concurrency=4, wait=60))
        await _until_created(replicate_emulator, 4)
        tg.cancel_scope.cancel()
    assert await _statuses(replicate_emulator) == ["canceled"] * 4


@pytest.mark.anyio
async def test_identical_creates_each_cancel_their_own_prediction(
    replicate_emulator: EmulatorServer,
) -> None:
    """Two abandoned creates with the same input claim two different predictions, not one twice."""
    replicate_emulator.configure(time_scale=1.0)
    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        for _ in range(2):
            tg.start_soon(lambda: client.run(SLOW, {"prompt": "same"}, wait=60))
        await _until_created(replicate_emulator, 2)
        tg.cancel_scope.cancel()
    assert replicate_emulator.stats()["cancels"] == 2
    assert await _statuses(replicate_emulator) == ["canceled", "canceled"]


@pytest.mark.anyio
async def test_another_calls_prediction_is_never_taken_for_a_lost_one(
    replicate_emulator: EmulatorServer,
) -> None:
    """A prediction this client's own create returned is not cancelled for an abandoned twin."""
    replicate_emulator.configure(time_scale=1.0)
    async with _client(replicate_emulator) as client:
        kept = await client.predictions.create(SLOW, {"prompt": "same"}, wait=False)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: client.run(SLOW, {"prompt": "same"}, wait=60))
            await _until_created(replicate_emulator, 2)
            tg.cancel_scope.cancel()
        assert (await client.predictions.get(kept.id)).status.value != "canceled"
        await client.predictions.cancel(kept.id)
    assert replicate_emulator.stats()["cancels"] == 2


@pytest.mark.anyio
async def test_run_timeout_bounds_a_create_whose_reply_never_comes(
    replicate_emulator: EmulatorServer,
) -> None:
    """run(timeout=) ends while the create's reply is held back, and cancels when asked."""
    replicate_emulator.configure(time_scale=1.0)
    replicate_emulator.set_faults(FaultRule(action="delay", route="create", delay=60))
    async with _client(replicate_emulator) as client:
        with anyio.fail_after(20), pytest.raises(PredictionTimeout) as info:
            await client.run(SLOW, {"prompt": "x"}, timeout=1, cancel_on_timeout=True)
    assert info.value.prediction.id
    assert await _statuses(replicate_emulator) == ["canceled"]


@pytest.mark.anyio
async def test_run_timeout_during_the_create_leaves_it_running_unless_asked(
    replicate_emulator: EmulatorServer,
) -> None:
    """Without cancel_on_timeout, the run's deadline reports the prediction and leaves it be."""
    replicate_emulator.configure(time_scale=1.0)
    replicate_emulator.set_faults(FaultRule(action="delay", route="create", delay=60))
    async with _client(replicate_emulator) as client:
        with anyio.fail_after(20), pytest.raises(PredictionTimeout) as info:
            await client.run(SLOW, {"prompt": "x"}, timeout=1)
        pid = info.value.prediction.id
        replicate_emulator.set_faults()
        assert (await client.predictions.get(pid)).status.value != "canceled"
        await client.predictions.cancel(pid)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill (POSIX)")
def test_ctrl_c_in_the_sync_client_during_a_held_create_cancels(
    replicate_emulator: EmulatorServer,
) -> None:
    """Ctrl-C while the sync Client's create is held open cancels the prediction it made."""
    replicate_emulator.configure(time_scale=1.0)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        with anyio.from_thread.start_blocking_portal() as portal:
            portal.call(_until_created, replicate_emulator)
        signal.pthread_kill(main, signal.SIGINT)

    watcher = threading.Thread(target=press_ctrl_c)
    try:
        with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
            watcher.start()
            with pytest.raises(KeyboardInterrupt):
                client.run(SLOW, {"prompt": "x"}, wait=60)
    finally:
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    assert replicate_emulator.stats()["cancels"] == 1


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_in_the_command_line_during_a_held_create_cancels(
    replicate_emulator: EmulatorServer,
) -> None:
    """Ctrl-C in `replicate-async run` while its create is held open cancels the prediction."""
    replicate_emulator.configure(time_scale=1.0)
    env = {
        **os.environ,
        "REPLICATE_API_TOKEN": replicate_emulator.token,
        "REPLICATE_BASE_URL": replicate_emulator.base_url,
    }
    command = [sys.executable, "-m", "replicate_async.cli", "run", SLOW, "-i", "prompt=x"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        anyio.run(_until_created, replicate_emulator)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert replicate_emulator.stats()["cancels"] == 1


@pytest.mark.anyio
async def test_a_batch_create_answered_within_its_grace_is_cancelled_not_polled(
    replicate_emulator: EmulatorServer,
) -> None:
    """Creates on the wire when the batch is cancelled, answered within the grace (a 1 s wait):
    each prediction is cancelled by the id its reply gave (no look-up), and none is polled."""
    replicate_emulator.configure(time_scale=1.0)
    jobs = [(SLOW, {"prompt": f"p{i}"}) for i in range(3)]
    async with _client(replicate_emulator) as client, anyio.create_task_group() as tg:
        tg.start_soon(lambda: client.run_many(jobs, concurrency=3, wait=1))
        await _until_created(replicate_emulator, 3)
        tg.cancel_scope.cancel()
    stats = replicate_emulator.stats()
    assert stats["cancels"] == 3
    assert not stats["requests"].get("GET /v1/predictions")  # no look-up in the list
    assert not stats["requests"].get("GET /v1/predictions/{id}")  # no poll
    assert await _statuses(replicate_emulator) == ["canceled"] * 3
