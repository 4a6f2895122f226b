"""Response models: frozen attrs classes mirroring the Replicate JSON objects.

Attribute names are the JSON keys. Models are pure data: no client reference,
no I/O. Unknown keys sent by the server are kept in ``extra`` (excluded from
``repr`` and equality) so newer API fields survive a round trip.

Every response model is an :class:`APIObject`: ``to_dict()`` / ``to_json()`` give it back as
the API's JSON through the package's one converter. ``_converters`` names no model (its hooks
are keyed by type and predicate), so importing it from here makes no cycle. Values that may be
huge (a data URI in ``input``, a language model's tokens, long logs) are cut in ``repr`` by
:func:`short_repr`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import datetime  # noqa: TC003  (read at runtime by attrs and cattrs)
from typing import Any, Final, Generic, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

import attrs

from ._converters import unstructure

__all__ = [
    "REPR_CUT",
    "APIObject",
    "Deployment",
    "File",
    "FileUrls",
    "Page",
    "Prediction",
    "PredictionMetrics",
    "PredictionProgress",
    "PredictionStatus",
    "PredictionUrls",
    "short_repr",
]

T = TypeVar("T")

REPR_CUT: Final = 200
"""Characters of a string (or of any other value's repr) a model's ``repr`` shows."""

_REPR_ITEMS: Final = 20  # items of one list or dict shown in a repr
_REPR_ROOM: Final = 600  # characters one field's repr may take before its items are cut
_REPR_DEPTH: Final = 6  # nesting shown in a repr


def short_repr(value: object) -> str:
    """``repr(value)``, kept short: long strings cut, long or deep containers cut.

    A string longer than :data:`REPR_CUT` shows its start and its length:
    ``'data:image/png;base64,iVBO...'...(267400 chars)``. Lists, tuples and dicts show their
    first items until about 600 characters are written, then ``...(N more)``. Any other value
    is its ``repr``, cut likewise.

    Args:
        value: A field's value (JSON-like: strings, numbers, lists, dicts; or a model).

    .. versionadded:: 0.1.0
    """
    cutter = _Cutter()
    cutter.write(value, 0)
    return "".join(cutter.parts)


class _Cutter:
    """Writes one value's short repr, counting the room left."""

    __slots__ = ("parts", "room")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.room = _REPR_ROOM

    def put(self, text: str) -> None:
        """Write *text*, taking its length from the room."""
        self.parts.append(text)
        self.room -= len(text)

    def write(self, value: object, depth: int) -> None:
        """Write one value: a string or bytes cut, a container's items, any other repr cut."""
        if isinstance(value, str | bytes):
            cut = repr(value[:REPR_CUT])
            unit = "chars" if isinstance(value, str) else "bytes"
            self.put(cut if len(value) <= REPR_CUT else f"{cut}...({len(value)} {unit})")
        elif isinstance(value, Mapping | list | tuple):
            self.write_items(value, depth)
        else:
            shown = repr(value)
            if len(shown) > REPR_CUT:
                shown = f"{shown[:REPR_CUT]}...({len(shown)} chars)"
            self.put(shown)

    def write_items(
        self, value: Mapping[Any, Any] | list[Any] | tuple[Any, ...], depth: int
    ) -> None:
        """Write a list, tuple or dict: its first items while there is room, then a count."""
        opening, closing = ("{", "}") if isinstance(value, Mapping) else ("(", ")")
        if isinstance(value, list):
            opening, closing = "[", "]"
        if depth >= _REPR_DEPTH and value:
            self.put(f"{opening}...({len(value)} items){closing}")
            return
        self.put(opening)
        items = value.items() if isinstance(value, Mapping) else value
        for index, item in enumerate(items):
            if index:
                self.put(", ")
            if index >= _REPR_ITEMS or self.room <= 0:
                self.put(f"...({len(value) - index} more)")
                break
            if isinstance(value, Mapping):
                self.write(item[0], depth + 1)
                self.put(": ")
                self.write(item[1], depth + 1)
            else:
                self.write(item, depth + 1)
        if isinstance(value, tuple) and len(value) == 1:
            self.put(",")
        self.put(closing)


class APIObject:
    """What every response model shares: it turns back into the API's JSON.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The object as the API's JSON object: its keys, with the keys this version does
        not know (``extra``) included, datetimes as RFC 3339 strings (``...Z`` for UTC),
        the status as its string (``"unknown"`` for one this version does not know), tuples
        as lists.

        Decoding the result again gives an equal object; ``json.dumps`` takes it as it is
        when the model's input and output are JSON (they are, as the API sent them).

        .. versionadded:: 0.1.0
        """
        data: dict[str, Any] = unstructure(self)
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON text (UTF-8 characters kept as they are).

        Args:
            indent: Indent nested values by this many spaces; None writes one line.

        .. versionadded:: 0.1.0
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


class PredictionStatus(enum.StrEnum):
    """The status of a prediction.

    Terminal means ``succeeded``, ``failed``, ``canceled`` or ``aborted``, nothing else.
    A status string this version does not know becomes :attr:`UNKNOWN`, which is not
    terminal: polling goes on until the server says something we understand.

    .. versionadded:: 0.1.0
    """

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ABORTED = "aborted"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> PredictionStatus | None:
        """Map any other string to UNKNOWN (forward compatibility); reject non-strings."""
        if isinstance(value, str):
            return cls.UNKNOWN
        return None

    @property
    def is_terminal(self) -> bool:
        """Whether the prediction will not change any more.

        .. versionadded:: 0.1.0
        """
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        PredictionStatus.SUCCEEDED,
        PredictionStatus.FAILED,
        PredictionStatus.CANCELED,
        PredictionStatus.ABORTED,
    }
)


