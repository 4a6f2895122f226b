# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The blocking ``Client``: an :class:`AsyncClient` on a private event-loop thread.

Every blocking method is its async twin run through the client's one portal
(:mod:`replicate_async._portal`): most are made from the async method by :func:`forward`,
with its parameters, return type and docstring. Written out here are only those whose
result changes: file outputs become :class:`SyncFileOutput`, async iterators and streams
become plain ones.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal, Self, Unpack, overload

from ._client import AsyncClient
from ._file_output import FileOutput, FileOutputBase, map_outputs
from ._generating import Generation, make_generation
from ._portal import Portal, SyncTwin, forward, forward_iter, shaped_like
from ._resources.files import AsyncFiles
from ._resources.predictions import AsyncPredictions
from ._resources.webhooks import AsyncWebhooks
from ._streaming import PredictionStream
from ._sync_api import (
    SyncAccount,
    SyncCollections,
    SyncDeployments,
    SyncHardware,
    SyncModels,
    SyncTrainings,
)
from ._sync_pages import forward_pages

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path
    from types import TracebackType

    from ._api_objects import SearchResults
    from ._client import BatchOptions
    from ._jobs import JobSpec
    from ._models import Prediction
    from ._streaming import StreamEvent
    from .catalog import Catalog

__all__ = [
    "Client",
    "SyncFileOutput",
    "SyncFiles",
    "SyncPredictionStream",
    "SyncPredictions",
    "SyncWebhooks",
]


