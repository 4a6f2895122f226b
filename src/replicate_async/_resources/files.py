# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.files`: upload, get, list, delete and download files of the Files API.

Uploads are ``multipart/form-data`` bodies streamed from the file (see ``_uploads``), so
a large file is never held in memory. Files uploaded for prediction inputs are cached per
client by SHA-256 and size, so the same content is uploaded once.

Downloads: the API documents only signed download URLs
(``/v1/files/{id}/download?owner=&expiry=&signature=``), which need no token and are
fetched through the client's token-free :class:`~replicate_async.FileOutput` downloader.
A file named by its id, its :class:`~replicate_async.File` or its ``urls.get`` is fetched
from ``{base_url}/v1/files/{id}/download`` with the API token: the URL is always built
from the client's own API root, so the token goes to the API host and nowhere else
(promise 5); a ``urls.get`` naming another host is refused.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import anyio
import httpx

from replicate_async import _sansio
from replicate_async._downloads import map_transport_error
from replicate_async._models import File, Page
from replicate_async._naming import safe_file_name, target_path, write_atomically
from replicate_async._sansio import Request
from replicate_async._uploads import CACHE_MIN_LIFETIME, multipart_envelope, open_source, read_error
from replicate_async._urls import display_url
from replicate_async.exceptions import DecodeError, UnsupportedURLError, ValidationError

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator, Mapping
    from pathlib import Path

    from replicate_async._client import AsyncClient
    from replicate_async._uploads import Source

__all__ = ["MAX_CACHED_UPLOADS", "AsyncFiles"]

MAX_CACHED_UPLOADS: Final = 10_000
"""Most uploads a client remembers for reuse; the oldest are forgotten first (memory stays flat)."""

_ID_RE: Final = re.compile(r"[A-Za-z0-9_=-]{1,200}")
_FILES_PATH_RE: Final = re.compile(r"/v1/files/([A-Za-z0-9_=-]{1,200})(/download)?/?")


def _check_file_id(file_id: object) -> str:
    """A file id is a short token of URL-safe characters (it becomes a path segment)."""
    if not isinstance(file_id, str) or not _ID_RE.fullmatch(file_id):
        raise ValidationError(
            status_code=None,
            message=f"invalid file id {file_id!r}: expected letters, digits, '-', '_' or '='",
        )
    return file_id


class _Cached:
    """An upload remembered for reuse: its URL, id and when the server deletes it."""

    __slots__ = ("expires_at", "file_id", "url")

    def __init__(self, url: str, file_id: str, expires_at: datetime | None) -> None:
        self.url = url
        self.file_id = file_id
        self.expires_at = expires_at

    def usable(self) -> bool:
        """Whether the file lives long enough for a prediction to fetch it."""
        if self.expires_at is None:
            return True
        return self.expires_at - datetime.now(UTC) > timedelta(seconds=CACHE_MIN_LIFETIME)


class _UploadBody(httpx.AsyncByteStream):
    """A multipart upload body: head, the content in chunks, tail; closed explicitly.

    A plain iterator object rather than an async generator, so a request abandoned
    mid-body (a dropped connection) leaves nothing for the garbage collector to finalize
    outside the event loop. An error raised while reading the file is kept in ``error``,
    because the HTTP stack may report it as a transport failure.
    """

    def __init__(self, head: bytes, source: Source, tail: bytes) -> None:
        self._head: bytes | None = head
        self._tail: bytes | None = tail
        self._chunks = source.chunks()
        self.error: BaseException | None = None

    def __aiter__(self) -> _UploadBody:
        return self

    async def __anext__(self) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            return head
        if self._tail is None:
            raise StopAsyncIteration
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            tail, self._tail = self._tail, None
            return tail
        except BaseException as exc:
            self.error = exc
            raise

    async def aclose(self) -> None:
        """Close the file reader (a path's file is closed at once)."""
        await self._chunks.aclose()  # type: ignore[attr-defined]


