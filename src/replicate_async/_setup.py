# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A client's session from its arguments and the environment: checked once, defaults filled in."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from replicate_async import _config
from replicate_async._backend import make_backend
from replicate_async._base_url import insecure_http_allowed, normalise_base_url
from replicate_async._ratelimit import DEFAULT_RATE_LIMITS
from replicate_async._ratelimit_redis import make_limiter
from replicate_async._sansio import check_token
from replicate_async._session import Session

if TYPE_CHECKING:
    import httpx

    from replicate_async._config import PollPolicy, RetryPolicy, SizeLimits, Timeouts
    from replicate_async._ratelimit import Limiter, RateLimits

__all__ = [
    "BASE_URL_ENV_VAR",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "TOKEN_ENV_VAR",
    "check_count",
    "make_session",
]

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


def check_count(name: str, value: object, *, minimum: int) -> int:
    """*value* when it is an int of at least *minimum*: TypeError or ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def make_session(
    *,
    api_token: str | None,
    base_url: str | None,
    timeouts: Timeouts | None,
    retry: RetryPolicy | None,
    poll: PollPolicy | None,
    max_concurrency: int,
    rate_limits: RateLimits | None,
    user_agent: str | None,
    transport: httpx.AsyncBaseTransport | None,
    http_client: httpx.AsyncClient | None,
    size_limits: SizeLimits | None,
    allow_insecure_http: bool,
    rate_limiter: str | Limiter | None = None,
) -> Session:
    """The session of a client made with these arguments (see AsyncClient for each)."""
    check_count("max_concurrency", max_concurrency, minimum=1)
    if transport is not None and http_client is not None:
        raise ValueError("pass transport= or http_client=, not both")
    token = check_token(api_token if api_token is not None else os.environ.get(TOKEN_ENV_VAR))
    from_env = None if base_url else os.environ.get(BASE_URL_ENV_VAR)
    root = normalise_base_url(
        base_url or from_env or DEFAULT_BASE_URL,
        source=BASE_URL_ENV_VAR if from_env else "base_url",
        allow_insecure_http=insecure_http_allowed(allow_insecure_http, transport),
    )
    retry = retry if retry is not None else _config.DEFAULT_RETRY_POLICY
    rate_limits = rate_limits if rate_limits is not None else DEFAULT_RATE_LIMITS
    limiter = make_limiter(
        rate_limiter, api_token=token, limits=rate_limits, max_pause=retry.max_retry_after
    )
    return Session(
        token=token,
        base_url=root,
        user_agent=user_agent or _config.default_user_agent(),
        timeouts=timeouts if timeouts is not None else _config.DEFAULT_TIMEOUTS,
        retry=retry,
        poll=poll if poll is not None else _config.DEFAULT_POLL_POLICY,
        max_concurrency=max_concurrency,
        rate_limits=rate_limits,
        rate_limiter=limiter,
        limits=size_limits if size_limits is not None else _config.DEFAULT_SIZE_LIMITS,
        backend=make_backend(
            max_connections=max_concurrency, transport=transport, http_client=http_client
        ),
    )
