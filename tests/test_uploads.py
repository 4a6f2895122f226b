# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""File inputs: data URIs, streamed Files API uploads, the upload cache, and errors naming the input."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

import anyio
import httpx
import pytest

from replicate_async import (
    AsyncClient,
    Client,
    ClientError,
    ServerError,
    TransportError,
    ValidationError,
    _uploads,
)
from replicate_async import _uploader as files_module
from replicate_async._uploads import (
    DEFAULT_MAX_DATA_URI_BYTES,
    check_file_encoding,
    is_file_input,
    multipart_envelope,
    open_source,
)
from replicate_async.emulator import FaultRule

pytestmark = pytest.mark.anyio

ECHO = "emulator/echo"


@pytest.fixture
def emulator(replicate_emulator):
    """The emulator, with a helper to make clients for it."""
    return replicate_emulator


def _client(emulator, **kwargs) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


def _uploads_done(emulator) -> int:
    return int(emulator.call(lambda: emulator.state.extensions["files"].uploads))


def _set_max_upload(emulator, size: int) -> None:
    httpx.post(f"{emulator.base_url}/_emulator/files/settings", json={"max_size": size})


def _signed_url(emulator, file_url: str) -> str:
    file_id = urllib.parse.urlsplit(file_url).path.rsplit("/", 1)[-1]
    reply = httpx.get(f"{emulator.base_url}/_emulator/files/{file_id}/download-url")
    return str(reply.json()["url"])


async def _create(client: AsyncClient, **input_):
    return await client.predictions.create(ECHO, {"prompt": "x", **input_}, wait=False)


# -- data URIs ----------------------------------------------------------------------------


async def test_small_input_goes_as_a_data_uri(emulator):
    """Under the default strategy a small bytes input reaches the server as a data URI."""
    async with _client(emulator) as client:
        pred = await _create(client, image=b"\x89PNG small")
    sent = pred.input["image"]
    assert (
        sent
        == "data:application/octet-stream;base64," + base64.b64encode(b"\x89PNG small").decode()
    )
    assert _uploads_done(emulator) == 0


async def test_data_uri_type_is_guessed_from_the_path(emulator, tmp_path):
    """A small Path becomes a data URI whose media type comes from its name."""
    path = tmp_path / "tiny.png"
    path.write_bytes(b"png bytes")
    async with _client(emulator) as client:
        pred = await _create(client, image=path)
    assert pred.input["image"].startswith("data:image/png;base64,")


async def test_data_uri_limit_is_inclusive(emulator):
    """Content of exactly max_data_uri_bytes is still inlined; one byte more is uploaded."""
    async with _client(emulator, max_data_uri_bytes=10) as client:
        pred = await _create(client, a=b"x" * 10, b=b"y" * 11)
    assert pred.input["a"].startswith("data:")
    assert pred.input["b"].startswith(emulator.base_url + "/v1/files/")


async def test_data_uri_strategy_inlines_large_files(emulator):
    """file_encoding="data_uri" inlines content above the limit."""
    async with _client(emulator, file_encoding="data_uri") as client:
        pred = await _create(client, image=b"z" * (DEFAULT_MAX_DATA_URI_BYTES + 1))
    assert pred.input["image"].startswith("data:")
    assert _uploads_done(emulator) == 0


async def test_upload_strategy_per_call_uploads_small_files(emulator):
    """file_encoding="upload" on a call uploads even a tiny file."""
    async with _client(emulator) as client:
        pred = await client.predictions.create(
            ECHO, {"prompt": "x", "image": b"tiny"}, wait=False, file_encoding="upload"
        )
    assert pred.input["image"].startswith(emulator.base_url + "/v1/files/")


async def test_run_takes_file_encoding_per_call(emulator):
    """run(..., file_encoding=...) reaches the create."""
    async with _client(emulator) as client:
        await client.run(ECHO, {"prompt": "x", "image": b"tiny"}, file_encoding="upload")
    assert _uploads_done(emulator) == 1


async def test_inputs_without_files_are_sent_unchanged(emulator):
    """Text, numbers and URLs pass through untouched."""
    input_ = {"prompt": "hi", "n": 3, "url": "https://example.com/a.png", "xs": [1, "two"]}
    async with _client(emulator) as client:
        pred = await client.predictions.create(ECHO, input_, wait=False)
    assert dict(pred.input) == input_


