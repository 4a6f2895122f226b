# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""An async-first client for the Replicate HTTP API, built for running many generations at once.

.. code-block:: python

    from replicate_async import AsyncClient

    async with AsyncClient() as client:  # REPLICATE_API_TOKEN from the environment
        output = await client.run("owner/name", input={"prompt": "..."})

The sync :class:`Client` has the same methods as plain calls; :func:`run` and
:func:`async_run` are one-liners on a default client.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING, Any, Literal

from replicate_async._api_objects import (
    Account,
    Collection,
    DeploymentConfiguration,
    DeploymentInfo,
    DeploymentRelease,
    Hardware,
    Model,
    ModelVersion,
    SearchCollection,
    SearchModel,
    SearchModelMetadata,
    SearchPage,
    SearchResults,
    Training,
    TrainingOutput,
)
from replicate_async._client import AsyncClient, BatchOptions
from replicate_async._config import (
    USE_CLIENT_DEFAULT,
    PollPolicy,
    RetryPolicy,
    SizeLimits,
    Timeouts,
    UseClientDefault,
)
from replicate_async._default_client import default_client as _default_client
from replicate_async._file_output import FileOutput
from replicate_async._generating import Generation
from replicate_async._jobs import Job, Progress, ProgressEvent
from replicate_async._journal_backend import JournalBackend
from replicate_async._journal_postgres import PostgresJournal
from replicate_async._models import (
    Deployment,
    File,
    FileUrls,
    Page,
    Prediction,
    PredictionMetrics,
    PredictionProgress,
    PredictionStatus,
    PredictionUrls,
)
from replicate_async._paging import AsyncPages
from replicate_async._ratelimit import Limiter, RateLimit, RateLimits
from replicate_async._ratelimit_redis import RedisRateLimiter
from replicate_async._resources.deployments import AsyncDeploymentPredictions, AsyncDeployments
from replicate_async._resources.discovery import AsyncAccount, AsyncCollections, AsyncHardware
from replicate_async._resources.files import AsyncFiles
from replicate_async._resources.models import AsyncModelPredictions, AsyncModels, AsyncModelVersions
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._resources.trainings import AsyncTrainings
from replicate_async._resources.webhooks import AsyncWebhooks, WebhookWaiter
from replicate_async._streaming import PredictionStream, StreamEvent
from replicate_async._sync import (
    Client,
    SyncFileOutput,
    SyncFiles,
    SyncPredictions,
    SyncPredictionStream,
    SyncWebhooks,
)
from replicate_async._sync_api import (
    SyncAccount,
    SyncCollections,
    SyncDeploymentPredictions,
    SyncDeployments,
    SyncHardware,
    SyncModelPredictions,
    SyncModels,
    SyncModelVersions,
    SyncTrainings,
)
from replicate_async._sync_pages import SyncPages
from replicate_async.exceptions import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    ClientError,
    CreateOutcomeUnknown,
    DecodeError,
    FileExpiredError,
    InvalidField,
    JournalError,
    JournalLocked,
    JournalMismatch,
    NotFoundError,
    PermissionDeniedError,
    PredictionCanceled,
    PredictionError,
    PredictionFailed,
    PredictionTimeout,
    RateLimitError,
    ReplicateError,
    RequestTimeout,
    ServerError,
    StreamingNotSupportedError,
    TransportError,
    UnsupportedURLError,
    ValidationError,
    WebhookVerificationError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "USE_CLIENT_DEFAULT",
    "APIError",
    "Account",
    "AsyncAccount",
    "AsyncClient",
    "AsyncCollections",
    "AsyncDeploymentPredictions",
    "AsyncDeployments",
    "AsyncFiles",
    "AsyncHardware",
    "AsyncModelPredictions",
    "AsyncModelVersions",
    "AsyncModels",
    "AsyncPages",
    "AsyncPredictions",
    "AsyncTrainings",
    "AsyncWebhooks",
    "AuthenticationError",
    "BatchOptions",
    "Client",
    "ClientClosedError",
    "ClientError",
    "Collection",
    "CreateOutcomeUnknown",
    "DecodeError",
    "Deployment",
    "DeploymentConfiguration",
    "DeploymentInfo",
    "DeploymentRelease",
    "File",
    "FileExpiredError",
    "FileOutput",
    "FileUrls",
    "Generation",
    "Hardware",
    "InvalidField",
    "Job",
    "JournalBackend",
    "JournalError",
    "JournalLocked",
    "JournalMismatch",
    "Limiter",
    "Model",
    "ModelVersion",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "PollPolicy",
    "PostgresJournal",
    "Prediction",
    "PredictionCanceled",
    "PredictionError",
    "PredictionFailed",
    "PredictionMetrics",
    "PredictionProgress",
    "PredictionStatus",
    "PredictionStream",
    "PredictionTimeout",
    "PredictionUrls",
    "Progress",
    "ProgressEvent",
    "RateLimit",
    "RateLimitError",
    "RateLimits",
    "RedisRateLimiter",
    "ReplicateError",
    "RequestTimeout",
    "RetryPolicy",
    "SearchCollection",
    "SearchModel",
    "SearchModelMetadata",
    "SearchPage",
    "SearchResults",
    "ServerError",
    "SizeLimits",
    "StreamEvent",
    "StreamingNotSupportedError",
    "SyncAccount",
    "SyncCollections",
    "SyncDeploymentPredictions",
    "SyncDeployments",
    "SyncFileOutput",
    "SyncFiles",
    "SyncHardware",
    "SyncModelPredictions",
    "SyncModelVersions",
    "SyncModels",
    "SyncPages",
    "SyncPredictionStream",
    "SyncPredictions",
    "SyncTrainings",
    "SyncWebhooks",
    "Timeouts",
    "Training",
    "TrainingOutput",
    "TransportError",
    "UnsupportedURLError",
    "UseClientDefault",
    "ValidationError",
    "WebhookVerificationError",
    "WebhookWaiter",
    "async_run",
    "run",
]


