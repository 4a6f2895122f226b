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
import urllib.parse
from typing import TYPE_CHECKING, Any, Final

from replicate_async import _sansio
from replicate_async._models import File
from replicate_async._naming import safe_file_name, target_path, write_atomically
from replicate_async._paging import AsyncPages
from replicate_async._sansio import Request
from replicate_async._uploader import MAX_CACHED_UPLOADS
from replicate_async._uploads import open_source, read_error
from replicate_async._urls import display_url
from replicate_async.exceptions import UnsupportedURLError, ValidationError

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator, Callable, Mapping
    from pathlib import Path

    from replicate_async._backend import Streamed
    from replicate_async._downloads import Downloader
    from replicate_async._session import Session
    from replicate_async._uploader import Uploader

__all__ = ["MAX_CACHED_UPLOADS", "AsyncFiles"]

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


class AsyncFiles:
    """The Files API: ``client.files``.

    Args:
        session: The client's session (connection pool, token, retries).
        uploader: The client's uploader (shared with file inputs, cached).
        downloader: Gives the client's token-free download client.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, session: Session, uploader: Uploader, downloader: Callable[[], Downloader]
    ) -> None:
        self._session = session
        self._uploader = uploader
        self._downloader = downloader

    def __repr__(self) -> str:
        return f"<AsyncFiles of {self._session!r}>"

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
                return await self._uploader.upload(source, metadata=metadata)
        except (OSError, TypeError) as exc:
            raise read_error(exc, "file", file) from exc

    async def get(self, file_id: str) -> File:
        """Fetch a file's details by id.

        Args:
            file_id: The file's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="GET", path=f"/v1/files/{_check_file_id(file_id)}")
        return await self._session.send_json(request, File)

    def list(self) -> AsyncPages[File]:
        """Your uploaded files, newest first, as a lazy list: ``async for f in ...list()``.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`); each
        page's ``next`` link is followed only when it points at the API's own host.

        .. versionadded:: 0.1.0
        """
        return AsyncPages(self._session, "/v1/files", File)

    async def delete(self, file_id: str) -> None:
        """Delete a file; afterwards it is gone (404) and no longer reused for inputs.

        Args:
            file_id: The file's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="DELETE", path=f"/v1/files/{_check_file_id(file_id)}")
        try:
            await self._session.send_no_content(request)
        finally:
            self._uploader.forget(file_id)

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

    def _download_url(self, file: File | str) -> tuple[str, bool]:
        """The URL to download *file* from, and whether it goes with the token (API host only)."""
        base = self._session.base_url
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
            async with self._downloader().open_stream(url) as download:
                yield url, download.chunks
            return
        async with contextlib.AsyncExitStack() as stack:
            reply = await self._head(url, stack)
            yield url, reply.chunks()

    async def _head(self, url: str, stack: contextlib.AsyncExitStack) -> Streamed:
        """GET *url* on the API host with the token, retrying until a 2xx reply's head arrives."""
        session = self._session
        async for attempt in session.retry.retry_context(session.retry_on(create=False)):
            with attempt:
                attempt_stack = contextlib.AsyncExitStack()
                async with attempt_stack:
                    reply = await attempt_stack.enter_async_context(
                        session.open(url, headers=session.headers)
                    )
                    if 200 <= reply.status_code < 300:  # noqa: PLR2004
                        stack.push_async_exit(attempt_stack.pop_all())
                        return reply
                    body = b"".join([chunk async for chunk in reply.chunks()])
                    raise _sansio.error_for(
                        reply.status_code,
                        reply.headers,
                        body,
                        method="GET",
                        path=urllib.parse.urlsplit(url).path,
                    )
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover
