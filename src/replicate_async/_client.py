# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient: one httpx client, retries with stamina, and `run`.

The sans-I/O core (`_sansio`) builds every request and decodes every reply; this shell
sends them. It uses only anyio APIs, so it runs on asyncio and on trio.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Final, Literal, Self

from replicate_async import _config
from replicate_async._backend import make_backend
from replicate_async._base_url import insecure_http_allowed, normalise_base_url
from replicate_async._downloads import Downloader
from replicate_async._fanout import as_completed, run_many
from replicate_async._ratelimit import DEFAULT_RATE_LIMITS
from replicate_async._resources import discovery
from replicate_async._resources.deployments import AsyncDeployments
from replicate_async._resources.discovery import AsyncAccount, AsyncCollections, AsyncHardware
from replicate_async._resources.files import AsyncFiles
from replicate_async._resources.models import AsyncModels
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._resources.trainings import AsyncTrainings
from replicate_async._resources.webhooks import AsyncWebhooks
from replicate_async._running import DEFAULT_RUN_TIMEOUT, Runner, RunOptions
from replicate_async._sansio import check_token
from replicate_async._saving import save_all
from replicate_async._session import Session
from replicate_async._streaming import PredictionStream
from replicate_async._uploader import Uploader
from replicate_async._uploads import DEFAULT_MAX_DATA_URI_BYTES, check_file_encoding

if TYPE_CHECKING:
    from collections.abc import (
        AsyncIterator,
        Callable,
        Iterable,
        Mapping,
        Sequence,
    )
    from types import TracebackType

    import httpx

    from replicate_async._api_objects import SearchResults
    from replicate_async._config import (
        PollPolicy,
        RetryPolicy,
        SizeLimits,
        Timeouts,
        UseClientDefault,
    )
    from replicate_async._jobs import JobSpec, ProgressEvent
    from replicate_async._models import Deployment, Prediction
    from replicate_async._ratelimit import RateLimits
    from replicate_async._uploads import FileEncoding

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_RUN_TIMEOUT",
    "AsyncClient",
]

logger = logging.getLogger("replicate_async")

DEFAULT_BASE_URL: Final = "https://api.replicate.com"
"""The API root used when neither ``base_url=`` nor ``REPLICATE_BASE_URL`` is set."""

BASE_URL_ENV_VAR: Final = "REPLICATE_BASE_URL"
TOKEN_ENV_VAR: Final = "REPLICATE_API_TOKEN"  # noqa: S105 - a variable name, not a secret

DEFAULT_MAX_CONCURRENCY: Final = 1000
"""Requests in flight at once per client, and connections in its pool.

Sized so that 1,000 concurrent predictions, each holding a create open for its
``Prefer: wait``, never queue for a connection. Each connection is a file descriptor:
raise the process's limit (``ulimit -n``) or lower this where that is small.
"""


