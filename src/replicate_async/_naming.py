# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Safe file names for downloaded files, and writing them atomically.

A URL's last path segment becomes a name that cannot escape a folder (no separators,
no ``..``, no hidden files, no Windows device names, at most 255 bytes). A file is
written to a temporary file beside its target and renamed into place once complete, so
a failed download never leaves a half-written file.

Package API: :func:`safe_file_name`, :func:`cap_name`, :func:`target_path`,
:func:`temp_name`, :func:`write_atomically`.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import secrets
import unicodedata
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread

from ._urls import data_content_type

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = [
    "FALLBACK_NAME",
    "cap_name",
    "safe_file_name",
    "target_path",
    "temp_name",
    "write_atomically",
]

#: The file name used when a URL gives none.
FALLBACK_NAME: Final = "output"

_MAX_NAME_BYTES: Final = 255
# A temporary file is ".{name}.{12 hex digits}.part": the name keeps what is left of 255 bytes.
_TEMP_TOKEN_BYTES: Final = 6
_TEMP_OVERHEAD: Final = len(".") + len(".") + 2 * _TEMP_TOKEN_BYTES + len(".part")
_MAX_EXTENSION_BYTES: Final = 16
# Characters that are separators or reserved somewhere (POSIX, Windows, macOS).
_UNSAFE_NAME_CHARS: Final = frozenset('/\\:*?"<>|\x00')
_WINDOWS_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


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
        content_type = content_type or data_content_type(url)
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
    return cap_name(cleaned)


def cap_name(name: str, tag: str = "") -> str:
    """*name* with *tag* before its short extension, shortened to at most 255 UTF-8 bytes.

    The tag and a short extension always survive; the rest of the name is cut.

    Args:
        name: A file name that is already safe.
        tag: Text to put before the extension, such as ``"-2"``.
    """
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext if stem and len(ext.encode()) <= _MAX_EXTENSION_BYTES else ""
    body = name[: len(name) - len(suffix)]
    budget = _MAX_NAME_BYTES - len(suffix.encode()) - len(tag.encode())
    return _cut(body, budget) + tag + suffix


def _cut(text: str, limit: int) -> str:
    """*text* cut to at most *limit* UTF-8 bytes, on a character boundary."""
    raw = text.encode(errors="surrogateescape")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode(errors="ignore")


def temp_name(name: str) -> str:
    """The temporary name a file called *name* is written under: at most 255 UTF-8 bytes.

    ``.{name}.{random}.part``, hidden and unique, with *name* cut in bytes (not characters)
    so that the ``.part`` suffix never pushes it past the usual 255-byte file-name limit.

    Args:
        name: The final file name (up to 255 bytes itself).
    """
    prefix = _cut(name, _MAX_NAME_BYTES - _TEMP_OVERHEAD)
    return f".{prefix}.{secrets.token_hex(_TEMP_TOKEN_BYTES)}.part"


def target_path(path: str | os.PathLike[str], name: str) -> Path:
    """The file to write: *path* itself, or *name* inside it when it is a folder.

    Args:
        path: A file path, or a folder (existing, or ending with a separator).
        name: The file name to use inside a folder; it must be safe (:func:`safe_file_name`).
    """
    raw = os.fspath(path)
    base = Path(raw)
    if base.is_dir() or raw.endswith(("/", os.sep)):
        return base / name
    return base


async def write_atomically(chunks: AsyncIterator[bytes], target: Path) -> None:
    """Stream *chunks* to a temporary file beside *target*, then rename it into place.

    Args:
        chunks: The file's bytes.
        target: The file to create or replace; on failure it is left untouched.
    """
    tmp = target.with_name(temp_name(target.name))
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