# -- uploads ------------------------------------------------------------------------------


async def test_path_input_reaches_the_model_byte_identical(emulator, tmp_path):
    """A Path above the limit is uploaded; the URL in the input serves back the same bytes."""
    payload = os.urandom(DEFAULT_MAX_DATA_URI_BYTES + 12345)
    path = tmp_path / "photo.jpg"
    path.write_bytes(payload)
    async with _client(emulator) as client:
        pred = await _create(client, image=path)
        url = pred.input["image"]
        file = await client.files.get(url.rsplit("/", 1)[-1])
        served = await client.files.read(_signed_url(emulator, url))
    assert url == file.urls.get
    assert served == payload
    assert file.checksums["sha256"] == hashlib.sha256(payload).hexdigest()
    assert (file.name, file.content_type, file.size) == ("photo.jpg", "image/jpeg", len(payload))


async def test_nested_inputs_are_encoded_in_place(emulator):
    """Files inside nested lists and dicts are replaced, the shape kept."""
    async with _client(emulator, max_data_uri_bytes=4) as client:
        pred = await _create(
            client, images=[b"ab", b"abcdefgh"], cfg={"mask": bytearray(b"m"), "k": (1, 2)}
        )
    images, cfg = pred.input["images"], pred.input["cfg"]
    assert images[0].startswith("data:")
    assert images[1].startswith(emulator.base_url + "/v1/files/")
    assert cfg["mask"].startswith("data:")
    assert cfg["k"] == [1, 2]


async def test_same_content_is_uploaded_once_per_client(emulator, tmp_path):
    """A Path and bytes with the same content, in two creates, give one upload and one URL."""
    payload = os.urandom(1000)
    path = tmp_path / "a.bin"
    path.write_bytes(payload)
    async with _client(emulator, file_encoding="upload") as client:
        first = await _create(client, a=path, b=payload)
        second = await _create(client, c=bytearray(payload))
    assert first.input["a"] == first.input["b"] == second.input["c"]
    assert _uploads_done(emulator) == 1


async def test_each_client_has_its_own_cache(emulator):
    """Another client uploads the content again."""
    for _ in range(2):
        async with _client(emulator, file_encoding="upload") as client:
            await _create(client, a=b"same")
    assert _uploads_done(emulator) == 2


async def test_files_close_to_expiry_are_uploaded_again(emulator, monkeypatch):
    """A cached upload with less than CACHE_MIN_LIFETIME left is not reused."""
    monkeypatch.setattr(files_module, "CACHE_MIN_LIFETIME", 25 * 3600)
    async with _client(emulator, file_encoding="upload") as client:
        await _create(client, a=b"same")
        await _create(client, a=b"same")
    assert _uploads_done(emulator) == 2


async def test_deleted_files_are_not_reused(emulator):
    """After files.delete, the same content is uploaded again."""
    async with _client(emulator, file_encoding="upload") as client:
        url = (await _create(client, a=b"same")).input["a"]
        await client.files.delete(url.rsplit("/", 1)[-1])
        again = (await _create(client, a=b"same")).input["a"]
    assert again != url


async def test_the_cache_is_bounded(emulator, monkeypatch):
    """The oldest cached upload is forgotten beyond MAX_CACHED_UPLOADS."""
    monkeypatch.setattr(files_module, "MAX_CACHED_UPLOADS", 1)
    async with _client(emulator, file_encoding="upload") as client:
        await _create(client, a=b"one")
        await _create(client, a=b"two")
        await _create(client, a=b"one")
    assert _uploads_done(emulator) == 3


async def test_concurrent_inputs_with_the_same_content_upload_once(emulator):
    """Ten equal files in one input are uploaded once."""
    async with _client(emulator, file_encoding="upload") as client:
        pred = await _create(client, images=[b"same"] * 10)
    assert len(set(pred.input["images"])) == 1
    assert _uploads_done(emulator) == 1