class AsyncClient:
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
        max_concurrency: Most requests in flight at once (and pool connections).
        rate_limits: The account's rate limits, enforced here before each request (one
            token bucket per server bucket, shared by every call of this client);
            the API's documented limits when None, ``RateLimits.unlimited()`` for none.
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
        size_limits: SizeLimits | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise TypeError("max_concurrency must be an int")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        encoding = check_file_encoding(file_encoding)
        if isinstance(max_data_uri_bytes, bool) or not isinstance(max_data_uri_bytes, int):
            raise TypeError("max_data_uri_bytes must be an int")
        if max_data_uri_bytes < 0:
            raise ValueError(f"max_data_uri_bytes must be >= 0, got {max_data_uri_bytes}")
        if transport is not None and http_client is not None:
            raise ValueError("pass transport= or http_client=, not both")
        token = check_token(api_token if api_token is not None else os.environ.get(TOKEN_ENV_VAR))
        from_env = None if base_url else os.environ.get(BASE_URL_ENV_VAR)
        root = normalise_base_url(
            base_url or from_env or DEFAULT_BASE_URL,
            source=BASE_URL_ENV_VAR if from_env else "base_url",
            allow_insecure_http=insecure_http_allowed(allow_insecure_http, transport),
        )
        # The settings live in the session; the client keeps only what the session does not.
        self._transport = transport
        self._session = Session(
            token=token,
            base_url=root,
            user_agent=user_agent or _config.default_user_agent(),
            timeouts=timeouts if timeouts is not None else _config.DEFAULT_TIMEOUTS,
            retry=retry if retry is not None else _config.DEFAULT_RETRY_POLICY,
            poll=poll if poll is not None else _config.DEFAULT_POLL_POLICY,
            max_concurrency=max_concurrency,
            rate_limits=rate_limits if rate_limits is not None else DEFAULT_RATE_LIMITS,
            limits=size_limits if size_limits is not None else _config.DEFAULT_SIZE_LIMITS,
            backend=make_backend(
                max_connections=max_concurrency, transport=transport, http_client=http_client
            ),
        )
        self._uploader = Uploader(self._session)
        self._runner = Runner(
            self._session,
            upload=self._uploader.upload_cached,
            downloader=self.downloader,
            file_encoding=encoding,
            max_data_uri_bytes=max_data_uri_bytes,
        )
        self._downloader: Downloader | None = None
        self._closed = False
        self.predictions = AsyncPredictions(self._runner)
        """Create, get, cancel, wait for and list predictions."""
        self.files = AsyncFiles(self._session, self._uploader, self.downloader)
        """Upload, get, list, delete and download files (the Files API)."""
        self.webhooks = AsyncWebhooks(self._session)
        """The webhook signing secret (``default_secret()``)."""
        self.models = AsyncModels(self._session, self._runner)
        """Models, their versions, examples and README, and official models' predictions."""
        self.deployments = AsyncDeployments(self._session, self._runner)
        """Deployments, and predictions through one."""
        self.trainings = AsyncTrainings(self._session, self._runner)
        """Create, get, list, cancel and wait for trainings."""
        self.collections = AsyncCollections(self._session)
        """Curated collections of models."""
        self.hardware = AsyncHardware(self._session)
        """The hardware models and deployments run on."""
        self.account = AsyncAccount(self._session)
        """The account the token belongs to."""

    # ------------------------------------------------------------------ lifecycle

    def __repr__(self) -> str:
        return repr(self._session)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool and the file download client; closing twice is fine.

        .. versionadded:: 0.1.0
        """
        if self._closed:
            return
        self._closed = True
        downloader = self._downloader  # kept: FileOutputs hold it; closed, it builds no pool
        try:
            if downloader is not None:
                await downloader.aclose()
        finally:
            await self._session.aclose()

    @property
    def base_url(self) -> str:
        """The API root requests go to, e.g. ``"https://api.replicate.com"``.

        .. versionadded:: 0.1.0
        """
        return self._session.base_url

    def downloader(self) -> Downloader:
        """The download client behind this client's FileOutput objects, made on first use.

        It is a separate HTTP client that never sends the API token (promise 5), and it
        is closed by :meth:`aclose`; after that this raises ClientClosedError.

        .. versionadded:: 0.1.0
        """
        self._session.check_open()  # a new one now would never be closed
        if self._downloader is None:
            self._downloader = Downloader(
                timeouts=self._session.timeouts,
                retry=self._session.retry,
                transport=self._transport,
                user_agent=self._session.user_agent,
            )
        return self._downloader

    async def search(self, query: str, *, limit: int | None = None) -> SearchResults:
        """Search models, collections and documentation pages (``GET /v1/search``, beta).

        Args:
            query: What to look for, e.g. ``"upscale"``.
            limit: Most models to return, 1 to 50 (the server's default is 20).

        .. versionadded:: 0.1.0
        """
        return await discovery.search(self._session, query, limit=limit)

    # ------------------------------------------------------------------ run

    async def run(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        timeout: float | None = None,  # noqa: ASYNC109 - public API (PRODUCT.md)
        cancel_on_timeout: bool = False,
        use_file_output: bool = True,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
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
            input: The model's input.
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

        Raises:
            PredictionFailed: The model failed.
            PredictionCanceled: The prediction was canceled or aborted.
            PredictionTimeout: ``timeout`` passed first.
            FileExpiredError: The prediction succeeded but its output was already
                deleted (``data_removed``): outputs expire an hour after a prediction ends.

        .. versionadded:: 0.1.0
        """
        return await self._runner.run(
            ref,
            input,
            RunOptions(
                wait=wait,
                timeout=timeout,
                cancel_on_timeout=cancel_on_timeout,
                use_file_output=use_file_output,
                file_encoding=file_encoding,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
            ),
        )

    # ------------------------------------------------------------------ stream

    def stream(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
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
            input: The model's input.
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
        journal: str | os.PathLike[str] | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> list[Any]:
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
            concurrency: Most jobs in flight at once; at most the client's
                ``max_concurrency`` (else ValueError), so no job waits for a connection.
            return_exceptions: Put each failed job's exception in its place instead of
                raising the first one (which cancels the rest of the batch).
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
            recreate_unknown: With a journal, create again a job whose earlier create
                outcome is unknown and whose prediction is not in ``predictions.list()``
                (otherwise it fails with CreateOutcomeUnknown).
            on_progress: Called with a :class:`ProgressEvent` for every job event
                (submitted, running, succeeded, failed, retried, resumed); keep it quick.

        Raises:
            CreateOutcomeUnknown: A create may have made a prediction that was not
                learnt (5xx, or a failure after the request was sent); never re-sent.

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
        journal: str | os.PathLike[str] | None = None,
        recreate_unknown: bool = False,
        on_progress: Callable[[ProgressEvent], object] | None = None,
    ) -> AsyncIterator[tuple[int, Any]]:
        """Run many jobs like :meth:`run_many` and yield ``(index, result)`` as each finishes.

        ``result`` is the job's output, or the exception it failed with. Nothing is kept
        once yielded. Leaving the loop early cancels the rest of the batch (remotely too)
        when the iterator is closed: wrap it in ``contextlib.aclosing`` to close it at once.

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
            journal: A SQLite file making the batch resumable (as for :meth:`run_many`).
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
