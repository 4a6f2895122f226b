"""Client settings: frozen attrs classes with module defaults, and the per-call sentinel.

Modelled on httpx's ``_config.py``: a setting is a small immutable value that a
client holds and a call may override. ``USE_CLIENT_DEFAULT`` (not None) means
"the client's value", so None can keep its own meaning (e.g. "no timeout").

:class:`RateLimits` is shared: the client paces itself by it and the emulator enforces
it, so this module stays pure data (no anyio, no HTTP library).
"""

from __future__ import annotations

import enum
import functools
import math
import sys
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, Union

import attrs

from replicate_async._sansio.requests import user_agent

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Callable

    import stamina

__all__ = [
    "DEFAULT_POLL_POLICY",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_SIZE_LIMITS",
    "DEFAULT_TIMEOUTS",
    "USE_CLIENT_DEFAULT",
    "BucketName",
    "OrClientDefault",
    "PollPolicy",
    "RateLimit",
    "RateLimits",
    "RetryPolicy",
    "SizeLimits",
    "Timeouts",
    "UseClientDefault",
    "stamina_testing",
]

_T = TypeVar("_T")


class UseClientDefault(enum.Enum):
    """The type of :data:`USE_CLIENT_DEFAULT`, for annotating per-call overrides.

    A one-member enum, so ``if value is USE_CLIENT_DEFAULT`` narrows the type for mypy.

    .. versionadded:: 0.1.0
    """

    USE_CLIENT_DEFAULT = "USE_CLIENT_DEFAULT"

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"

    def __bool__(self) -> bool:
        # Truthiness would be a trap: `timeout or default` must not treat the sentinel as a value.
        raise TypeError("compare USE_CLIENT_DEFAULT with `is`, not by truthiness")


USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT
"""Sentinel for a per-call argument meaning "use the client's setting".

.. versionadded:: 0.1.0
"""

OrClientDefault: TypeAlias = Union[_T, UseClientDefault]  # noqa: UP007  (a generic alias needs Union on 3.11)
"""``OrClientDefault[float | None]``: a per-call value, or the client's."""


