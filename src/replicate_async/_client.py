# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""AsyncClient: one httpx client, retries with stamina, and `run`.

The sans-I/O core (`_sansio`) builds every request and decodes every reply; this shell
sends them. It uses only anyio APIs, so it runs on asyncio and on trio.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import math
import os
import time
from typing import TYPE_CHECKING, Any, Final, Literal, Self

import anyio
import httpx

from replicate_async import _config
from replicate_async._ratelimit import DEFAULT_RATE_LIMITS, RateLimiter, bucket_for
from replicate_async._resources.files import AsyncFiles
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._resources.webhooks import AsyncWebhooks
from replicate_async._sansio import (
    base_headers,
    check_token,
    decode_prediction,
    error_for,
    needs_confirmation,
    outcome,
    user_agent,
)
from replicate_async._transport import (
    LazyTransport,
    Outgoing,
    Reply,
    current_loop,
    fetch_through,
    request_not_sent,
)
from replicate_async._uploads import DEFAULT_MAX_DATA_URI_BYTES, check_file_encoding
from replicate_async.exceptions import (
    FileExpiredError,
    RateLimitError,
    ReplicateError,
    RequestTimeout,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from collections.abc import (
        AsyncGenerator,
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Mapping,
        Sequence,
    )
    from types import TracebackType

    from replicate_async._config import PollPolicy, RetryPolicy, Timeouts, UseClientDefault
    from replicate_async._downloads import Downloader
    from replicate_async._fanout import JobSpec, ProgressEvent
    from replicate_async._models import Deployment, Prediction
    from replicate_async._ratelimit import RateLimits
    from replicate_async._sansio import ModelRef, Request
    from replicate_async._streaming import PredictionStream
    from replicate_async._uploads import FileEncoding

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_RUN_TIMEOUT",
    "AsyncClient",
    "default_client",
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

DEFAULT_RUN_TIMEOUT: Final = 3600.0
"""Seconds `run` waits for a terminal status when given ``timeout=None`` (promise 2: every wait ends).

An hour covers a cold boot plus the server's own 30-minute limit on a running prediction.
"""

CANCEL_GRACE: Final = 5.0
"""Seconds a best-effort remote cancel may take when the caller's task was cancelled."""

CANCEL_AFTER_SLACK: Final = 10
"""Seconds added to `run`'s timeout for its ``Cancel-After``, so the local deadline fires first."""

MIN_CANCEL_AFTER: Final = 5
"""The server's minimum ``Cancel-After``."""


# Transport failures that no retry can fix.
_NEVER_RETRY: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def _package_version() -> str:
    """The installed distribution's version ("0" when not installed)."""
    try:
        return importlib.metadata.version("replicate-async")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - always installed in tests
        return "0"


def _normalise_base_url(base_url: str) -> str:
    """The API root without a trailing slash or ``/v1`` (both are accepted)."""
    url = base_url.strip().rstrip("/")
    url = url.removesuffix("/v1").rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ValueError(
            f"base_url must be an http(s) URL like {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    return url


def plan_run(
    wait: int | Literal[False], timeout: float | None, *, cancel_on_timeout: bool
) -> tuple[float, int | Literal[False], float | None]:
    """The deadline, the create's wait and its ``Cancel-After`` for a run (and a batch job).

    The wait is shortened to fit ``timeout``; ``Cancel-After`` is sent only when the caller
    asked for cancellation on timeout (``timeout`` plus slack, so the local deadline fires first).
    """
    budget = DEFAULT_RUN_TIMEOUT if timeout is None else float(timeout)
    if not budget > 0 or math.isinf(budget):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    create_wait: int | Literal[False] = wait
    cancel_after: float | None = None
    if timeout is not None:
        if not isinstance(wait, bool):
            create_wait = max(1, min(wait, math.floor(budget)))
        if cancel_on_timeout:
            cancel_after = max(MIN_CANCEL_AFTER, math.ceil(budget) + CANCEL_AFTER_SLACK)
    return budget, create_wait, cancel_after


def _http_timeout(timeouts: Timeouts, read: float | None = None) -> httpx.Timeout:
    """*timeouts* for httpx, with *read* overriding the read phase."""
    t = timeouts
    return httpx.Timeout(
        connect=t.connect, read=t.read if read is None else read, write=t.write, pool=t.pool
    )


def _is_retryable_transport(exc: TransportError) -> bool:
    """Whether a transport failure may go away on a retry."""
    return not isinstance(exc.__cause__, _NEVER_RETRY)


class AsyncClient:
    """An async client for the Replicate HTTP API, built for many predictions at once.

    One instance holds one connection pool; share it across tasks and close it with
    ``async with`` or :meth:`aclose`. It runs on asyncio (over aiohttp) and on trio (over
    httpx's own pools), and belongs to the event loop that first uses it.

    Args:
        api_token: The API token; ``REPLICATE_API_TOKEN`` when None. A missing token raises
            :class:`~replicate_async.AuthenticationError` here, before any request.
        base_url: The API root, e.g. ``"https://api.replicate.com"`` (a trailing ``/v1`` is
            accepted); ``REPLICATE_BASE_URL`` or the public API when None.
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
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise TypeError("max_concurrency must be an int")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self._file_encoding = check_file_encoding(file_encoding)
        if isinstance(max_data_uri_bytes, bool) or not isinstance(max_data_uri_bytes, int):
            raise TypeError("max_data_uri_bytes must be an int")
        if max_data_uri_bytes < 0:
            raise ValueError(f"max_data_uri_bytes must be >= 0, got {max_data_uri_bytes}")
        self._max_data_uri_bytes = max_data_uri_bytes
        if transport is not None and http_client is not None:
            raise ValueError("pass transport= or http_client=, not both")
        token = check_token(api_token if api_token is not None else os.environ.get(TOKEN_ENV_VAR))
        self._base_url = _normalise_base_url(
            base_url or os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
        )
        self._timeouts = timeouts if timeouts is not None else _config.DEFAULT_TIMEOUTS
        self._retry = retry if retry is not None else _config.DEFAULT_RETRY_POLICY
        self._poll = poll if poll is not None else _config.DEFAULT_POLL_POLICY
        self._max_concurrency = max_concurrency
        self._default_http_timeout = _http_timeout(self._timeouts)
        self._user_agent = user_agent or _default_user_agent()
        # Accept-Encoding as httpx.AsyncClient would send it: API calls skip its defaults.
        self._headers = {
            **base_headers(token, self._user_agent),
            "Accept-Encoding": "gzip, deflate",
        }
        # A semaphore that takes a free slot without a checkpoint: on the hot path of every
        # call, anyio's CapacityLimiter cost more CPU (two cancel-scope checkpoints) than
        # its per-borrower bookkeeping, which nothing here uses, is worth.
        self._limiter = anyio.Semaphore(max_concurrency, fast_acquire=True)
        self._rate = RateLimiter(
            rate_limits if rate_limits is not None else DEFAULT_RATE_LIMITS,
            max_pause=self._retry.max_retry_after,
        )
        self._transport = transport
        self._owns_http = http_client is None
        # API calls read whole replies, so they skip httpx.AsyncClient's per-request
        # machinery (URL merging, cookies, auth and redirect flows, hooks), which costs more
        # CPU than the rest of the client and which they do not use: our own transport
        # fetches on aiohttp directly, another transport gets one httpx.Request. A user's
        # http_client is used as it is, with everything it carries.
        self._fetch: Callable[[Outgoing], Awaitable[Reply]] = self._fetch_with_client
        if http_client is None:
            direct = transport or LazyTransport(max_connections=max_concurrency)
            if isinstance(direct, LazyTransport):
                self._fetch = direct.fetch
            else:
                self._fetch = functools.partial(fetch_through, direct)
            http_client = httpx.AsyncClient(
                transport=direct,
                timeout=self._httpx_timeout(),
                follow_redirects=False,
                trust_env=False,
            )
        self._http = http_client
        self._retry_hooks = (self._retry_hook(create=False), self._retry_hook(create=True))
        self._downloader: Downloader | None = None
        self._closed = False
        self.predictions = AsyncPredictions(self)
        """Create, get, cancel, wait for and list predictions."""
        self.files = AsyncFiles(self)
        """Upload, get, list, delete and download files (the Files API)."""
        self.webhooks = AsyncWebhooks(self)
        """The webhook signing secret (``default_secret()``)."""

    # ------------------------------------------------------------------ lifecycle

    def __repr__(self) -> str:
        return f"<AsyncClient base_url={self._base_url!r} max_concurrency={self._max_concurrency}>"

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
        downloader, self._downloader = self._downloader, None
        try:
            if downloader is not None:
                await downloader.aclose()
        finally:
            if self._owns_http:
                await self._http.aclose()

    @property
    def base_url(self) -> str:
        """The API root requests go to, e.g. ``"https://api.replicate.com"``.

        .. versionadded:: 0.1.0
        """
        return self._base_url

    def downloader(self) -> Downloader:
        """The download client behind this client's FileOutput objects, made on first use.

        It is a separate HTTP client that never sends the API token (promise 5), and it
        is closed by :meth:`aclose`.

        .. versionadded:: 0.1.0
        """
        if self._downloader is None:
            from replicate_async._downloads import Downloader  # noqa: PLC0415 - made on demand

            self._downloader = Downloader(
                timeouts=self._timeouts,
                retry=self._retry,
                transport=self._transport,
                user_agent=self._user_agent,
            )
        return self._downloader

    # ------------------------------------------------------------------ sending

    def _httpx_timeout(self, read: float | None = None) -> httpx.Timeout:
        """The httpx timeout from the client's Timeouts, with *read* overriding the read phase."""
        if read is None:
            return self._default_http_timeout
        return _http_timeout(self._timeouts, read)

    def _url(self, path: str) -> str:
        """An absolute URL for a path under the API root (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return self._base_url + path

    def _retry_hook(self, *, create: bool) -> Callable[[Exception], bool | float]:
        """stamina's `on` hook: whether to retry, and how long to wait when the server said so.

        A create is retried only on 429 and on failures that prove it was never sent
        (promise 1); other requests also on 5xx and any transport failure.
        """
        cap = self._retry.max_retry_after

        def hook(exc: Exception) -> bool | float:
            if isinstance(exc, RateLimitError):
                if exc.retry_after is None:
                    return True
                return min(exc.retry_after, cap)
            if isinstance(exc, TransportError):
                if create and exc.request_sent:
                    return False
                return _is_retryable_transport(exc)
            return isinstance(exc, ServerError) and not create

        return hook

    def _transport_error(self, exc: Exception, request: Request, *, create: bool) -> TransportError:
        """Our error for an httpx failure; ``__cause__`` is set by the caller's ``raise ... from``."""
        sent = not request_not_sent(exc)
        what = f"{request.method} {request.path.split('?', 1)[0]}"
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if create and sent:
            message = (
                f"{what} failed after the request was sent ({reason}); the prediction may have "
                "been created and billed, so it was not retried: check client.predictions.list() "
                "before creating it again"
            )
        elif sent:
            message = f"{what} failed ({reason})"
        else:
            message = f"{what} failed before the request was sent ({reason})"
        cls = RequestTimeout if isinstance(exc, httpx.TimeoutException) else TransportError
        return cls(message=message, request_sent=sent)

    async def _fetch_with_client(self, outgoing: Outgoing) -> Reply:
        """Send one request through the user's httpx client and read the whole reply."""
        method, url, headers, content, timeouts = outgoing
        response = await self._http.request(
            method, url, content=content, headers=headers, timeout=timeouts
        )
        return Reply(response.status_code, response.headers, response.content)

    async def _send_once(
        self, request: Request, *, create: bool, http_timeout: httpx.Timeout
    ) -> Reply:
        """Send *request* once and read the reply; raise our errors for retryable replies."""
        headers = {**self._headers, **request.headers}
        content: bytes | None = None
        if request.json is not None:
            content = json.dumps(request.json, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        bucket = bucket_for(request.method, request.path)
        ticket = await self._rate.acquire(bucket)
        try:
            async with self._limiter:
                reply = await self._fetch(
                    Outgoing(
                        request.method, self._url(request.path), headers, content, http_timeout
                    )
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc, request, create=create) from exc
        status = reply.status_code
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s: %d", request.method, request.path.split("?", 1)[0], status)
        self._rate.observe(bucket, ticket, status, reply.headers)
        if status == 429 or (status >= 500 and not create):  # noqa: PLR2004
            raise error_for(
                status, reply.headers, reply.content, method=request.method, path=request.path
            )
        return reply

    async def _send(
        self, request: Request, *, create: bool = False, read_timeout: float | None = None
    ) -> Reply:
        """Send *request* with retries (see `_retry_hook`) and return the reply, body read.

        Error statuses that are not retried come back as replies for the caller to
        decode; statuses retried until the attempts run out raise their error.
        """
        http_timeout = self._httpx_timeout(read_timeout)
        hook = self._retry_hooks[create]
        started = time.monotonic()  # stamina's (tenacity's) clock for its timeout
        try:
            return await self._send_once(request, create=create, http_timeout=http_timeout)
        except Exception as exc:
            elapsed = time.monotonic() - started
            if hook(exc) is False or elapsed >= self._retry.timeout:
                raise
            failed: Exception | None = exc
        # The first try failed in a way worth retrying: stamina takes over from that failure,
        # which its first attempt raises again, so its attempts, backoff, Retry-After and
        # instrumentation are as if it had sent the first try itself. (Entering the retry
        # context costs more CPU than a request; most requests succeed at once.)
        async for attempt in self._retry.retry_context(hook, elapsed=elapsed):
            with attempt:
                if failed is not None:
                    first, failed = failed, None
                    raise first
                return await self._send_once(request, create=create, http_timeout=http_timeout)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _send_prediction(
        self,
        request: Request,
        *,
        create: bool = False,
        read_timeout: float | None = None,
        ref: str | Deployment | ModelRef | None = None,
    ) -> Prediction:
        """Send *request* and decode the prediction it returns (or raise its error)."""
        response = await self._send(request, create=create, read_timeout=read_timeout)
        return decode_prediction(
            response.status_code,
            response.headers,
            response.content,
            method=request.method,
            path=request.path,
            ref=ref,
        )

    async def _cancel_quietly(self, prediction_id: str) -> None:
        """Best-effort remote cancel, shielded from the caller's cancellation, bounded in time."""
        with anyio.move_on_after(CANCEL_GRACE, shield=True):
            try:
                await self.predictions.cancel(prediction_id)
            except ReplicateError as exc:
                logger.warning("could not cancel prediction %s: %s", prediction_id, exc)
                return
            logger.info("canceled prediction %s", prediction_id)

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

        Cancellation: when the task awaiting ``run`` is cancelled after the prediction was
        created and before it finished, a best-effort remote cancel is sent (shielded,
        at most a few seconds) and the cancellation goes on. While the create request
        itself is in flight the prediction's id is not known yet: the create is
        abandoned, and if the server had already accepted it, the prediction runs to
        completion (and is billed) or until its ``Cancel-After`` deadline. To bound that,
        pass ``timeout`` with ``cancel_on_timeout=True``: the create then carries
        ``Cancel-After`` and the server stops the prediction by itself.

        Args:
            ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
                or ``Deployment("owner/name")``.
            input: The model's input.
            wait: Seconds (1 to 60) the server may hold the create open, or False to
                return at once and poll. Shortened to fit ``timeout``.
            timeout: Seconds to wait for a terminal status, from the call; None waits up
                to :data:`DEFAULT_RUN_TIMEOUT`. The create request is never cut short by
                it (its id would be lost), so it may be exceeded by up to the create's
                own timeout margin. On expiry raises PredictionTimeout.
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
        started = anyio.current_time()
        budget, create_wait, cancel_after = plan_run(
            wait, timeout, cancel_on_timeout=cancel_on_timeout
        )
        prediction = await self.predictions.create(
            ref,
            input,
            wait=create_wait,
            cancel_after=cancel_after,
            file_encoding=file_encoding,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        if needs_confirmation(prediction):
            remaining = budget - (anyio.current_time() - started)
            prediction = await self.predictions._poll_until_terminal(  # noqa: SLF001 - same package
                prediction,
                within=remaining,
                reported_timeout=budget,
                cancel_on_timeout=cancel_on_timeout,
                cancel_on_cancellation=True,
            )
        output = outcome(prediction).output
        if output is None and prediction.data_removed:
            raise FileExpiredError(
                status_code=None,
                message=(
                    f"prediction {prediction.id} succeeded but its output is gone: Replicate "
                    "deletes an API prediction's output (and its files) an hour after it "
                    "finishes; run it again and read or save the output within the hour"
                ),
            )
        if use_file_output:
            from replicate_async._file_output import to_file_outputs  # noqa: PLC0415

            return to_file_outputs(output, self.downloader)
        return output

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
        from replicate_async._streaming import PredictionStream  # noqa: PLC0415

        async def start() -> Prediction:
            return await self.predictions.create(
                ref,
                input,
                wait=False,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
            )

        return PredictionStream(
            self, start=start, owned=True, timeout=timeout, cancel_on_timeout=cancel_on_timeout
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
        from replicate_async._fanout import run_many  # noqa: PLC0415

        return await run_many(
            self,
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
        from replicate_async._fanout import as_completed  # noqa: PLC0415

        return as_completed(
            self,
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
        from replicate_async._saving import save_all  # noqa: PLC0415 - only when saving

        return await save_all(output, folder, concurrency=concurrency)


def _default_user_agent() -> str:
    """``replicate-async/<version>``."""
    return user_agent(_package_version())


# ---------------------------------------------------------------------- default client

_default: tuple[object, AsyncClient, AsyncGenerator[None, None]] | None = None


async def _close_with_loop(client: AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended for the loop's life; asyncio.run and trio.run finalize it as they end."""
    try:
        yield
    finally:
        await client.aclose()


async def default_client() -> AsyncClient:
    """The module-level AsyncClient of the running event loop, made from the environment.

    It is closed when its event loop ends: both asyncio.run and trio.run finalize the
    suspended async generator that holds it.
    """
    global _default  # noqa: PLW0603 - one default client per process, by design
    loop = current_loop()
    if _default is None or _default[0] is not loop:
        client = AsyncClient()
        keeper = _close_with_loop(client)
        await anext(keeper)
        _default = (loop, client, keeper)
    return _default[1]
