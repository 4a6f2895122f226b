# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A caller's ``on_progress`` callback for one run, as the run engine calls it.

A progress display must not decide a prediction's fate: the prediction runs on the server, and
is billed, whatever the display does. So an exception the callback raises is logged with its
traceback (logger ``replicate_async``, level WARNING) and the run goes on; cancellation (and
anything else that is not an ``Exception``) still goes through. A callback may be a plain
function or a coroutine function: what it returns is awaited when awaitable.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from replicate_async._models import Prediction

__all__ = ["progress_teller", "telling"]

P = TypeVar("P")

logger = logging.getLogger("replicate_async")


def progress_teller(
    callback: Callable[[Prediction], object] | None,
) -> Callable[[Prediction], Awaitable[None]] | None:
    """*callback* made safe to call from the run engine (see the module's docstring); None
    for None.

    Args:
        callback: The caller's ``on_progress``, called with the prediction as last seen.
    """
    if callback is None:
        return None

    async def tell(prediction: Prediction) -> None:
        try:
            result = callback(prediction)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.warning(
                "on_progress raised for prediction %s; the run goes on",
                prediction.id,
                exc_info=True,
            )

    return tell


def telling(
    fetch: Callable[[str], Awaitable[P]], tell: Callable[[P], Awaitable[None]]
) -> Callable[[str], Awaitable[P]]:
    """*fetch* (a poll's GET by id) that also awaits *tell* with each prediction it fetched.

    Args:
        fetch: Fetches a prediction (or training) by id.
        tell: Told of each one, before it is returned.
    """

    async def fetch_and_tell(prediction_id: str) -> P:
        fetched = await fetch(prediction_id)
        await tell(fetched)
        return fetched

    return fetch_and_tell
