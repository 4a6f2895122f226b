# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""File inputs: local files in a prediction's input become URLs before the create is sent.

Anywhere in ``input`` (nested lists, tuples and dicts too) a :class:`pathlib.Path`,
``bytes``/``bytearray``/``memoryview``, a binary file object opened for reading, or an
async file object (anything whose ``read`` is a coroutine function, e.g.
``anyio.open_file``) is replaced by a string the API accepts:

- a ``data:`` URI, for small content (at most ``max_data_uri_bytes``, 256 KiB by default,
  Replicate's own advice), or
- the ``urls.get`` of a file uploaded through the Files API (``POST /v1/files``,
  multipart), for anything larger.

``file_encoding`` picks between the two: ``"auto"`` (by size), ``"upload"`` (always
upload) or ``"data_uri"`` (always inline; the content is then read into memory).

Uploads stream: the multipart body is produced chunk by chunk from the file, so memory
stays flat whatever the file's size. A file object that cannot seek (a pipe, an async
file) is first copied to a temporary file (in memory up to the data-URI limit), so its
content can be hashed and sent again on a retry. Each client uploads the same content
once: uploads are cached by SHA-256 and size (hashing streams too) while the uploaded
file has at least :data:`CACHE_MIN_LIFETIME` seconds left before the server deletes it.

Every file is encoded before the create request is built, so a failed upload means no
prediction was created. The error names the input that failed (``input.images[2]``) and why.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import inspect
import io
import json
import mimetypes
import os
import stat
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Literal, TypeAlias

import anyio
import anyio.to_thread
import attrs

from ._file_output import FileOutputBase
from ._sansio.inputs import input_path, scan_input
from .exceptions import APIError, InvalidField, ReplicateError, ValidationError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from ._sansio import Request

__all__ = [
    "CACHE_MIN_LIFETIME",
    "CHUNK_SIZE",
    "DEFAULT_MAX_DATA_URI_BYTES",
    "FILE_ENCODINGS",
    "FileEncoding",
    "Source",
    "check_file_encoding",
    "check_input",
    "encode_input",
    "encode_request",
    "is_file_input",
    "multipart_envelope",
    "open_source",
]

FileEncoding: TypeAlias = Literal["auto", "upload", "data_uri"]
"""How file inputs are sent: ``"auto"`` (data URI when small, else upload), ``"upload"``, ``"data_uri"``.

.. versionadded:: 0.1.0
"""

FILE_ENCODINGS: Final = frozenset({"auto", "upload", "data_uri"})

DEFAULT_MAX_DATA_URI_BYTES: Final = 256 * 1024
"""Largest content (in bytes, before base64) sent as a data URI under ``"auto"``: Replicate's advice."""

CHUNK_SIZE: Final = 256 * 1024
"""Bytes read from a file at a time, when hashing and when uploading."""

CACHE_MIN_LIFETIME: Final = 3600.0
"""Seconds an uploaded file must still live for a cached upload to be reused.

Replicate deletes uploads after 24 hours; a prediction may wait in a queue for a while
before its model fetches its inputs, so a file close to its end is uploaded again.
"""

_FALLBACK_TYPE: Final = "application/octet-stream"
_MAX_FILENAME_BYTES: Final = 255


def check_file_encoding(value: object) -> FileEncoding:
    """*value* when it is one of the file encodings, else a ValueError naming them."""
    if value not in FILE_ENCODINGS:
        raise ValueError(f"file_encoding must be 'auto', 'upload' or 'data_uri', got {value!r}")
    return value  # type: ignore[return-value]


def _is_async_file(value: object) -> bool:
    """Whether *value* reads with ``await value.read(n)`` (anyio, aiofiles and the like)."""
    return inspect.iscoroutinefunction(getattr(value, "read", None))


def _is_sync_file(value: object) -> bool:
    """Whether *value* is a (binary, we hope) file object with a plain ``read``."""
    if isinstance(value, str | bytes | bytearray | memoryview | PurePath | Mapping | list | tuple):
        return False
    read = getattr(value, "read", None)
    return callable(read) and not _is_async_file(value)


def is_file_input(value: object) -> bool:
    """Tell whether *value* in a prediction's input is a file to encode.

    True for :class:`pathlib.PurePath` (read as a :class:`~pathlib.Path`), ``bytes``,
    ``bytearray``, ``memoryview``, and file objects with a ``read`` method (sync or
    async). Strings are never files: a string is text or already a URL.

    Args:
        value: Any value from a prediction's input.

    .. versionadded:: 0.1.0
    """
    return (
        isinstance(value, PurePath | bytes | bytearray | memoryview)
        or _is_async_file(value)
        or _is_sync_file(value)
    )


