# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.files` (the Files API), downloads that keep the token on the API host, and expiry in run."""

from __future__ import annotations

import inspect
import os
import urllib.parse

import anyio
import httpx
import pytest

from _client_support import API, TOKEN, problem, reply
from replicate_async import (
    AsyncClient,
    AsyncFiles,
    Client,
    DecodeError,
    File,
    FileExpiredError,
    FileOutput,
    NotFoundError,
    SyncFiles,
    UnsupportedURLError,
    ValidationError,
)

pytestmark = pytest.mark.anyio

FILE_ID = "ZmlsZS1pZA=="


def _client(emulator, **kwargs) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


def _signed_url(emulator, file: File) -> str:
    reply_ = httpx.get(f"{emulator.base_url}/_emulator/files/{file.id}/download-url")
    return str(reply_.json()["url"])


def _file_json(file_id: str = FILE_ID, **fields) -> dict:
    body = {
        "id": file_id,
        "name": "a.txt",
        "content_type": "text/plain",
        "size": 3,
        "checksums": {"sha256": "x"},
        "metadata": {},
        "created_at": "2025-01-01T00:00:00Z",
        "expires_at": "2025-01-02T00:00:00Z",
        "urls": {"get": f"{API}/v1/files/{file_id}"},
    }
    body.update(fields)
    return body


# -- create, get, list, delete over the emulator -------------------------------------------


async def test_create_stores_name_type_and_metadata(replicate_emulator):
    """files.create uploads the content with the given name, type and metadata."""
    async with _client(replicate_emulator) as client:
        file = await client.files.create(
            b"hello", filename="greeting.txt", content_type="text/plain", metadata={"k": [1]}
        )
    assert (file.name, file.content_type, file.size, file.metadata) == (
        "greeting.txt",
        "text/plain",
        5,
        {"k": [1]},
    )
    assert file.urls.get == f"{replicate_emulator.base_url}/v1/files/{file.id}"


async def test_create_takes_a_path_string(replicate_emulator, tmp_path):
    """A str path is read as a file by files.create."""
    path = tmp_path / "a.json"
    path.write_bytes(b"{}")
    async with _client(replicate_emulator) as client:
        file = await client.files.create(str(path))
    assert (file.name, file.content_type, file.size) == ("a.json", "application/json", 2)


async def test_create_with_a_missing_file_names_it(replicate_emulator, tmp_path):
    """A path that cannot be read raises ValidationError before any request."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(ValidationError, match="file: cannot read file"):
            await client.files.create(tmp_path / "missing.bin")


async def test_get_returns_the_file(replicate_emulator):
    """files.get returns what files.create returned."""
    async with _client(replicate_emulator) as client:
        created = await client.files.create(b"abc")
        assert await client.files.get(created.id) == created


async def test_list_is_newest_first(replicate_emulator):
    """files.list yields every file, newest first."""
    async with _client(replicate_emulator) as client:
        ids = [(await client.files.create(bytes([i]))).id for i in range(3)]
        listed = [file.id async for file in client.files.list()]
    assert listed == ids[::-1]


async def test_delete_makes_the_file_404(replicate_emulator):
    """After files.delete, files.get raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        file = await client.files.create(b"abc")
        await client.files.delete(file.id)
        with pytest.raises(NotFoundError, match="File not found"):
            await client.files.get(file.id)


async def test_deleting_an_unknown_file_raises(replicate_emulator):
    """files.delete of an unknown id raises NotFoundError."""
    async with _client(replicate_emulator) as client:
        with pytest.raises(NotFoundError):
            await client.files.delete("bm9wZQ==")


@pytest.mark.parametrize("bad", ["", "a/b", "../x", 3])
async def test_invalid_ids_are_refused_without_a_request(bad):
    """Ids that are not URL-safe tokens raise ValidationError."""
    async with AsyncClient(TOKEN, API, transport=httpx.MockTransport(_no_request)) as client:
        with pytest.raises(ValidationError, match="invalid file id"):
            await client.files.get(bad)


def _no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request {request.url}")


# -- downloads -------------------------------------------------------------------------------


async def test_signed_urls_download_byte_identical_without_the_token(replicate_emulator, tmp_path):
    """read, aiter_bytes and save of a signed URL give the exact bytes and send no Authorization."""
    payload = os.urandom(200_000)
    async with _client(replicate_emulator) as client:
        file = await client.files.create(payload, filename="x.bin")
        url = _signed_url(replicate_emulator, file)
        read = await client.files.read(url)
        streamed = b"".join([chunk async for chunk in client.files.aiter_bytes(url)])
        saved = await client.files.save(url, tmp_path)
    assert read == streamed == saved.read_bytes() == payload
    assert saved.parent == tmp_path
    stats = replicate_emulator.stats()
    assert stats["file_requests"] == 3
    assert stats["file_requests_with_authorization"] == 0


