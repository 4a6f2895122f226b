# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What every AsyncClient is made of: its session, catalogue, run engine and resources.

:class:`~replicate_async.AsyncClient` adds the verbs (``run``, ``generate``, ``stream``,
``run_many``, ``as_completed``, ``save_all``) on top of this base; the constructor's
arguments are documented on AsyncClient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from replicate_async._downloads import Downloader
from replicate_async._input_checks import InputChecks
from replicate_async._resources import discovery
from replicate_async._resources.deployments import AsyncDeployments
from replicate_async._resources.discovery import AsyncAccount, AsyncCollections, AsyncHardware
from replicate_async._resources.files import AsyncFiles
from replicate_async._resources.models import AsyncModels
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._resources.trainings import AsyncTrainings
from replicate_async._resources.webhooks import AsyncWebhooks
from replicate_async._running import Runner
from replicate_async._setup import DEFAULT_MAX_CONCURRENCY, check_count, make_session
from replicate_async._uploader import Uploader
from replicate_async._uploads import DEFAULT_MAX_DATA_URI_BYTES, check_file_encoding
from replicate_async.catalog import Catalog

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from replicate_async._api_objects import SearchResults
    from replicate_async._config import PollPolicy, RetryPolicy, SizeLimits, Timeouts
    from replicate_async._ratelimit import Limiter, RateLimits
    from replicate_async._uploads import FileEncoding

__all__ = ["ClientBase"]


class ClientBase:
    """The parts of an :class:`~replicate_async.AsyncClient`: see it for the arguments."""

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
        rate_limiter: str | Limiter | None = None,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        file_encoding: FileEncoding = "auto",
        max_data_uri_bytes: int = DEFAULT_MAX_DATA_URI_BYTES,
        size_limits: SizeLimits | None = None,
        allow_insecure_http: bool = False,
        validate: bool = False,
    ) -> None:
        encoding = check_file_encoding(file_encoding)
        check_count("max_data_uri_bytes", max_data_uri_bytes, minimum=0)
        # The settings live in the session; the client keeps only what the session does not.
        self._transport = transport
        self._session = make_session(
            api_token=api_token,
            base_url=base_url,
            timeouts=timeouts,
            retry=retry,
            poll=poll,
            max_concurrency=max_concurrency,
            rate_limits=rate_limits,
            user_agent=user_agent,
            transport=transport,
            http_client=http_client,
            size_limits=size_limits,
            allow_insecure_http=allow_insecure_http,
            rate_limiter=rate_limiter,
        )
        self._uploader = Uploader(self._session)
        self.catalog = Catalog()
        """Typed requests mapped to each model's inputs (``build``, ``plan``, ``register``)."""
        self._inputs = InputChecks(self._session, self.catalog, validate=validate)
        self._runner = Runner(
            self._session,
            upload=self._uploader.upload_cached,
            downloader=self.downloader,
            file_encoding=encoding,
            max_data_uri_bytes=max_data_uri_bytes,
            prepare=self._inputs.input_for,
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