# -- what a file is: its content, size, name and type ---------------------------------------


@attrs.frozen
class Source:
    """Content to inline or upload: where its bytes are, how many, its name and media type.

    Exactly one of *data*, *path* and *file* is set. A *file* is a seekable binary file
    whose content is the *size* bytes from offset *start*.
    """

    name: str
    content_type: str
    size: int
    data: bytes | bytearray | None = None
    path: Path | None = None
    file: BinaryIO | None = None
    start: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        """The content, chunk by chunk, from the start; raises OSError if it shrank meanwhile."""
        if self.data is not None:
            view = memoryview(self.data)
            for offset in range(0, self.size, CHUNK_SIZE):
                yield bytes(view[offset : offset + CHUNK_SIZE])
            return
        fh = await self._open()
        try:
            remaining = self.size
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(fh.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    raise OSError(
                        f"the file changed while it was read: {remaining} of {self.size} bytes missing"
                    )
                remaining -= len(chunk)
                yield chunk
        finally:
            if self.path is not None:
                await anyio.to_thread.run_sync(fh.close)

    async def _open(self) -> BinaryIO:
        """A binary file positioned at the content's start (a new one for a path)."""
        if self.path is not None:
            path = self.path
            return await anyio.to_thread.run_sync(lambda: path.open("rb"))
        fh = self.file
        assert fh is not None  # noqa: S101  (one of data, path, file is set)
        await anyio.to_thread.run_sync(fh.seek, self.start)
        return fh

    async def read_all(self) -> bytes:
        """The whole content in memory."""
        if self.data is not None:
            return bytes(self.data)
        return b"".join([chunk async for chunk in self.chunks()])

    async def sha256(self) -> str:
        """The content's SHA-256 hex digest, reading it in chunks (in a worker thread)."""
        if self.data is not None and self.size <= CHUNK_SIZE:
            return hashlib.sha256(self.data).hexdigest()
        digest = hashlib.sha256()
        async for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    async def data_uri(self) -> str:
        """The content as a ``data:<type>;base64,...`` URI."""
        encoded = base64.b64encode(await self.read_all()).decode("ascii")
        return f"data:{self.content_type};base64,{encoded}"


def _guess_type(name: str) -> str:
    """A media type guessed from a file name, else ``application/octet-stream``."""
    return mimetypes.guess_type(name, strict=False)[0] or _FALLBACK_TYPE


def _file_name(value: object) -> str | None:
    """The base name of a file object's ``name``, when it is a path-like string."""
    name = getattr(value, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name) or None  # noqa: PTH119  (a name, not necessarily a path)
    return None


def _seekable_span(fh: Any) -> tuple[int, int] | None:
    """``(start, size)`` of a seekable file's remaining content, or None when it cannot seek."""
    try:
        if not fh.seekable():
            return None
        start = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return start, max(0, end - start)


async def _spool(read: Any, *, is_async: bool, memory_limit: int) -> tuple[Any, int]:
    """Copy a stream into a spooled temporary file (memory up to *memory_limit*, then disk)."""
    spool: Any = tempfile.SpooledTemporaryFile(max_size=memory_limit)  # noqa: SIM115
    try:
        size = 0
        while True:
            chunk = (
                await read(CHUNK_SIZE)
                if is_async
                else await anyio.to_thread.run_sync(read, CHUNK_SIZE)
            )
            if not chunk:
                break
            _check_binary(chunk)
            size += len(chunk)
            await anyio.to_thread.run_sync(spool.write, chunk)
    except BaseException:
        spool.close()
        raise
    return spool, size


def _check_binary(chunk: object) -> None:
    """A file must give bytes; text files are opened with ``"rb"``."""
    if not isinstance(chunk, bytes | bytearray | memoryview):
        raise TypeError(
            f"the file gave {type(chunk).__name__}, not bytes: open it in binary mode ('rb')"
        )


@contextlib.asynccontextmanager
async def _opened(
    value: Any, *, filename: str | None, content_type: str | None, memory_limit: int
) -> AsyncIterator[Source]:
    """The :class:`Source` for one file input (a context: a spooled copy is removed after)."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = value.tobytes() if isinstance(value, memoryview) else value
        name = filename or "file"
        yield Source(name, content_type or _guess_type(name), len(data), data=data)
        return
    if isinstance(value, str | os.PathLike):
        path = Path(os.fspath(value))
        info = await anyio.to_thread.run_sync(path.stat)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
        name = filename or path.name or "file"
        yield Source(name, content_type or _guess_type(name), info.st_size, path=path)
        return
    if isinstance(value, io.TextIOBase):
        raise TypeError("a text file was given: open it in binary mode ('rb')")
    name = filename or _file_name(value) or "file"
    kind = content_type or _guess_type(name)
    if not _is_async_file(value):
        span = await anyio.to_thread.run_sync(_seekable_span, value)
        if span is not None:
            yield Source(name, kind, span[1], file=value, start=span[0])
            return
    spool, size = await _spool(
        value.read, is_async=_is_async_file(value), memory_limit=memory_limit
    )
    try:
        yield Source(name, kind, size, file=spool)
    finally:
        spool.close()


def open_source(
    value: Any,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    memory_limit: int = DEFAULT_MAX_DATA_URI_BYTES,
) -> AbstractAsyncContextManager[Source]:
    """Open a file input as a :class:`Source`: a path (str or PathLike), bytes, or a file object.

    Args:
        value: The file.
        filename: The name to give it; from the path or the file object when None.
        content_type: Its media type; guessed from the name when None.
        memory_limit: Bytes of an unseekable stream kept in memory before spooling to disk.
    """
    return _opened(value, filename=filename, content_type=content_type, memory_limit=memory_limit)


def _describe(value: object) -> str:
    """A short description of a file input for error messages (never its content)."""
    if isinstance(value, PurePath):
        return f"file {str(value)!r}"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{type(value).__name__} of {len(value)} bytes"
    name = _file_name(value)
    return f"file object {name!r}" if name else f"{type(value).__name__} object"


def read_error(exc: BaseException, field: str, value: object) -> ValidationError:
    """A client-side ValidationError for a file input that could not be read."""
    reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(
        exc
    ).__name__
    description = f"cannot read {_describe(value)}: {reason}"
    return ValidationError(
        status_code=None,
        message=f"{field}: {description}",
        invalid_fields=(InvalidField(type="file", field=field, description=description),),
    )


def upload_error(exc: ReplicateError, field: str, value: object) -> ReplicateError:
    """*exc* again, of the same class, with a message naming the input that failed and why."""
    if isinstance(exc, APIError):
        reason = exc.detail or exc.title or (exc.message.split(": ", 1)[-1])
        hint = ""
        if exc.status_code == 413:  # noqa: PLR2004
            hint = "; pass an https URL to the file instead"
        return exc.with_message(f"could not upload {field} ({_describe(value)}): {reason}{hint}")
    return exc.with_message(f"could not upload {field} ({_describe(value)}): {exc.message}")


# -- the multipart body -------------------------------------------------------------------


def _quote_param(value: str) -> str:
    """A Content-Disposition parameter value, escaped as browsers do (RFC 7578 section 4.2)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _cap_filename(name: str) -> str:
    """At most 255 UTF-8 bytes (the Files API limit), cut on a character boundary."""
    return name.encode()[:_MAX_FILENAME_BYTES].decode(errors="ignore") or "file"


def multipart_envelope(
    boundary: str, source: Source, metadata: Mapping[str, Any] | None
) -> tuple[bytes, bytes]:
    """The bytes before and after the content part of a ``POST /v1/files`` body.

    Parts: ``filename`` and ``type`` (text), ``metadata`` (JSON, when given), then
    ``content`` carrying the file with its name and media type.
    """
    name = _cap_filename(source.name)
    content_type = source.content_type.replace("\r", "").replace("\n", "")
    fields: list[tuple[str, str]] = [("filename", name), ("type", content_type)]
    if metadata is not None:
        fields.append(("metadata", json.dumps(metadata, separators=(",", ":"))))
    head = bytearray()
    for field, text in fields:
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{text}\r\n'
        ).encode()
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="content"; filename="{_quote_param(name)}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return bytes(head), f"\r\n--{boundary}--\r\n".encode()


