# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The blocking ``Client``: an :class:`AsyncClient` on a private event-loop thread.

``Client`` enters :func:`anyio.from_thread.start_blocking_portal` once for its whole
life, builds its ``AsyncClient`` inside the portal's loop, and forwards every method
through the portal: the retry, polling and timeout logic lives only in the async
client, and an ``httpx.AsyncClient`` stays on the loop that made it (encode/httpx#2473).
There is no ``anyio.run`` per call and no ``BlockingPortalProvider`` (which would stop
the loop when its last user leaves).

Async iterators (``predictions.list()``, a file's bytes) are driven by one task in the
portal, which fetches an item each time the caller asks for one, so they stay lazy and
every ``async with`` inside them opens and closes in the same task.

A ``KeyboardInterrupt`` while a call blocks cancels that call's task in the portal and
waits (briefly) for it to unwind, so the async client's shielded remote cancel of an
abandoned prediction runs before the interrupt propagates (promise 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, ParamSpec, Self, TypeVar

import anyio
import anyio.from_thread

from ._client import DEFAULT_MAX_CONCURRENCY, AsyncClient
from ._config import DEFAULT_SAVE_CONCURRENCY, USE_CLIENT_DEFAULT
from ._file_output import FileOutput, map_outputs
from ._resources.files import AsyncFiles
from ._resources.predictions import DEFAULT_WAIT_TIMEOUT, AsyncPredictions
from ._resources.webhooks import AsyncWebhooks
from ._uploads import DEFAULT_MAX_DATA_URI_BYTES

if TYPE_CHECKING:
    import os
    from collections.abc import (
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Iterator,
        Mapping,
        Sequence,
    )
    from concurrent.futures import Future
    from contextlib import AbstractContextManager
    from datetime import timedelta
    from pathlib import Path
    from types import TracebackType

    import httpx
    from anyio.abc import TaskStatus
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from ._config import PollPolicy, RetryPolicy, Timeouts, UseClientDefault
    from ._fanout import JobSpec, ProgressEvent
    from ._models import Deployment, File, Prediction
    from ._ratelimit import RateLimits
    from ._streaming import PredictionStream, StreamEvent
    from ._uploads import FileEncoding

__all__ = [
    "Client",
    "SyncFileOutput",
    "SyncFiles",
    "SyncPredictionStream",
    "SyncPredictions",
    "SyncWebhooks",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_F = TypeVar("_F", bound="Callable[..., Any]")

#: Most seconds a Ctrl-C waits for the interrupted call to clean up (its remote cancel).
INTERRUPT_GRACE: Final = 15.0
#: Most seconds closing an abandoned iterator may take inside the portal.
_ITERATOR_CLOSE_GRACE: Final = 5.0
_CLOSED: Final = "this Client is closed; make a new one (or use `with Client() as client:`)"


def _mirrors(async_func: Callable[..., Any]) -> Callable[[_F], _F]:
    """Give a blocking method its async twin's docstring, so the two never drift apart."""

    def mirror(func: _F) -> _F:
        func.__doc__ = async_func.__doc__
        return func

    return mirror


def _running_event_loop() -> str | None:
    """The name of the event loop running in this thread, if any (asyncio or trio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            return None
        return "trio"
    return None


class Client:
    """The blocking client: the same methods as :class:`AsyncClient`, as plain calls.

    It runs an :class:`AsyncClient` on a private event-loop thread (one anyio blocking
    portal for the client's whole life), so the sync and async clients behave the same.
    Use it from scripts and from worker threads, also while another event loop runs in
    the main thread, and share it between threads. Inside a running event loop it raises
    :class:`RuntimeError`: use :class:`AsyncClient` there. Close it with
    ``with Client() as client:`` or :meth:`close`.

    ``run`` returns file outputs as :class:`SyncFileOutput` (plain ``read()``, ``save()``,
    ``iter_bytes()``), and ``predictions.list()`` is a plain iterator that fetches pages
    as you go. Ctrl-C during a call cancels it on the loop thread first, so ``run``
    still cancels the abandoned prediction remotely before ``KeyboardInterrupt`` reaches
    you (waiting at most :data:`INTERRUPT_GRACE` seconds; a second Ctrl-C stops waiting).

    Args:
        api_token: The API token; ``REPLICATE_API_TOKEN`` when None.
        base_url: The API root; ``REPLICATE_BASE_URL`` or ``https://api.replicate.com``
            when None.
        timeouts: HTTP timeouts per phase.
        retry: How failed requests are retried.
        poll: How a prediction is polled until it is terminal.
        max_concurrency: Most requests in flight at once.
        rate_limits: The account's rate limits, enforced on the client side.
        user_agent: The ``User-Agent`` header; ``replicate-async/<version>`` when None.
        transport: An httpx transport to use (tests inject one).
        http_client: An ``httpx.AsyncClient`` to use for API requests.
        file_encoding: How file inputs are sent: ``"auto"``, ``"upload"`` or ``"data_uri"``.
        max_data_uri_bytes: The largest file sent as a data URI under ``"auto"``.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limits: RateLimits | None = None,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        file_encoding: FileEncoding = "auto",
        max_data_uri_bytes: int = DEFAULT_MAX_DATA_URI_BYTES,
    ) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._open_iterators: set[Future[Any]] = set()
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal("asyncio", name="replicate-async-portal")
        )
        self._portal = self._portal_cm.__enter__()
        try:
            # Built inside the portal's loop: its HTTP pool belongs to that loop.
            self._async = self._portal.call(
                lambda: AsyncClient(
                    api_token,
                    base_url,
                    timeouts=timeouts,
                    retry=retry,
                    poll=poll,
                    max_concurrency=max_concurrency,
                    rate_limits=rate_limits,
                    user_agent=user_agent,
                    transport=transport,
                    http_client=http_client,
                    file_encoding=file_encoding,
                    max_data_uri_bytes=max_data_uri_bytes,
                )
            )
        except BaseException:
            self._portal_cm.__exit__(*sys.exc_info())
            raise
        self.predictions: SyncPredictions = SyncPredictions(self)
        """Create, get, cancel, wait for and list predictions (blocking)."""
        self.webhooks: SyncWebhooks = SyncWebhooks(self)
        """The webhook signing secret (blocking)."""
        self.files: SyncFiles = SyncFiles(self)
        """Upload, get, list, delete and download files (blocking)."""

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Client {state}>"

    def __enter__(self) -> Self:
        if self._closed:
            raise RuntimeError(_CLOSED)
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
        with self._lock:
            if self._closed:
                return
            self._closed = True
            iterators = list(self._open_iterators)
            self._open_iterators.clear()
        for future in iterators:
            future.cancel()
        try:
            self._portal.call(self._async.aclose)
        finally:
            self._portal_cm.__exit__(None, None, None)

    @_mirrors(AsyncClient.run)
    def run(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002  (the API's own name)
        *,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        file_encoding: FileEncoding | UseClientDefault = USE_CLIENT_DEFAULT,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> Any:
        """Run a model and return its output (the docstring is :meth:`AsyncClient.run`'s)."""
        output = self._call(
            self._async.run,
            ref,
            input,
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        return map_outputs(
            output,
            lambda value: SyncFileOutput(value, self) if isinstance(value, FileOutput) else value,
        )

    @_mirrors(AsyncClient.stream)
    def stream(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002  (the API's own name)
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> SyncPredictionStream:
        """Stream a model's output (the docstring is :meth:`AsyncClient.stream`'s)."""
        self._portal_or_raise()
        stream = self._async.stream(
            ref,
            input,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        return SyncPredictionStream(stream, self)

    @_mirrors(AsyncClient.run_many)
    def run_many(
        self,
        jobs: Iterable[JobSpec],
        *,
        concurrency: int = 64,
        return_exceptions: bool = False,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        journal: str | os.PathLike[str] | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> list[Any]:
        """Run many jobs (the docstring is :meth:`AsyncClient.run_many`'s)."""
        outputs = self._call(
            self._async.run_many,
            jobs,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            use_file_output=use_file_output,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            journal=journal,
            recreate_unknown=recreate_unknown,
            on_progress=on_progress,
        )
        return [self._sync_outputs(output) for output in outputs]

    @_mirrors(AsyncClient.as_completed)
    def as_completed(
        self,
        jobs: Iterable[JobSpec],
        *,
        concurrency: int = 64,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        journal: str | os.PathLike[str] | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield results as jobs finish (the docstring is :meth:`AsyncClient.as_completed`'s)."""
        results = self._iterate(
            lambda: self._async.as_completed(
                jobs,
                concurrency=concurrency,
                wait=wait,
                timeout=timeout,
                cancel_on_timeout=cancel_on_timeout,
                use_file_output=use_file_output,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
                journal=journal,
                recreate_unknown=recreate_unknown,
                on_progress=on_progress,
            )
        )
        return ((index, self._sync_outputs(result)) for index, result in results)

    @_mirrors(AsyncClient.save_all)
    def save_all(
        self,
        output: Any,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = DEFAULT_SAVE_CONCURRENCY,
    ) -> Any:
        """Save every file in outputs (the docstring is :meth:`AsyncClient.save_all`'s)."""
        plain = map_outputs(
            output,
            lambda value: value._output if isinstance(value, SyncFileOutput) else value,  # noqa: SLF001 - defined here
        )
        return self._call(self._async.save_all, plain, folder, concurrency=concurrency)

    def _sync_outputs(self, output: Any) -> Any:
        """*output* with its FileOutput objects as SyncFileOutput."""
        return map_outputs(
            output,
            lambda value: SyncFileOutput(value, self) if isinstance(value, FileOutput) else value,
        )

    # -- the bridge -------------------------------------------------------------------

    def _portal_or_raise(self) -> anyio.from_thread.BlockingPortal:
        """The portal, or a clear error when the client is closed or called from a loop."""
        if self._closed:
            raise RuntimeError(_CLOSED)
        loop = _running_event_loop()
        if loop is not None:
            raise RuntimeError(
                f"Client blocks, so it cannot be used inside a running {loop} event loop; "
                "use AsyncClient and await its methods there (or call Client from a worker thread)"
            )
        return self._portal

    def _call(
        self, func: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        """Run ``await func(*args, **kwargs)`` in the portal and block for its result."""
        portal = self._portal_or_raise()
        call = _Call(func, *args, **kwargs)
        try:
            return portal.start_task_soon(call.run).result()
        except BaseException:
            if not call.finished.is_set():
                # Interrupted (Ctrl-C) while the call runs, or while it was being started:
                # cancel it in the portal and let it unwind, so its shielded cleanup (the
                # remote cancel of an abandoned prediction) runs before we propagate.
                call.interrupt(portal)
            raise

    def _iterate(self, open_iterator: Callable[[], AsyncIterator[_T]]) -> Iterator[_T]:
        """Drive an async iterator from this thread, one item per ``next()``, lazily."""
        portal = self._portal_or_raise()
        pump: _Pump[_T] = _Pump(open_iterator)
        future, _ = portal.start_task(pump.run)
        with self._lock:
            self._open_iterators.add(future)
        try:
            while True:
                done, item = self._call(pump.next)
                if done:
                    return
                yield item
        finally:
            with self._lock:
                self._open_iterators.discard(future)
            future.cancel()


class _Call(Generic[_T]):
    """One forwarded call, cancellable from the caller's thread whether or not it started yet."""

    def __init__(
        self, func: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        self._run: Callable[[], Awaitable[_T]] = functools.partial(func, *args, **kwargs)
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = threading.Event()
        self.finished = threading.Event()

    async def run(self) -> _T:
        """Await the call inside a cancel scope that :meth:`interrupt` can cancel."""
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._cancel_requested.is_set():
                scope.cancel("interrupted before it started")
            try:
                return await self._run()
            finally:
                self.finished.set()
        raise RuntimeError("the call was interrupted")

    def interrupt(self, portal: anyio.from_thread.BlockingPortal) -> None:
        """Cancel the call from the caller's thread and wait (bounded) until it unwound."""
        self._cancel_requested.set()
        # Runs on the loop thread, so it and run()'s start cannot interleave: either the
        # scope exists and is cancelled here, or run() sees the request when it starts.
        with contextlib.suppress(RuntimeError):  # the portal is already shutting down
            portal.call(self._cancel_scope)
        self.finished.wait(INTERRUPT_GRACE)

    def _cancel_scope(self) -> None:
        """Cancel the running call's scope, if it started."""
        if self._scope is not None:
            self._scope.cancel("interrupted")


class _Pump(Generic[_T]):
    """Runs an async iterator inside one portal task and hands out an item per request."""

    def __init__(self, open_iterator: Callable[[], AsyncIterator[_T]]) -> None:
        self._open = open_iterator
        self._asks: MemoryObjectSendStream[None] | None = None
        self._answers: MemoryObjectReceiveStream[tuple[bool, Any]] | None = None
        self.finished = threading.Event()

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        """Serve items until the iterator ends, fails, or this task is cancelled."""
        asks_send, asks_receive = anyio.create_memory_object_stream[None]()
        answers_send, answers_receive = anyio.create_memory_object_stream[tuple[bool, Any]]()
        self._asks, self._answers = asks_send, answers_receive
        iterator = self._open()
        task_status.started()
        try:
            async with asks_receive, answers_send:
                async for _ in asks_receive:
                    try:
                        item = await anext(iterator)
                    except StopAsyncIteration:
                        await answers_send.send((True, None))
                        return
                    except Exception as exc:  # noqa: BLE001  (handed to the caller's thread)
                        await answers_send.send((True, exc))
                        return
                    await answers_send.send((False, item))
        finally:
            asks_send.close()
            answers_receive.close()
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True), anyio.move_on_after(_ITERATOR_CLOSE_GRACE):
                    await aclose()
            self.finished.set()

    async def next(self) -> tuple[bool, _T]:
        """Ask for one item: ``(False, item)``, or ``(True, None)`` at the end; raises its error."""
        assert self._asks is not None  # noqa: S101  (run() has started)
        assert self._answers is not None  # noqa: S101
        try:
            await self._asks.send(None)
            done, value = await self._answers.receive()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            # The pump is gone: its iterator was dropped or its client closed.
            return True, None  # type: ignore[return-value]
        if done and value is not None:
            raise value
        return done, value


class SyncPredictions:
    """``client.predictions`` on the blocking :class:`Client`: the async methods as plain calls.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<SyncPredictions of {self._client!r}>"

    @_mirrors(AsyncPredictions.create)
    def create(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002  (the API's own name)
        *,
        wait: int | Literal[False] = 60,
        cancel_after: float | str | timedelta | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        file_encoding: FileEncoding | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> Prediction:
        """Create a prediction (the docstring is :meth:`AsyncPredictions.create`'s)."""
        c = self._client
        return c._call(  # noqa: SLF001
            c._async.predictions.create,  # noqa: SLF001
            ref,
            input,
            wait=wait,
            cancel_after=cancel_after,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            file_encoding=file_encoding,
        )

    @_mirrors(AsyncPredictions.get)
    def get(self, prediction_id: str) -> Prediction:
        """Fetch a prediction (the docstring is :meth:`AsyncPredictions.get`'s)."""
        c = self._client
        return c._call(c._async.predictions.get, prediction_id)  # noqa: SLF001

    @_mirrors(AsyncPredictions.cancel)
    def cancel(self, prediction_id: str) -> Prediction:
        """Cancel a prediction (the docstring is :meth:`AsyncPredictions.cancel`'s)."""
        c = self._client
        return c._call(c._async.predictions.cancel, prediction_id)  # noqa: SLF001

    @_mirrors(AsyncPredictions.wait)
    def wait(
        self,
        prediction: Prediction | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        cancel_on_timeout: bool = False,
        cancel_on_cancellation: bool = True,
    ) -> Prediction:
        """Poll until terminal (the docstring is :meth:`AsyncPredictions.wait`'s)."""
        c = self._client
        return c._call(  # noqa: SLF001
            c._async.predictions.wait,  # noqa: SLF001
            prediction,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            cancel_on_cancellation=cancel_on_cancellation,
        )

    @_mirrors(AsyncPredictions.list)
    def list(self) -> Iterator[Prediction]:
        """Iterate lazily over predictions (the docstring is :meth:`AsyncPredictions.list`'s)."""
        c = self._client
        return c._iterate(c._async.predictions.list)  # noqa: SLF001

    @_mirrors(AsyncPredictions.stream)
    def stream(
        self,
        prediction: Prediction | str,
        *,
        last_event_id: str | None = None,
        timeout: float | None = None,
        cancel_on_cancellation: bool = True,
    ) -> SyncPredictionStream:
        """Stream a prediction's output (the docstring is :meth:`AsyncPredictions.stream`'s)."""
        c = self._client
        c._portal_or_raise()  # noqa: SLF001
        stream = c._async.predictions.stream(  # noqa: SLF001
            prediction,
            last_event_id=last_event_id,
            timeout=timeout,
            cancel_on_cancellation=cancel_on_cancellation,
        )
        return SyncPredictionStream(stream, c)


class SyncFiles:
    """``client.files`` on the blocking :class:`Client`: the Files API as plain calls.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<SyncFiles of {self._client!r}>"

    @_mirrors(AsyncFiles.create)
    def create(
        self,
        file: Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> File:
        """Upload a file (the docstring is :meth:`AsyncFiles.create`'s)."""
        c = self._client
        return c._call(  # noqa: SLF001
            c._async.files.create,  # noqa: SLF001
            file,
            filename=filename,
            content_type=content_type,
            metadata=metadata,
        )

    @_mirrors(AsyncFiles.get)
    def get(self, file_id: str) -> File:
        """Fetch a file (the docstring is :meth:`AsyncFiles.get`'s)."""
        c = self._client
        return c._call(c._async.files.get, file_id)  # noqa: SLF001

    @_mirrors(AsyncFiles.list)
    def list(self) -> Iterator[File]:
        """Iterate lazily over files (the docstring is :meth:`AsyncFiles.list`'s)."""
        c = self._client
        return c._iterate(c._async.files.list)  # noqa: SLF001

    @_mirrors(AsyncFiles.delete)
    def delete(self, file_id: str) -> None:
        """Delete a file (the docstring is :meth:`AsyncFiles.delete`'s)."""
        c = self._client
        return c._call(c._async.files.delete, file_id)  # noqa: SLF001

    @_mirrors(AsyncFiles.read)
    def read(self, file: File | str) -> bytes:
        """Download a file whole (the docstring is :meth:`AsyncFiles.read`'s)."""
        c = self._client
        return c._call(c._async.files.read, file)  # noqa: SLF001

    def iter_bytes(self, file: File | str) -> Iterator[bytes]:
        """Iterate over a file's content as it arrives.

        Args:
            file: A :class:`~replicate_async.File`, a file id, its ``urls.get``, or a
                signed download URL.

        .. versionadded:: 0.1.0
        """
        c = self._client
        return c._iterate(lambda: c._async.files.aiter_bytes(file))  # noqa: SLF001

    @_mirrors(AsyncFiles.save)
    def save(self, file: File | str, path: str | os.PathLike[str]) -> Path:
        """Download a file atomically (the docstring is :meth:`AsyncFiles.save`'s)."""
        c = self._client
        return c._call(c._async.files.save, file, path)  # noqa: SLF001


class SyncPredictionStream:
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

    def __init__(self, stream: PredictionStream, client: Client) -> None:
        self._stream = stream
        self._client = client
        self._events: Iterator[StreamEvent] | None = None

    def __repr__(self) -> str:
        return "Sync" + repr(self._stream)

    @property
    def prediction(self) -> Prediction | None:
        """The prediction as created (or as given); None before the first event was asked for.

        .. versionadded:: 0.1.0
        """
        return self._stream.prediction

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event received, to resume with ``predictions.stream(...)``.

        .. versionadded:: 0.1.0
        """
        return self._stream.last_event_id

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> StreamEvent:
        if self._events is None:
            stream = self._stream
            self._events = self._client._iterate(lambda: stream)  # noqa: SLF001
        return next(self._events)

    def text(self) -> Iterator[str]:
        """Iterate over the text of the ``output`` events only: a language model's tokens.

        .. versionadded:: 0.1.0
        """
        return self._client._iterate(self._stream.text)  # noqa: SLF001

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
        if not self._client._closed:  # noqa: SLF001
            self._client._call(self._stream.aclose)  # noqa: SLF001


class SyncWebhooks:
    """``client.webhooks`` on the blocking :class:`Client`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<SyncWebhooks of {self._client!r}>"

    @_mirrors(AsyncWebhooks.default_secret)
    def default_secret(self) -> str:
        """The webhook signing secret (the docstring is :meth:`AsyncWebhooks.default_secret`'s)."""
        c = self._client
        return c._call(c._async.webhooks.default_secret)  # noqa: SLF001


class SyncFileOutput:
    """A file in a :class:`Client` run's output: :class:`FileOutput` with plain calls.

    ``str(file_output)`` is the URL. Downloads never carry the API token; output files
    expire an hour after the prediction finishes.

    Args:
        output: The async file output this one wraps.
        client: The client whose event-loop thread runs the downloads.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_client", "_output")

    def __init__(self, output: FileOutput, client: Client) -> None:
        self._output = output
        self._client = client

    @property
    def url(self) -> str:
        """The file's URL.

        .. versionadded:: 0.1.0
        """
        return self._output.url

    @property
    def content_type(self) -> str | None:
        """Media type of the file (from a ``data:`` URI, else known once downloaded).

        .. versionadded:: 0.1.0
        """
        return self._output.content_type

    @property
    def name(self) -> str:
        """A file name from the URL, safe to join to a folder.

        .. versionadded:: 0.1.0
        """
        return self._output.name

    def __str__(self) -> str:
        return self._output.url

    def __repr__(self) -> str:
        return "Sync" + repr(self._output)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SyncFileOutput):
            return NotImplemented
        return self._output == other._output

    def __hash__(self) -> int:
        return hash((SyncFileOutput, self._output.url))

    def read(self) -> bytes:
        """Download the whole file and return its bytes.

        .. versionadded:: 0.1.0
        """
        return self._client._call(self._output.read)  # noqa: SLF001

    def iter_bytes(self) -> Iterator[bytes]:
        """Iterate over the file's bytes as they arrive.

        .. versionadded:: 0.1.0
        """
        return self._client._iterate(self._output.aiter_bytes)  # noqa: SLF001

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the file atomically and return the path written.

        The bytes go to a temporary file in the target folder that is renamed into place
        once complete, so a failed download leaves nothing behind. When *path* is an
        existing folder the file is saved in it under :attr:`name`.

        Args:
            path: A file path, or a folder to save into.

        .. versionadded:: 0.1.0
        """
        return self._client._call(self._output.save, path)  # noqa: SLF001
