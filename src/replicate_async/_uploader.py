# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Uploads to the Files API: a streamed multipart body, retried, and a per-client cache.

``client.files.create`` and file inputs of predictions (``_uploads.encode_input``) both
upload through one :class:`Uploader`, so content uploaded for an input is uploaded once
per client (keyed by SHA-256 and size) while the server keeps it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import anyio

from replicate_async import _sansio
from replicate_async._models import File
from replicate_async._sansio import Request
from replicate_async._uploads import CACHE_MIN_LIFETIME, multipart_envelope
from replicate_async.exceptions import DecodeError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from replicate_async._backend import Reply
    from replicate_async._session import Session
    from replicate_async._uploads import Source

__all__ = ["MAX_CACHED_UPLOADS", "Uploader"]

MAX_CACHED_UPLOADS: Final = 10_000
"""Most uploads a client remembers for reuse; the oldest are forgotten first (memory stays flat)."""


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


class _UploadBody:
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


class Uploader:
    """Uploads files over a session and remembers what it uploaded.

    Args:
        session: Sends the uploads (with the token, the client's retries and rate limits).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[tuple[str, int], _Cached] = {}
        self._locks: dict[tuple[str, int], anyio.Lock] = {}

    def __repr__(self) -> str:
        return f"<Uploader cached={len(self._cache)}>"

    def forget(self, file_id: str) -> None:
        """Stop reusing the file *file_id* (it was deleted)."""
        for key, cached in list(self._cache.items()):
            if cached.file_id == file_id:
                del self._cache[key]

    async def upload_cached(self, source: Source) -> str:
        """The ``urls.get`` of an upload of *source*, uploading only content not seen before."""
        key = (await source.sha256(), source.size)
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                cached = self._cache.get(key)
                if cached is not None and cached.usable():
                    return cached.url
                file = await self.upload(source)
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

    async def upload(self, source: Source, *, metadata: Mapping[str, Any] | None = None) -> File:
        """``POST /v1/files`` with *source* streamed as the content part, with retries."""
        session = self._session
        boundary = secrets.token_hex(16)
        head, tail = multipart_envelope(boundary, source, metadata)
        request = Request(
            method="POST",
            path="/v1/files",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + source.size + len(tail)),
            },
        )
        async for attempt in session.retry.retry_context(session.retry_on(create=False)):
            with attempt:
                reply = await self._post(request, head, source, tail)
        return _sansio.decode(
            reply.status_code,
            reply.headers,
            reply.content,
            File,
            method=request.method,
            path=request.path,
        )

    async def _post(self, request: Request, head: bytes, source: Source, tail: bytes) -> Reply:
        """Send one upload attempt; a failure to read the file wins over the transport's."""
        body = _UploadBody(head, source, tail)
        try:
            return await self._session.send_once(request, content=body)
        except Exception:
            if body.error is not None:
                raise body.error from None
            raise
        finally:
            await body.aclose()
