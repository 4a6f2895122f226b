# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient: one httpx client, retries with stamina, and `run`.

The sans-I/O core (`_sansio`) builds every request and decodes every reply; this shell
sends them. It uses only anyio APIs, so it runs on asyncio and on trio.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, overload

from replicate_async import _config
from replicate_async._as_completed import as_completed
from replicate_async._client_base import ClientBase
from replicate_async._fanout import run_many
from replicate_async._generating import Generation, make_generation
from replicate_async._running import DEFAULT_RUN_TIMEOUT, RunOptions
from replicate_async._saving import save_all
from replicate_async._setup import DEFAULT_BASE_URL, DEFAULT_MAX_CONCURRENCY
from replicate_async._streaming import PredictionStream

if TYPE_CHECKING:
    import os
    from collections.abc import (
        AsyncIterator,
        Callable,
        Iterable,
        Mapping,
        Sequence,
    )
    from pathlib import Path

    from replicate_async._config import UseClientDefault
    from replicate_async._file_output import FileOutput
    from replicate_async._jobs import JobSpec, ProgressEvent
    from replicate_async._journal_backend import JournalBackend
    from replicate_async._models import Deployment, Prediction
    from replicate_async._uploads import FileEncoding
    from replicate_async.catalog import GenerationRequest

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_RUN_TIMEOUT",
    "AsyncClient",
    "BatchOptions",
]

logger = logging.getLogger("replicate_async")


class BatchOptions(TypedDict, total=False):
    """The options of :meth:`AsyncClient.run_many` but ``return_exceptions``, as keyword
    arguments: the type of its overloads' ``**options``, for a dict of options passed on
    (``client.run_many(jobs, **options)``). Every key is optional; the defaults and meanings
    are ``run_many``'s.

    .. versionadded:: 0.1.0
    """

    concurrency: int
    wait: int | Literal[False]
    timeout: float | None
    cancel_on_timeout: bool
    use_file_output: bool
    webhook: str | None
    webhook_events_filter: Sequence[str] | None
    journal: str | os.PathLike[str] | JournalBackend | None
    recreate_unknown: bool
    on_progress: Callable[[ProgressEvent], object] | None


