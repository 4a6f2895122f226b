# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The backend interface's types, and the one way a transport failure is worded.

Import these from :mod:`replicate_async._backend`, which re-exports them next to the
implementations; they live here so that the implementations can use them without an
import cycle.
"""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

from replicate_async._urls import display_url, redact_urls
from replicate_async.exceptions import (
    ClientClosedError,
    DecodeError,
    RequestTimeout,
    TransportError,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator, AsyncIterable, Iterator, Mapping
    from contextlib import AbstractAsyncContextManager

#: Seconds an idle connection is kept; long enough to span the longest poll delay.
KEEPALIVE_EXPIRY: Final = 15.0


def verified_tls_context() -> ssl.SSLContext:
    """A verifying TLS context with certifi's CA bundle, as ``httpx.create_ssl_context()`` makes
    it (``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` instead when set): the same trust on both backends,
    whatever the system's store holds. Loading the bundle costs about 20 ms: made once per
    backend, and only for an ``https://`` request."""
    import ssl  # noqa: PLC0415 - with the first https request, not by `import replicate_async`

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi  # noqa: PLC0415 - as ssl

    return ssl.create_default_context(cafile=certifi.where())


class Phases(NamedTuple):
    """Timeouts in seconds per phase of one request."""

    connect: float
    read: float
    """Between two chunks of the reply (and for its head)."""
    write: float
    pool: float | None
    """Waiting for a free pooled connection; None for no limit."""
    total: float | None = None
    """The whole attempt, from sending to the last byte of the reply (or until a streamed
    reply's context exits); None for no limit. The per-phase timeouts bound each wait for
    a byte; only this stops a reply that trickles."""


class Outgoing(NamedTuple):
    """One request, whole: what a backend sends."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | AsyncIterable[bytes] | None
    """The body: bytes, an async iterable of chunks (uploads), or None."""
    timeouts: Phases
    max_bytes: int | None = None
    """The most (decompressed) bytes :meth:`Backend.fetch` reads of the reply: one more
    raises DecodeError without reading the rest. None for no cap; streams are not capped."""


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

    def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body's (decompressed) chunks; failures raise TransportError.

        Closing the generator before its end (``aclose``) releases whatever the HTTP library
        holds under it: callers that stop early close it, nothing more.
        """


class Backend(Protocol):
    """Sends requests. Adds no header of its own: auth and user agent come with the request."""

    async def fetch(self, outgoing: Outgoing) -> Reply:
        """Send *outgoing* and read the whole reply; failures raise TransportError."""

    def open(self, outgoing: Outgoing) -> AbstractAsyncContextManager[Streamed]:
        """Send *outgoing* and hold its reply open until the context exits."""

    async def aclose(self) -> None:
        """Close every connection; closing twice is fine."""


_MIN_SECRET: Final = 8


def closed_error() -> ClientClosedError:
    """Our error for a request through a backend that was closed (its client was)."""
    return ClientClosedError(
        message=(
            "this client is closed, and with it its file downloads; make a new one "
            "(or read and save outputs before leaving `async with AsyncClient() as client:`)"
        )
    )


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
    reason = redact_urls(reason)
    reason = " ".join(reason.split())
    reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    what = f"{outgoing.method} {display_url(outgoing.url)}"
    cls = RequestTimeout if timeout else TransportError
    if sent:
        error = cls(message=f"{what} failed ({reason})", request_sent=True)
    else:
        error = cls(
            message=f"{what} failed before the request was sent ({reason})", request_sent=False
        )
    error.__cause__ = exc
    return error


def too_large(outgoing: Outgoing, status_code: int, max_bytes: int) -> DecodeError:
    """Our error for a reply to *outgoing* whose body passed *max_bytes*, the API reply cap."""
    return DecodeError(
        message=(
            f"{outgoing.method} {display_url(outgoing.url)}: the reply passed {max_bytes:,} bytes, "
            "the cap on one API reply (SizeLimits.max_reply_bytes), and was not read further; "
            "raise it with AsyncClient(size_limits=...) if such replies are expected"
        ),
        status_code=status_code,
    )


def past_deadline(outgoing: Outgoing, cause: BaseException | None = None) -> TransportError:
    """Our error for *outgoing* passing its overall deadline (``Phases.total``).

    Whether the request was sent is unknown by then, so it counts as sent: a create that
    timed out is never re-sent (promise 1).
    """
    reason = TimeoutError(
        f"no whole reply within {outgoing.timeouts.total:g} s, the deadline of one attempt"
    )
    reason.__cause__ = cause
    return transport_error(reason, outgoing, sent=True, timeout=True)


class ContentDecodingError(ValueError):
    """A body does not decode by its ``Content-Encoding``."""


#: Most bytes one step of decompression produces: a gzip bomb inflates by this much at a
#: time, so a cap counted on the output stops it within one step.
INFLATE_STEP: Final = 64 * 1024

_ZLIB_ENCODINGS: Final = frozenset({"gzip", "x-gzip", "deflate"})
_IGNORED_ENCODINGS: Final = frozenset({"", "identity"})


class _Decompressor(Protocol):
    """What a zlib decompression object offers."""

    @property
    def unconsumed_tail(self) -> bytes:
        """Input not processed yet because the output reached ``max_length``."""

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        """Up to *max_length* bytes of output for *data*."""

    def flush(self) -> bytes:
        """What remains at the end of the input."""


class _Layer:
    """One gzip or deflate layer, decoded in steps of at most INFLATE_STEP bytes."""

    __slots__ = ("_encoding", "_obj")

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._obj: _Decompressor | None = None

    def _start(self, first: bytes) -> _Decompressor:
        """The decompressor, chosen by the first bytes: "deflate" is zlib-wrapped or raw."""
        if self._encoding != "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        # RFC 1950's header says compression method 8; servers also send raw deflate.
        wrapped = first[0] & 0x0F == 8  # noqa: PLR2004
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The output for *data*, in pieces of at most INFLATE_STEP bytes."""
        obj = self._obj
        if obj is None:
            if not data:
                return
            obj = self._obj = self._start(data)
        while True:
            try:
                out = obj.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                raise ContentDecodingError(f"invalid {self._encoding} data: {exc}") from exc
            data = obj.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < INFLATE_STEP:
                return

    def flush(self) -> Iterator[bytes]:
        """What is left at the end (nothing, once every step was drained)."""
        if self._obj is not None:
            rest = self._obj.flush()
            if rest:
                yield rest


class Inflater:
    """Decodes a body by its ``Content-Encoding`` in bounded steps (gzip and deflate, stacked).

    Every piece it yields is at most :data:`INFLATE_STEP` bytes, whatever the ratio, so a
    caller counting the pieces against a cap never holds more than the cap plus one step:
    a few KiB that inflate to gigabytes (even gzip in gzip) stop at the cap. Unknown
    encodings are passed through as they are (as httpx does); brotli and zstd, which this
    client never asks for, are refused.
    """

    __slots__ = ("_layers",)

    def __init__(self, layers: list[_Layer]) -> None:
        self._layers = layers

    @classmethod
    def for_encoding(cls, content_encoding: str | None) -> Inflater | None:
        """The inflater for a ``Content-Encoding`` value, None when there is nothing to decode.

        Raises:
            ContentDecodingError: An encoding that cannot be decoded here.
        """
        if not content_encoding:
            return None
        layers: list[_Layer] = []
        # Encodings are listed in the order they were applied: undo the last first.
        for name in reversed(content_encoding.lower().split(",")):
            token = name.strip()
            if token in _ZLIB_ENCODINGS:
                layers.append(_Layer(token))
            elif token in {"br", "zstd"}:
                raise ContentDecodingError(
                    f"Content-Encoding {token!r} is not supported (only gzip and deflate are asked for)"
                )
        return cls(layers) if layers else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next chunk *data*."""
        return self._through(0, data)

    def flush(self) -> Iterator[bytes]:
        """The decoded pieces left at the end of the body."""
        for index, layer in enumerate(self._layers):
            for piece in layer.flush():
                yield from self._through(index + 1, piece)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        """*data* decoded by the layers from *index* on."""
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].feed(data):
            yield from self._through(index + 1, piece)