async def test_run_with_file_outputs_sends_no_token_to_the_file_host(replicate_emulator, tmp_path):
    """Reading and saving a run's file outputs never carries the Authorization header."""
    async with _client(replicate_emulator) as client:
        outputs = await client.run("emulator/image", {"prompt": "x", "num_outputs": 2})
        for output in outputs:
            assert isinstance(output, FileOutput)
            await output.read()
            await output.save(tmp_path)
    stats = replicate_emulator.stats()
    assert stats["file_requests"] >= 4
    assert stats["file_requests_with_authorization"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(o.name for o in outputs)


async def test_a_file_downloads_from_the_api_host_with_the_token(api, make_client):
    """A File (no signed URL) is fetched from {base_url}/v1/files/{id}/download with the token."""
    route = api.get(f"{API}/v1/files/{FILE_ID}/download").mock(
        return_value=httpx.Response(200, content=b"abc")
    )
    file = File(id=FILE_ID)
    async with make_client() as client:
        assert await client.files.read(file) == b"abc"
        assert await client.files.read(FILE_ID) == b"abc"
        assert await client.files.read(f"{API}/v1/files/{FILE_ID}") == b"abc"
    assert route.call_count == 3
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in route.calls)


async def test_urls_on_other_hosts_never_get_the_token():
    """A urls.get naming another host is refused before any request."""
    async with AsyncClient(TOKEN, API, transport=httpx.MockTransport(_no_request)) as client:
        with pytest.raises(UnsupportedURLError, match="only files of the API"):
            await client.files.read(f"https://evil.example/v1/files/{FILE_ID}")
        with pytest.raises(UnsupportedURLError):
            await client.files.read(f"{API}/v1/predictions/abc")


async def test_downloading_something_else_is_a_type_error():
    """files.read takes a File, an id or a URL."""
    async with AsyncClient(TOKEN, API, transport=httpx.MockTransport(_no_request)) as client:
        with pytest.raises(TypeError, match="expected a File"):
            await client.files.read(42)  # type: ignore[arg-type]


async def test_a_missing_file_download_is_not_found(api, make_client):
    """A 404 from the download route raises NotFoundError."""
    api.get(f"{API}/v1/files/{FILE_ID}/download").mock(
        return_value=problem(404, detail="File not found")
    )
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="File not found"):
            await client.files.read(FILE_ID)


async def test_download_server_errors_are_retried(api, make_client):
    """A 503 before the body is retried."""
    api.get(f"{API}/v1/files/{FILE_ID}/download").mock(
        side_effect=[problem(503), httpx.Response(200, content=b"ok")]
    )
    async with make_client() as client:
        assert await client.files.read(FILE_ID) == b"ok"


async def test_download_transport_errors_become_ours(api, make_client):
    """A connection failure on every attempt raises TransportError, not an httpx error."""
    from replicate_async import TransportError

    api.get(f"{API}/v1/files/{FILE_ID}/download").mock(side_effect=httpx.ConnectError("refused"))
    async with make_client() as client:
        with pytest.raises(TransportError):
            await client.files.read(FILE_ID)