# -- walking an input ---------------------------------------------------------------------


def _output_url(value: object) -> str | None:
    """The URL of a file output passed back as an input (chaining models), else None.

    An output is already hosted: its URL goes as it is, never downloaded and uploaded again
    (a FileOutput also has an async ``read``, so it must be told apart from a file object).
    """
    return value.url if isinstance(value, FileOutputBase) else None


def _is_file_or_output(value: object) -> bool:
    """Whether *value* is encoded to a URL: a file input, or a file output passed back."""
    return isinstance(value, FileOutputBase) or is_file_input(value)


def check_input(input: Mapping[str, Any]) -> None:  # noqa: A002  (the API's field name)
    """Raise ValidationError naming the field path if *input* holds a value JSON cannot carry.

    File inputs (paths, bytes, file objects, outputs) are fine: they are encoded to URLs.
    For callers that read an input before it is encoded (a journal's key and fingerprint).

    Args:
        input: A prediction's input.
    """
    scan_input(input, _is_file_or_output)


def _replace(value: Any, path: str, urls: Mapping[str, str]) -> Any:
    """*value* rebuilt with each file input replaced by its URL (containers become dict/list)."""
    if isinstance(value, Mapping):
        return {key: _replace(item, input_path(path, key), urls) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(item, input_path(path, index), urls) for index, item in enumerate(value)]
    return urls.get(path, value)