# A tqdm-like bar: "76%|███████▌  | 7568/10000 [00:33<00:10, 229.00it/s]", maybe after a
# description ("Sampling:  76%|..."). Bounded digit runs: int() of thousands of digits raises.
_PROGRESS_RE: Final = re.compile(r"(?<!\d)(\d{1,3})%\s*\|[^|]*\|\s*(\d{1,18})/(\d{1,18})(?!\d)")


@attrs.frozen
class PredictionProgress:
    """How far a prediction is, read from the last progress bar in its logs.

    Models print progress bars with tqdm (``76%|███████▌  | 7568/10000 [00:33<00:10]``);
    the official clients parse the same lines and give the same three numbers.

    Args:
        percentage: The fraction done, 0.0 to 1.0, as the bar printed it: ``76%`` is 0.76
            (the official clients' convention).
        current: Steps done, e.g. 7568.
        total: Steps in all, e.g. 10000.

    .. versionadded:: 0.1.0
    """

    percentage: float
    current: int
    total: int

    @classmethod
    def from_logs(cls, logs: str | None) -> Self | None:
        """The progress of the last progress bar line in *logs*; None when there is none.

        Lines end at a line feed or a carriage return (tqdm redraws its bar after one), so
        the newest redraw counts. Lines after the bar that are not bars do not hide it.

        Args:
            logs: A prediction's logs (or a stream's ``logs`` events joined).

        .. versionadded:: 0.1.0
        """
        if not logs:
            return None
        end = len(logs)
        while end >= 0:
            start = max(logs.rfind("\n", 0, end), logs.rfind("\r", 0, end)) + 1
            found = _PROGRESS_RE.search(logs, start, end)
            if found is not None:
                percent, current, total = (int(group) for group in found.groups())
                return cls(percent / 100, current, total)
            end = start - 1
        return None


