# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The official Python client (PyPI `replicate==1.0.7`), unchanged, against the emulator.

It is driven through its public API only (`Client(api_token=..., base_url=...)`; extra keyword
arguments go to its httpx client, here a transport trusting the loopback test CA) over real
HTTPS on loopback. Its known quirks are tested as they are, not papered over: in blocking mode it
treats any status but `starting` as done, so a `Prefer: wait` that ends `processing` hands back
whatever output exists at that moment.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio

replicate = pytest.importorskip("replicate")

from replicate.exceptions import ReplicateError  # noqa: E402
from replicate.helpers import FileOutput  # noqa: E402
from replicate.pagination import paginate  # noqa: E402
from replicate.stream import ServerSentEvent  # noqa: E402

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Iterator

    from replicate_async.emulator import EmulatorServer

pytestmark = pytest.mark.peers

#: Poll every 10 ms instead of the official default of 500 ms (a public attribute).
POLL_INTERVAL = 0.01
LLAMA = "meta/meta-llama-3-8b-instruct"
OUTPUT, DONE = ServerSentEvent.EventType.OUTPUT, ServerSentEvent.EventType.DONE


@pytest.fixture
def client(emulator: EmulatorServer, trust: ssl.SSLContext) -> Iterator[Any]:
    """A blocking official client for the emulator (its connections closed afterwards)."""
    transport = httpx.HTTPTransport(verify=trust)
    official = replicate.Client(
        api_token=emulator.token, base_url=emulator.base_url, transport=transport
    )
    official.poll_interval = POLL_INTERVAL
    yield official
    transport.close()


@pytest_asyncio.fixture
async def aclient(emulator: EmulatorServer, trust: ssl.SSLContext) -> AsyncIterator[Any]:
    """An official client for its async API (its connections closed afterwards)."""
    transport = httpx.AsyncHTTPTransport(verify=trust)
    official = replicate.Client(
        api_token=emulator.token, base_url=emulator.base_url, transport=transport
    )
    official.poll_interval = POLL_INTERVAL
    yield official
    await transport.aclose()


@pytest.fixture
def plain(trust: ssl.SSLContext) -> Iterator[httpx.Client]:
    """An httpx client without any token (to fetch what the emulator serves)."""
    with httpx.Client(verify=trust) as http:
        yield http


def _reply(prompt: str) -> str:
    """What the emulator's token models answer to `prompt`."""
    return f"Emulated reply: {prompt}"


# -- run --------------------------------------------------------------------------------------


def test_run_official_model_returns_file_outputs(client: Any, plain: httpx.Client) -> None:
    """`run` on an official image model gives FileOutputs reading the bytes the emulator serves."""
    outputs = client.run("black-forest-labs/flux-schnell", input={"prompt": "a corgi"})
    assert [isinstance(o, FileOutput) for o in outputs] == [True]
    served = plain.get(outputs[0].url)
    assert (outputs[0].read(), served.headers["content-type"]) == (served.content, "image/png")


def test_run_version_ref_returns_the_echo(client: Any, emulator: EmulatorServer) -> None:
    """`run` with an `owner/name:version` reference runs that version."""
    version = emulator.state.models["emulator/echo-versioned"].version_id
    assert client.run(f"emulator/echo-versioned:{version}", input={"prompt": "hi"}) == "hi"


def test_run_without_file_output_returns_https_urls(client: Any) -> None:
    """`use_file_output=False` leaves the output as the emulator's https URL."""
    output = client.run("peers/picture", input={"prompt": "x"}, use_file_output=False)
    assert output.startswith("https://127.0.0.1:")


def test_run_token_model_joins_to_the_reply(client: Any) -> None:
    """`run` on a language model returns its chunks, joining to the whole reply."""
    output = client.run(LLAMA, input={"prompt": "write a haiku"})
    assert "".join(output) == _reply("write a haiku")


def test_run_returns_partial_output_when_wait_ends_processing(
    client: Any, emulator: EmulatorServer
) -> None:
    """replicate 1.0.7 takes a `processing` wait answer as done and returns its partial output.

    This is the official client's own bug (`run.py`: `status != "starting"` means done), shown
    here with the emulator answering the wait's end with the actual state.
    """
    emulator.configure(wait_timeout_status="actual")
    output = client.run("peers/slow", input={"prompt": "a b c"}, wait=1)
    running = client.predictions.list().results[0]
    assert (output, running.status) == ([], "processing")


def test_run_failure_raises_model_error(client: Any) -> None:
    """A failing model raises the client's ModelError carrying the prediction's error."""
    with pytest.raises(replicate.exceptions.ModelError) as caught:
        client.run("emulator/fail", input={"prompt": "x"})
    assert caught.value.prediction.status == "failed"


