# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The request hooks of one create: whether and when it went out (the run engine's view)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replicate_async._clock import now
from replicate_async.exceptions import ClientError, TransportError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import anyio

    from replicate_async._models import Prediction
    from replicate_async._ratelimit import BucketName, RequestHooks

__all__ = ["AbandonWatch", "CreateWatch", "surely_not_created"]


class CreateWatch:
    """The request hooks of one create: notes whether (and when) it was sent, then tells the
    caller's hooks.

    A caller's hooks that are a CreateWatch themselves (a batch's job is one) are used as they
    are: they must set :attr:`sent` and :attr:`at` when the create goes out.
    """

    __slots__ = ("at", "inner", "sent")

    def __init__(self, inner: RequestHooks | None) -> None:
        self.inner = inner
        self.sent = False
        self.at: float | None = None
        """When the create went out (anyio's clock): polls time its finish from here."""

    def sending(self, bucket: BucketName) -> Awaitable[None] | None:
        """The create goes out (the caller's hooks may still stop it, or write first)."""
        pending = None if self.inner is None else self.inner.sending(bucket)
        if pending is not None:
            return self._sent_after(pending)
        self.sent = True
        self.at = now()
        return None

    async def _sent_after(self, pending: Awaitable[None]) -> None:
        """Await the caller's write (a journal's); only then is the create on its way."""
        await pending
        self.sent = True
        self.at = now()

    def throttled(self, bucket: BucketName) -> None:
        """The create met a 429 (it is sent again)."""
        if self.inner is not None:
            self.inner.throttled(bucket)


class AbandonWatch(CreateWatch):
    """One run's create watch that is also its abandon step, for a create left before its reply.

    :meth:`abandon` keeps the prediction found (:attr:`found`) and cancels it remotely when
    the caller's task was cancelled, or when the run's *deadline* passed and the caller asked
    for cancellation on timeout. (One object per run instead of a closure and its cells.)

    Args:
        cancel: The remote cancel (shielded and bounded by the caller).
        cancel_on_timeout: Cancel also when *deadline* passed.
    """

    __slots__ = ("_cancel", "_cancel_on_timeout", "deadline", "found")

    def __init__(
        self, cancel: Callable[[Prediction], Awaitable[None]], *, cancel_on_timeout: bool
    ) -> None:
        super().__init__(None)
        self._cancel = cancel
        self._cancel_on_timeout = cancel_on_timeout
        self.deadline: anyio.CancelScope | None = None
        """The run's deadline scope around the create (set by the run once entered)."""
        self.found: Prediction | None = None

    async def abandon(self, found: Prediction) -> None:
        """Keep *found*; cancel it unless only the deadline passed and nobody asked to."""
        self.found = found
        timed_out = self.deadline is not None and self.deadline.cancel_called
        if not timed_out or self._cancel_on_timeout:
            await self._cancel(found)


def surely_not_created(exc: Exception) -> bool:
    """Whether a create that was sent and failed with *exc* surely made no prediction (promise 1).

    Only a refusal (4xx) or a failure before the request left: anything else, an error of
    ours included, may come after the server accepted it.
    """
    if isinstance(exc, TransportError):
        return not exc.request_sent
    return isinstance(exc, ClientError)