@attrs.frozen(kw_only=True)
class PredictionUrls(APIObject):
    """The ``urls`` object of a prediction.

    Args:
        get: The API URL of the prediction.
        cancel: The API URL that cancels it.
        web: Its page on replicate.com.
        stream: The server-sent-events URL, present only for models that stream.
        extra: Keys this version does not know.

    .. versionadded:: 0.1.0
    """

    get: str | None = None
    cancel: str | None = None
    web: str | None = None
    stream: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class PredictionMetrics(APIObject):
    """The ``metrics`` object of a prediction.

    Models may add their own keys (language models add token counts); they are in ``extra``.

    Args:
        predict_time: Seconds the model ran, without queueing.
        total_time: Seconds from creation to completion.
        extra: The other metrics, e.g. ``input_token_count``.

    .. versionadded:: 0.1.0
    """

    predict_time: float | None = None
    total_time: float | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Prediction(APIObject):
    """A prediction, as the API returns it.

    Only ``id`` and ``status`` are required: field presence has drifted across the API's
    history, so everything else has a default. :attr:`progress` reads the model's progress
    bar from ``logs``; ``to_dict()`` / ``to_json()`` give the API's JSON back. Its ``repr``
    cuts long values (a data URI in ``input``, long logs or output) and leaves ``extra`` out.

    Args:
        id: The prediction id (26 lowercase characters).
        status: Where it is in its lifecycle.
        model: ``owner/name`` of the model.
        version: The 64-hex version id, ``"hidden"`` for official models, or a pseudo version.
        input: The input as the server normalised it, passed through untouched.
        output: The output (any JSON value), passed through untouched. While the status is
            ``processing`` it may be partial.
        logs: The model's logs so far.
        error: The error text of a failed prediction.
        created_at: When it was created.
        started_at: When the model started running it.
        completed_at: When it reached a terminal status.
        deadline: When the server cancels it (set by ``Cancel-After``).
        urls: Its API and web URLs.
        metrics: Timings and model-defined counters.
        data_removed: Whether input, output and logs were purged by retention.
        source: ``"api"`` or ``"web"``.
        deployment: The deployment that ran it, if any.
        webhook: The webhook URL given at creation.
        webhook_events_filter: The webhook events asked for.
        extra: Keys this version does not know, kept for round trips.

    .. versionadded:: 0.1.0
    """

    id: str
    status: PredictionStatus
    model: str | None = None
    version: str | None = None
    input: Mapping[str, Any] = attrs.field(factory=dict, repr=short_repr)
    output: Any = attrs.field(default=None, repr=short_repr)
    logs: str | None = attrs.field(default=None, repr=short_repr)
    error: Any = attrs.field(default=None, repr=short_repr)
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    deadline: datetime | None = None
    urls: PredictionUrls = attrs.field(factory=PredictionUrls)
    metrics: PredictionMetrics | None = None
    data_removed: bool = False
    source: str | None = None
    deployment: str | None = None
    webhook: str | None = None
    webhook_events_filter: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def progress(self) -> PredictionProgress | None:
        """How far the model is, from the last progress bar in ``logs`` (tqdm-like:
        ``76%|███▌ | 7568/10000``); None while the logs show none.

        .. versionadded:: 0.1.0
        """
        return PredictionProgress.from_logs(self.logs)


@attrs.frozen(kw_only=True)
class Page(APIObject, Generic[T]):
    """One page of a paginated list.

    Pages come from a list's ``.page(cursor)``; iterating the list itself walks them all.

    Args:
        results: The items on this page.
        next: The absolute URL of the next page, or None on the last page.
        previous: The absolute URL of the previous page, or None on the first.
        extra: Keys this version does not know.

    .. versionadded:: 0.1.0
    """

    results: tuple[T, ...] = attrs.field(default=(), repr=short_repr)
    next: str | None = None
    previous: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def next_cursor(self) -> str | None:
        """The ``cursor`` of the next page's link: pass it to ``.page(cursor)`` later.

        .. versionadded:: 0.1.0
        """
        return _cursor_of(self.next)

    @property
    def previous_cursor(self) -> str | None:
        """The ``cursor`` of the previous page's link.

        .. versionadded:: 0.1.0
        """
        return _cursor_of(self.previous)


def _cursor_of(url: str | None) -> str | None:
    """The ``cursor`` query parameter of a page link, or None."""
    if not url:
        return None
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "cursor":
            return value
    return None


@attrs.frozen(kw_only=True)
class FileUrls(APIObject):
    """The ``urls`` object of an uploaded file.

    Args:
        get: The file's API URL, ``https://api.replicate.com/v1/files/{id}``: what goes into a
            prediction's input.
        extra: Keys this version does not know.

    .. versionadded:: 0.1.0
    """

    get: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class File(APIObject):
    """A file uploaded through the Files API (``client.files``).

    Only ``id`` is required; everything else has a default, as for predictions.

    Args:
        id: The file id.
        name: The file name given at upload.
        content_type: Its media type, e.g. ``"image/png"``.
        size: Its size in bytes.
        etag: The server's entity tag (an MD5 hex digest).
        checksums: Digests by algorithm, e.g. ``{"sha256": "..."}``.
        metadata: The JSON metadata given at upload.
        created_at: When it was uploaded.
        expires_at: When the server deletes it (24 hours after upload).
        urls: Its API URL (``urls.get``), the value to put into a prediction's input.
        extra: Keys this version does not know.

    .. versionadded:: 0.1.0
    """

    id: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    etag: str | None = None
    checksums: Mapping[str, Any] = attrs.field(factory=dict)
    metadata: Any = attrs.field(default=None, repr=short_repr)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    urls: FileUrls = attrs.field(factory=FileUrls)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Deployment:
    """A model reference meaning "run this deployment": ``Deployment("owner/name")``.

    Args:
        name: The deployment as ``owner/name``.

    .. versionadded:: 0.1.0
    """

    name: str
