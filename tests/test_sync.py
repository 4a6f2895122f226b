# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The blocking Client: one portal thread, plain calls, sync file outputs, clear misuse errors."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
import threading

import anyio
import anyio.to_thread
import httpx
import pytest
import respx

from fixtures.fileserver import FileServer, Reply
from replicate_async._client import AsyncClient
from replicate_async._file_output import FileOutput
from replicate_async._portal import _Call, _Pump
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._sync import Client, SyncFileOutput, SyncPredictions
from replicate_async.exceptions import (
    AuthenticationError,
    ClientClosedError,
    NotFoundError,
    PredictionFailed,
    TransportError,
)

API = "https://api.replicate.test"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PORTAL_THREAD = "replicate-async-portal"


def _portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == PORTAL_THREAD]


def _prediction(pid: str, status: str, output=None) -> dict:
    return {
        "id": pid,
        "model": "owner/name",
        "version": "hidden",
        "status": status,
        "input": {},
        "output": output,
        "logs": "",
        "error": None,
        "created_at": "2024-10-04T18:07:33.396Z",
        "urls": {
            "get": f"{API}/v1/predictions/{pid}",
            "cancel": f"{API}/v1/predictions/{pid}/cancel",
        },
    }


@pytest.fixture
def client(replicate_emulator):
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        yield c


@pytest.fixture
def router():
    return respx.Router(base_url=API, assert_all_called=False)


@pytest.fixture
def mocked(router):
    with Client(
        api_token="r8_test", base_url=API, transport=httpx.MockTransport(router.handler)
    ) as c:
        yield c


# -- the whole round trip over loopback -------------------------------------------------------


def test_run_returns_sync_file_outputs(client):
    """run() turns file URLs in the output into SyncFileOutput objects."""
    out = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 2})
    assert len(out) == 2
    assert all(isinstance(item, SyncFileOutput) for item in out)
    assert out[0].name == "out-0.png"


def test_file_output_read_is_byte_exact(client):
    """SyncFileOutput.read() returns exactly the bytes the file host serves."""
    (out,) = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    expected = httpx.get(out.url).content
    assert out.read() == expected
    assert expected.startswith(PNG_MAGIC)
    assert out.content_type == "image/png"


def test_file_output_save_is_byte_exact(client, tmp_path):
    """SyncFileOutput.save() writes exactly the served bytes, under its name in a folder."""
    (out,) = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    saved = out.save(tmp_path)
    assert saved == tmp_path / "out-0.png"
    assert saved.read_bytes() == httpx.get(out.url).content


def test_file_output_iter_bytes(client):
    """SyncFileOutput.iter_bytes() yields chunks that join to the served bytes."""
    (out,) = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    assert b"".join(out.iter_bytes()) == httpx.get(out.url).content


def test_downloads_carry_no_authorization(client, replicate_emulator, tmp_path):
    """The file host never sees an Authorization header (emulator introspection)."""
    outs = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 2})
    outs[0].read()
    outs[1].save(tmp_path)
    stats = replicate_emulator.stats()
    assert stats["file_requests"] == 2
    assert stats["file_requests_with_authorization"] == 0


def test_use_file_output_false_returns_urls(client):
    """run(use_file_output=False) returns plain URL strings."""
    out = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1}, use_file_output=False)
    assert isinstance(out[0], str)
    assert out[0].startswith("http://127.0.0.1")


def test_text_output_is_untouched(client):
    """A text output stays a string."""
    assert client.run("emulator/echo", {"prompt": "hello"}) == "hello"


def test_run_raises_prediction_failed(client):
    """A failing model raises PredictionFailed from the blocking call."""
    with pytest.raises(PredictionFailed):
        client.run("emulator/fail", {"prompt": "x"})


def test_predictions_create_and_wait(client):
    """predictions.create then predictions.wait give a terminal prediction."""
    created = client.predictions.create("emulator/echo", {"prompt": "hi"}, wait=False)
    done = client.predictions.wait(created)
    assert done.id == created.id
    assert done.status.is_terminal
    assert done.output == "hi"


