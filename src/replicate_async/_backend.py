# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The one HTTP backend interface, and the place where transport failures become ours.

Everything that goes on the wire (API calls, SSE streams, uploads, downloads) goes through
a :class:`Backend`: send this whole request and give me status, headers and body, or open
it as a stream. Every failure of the HTTP library underneath is mapped, once, to
:class:`~replicate_async.TransportError` (or its :class:`~replicate_async.RequestTimeout`
child) carrying ``request_sent``: False only when the request surely never left this
process, which is what decides whether a create may be retried (promise 1). The library's
own exception stays the ``__cause__``.

Import the interface from here. The pieces live in:

- ``_backend_base``: the types (:class:`Phases`, :class:`Outgoing`, :class:`Reply`,
  :class:`Streamed`, :class:`Backend`) and the wording of a failure;
- ``_backend_aiohttp``: :class:`AiohttpBackend`, the asyncio default, and
  :func:`from_aiohttp`;
- ``_backend_httpx``: :class:`HttpxBackend` (trio, any ``transport=`` or ``http_client=``
  a user passes) with httpx's sharded pools, and :func:`from_httpx`;
- here: :class:`LazyBackend`, which picks one of the two for the event loop that first
  uses it, :func:`make_backend` and :func:`is_retryable`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

from replicate_async._backend_base import (
    KEEPALIVE_EXPIRY,
    Backend,
    Outgoing,
    Phases,
    Reply,
    Streamed,
    closed_error,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import Coroutine
    from contextlib import AbstractAsyncContextManager

    import httpx

    from replicate_async._backend_aiohttp import AiohttpBackend
    from replicate_async._backend_httpx import HttpxBackend
    from replicate_async.exceptions import TransportError

__all__ = [
    "KEEPALIVE_EXPIRY",
    "Backend",
    "LazyBackend",
    "Outgoing",
    "Phases",
    "Reply",
    "Streamed",
    "current_loop",
    "is_decoding_error",
    "is_retryable",
    "make_backend",
    "running_backend",
]

# aiohttp and httpx are imported where they are first needed (a backend is built, a failure is
# judged), not by `import replicate_async`: together they cost more than the rest of the package.
_AIOHTTP_BACKEND = "replicate_async._backend_aiohttp"
_HTTPX_BACKEND = "replicate_async._backend_httpx"


def _permanent() -> tuple[type[BaseException], ...]:
    """The failures no retry cures, of the HTTP libraries loaded (a failure comes from one)."""
    found: tuple[type[BaseException], ...] = ()
    aiohttp_backend = sys.modules.get(_AIOHTTP_BACKEND)
    if aiohttp_backend is not None:
        found += aiohttp_backend.AIOHTTP_PERMANENT
    httpx_backend = sys.modules.get(_HTTPX_BACKEND)
    if httpx_backend is not None:
        found += httpx_backend.HTTPX_PERMANENT
    return found


def is_retryable(exc: TransportError) -> bool:
    """Whether a transport failure may go away on a retry (not a malformed URL or request)."""
    return not isinstance(exc.__cause__, _permanent())


def is_decoding_error(exc: TransportError) -> bool:
    """Whether the reply arrived but its ``Content-Encoding`` could not be decoded."""
    cause = exc.__cause__
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(cause, httpx.DecodingError):
        return True
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None or not isinstance(cause, aiohttp.ClientPayloadError):
        return False
    from aiohttp.http_exceptions import ContentEncodingError  # noqa: PLC0415 - loaded already

    return isinstance(cause.__cause__, ContentEncodingError)


def running_backend() -> str:
    """Name the async library running the current task ("asyncio" or "trio")."""
    try:
        import sniffio  # noqa: PLC0415
    except ImportError:  # pragma: no cover - trio needs sniffio, so this is asyncio
        return "asyncio"
    return sniffio.current_async_library()


def current_loop() -> object:
    """An object identifying the running event loop (the asyncio loop, or trio's run token).

    Called on every request, so it asks asyncio first (one C call) instead of sniffio.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio
        pass
    import trio  # noqa: PLC0415 - only a trio run gets here

    return trio.lowlevel.current_trio_token()


class LazyBackend:
    """Builds the backend that suits the running event loop on the first request.

    aiohttp on asyncio, httpx's own sharded pools on trio (where aiohttp cannot run). It
    stays bound to that loop: aiohttp sessions and httpx pools cannot move between loops,
    so using it from another loop raises RuntimeError.
    """

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool = True) -> None:
        """Prepare for at most *max_connections* connections.

        Args:
            max_connections: The pool size; the client never runs more requests at once.
            verify: TLS verification, as for httpx.
        """
        self._max_connections = max_connections
        self._verify = verify
        self._inner: AiohttpBackend | HttpxBackend | None = None
        self._built_for: str | None = None
        self._loop: object = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<LazyBackend max_connections={self._max_connections} backend={self.backend}>"

    @property
    def backend(self) -> str | None:
        """The event loop the backend was built for ("asyncio" or "trio"), None before use."""
        return None if self._inner is None else self._built_for

    @property
    def inner(self) -> AiohttpBackend | HttpxBackend | None:
        """The backend built for the running loop, None before the first request."""
        return self._inner

    @property
    def max_connections(self) -> int:
        """The pool size the backend is (or will be) built with."""
        return self._max_connections

    def grow(self, max_connections: int) -> None:
        """Let the pool hold at least *max_connections* connections (it never shrinks)."""
        if max_connections <= self._max_connections:
            return
        self._max_connections = max_connections
        if self._inner is not None:
            self._inner.grow(max_connections)

    def build(self, backend: str) -> AiohttpBackend | HttpxBackend:
        """Make the real backend for the async library named *backend*."""
        # Imported here, when the first request needs it (see the module's note above).
        if backend == "asyncio":
            from replicate_async._backend_aiohttp import AiohttpBackend  # noqa: PLC0415

            return AiohttpBackend(max_connections=self._max_connections, verify=self._verify)
        if backend == "trio":
            from replicate_async._backend_httpx import HttpxBackend  # noqa: PLC0415

            return HttpxBackend(max_connections=self._max_connections, verify=self._verify)
        raise RuntimeError(f"replicate_async runs on asyncio or trio, not on {backend!r}")

    def _current(self) -> AiohttpBackend | HttpxBackend:
        """The real backend, built on first use; RuntimeError from another event loop."""
        if self._closed:  # building a new pool now would leak it: nothing closes it again
            raise closed_error()
        loop = current_loop()
        inner = self._inner
        if inner is None:
            self._built_for = running_backend()
            inner = self._inner = self.build(self._built_for)
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(
                "this client's connections belong to the event loop that first used it; "
                "make one AsyncClient per event loop (the sync Client does this for you)"
            )
        return inner

    def fetch(self, outgoing: Outgoing) -> Coroutine[Any, Any, Reply]:
        """Send *outgoing* and read the whole reply; failures raise TransportError.

        The real backend's coroutine itself: no frame of this wrapper stays alive for each
        request in flight (10,000 of them at a large fan-out's concurrency).
        """
        return self._current().fetch(outgoing)

    def open(self, outgoing: Outgoing) -> AbstractAsyncContextManager[Streamed]:
        """Send *outgoing* and hold its reply open until the context exits."""
        return self._current().open(outgoing)

    async def aclose(self) -> None:
        """Close the real backend, if one was built; closing twice is fine, using it again is not."""
        self._closed = True
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


def make_backend(
    *,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
    http_client: httpx.AsyncClient | None = None,
    verify: ssl.SSLContext | bool = True,
) -> Backend:
    """The backend for a client: the user's *http_client* or *transport*, else one per loop.

    Args:
        max_connections: The pool size of the backend made here (not of a user's).
        transport: An httpx transport to send each request straight through.
        http_client: A user's httpx client, used as it is and never closed.
        verify: TLS verification of the pools made here.

    Raises:
        ValueError: Both *transport* and *http_client* were given.
    """
    if transport is None and http_client is None:
        return LazyBackend(max_connections=max_connections, verify=verify)
    from replicate_async._backend_httpx import HttpxBackend  # noqa: PLC0415 - httpx is loaded

    return HttpxBackend(transport, http_client=http_client, max_connections=max_connections)