class Client(SyncTwin[AsyncClient]):
    """The blocking client: the same methods as :class:`AsyncClient`, as plain calls.

    It runs an :class:`AsyncClient` on a private event-loop thread (one anyio blocking
    portal for the client's whole life), so the sync and async clients behave the same.
    Use it from scripts, from worker threads and from notebooks, and share it between
    threads. Where an event loop already runs in the calling thread (a Jupyter cell), a
    call blocks that thread, and so that loop, until it returns, as any blocking call does:
    in a notebook that is what you want; in an async service, await :class:`AsyncClient`
    instead. A call from the client's own loop thread (from an ``on_progress`` callback)
    raises :class:`RuntimeError`, since it would wait for itself. Close it with
    ``with Client() as client:`` or :meth:`close`.

    ``run`` returns file outputs as :class:`SyncFileOutput` (plain ``read()``, ``save()``,
    ``iter_bytes()``), and ``predictions.list()`` is a plain iterator that fetches pages
    as you go. Ctrl-C during a call cancels it on the loop thread first, so ``run``
    still cancels the abandoned prediction remotely before ``KeyboardInterrupt`` reaches
    you (waiting at most :data:`INTERRUPT_GRACE` seconds; a second Ctrl-C stops waiting).

    It takes :class:`AsyncClient`'s arguments:

    Args:
        api_token: The API token; ``REPLICATE_API_TOKEN`` when None.
        base_url: The API root; ``REPLICATE_BASE_URL`` or ``https://api.replicate.com``
            when None.
        timeouts: HTTP timeouts per phase.
        retry: How failed requests are retried.
        poll: How a prediction is polled until it is terminal.
        max_concurrency: Most requests in flight at once.
        rate_limits: The account's rate limits, enforced on the client side.
        rate_limiter: Where the limits' buckets live: None (this client), a ``redis://`` URL
            or a :class:`~replicate_async.RedisRateLimiter` (shared by every process).
        user_agent: The ``User-Agent`` header; ``replicate-async/<version>`` when None.
        transport: An httpx transport to use (tests inject one).
        http_client: An ``httpx.AsyncClient`` to use for API requests.
        file_encoding: How file inputs are sent: ``"auto"``, ``"upload"`` or ``"data_uri"``.
        max_data_uri_bytes: The largest file sent as a data URI under ``"auto"``.

    .. versionadded:: 0.1.0
    """

    @shaped_like(AsyncClient.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bridge = self._bridge = Portal()
        # Built inside the portal's loop: its HTTP pool belongs to that loop.
        self._async = bridge.start(lambda: AsyncClient(*args, **kwargs))
        # The portal's parts under the names the tests drive them by.
        self._portal = bridge.portal
        self._open_iterators = bridge.open_iterators
        self._call = bridge.call
        self._iterate = bridge.iterate
        self.predictions: SyncPredictions = SyncPredictions(self._async.predictions, self)
        """Create, get, cancel, wait for and list predictions (blocking)."""
        self.webhooks: SyncWebhooks = SyncWebhooks(self._async.webhooks, self)
        """The webhook signing secret (blocking)."""
        self.files: SyncFiles = SyncFiles(self._async.files, self)
        """Upload, get, list, delete and download files (blocking)."""
        self.catalog: Catalog = self._async.catalog
        """Typed requests mapped to each model's inputs, without I/O (the async client's own)."""
        self.models: SyncModels = SyncModels(self._async.models, self)
        """Models, their versions, examples and README (blocking)."""
        self.deployments: SyncDeployments = SyncDeployments(self._async.deployments, self)
        """Deployments, and predictions through one (blocking)."""
        self.trainings: SyncTrainings = SyncTrainings(self._async.trainings, self)
        """Create, get, list, cancel and wait for trainings (blocking)."""
        self.collections: SyncCollections = SyncCollections(self._async.collections, self)
        """Curated collections of models (blocking)."""
        self.hardware: SyncHardware = SyncHardware(self._async.hardware, self)
        """The hardware models and deployments run on (blocking)."""
        self.account: SyncAccount = SyncAccount(self._async.account, self)
        """The account the token belongs to (blocking)."""

    def __repr__(self) -> str:
        state = "closed" if self._bridge.closed else "open"
        return f"<Client {state}>"

    def __enter__(self) -> Self:
        self._bridge.check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the async client and stop the event-loop thread; closing twice is fine.

        .. versionadded:: 0.1.0
        """
        self._bridge.close(self._async.aclose)

    # The hand-written wrappers below take their async twin's parameters and docstring
    # (shaped_like); each changes only the result.

    @shaped_like(AsyncClient.run)
    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self._sync_outputs(self._bridge.call(self._async.run, *args, **kwargs))

    @shaped_like(AsyncClient.generate)
    def generate(self, *args: Any, **kwargs: Any) -> Generation[SyncFileOutput]:
        done = self._bridge.call(self._async.generate, *args, **kwargs)
        output = self._sync_outputs(done.output)
        return make_generation(
            done.model, done.prediction, output, input=done.input, dropped=done.dropped
        )

    @shaped_like(AsyncClient.stream)
    def stream(self, *args: Any, **kwargs: Any) -> SyncPredictionStream:
        self._bridge.check()
        return SyncPredictionStream(self._async.stream(*args, **kwargs), self)

    # Typed by overloads as AsyncClient's are (run_many: by return_exceptions; save_all: by the
    # output's shape); shaped_like gives the implementations the async parameters and docstring.
    @overload
    def run_many(
        self,
        jobs: Iterable[JobSpec],
        *,
        return_exceptions: Literal[False] = False,
        **options: Unpack[BatchOptions],
    ) -> list[Any]: ...
    @overload
    def run_many(
        self, jobs: Iterable[JobSpec], *, return_exceptions: bool, **options: Unpack[BatchOptions]
    ) -> list[Any | Exception]: ...
    def run_many(self, *args: Any, **kwargs: Any) -> list[Any] | list[Any | Exception]:
        outputs = self._bridge.call(self._async.run_many, *args, **kwargs)
        return [self._sync_outputs(output) for output in outputs]

    shaped_like(AsyncClient.run_many)(run_many)

    @shaped_like(AsyncClient.as_completed)
    def as_completed(self, *args: Any, **kwargs: Any) -> Iterator[tuple[int, Any]]:
        results = self._bridge.iterate(lambda: self._async.as_completed(*args, **kwargs))
        return ((index, self._sync_outputs(result)) for index, result in results)

    @overload
    def save_all(
        self, output: SyncFileOutput, folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> Path: ...
    @overload
    def save_all(
        self,
        output: SyncFileOutput | None,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> Path | None: ...
    @overload
    def save_all(
        self,
        output: list[SyncFileOutput],
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> list[Path]: ...
    @overload
    def save_all(
        self,
        output: tuple[SyncFileOutput, ...],
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> tuple[Path, ...]: ...
    @overload
    def save_all(
        self,
        output: Mapping[str, SyncFileOutput],
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> dict[str, Path]: ...
    @overload
    def save_all(
        self, output: Any, folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> Any: ...
    def save_all(self, output: Any, *args: Any, **kwargs: Any) -> Any:
        plain = map_outputs(
            output,
            lambda value: self._twin_of(value) if isinstance(value, SyncFileOutput) else value,
        )
        return self._bridge.call(self._async.save_all, plain, *args, **kwargs)

    shaped_like(AsyncClient.save_all)(save_all)

    @shaped_like(AsyncClient.search)
    def search(self, *args: Any, **kwargs: Any) -> SearchResults:
        return self._bridge.call(self._async.search, *args, **kwargs)

    def _sync_outputs(self, output: Any) -> Any:
        """*output* with its FileOutput objects as SyncFileOutput."""
        return map_outputs(
            output,
            lambda value: SyncFileOutput(value, self) if isinstance(value, FileOutput) else value,
        )


class SyncPredictions(SyncTwin[AsyncPredictions]):
    """``client.predictions`` on the blocking :class:`Client`: the async methods as plain calls.

    .. versionadded:: 0.1.0
    """

    create = forward(AsyncPredictions.create)
    get = forward(AsyncPredictions.get)
    cancel = forward(AsyncPredictions.cancel)
    wait = forward(AsyncPredictions.wait)
    list = forward_pages(AsyncPredictions.list)

    @shaped_like(AsyncPredictions.stream)
    def stream(self, *args: Any, **kwargs: Any) -> SyncPredictionStream:
        self._bridge.check()
        return SyncPredictionStream(self._async.stream(*args, **kwargs), self)


class SyncFiles(SyncTwin[AsyncFiles]):
    """``client.files`` on the blocking :class:`Client`: the Files API as plain calls.

    .. versionadded:: 0.1.0
    """

    create = forward(AsyncFiles.create)
    get = forward(AsyncFiles.get)
    list = forward_pages(AsyncFiles.list)
    delete = forward(AsyncFiles.delete)
    read = forward(AsyncFiles.read)
    iter_bytes = forward_iter(AsyncFiles.aiter_bytes)
    save = forward(AsyncFiles.save)


class SyncWebhooks(SyncTwin[AsyncWebhooks]):
    """``client.webhooks`` on the blocking :class:`Client`.

    .. versionadded:: 0.1.0
    """

    default_secret = forward(AsyncWebhooks.default_secret)


class SyncPredictionStream(SyncTwin[PredictionStream]):
    """A prediction's output stream on the blocking :class:`Client`: ``for event in ...``.

    The events and errors of :class:`~replicate_async.PredictionStream`, read lazily on
    the client's event-loop thread. Use ``with client.stream(...) as events:`` (or
    :meth:`close`) when you may stop early: closing a stream that
    :meth:`Client.stream` started before its ``done`` cancels the prediction remotely.

    Args:
        stream: The async stream this one drives.
        client: The client whose event-loop thread reads it.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_events",)

    def __init__(self, stream: PredictionStream, client: SyncTwin[Any]) -> None:
        super().__init__(stream, client)
        self._events: Iterator[StreamEvent] | None = None

    def __repr__(self) -> str:
        return "Sync" + repr(self._async)

    @property
    def prediction(self) -> Prediction | None:
        """The prediction as created (or as given); None before the first event was asked for.

        .. versionadded:: 0.1.0
        """
        return self._async.prediction

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event received, to resume with ``predictions.stream(...)``.

        .. versionadded:: 0.1.0
        """
        return self._async.last_event_id

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> StreamEvent:
        if self._events is None:
            stream = self._async
            self._events = self._bridge.iterate(lambda: stream)
        return next(self._events)

    text = forward_iter(PredictionStream.text)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading: close the connection, cancelling the prediction if it was left early.

        .. versionadded:: 0.1.0
        """
        events, self._events = self._events, None
        if isinstance(events, Generator):
            events.close()
        if not self._bridge.closed:
            self._bridge.call(self._async.aclose)


