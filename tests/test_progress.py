# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Prediction.progress (the model's progress bar read from its logs) and `on_progress` of one run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import respx

from _cassettes import CASSETTES, load
from _client_support import TOKEN, prediction, reply
from replicate_async import (
    AsyncClient,
    Client,
    Prediction,
    PredictionFailed,
    PredictionProgress,
    PredictionStatus,
    PredictionTimeout,
    Training,
)
from replicate_async._converters import structure

if TYPE_CHECKING:
    from replicate_async.emulator import EmulatorServer

CREATE = "/v1/models/acme/painter/predictions"
GET = "/v1/predictions/p1"
CANCEL = "/v1/predictions/p1/cancel"

#: A real run of stability-ai/sdxl (replicate-python's cassette): its create, then 11 polls.
RUN = load(CASSETTES / "run.yaml")
RECORDED = "https://api.replicate.com"
SDXL = "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"


def bar(percent: int, current: int, total: int) -> str:
    """One tqdm line, as models print them."""
    filled = "█" * (percent // 10)
    return f"{percent:3d}%|{filled:<10}| {current}/{total} [00:01<00:02,  7.51it/s]"


# -- reading the logs ---------------------------------------------------------------------------


def test_the_official_clients_example_line():
    """The line both official clients document parses to 0.76, 7568, 10000."""
    line = "76%|████████████████████████████         | 7568/10000 [00:33<00:10, 229.00it/s]"
    assert PredictionProgress.from_logs(line) == PredictionProgress(0.76, 7568, 10000)


def test_the_last_bar_line_wins():
    """Of several bar lines the newest counts."""
    logs = "\n".join(["Using seed: 1", bar(0, 0, 50), bar(10, 5, 50), bar(20, 10, 50), ""])
    assert PredictionProgress.from_logs(logs) == PredictionProgress(0.2, 10, 50)


def test_a_carriage_return_redraw_counts():
    """tqdm redraws after `\\r`: the text after the last `\\r` is the bar now."""
    logs = f"start\n{bar(10, 1, 10)}\r{bar(30, 3, 10)}\r{bar(40, 4, 10)}"
    assert PredictionProgress.from_logs(logs) == PredictionProgress(0.4, 4, 10)


def test_lines_after_the_bar_do_not_hide_it():
    """Log lines printed after the last bar leave its progress readable."""
    logs = f"{bar(100, 28, 28)}\nSaving output...\nDone in 3.1s\n"
    assert PredictionProgress.from_logs(logs) == PredictionProgress(1.0, 28, 28)


def test_a_described_bar_counts():
    """A bar after tqdm's description (`Sampling:  50%|...`) counts too."""
    logs = "Sampling:  50%|█████     | 14/28 [00:02<00:02,  6.02it/s]"
    assert PredictionProgress.from_logs(logs) == PredictionProgress(0.5, 14, 28)


@pytest.mark.parametrize(
    "logs",
    [
        None,
        "",
        "Using seed: 42\nGenerating...\n",
        "50% done | 3/6 steps",  # no bar between pipes
        "76%| bar without counts |",
        "1234%|####| 1/2",  # not a percentage tqdm prints
        "50%|####| 1/" + "9" * 30,  # a count too long to be real
    ],
)
def test_no_bar_means_none(logs):
    """Logs without a bar line (or none at all) give None."""
    assert PredictionProgress.from_logs(logs) is None


def test_huge_numbers_never_raise():
    """Digit runs past int()'s limit are no bar, not a ValueError."""
    digits = "7" * 5000
    assert PredictionProgress.from_logs(f"{digits}%|##| {digits}/{digits}") is None


def test_a_long_log_with_the_bar_at_its_start():
    """The bar is found wherever it is, behind a megabyte of other lines."""
    logs = bar(30, 3, 10) + "\n" + "x" * 80 + "\n" * 1 + ("noise line\n" * 100_000)
    assert PredictionProgress.from_logs(logs) == PredictionProgress(0.3, 3, 10)


def test_prediction_progress_reads_its_logs():
    """Prediction.progress is the last bar of its logs; None without logs."""
    running = structure(prediction(status="processing", logs=bar(60, 6, 10)), Prediction)
    assert running.progress == PredictionProgress(0.6, 6, 10)
    assert structure(prediction(logs=None), Prediction).progress is None


def test_a_training_has_progress_too():
    """A Training is a Prediction: its logs' bar is its progress."""
    training = Training(id="t1", status=PredictionStatus.PROCESSING, logs=bar(20, 2, 10))
    assert training.progress == PredictionProgress(0.2, 2, 10)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, None),  # starting, no logs yet
        (4, PredictionProgress(0.0, 0, 50)),
        (5, PredictionProgress(0.18, 9, 50)),
        (9, PredictionProgress(0.98, 49, 50)),
        (12, PredictionProgress(1.0, 50, 50)),
    ],
)
def test_recorded_sdxl_logs(index, expected):
    """The polls of a real sdxl run read as the bars they printed."""
    assert structure(RUN[index].payload, Prediction).progress == expected


