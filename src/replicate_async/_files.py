# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""File outputs and the download client that fetches them without the API token.

A prediction's output names its files by URL: ``https://replicate.delivery/...`` for
files the model wrote, or a ``data:`` URI for small ones. :func:`to_file_outputs` turns
every such URL string in an output (nested lists, tuples and dicts too) into a
:class:`FileOutput`; every other string, such as a language model's text chunks, is
left alone.

Downloads go through a :class:`Downloader`, which owns its own ``httpx.AsyncClient``.
That client is built fresh, never from the API client's settings, and a request hook
removes any ``Authorization`` header before a request leaves (promise 5: the token goes
only to the API). It fetches only ``https://`` URLs (``http://`` only on loopback hosts,
for local servers and the emulator), follows redirects only to such URLs, limits how
many downloads run at once, and retries transient failures with stamina.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib.metadata
import ipaddress
import mimetypes
import os
import secrets
import unicodedata
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import anyio
import anyio.to_thread
import attrs
import httpx

from ._config import DEFAULT_RETRY_POLICY, DEFAULT_TIMEOUTS, RetryPolicy, Timeouts
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
    from contextlib import AbstractAsyncContextManager

    import stamina

__all__ = [
    "Downloader",
    "FileExpiredError",
    "FileOutput",
    "UnsupportedURLError",
    "is_file_url",
    "map_outputs",
    "safe_file_name",
    "to_file_outputs",
]

#: Hosts for which plain ``http://`` is accepted: local test servers and the emulator.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

#: Most redirects followed for one download.
MAX_REDIRECTS: Final = 10

#: The file name used when a URL gives none.
FALLBACK_NAME: Final = "output"

_MAX_NAME_BYTES: Final = 255
_REDIRECT_CODES: Final = frozenset({301, 302, 303, 307, 308})
_GONE_CODES: Final = frozenset({404, 410})
# Characters that are separators or reserved somewhere (POSIX, Windows, macOS).
_UNSAFE_NAME_CHARS: Final = frozenset('/\\:*?"<>|\x00')
_WINDOWS_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
_REPR_URL_LIMIT: Final = 80
_MAX_EXTENSION_BYTES: Final = 16
_TOO_MANY_REQUESTS: Final = 429
_FIRST_SERVER_ERROR: Final = 500


def _default_user_agent() -> str:
    """``replicate-async/<version>``, as the API client sends it."""
    try:
        version = importlib.metadata.version("replicate-async")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - only in a bare checkout
        version = "0"
    return f"replicate-async/{version}"


def _display_url(url: str) -> str:
    """A URL fit for an error message: no query or fragment (signed URLs keep secrets there)."""
    if url[:5].lower() == "data:":
        return url[: url.find(",") + 1] + "..." if "," in url else "data:..."
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")) or url[:40]


def _is_loopback(host: str) -> bool:
    """Whether *host* is one of the loopback names or addresses we allow over plain http."""
    host = host.lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: str) -> str | None:  # noqa: PLR0911  (one early return per rule)
    """Why *url* may not be fetched, or None when it may."""
    if url[:5].lower() == "data:":
        return None if "," in url else "a data: URL needs a ',' before its data"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return "the URL is malformed"
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        shown = f"'{scheme}://'" if scheme else "a URL without a scheme"
        return f"only https:// and data: URLs are downloaded, not {shown}"
    if not host:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "URLs with embedded credentials are not downloaded"
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return "the URL contains whitespace or control characters"
    if scheme == "http" and not _is_loopback(host):
        return "plain http:// is only allowed for loopback hosts (127.0.0.1, localhost, ::1); use https://"
    try:
        httpx.URL(url).host  # noqa: B018  (decoding the host raises on a bad IDNA label)
    except (httpx.InvalidURL, ValueError):  # e.g. an invalid IDNA host name
        return "the URL is malformed"
    return None


def _check_url(url: str) -> None:
    """Raise :class:`UnsupportedURLError` unless *url* may be fetched."""
    if not isinstance(url, str):
        raise TypeError(f"a file URL must be a str, got {type(url).__name__}")
    problem = _url_problem(url)
    if problem is not None:
        raise UnsupportedURLError(
            status_code=None, message=f"refusing to download {_display_url(url)}: {problem}"
        )