@pytest.mark.asyncio
async def test_async_run_file_outputs_read_the_served_bytes(
    aclient: Any, plain: httpx.Client
) -> None:
    """`async_run` gives FileOutputs whose `aread()` is byte-identical to the served file."""
    outputs = await aclient.async_run("black-forest-labs/flux-schnell", input={"prompt": "x"})
    assert await outputs[0].aread() == plain.get(outputs[0].url).content


# -- predictions ------------------------------------------------------------------------------


def test_create_then_wait_succeeds(client: Any) -> None:
    """`predictions.create` answers `starting`; `.wait()` polls to `succeeded` with the output."""
    prediction = client.predictions.create(model="peers/queued", input={"prompt": "hello"})
    first = prediction.status
    prediction.wait()
    assert (first, prediction.status, prediction.output) == ("starting", "succeeded", "hello")


def test_create_by_version_then_wait(client: Any, emulator: EmulatorServer) -> None:
    """`predictions.create(version=...)` with a 64-hex id runs that version to the end."""
    version = emulator.state.models["emulator/echo-versioned"].version_id
    prediction = client.predictions.create(version=version, input={"prompt": "v"})
    prediction.wait()
    assert (prediction.version, prediction.output) == (version, "v")


def test_models_create_with_wait_answers_processing_with_output(client: Any) -> None:
    """`models.predictions.create(wait=True)` sends `Prefer: wait`: `processing`, every output."""
    prediction = client.models.predictions.create(model=LLAMA, input={"prompt": "hi"}, wait=True)
    assert (prediction.status, "".join(prediction.output)) == ("processing", _reply("hi"))


def test_predictions_create_by_model_drops_wait(client: Any, emulator: EmulatorServer) -> None:
    """replicate 1.0.7's `predictions.create(model=..., wait=True)` sends no `Prefer` header.

    Its own quirk: it pops `wait` before delegating to the models route, so the answer is the
    asynchronous `starting` one.
    """
    prediction = client.predictions.create(model="peers/queued", input={"prompt": "x"}, wait=True)
    assert (prediction.status, prediction.output) == ("starting", None)


@pytest.mark.asyncio
async def test_async_create_then_wait_succeeds(aclient: Any) -> None:
    """`async_create` + `async_wait` end `succeeded` with the output."""
    prediction = await aclient.predictions.async_create(
        model="peers/instant", input={"prompt": "async"}
    )
    await prediction.async_wait()
    assert (prediction.status, prediction.output) == ("succeeded", "async")


def test_cancel_running_prediction(client: Any) -> None:
    """`predictions.cancel` answers the prediction `canceled`, and it stays so."""
    prediction = client.predictions.create(model="peers/slow", input={"prompt": "x"})
    canceled = client.predictions.cancel(prediction.id)
    later = client.predictions.get(prediction.id)
    assert (canceled.status, later.status) == ("canceled", "canceled")


def test_prediction_cancel_method_reloads_status(client: Any) -> None:
    """`Prediction.cancel()` updates the object it is called on."""
    prediction = client.predictions.create(model="peers/slow", input={"prompt": "x"})
    prediction.cancel()
    assert prediction.status == "canceled"


@pytest.mark.asyncio
async def test_async_cancel(aclient: Any) -> None:
    """`async_cancel` answers `canceled`."""
    prediction = await aclient.predictions.async_create(model="peers/slow", input={"prompt": "x"})
    canceled = await aclient.predictions.async_cancel(prediction.id)
    assert canceled.status == "canceled"


def test_get_unknown_prediction_raises_404(client: Any) -> None:
    """An unknown id raises the client's ReplicateError with status 404."""
    with pytest.raises(ReplicateError) as caught:
        client.predictions.get("doesnotexist0000000000000")
    assert caught.value.status == 404


def test_wrong_token_raises_401(emulator: EmulatorServer, trust: ssl.SSLContext) -> None:
    """A refused token raises ReplicateError 401 with the real title."""
    transport = httpx.HTTPTransport(verify=trust)
    official = replicate.Client(
        api_token="r8_wrong", base_url=emulator.base_url, transport=transport
    )
    with pytest.raises(ReplicateError) as caught:
        official.predictions.list()
    transport.close()
    assert (caught.value.status, caught.value.title) == (401, "Unauthenticated")


def test_invalid_input_raises_422_with_invalid_fields(client: Any) -> None:
    """A missing required input raises ReplicateError 422 from the emulator's validation."""
    with pytest.raises(ReplicateError) as caught:
        client.predictions.create(model="peers/instant", input={})
    assert (caught.value.status, caught.value.title) == (422, "Input validation failed")


def test_wrong_input_type_raises_422_naming_the_field(client: Any) -> None:
    """An input of the wrong type raises ReplicateError 422 whose detail names the field."""
    with pytest.raises(ReplicateError) as caught:
        client.predictions.create(model="peers/instant", input={"prompt": 5})
    assert (caught.value.status, caught.value.detail) == (
        422,
        "- input.prompt: Invalid type. Expected: string, given: integer\n",
    )


