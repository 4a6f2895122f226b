"""Response models: frozen attrs classes mirroring the Replicate JSON objects.

Attribute names are the JSON keys. Models are pure data: no client reference,
no I/O. Unknown keys sent by the server are kept in ``extra`` (excluded from
``repr`` and equality) so newer API fields survive a round trip.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping  # noqa: TC003  (read at runtime by attrs and cattrs)
from datetime import datetime  # noqa: TC003  (read at runtime by attrs and cattrs)
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

import attrs

__all__ = [
    "Deployment",
    "File",
    "FileUrls",
    "Page",
    "Prediction",
    "PredictionMetrics",
    "PredictionStatus",
    "PredictionUrls",
]

T = TypeVar("T")


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


@attrs.frozen(kw_only=True)
class PredictionUrls:
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
class PredictionMetrics:
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
class Prediction:
    """A prediction, as the API returns it.

    Only ``id`` and ``status`` are required: field presence has drifted across the API's
    history, so everything else has a default.

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
    input: Mapping[str, Any] = attrs.field(factory=dict)
    output: Any = None
    logs: str | None = None
    error: Any = None
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


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a paginated list.

    Pages come from a list's ``.page(cursor)``; iterating the list itself walks them all.

    Args:
        results: The items on this page.
        next: The absolute URL of the next page, or None on the last page.
        previous: The absolute URL of the previous page, or None on the first.
        extra: Keys this version does not know.

    .. versionadded:: 0.1.0
    """

    results: tuple[T, ...] = ()
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
class FileUrls:
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
class File:
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
    metadata: Any = None
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
