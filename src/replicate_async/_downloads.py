# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The download client that fetches file outputs without the API token.

A :class:`Downloader` owns its own :class:`~replicate_async._backend.Backend` (aiohttp on
asyncio, httpx's pools on trio, or the httpx transport it is given), never the API client's,
and every request carries exactly the download headers, never an ``Authorization`` header
(promise 5: the token goes only to the API). It fetches
only URLs that pass the URL policy (:mod:`._urls`), follows redirects only to such URLs,
limits how many downloads run at once, and retries transient failures with stamina.

Package API, besides the documented methods: :meth:`Downloader.open_stream`,
:meth:`Downloader.read_with_type`, :meth:`Downloader.save_as` (used by FileOutput and the
files resource, which also want the content type) and :func:`map_transport_error`.
"""

from __future__ import annotations

import contextlib
import http
import urllib.parse
from typing import TYPE_CHECKING, Any, Final, Self

import anyio
import attrs

from ._backend import Outgoing, Phases, is_decoding_error, is_retryable, make_backend
from ._config import (
    DEFAULT_RETRY_POLICY,
    DEFAULT_TIMEOUTS,
    RetryPolicy,
    Timeouts,
    default_user_agent,
)
from ._naming import safe_file_name, target_path, write_atomically
from ._urls import check_url, decode_data_url, display_url, is_loopback
from .exceptions import (
    ClientError,
    DecodeError,
    FileExpiredError,
    RateLimitError,
    ReplicateError,
    RequestTimeout,
    ServerError,
    TransportError,
    UnsupportedURLError,
)

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterable, AsyncIterator
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    import httpx
    import stamina

    from ._backend import Streamed

__all__ = ["MAX_REDIRECTS", "Download", "Downloader", "map_transport_error"]

#: Most redirects followed for one download.
MAX_REDIRECTS: Final = 10

_REDIRECT_CODES: Final = frozenset({301, 302, 303, 307, 308})
_GONE_CODES: Final = frozenset({404, 410})
_TOO_MANY_REQUESTS: Final = 429
_FIRST_SERVER_ERROR: Final = 500


def map_transport_error(exc: TransportError, url: str) -> ReplicateError:
    """Our error for a failed download of *url*, naming the download (without its query).

    Args:
        exc: The backend's error (its ``__cause__`` is the HTTP library's).
        url: The URL being downloaded.
    """
    shown = display_url(url)
    cause = exc.__cause__
    reason = (str(cause) or type(cause).__name__) if cause is not None else str(exc)
    if is_decoding_error(exc):
        return DecodeError(message=f"could not decode the download of {shown}: {reason}")
    if isinstance(exc, RequestTimeout):
        kind = type(cause).__name__ if cause is not None else "timeout"
        return RequestTimeout(
            message=f"download of {shown} timed out ({kind})", request_sent=exc.request_sent
        )
    return TransportError(
        message=f"download of {shown} failed: {reason}", request_sent=exc.request_sent
    )


def _status_error(response: Streamed, url: str) -> ReplicateError:
    """Our error for a non-success reply from the file host."""
    status = response.status_code
    path = display_url(url)
    common: dict[str, Any] = {"status_code": status, "request_method": "GET", "request_path": path}
    if status in _GONE_CODES:
        return FileExpiredError(
            **common,
            message=(
                "the output file is gone; Replicate deletes output files an hour after the "
                "prediction finishes, so download or save them sooner (or run it again)"
            ),
        )
    text = f"the file host answered {status} {_reason_phrase(status)}".rstrip()
    if status == _TOO_MANY_REQUESTS:
        return RateLimitError(**common, retry_after=_retry_after(response), message=text)
    if status >= _FIRST_SERVER_ERROR:
        return ServerError(**common, message=text)
    return ClientError(**common, message=text)


def _reason_phrase(status: int) -> str:
    """The standard reason phrase of *status* ("" when unknown)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _retry_after(response: Streamed) -> float | None:
    """A file host's ``Retry-After`` in seconds, when it is a plain number."""
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _is_transient(exc: Exception) -> bool:
    """Whether a failed download is worth another try (downloads are idempotent GETs)."""
    if isinstance(exc, TransportError):
        return is_retryable(exc)
    return isinstance(exc, ServerError | RateLimitError)


@attrs.frozen
class Download:
    """An open download: its content type and its body chunks.

    Attributes:
        content_type: The reply's ``Content-Type`` (or the ``data:`` URI's media type).
        chunks: The body, read once.
    """

    content_type: str | None
    chunks: AsyncIterator[bytes]