def is_file_url(value: object) -> bool:
    """Tell whether *value* is a string naming a file this library downloads.

    True for ``https://`` URLs with a host, ``data:`` URIs, and ``http://`` URLs on
    loopback hosts. Anything else, such as text, ``file://`` or ``ftp://`` URLs, is False.

    Args:
        value: Any value from a prediction's output.

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        return False
    if value[:5].lower() == "data:":
        return "," in value
    if value[:8].lower() != "https://" and value[:7].lower() != "http://":
        return False
    return _url_problem(value) is None


def _decode_data_url(url: str) -> tuple[str, bytes]:
    """Decode a ``data:`` URI (RFC 2397) into its media type and bytes, without any request."""
    header, _, payload = url[5:].partition(",")
    params = [p.strip() for p in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = ";".join(params) if params[0] else "text/plain;charset=US-ASCII"
    raw = urllib.parse.unquote_to_bytes(payload)
    if not is_base64:
        return media_type, raw
    compact = b"".join(raw.split())
    compact += b"=" * (-len(compact) % 4)
    try:
        return media_type, base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(message=f"the output's data: URL has invalid base64 ({exc})") from exc


def _data_content_type(url: str) -> str:
    """The media type declared by a ``data:`` URI, without decoding its payload."""
    header = url[5:].partition(",")[0]
    params = [p.strip() for p in header.split(";")]
    if len(params) > 1 and params[-1].lower() == "base64":
        params.pop()
    return ";".join(params) if params[0] else "text/plain;charset=US-ASCII"


def _extension_for(content_type: str | None) -> str:
    """A file extension for *content_type* (``".png"``), or ``""`` when unknown."""
    if not content_type:
        return ""
    bare = content_type.split(";", 1)[0].strip().lower()
    return mimetypes.guess_extension(bare, strict=False) or ""


def safe_file_name(url: str, content_type: str | None = None) -> str:
    """A file name for *url* that is safe to join to a folder.

    The name is the URL path's last segment, percent-decoded, with path separators,
    reserved and control characters replaced by ``_``, leading dots and spaces removed
    (so never ``..`` or a hidden file), Windows device names prefixed, and capped at
    255 bytes. When nothing is left (or for ``data:`` URIs) it is ``"output"`` plus an
    extension guessed from *content_type*.

    Args:
        url: The file's URL.
        content_type: The file's media type, used only for the fallback's extension.

    .. versionadded:: 0.1.0
    """
    if url[:5].lower() == "data:":
        segment = ""
        content_type = content_type or _data_content_type(url)
    else:
        path = urllib.parse.urlsplit(url).path
        segment = urllib.parse.unquote(path.rsplit("/", 1)[-1], errors="replace")
    cleaned = "".join(
        "_" if c in _UNSAFE_NAME_CHARS or unicodedata.category(c) in {"Cc", "Cf"} else c
        for c in segment
    )
    cleaned = cleaned.strip().lstrip(".").strip()
    if not cleaned.strip("._"):
        return FALLBACK_NAME + _extension_for(content_type)
    if cleaned.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return _cap_name(cleaned)


def _cap_name(name: str, tag: str = "") -> str:
    """*name* with *tag* before its short extension, shortened to at most 255 UTF-8 bytes.

    The tag and a short extension always survive; the rest of the name is cut.
    """
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext if stem and len(ext.encode()) <= _MAX_EXTENSION_BYTES else ""
    body = name[: len(name) - len(suffix)]
    budget = _MAX_NAME_BYTES - len(suffix.encode()) - len(tag.encode())
    if len(body.encode()) > budget:
        body = body.encode()[:budget].decode(errors="ignore")
    return body + tag + suffix


def _mapped_transport_error(exc: httpx.HTTPError, url: str) -> ReplicateError:
    """Our error for an httpx error raised while downloading *url*."""
    shown = _display_url(url)
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        return DecodeError(message=f"could not decode the download of {shown}: {reason}")
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(
            message=f"download of {shown} timed out ({type(exc).__name__})",
            request_sent=not not_sent,
        )
    return TransportError(
        message=f"download of {shown} failed: {reason}", request_sent=not not_sent
    )


def _status_error(response: httpx.Response, url: str) -> ReplicateError:
    """Our error for a non-success reply from the file host."""
    status = response.status_code
    path = _display_url(url)
    common: dict[str, Any] = {"status_code": status, "request_method": "GET", "request_path": path}
    if status in _GONE_CODES:
        return FileExpiredError(
            **common,
            message=(
                "the output file is gone; Replicate deletes output files an hour after the "
                "prediction finishes, so download or save them sooner (or run it again)"
            ),
        )
    text = f"the file host answered {status} {response.reason_phrase}".rstrip()
    if status == _TOO_MANY_REQUESTS:
        return RateLimitError(**common, retry_after=_retry_after(response), message=text)
    if status >= _FIRST_SERVER_ERROR:
        return ServerError(**common, message=text)
    return ClientError(**common, message=text)


def _retry_after(response: httpx.Response) -> float | None:
    """A file host's ``Retry-After`` in seconds, when it is a plain number."""
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _is_transient(exc: Exception) -> bool:
    """Whether a failed download is worth another try (downloads are idempotent GETs)."""
    return isinstance(exc, TransportError | ServerError | RateLimitError)