async def test_open_binary_file_uploads_from_its_position(emulator, tmp_path):
    """A binary file object is read from where it stands, by name and type."""
    path = tmp_path / "clip.wav"
    path.write_bytes(b"HEADER" + b"w" * 500)
    async with _client(emulator, file_encoding="upload") as client:
        with path.open("rb") as fh:
            fh.read(6)
            pred = await _create(client, audio=fh)
        file = await client.files.get(pred.input["audio"].rsplit("/", 1)[-1])
    assert (file.name, file.size) == ("clip.wav", 500)
    assert file.content_type in {"audio/x-wav", "audio/wav"}


async def test_async_file_is_uploaded(emulator, tmp_path):
    """An anyio async file object is read with await and uploaded."""
    payload = os.urandom(3000)
    path = tmp_path / "a.bin"
    path.write_bytes(payload)
    async with _client(emulator, file_encoding="upload") as client:
        async with await anyio.open_file(path, "rb") as fh:
            pred = await _create(client, a=fh)
        served = await client.files.read(_signed_url(emulator, pred.input["a"]))
    assert served == payload


async def test_unseekable_streams_are_spooled(emulator):
    """A stream that cannot seek is copied aside first, then uploaded whole."""
    payload = os.urandom(DEFAULT_MAX_DATA_URI_BYTES * 2)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    async with _client(emulator) as client:
        pred = await _create(client, a=io.BufferedReader(Pipe()))
        served = await client.files.read(_signed_url(emulator, pred.input["a"]))
    assert served == payload


async def test_upload_is_retried_after_a_server_error(emulator):
    """A 5xx on POST /v1/files is retried and the upload succeeds."""
    emulator.set_faults(FaultRule(action="error", route="POST /v1/files", status=503, count=1))
    async with _client(emulator, file_encoding="upload") as client:
        pred = await _create(client, a=b"retry me")
    assert pred.input["a"].startswith(emulator.base_url)
    assert _uploads_done(emulator) == 1


# -- failures: which input, why, and no prediction --------------------------------------


async def test_a_413_names_the_input_and_creates_nothing(emulator):
    """A refused upload says which input failed and why; the create is never sent."""
    _set_max_upload(emulator, 100)
    async with _client(emulator, file_encoding="upload") as client:
        with pytest.raises(ClientError) as info:
            await _create(client, images=[b"ok", b"x" * 200])
    assert info.value.status_code == 413
    assert "input.images[1]" in str(info.value)
    assert "less than 100MB" in str(info.value)
    assert emulator.stats()["creates"] == 0


async def test_a_missing_file_is_a_validation_error_naming_the_input(emulator, tmp_path):
    """A Path that does not exist fails before any request, naming its input."""
    async with _client(emulator) as client:
        with pytest.raises(ValidationError) as info:
            await _create(client, cfg={"mask": tmp_path / "nope.png"})
    assert info.value.status_code is None
    assert "input.cfg.mask" in str(info.value)
    assert info.value.invalid_fields[0].field == "input.cfg.mask"
    assert emulator.stats()["creates"] == 0


async def test_a_folder_is_refused(emulator, tmp_path):
    """A Path naming a folder is not a file."""
    async with _client(emulator) as client:
        with pytest.raises(ValidationError, match="not a regular file"):
            await _create(client, a=tmp_path)


async def test_a_text_file_asks_for_binary_mode(emulator, tmp_path):
    """A file opened in text mode is refused with advice."""
    path = tmp_path / "a.txt"
    path.write_text("hello")
    async with _client(emulator) as client:
        with path.open() as fh, pytest.raises(ValidationError, match="binary mode"):
            await _create(client, a=fh)


async def test_a_stream_giving_text_asks_for_binary_mode(emulator):
    """An unseekable stream whose read gives str is refused."""

    class TextPipe:
        def read(self, n: int = -1) -> str:
            return "text"

    async with _client(emulator) as client:
        with pytest.raises(ValidationError, match=r"input\['odd key'\].*binary mode"):
            await _create(client, **{"odd key": TextPipe()})