def test_too_long_input_raises_422(client: Any) -> None:
    """A string over the schema's `maxLength` raises ReplicateError 422."""
    with pytest.raises(ReplicateError) as caught:
        client.run("peers/short", input={"prompt": "much too long"})
    assert (caught.value.status, caught.value.title) == (422, "Input validation failed")


# -- list -------------------------------------------------------------------------------------

#: More than one page (the real and emulated page size is 100).
MANY = 105


def _create_many(client: Any) -> list[str]:
    """Create MANY zero-latency predictions; their ids, oldest first."""
    return [
        client.predictions.create(model="peers/instant", input={"prompt": str(i)}).id
        for i in range(MANY)
    ]


def test_list_pages_newest_first_with_absolute_next(client: Any, emulator: EmulatorServer) -> None:
    """`predictions.list` gives 100 newest first, then follows `next` (absolute) to the rest."""
    created = _create_many(client)
    first = client.predictions.list()
    second = client.predictions.list(first.next)
    ids = [p.id for p in first.results] + [p.id for p in second.results]
    assert (len(first.results), first.next.startswith(emulator.base_url), second.next) == (
        100,
        True,
        None,
    )
    assert ids == created[::-1]


def test_paginate_walks_every_prediction(client: Any) -> None:
    """`replicate.pagination.paginate` over `predictions.list` yields every prediction once."""
    created = _create_many(client)
    seen = [p.id for page in paginate(client.predictions.list) for p in page]
    assert seen == created[::-1]


@pytest.mark.asyncio
async def test_async_list_follows_next(aclient: Any, client: Any) -> None:
    """`async_list` with the `next` cursor reaches the second page."""
    created = _create_many(client)
    first = await aclient.predictions.async_list()
    second = await aclient.predictions.async_list(first.next)
    assert [p.id for p in second.results] == created[: MANY - 100][::-1]


# -- files ------------------------------------------------------------------------------------


def test_files_create_get_list_delete(client: Any) -> None:
    """`files.create/get/list/delete` round-trip a file; afterwards it 404s."""
    created = client.files.create(io.BytesIO(b"hello"), filename="hello.txt", metadata={"k": "v"})
    got = client.files.get(created.id)
    listed = [f.id for f in client.files.list()]
    deleted = client.files.delete(created.id)
    with pytest.raises(ReplicateError) as caught:
        client.files.get(created.id)
    assert (got.name, got.size, got.metadata, listed, deleted, caught.value.status) == (
        "hello.txt",
        5,
        {"k": "v"},
        [created.id],
        True,
        404,
    )


def test_files_checksums_match_the_content(client: Any) -> None:
    """The uploaded file's sha256 checksum is the content's."""
    import hashlib

    created = client.files.create(io.BytesIO(b"abc"), filename="a.txt")
    assert created.checksums["sha256"] == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.asyncio
async def test_async_files_round_trip(aclient: Any) -> None:
    """The async file calls create, list and delete."""
    created = await aclient.files.async_create(io.BytesIO(b"xyz"), filename="x.bin")
    listed = [f.id for f in await aclient.files.async_list()]
    deleted = await aclient.files.async_delete(created.id)
    assert (listed, deleted) == ([created.id], True)


def test_run_uploads_file_inputs_through_files_api(client: Any, emulator: EmulatorServer) -> None:
    """A file handle in `input` is uploaded first and passed on as its `urls.get`."""
    client.run("peers/instant", input={"prompt": "p", "extra": io.BytesIO(b"data")})
    sent = emulator.call(lambda: next(emulator.state.records()).input["extra"])
    assert sent.startswith(f"{emulator.base_url}/v1/files/")


# -- stream -----------------------------------------------------------------------------------


def test_stream_yields_the_reply_then_done(client: Any) -> None:
    """`stream` on a language model yields output events joining to the reply, then `done`."""
    events = list(client.stream(LLAMA, input={"prompt": "stream me"}))
    text = "".join(str(e) for e in events if e.event == OUTPUT)
    assert (text, events[-1].event) == (_reply("stream me"), DONE)


@pytest.mark.asyncio
async def test_async_stream_yields_the_reply(aclient: Any) -> None:
    """`async_stream` yields the same reply."""
    chunks = [
        str(e)
        async for e in await aclient.async_stream(LLAMA, input={"prompt": "async stream"})
        if e.event == OUTPUT
    ]
    assert "".join(chunks) == _reply("async stream")


def test_stream_refuses_non_streaming_model(client: Any) -> None:
    """A model without `urls.stream` makes the client refuse to stream."""
    with pytest.raises(ReplicateError, match="streaming"):
        list(client.stream("peers/instant", input={"prompt": "x"}))
