# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Hostile lifecycle cases (issue 11, items 7, 12, 13): closed clients, retry noise, 5xx creates."""

from __future__ import annotations

import io
import logging
import socket
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from replicate_async import AsyncClient, Client, ClientClosedError, ServerError, _sansio
from replicate_async.emulator import FaultRule

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer


CREATE_ADVICE = (
    "the prediction may have been created and billed, so the create was not retried: "
    "check client.predictions.list() before creating it again"
)


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


# -- item 13: a create answered 5xx may have made the prediction -------------------------------


@pytest.mark.anyio
async def test_a_create_answered_500_says_the_prediction_may_exist(
    replicate_emulator: EmulatorServer,
) -> None:
    """A create accepted then answered 500 raises a ServerError saying to check predictions.list()."""
    replicate_emulator.set_faults(FaultRule(action="accept_then_error", route="create", status=500))
    async with _client(replicate_emulator) as client:
        with pytest.raises(ServerError) as info:
            await client.run("emulator/echo", {"prompt": "x"})
    message = str(info.value)
    assert message.startswith("HTTP 500 on POST /v1/models/emulator/echo/predictions")
    assert "may have been created" in message
    assert "client.predictions.list()" in message
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_a_get_answered_500_does_not_talk_of_creating(
    replicate_emulator: EmulatorServer,
) -> None:
    """A GET answered 500 (after its retries) raises a ServerError without the create advice."""
    replicate_emulator.set_faults(FaultRule(action="error", route="get", status=500))
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/echo", {"prompt": "x"}, wait=False)
        with pytest.raises(ServerError) as info:
            await client.predictions.get(created.id)
    message = str(info.value)
    assert message.startswith(f"HTTP 500 on GET /v1/predictions/{created.id}")
    assert "created" not in message
    assert "predictions.list()" not in message


def test_the_create_advice_is_chosen_by_the_pure_decoder() -> None:
    """error_for adds the create advice to a 5xx only when told the reply answers a create."""
    path = "/v1/predictions"
    created = _sansio.error_for(502, {}, b"", method="POST", path=path, create=True)
    fetched = _sansio.error_for(502, {}, b"", method="POST", path=path)
    assert str(created) == f"{fetched}; {CREATE_ADVICE}"
    assert "may have been created" not in str(fetched)


# -- item 12: retries are logged by our logger, and nothing reaches an unconfigured terminal -----


def test_retries_against_an_unreachable_api_print_nothing() -> None:
    """Retries of a refused connection write nothing to stderr when logging is not configured."""
    script = textwrap.dedent(
        """
        import sys
        import anyio
        from replicate_async import AsyncClient, RetryPolicy, TransportError

        async def main(port):
            policy = RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01, wait_jitter=0)
            async with AsyncClient("r8_x", f"http://127.0.0.1:{port}", retry=policy) as client:
                try:
                    await client.predictions.get("abc")
                except TransportError as exc:
                    assert not exc.request_sent, exc
                    print("refused")

        anyio.run(main, int(sys.argv[1]))
        """
    )
    # A bound port nobody listens on: connecting is refused at once, with no race.
    with socket.socket() as unreachable:
        unreachable.bind(("127.0.0.1", 0))
        port = unreachable.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", script, str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "refused\n"
    assert done.stderr == ""


# -- item 7: a closed client refuses calls before any I/O; closing cancels calls in flight ------


def _requests(emulator: EmulatorServer) -> int:
    stats = emulator.stats()
    return sum(sum(codes.values()) for codes in stats["requests"].values()) + stats["file_requests"]


@pytest.mark.anyio
async def test_a_closed_async_client_refuses_every_call_before_any_io(
    replicate_emulator: EmulatorServer,
) -> None:
    """After aclose(), API calls, streams, uploads and its FileOutputs raise ClientClosedError."""
    client = _client(replicate_emulator)
    (image,) = await client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    await client.aclose()
    before = _requests(replicate_emulator)
    calls = {
        "get": lambda: client.predictions.get("abc"),
        "run": lambda: client.run("emulator/echo", {"prompt": "x"}),
        "create": lambda: client.predictions.create("emulator/echo", {"prompt": "x"}),
        "stream": lambda: anext(aiter(client.stream("emulator/tokens", {"prompt": "x"}))),
        "upload": lambda: client.files.create(io.BytesIO(b"data")),
        "list": lambda: anext(aiter(client.predictions.list())),
        "read": image.read,
        "save": lambda: image.save("never-written.png"),
    }
    for name, call in calls.items():
        with pytest.raises(ClientClosedError, match="closed") as info:
            await call()
        assert isinstance(info.value, RuntimeError), name
    assert _requests(replicate_emulator) == before
    await client.aclose()  # closing again is still fine


@pytest.mark.anyio
async def test_a_closed_async_client_opens_no_new_connection_pool(
    replicate_emulator: EmulatorServer,
) -> None:
    """A call after aclose() builds no new aiohttp session or httpx pool, so none can leak."""
    client = _client(replicate_emulator)
    await client.run("emulator/echo", {"prompt": "x"})
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.predictions.get("abc")
    assert client._session.backend.inner is None


@pytest.mark.anyio
async def test_a_closed_client_over_a_users_transport_refuses_its_downloads_too(
    replicate_emulator: EmulatorServer,
) -> None:
    """With transport=, a FileOutput of a closed client raises ClientClosedError, no request."""
    client = _client(replicate_emulator, transport=httpx.AsyncHTTPTransport())
    (image,) = await client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    await client.aclose()
    before = _requests(replicate_emulator)
    with pytest.raises(ClientClosedError, match="closed"):
        await image.read()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.predictions.get("abc")
    assert _requests(replicate_emulator) == before


class _Polling(logging.Handler):
    """Set when the library logs its first poll of a prediction (the call knows its id)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("GET /v1/predictions/"):
            self.seen.set()


def test_closing_the_sync_client_cancels_a_call_in_another_thread(
    replicate_emulator: EmulatorServer,
) -> None:
    """close() while a thread is in run() cancels its prediction and tells it the client closed."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow runs for 30 s
    polling = _Polling()
    library = logging.getLogger("replicate_async")
    level = library.level
    library.addHandler(polling)
    library.setLevel(logging.DEBUG)
    raised: list[BaseException] = []
    client = Client(replicate_emulator.token, replicate_emulator.base_url)

    def run() -> None:
        try:
            client.run("emulator/slow", {"prompt": "x"}, wait=False)
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=run)
    try:
        worker.start()
        assert polling.seen.wait(30)
        client.close()
        worker.join(30)
    finally:
        library.removeHandler(polling)
        library.setLevel(level)
        client.close()
    assert not worker.is_alive()
    assert len(raised) == 1
    assert isinstance(raised[0], ClientClosedError), repr(raised[0])
    assert "closed while" in str(raised[0])
    assert replicate_emulator.stats()["cancels"] == 1
