# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""File outputs: a prediction output's file URLs as objects that fetch their bytes.

A prediction's output names its files by URL: ``https://replicate.delivery/...`` for
files the model wrote, or a ``data:`` URI for small ones. :func:`to_file_outputs` turns
every such URL string in an output (nested lists, tuples and dicts too) into a
:class:`FileOutput`; every other string, such as a language model's text chunks, is
left alone.

:class:`FileOutputBase` is what the async :class:`FileOutput` and its blocking twin share:
the URL, name and content type, and how they print, compare and hash. It holds nothing
async, so the sync shell can subclass it and uploads can tell any file output apart from a
file object.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ._naming import safe_file_name
from ._urls import check_url, data_content_type, is_file_url

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from ._downloads import Downloader

__all__ = ["FileOutput", "FileOutputBase", "map_outputs", "to_file_outputs"]

_REPR_URL_LIMIT: Final = 80


class FileOutputBase(abc.ABC):
    """What every file output shares, async or blocking: a URL, a name and a content type.

    ``str(file_output)`` is the URL. Two file outputs are equal when they are of the same
    kind (the direct subclass of this class, such as :class:`FileOutput`) and name the same
    URL; a :class:`FileOutput` never equals the blocking file output that wraps it.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    #: The direct subclass of FileOutputBase this class descends from (set for each subclass).
    _kind: ClassVar[type[FileOutputBase]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if FileOutputBase in cls.__bases__:
            cls._kind = cls

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The file's URL.

        .. versionadded:: 0.1.0
        """

    @property
    @abc.abstractmethod
    def content_type(self) -> str | None:
        """Media type of the file (from a ``data:`` URI, else known once downloaded).

        .. versionadded:: 0.1.0
        """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A file name from the URL, safe to join to a folder (see :func:`safe_file_name`).

        .. versionadded:: 0.1.0
        """

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        shown = self.url
        if len(shown) > _REPR_URL_LIMIT:
            shown = f"{shown[: _REPR_URL_LIMIT - 3]}..."
        return f"{self._kind.__name__}(url={shown!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileOutputBase) or other._kind is not self._kind:
            return NotImplemented
        return self.url == other.url

    def __hash__(self) -> int:
        return hash((self._kind, self.url))


class FileOutput(FileOutputBase):
    """A file in a prediction's output: its URL, and ways to get its bytes.

    ``str(file_output)`` is the URL, so f-strings and code written for plain URLs keep
    working; ``async for chunk in file_output`` streams its bytes. Files are fetched through the client's :class:`Downloader`, which never
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
        check_url(url)
        self._set(url, downloader)

    @classmethod
    def _checked(cls, url: str, downloader: Downloader) -> FileOutput:
        """A FileOutput of *url*, which :func:`is_file_url` accepted already (not checked again)."""
        self = cls.__new__(cls)
        self._set(url, downloader)
        return self

    def _set(self, url: str, downloader: Downloader) -> None:
        self._url = url
        self._downloader = downloader
        self._content_type = data_content_type(url) if url[:5].lower() == "data:" else None
        self._name: str | None = None  # made from the URL when first asked for

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
        name = self._name
        if name is None:
            name = self._name = safe_file_name(self._url, self._content_type)
        return name

    async def read(self) -> bytes:
        """Download the whole file and return its bytes.

        .. versionadded:: 0.1.0
        """
        data, content_type = await self._downloader.read_with_type(self._url)
        self._learn(content_type)
        return data

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        """Stream the file's bytes as they arrive.

        .. versionadded:: 0.1.0
        """
        async with self._downloader.open_stream(self._url) as download:
            self._learn(download.content_type)
            chunks = download.chunks
            try:
                async for chunk in chunks:
                    yield chunk
            finally:
                # Closed with this generator when it is closed early (aclosing, or a task
                # cancelled), rather than left to the garbage collector (trio warns).
                if isinstance(chunks, AsyncGenerator):
                    await chunks.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        """``async for chunk in file_output``: the file's bytes in chunks, as
        :meth:`aiter_bytes` streams them (replicate 1.x's FileOutput iterates so too).

        Each ``async for`` downloads the file again. A loop left early leaves its download
        to the event loop's clean-up of abandoned async generators (trio warns about it):
        to stop early, iterate ``contextlib.aclosing(file_output.aiter_bytes())`` instead.

        .. versionadded:: 0.1.0
        """
        return self.aiter_bytes()

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
        target, content_type = await self._downloader.save_as(self._url, path, name=self.name)
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
    if isinstance(output, str):  # most values: a token of text, a URL
        return leaf(output)
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
        output,
        lambda value: FileOutput._checked(value, downloader()) if is_file_url(value) else value,  # noqa: SLF001
    )