async def test_a_file_that_shrinks_during_upload_fails_cleanly(emulator, tmp_path):
    """A file truncated after it was measured raises a read error naming the input."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 5000)
    real_open = _uploads.Source._open

    async def truncating_open(self):
        fh = await real_open(self)
        path.write_bytes(b"x" * 10)
        return fh

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_uploads.Source, "_open", truncating_open)
        async with _client(emulator, file_encoding="upload") as client:
            with pytest.raises(ValidationError, match=r"input\.a: .*changed while it was read"):
                await _create(client, a=path)
    assert emulator.stats()["creates"] == 0


async def test_persistent_server_errors_name_the_input(emulator):
    """When retries run out, the server error keeps its class and names the input."""
    emulator.set_faults(FaultRule(action="error", route="POST /v1/files", status=500))
    async with _client(emulator, file_encoding="upload") as client:
        with pytest.raises(ServerError, match=r"could not upload input\.a \(bytes of 4 bytes\)"):
            await _create(client, a=b"fail")


async def test_dropped_connections_name_the_input(emulator):
    """A transport failure on every attempt raises TransportError naming the input."""
    emulator.set_faults(FaultRule(action="drop", route="POST /v1/files"))
    async with _client(emulator, file_encoding="upload") as client:
        with pytest.raises(TransportError, match=r"could not upload input\.a"):
            await _create(client, a=b"fail")


async def test_an_invalid_reference_fails_before_any_upload(emulator):
    """A bad model reference is refused before files are read or uploaded."""
    async with _client(emulator, file_encoding="upload") as client:
        with pytest.raises(ValidationError):
            await client.predictions.create("not a ref", {"a": b"x"})
    assert _uploads_done(emulator) == 0


def test_unknown_file_encoding_is_refused():
    """The client rejects an encoding it does not know."""
    with pytest.raises(ValueError, match="'auto', 'upload' or 'data_uri'"):
        AsyncClient("r8_x", file_encoding="base64")  # type: ignore[arg-type]


async def test_unknown_file_encoding_per_call_is_refused(emulator):
    """A call with an unknown encoding fails before sending."""
    async with _client(emulator) as client:
        with pytest.raises(ValueError, match="file_encoding"):
            await _create_with(client, "url")
    assert emulator.stats()["creates"] == 0


async def _create_with(client: AsyncClient, encoding: str):
    return await client.predictions.create(
        ECHO,
        {"prompt": "x", "a": b"x"},
        file_encoding=encoding,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (True, TypeError), (1.5, TypeError)]
)
def test_max_data_uri_bytes_is_checked(value, error):
    """max_data_uri_bytes must be an int >= 0."""
    with pytest.raises(error):
        AsyncClient("r8_x", max_data_uri_bytes=value)


# -- the 50 MB upload, measured in a separate process --------------------------------------

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    from pathlib import Path
    import anyio
    from replicate_async import AsyncClient

    base_url, token, path, backend = sys.argv[1:5]

    async def main():
        async with AsyncClient(token, base_url, file_encoding="upload") as client:
            await client.files.create(b"warm-up")  # imports and connections, before measuring
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            file = await client.files.create(Path(path))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(json.dumps({"size": file.size, "sha256": file.checksums["sha256"],
                              "peak": peak, "rss_growth_kib": rss_after - rss_before}))

    anyio.run(main, backend=backend)
    """
)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
async def test_a_50_mb_upload_keeps_the_client_memory_flat(emulator, tmp_path, backend):
    """A 50 MB Path uploads with the client's memory peak far below the file's size.

    The client runs in a subprocess, so the emulator (a thread of this test process, which
    writes the upload to disk) is not counted. Two measures, both in that process:
    tracemalloc's peak of Python allocations during the upload (a file read whole would
    show as one 50 MB bytes object), and the growth of its peak RSS (ru_maxrss, which also
    sees memory outside Python's allocator, e.g. in aiohttp's C parts), both taken after a
    warm-up upload so imports and connection set-up are not counted.
    """
    size = 50 * 1024 * 1024
    path = tmp_path / "big.bin"
    with path.open("wb") as fh:
        for _ in range(size // (1 << 20)):
            fh.write(os.urandom(1 << 20))
    script = tmp_path / "measure.py"
    script.write_text(_MEASURE)
    result = subprocess.run(
        [sys.executable, str(script), emulator.base_url, emulator.token, str(path), backend],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["size"] == size
    assert report["peak"] < 8 * 1024 * 1024
    assert report["rss_growth_kib"] < 24 * 1024


# -- the sync client ----------------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sync_client_uploads_path_inputs(emulator, tmp_path):
    """Client.run takes a Path input and file_encoding, like AsyncClient.run."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"sync")

    def run() -> None:
        with Client(emulator.token, emulator.base_url) as client:
            client.run(ECHO, {"prompt": "x", "a": path}, file_encoding="upload")

    await anyio.to_thread.run_sync(run)
    assert _uploads_done(emulator) == 1


# -- units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Path("a.png"), True),
        (b"x", True),
        (bytearray(b"x"), True),
        (memoryview(b"x"), True),
        (io.BytesIO(b"x"), True),
        ("a.png", False),
        ({"read": 1}, False),
        ([b"x"], False),
        (3, False),
    ],
)
def test_is_file_input(value, expected):
    """Paths, bytes-likes and file objects are files; strings and containers are not."""
    assert is_file_input(value) is expected


def test_check_file_encoding_accepts_the_three():
    """The three encodings are accepted as they are."""
    assert [check_file_encoding(v) for v in ("auto", "upload", "data_uri")] == [
        "auto",
        "upload",
        "data_uri",
    ]


async def test_multipart_envelope_escapes_the_name():
    """Quotes and newlines in a file name cannot break the multipart headers."""
    async with open_source(b"x", filename='a"b\r\nc.txt') as source:
        head, tail = multipart_envelope("BOUNDARY", source, {"k": 1})
    assert b'filename="a%22b%0D%0Ac.txt"' in head
    assert b'name="metadata"\r\n\r\n{"k":1}\r\n' in head
    assert tail == b"\r\n--BOUNDARY--\r\n"


async def test_long_names_are_capped_at_255_bytes():
    """The filename part is cut to the API's 255 bytes."""
    async with open_source(b"x", filename="é" * 200) as source:
        head, _ = multipart_envelope("B", source, None)
    field = head.split(b'name="filename"\r\n\r\n', 1)[1].split(b"\r\n", 1)[0]
    assert len(field) <= 255
    assert field.decode() == "é" * 127


async def test_memoryview_sources_hash_like_bytes():
    """A memoryview is read as its bytes."""
    async with open_source(memoryview(b"abc")) as source:
        assert await source.sha256() == hashlib.sha256(b"abc").hexdigest()
        assert await source.read_all() == b"abc"


async def test_large_in_memory_sources_hash_in_chunks():
    """bytes above one chunk are hashed chunk by chunk, to the same digest."""
    payload = os.urandom(_uploads.CHUNK_SIZE * 2 + 7)
    async with open_source(payload) as source:
        assert await source.sha256() == hashlib.sha256(payload).hexdigest()


async def test_file_objects_without_a_name_are_called_file():
    """A BytesIO has no name: it is uploaded as 'file', octet-stream."""
    async with open_source(io.BytesIO(b"abc")) as source:
        assert (source.name, source.content_type, source.size) == (
            "file",
            "application/octet-stream",
            3,
        )


# -- outputs passed back as inputs (chaining models) ---------------------------------------


async def test_a_file_output_goes_back_as_its_url(emulator):
    """A FileOutput from one run, given as another's input, is sent as its URL: no download,
    no upload."""
    async with _client(emulator) as client:
        images = await client.run("emulator/image", {"prompt": "a fox", "num_outputs": 2})
        pred = await _create(client, image=images[0], frames=[images[1]])
    assert pred.input["image"] == images[0].url
    assert pred.input["frames"] == [images[1].url]
    assert _uploads_done(emulator) == 0
    assert emulator.stats()["file_requests"] == 0


def test_a_sync_file_output_goes_back_as_its_url(emulator):
    """The sync Client's outputs chain the same way."""
    with Client(emulator.token, emulator.base_url) as client:
        images = client.run("emulator/image", {"prompt": "a fox"})
        pred = client.predictions.create(ECHO, {"prompt": "x", "image": images[0]}, wait=False)
    assert pred.input["image"] == images[0].url
    assert _uploads_done(emulator) == 0
