# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.webhooks` (the signing secret) and `WebhookWaiter` (waiting through webhooks).

A service that receives Replicate's webhooks does not need to poll: its webhook endpoint
hands every delivery to a :class:`WebhookWaiter`, which checks the signature and wakes
whoever awaits that prediction. A lost webhook never hangs a waiter: after
``fallback_after`` seconds without a terminal delivery it asks the API itself, and
again after every such period, until its deadline (promise 2).
"""

from __future__ import annotations

import collections
import logging
import math
from typing import TYPE_CHECKING, Any, Final

import anyio
import attrs

from replicate_async._cancellation import is_cancellation
from replicate_async._models import Prediction
from replicate_async._running import DEFAULT_RUN_TIMEOUT
from replicate_async._sansio.deliveries import parse, verify
from replicate_async._sansio.requests import Request
from replicate_async._session import cancel_quietly
from replicate_async.exceptions import PredictionTimeout, ReplicateError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import timedelta

    from replicate_async._client import AsyncClient
    from replicate_async._models import Deployment
    from replicate_async._sansio.deliveries import HeadersLike
    from replicate_async._session import Session

__all__ = [
    "DEFAULT_FALLBACK_AFTER",
    "DEFAULT_UNCLAIMED_TTL",
    "MAX_UNCLAIMED",
    "AsyncWebhooks",
    "WebhookWaiter",
]

logger = logging.getLogger("replicate_async")

SECRET_PATH: Final = "/v1/webhooks/default/secret"  # noqa: S105 - a path, not a secret

DEFAULT_FALLBACK_AFTER: Final = 60.0
"""Seconds a :class:`WebhookWaiter` waits for a terminal webhook before it asks the API.

The ``completed`` webhook is usually sent within a second of completion and retried for
about a minute when it fails, so a minute without it means it is late or lost.
"""

DEFAULT_UNCLAIMED_TTL: Final = 600.0
"""Seconds a terminal delivery nobody waits for yet is kept for a later :meth:`WebhookWaiter.wait`."""

MAX_UNCLAIMED: Final = 10_000
"""Most terminal deliveries kept for later waiters; the oldest go first (promise 2: bounded memory)."""


@attrs.frozen
class _SecretReply:
    """The body of ``GET /v1/webhooks/default/secret``."""

    key: str


class AsyncWebhooks:
    """The webhooks API: ``client.webhooks``.

    Args:
        session: The client's session (connection pool, token, retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._secret: str | None = None
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"<AsyncWebhooks of {self._session!r}>"

    async def default_secret(self) -> str:
        """Your account's webhook signing secret (``whsec_...``), fetched once and cached.

        Pass it to :func:`replicate_async.webhooks.verify`. It is fetched from
        ``GET /v1/webhooks/default/secret`` on the first call; later calls on this
        client return the cached value without a request.

        .. versionadded:: 0.1.0
        """
        async with self._lock:
            if self._secret is None:
                request = Request(method="GET", path=SECRET_PATH)
                reply = await self._session.send_json(request, _SecretReply)
                self._secret = reply.key
            return self._secret


class _Slot:
    """The waiters for one prediction id, and its terminal prediction once delivered."""

    __slots__ = ("done", "last", "prediction", "waiters")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.prediction: Prediction | None = None
        self.last: Prediction | None = None
        self.waiters = 0


def _check_seconds(name: str, value: float) -> float:
    """A finite number of seconds > 0, else ValueError naming *name*."""
    seconds = float(value)
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return seconds