async def async_run(
    ref: str | Deployment,
    input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
    *,
    wait: int | Literal[False] = 60,
    timeout: float | None = None,  # noqa: ASYNC109 - public API (PRODUCT.md)
    cancel_on_timeout: bool = False,
    use_file_output: bool = True,
) -> Any:
    """Run a model on a default :class:`AsyncClient` and return its output.

    The default client is made from the environment (``REPLICATE_API_TOKEN``,
    ``REPLICATE_BASE_URL``) on first use in each event loop, shared by every call in
    that loop, and closed when the loop ends. For settings of your own, use
    ``async with AsyncClient(...) as client``.

    Args:
        ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
            or ``Deployment("owner/name")``.
        input: The model's input.
        wait: As for :meth:`AsyncClient.run`.
        timeout: As for :meth:`AsyncClient.run`.
        cancel_on_timeout: As for :meth:`AsyncClient.run`.
        use_file_output: As for :meth:`AsyncClient.run`.

    .. versionadded:: 0.1.0
    """
    client = await _default_client()
    return await client.run(
        ref,
        input,
        wait=wait,
        timeout=timeout,
        cancel_on_timeout=cancel_on_timeout,
        use_file_output=use_file_output,
    )


_default_sync: Client | None = None
_default_sync_lock = threading.Lock()


def _close_default_sync() -> None:
    """Close the default sync client (at interpreter exit)."""
    global _default_sync
    with _default_sync_lock:
        client, _default_sync = _default_sync, None
    if client is not None:
        client.close()


def run(
    ref: str | Deployment,
    input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
    *,
    wait: int | Literal[False] = 60,
    timeout: float | None = None,
    cancel_on_timeout: bool = False,
    use_file_output: bool = True,
) -> Any:
    """Run a model on a default blocking :class:`Client` and return its output.

    The default client is made from the environment on first use and closed at exit.
    Inside a running event loop (a notebook's) it blocks that loop until the output is
    back; in async code of your own, ``await`` :func:`async_run` instead.

    Args:
        ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
            or ``Deployment("owner/name")``.
        input: The model's input.
        wait: As for :meth:`AsyncClient.run`.
        timeout: As for :meth:`AsyncClient.run`.
        cancel_on_timeout: As for :meth:`AsyncClient.run`.
        use_file_output: As for :meth:`AsyncClient.run`.

    .. versionadded:: 0.1.0
    """
    global _default_sync  # noqa: PLW0603 - the process-wide default client
    with _default_sync_lock:
        if _default_sync is None:
            _default_sync = Client()
            atexit.register(_close_default_sync)
        client = _default_sync
    return client.run(
        ref,
        input,
        wait=wait,
        timeout=timeout,
        cancel_on_timeout=cancel_on_timeout,
        use_file_output=use_file_output,
    )


def __getattr__(name: str) -> str:
    """Compute ``__version__`` on demand from the installed distribution's metadata."""
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("replicate-async")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