class _BrokenStream(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b"partial"
        raise httpx.ReadError("connection lost")


async def test_a_download_that_breaks_saves_nothing(api, make_client, tmp_path):
    """A body that breaks mid-way raises TransportError and leaves the folder empty."""
    from replicate_async import TransportError

    api.get(f"{API}/v1/files/{FILE_ID}/download").mock(
        return_value=httpx.Response(200, stream=_BrokenStream())
    )
    async with make_client() as client:
        with pytest.raises(TransportError, match="connection lost"):
            await client.files.save(File(id=FILE_ID, name="a.txt"), tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_save_of_a_file_uses_its_safe_name(api, make_client, tmp_path):
    """Saving a File into a folder uses its name, neutralised so it cannot escape."""
    api.get(f"{API}/v1/files/{FILE_ID}/download").mock(
        return_value=httpx.Response(200, content=b"abc")
    )
    async with make_client() as client:
        saved = await client.files.save(File(id=FILE_ID, name="../../etc/passwd"), tmp_path)
    assert saved.parent == tmp_path
    assert saved.read_bytes() == b"abc"


# -- list pages and odd replies (respx) -------------------------------------------------------


async def test_list_follows_next_pages(api, make_client):
    """files.list follows `next` on the API host."""
    api.get(f"{API}/v1/files", params={"cursor": "2"}).mock(
        return_value=httpx.Response(200, json={"results": [_file_json("b")], "next": None})
    )
    api.get(f"{API}/v1/files").mock(
        return_value=httpx.Response(
            200, json={"results": [_file_json("a")], "next": f"{API}/v1/files?cursor=2"}
        )
    )
    async with make_client() as client:
        assert [f.id async for f in client.files.list()] == ["a", "b"]


async def test_list_refuses_a_page_that_names_itself(api, make_client):
    """A `next` equal to the page just read raises DecodeError instead of looping."""
    page = {"results": [], "next": f"{API}/v1/files?cursor=1"}
    api.get(f"{API}/v1/files").mock(return_value=httpx.Response(200, json=page))
    async with make_client() as client:
        with pytest.raises(DecodeError, match="names itself"):
            _ = [f async for f in client.files.list()]


async def test_an_upload_reply_without_urls_get_is_a_decode_error(api, make_client):
    """An input upload needs urls.get; a reply without it raises DecodeError."""
    api.post(f"{API}/v1/files").mock(return_value=httpx.Response(201, json=_file_json(urls={})))
    async with make_client(file_encoding="upload") as client:
        with pytest.raises(DecodeError, match=r"urls\.get"):
            await client.predictions.create("acme/painter", {"a": b"x"})


async def test_uploads_send_the_token_and_a_sized_multipart_body(api, make_client):
    """POST /v1/files carries the token, a Content-Length and the content part."""
    route = api.post(f"{API}/v1/files").mock(return_value=httpx.Response(201, json=_file_json()))
    async with make_client() as client:
        await client.files.create(b"abc", filename="a.txt")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert int(request.headers["Content-Length"]) == len(request.content)
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="content"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nabc\r\n' in (
        request.content
    )


# -- expiry in run ----------------------------------------------------------------------------


async def test_run_of_a_prediction_whose_data_was_removed_says_outputs_expire(api, make_client):
    """A succeeded prediction with data_removed raises FileExpiredError naming the hour."""
    api.post(f"{API}/v1/models/acme/painter/predictions").mock(
        return_value=reply("succeeded", 201, output=None, data_removed=True)
    )
    async with make_client() as client:
        with pytest.raises(FileExpiredError, match="an hour after it finishes"):
            await client.run("acme/painter")


async def test_run_returns_plain_urls_without_file_output(api, make_client):
    """use_file_output=False returns file URLs as strings."""
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    api.post(f"{API}/v1/models/acme/painter/predictions").mock(
        return_value=reply("succeeded", 201, output=[url])
    )
    async with make_client() as client:
        assert await client.run("acme/painter", use_file_output=False) == [url]


# -- the sync client -----------------------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sync_files_forward_every_call(replicate_emulator, tmp_path):
    """Client.files creates, gets, lists, reads, streams, saves and deletes as plain calls."""

    def use() -> None:
        with Client(replicate_emulator.token, replicate_emulator.base_url) as client:
            file = client.files.create(b"sync bytes", filename="s.txt")
            assert client.files.get(file.id) == file
            assert [f.id for f in client.files.list()] == [file.id]
            url = _signed_url(replicate_emulator, file)
            assert client.files.read(url) == b"sync bytes"
            assert b"".join(client.files.iter_bytes(url)) == b"sync bytes"
            assert client.files.save(url, tmp_path / "out.txt").read_bytes() == b"sync bytes"
            client.files.delete(file.id)
            assert repr(client.files).startswith("<SyncFiles of <Client open>")

    await anyio.to_thread.run_sync(use)


def _params(func) -> list[tuple]:
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(func).parameters.values()
    ]


@pytest.mark.parametrize("name", ["create", "get", "list", "delete", "read", "save"])
def test_sync_files_match_the_async_ones(name):
    """Each SyncFiles method has its async twin's parameters and docstring."""
    sync, async_ = getattr(SyncFiles, name), getattr(AsyncFiles, name)
    assert _params(sync) == _params(async_)
    assert sync.__doc__ == async_.__doc__


def test_sync_iter_bytes_matches_aiter_bytes():
    """SyncFiles.iter_bytes takes what AsyncFiles.aiter_bytes takes."""
    assert _params(SyncFiles.iter_bytes) == _params(AsyncFiles.aiter_bytes)


def test_async_files_repr():
    """The resource's repr names its client."""
    client = AsyncClient(TOKEN, API)
    assert repr(client.files) == f"<AsyncFiles of {client!r}>"


def test_signed_url_query_is_kept():
    """A signed URL is passed to the downloader as it is (its query is the signature)."""
    client = AsyncClient(TOKEN, API)
    url = f"{API}/v1/files/{FILE_ID}/download?owner=o&expiry=1&signature=" + urllib.parse.quote(
        "a+b="
    )
    assert client.files._download_url(url) == (url, False)