def test_predictions_get(client):
    """predictions.get fetches by id."""
    created = client.predictions.create("emulator/echo", {"prompt": "hi"}, wait=False)
    assert client.predictions.get(created.id).id == created.id


def test_predictions_cancel(client, replicate_emulator):
    """predictions.cancel sends the cancel and returns the prediction."""
    created = client.predictions.create("emulator/slow", {"prompt": "x"}, wait=False)
    canceled = client.predictions.cancel(created.id)
    assert canceled.id == created.id
    assert replicate_emulator.stats()["cancels"] == 1


def test_errors_propagate(client):
    """An API error raises its class in the calling thread."""
    with pytest.raises(NotFoundError):
        client.predictions.get("doesnotexist0000000000000")


def test_predictions_list(client):
    """predictions.list() is a plain iterator over the account's predictions."""
    ids = {client.predictions.create("emulator/echo", {"prompt": str(i)}).id for i in range(3)}
    assert {p.id for p in client.predictions.list()} == ids


# -- where it may run ---------------------------------------------------------------------------
# (Inside a running event loop, as in a notebook: tests/test_sync_in_running_loop.py.)


def test_works_from_a_plain_script(replicate_emulator, tmp_path):
    """A script (its own process, no event loop) runs a model and saves its file output."""
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from replicate_async._sync import Client

            with Client() as client:
                (out,) = client.run("emulator/image", {"prompt": "x", "num_outputs": 1})
                print(out.save(sys.argv[1]))
            """
        )
    )
    env = {
        "REPLICATE_API_TOKEN": replicate_emulator.token,
        "REPLICATE_BASE_URL": replicate_emulator.base_url,
        "PATH": "",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith(("COVERAGE", "PYTHON"))})
    target = tmp_path / "image.png"
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target)
    assert target.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.anyio
async def test_works_from_a_worker_thread_while_a_loop_runs(replicate_emulator):
    """From a worker thread, with an event loop running in the main thread, Client works."""

    def work():
        with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
            return c.run("emulator/echo", {"prompt": "from a thread"})

    assert await anyio.to_thread.run_sync(work) == "from a thread"


# -- lifecycle ------------------------------------------------------------------------------------


def test_one_portal_thread_per_client_stopped_on_close(replicate_emulator):
    """A Client runs one portal thread for its life and stops it on close."""
    before = len(_portal_threads())
    c = Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url)
    c.run("emulator/echo", {"prompt": "1"})
    c.run("emulator/echo", {"prompt": "2"})
    assert len(_portal_threads()) == before + 1
    c.close()
    assert len(_portal_threads()) == before


def test_closing_twice_is_fine(replicate_emulator):
    """close() twice, or after the with block, does nothing more."""
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        pass
    c.close()
    assert repr(c) == "<Client closed>"


def test_use_after_close_raises(replicate_emulator):
    """A call on a closed Client raises ClientClosedError, which is also a RuntimeError."""
    c = Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url)
    c.close()
    with pytest.raises(ClientClosedError, match="Client is closed") as info:
        c.predictions.get("x")
    assert isinstance(info.value, RuntimeError)


def test_file_outputs_of_a_closed_client_raise(replicate_emulator, tmp_path):
    """A SyncFileOutput read or saved after its Client closed raises ClientClosedError."""
    c = Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url)
    (out,) = c.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    c.close()
    files = replicate_emulator.stats()["file_requests"]
    for call in (out.read, lambda: out.save(tmp_path), lambda: list(out.iter_bytes())):
        with pytest.raises(ClientClosedError):
            call()
    assert replicate_emulator.stats()["file_requests"] == files
    assert list(tmp_path.iterdir()) == []


def test_entering_a_closed_client_raises(replicate_emulator):
    """`with` on a closed Client raises."""
    c = Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url)
    c.close()
    with pytest.raises(RuntimeError, match="Client is closed"), c:
        pass


def test_constructor_errors_stop_the_portal(monkeypatch):
    """A missing token raises AuthenticationError and leaves no portal thread behind."""
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    before = len(_portal_threads())
    with pytest.raises(AuthenticationError, match="REPLICATE_API_TOKEN"):
        Client()
    assert len(_portal_threads()) == before


def test_repr(mocked):
    """The reprs say what they are without secrets."""
    assert repr(mocked) == "<Client open>"
    assert repr(mocked.predictions) == "<SyncPredictions of <Client open>>"
    assert "r8_test" not in repr(mocked)


# -- lazy iteration --------------------------------------------------------------------------------


def _paged(router, pages_seen: list[str], *, second=None):
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        pages_seen.append(cursor or "first")
        if cursor is None:
            return httpx.Response(
                200,
                json={
                    "results": [_prediction("p1", "succeeded"), _prediction("p2", "succeeded")],
                    "next": f"{API}/v1/predictions?cursor=two",
                    "previous": None,
                },
            )
        if second is not None:
            return second
        return httpx.Response(
            200, json={"results": [_prediction("p3", "succeeded")], "next": None, "previous": None}
        )

    router.get("/v1/predictions").mock(side_effect=handler)


def test_list_fetches_pages_lazily(router, mocked):
    """The next page is requested only when the caller asks past the current one."""
    pages: list[str] = []
    _paged(router, pages)
    listed = mocked.predictions.list()
    assert pages == []
    it = iter(listed)
    assert pages == []
    assert next(it).id == "p1"
    assert next(it).id == "p2"
    assert pages == ["first"]
    assert next(it).id == "p3"
    assert pages == ["first", "two"]
    with pytest.raises(StopIteration):
        next(it)


def test_list_errors_reach_the_caller(router, mocked):
    """An error on a later page raises in the iterating thread, after the earlier items."""
    pages: list[str] = []
    _paged(router, pages, second=httpx.Response(404, json={"detail": "gone", "status": 404}))
    seen = []
    with pytest.raises(NotFoundError):
        seen.extend(p.id for p in mocked.predictions.list())
    assert pages == ["first", "two"]


def test_abandoned_iterators_do_not_block_close(router):
    """close() returns while an iterator is still suspended half-way."""
    _paged(router, [])
    c = Client(api_token="r8_test", base_url=API, transport=httpx.MockTransport(router.handler))
    it = iter(c.predictions.list())
    next(it)
    c.close()
    with pytest.raises(RuntimeError, match="closed"):
        next(it)


def test_breaking_out_of_a_loop_releases_the_iterator(router, mocked):
    """Leaving a for loop early closes the portal-side iterator."""
    _paged(router, [])
    it = iter(mocked.predictions.list())
    for _ in it:
        break
    it.close()  # type: ignore[attr-defined]  # a generator
    assert mocked._open_iterators == set()


def test_iterators_without_aclose_work(mocked):
    """Any async iterator can be driven, not only async generators."""

    class Countdown:
        def __init__(self) -> None:
            self.n = 3

        def __aiter__(self):
            return self

        async def __anext__(self) -> int:
            if self.n == 0:
                raise StopAsyncIteration
            self.n -= 1
            return self.n

    assert list(mocked._iterate(Countdown)) == [2, 1, 0]


# -- Ctrl-C -------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill (POSIX)")
def test_ctrl_c_cancels_the_remote_prediction(router, mocked):
    """KeyboardInterrupt during run() cancels the call in the portal, whose remote cancel runs first."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    interrupted = threading.Event()

    def poll(request: httpx.Request) -> httpx.Response:
        if not interrupted.is_set():
            interrupted.set()
            signal.pthread_kill(main, signal.SIGINT)  # as if the user pressed Ctrl-C
        return httpx.Response(200, json=_prediction("p1", "processing"))

    router.post("/v1/models/owner/name/predictions").respond(
        201, json=_prediction("p1", "starting")
    )
    router.get("/v1/predictions/p1").mock(side_effect=poll)
    cancel = router.post("/v1/predictions/p1/cancel").respond(
        200, json=_prediction("p1", "canceled")
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            mocked.run("owner/name", {"prompt": "x"}, wait=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert cancel.call_count == 1


def test_a_call_interrupted_before_it_started_cancels_itself(mocked):
    """A call whose interrupt came before its task started is cancelled as it starts."""
    reached = []

    async def never() -> None:
        reached.append(True)
        await anyio.sleep_forever()

    call = _Call(never)
    call._cancel_requested.set()
    with pytest.raises(RuntimeError, match="interrupted"):
        mocked._portal.call(call.run)
    assert call.finished.is_set()


def test_an_interrupt_after_the_portal_stopped_is_harmless():
    """Interrupting a call whose portal is gone does not raise a second error."""
    c = Client(api_token="r8_test", base_url=API)
    portal = c._portal
    c.close()
    call = _Call(anyio.sleep, 0)
    call.finished.set()
    call.interrupt(portal)


def test_cancelling_a_call_that_has_not_started_only_flags_it():
    """Before its task starts, a call has no scope to cancel; the flag alone does the work."""
    call = _Call(anyio.sleep, 0)
    call._cancel_scope()
    assert not call.finished.is_set()


def test_asking_a_stopped_pump_ends_the_iteration(mocked):
    """A pump whose task is gone answers 'done' instead of leaking a stream error."""
    pump = _Pump(mocked._async.predictions.list)
    future, _ = mocked._portal.start_task(pump.run)
    future.cancel()
    assert pump.finished.wait(10)
    assert mocked._call(pump.next) == (True, None)


# -- sync file outputs ---------------------------------------------------------------------------


@pytest.fixture
def fileserver():
    srv = FileServer()
    srv.start()
    yield srv
    srv.stop()


def test_save_leaves_nothing_when_the_download_breaks(client, fileserver, tmp_path):
    """A download cut off mid-body raises TransportError and leaves the folder empty."""
    url = fileserver.add("/out.bin", Reply(b"x" * 100_000, drop_after=1000))
    out = SyncFileOutput(FileOutput(url, client._async.downloader()), client)
    with pytest.raises(TransportError):
        out.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sync_file_output_surface(mocked):
    """str is the URL; repr shows it; equality and hash follow the URL."""
    d = mocked._async.downloader()
    a = SyncFileOutput(FileOutput("data:text/plain,hi", d), mocked)
    b = SyncFileOutput(FileOutput("data:text/plain,hi", d), mocked)
    assert str(a) == "data:text/plain,hi"
    assert a.url == "data:text/plain,hi"
    assert repr(a) == "SyncFileOutput(url='data:text/plain,hi')"
    assert a == b
    assert hash(a) == hash(b)
    assert a != "data:text/plain,hi"
    assert a.content_type == "text/plain"
    assert a.name == "output.txt"
    assert a.read() == b"hi"


# -- kept in step with the async client ----------------------------------------------------------


def _params(func) -> list[tuple]:
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(func).parameters.values()
    ]


def test_constructor_matches_async_client():
    """Client takes exactly AsyncClient's parameters, with the same defaults."""
    assert _params(Client.__init__) == _params(AsyncClient.__init__)


@pytest.mark.parametrize("name", ["create", "get", "cancel", "wait", "list"])
def test_prediction_methods_match(name):
    """Each SyncPredictions method has its async twin's parameters and docstring."""
    sync, async_ = getattr(SyncPredictions, name), getattr(AsyncPredictions, name)
    assert _params(sync) == _params(async_)
    assert sync.__doc__ == async_.__doc__


def test_run_matches():
    """Client.run has AsyncClient.run's parameters and docstring."""
    assert _params(Client.run) == _params(AsyncClient.run)
    assert Client.run.__doc__ == AsyncClient.run.__doc__