def _finite_positive(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


def _finite_non_negative(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _optional_positive(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    """Validator: None, or a finite number > 0."""
    if value is not None:
        _finite_positive(instance, attribute, value)


@functools.cache
def default_user_agent() -> str:
    """The ``User-Agent`` of every request the library sends: ``replicate-async/<version>``.

    One value for API calls, streams, uploads and downloads ("0" as the version when the
    distribution is not installed). Read once per process: looking the distribution up costs
    about 10 ms, which every client made would pay again.
    """
    import importlib.metadata  # noqa: PLC0415 - read when a client is made, not at import

    try:
        version = importlib.metadata.version("replicate-async")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - always installed in tests
        version = "0"
    return user_agent(version)


@attrs.frozen(kw_only=True)
class Timeouts:
    """HTTP timeouts in seconds, per phase of a request.

    Args:
        connect: Seconds to establish a connection.
        read: Seconds to wait for each chunk of a reply. A create's read timeout is
            raised to its ``Prefer: wait`` plus ``wait_margin``, because the server holds
            the request that long on purpose.
        write: Seconds to send each chunk of a request.
        pool: Seconds to wait for a free pooled connection, or None for no limit. None by
            default: the client queues calls on its own concurrency limit (sized to the pool)
            before they reach the pool, so fan-out waits there instead of failing with pool
            timeouts, and every call still runs under its own overall deadline.
        wait_margin: Seconds added to a create's ``Prefer: wait`` for its read timeout,
            for the server's own latency around the wait.
        total: Most seconds one attempt of an API call may take, from sending it to the
            last byte of its reply. The per-phase timeouts above bound each wait for a
            byte; this bounds the whole, so a reply trickling a byte at a time cannot hold
            a call for ever. A create held open by its ``Prefer: wait`` gets at least
            its read timeout (the wait plus ``wait_margin``); 2 minutes by default.
        transfer: Most seconds one attempt of a file download or upload may take, head
            and body. Files can be big, so this is generous (15 minutes by default):
            raise it for very large files on slow links. Event streams are bounded by it
            per connection too (they resume where they stopped).

    .. versionadded:: 0.1.0
    """

    connect: float = attrs.field(default=5.0, validator=_finite_positive)
    read: float = attrs.field(default=30.0, validator=_finite_positive)
    write: float = attrs.field(default=30.0, validator=_finite_positive)
    pool: float | None = attrs.field(default=None, validator=_optional_positive)
    wait_margin: float = attrs.field(default=5.0, validator=_finite_non_negative)
    total: float = attrs.field(default=120.0, validator=_finite_positive)
    transfer: float = attrs.field(default=900.0, validator=_finite_positive)


@attrs.frozen(kw_only=True)
class SizeLimits:
    """Caps on what the client reads into memory from the API: a server cannot exhaust it.

    A reply or event past its cap raises :class:`~replicate_async.DecodeError` as soon as
    the cap is passed, without reading the rest. Compressed replies are counted after
    decompression, so a small gzip bomb stops at the cap too. Downloads of output files
    are not capped here (videos are big): they stream to disk or to the caller.

    Args:
        max_reply_bytes: Most bytes of one API reply (32 MiB); the largest real replies
            (a prediction whose output holds data URIs) are far smaller.
        max_event_bytes: Most bytes of one server-sent event of an output stream, its
            lines together, and so of any one line (8 MiB).

    .. versionadded:: 0.1.0
    """

    max_reply_bytes: int = attrs.field(default=32 * 1024 * 1024)
    max_event_bytes: int = attrs.field(default=8 * 1024 * 1024)

    @max_reply_bytes.validator
    @max_event_bytes.validator
    def _check_cap(self, attribute: attrs.Attribute[Any], value: object) -> None:
        """A cap is a whole number of bytes, at least 1."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{attribute.name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How requests are retried (by stamina): which ones is fixed by the client, how often is here.

    GETs and cancels are retried on 429, 5xx and transport errors; a create only on 429 and
    on errors raised before the request was sent (promise 1: no double billing).

    Args:
        attempts: Most tries of one request, the first included.
        timeout: Most seconds spent on one request across all its tries.
        wait_initial: First backoff in seconds.
        wait_max: Longest backoff in seconds.
        wait_jitter: Most random seconds added to each backoff.
        wait_exp_base: Growth factor of the backoff.
        max_retry_after: Cap in seconds on a server's ``Retry-After`` (header or body); a
            longer request is shortened to this, so no call sleeps unboundedly.

    .. versionadded:: 0.1.0
    """

    attempts: int = attrs.field(default=8)
    timeout: float = attrs.field(default=90.0, validator=_finite_positive)
    wait_initial: float = attrs.field(default=0.25, validator=_finite_non_negative)
    wait_max: float = attrs.field(default=10.0, validator=_finite_non_negative)
    wait_jitter: float = attrs.field(default=1.0, validator=_finite_non_negative)
    wait_exp_base: float = attrs.field(default=2.0, validator=_finite_positive)
    max_retry_after: float = attrs.field(default=60.0, validator=_finite_non_negative)

    @attempts.validator
    def _check_attempts(self, attribute: attrs.Attribute[Any], value: object) -> None:
        """At least one try."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{attribute.name} must be an integer >= 1, got {value!r}")

    @wait_max.validator
    def _check_wait_max(self, attribute: attrs.Attribute[Any], value: float) -> None:
        """The cap is not below the first wait."""
        if value < self.wait_initial:
            raise ValueError(f"{attribute.name} must be >= wait_initial, got {value!r}")

    def retry_context(
        self, on: Callable[[Exception], bool | float], *, elapsed: float = 0.0
    ) -> AsyncIterable[stamina.Attempt]:
        """Stamina's retry context with this policy's bounds, retrying what *on* accepts.

        *elapsed* seconds of the request's ``timeout`` were spent before the context began.
        """
        import stamina  # noqa: PLC0415 - imported with the first retry, not at import

        return stamina.retry_context(
            on=on,
            attempts=self.attempts,
            timeout=max(self.timeout - elapsed, 0.0),
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
            wait_exp_base=self.wait_exp_base,
        )


@attrs.frozen(kw_only=True)
class PollPolicy:
    """Delays between the GETs that poll a prediction: capped exponential backoff with jitter.

    The n-th delay (from 0) is ``min(initial * factor**n, maximum)``, scaled by a random
    factor in ``[1 - jitter, 1 + jitter]``.

    Why these defaults: a ``processing`` reply to ``Prefer: wait`` that already carries
    output usually belongs to a prediction that finished a moment later (the server
    answers as soon as the outputs exist, before finalisation), so the first confirming
    GET comes after 0.2 s, and the first few polls are fast for short predictions. Long
    predictions (cold boots, video) run for minutes; there the delay grows by 1.5x to a
    5 s cap: 9 GETs cover the first 10 s, and a 3-minute prediction costs about 43
    GETs instead of 360 at the official clients' fixed 0.5 s (a 10-minute one about 127
    instead of 1,200), for at most ~5 s of extra latency on work that took minutes. The
    ±10 % jitter spreads the polls of a fan-out that created thousands of predictions at
    once, so they do not arrive in lockstep.

    Args:
        initial: Seconds before the first poll.
        factor: Growth of the delay per poll (>= 1).
        maximum: Longest delay in seconds (>= initial).
        jitter: Fraction of each delay to randomise, in ``[0, 1)``.

    .. versionadded:: 0.1.0
    """

    initial: float = attrs.field(default=0.2, validator=_finite_non_negative)
    factor: float = attrs.field(default=1.5, validator=_finite_positive)
    maximum: float = attrs.field(default=5.0, validator=_finite_non_negative)
    jitter: float = attrs.field(default=0.1, validator=_finite_non_negative)

    @factor.validator
    def _check_factor(self, attribute: attrs.Attribute[Any], value: float) -> None:
        """Delays never shrink."""
        if value < 1:
            raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")

    @maximum.validator
    def _check_maximum(self, attribute: attrs.Attribute[Any], value: float) -> None:
        """The cap is not below the first delay."""
        if value < self.initial:
            raise ValueError(f"{attribute.name} must be >= initial, got {value!r}")

    @jitter.validator
    def _check_jitter(self, attribute: attrs.Attribute[Any], value: float) -> None:
        """Jitter is a fraction below 1, so a delay never becomes negative."""
        if value >= 1:
            raise ValueError(f"{attribute.name} must be < 1, got {value!r}")


BucketName = Literal["create", "get_prediction", "other"]
"""The API's rate-limit buckets, as the fields of :class:`RateLimits` name them."""


@attrs.frozen(kw_only=True)
class RateLimit:
    """One bucket of the account's rate limits.

    Args:
        per_minute: Requests per minute the bucket refills. 0 only with a ``burst``: a bucket
            that never refills (the emulator's fixed allowance; a client refuses it).
        burst: How many requests may go at once (the bucket's size, at least 1);
            ``per_minute`` when None, as the real API does (its first reply says
            ``ratelimit-remaining: 599``).

    .. versionadded:: 0.1.0
    """

    per_minute: float = attrs.field(validator=_finite_non_negative)
    burst: float | None = attrs.field(default=None, validator=_optional_positive)

    @per_minute.validator
    def _check_refill(self, attribute: attrs.Attribute[Any], value: float) -> None:
        """A bucket without refill needs a size of its own."""
        if value == 0 and self.burst is None:
            raise ValueError(f"{attribute.name} must be > 0 unless a burst is given, got 0")

    @property
    def capacity(self) -> float:
        """The bucket's size: ``burst`` (at least 1), else ``per_minute``.

        .. versionadded:: 0.1.0
        """
        return self.per_minute if self.burst is None else max(1.0, self.burst)


@attrs.frozen(kw_only=True)
class RateLimits:
    """The account's rate limits: the API's three token buckets per token.

    The client paces its requests by them (``AsyncClient(rate_limits=...)``); the
    emulator enforces them (``EmulatorConfig(rate_limits=...)``). The defaults are the
    API's documented limits: 600/min for creates (all three create routes), a separate
    60,000/min bucket for ``GET /v1/predictions/{id}`` (polling) and 3,000/min for
    everything else. None switches a bucket off; :meth:`unlimited` switches all off (a
    client against a server without limits, an emulator in a benchmark).

    Args:
        create: The three prediction-create routes.
        get_prediction: ``GET /v1/predictions/{id}`` (polling).
        other: Every other API call (cancel, list, models, ...).

    .. versionadded:: 0.1.0
    """

    create: RateLimit | None = RateLimit(per_minute=600)
    get_prediction: RateLimit | None = RateLimit(per_minute=60_000)
    other: RateLimit | None = RateLimit(per_minute=3_000)

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No limit at all.

        .. versionadded:: 0.1.0
        """
        return cls(create=None, get_prediction=None, other=None)


DEFAULT_TIMEOUTS: Final = Timeouts()
"""The default :class:`Timeouts`."""
DEFAULT_RETRY_POLICY: Final = RetryPolicy()
"""The default :class:`RetryPolicy`."""
DEFAULT_POLL_POLICY: Final = PollPolicy()
"""The default :class:`PollPolicy`."""
DEFAULT_RATE_LIMITS: Final = RateLimits()
"""The API's documented limits."""
DEFAULT_SIZE_LIMITS: Final = SizeLimits()
"""The default :class:`SizeLimits`."""

DEFAULT_SAVE_CONCURRENCY: Final = 8
"""Downloads ``save_all`` runs at once by default."""


def stamina_testing() -> bool:
    """Whether stamina's test mode is on (retries, and the waits we compute, are then zero).

    False while stamina is not imported: nobody can have switched its test mode on, and
    asking would import it with the package.
    """
    stamina = sys.modules.get("stamina")
    return stamina is not None and bool(stamina.is_testing())