# -- on_progress of one run -----------------------------------------------------------------------


@pytest.fixture
def recorded():
    """A respx router replaying the recorded sdxl run: the create, then its polls in order."""
    router = respx.Router(base_url=RECORDED, assert_all_called=True)
    router.post("/v1/predictions").mock(return_value=httpx.Response(201, json=RUN[0].payload))
    polls = [httpx.Response(200, json=i.payload) for i in RUN[2:]]
    router.get(f"/v1/predictions/{RUN[0].payload['id']}").mock(side_effect=polls)
    return router


@pytest.mark.anyio
async def test_on_progress_sees_every_state_of_a_recorded_run(recorded):
    """Replaying a real run: on_progress gets the create's reply, then each poll's, in order."""
    seen: list[Prediction] = []
    transport = httpx.MockTransport(recorded.async_handler)
    async with AsyncClient(api_token=TOKEN, base_url=RECORDED, transport=transport) as client:
        output = await client.run(SDXL, {"prompt": "a corgi"}, on_progress=seen.append)
    assert [p.status for p in seen] == [
        PredictionStatus.STARTING,
        PredictionStatus.STARTING,
        *[PredictionStatus.PROCESSING] * 9,
        PredictionStatus.SUCCEEDED,
    ]
    assert [p.progress for p in seen][3:6] == [
        PredictionProgress(0.0, 0, 50),
        PredictionProgress(0.18, 9, 50),
        PredictionProgress(0.38, 19, 50),
    ]
    assert seen[-1].progress == PredictionProgress(1.0, 50, 50)
    assert [str(file) for file in output] == RUN[12].payload["output"]


@pytest.mark.asyncio
async def test_a_terminal_create_reply_is_reported_once(api, make_client):
    """When the create's reply is already terminal, on_progress is called once, with it."""
    api.post(CREATE).mock(return_value=reply("succeeded", 201, output="done", logs=bar(100, 4, 4)))
    seen: list[Prediction] = []
    async with make_client() as client:
        assert await client.run("acme/painter", {"prompt": "x"}, on_progress=seen.append) == "done"
    assert [(p.status, p.progress) for p in seen] == [
        (PredictionStatus.SUCCEEDED, PredictionProgress(1.0, 4, 4))
    ]


@pytest.mark.asyncio
async def test_a_failed_run_reports_its_last_state_before_raising(api, make_client):
    """The failed prediction reaches on_progress before PredictionFailed is raised."""
    api.post(CREATE).mock(return_value=reply("processing", 201, logs=bar(50, 1, 2)))
    api.get(GET).mock(return_value=reply("failed", error="CUDA out of memory"))
    seen: list[Prediction] = []
    async with make_client() as client:
        with pytest.raises(PredictionFailed):
            await client.run("acme/painter", {"prompt": "x"}, on_progress=seen.append)
    assert [p.status for p in seen] == [PredictionStatus.PROCESSING, PredictionStatus.FAILED]


@pytest.mark.asyncio
async def test_an_exception_in_on_progress_is_logged_and_the_run_goes_on(api, make_client, caplog):
    """A callback that raises is logged with its traceback on every call; the run still ends."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    get = api.get(GET).mock(
        side_effect=[reply("processing", logs=bar(50, 1, 2)), reply("succeeded", output="ok")]
    )
    calls: list[PredictionStatus] = []

    def broken(p: Prediction) -> None:
        calls.append(p.status)
        raise ZeroDivisionError("display bug")

    async with make_client() as client:
        with caplog.at_level(logging.WARNING, logger="replicate_async"):
            assert await client.run("acme/painter", {"prompt": "x"}, on_progress=broken) == "ok"
    assert len(calls) == 3
    assert get.call_count == 2
    records = [r for r in caplog.records if "on_progress raised" in r.getMessage()]
    assert len(records) == 3
    assert all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in records)
    assert "p1" in records[0].getMessage()


@pytest.mark.anyio
async def test_a_coroutine_callback_is_awaited(api, make_client):
    """An async on_progress is awaited before polling goes on (its await points included)."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    api.get(GET).mock(side_effect=[reply("processing"), reply("succeeded", output="ok")])
    finished: list[PredictionStatus] = []

    async def slow_display(p: Prediction) -> None:
        await anyio.lowlevel.checkpoint()
        finished.append(p.status)

    async with make_client() as client:
        await client.run("acme/painter", {"prompt": "x"}, on_progress=slow_display)
    assert finished == [
        PredictionStatus.STARTING,
        PredictionStatus.PROCESSING,
        PredictionStatus.SUCCEEDED,
    ]