class SyncFileOutput(FileOutputBase, SyncTwin[FileOutput]):
    """A file in a :class:`Client` run's output: :class:`FileOutput` with plain calls.

    ``str(file_output)`` is the URL; ``for chunk in file_output`` streams its bytes.
    Downloads never carry the API token; output files expire an hour after the prediction
    finishes.

    Args:
        output: The async file output this one wraps.
        client: The client whose event-loop thread runs the downloads.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def __init__(self, output: FileOutput, client: SyncTwin[Any]) -> None:
        super().__init__(output, client)

    @property
    def url(self) -> str:
        """The file's URL.

        .. versionadded:: 0.1.0
        """
        return self._async.url

    @property
    def content_type(self) -> str | None:
        """Media type of the file (from a ``data:`` URI, else known once downloaded).

        .. versionadded:: 0.1.0
        """
        return self._async.content_type

    @property
    def name(self) -> str:
        """A file name from the URL, safe to join to a folder.

        .. versionadded:: 0.1.0
        """
        return self._async.name

    read = forward(FileOutput.read)

    @shaped_like(FileOutput.aiter_bytes)
    def iter_bytes(self) -> Iterator[bytes]:
        return self._bridge.iterate(self._async.aiter_bytes)

    save = forward(FileOutput.save)

    def __iter__(self) -> Iterator[bytes]:
        """``for chunk in file_output``: the file's bytes in chunks, as :meth:`iter_bytes`
        gives them (replicate 1.x's FileOutput iterates so too).

        Each loop downloads the file again; leaving it early stops the download once the
        iterator is collected (at once on CPython).

        .. versionadded:: 0.1.0
        """
        return self.iter_bytes()