async def _read_all(chunks: AsyncIterator[bytes], url: str, max_bytes: int | None) -> bytes:
    """Every chunk joined; DecodeError as soon as they pass *max_bytes* (when not None)."""
    if max_bytes is None:
        return b"".join([chunk async for chunk in chunks])
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise DecodeError(
                message=(
                    f"download of {display_url(url)} passed max_bytes={max_bytes:,} bytes and "
                    "was not read further; save() or aiter_bytes() take files of any size"
                )
            )
        parts.append(chunk)
    return b"".join(parts)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """The body of a decoded ``data:`` URI, as a single chunk."""
    yield data


class Downloader:
    """Downloads file outputs over its own HTTP client, which never carries the API token.

    Its connections are its own, never the API client's, and its requests carry no
    ``Authorization`` header. Only ``https://`` and ``data:`` URLs are
    fetched (``data:`` URIs are decoded locally, without a request); plain ``http://``
    is allowed only for loopback hosts (127.0.0.1, localhost, ::1) so local servers and
    the emulator work. Redirects are followed only to URLs that pass the same check, and a
    remote host may never redirect to a loopback ``http://`` URL. Anything else raises
    :class:`UnsupportedURLError`. Connect errors, timeouts, 5xx and 429 replies are
    retried with stamina; a 404 or 410 raises :class:`FileExpiredError`.

    Args:
        timeouts: Per-phase HTTP timeouts; the client defaults when None.
        retry: How transient failures are retried; the client defaults when None.
        max_concurrency: Most downloads in flight at once.
        transport: An httpx transport to use instead of httpx's own (tests inject one).
        user_agent: The ``User-Agent`` header; ``replicate-async/<version>`` when None.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str | None = None,
    ) -> None:
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise TypeError("max_concurrency must be an int")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        t = timeouts if timeouts is not None else DEFAULT_TIMEOUTS
        self._retry = retry if retry is not None else DEFAULT_RETRY_POLICY
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        # One attempt (head and body) ends by Timeouts.transfer however slowly the host
        # sends: the read timeout alone never fires for a host trickling a byte at a time.
        self._phases = Phases(
            connect=t.connect, read=t.read, write=t.write, pool=t.pool, total=t.transfer
        )
        self._headers = {"User-Agent": user_agent or default_user_agent()}
        self._backend = make_backend(max_connections=max_concurrency, transport=transport)

    def __repr__(self) -> str:
        return f"<Downloader max_concurrency={int(self._limiter.total_tokens)}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client; closing twice is fine.

        .. versionadded:: 0.1.0
        """
        await self._backend.aclose()

    async def read(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """Download *url* whole and return its bytes.

        A transient failure, even half-way through the body, starts the download again.
        The whole file is held in memory: for big files prefer :meth:`save` or
        :meth:`aiter_bytes`, or pass *max_bytes*.

        Args:
            url: An ``https://`` or ``data:`` URL.
            max_bytes: The most bytes to read (after decompression); past it
                :class:`~replicate_async.DecodeError` is raised without reading the
                rest. None (the default) reads whatever the file holds.

        .. versionadded:: 0.1.0
        """
        return (await self.read_with_type(url, max_bytes=max_bytes))[0]

    async def aiter_bytes(self, url: str) -> AsyncIterator[bytes]:
        """Stream *url*'s bytes as they arrive.

        Failures before the first byte are retried; a failure after it raises, because
        the bytes already given out cannot be taken back.

        Args:
            url: An ``https://`` or ``data:`` URL.

        .. versionadded:: 0.1.0
        """
        async with self.open_stream(url) as download:
            async for chunk in download.chunks:
                yield chunk

    async def save(self, url: str, path: str | os.PathLike[str]) -> Path:
        """Download *url* into *path* atomically and return the path written.

        The bytes go to a temporary file in the target folder that is renamed into place
        once complete, so a failed download leaves nothing behind. When *path* is an
        existing folder (or ends with a separator) the file is saved in it under
        :func:`safe_file_name`, which cannot escape the folder.

        Args:
            url: An ``https://`` or ``data:`` URL.
            path: A file path, or a folder to save into.

        .. versionadded:: 0.1.0
        """
        return (await self.save_as(url, path, name=None))[0]

    # -- package API: FileOutput and the files resource also want the content type -------

    def open_stream(self, url: str) -> AbstractAsyncContextManager[Download]:
        """Open *url* for streaming; retries happen only until the reply's head arrives.

        Package API: the concurrency slot is held until the context exits.

        Args:
            url: An ``https://`` or ``data:`` URL.
        """
        return self._open(url, retry_head=True)

    async def read_with_type(
        self, url: str, *, max_bytes: int | None = None
    ) -> tuple[bytes, str | None]:
        """Download *url* whole, retrying the whole attempt; returns bytes and content type.

        Package API.

        Args:
            url: An ``https://`` or ``data:`` URL.
            max_bytes: The most bytes to read; past it DecodeError, the rest unread.
        """
        check_url(url)
        async for attempt in self._retrying():
            with attempt:
                async with self._open(url, retry_head=False) as download:
                    data = await _read_all(download.chunks, url, max_bytes)
                    return data, download.content_type
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def save_as(
        self, url: str, path: str | os.PathLike[str], *, name: str | None
    ) -> tuple[Path, str | None]:
        """Save *url* under *path* atomically, retrying the whole attempt.

        Package API: returns the path written and the content type.

        Args:
            url: An ``https://`` or ``data:`` URL.
            path: A file path, or a folder to save into.
            name: The file name inside a folder; from the URL and content type when None.
        """
        check_url(url)
        async for attempt in self._retrying():
            with attempt:
                async with self._open(url, retry_head=False) as download:
                    target = target_path(path, name or safe_file_name(url, download.content_type))
                    await write_atomically(download.chunks, target)
                    return target, download.content_type
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def _retrying(self) -> AsyncIterable[stamina.Attempt]:
        """A stamina retry context for one download, from the retry policy."""
        return self._retry.retry_context(_is_transient)

    @contextlib.asynccontextmanager
    async def _open(self, url: str, *, retry_head: bool) -> AsyncIterator[Download]:
        """Open a download, holding a concurrency slot until the body is done with."""
        check_url(url)
        if url[:5].lower() == "data:":
            content_type, data = decode_data_url(url)
            yield Download(content_type, _one_chunk(data))
            return
        # A borrower object, not the task, holds the slot: an async iterator may be
        # resumed from several tasks (the sync Client's portal runs each call in its own).
        borrower = object()
        async with contextlib.AsyncExitStack() as stack:
            head = self._head_with_retries if retry_head else self._head
            response, final = await head(url, borrower, stack)
            stack.callback(self._limiter.release_on_behalf_of, borrower)
            yield Download(response.headers.get("content-type"), self._body(response, final))

    async def _head_with_retries(
        self, url: str, borrower: object, stack: contextlib.AsyncExitStack
    ) -> tuple[Streamed, str]:
        """Get a successful reply's head, retrying transient failures."""
        async for attempt in self._retrying():
            with attempt:
                return await self._head(url, borrower, stack)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _head(
        self, url: str, borrower: object, stack: contextlib.AsyncExitStack
    ) -> tuple[Streamed, str]:
        """Send the GET (following safe redirects): a 2xx reply held open on *stack*, slot held."""
        await self._limiter.acquire_on_behalf_of(borrower)
        try:
            return await self._follow(url, stack)
        except BaseException:
            self._limiter.release_on_behalf_of(borrower)
            raise

    async def _follow(self, url: str, stack: contextlib.AsyncExitStack) -> tuple[Streamed, str]:
        """GET *url*, following redirects that pass the URL check, up to MAX_REDIRECTS."""
        current = url
        loopback_origin = is_loopback(urllib.parse.urlsplit(url).hostname or "")
        headers = {k: v for k, v in self._headers.items() if k.lower() != "authorization"}
        for _ in range(MAX_REDIRECTS + 1):
            attempt = contextlib.AsyncExitStack()
            async with attempt:
                try:
                    response = await attempt.enter_async_context(
                        self._backend.open(Outgoing("GET", current, headers, None, self._phases))
                    )
                except TransportError as exc:
                    raise map_transport_error(exc, current) from exc.__cause__
                if response.status_code not in _REDIRECT_CODES:
                    if 200 <= response.status_code < 300:  # noqa: PLR2004
                        stack.push_async_exit(attempt.pop_all())
                        return response, current
                    raise _status_error(response, current)
            location = response.headers.get("location")
            if not location:
                raise _status_error(response, current)
            current = urllib.parse.urljoin(current, location)
            check_url(current)
            target_host = urllib.parse.urlsplit(current).hostname or ""
            if current[:5].lower() == "data:" or (is_loopback(target_host) and not loopback_origin):
                raise UnsupportedURLError(
                    status_code=None,
                    message=f"refusing to follow a redirect from {display_url(url)} to {display_url(current)}",
                )
        raise TransportError(
            message=f"download of {display_url(url)} was redirected more than {MAX_REDIRECTS} times",
            request_sent=True,
        )

    async def _body(self, response: Streamed, url: str) -> AsyncIterator[bytes]:
        """The reply's body chunks, with failures named for the download."""
        try:
            # Closed with this generator when the caller stops early: trio refuses async
            # generators left to the garbage collector.
            async with contextlib.aclosing(response.chunks()) as chunks:
                async for chunk in chunks:
                    yield chunk
        except TransportError as exc:
            raise map_transport_error(exc, url) from exc.__cause__
