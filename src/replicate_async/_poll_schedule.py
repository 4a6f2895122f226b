# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The waits between one prediction's polls, and the wake-up of a model's first finish.

A batch's first wave learns nothing from :class:`~replicate_async._sansio.polling.RunTimes`:
none of its model's predictions has finished yet, so every one of them polls on the backoff.
:class:`FinishWatch` keeps one :class:`anyio.Event` per model that is not known yet; the polls
of that model sleep on it (one shared wake-up per model, no task polls anything). When the
first prediction of the model finishes, the event is set, and each sleeper moves its next
poll onto its own expected finish (when that comes before the poll it planned), jittered
later like a learned poll. The polls after it keep the backoff's planned times, so a
prediction never takes more GETs than the backoff would have sent. A prediction whose reply
already shows output is about to finish and keeps the backoff's first delay: it is not woken.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

import anyio

from replicate_async import _clock as clock
from replicate_async._sansio.polling import RunTimes, model_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Iterator

    from replicate_async._models import Prediction

__all__ = ["FinishWatch", "PollSchedule"]

_JITTER = random.Random()  # noqa: S311 - jitter, not cryptography


class FinishWatch:
    """What a runner learned of its models' run times, and a wake-up per model not known yet.

    Args:
        capacity: Models waited on at once, at most (memory stays bounded: promise 2); a
            prediction of another model just polls on its backoff.
    """

    __slots__ = ("_waiting", "capacity", "times")

    def __init__(self, capacity: int = 1024) -> None:
        self.times: Final = RunTimes(capacity)
        self.capacity: Final = capacity
        self._waiting: OrderedDict[str, anyio.Event] = OrderedDict()

    def learn(self, prediction: Prediction) -> None:
        """Learn from a finished prediction, and wake the polls waiting on its model."""
        self.times.learn(prediction)
        key = model_key(prediction)
        if key is not None and key in self._waiting and self.times.expected(prediction) is not None:
            self._waiting.pop(key).set()

    def signal(self, prediction: Prediction) -> anyio.Event | None:
        """The event set when *prediction*'s model is first learned; None when it is known
        already (or cannot be: no model, too many models waited on)."""
        key = model_key(prediction)
        if key is None or self.times.expected(prediction) is not None:
            return None
        event = self._waiting.get(key)
        if event is None:
            if len(self._waiting) >= self.capacity:
                return None
            event = self._waiting[key] = anyio.Event()
        return event


class PollSchedule:
    """The waits before each poll of one prediction: *delays*, woken by its model's first finish.

    Args:
        delays: The planned delays between polls (the backoff, or the learned schedule).
        watch: The runner's :class:`FinishWatch`.
        prediction: The prediction as first seen.
        held: Seconds since its create was sent; None when unknown (no wake-up then, nor
            for a prediction already showing output).
        jitter: The poll policy's jitter: a woken poll comes up to this fraction later.
        rng: The jitter's generator (a module-wide one by default).
    """

    __slots__ = ("_delays", "_jitter", "_planned", "_rng", "_sent", "_signal", "_watch")

    def __init__(
        self,
        delays: Iterator[float],
        watch: FinishWatch,
        prediction: Prediction,
        *,
        held: float | None,
        jitter: float,
        rng: random.Random | None = None,
    ) -> None:
        self._delays = delays
        self._watch = watch
        # A reply that already shows output is about to finish: it keeps the plain backoff
        # from its first delay (as scheduled_delays plans it) and is not woken by its model's
        # first finish (a batch's whole first wave of a fast model is such replies: a cancel
        # scope, an event wait and a wake-up each saved).
        wake = held is not None and prediction.output is None
        self._signal = signal = watch.signal(prediction) if wake else None
        # When the create was sent (only a woken poll needs it: no clock read otherwise).
        self._sent = 0.0 if signal is None else clock.now() - (held or 0.0)
        self._jitter = jitter
        self._rng = rng or _JITTER
        # The time of the poll a wake-up moved earlier: the delays after it count from there.
        self._planned: float | None = None

    def wait(self, last: Prediction) -> Awaitable[None]:
        """Sleep until the next poll of *last* (the prediction as last seen) is due."""
        if self._signal is None and self._planned is None:
            # The common case: one timer, and no coroutine of ours held while it runs.
            return clock.sleep(next(self._delays))
        return self._wait_planned(last)

    async def _wait_planned(self, last: Prediction) -> None:
        """:meth:`wait` with a poll moved earlier, or a model's first finish to wait for."""
        planned, self._planned = self._planned, None
        signal = self._signal
        now = clock.now()
        at = (now if planned is None else planned) + next(self._delays)
        if signal is None:
            # A poll moved earlier may have taken longer than the delay after it: no wait.
            await clock.sleep(max(0.0, at - now))
            return
        with anyio.move_on_after(at - now):
            await signal.wait()
        if not signal.is_set():
            return
        self._signal = None
        expected = self._watch.times.expected(last)
        if expected is not None:
            stretch = 1.0 + self._rng.uniform(0, self._jitter) if self._jitter else 1.0
            target = self._sent + expected * stretch
            if target < at:  # poll at the expected finish instead; the rest as planned
                self._planned = at
                at = target
        await clock.sleep(max(0.0, at - clock.now()))