async def _strip_authorization(request: httpx.Request) -> None:
    """Request hook: no download ever carries an Authorization header, whatever set it."""
    request.headers.pop("Authorization", None)


@attrs.frozen
class _Download:
    """An open download: its content type and its body chunks."""

    content_type: str | None
    chunks: AsyncIterator[bytes]


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """The body of a decoded ``data:`` URI, as a single chunk."""
    yield data


class Downloader:
    """Downloads file outputs over its own HTTP client, which never carries the API token.

    The client is built here, never copied from the API client, and a request hook
    removes any ``Authorization`` header. Only ``https://`` and ``data:`` URLs are
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
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent or _default_user_agent()},
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
            follow_redirects=False,
            transport=transport,
            event_hooks={"request": [_strip_authorization]},
        )

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
        await self._client.aclose()

    async def read(self, url: str) -> bytes:
        """Download *url* whole and return its bytes.

        A transient failure, even half-way through the body, starts the download again.

        Args:
            url: An ``https://`` or ``data:`` URL.

        .. versionadded:: 0.1.0
        """
        return (await self._read(url))[0]

    async def aiter_bytes(self, url: str) -> AsyncIterator[bytes]:
        """Stream *url*'s bytes as they arrive.

        Failures before the first byte are retried; a failure after it raises, because
        the bytes already given out cannot be taken back.

        Args:
            url: An ``https://`` or ``data:`` URL.

        .. versionadded:: 0.1.0
        """
        async with self._stream(url) as download:
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
        return (await self._save(url, path, name=None))[0]

    # -- private, shared with FileOutput (which also records the content type) ----------

    def _stream(self, url: str) -> AbstractAsyncContextManager[_Download]:
        """Open *url* for streaming; retries happen only until the reply's head arrives."""
        return self._open(url, retry_head=True)

    async def _read(self, url: str) -> tuple[bytes, str | None]:
        """Download *url* whole, retrying the whole attempt; returns bytes and content type."""
        _check_url(url)
        async for attempt in self._retrying():
            with attempt:
                async with self._open(url, retry_head=False) as download:
                    data = b"".join([chunk async for chunk in download.chunks])
                    return data, download.content_type
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _save(
        self, url: str, path: str | os.PathLike[str], *, name: str | None
    ) -> tuple[Path, str | None]:
        """Save *url* under *path* atomically, retrying the whole attempt."""
        _check_url(url)
        async for attempt in self._retrying():
            with attempt:
                async with self._open(url, retry_head=False) as download:
                    target = _target_path(path, name or safe_file_name(url, download.content_type))
                    await _write_atomically(download.chunks, target)
                    return target, download.content_type
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def _retrying(self) -> AsyncIterable[stamina.Attempt]:
        """A stamina retry context for one download, from the retry policy."""
        return self._retry.retry_context(_is_transient)

    @contextlib.asynccontextmanager
    async def _open(self, url: str, *, retry_head: bool) -> AsyncIterator[_Download]:
        """Open a download, holding a concurrency slot until the body is done with."""
        _check_url(url)
        if url[:5].lower() == "data:":
            content_type, data = _decode_data_url(url)
            yield _Download(content_type, _one_chunk(data))
            return
        # A borrower object, not the task, holds the slot: an async iterator may be
        # resumed from several tasks (the sync Client's portal runs each call in its own).
        borrower = object()
        response = await (
            self._head_with_retries(url, borrower) if retry_head else self._head(url, borrower)
        )
        try:
            yield _Download(response.headers.get("content-type"), self._body(response, url))
        finally:
            await response.aclose()
            self._limiter.release_on_behalf_of(borrower)

    async def _head_with_retries(self, url: str, borrower: object) -> httpx.Response:
        """Get a successful reply's head, retrying transient failures."""
        async for attempt in self._retrying():
            with attempt:
                return await self._head(url, borrower)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _head(self, url: str, borrower: object) -> httpx.Response:
        """Send the GET (following safe redirects) and return a 2xx reply, slot held."""
        await self._limiter.acquire_on_behalf_of(borrower)
        try:
            return await self._follow(url)
        except BaseException:
            self._limiter.release_on_behalf_of(borrower)
            raise

    async def _follow(self, url: str) -> httpx.Response:
        """GET *url*, following redirects that pass the URL check, up to MAX_REDIRECTS."""
        current = url
        loopback_origin = _is_loopback(urllib.parse.urlsplit(url).hostname or "")
        for _ in range(MAX_REDIRECTS + 1):
            try:
                request = self._client.build_request("GET", current)
                response = await self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise _mapped_transport_error(exc, current) from exc
            except httpx.InvalidURL as exc:  # httpx parses a redirect's Location eagerly
                raise UnsupportedURLError(
                    status_code=None,
                    message=f"refusing to follow a redirect from {_display_url(current)}: {exc}",
                ) from exc
            if response.status_code not in _REDIRECT_CODES:
                if response.is_success:
                    return response
                await response.aclose()
                raise _status_error(response, current)
            await response.aclose()
            location = response.headers.get("location")
            if not location:
                raise _status_error(response, current)
            current = urllib.parse.urljoin(current, location)
            _check_url(current)
            target_host = urllib.parse.urlsplit(current).hostname or ""
            if current[:5].lower() == "data:" or (
                _is_loopback(target_host) and not loopback_origin
            ):
                raise UnsupportedURLError(
                    status_code=None,
                    message=f"refusing to follow a redirect from {_display_url(url)} to {_display_url(current)}",
                )
        raise TransportError(
            message=f"download of {_display_url(url)} was redirected more than {MAX_REDIRECTS} times",
            request_sent=True,
        )

    async def _body(self, response: httpx.Response, url: str) -> AsyncIterator[bytes]:
        """The reply's body chunks, with httpx errors mapped to ours."""
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise _mapped_transport_error(exc, url) from exc


