"""Recognising cancellation of the running task, whatever wraps it."""

from __future__ import annotations

import anyio

__all__ = ["is_cancellation"]


def is_cancellation(exc: BaseException) -> bool:
    """Tell whether *exc* is the event loop cancelling the current task.

    Under trio a cancellation can reach us wrapped in a ``BaseExceptionGroup`` when a nursery
    sits between the checkpoint and our code (``trio.open_tcp_stream`` opens one to connect),
    so ``except anyio.get_cancelled_exc_class()`` alone misses it, and with it the remote
    cancel that promise 4 owes. A group counts when any exception in it is a cancellation.
    """
    cancelled = anyio.get_cancelled_exc_class()
    if isinstance(exc, cancelled):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(cancelled) is not None
    return False