class AsyncClient(ClientBase):
    """An async client for the Replicate HTTP API, built for many predictions at once.

    One instance holds one connection pool; share it across tasks and close it with
    ``async with`` or :meth:`aclose`. It runs on asyncio (over aiohttp) and on trio (over
    httpx's own pools), and belongs to the event loop that first uses it.

    Args:
        api_token: The API token; ``REPLICATE_API_TOKEN`` when None. A missing token raises
            :class:`~replicate_async.AuthenticationError` here, before any request.
        base_url: The API root, e.g. ``"https://api.replicate.com"`` (a trailing ``/v1`` is
            accepted); ``REPLICATE_BASE_URL`` or the public API when None. Checked here,
            with a ValueError: scheme, host and port only (no credentials, query, fragment
            or other path), and plain ``http://`` only to a loopback host (127.0.0.0/8,
            ``::1``, ``localhost``) unless ``allow_insecure_http``.
        timeouts: Per-phase HTTP timeouts. A create's read timeout follows its wait.
        retry: How often and how long requests are retried.
        poll: The delays between the GETs that poll a prediction.
        max_concurrency: Most requests in flight at once (and pool connections); a batch of
            higher ``concurrency`` grows both to its own.
        rate_limits: The account's rate limits, enforced here before each request (one
            token bucket per server bucket, shared by every call of this client);
            the API's documented limits when None, ``RateLimits.unlimited()`` for none.
        rate_limiter: Where the rate limits' buckets live: None for this client alone; a
            ``redis://``, ``rediss://`` or ``unix://`` URL for buckets in Redis shared by every
            process with the same token (a :class:`~replicate_async.RedisRateLimiter` of
            ``rate_limits``, made and closed by the client; needs
            ``pip install 'replicate-async[redis]'`` and asyncio); or a limiter instance such as
            ``RedisRateLimiter(url, limits=..., prefix=...)``, which paces by its own limits and
            is closed with the client too.
        user_agent: The ``User-Agent`` header; ``replicate-async/<version>`` when None.
        transport: An httpx transport to send through instead of the default one (for
            ``httpx.MockTransport`` with respx, or ``httpx.ASGITransport``). File
            downloads use it too.
        http_client: An ``httpx.AsyncClient`` to send through; it is not closed by
            :meth:`aclose`. Cannot be combined with ``transport``.
        file_encoding: How a ``Path``, ``bytes`` or file object in an input is sent:
            ``"auto"`` (a data URI up to ``max_data_uri_bytes``, else an upload through
            the Files API), ``"upload"`` (always upload) or ``"data_uri"`` (always inline).
        max_data_uri_bytes: The largest file (bytes, before base64) sent as a data URI
            under ``"auto"``; 256 KiB by default, Replicate's advice.
        size_limits: Caps on one API reply and one streamed event, counted after
            decompression; past one, :class:`~replicate_async.DecodeError` is raised
            without reading the rest. ``SizeLimits()`` (32 MiB, 8 MiB) when None.
        allow_insecure_http: Allow a plain ``http://`` base URL to a host that is not
            loopback (an emulator in another container, say): the token then travels in
            clear. ``REPLICATE_ALLOW_INSECURE_HTTP=1`` does the same for programs you do not
            write (the command line). Not needed for loopback hosts, nor with an in-process
            ``httpx.ASGITransport`` or ``httpx.MockTransport`` (nothing leaves the process).
        validate: Check every input the catalogue did not check against the model version's
            own schema before its create (fetched once per model, cached): an invalid input
            raises ValidationError instead of costing a failed prediction. Per call:
            ``validate=`` on ``run``, ``generate`` and ``predictions.create``.

    .. versionadded:: 0.1.0
    """

    # ------------------------------------------------------------------ run

    async def run(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None = None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,  # noqa: ASYNC109 - public API (PRODUCT.md)
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        validate: bool | None = None,
        on_progress: Callable[[Prediction], object] | None = None,
    ) -> Any:
        """Run a model and return its output once the prediction has succeeded.

        Creates the prediction with ``Prefer: wait``; a terminal reply is the result (one
        HTTP request). Any other reply, including ``processing`` that already carries
        output, is confirmed by polling until the status is terminal, so partial output is
        never returned (promise 3).

        Cancellation: when the task awaiting ``run`` is cancelled (Ctrl-C on the sync
        Client included) before the prediction finished, it is cancelled remotely
        (shielded, bounded by a few seconds) and the cancellation goes on. That holds while
        the create itself is still held open by ``Prefer: wait`` too: its id is not known
        yet, so the prediction is found in the account's prediction list (made since the
        create went out, same model and input, not made by another create of this client)
        and cancelled. If this process dies instead, only ``Cancel-After`` (sent with
        ``timeout`` and ``cancel_on_timeout=True``) stops it: see docs/promises.md.

        Args:
            ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
                or ``Deployment("owner/name")``.
            input: The model's input: a dict, or a typed request (``VideoRequest``, ...) that
                :attr:`catalog` maps and checks.
            wait: Seconds (1 to 60) the server may hold the create open, or False to
                return at once and poll. Shortened to fit ``timeout``.
            timeout: Seconds to wait for a terminal status, from the call, the create
                included; None waits up to :data:`DEFAULT_RUN_TIMEOUT`. On expiry raises
                PredictionTimeout (a create cut short is found in the prediction list
                first, so the error carries its prediction).
            cancel_on_timeout: Cancel the prediction remotely when ``timeout`` expires;
                the create also carries ``Cancel-After`` (``timeout`` plus a little slack,
                at least 5 s) so the server enforces it even if this process dies.
            use_file_output: Turn file URLs in the output into FileOutput objects; False
                returns them as plain URL strings.
            file_encoding: How file inputs are sent (``"auto"``, ``"upload"`` or
                ``"data_uri"``); the client's setting by default.
            webhook: An https URL the server also calls with updates.
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).
            validate: Check the input against the model's schema first (the client's
                ``validate`` when None; a typed request is always checked offline).
            on_progress: Called with the :class:`Prediction` after the create's reply and
                after each poll's (the last call sees it terminal): show its ``status``,
                ``logs`` or :attr:`~Prediction.progress`. A plain function or a coroutine
                function (awaited); it runs on the event loop (the sync client's loop
                thread, where calling that client raises RuntimeError), so keep it quick.
                An exception it raises is logged (logger ``replicate_async``) and the run
                goes on: the prediction runs, and is billed, whatever a display does.

        Raises:
            PredictionFailed: The model failed.
            PredictionCanceled: The prediction was canceled or aborted.
            PredictionTimeout: ``timeout`` passed first.
            FileExpiredError: The prediction succeeded but its output was already
                deleted (``data_removed``): outputs expire an hour after a prediction ends.
            ValidationError: The input cannot go to this model (nothing was created).

        .. versionadded:: 0.1.0
        """
        options = RunOptions(
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            use_file_output=use_file_output,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            validate=validate,
            on_progress=on_progress,
        )
        return await self._runner.run(ref, input, options)

    async def generate(
        self,
        model: str | Deployment,
        request: GenerationRequest | Mapping[str, Any],
        *,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,  # noqa: ASYNC109 - as run's
        cancel_on_timeout: bool = False,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        validate: bool | None = None,
        on_progress: Callable[[Prediction], object] | None = None,
    ) -> Generation[FileOutput]:
        """Run *model* on a typed request (or an input dict) and return the whole result.

        Like :meth:`run` (the same create, confirmation, polling, timeouts and cancellation),
        but it returns a :class:`Generation`: the prediction itself (id, logs, metrics),
        the output, its ``files``, the ``text`` of a language model, the exact ``input`` sent
        and the request's fields the model had no input for (``dropped``). A typed request
        is mapped by :attr:`catalog` and checked before anything is sent.

        Args:
            model: The model reference (a ``:version`` is kept for the call).
            request: A :class:`~replicate_async.catalog.VideoRequest` (or another typed
                request), or the model's input as a dict.
            wait: As for :meth:`run`.
            timeout: As for :meth:`run`.
            cancel_on_timeout: As for :meth:`run`.
            file_encoding: As for :meth:`run`.
            webhook: As for :meth:`run`.
            webhook_events_filter: As for :meth:`run`.
            validate: As for :meth:`run`.
            on_progress: As for :meth:`run`.

        Raises:
            ValidationError: The request cannot go to this model (nothing was created).
            PredictionFailed: The model failed (and the others :meth:`run` raises).

        .. versionadded:: 0.1.0
        """
        built = await self._inputs.prepare(model, request, validate=validate)
        options = RunOptions(
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            validate=False,  # checked above
            on_progress=on_progress,
        )
        prediction = await self._runner.finish(model, built.input, options)
        output = self._runner.output(prediction, use_file_output=True)
        return make_generation(
            built.model, prediction, output, input=built.input, dropped=built.dropped
        )

    # ------------------------------------------------------------------ stream

    def stream(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None = None,  # noqa: A002 - the API's name
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> PredictionStream:
        """Run a streaming model and iterate over its output as it is produced.

        ``async for event in client.stream("meta/meta-llama-3-8b-instruct", input={...})``
        creates the prediction (without ``Prefer: wait``) on the first iteration and
        reads its ``urls.stream``: ``output`` events (text chunks), ``logs`` events,
        then ``done``, after which iteration ends. ``.text()`` yields only the output
        text. The stream URL is fetched without the API token; broken connections are
        resumed with ``Last-Event-ID``, so no chunk is lost or repeated.

        Cancelling the iterating task, or leaving ``async with client.stream(...)``
        early, cancels the prediction remotely (shielded, best effort), as ``run`` does.

        Args:
            ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
                or ``Deployment("owner/name")``.
            input: The model's input: a dict, or a ``ChatRequest`` :attr:`catalog` maps.
            timeout: Seconds the whole stream may take before PredictionTimeout; None
                waits up to :data:`DEFAULT_RUN_TIMEOUT`.
            cancel_on_timeout: Cancel the prediction remotely when ``timeout`` passes.
            webhook: An https URL the server also calls with updates.
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).

        Raises:
            StreamingNotSupportedError: The model does not stream (no ``urls.stream``).
            PredictionFailed: The stream sent an ``error`` event.
            PredictionCanceled: The stream ended with ``done`` and reason ``canceled``.
            PredictionTimeout: ``timeout`` passed first.

        .. versionadded:: 0.1.0
        """

        async def start() -> Prediction:
            return await self._runner.create(
                ref,
                input,
                wait=False,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
            )

        return PredictionStream(
            self._runner,
            start=start,
            owned=True,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
        )

    # ------------------------------------------------------------------ fan-out

    # The result's type follows return_exceptions: with it, a failed job's place holds its
    # exception, so callers must tell outputs from errors before using them.
    @overload
    async def run_many(
        self,
        jobs: Iterable[JobSpec],
        *,
        return_exceptions: Literal[False] = False,
        **options: Unpack[BatchOptions],
    ) -> list[Any]: ...
    @overload
    async def run_many(
        self, jobs: Iterable[JobSpec], *, return_exceptions: bool, **options: Unpack[BatchOptions]
    ) -> list[Any | Exception]: ...
    async def run_many(
        self,
        jobs: Iterable[JobSpec],
        *,
        concurrency: int = 64,
        return_exceptions: bool = False,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,  # noqa: ASYNC109 - per-job budgets
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        journal: str | os.PathLike[str] | JournalBackend | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> list[Any] | list[Any | Exception]:
        """Run many jobs, at most ``concurrency`` at once, and return their outputs in job order.

        A job is a ``(ref, input)`` pair or a :class:`Job` (which may override the options
        below for itself). ``concurrency`` worker tasks take jobs from ``jobs`` one by one,
        so it may be a lazy iterable. Each job runs like :meth:`run`: a create with
        ``Prefer: wait``, then polling until terminal, starting slow when the wait ran out.
        Every request takes a token from the client's rate limiter first.

        Cancelling the call (or Ctrl-C on the sync Client) cancels every prediction the
        batch started, remotely: a create already sent gets a few seconds
        (``CREATE_GRACE``) to return its prediction's id.

        Args:
            jobs: The jobs.
            concurrency: Most jobs in flight at once. Above the client's
                ``max_concurrency``, the client's slot and pool grow to it (never shrink),
                so no job waits for a connection.
            return_exceptions: Put each failed job's exception in its place instead of
                raising the first one (which cancels the rest of the batch); the result is
                then typed ``list[Any | Exception]``, so a type checker asks you to tell
                outputs from errors.
            wait: Seconds for each create's ``Prefer: wait`` (1 to 60), or False.
            timeout: Seconds each job may take (None: the client's longest wait).
            cancel_on_timeout: Cancel a job's prediction remotely when its timeout passes.
            use_file_output: Turn file URLs in outputs into FileOutput objects.
            webhook: An https URL the server calls with every job's updates (a Job may
                name its own).
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).
            journal: A SQLite file recording every job's prediction. Running the same
                batch again with it waits on predictions still running, takes finished
                ones from the file and creates only jobs that never got a prediction id.
                Or a journal shared by several workers running the same jobs:
                ``"postgresql://user@host/db?batch=NAME"`` or a :class:`PostgresJournal`
                (each job runs in one worker; every worker returns every job's result).
            recreate_unknown: With a journal, create again a job whose earlier create
                outcome is unknown and whose prediction is not in ``predictions.list()``
                (otherwise it fails with CreateOutcomeUnknown).
            on_progress: Called with a :class:`ProgressEvent` for every job event
                (submitted, running, succeeded, failed, retried, resumed); keep it quick.

        Raises:
            CreateOutcomeUnknown: A create may have made a prediction that was not
                learnt (5xx, or a failure after the request was sent); never re-sent.
            JournalError: The journal cannot be used (JournalLocked: another batch has it;
                JournalMismatch, for one job: its key's row is another job's).

        .. versionadded:: 0.1.0
        """
        return await run_many(
            self._runner,
            jobs,
            options=RunOptions(
                wait=wait,
                timeout=timeout,
                cancel_on_timeout=cancel_on_timeout,
                use_file_output=use_file_output,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
            ),
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            journal=journal,
            recreate_unknown=recreate_unknown,
            on_progress=on_progress,
        )

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
        journal: str | os.PathLike[str] | JournalBackend | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> AsyncIterator[tuple[int, Any]]:
        """Run many jobs like :meth:`run_many` and yield ``(index, result)`` as each finishes.

        ``result`` is the job's output, or the exception it failed with. Nothing is kept
        once yielded. Leaving the loop early (``break``, an exception) cancels the rest of the
        batch, remotely too, without touching the caller's task: the batch runs beside the
        loop. ``contextlib.aclosing`` makes that part of leaving the block (trio asks for it).

        Args:
            jobs: The jobs (as for :meth:`run_many`).
            concurrency: Most jobs in flight at once.
            wait: Seconds for each create's ``Prefer: wait``, or False.
            timeout: Seconds each job may take.
            cancel_on_timeout: Cancel a job's prediction remotely when its timeout passes.
            use_file_output: Turn file URLs in outputs into FileOutput objects.
            webhook: An https URL the server calls with every job's updates (a Job may
                name its own).
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).
            journal: A SQLite file making the batch resumable, or a shared PostgreSQL
                journal (as for :meth:`run_many`).
            recreate_unknown: As for :meth:`run_many`.
            on_progress: Called with a :class:`ProgressEvent` for every job event.

        .. versionadded:: 0.1.0
        """
        return as_completed(
            self._runner,
            jobs,
            options=RunOptions(
                wait=wait,
                timeout=timeout,
                cancel_on_timeout=cancel_on_timeout,
                use_file_output=use_file_output,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
            ),
            concurrency=concurrency,
            journal=journal,
            recreate_unknown=recreate_unknown,
            on_progress=on_progress,
        )

    # The result has the shape of the output with a Path for each FileOutput; these overloads
    # say so for the shapes a type checker can see (one file, a list, tuple or dict of files);
    # anything else (a model's Any output, mixed values) stays Any.
    @overload
    async def save_all(
        self, output: FileOutput, folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> Path: ...
    @overload
    async def save_all(
        self, output: FileOutput | None, folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> Path | None: ...
    @overload
    async def save_all(
        self, output: list[FileOutput], folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> list[Path]: ...
    @overload
    async def save_all(
        self,
        output: tuple[FileOutput, ...],
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> tuple[Path, ...]: ...
    @overload
    async def save_all(
        self,
        output: Mapping[str, FileOutput],
        folder: str | os.PathLike[str],
        *,
        concurrency: int = ...,
    ) -> dict[str, Path]: ...
    @overload
    async def save_all(
        self, output: Any, folder: str | os.PathLike[str], *, concurrency: int = ...
    ) -> Any: ...
    async def save_all(
        self,
        output: Any,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = _config.DEFAULT_SAVE_CONCURRENCY,
    ) -> Any:
        """Save every file in *output* into *folder* and return *output* with paths in their place.

        *output* is anything holding :class:`FileOutput` objects: one run's output, or the
        list :meth:`run_many` returned (failed jobs' exceptions and text pass through
        unchanged). Each distinct URL is saved once, atomically (a failed download leaves
        no partial file). Names come from the URLs; when two files would share a name
        (every image model calls its first file ``out-0.webp``), the later ones get
        ``-1``, ``-2``, ... before the extension, so no file of the call overwrites
        another. A file already in *folder* under a planned name is replaced, so saving
        the same outputs again gives the same paths. Downloads never carry the API token.

        On the first failure the downloads still running are cancelled and that error is
        raised; files saved before it stay.

        Typed by overloads: a :class:`FileOutput` gives a ``Path`` (``FileOutput | None``, such
        as ``Generation.file``, gives ``Path | None``), a list, tuple or dict of them a list,
        tuple or dict of paths; any other output (a model's ``Any``, mixed values) ``Any``.

        Args:
            output: The outputs.
            folder: The folder to save into; made when missing.
            concurrency: Most downloads at once.

        Raises:
            FileExpiredError: A file's URL expired (outputs are deleted an hour after
                the prediction finished).

        .. versionadded:: 0.1.0
        """
        return await save_all(output, folder, concurrency=concurrency)