class WebhookWaiter:
    """Wait for predictions to finish through webhooks instead of polling.

    Your webhook endpoint passes each delivery to :meth:`deliver`, which verifies its
    signature and, when it carries a terminal prediction, wakes whatever awaits
    :meth:`wait` for it. Deliveries that repeat, arrive out of order or are not terminal
    (``start``, ``output``, ``logs``) wake nobody. A terminal delivery that arrives before
    anyone waits (the webhook can beat the create's reply) is kept for a later
    :meth:`wait`, at most :data:`MAX_UNCLAIMED` of them, each for ``unclaimed_ttl``
    seconds. A waiter that hears nothing for ``fallback_after`` seconds fetches the
    prediction itself (and again every ``fallback_after`` seconds), so a lost webhook
    costs time, never a hang.

    Use one waiter per process, on the event loop that serves your webhook endpoint.

    Args:
        client: The client used to fetch the secret, create predictions and fall back to
            polling.
        url: Your webhook endpoint's public URL, used by :meth:`create`.
        secret: The ``whsec_`` signing secret; fetched with
            ``client.webhooks.default_secret()`` on the first delivery when None.
        fallback_after: Seconds without a terminal webhook before a waiter asks the API.
        unclaimed_ttl: Seconds a terminal delivery nobody awaits yet is kept.
        max_unclaimed: Most such deliveries kept (the oldest are dropped first).
        tolerance: Seconds a delivery's timestamp may be off, as for
            :func:`replicate_async.webhooks.verify`.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        client: AsyncClient,
        *,
        url: str | None = None,
        secret: str | None = None,
        fallback_after: float = DEFAULT_FALLBACK_AFTER,
        unclaimed_ttl: float = DEFAULT_UNCLAIMED_TTL,
        max_unclaimed: int = MAX_UNCLAIMED,
        tolerance: float = 300,
    ) -> None:
        if isinstance(max_unclaimed, bool) or not isinstance(max_unclaimed, int):
            raise TypeError("max_unclaimed must be an int")
        if max_unclaimed < 0:
            raise ValueError(f"max_unclaimed must be >= 0, got {max_unclaimed}")
        self._client = client
        self.url = url
        """The webhook URL :meth:`create` passes to the API."""
        self._secret = secret
        self._fallback_after = _check_seconds("fallback_after", fallback_after)
        self._unclaimed_ttl = _check_seconds("unclaimed_ttl", unclaimed_ttl)
        self._max_unclaimed = max_unclaimed
        self._tolerance = tolerance
        self._slots: dict[str, _Slot] = {}
        self._unclaimed: collections.OrderedDict[str, tuple[Prediction, float]] = (
            collections.OrderedDict()
        )

    def __repr__(self) -> str:
        return (
            f"<WebhookWaiter url={self.url!r} waiting={len(self._slots)} "
            f"unclaimed={len(self._unclaimed)}>"
        )

    @property
    def waiting(self) -> int:
        """How many predictions are being awaited right now.

        .. versionadded:: 0.1.0
        """
        return len(self._slots)

    @property
    def unclaimed(self) -> int:
        """How many terminal deliveries are kept for waiters that have not come yet.

        .. versionadded:: 0.1.0
        """
        return len(self._unclaimed)

    async def deliver(self, headers: HeadersLike, body: bytes | bytearray | str) -> Prediction:
        """Verify one webhook delivery and wake whoever awaits its prediction, if it is terminal.

        Call it from your webhook endpoint with the request's headers and raw body, and
        answer 2xx when it returns (4xx when it raises). Repeated and non-terminal
        deliveries are accepted and change nothing.

        Args:
            headers: The request's headers (any mapping or name/value pairs).
            body: The raw request body, exactly as received.

        Raises:
            WebhookVerificationError: The signature, its headers or its timestamp are
                wrong: answer 400 and ignore the body.
            DecodeError: The body is not a prediction.

        .. versionadded:: 0.1.0
        """

        if self._secret is None:
            self._secret = await self._client.webhooks.default_secret()
        verify(headers, body, self._secret, self._tolerance)
        prediction = parse(body)
        if prediction.status.is_terminal:
            self._resolve(prediction)
        return prediction

    def _resolve(self, prediction: Prediction) -> None:
        """Hand a terminal prediction to its waiters, or keep it for later ones."""
        slot = self._slots.get(prediction.id)
        if slot is not None:
            if slot.prediction is None:
                slot.prediction = prediction
                slot.done.set()
            return
        self._expire()
        if self._max_unclaimed == 0 or prediction.id in self._unclaimed:
            return
        while len(self._unclaimed) >= self._max_unclaimed:
            dropped, _ = self._unclaimed.popitem(last=False)
            logger.debug("dropping the unclaimed webhook of prediction %s", dropped)
        self._unclaimed[prediction.id] = (prediction, anyio.current_time())

    def _expire(self) -> None:
        """Forget unclaimed deliveries older than the time to live."""
        horizon = anyio.current_time() - self._unclaimed_ttl
        while self._unclaimed:
            pid, (_, at) = next(iter(self._unclaimed.items()))
            if at > horizon:
                return
            del self._unclaimed[pid]

    async def create(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        *,
        cancel_after: float | str | timedelta | None = None,
        webhook_events_filter: Sequence[str] | None = ("completed",),
    ) -> Prediction:
        """Create a prediction whose webhooks go to :attr:`url` (only ``completed`` by default).

        The create does not wait (no ``Prefer: wait``); await :meth:`wait` for the result.

        Args:
            ref: A model reference, as for ``client.predictions.create``.
            input: The model's input.
            cancel_after: A server-side deadline, as for ``client.predictions.create``.
            webhook_events_filter: The events to be told about; None for the API's default.

        Raises:
            ValueError: The waiter was made without ``url``.

        .. versionadded:: 0.1.0
        """
        if not self.url:
            raise ValueError("this WebhookWaiter has no url= to give the API as the webhook")
        return await self._client.predictions.create(
            ref,
            input,
            wait=False,
            cancel_after=cancel_after,
            webhook=self.url,
            webhook_events_filter=webhook_events_filter,
        )

    async def wait(
        self,
        prediction: Prediction | str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - public API, as predictions.wait
        cancel_on_cancellation: bool = True,
    ) -> Prediction:
        """Wait until the prediction is terminal, woken by its webhook, and return it.

        Terminal is succeeded, failed, canceled or aborted; the prediction is returned
        whichever it is (use ``prediction.status``). A prediction that is already terminal
        returns at once.

        Args:
            prediction: A Prediction or a prediction id.
            timeout: Seconds to wait before raising PredictionTimeout; None means the
                client's longest wait, one hour.
            cancel_on_cancellation: Cancel the prediction remotely (shielded, best effort)
                when the waiting task is cancelled, as ``client.predictions.wait`` does.

        Raises:
            PredictionTimeout: ``timeout`` passed first (with the last prediction seen).

        .. versionadded:: 0.1.0
        """
        budget = _check_seconds("timeout", DEFAULT_RUN_TIMEOUT if timeout is None else timeout)
        last: Prediction | None = prediction if isinstance(prediction, Prediction) else None
        pid = prediction.id if isinstance(prediction, Prediction) else prediction
        if last is not None and last.status.is_terminal:
            return last
        self._expire()
        kept = self._unclaimed.pop(pid, None)
        if kept is not None:
            return kept[0]
        slot = self._slots.get(pid)
        if slot is None:
            slot = self._slots[pid] = _Slot()
        slot.waiters += 1
        if slot.last is None:
            slot.last = last
        try:
            with anyio.move_on_after(budget):
                return await self._until_terminal(pid, slot)
        except BaseException as exc:
            if is_cancellation(exc) and cancel_on_cancellation and slot.prediction is None:
                await cancel_quietly(self._client.predictions.cancel, pid)
            raise
        finally:
            slot.waiters -= 1
            if slot.waiters == 0:
                del self._slots[pid]
        last = slot.last
        if last is None:
            last = await self._client.predictions.get(pid)
        raise PredictionTimeout(prediction=last, timeout=budget)

    async def _until_terminal(self, pid: str, slot: _Slot) -> Prediction:
        """Wait for the slot's webhook, asking the API every ``fallback_after`` seconds."""
        while True:
            with anyio.move_on_after(self._fallback_after):
                await slot.done.wait()
            if slot.prediction is not None:
                return slot.prediction
            slot.last = await self._fallback(pid, slot.last)
            if slot.last.status.is_terminal:
                return slot.last

    async def _fallback(self, pid: str, last: Prediction | None) -> Prediction:
        """No terminal webhook in time: GET the prediction (keeping the last one on errors)."""
        logger.info("no terminal webhook for prediction %s yet; asking the API", pid)
        try:
            return await self._client.predictions.get(pid)
        except ReplicateError as exc:
            if last is None:
                raise
            logger.warning("could not fetch prediction %s: %s", pid, exc)
            return last
