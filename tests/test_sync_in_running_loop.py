# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The blocking Client where an event loop already runs in the calling thread, as in a notebook.

A Jupyter cell runs inside the kernel's asyncio loop, on the main thread. The tests here are
``pytest.mark.anyio`` coroutines (asyncio and trio) that make plain blocking calls in the
middle of their running loop, as a cell does, and get the output. A call from the client's own
loop thread is the one refused: it would wait for itself.
"""

from __future__ import annotations

import signal
import threading

import anyio
import httpx
import pytest
import respx

import replicate_async
from replicate_async._sync import Client, SyncFileOutput

API = "https://api.replicate.test"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client(replicate_emulator):
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        yield c


# -- plain calls inside a running loop ------------------------------------------------------------


@pytest.mark.anyio
async def test_run_inside_a_running_loop_returns_the_output(replicate_emulator):
    """Made and called inside a running loop (a notebook cell), Client.run returns the output."""
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        assert c.run("emulator/echo", {"prompt": "in a notebook"}) == "in a notebook"


@pytest.mark.anyio
async def test_a_loop_blocked_by_a_call_runs_on_after_it(client):
    """The call blocks the caller's loop: its other tasks run once the output is back."""
    ticks = []

    async def ticker():
        ticks.append("ticker")

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        out = client.run("emulator/echo", {"prompt": "first"})
        ticks.append(out)
    assert ticks == ["first", "ticker"]


@pytest.mark.anyio
async def test_file_output_inside_a_running_loop_saves(client, tmp_path):
    """A file output saved inside a running loop has the file's bytes."""
    (out,) = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    assert isinstance(out, SyncFileOutput)
    out.save(tmp_path / "cat.png")
    assert (tmp_path / "cat.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.anyio
async def test_predictions_list_inside_a_running_loop(client):
    """predictions.list() iterates lazily inside a running loop."""
    ids = {client.predictions.create("emulator/echo", {"prompt": str(i)}).id for i in range(3)}
    assert ids <= {p.id for p in client.predictions.list()}


@pytest.mark.anyio
async def test_stream_inside_a_running_loop(client):
    """A token stream is read event by event inside a running loop."""
    with client.stream("emulator/tokens", input={"prompt": "one two three"}) as events:
        chunks = [e.data for e in events if e.event == "output"]
        pid = events.prediction.id
    assert chunks
    assert chunks == client.predictions.wait(pid).output


@pytest.mark.anyio
async def test_module_run_inside_a_running_loop(replicate_emulator, monkeypatch):
    """replicate_async.run works inside a running loop, as the official replicate.run does."""
    monkeypatch.setenv("REPLICATE_API_TOKEN", replicate_emulator.token)
    monkeypatch.setenv("REPLICATE_BASE_URL", replicate_emulator.base_url)
    replicate_async._close_default_sync()  # one made by another test, for another server
    try:
        assert replicate_async.run("emulator/echo", {"prompt": "one-liner"}) == "one-liner"
    finally:
        replicate_async._close_default_sync()


# -- Ctrl-C ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill (POSIX)")
async def test_ctrl_c_inside_a_running_loop_cancels_the_remote_prediction():
    """Ctrl-C in a notebook (KeyboardInterrupt in the loop's thread) still cancels remotely."""
    router = respx.Router(base_url=API, assert_all_called=True)
    caller = threading.get_ident()
    interrupted = threading.Event()

    def poll(request: httpx.Request) -> httpx.Response:
        if not interrupted.is_set():
            interrupted.set()
            signal.pthread_kill(caller, signal.SIGINT)  # as the kernel does on "interrupt"
        return httpx.Response(200, json=_prediction("p1", "processing"))

    router.post("/v1/models/owner/name/predictions").respond(
        201, json=_prediction("p1", "starting")
    )
    router.get("/v1/predictions/p1").mock(side_effect=poll)
    cancel = router.post("/v1/predictions/p1/cancel").respond(
        200, json=_prediction("p1", "canceled")
    )
    # A kernel runs a cell with Python's own handler; asyncio.run and trio put theirs in.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with (
            Client(
                api_token="r8_test", base_url=API, transport=httpx.MockTransport(router.handler)
            ) as c,
            pytest.raises(KeyboardInterrupt),
        ):
            c.run("owner/name", {"prompt": "x"}, wait=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert cancel.call_count == 1


def _prediction(pid, status):
    return {
        "id": pid,
        "model": "owner/name",
        "version": "hidden",
        "status": status,
        "input": {},
        "output": None,
        "logs": "",
        "error": None,
        "created_at": "2024-10-04T18:07:33.396Z",
        "urls": {
            "get": f"{API}/v1/predictions/{pid}",
            "cancel": f"{API}/v1/predictions/{pid}/cancel",
        },
    }


# -- the one refused thread: the client's own -------------------------------------------------


def _call_run(c):
    return c.run("emulator/echo", {"prompt": "nested"})


def _call_list(c):
    return next(c.predictions.list())


def _call_stream(c):
    return c.stream("emulator/tokens", input={"prompt": "x"})


def _call_close(c):
    c.close()


@pytest.mark.timeout(30)  # the hang this refuses would last until the suite's timeout
@pytest.mark.parametrize("use", [_call_run, _call_list, _call_stream, _call_close])
def test_a_call_from_the_clients_own_loop_thread_raises(client, use):
    """From an on_progress callback (the client's loop thread) a call raises instead of hanging."""
    errors = []

    def on_progress(event):
        if not errors:
            try:
                use(client)
            except RuntimeError as exc:
                errors.append(exc)
            else:
                errors.append(AssertionError("the call did not raise"))

    outputs = client.run_many([("emulator/echo", {"prompt": "a"})], on_progress=on_progress)
    assert outputs == ["a"]
    (error,) = errors
    assert isinstance(error, RuntimeError)
    assert "own event-loop thread" in str(error)
    assert "on_progress" in str(error)
    # Refused before it touched anything: the client still works, and is still open.
    assert client.run("emulator/echo", {"prompt": "after"}) == "after"
