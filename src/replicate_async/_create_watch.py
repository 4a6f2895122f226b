# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The request hooks of one create: whether and when it went out (the run engine's view)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replicate_async._clock import now

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from replicate_async._ratelimit import BucketName, RequestHooks

__all__ = ["CreateWatch"]


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
