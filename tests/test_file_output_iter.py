# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""File outputs iterate in chunks, as replicate 1.x's do: `async for` on FileOutput, `for` on SyncFileOutput."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterable, Iterable
from contextlib import aclosing

import httpx
import pytest
import respx

from _client_support import API, TOKEN, prediction
from fixtures.fileserver import Reply
from replicate_async import Client, ClientClosedError, FileOutput, SyncFileOutput

PAYLOAD = os.urandom(300_000)


@pytest.mark.anyio
async def test_async_for_yields_the_exact_bytes(file_server, downloader):
    """`async for chunk in file_output` joins to the served bytes, as aiter_bytes does."""
    url = file_server.add("/out-0.bin", Reply(PAYLOAD))
    out = FileOutput(url, downloader)
    chunks = [chunk async for chunk in out]
    assert all(isinstance(chunk, bytes) and chunk for chunk in chunks)
    assert b"".join(chunks) == PAYLOAD
    assert b"".join([chunk async for chunk in out.aiter_bytes()]) == PAYLOAD


@pytest.mark.anyio
async def test_each_loop_downloads_again(file_server, downloader):
    """Two loops over one file output are two downloads, each complete."""
    url = file_server.add("/twice.bin", Reply(b"abc" * 1000))
    out = FileOutput(url, downloader)
    first = b"".join([chunk async for chunk in out])
    second = b"".join([chunk async for chunk in out])
    assert first == second == b"abc" * 1000
    assert len(file_server.requests_to("/twice.bin")) == 2


@pytest.mark.anyio
async def test_iterating_learns_the_content_type(file_server, downloader):
    """Iterating reads the host's Content-Type, as read() does."""
    url = file_server.add("/out-0.png", Reply(b"\x89PNG", content_type="image/png"))
    out = FileOutput(url, downloader)
    assert [chunk async for chunk in out] == [b"\x89PNG"]
    assert out.content_type == "image/png"


@pytest.mark.anyio
async def test_a_data_uri_iterates_without_a_request(downloader):
    """A data: URI output iterates to its decoded bytes, locally."""
    out = FileOutput("data:text/plain;base64,aGVsbG8gd29ybGQ=", downloader)
    assert b"".join([chunk async for chunk in out]) == b"hello world"


@pytest.mark.anyio
async def test_stopping_early_as_documented_is_clean(file_server, downloader):
    """Leaving `async with aclosing(out.aiter_bytes())` early closes the download at once."""
    url = file_server.add("/big.bin", Reply(PAYLOAD))
    out = FileOutput(url, downloader)
    async with aclosing(out.aiter_bytes()) as chunks:
        async for chunk in chunks:
            assert chunk == PAYLOAD[: len(chunk)]
            break
    assert chunks.ag_frame is None  # finished, nothing left for the garbage collector
    assert await out.read() == PAYLOAD  # the pool still serves


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_plain_break_is_cleaned_up_by_asyncio(file_server, downloader):
    """On asyncio a plain `break` is fine too: the loop finalises the abandoned generator."""
    url = file_server.add("/big.bin", Reply(PAYLOAD))
    out = FileOutput(url, downloader)
    async for _chunk in out:
        break
    gc.collect()
    assert await out.read() == PAYLOAD


def test_file_outputs_are_iterable_only_their_own_way():
    """FileOutput is async-iterable and not iterable; SyncFileOutput is iterable."""
    assert issubclass(FileOutput, AsyncIterable)
    assert not issubclass(FileOutput, Iterable)
    assert issubclass(SyncFileOutput, Iterable)
    assert not issubclass(SyncFileOutput, AsyncIterable)


# -- the blocking twin ----------------------------------------------------------------------------


@pytest.fixture
def client(replicate_emulator):
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        yield c


def test_for_yields_the_exact_bytes(client):
    """`for chunk in sync_file_output` joins to the served bytes, as iter_bytes does."""
    (out,) = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    served = httpx.get(out.url).content
    chunks = list(out)
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == served
    assert b"".join(out.iter_bytes()) == served
    assert b"".join(out) == served  # and again: a new download


def test_for_stops_early_and_the_client_goes_on(client):
    """Leaving a `for` loop early stops that download; the client's next calls work."""
    first, second = client.run("emulator/image", {"prompt": "a cat", "num_outputs": 2})
    for _chunk in first:
        break
    assert b"".join(second) == httpx.get(second.url).content


def test_iterating_after_close_raises(replicate_emulator):
    """Iterating a SyncFileOutput of a closed Client raises ClientClosedError."""
    c = Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url)
    (out,) = c.run("emulator/image", {"prompt": "a cat", "num_outputs": 1})
    c.close()
    with pytest.raises(ClientClosedError):
        list(out)


def test_an_iterable_output_passed_back_goes_as_its_url():
    """A file output given as an input is sent as its URL, not walked as an iterable."""
    router = respx.Router(base_url=API, assert_all_called=True)
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    router.post("/v1/models/acme/painter/predictions").mock(
        side_effect=[
            httpx.Response(201, json=prediction(status="succeeded", output=[url])),
            httpx.Response(201, json=prediction(status="succeeded", output="done")),
        ]
    )
    transport = httpx.MockTransport(router.handler)
    with Client(api_token=TOKEN, base_url=API, transport=transport) as c:
        (image,) = c.run("acme/painter", {"prompt": "a cat"})
        assert isinstance(image, SyncFileOutput)
        assert c.run("acme/painter", {"image": image, "images": [image]}) == "done"
    sent = json.loads(router.calls.last.request.content)["input"]
    assert sent == {"image": url, "images": [url]}