@pytest.mark.anyio
async def test_the_timeout_does_not_cut_work_on_progress_shields(api, make_client):
    """The run's timeout passes while an async on_progress shields its own work (an anyio
    scope): that work ends, then the run times out."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    saved: list[PredictionStatus] = []

    async def save(p: Prediction) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.3)  # the timeout (0.1 s) passes meanwhile
            saved.append(p.status)

    async with make_client() as client:
        with pytest.raises(PredictionTimeout):
            await client.run("acme/painter", {"prompt": "x"}, on_progress=save, timeout=0.1)
    assert saved == [PredictionStatus.STARTING]


@pytest.mark.anyio
async def test_cancelling_from_on_progress_cancels_the_prediction_remotely(api, make_client):
    """The callback runs inside the run's guard: cancelling there cancels the prediction too."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    cancel = api.post(CANCEL).mock(return_value=reply("canceled"))
    seen: list[Prediction] = []
    async with make_client() as client:
        with anyio.CancelScope() as scope:

            def stop(p: Prediction) -> None:
                seen.append(p)
                scope.cancel()  # what Ctrl-C does to the task

            await client.run("acme/painter", {"prompt": "x"}, on_progress=stop)
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert cancel.call_count == 1


@pytest.mark.asyncio
async def test_generate_reports_progress_too(api, make_client):
    """generate(..., on_progress=) sees the states its run goes through."""
    api.post(CREATE).mock(return_value=reply("processing", 201, logs=bar(50, 5, 10)))
    api.get(GET).mock(return_value=reply("succeeded", output="https://x.test/a.png"))
    seen: list[Prediction] = []
    async with make_client() as client:
        done = await client.generate("acme/painter", {"prompt": "x"}, on_progress=seen.append)
    assert [p.status for p in seen] == [PredictionStatus.PROCESSING, PredictionStatus.SUCCEEDED]
    assert seen[0].progress == PredictionProgress(0.5, 5, 10)
    assert seen[-1] == done.prediction


@pytest.mark.asyncio
async def test_without_on_progress_nothing_changes(api, make_client):
    """No callback: the same requests, the same output."""
    api.post(CREATE).mock(return_value=reply("starting", 201))
    get = api.get(GET).mock(side_effect=[reply("processing"), reply("succeeded", output="ok")])
    async with make_client() as client:
        assert await client.run("acme/painter", {"prompt": "x"}) == "ok"
    assert get.call_count == 2


def test_the_sync_client_reports_progress():
    """Client.run(..., on_progress=) calls back (on its loop thread) with each state."""
    router = respx.Router(base_url="https://api.replicate.test", assert_all_called=True)
    router.post(CREATE).mock(return_value=reply("starting", 201))
    router.get(GET).mock(
        side_effect=[reply("processing", logs=bar(50, 2, 4)), reply("succeeded", output="ok")]
    )
    seen: list[Prediction] = []
    transport = httpx.MockTransport(router.handler)
    with Client(api_token=TOKEN, base_url="https://api.replicate.test", transport=transport) as c:
        assert c.run("acme/painter", {"prompt": "x"}, on_progress=seen.append) == "ok"
    assert [p.status for p in seen] == [
        PredictionStatus.STARTING,
        PredictionStatus.PROCESSING,
        PredictionStatus.SUCCEEDED,
    ]
    assert seen[1].progress == PredictionProgress(0.5, 2, 4)
    router.assert_all_called()


@pytest.mark.anyio
async def test_an_emulated_image_model_ends_at_its_full_bar(replicate_emulator: EmulatorServer):
    """Over real HTTP: the emulator's image model prints a bar; the last state carries it full."""
    seen: list[Prediction] = []
    async with AsyncClient(
        api_token=replicate_emulator.token, base_url=replicate_emulator.base_url
    ) as client:
        output = await client.run(
            "emulator/image",
            {"prompt": "a fox", "num_outputs": 2},
            wait=False,
            on_progress=seen.append,
        )
    assert len(output) == 2
    assert seen[0].status is PredictionStatus.STARTING
    assert seen[-1].status is PredictionStatus.SUCCEEDED
    assert seen[-1].progress == PredictionProgress(1.0, 2, 2)


def test_calling_the_sync_client_from_on_progress_is_logged_not_fatal(caplog):
    """A sync on_progress that calls its own Client (which would wait for itself) gets the
    RuntimeError; it is logged and the run still returns its output."""
    router = respx.Router(base_url="https://api.replicate.test", assert_all_called=True)
    router.post(CREATE).mock(return_value=reply("succeeded", 201, output="ok"))
    transport = httpx.MockTransport(router.handler)
    with Client(api_token=TOKEN, base_url="https://api.replicate.test", transport=transport) as c:

        def looks_again(p: Prediction) -> None:
            c.predictions.get(p.id)

        with caplog.at_level(logging.WARNING, logger="replicate_async"):
            assert c.run("acme/painter", {"prompt": "x"}, on_progress=looks_again) == "ok"
    (record,) = [r for r in caplog.records if "on_progress raised" in r.getMessage()]
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
