# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The one HTTP backend interface, and the place where transport failures become ours.

Everything that goes on the wire (API calls, SSE streams, uploads, downloads) goes through
a :class:`Backend`: send this whole request and give me status, headers and body, or open
it as a stream. Every failure of the HTTP library underneath is mapped here, once, to
:class:`~replicate_async.TransportError` (or its :class:`~replicate_async.RequestTimeout`
child) carrying ``request_sent``: False only when the request surely never left this
process, which is what decides whether a create may be retried (promise 1). The library's
own exception stays the ``__cause__``.

Implementations (INTERFACE ONLY IN THIS COMMIT; see issue 10):

- ``AiohttpBackend``: the asyncio default, for API calls, streams, uploads and downloads.
- ``HttpxBackend``: trio (httpx's own pools, sharded), any ``transport=`` or ``http_client=``
  a user passes (respx and ``httpx.ASGITransport`` in tests).
- ``LazyBackend``: picks one of the two for the event loop that first uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Mapping
    from contextlib import AbstractAsyncContextManager


class Phases(NamedTuple):
    """Timeouts in seconds per phase of one request."""

    connect: float
    read: float
    """Between two chunks of the reply (and for its head)."""
    write: float
    pool: float | None
    """Waiting for a free pooled connection; None for no limit."""


class Outgoing(NamedTuple):
    """One request, whole: what a backend sends."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | AsyncIterable[bytes] | None
    """The body: bytes, an async iterable of chunks (uploads), or None."""
    timeouts: Phases


class Reply(NamedTuple):
    """A whole reply, body read (and decompressed): what the sans-I/O core decodes."""

    status_code: int
    headers: Mapping[str, str]
    """Case-insensitive."""
    content: bytes


class Streamed(Protocol):
    """An open reply whose body is read chunk by chunk."""

    @property
    def status_code(self) -> int:
        """The reply's status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The reply's headers, case-insensitive."""

    def chunks(self) -> AsyncIterator[bytes]:
        """The body's (decompressed) chunks; failures raise TransportError."""


class Backend(Protocol):
    """Sends requests. Adds no header of its own: auth and user agent come with the request."""

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send *outgoing* and read the whole reply; failures raise TransportError."""

    def open(self, outgoing: Outgoing) -> AbstractAsyncContextManager[Streamed]:
        """Send *outgoing* and hold its reply open until the context exits."""

    async def aclose(self) -> None:
        """Close every connection; closing twice is fine."""
