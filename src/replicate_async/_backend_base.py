# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The backend interface's types, and the one way a transport failure is worded.

Import these from :mod:`replicate_async._backend`, which re-exports them next to the
implementations; they live here so that the implementations can use them without an
import cycle.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

from replicate_async.exceptions import RequestTimeout, TransportError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Mapping
    from contextlib import AbstractAsyncContextManager

#: Seconds an idle connection is kept; long enough to span the longest poll delay.
KEEPALIVE_EXPIRY: Final = 15.0


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


# The query and fragment of any absolute URL, and its user:password@ part: signed URLs
# carry their signature in the query, and none of it belongs in an error message.
_URL_QUERY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*")
_USERINFO = re.compile(r"(://)[^/\s@'\"<>]*@")
_MIN_SECRET: Final = 8


def bare_url(url: str) -> str:
    """*url* without its query string, fragment or credentials: safe to show."""
    return _USERINFO.sub(r"\1", url.split("?", 1)[0].split("#", 1)[0])


def transport_error(
    exc: BaseException, outgoing: Outgoing, *, sent: bool, timeout: bool
) -> TransportError:
    """Our error for *exc*, a failure of *outgoing*: one line, no query string, no header.

    ``__cause__`` is set to *exc* (callers still ``raise ... from exc``, which also hides
    the context).
    """
    reason = str(exc)
    query = outgoing.url.partition("?")[2].partition("#")[0]
    if query:
        reason = reason.replace("?" + query, "")
        if len(query) >= _MIN_SECRET:  # a short one would match ordinary words
            reason = reason.replace(query, "")
    reason = _USERINFO.sub(r"\1", _URL_QUERY.sub(r"\1", reason))
    reason = " ".join(reason.split())
    reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    what = f"{outgoing.method} {bare_url(outgoing.url)}"
    cls = RequestTimeout if timeout else TransportError
    if sent:
        error = cls(message=f"{what} failed ({reason})", request_sent=True)
    else:
        error = cls(
            message=f"{what} failed before the request was sent ({reason})", request_sent=False
        )
    error.__cause__ = exc
    return error