def _target_path(path: str | os.PathLike[str], name: str) -> Path:
    """The file to write: *path* itself, or *name* inside it when it is a folder."""
    raw = os.fspath(path)
    base = Path(raw)
    if base.is_dir() or raw.endswith(("/", os.sep)):
        return base / name
    return base


async def _write_atomically(chunks: AsyncIterator[bytes], target: Path) -> None:
    """Stream *chunks* to a temporary file beside *target*, then rename it into place."""
    tmp = target.with_name(f".{target.name[:200]}.{secrets.token_hex(6)}.part")
    # O_EXCL: never write through a file (or symlink) someone else put there; 0o666 so
    # the saved file gets the user's umask like any other new file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in chunks:
                await anyio.to_thread.run_sync(fh.write, chunk)
            await anyio.to_thread.run_sync(_flush_and_sync, fh)
        await anyio.to_thread.run_sync(os.replace, tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _flush_and_sync(fh: Any) -> None:
    """Flush a file and ask the OS to put it on disk before it is renamed into place."""
    fh.flush()
    os.fsync(fh.fileno())


class FileOutput:
    """A file in a prediction's output: its URL, and ways to get its bytes.

    ``str(file_output)`` is the URL, so f-strings and code written for plain URLs keep
    working. Files are fetched through the client's :class:`Downloader`, which never
    sends the API token; ``data:`` URIs are decoded locally. Output files expire an hour
    after the prediction finishes (then :class:`FileExpiredError`), so read or save them
    promptly.

    Args:
        url: An ``https://`` or ``data:`` URL (``http://`` only on loopback hosts).
        downloader: The download client to fetch it with.

    Raises:
        UnsupportedURLError: For any other URL, such as ``file://`` or ``ftp://``.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_content_type", "_downloader", "_name", "_url")

    def __init__(self, url: str, downloader: Downloader) -> None:
        _check_url(url)
        self._url = url
        self._downloader = downloader
        self._content_type = _data_content_type(url) if url[:5].lower() == "data:" else None
        self._name = safe_file_name(url, self._content_type)

    @property
    def url(self) -> str:
        """The file's URL.

        .. versionadded:: 0.1.0
        """
        return self._url

    @property
    def content_type(self) -> str | None:
        """Media type of the file (from a ``data:`` URI, else known once downloaded).

        .. versionadded:: 0.1.0
        """
        return self._content_type

    @property
    def name(self) -> str:
        """A file name from the URL, safe to join to a folder (see :func:`safe_file_name`).

        .. versionadded:: 0.1.0
        """
        return self._name

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        shown = self._url
        if len(shown) > _REPR_URL_LIMIT:
            shown = f"{shown[: _REPR_URL_LIMIT - 3]}..."
        return f"FileOutput(url={shown!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileOutput):
            return NotImplemented
        return self._url == other._url

    def __hash__(self) -> int:
        return hash((FileOutput, self._url))

    async def read(self) -> bytes:
        """Download the whole file and return its bytes.

        .. versionadded:: 0.1.0
        """
        data, content_type = await self._downloader._read(self._url)  # noqa: SLF001
        self._learn(content_type)
        return data

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Stream the file's bytes as they arrive.

        .. versionadded:: 0.1.0
        """
        async with self._downloader._stream(self._url) as download:  # noqa: SLF001
            self._learn(download.content_type)
            async for chunk in download.chunks:
                yield chunk

    async def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the file atomically and return the path written.

        The bytes stream to a temporary file in the target folder that is renamed into
        place once complete: a failed download leaves nothing behind and never a
        half-written file. When *path* is an existing folder (or ends with a separator)
        the file is saved in it under :attr:`name`, which cannot escape the folder.

        Args:
            path: A file path, or a folder to save into.

        .. versionadded:: 0.1.0
        """
        target, content_type = await self._downloader._save(self._url, path, name=self._name)  # noqa: SLF001
        self._learn(content_type)
        return target

    def _learn(self, content_type: str | None) -> None:
        """Remember the content type a download reported."""
        if content_type:
            self._content_type = content_type


def map_outputs(output: Any, leaf: Callable[[Any], Any]) -> Any:
    """Rebuild *output* with *leaf* applied to every value that is not a list, tuple or dict.

    Args:
        output: A prediction output (any JSON-like value).
        leaf: The function applied to each non-container value.

    .. versionadded:: 0.1.0
    """
    if isinstance(output, list):
        return [map_outputs(item, leaf) for item in output]
    if isinstance(output, tuple):
        return tuple(map_outputs(item, leaf) for item in output)
    if isinstance(output, Mapping):
        return {key: map_outputs(value, leaf) for key, value in output.items()}
    return leaf(output)


def to_file_outputs(output: Any, downloader: Callable[[], Downloader]) -> Any:
    """Replace every file URL string in *output* with a :class:`FileOutput`.

    Walks nested lists, tuples and dicts. A string becomes a FileOutput only when the
    whole string is an ``https://`` URL, a ``data:`` URI, or an ``http://`` URL on a
    loopback host (:func:`is_file_url`); every other string, such as a language
    model's text chunks, or a ``file://`` or ``ftp://`` URL, is left as it is and never
    fetched.

    Args:
        output: A prediction's output.
        downloader: Gives the download client the FileOutputs will use; called only
            for an output that holds a file URL, so text outputs never make one.

    .. versionadded:: 0.1.0
    """
    return map_outputs(
        output, lambda value: FileOutput(value, downloader()) if is_file_url(value) else value
    )