async def encode_input(
    upload: Callable[[Source], Awaitable[str]],
    input: Mapping[str, Any],  # noqa: A002  (the API's field name)
    *,
    encoding: FileEncoding,
    max_data_uri_bytes: int,
    copy: bool = True,
) -> Mapping[str, Any]:
    """*input* with every file input replaced by a data URI or an uploaded file's URL.

    The whole input is checked first (:func:`~replicate_async._sansio.inputs.scan_input`):
    a value JSON cannot carry (NaN, a datetime, a cycle...) raises ValidationError naming its
    path before any upload. Files are encoded concurrently; the first failure cancels the
    others and is raised, naming its input. An input without files is returned as a plain
    dict, unchanged.

    Args:
        upload: Uploads one file and returns its URL (the client's uploader, cached).
        input: The prediction's input.
        encoding: ``"auto"``, ``"upload"`` or ``"data_uri"``.
        max_data_uri_bytes: Largest content sent as a data URI under ``"auto"``.
        copy: False returns *input* itself (not a copy) when it has nothing to replace.
    """
    found, rebuild = scan_input(input, _is_file_or_output)
    if not found and not rebuild:
        return dict(input) if copy else input
    urls: dict[str, str] = {}
    failure: list[BaseException] = []

    async def encode_one(path: str, value: Any, scope: anyio.CancelScope) -> None:
        try:
            urls[path] = await _encode_one(upload, path, value, encoding, max_data_uri_bytes)
        except (ReplicateError, OSError, TypeError) as exc:
            failure.append(exc)
            scope.cancel()

    async with anyio.create_task_group() as tg:
        for path, value in found:
            tg.start_soon(encode_one, path, value, tg.cancel_scope)
    if failure:
        raise failure[0]
    return {key: _replace(item, input_path("input", key), urls) for key, item in input.items()}


async def _encode_one(
    upload: Callable[[Source], Awaitable[str]],
    field: str,
    value: Any,
    encoding: FileEncoding,
    limit: int,
) -> str:
    """One file input as a data URI or an uploaded file's URL; errors name *field*."""
    url = _output_url(value)
    if url is not None:
        return url
    try:
        async with open_source(value, memory_limit=limit) as source:
            if encoding == "data_uri" or (encoding == "auto" and source.size <= limit):
                return await source.data_uri()
            return await upload(source)
    except ReplicateError as exc:
        raise upload_error(exc, field, value) from exc
    except (OSError, TypeError) as exc:
        raise read_error(exc, field, value) from exc


async def encode_request(
    request: Request,
    *,
    encoding: FileEncoding,
    max_data_uri_bytes: int,
    upload: Callable[[Source], Awaitable[str]],
) -> Request:
    """A create *request* whose input has every file input replaced by a URL (see encode_input).

    Args:
        request: A create request from ``_sansio.build_create``.
        encoding: ``"auto"``, ``"upload"`` or ``"data_uri"``.
        max_data_uri_bytes: Largest content sent as a data URI under ``"auto"``.
        upload: Uploads one file and returns its URL.
    """
    body = request.json
    if not isinstance(body, Mapping) or not body.get("input"):
        return request
    encoded = await encode_input(
        upload, body["input"], encoding=encoding, max_data_uri_bytes=max_data_uri_bytes, copy=False
    )
    if encoded is body["input"]:
        # No file in it and nothing to rebuild (the common input): the request as built,
        # whose input is its own copy already (no second request per create).
        return request
    return attrs.evolve(request, json={**body, "input": encoded})