class AsyncFiles:
    """The Files API: ``client.files``.

    Args:
        client: The client whose connection pool, token and retries are used.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._cache: dict[tuple[str, int], _Cached] = {}
        self._locks: dict[tuple[str, int], anyio.Lock] = {}

    def __repr__(self) -> str:
        return f"<AsyncFiles of {self._client!r}>"

    async def create(
        self,
        file: Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> File:
        """Upload a file and return it; put its ``urls.get`` into a prediction's input.

        The file is streamed from disk (or from the file object) in chunks, never read
        whole. Files of 100 MB or more are refused by the server (413,
        :class:`~replicate_async.ClientError`); uploads are deleted after 24 hours.

        Args:
            file: A path (``str`` or :class:`os.PathLike`), ``bytes``, a binary file object,
                or an async file object (e.g. from ``anyio.open_file``).
            filename: The name to store; from the path or file object when None.
            content_type: The media type; guessed from the name when None.
            metadata: JSON metadata to store with the file.

        .. versionadded:: 0.1.0
        """
        try:
            async with open_source(file, filename=filename, content_type=content_type) as source:
                return await self._upload(source, metadata=metadata)
        except (OSError, TypeError) as exc:
            raise read_error(exc, "file", file) from exc

    async def get(self, file_id: str) -> File:
        """Fetch a file's details by id.

        Args:
            file_id: The file's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="GET", path=f"/v1/files/{_check_file_id(file_id)}")
        file: File = await self._send_json(request, File)
        return file

    async def list(self) -> AsyncIterator[File]:
        """Iterate over your uploaded files, newest first, fetching pages as they are needed.

        Each page's ``next`` link is followed only when it points at the API's own host.

        .. versionadded:: 0.1.0
        """
        client = self._client
        url: str | None = None
        while True:
            request = Request(method="GET", path=url or "/v1/files")
            page = await self._send_json(request, Page[File])
            for file in page.results:
                yield file
            if not page.next:
                return
            following = _sansio.resolve_next_url(page.next, client.base_url)
            if following == url:
                raise DecodeError(message=f"the page at {url} names itself as the next page")
            url = following

    async def delete(self, file_id: str) -> None:
        """Delete a file; afterwards it is gone (404) and no longer reused for inputs.

        Args:
            file_id: The file's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="DELETE", path=f"/v1/files/{_check_file_id(file_id)}")
        response = await self._client._send(request)  # noqa: SLF001 - the client's internals
        for key, cached in list(self._cache.items()):
            if cached.file_id == file_id:
                del self._cache[key]
        if response.status_code >= 400:  # noqa: PLR2004
            raise _sansio.error_for(
                response.status_code,
                response.headers,
                response.content,
                method=request.method,
                path=request.path,
            )

    async def read(self, file: File | str) -> bytes:
        """Download a file's content whole.

        Args:
            file: A :class:`~replicate_async.File`, a file id, its ``urls.get``, or a
                signed download URL.

        .. versionadded:: 0.1.0
        """
        async with self._open_download(file) as (_, chunks):
            return b"".join([chunk async for chunk in chunks])

    async def aiter_bytes(self, file: File | str) -> AsyncIterator[bytes]:
        """Stream a file's content as it arrives.

        Args:
            file: A :class:`~replicate_async.File`, a file id, its ``urls.get``, or a
                signed download URL.

        .. versionadded:: 0.1.0
        """
        async with self._open_download(file) as (_, chunks):
            async for chunk in chunks:
                yield chunk

    async def save(self, file: File | str, path: str | os.PathLike[str]) -> Path:
        """Download a file into *path* atomically and return the path written.

        The bytes go to a temporary file beside the target that is renamed into place
        when complete, so a failed download leaves nothing behind. When *path* is a
        folder the file is saved in it under a safe version of its name.

        Args:
            file: A :class:`~replicate_async.File`, a file id, its ``urls.get``, or a
                signed download URL.
            path: A file path, or a folder to save into.

        .. versionadded:: 0.1.0
        """
        async with self._open_download(file) as (url, chunks):
            if isinstance(file, File) and file.name:
                name = safe_file_name("https://host/" + urllib.parse.quote(file.name))
            else:
                name = safe_file_name(url)
            target = target_path(path, name)
            await write_atomically(chunks, target)
            return target

    # -- private ------------------------------------------------------------------------

    async def _send_json(self, request: Request, cls: Any) -> Any:
        """Send *request* through the client (with its retries) and decode the reply as *cls*."""
        response = await self._client._send(request)  # noqa: SLF001 - the client's internals
        return _sansio.decode(
            response.status_code,
            response.headers,
            response.content,
            cls,
            method=request.method,
            path=request.path,
        )

    async def _upload_cached(self, source: Source) -> str:
        """The ``urls.get`` of an upload of *source*, uploading only content not seen before."""
        key = (await source.sha256(), source.size)
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                cached = self._cache.get(key)
                if cached is not None and cached.usable():
                    return cached.url
                file = await self._upload(source)
                if not file.urls.get:
                    raise DecodeError(message="the uploaded file's reply has no urls.get")
                self._cache.pop(key, None)
                self._cache[key] = _Cached(file.urls.get, file.id, file.expires_at)
                while len(self._cache) > MAX_CACHED_UPLOADS:
                    del self._cache[next(iter(self._cache))]
                return file.urls.get
        finally:
            if not lock.statistics().tasks_waiting and not lock.locked():
                self._locks.pop(key, None)

    async def _upload(self, source: Source, *, metadata: Mapping[str, Any] | None = None) -> File:
        """``POST /v1/files`` with *source* streamed as the content part, with retries."""
        client = self._client
        boundary = secrets.token_hex(16)
        head, tail = multipart_envelope(boundary, source, metadata)
        headers = {
            **client._headers,  # noqa: SLF001 - the client's internals
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + source.size + len(tail)),
        }
        request = Request(method="POST", path="/v1/files")
        policy = client._retry  # noqa: SLF001
        async for attempt in policy.retry_context(client._retry_hook(create=False)):  # noqa: SLF001
            with attempt:
                response = await self._post(request, headers, head, source, tail)
        return _sansio.decode(
            response.status_code,
            response.headers,
            response.content,
            File,
            method=request.method,
            path=request.path,
        )

    async def _post(
        self, request: Request, headers: dict[str, str], head: bytes, source: Source, tail: bytes
    ) -> httpx.Response:
        """Send one upload attempt; raise our errors for replies worth a retry."""
        client = self._client
        body = _UploadBody(head, source, tail)
        rate = getattr(client, "_rate", None)
        ticket = await rate.acquire("other") if rate is not None else None
        sent = client._http.build_request(  # noqa: SLF001
            "POST",
            client._url(request.path),  # noqa: SLF001
            headers=headers,
            timeout=client._httpx_timeout(),  # noqa: SLF001
        )
        # Rebuilt around the streamed body: build_request merged the client's headers and
        # Host (our Content-Length stays), but read an empty body that aiohttp would send.
        sent = httpx.Request(
            "POST", sent.url, headers=sent.headers, stream=body, extensions=sent.extensions
        )
        try:
            async with client._limiter:  # noqa: SLF001
                response = await client._http.send(sent)  # noqa: SLF001
        except Exception as exc:
            if body.error is not None:
                raise body.error from None
            if isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
                raise client._transport_error(exc, request, create=False) from exc  # noqa: SLF001
            raise
        finally:
            await body.aclose()
        if rate is not None:
            rate.observe("other", ticket, response.status_code, response.headers)
        status = response.status_code
        if status == 429 or status >= 500:  # noqa: PLR2004
            raise _sansio.error_for(
                status, response.headers, response.content, method="POST", path=request.path
            )
        return response

    def _download_url(self, file: File | str) -> tuple[str, bool]:
        """The URL to download *file* from, and whether it goes with the token (API host only)."""
        base = self._client.base_url
        if isinstance(file, File):
            return f"{base}/v1/files/{_check_file_id(file.id)}/download", True
        if not isinstance(file, str):
            raise TypeError(f"expected a File, a file id or a URL, got {type(file).__name__}")
        if "://" not in file:
            return f"{base}/v1/files/{_check_file_id(file)}/download", True
        parts = urllib.parse.urlsplit(file)
        query = urllib.parse.parse_qs(parts.query)
        if "signature" in query:
            return file, False  # signed: no token needed, fetched token-free
        api = urllib.parse.urlsplit(base)
        match = _FILES_PATH_RE.fullmatch(parts.path)
        if match is None or (parts.hostname, parts.port) != (api.hostname, api.port):
            raise UnsupportedURLError(
                status_code=None,
                message=(
                    f"refusing to download {display_url(file)} with the API token: only files "
                    f"of the API at {base} are fetched with it (pass a signed download URL, "
                    "or use a FileOutput for other URLs)"
                ),
            )
        return f"{base}/v1/files/{match[1]}/download", True

    @contextlib.asynccontextmanager
    async def _open_download(
        self, file: File | str
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """Open a download of *file*: its URL and its body chunks."""
        url, with_token = self._download_url(file)
        if not with_token:
            downloader = self._client.downloader()
            async with downloader.open_stream(url) as download:
                yield url, download.chunks
            return
        response = await self._head(url)
        try:
            yield url, _body(response, url)
        finally:
            await response.aclose()

    async def _head(self, url: str) -> httpx.Response:
        """GET *url* on the API host with the token, retrying until a reply's head arrives."""
        client = self._client
        request = Request(method="GET", path=url)
        policy = client._retry  # noqa: SLF001
        async for attempt in policy.retry_context(client._retry_hook(create=False)):  # noqa: SLF001
            with attempt:
                try:
                    sent = client._http.build_request(  # noqa: SLF001
                        "GET",
                        url,
                        headers=client._headers,  # noqa: SLF001
                        timeout=client._httpx_timeout(),  # noqa: SLF001
                    )
                    response = await client._http.send(sent, stream=True)  # noqa: SLF001
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise client._transport_error(exc, request, create=False) from exc  # noqa: SLF001
                if response.is_success:
                    return response
                body = await response.aread()
                await response.aclose()
                raise _sansio.error_for(
                    response.status_code,
                    response.headers,
                    body,
                    method="GET",
                    path=urllib.parse.urlsplit(url).path,
                )
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover


async def _body(response: httpx.Response, url: str) -> AsyncIterator[bytes]:
    """A download's body chunks, with httpx errors mapped to ours."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise map_transport_error(exc, url) from exc
