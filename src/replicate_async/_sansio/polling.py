"""Polling decisions: when to ask again (learning how long each model takes), and what a
finished prediction means. Pure."""

from __future__ import annotations

import itertools
import random
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from replicate_async._models import PredictionStatus
from replicate_async.exceptions import PredictionCanceled, PredictionFailed

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from replicate_async._config import PollPolicy
    from replicate_async._models import Prediction

__all__ = [
    "MAX_RUN_TIME",
    "RunTimes",
    "is_terminal",
    "model_key",
    "needs_confirmation",
    "outcome",
    "poll_delays",
    "scheduled_delays",
]

# Jitter, not cryptography: one generator for every poll loop (seeding a new one per
# prediction reads os.urandom each time).
_JITTER = random.Random()  # noqa: S311


def poll_delays(policy: PollPolicy, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays between polls: ``min(initial * factor**n, maximum)``, jittered.

    Each delay is scaled by a random factor in ``[1 - jitter, 1 + jitter]`` drawn from
    ``rng``, so the sequence is deterministic for a seeded ``random.Random``. The caller
    stops iterating at its deadline.
    """
    draw = rng if rng is not None else _JITTER
    delay = policy.initial
    while True:
        base = min(delay, policy.maximum)
        scale = 1.0 + draw.uniform(-policy.jitter, policy.jitter) if policy.jitter else 1.0
        yield base * scale
        if delay < policy.maximum:
            delay *= policy.factor


def is_terminal(prediction: Prediction) -> bool:
    """Whether the prediction is done: succeeded, failed, canceled or aborted, nothing else."""
    return prediction.status.is_terminal


def needs_confirmation(prediction: Prediction) -> bool:
    """Whether to keep polling: any non-terminal reply, including ``processing`` with output.

    A ``processing`` reply to ``Prefer: wait`` may carry the final output or a partial one;
    one reply cannot tell which, so only a terminal status is believed (promise 3).
    """
    return not prediction.status.is_terminal


def outcome(prediction: Prediction) -> Prediction:
    """The prediction when it succeeded; otherwise raise what its terminal status means.

    Raises PredictionFailed (failed) or PredictionCanceled (canceled or aborted), both
    carrying the prediction. A non-terminal prediction is a caller's bug: ValueError.
    """
    status = prediction.status
    if status is PredictionStatus.SUCCEEDED:
        return prediction
    if status is PredictionStatus.FAILED:
        raise PredictionFailed(prediction=prediction)
    if status in {PredictionStatus.CANCELED, PredictionStatus.ABORTED}:
        raise PredictionCanceled(prediction=prediction)
    raise ValueError(
        f"outcome() needs a terminal prediction; {prediction.id} is {status.value}: poll it first"
    )


# -- learning how long a model takes ------------------------------------------------------------

MAX_RUN_TIME: Final = 86_400.0
"""Seconds beyond which a finished prediction's timings are not believed (a clock gone wrong)."""


class RunTimes:
    """How long each model (version) takes, learned from the predictions seen finish. Pure.

    Per key (the version id, else the ``owner/name`` model) it keeps exponentially weighted
    averages of the queue time (``created_at`` to ``started_at``) and of the run time
    (``started_at`` to ``completed_at``, else ``metrics.predict_time``) and the run time's mean
    deviation; at most *capacity* keys, the least recently used forgotten first (memory
    stays bounded: promise 2). Only succeeded predictions teach it.

    Args:
        capacity: Keys remembered (>= 1).
        weight: Weight of the newest sample in each average, in ``(0, 1]``.
    """

    __slots__ = ("_known", "capacity", "weight")

    def __init__(self, capacity: int = 1024, weight: float = 0.3) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        if not 0 < weight <= 1:
            raise ValueError(f"weight must be in (0, 1], got {weight!r}")
        self.capacity: Final = capacity
        self.weight: Final = weight
        self._known: OrderedDict[str, _Timing] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def __repr__(self) -> str:
        return f"<RunTimes {len(self._known)}/{self.capacity} models>"

    def learn(self, prediction: Prediction) -> None:
        """Take a finished prediction's timings into its model's averages (others are ignored)."""
        if prediction.status is not PredictionStatus.SUCCEEDED:
            return
        key = model_key(prediction)
        if key is None:
            return
        run = _span(prediction.started_at, prediction.completed_at)
        if run is None and prediction.metrics is not None:
            run = _plausible(prediction.metrics.predict_time)
        if run is None:
            return
        queue = _span(prediction.created_at, prediction.started_at)
        known = self._known.get(key)
        if known is None:
            self._known[key] = _Timing(queue, run)
            if len(self._known) > self.capacity:
                self._known.popitem(last=False)
            return
        self._known.move_to_end(key)
        w = self.weight
        if queue is not None:
            known.queue = queue if known.queue is None else known.queue + w * (queue - known.queue)
        known.dev += w * (abs(run - known.run) - known.dev)
        known.run += w * (run - known.run)

    def expected(self, prediction: Prediction) -> float | None:
        """Seconds from *prediction*'s create to its expected finish; None when nothing is known.

        Its model's average run time plus half the run time's mean deviation, after its own
        queue time when it has started (``started_at``), else after its model's average.
        """
        key = model_key(prediction)
        known = None if key is None else self._known.get(key)
        if key is None or known is None:
            return None
        self._known.move_to_end(key)
        queue = _span(prediction.created_at, prediction.started_at)
        if queue is None:
            queue = known.queue or 0.0
        return queue + known.run + known.dev / 2


class _Timing:
    """One model's averages: queue time (None until seen), run time, run time's deviation."""

    __slots__ = ("dev", "queue", "run")

    def __init__(self, queue: float | None, run: float) -> None:
        self.queue = queue
        self.run = run
        self.dev = 0.0


def model_key(prediction: Prediction) -> str | None:
    """What a prediction's timings are filed under: its version id, else its model, else None."""
    version = prediction.version
    if version and version != "hidden":
        return version
    return prediction.model or None


def _span(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from *start* to *end* when both are known and plausible."""
    if start is None or end is None:
        return None
    try:
        return _plausible((end - start).total_seconds())
    except TypeError:  # one aware, one naive
        return None


def _plausible(seconds: float | None) -> float | None:
    """*seconds* when it is a believable duration, else None."""
    if seconds is None or not 0 <= seconds <= MAX_RUN_TIME:
        return None
    return float(seconds)


def scheduled_delays(
    policy: PollPolicy,
    *,
    held: float = 0.0,
    has_output: bool = False,
    expected: float | None = None,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """The delays between the polls of a prediction created *held* seconds ago.

    Without *expected* (nothing known about its model): the backoff of :func:`poll_delays`,
    fast-forwarded past *held* when the create was held open and came back without output
    (a long prediction starts at the delay it would have reached by then).

    With *expected* (seconds from the create to its expected finish, see
    :meth:`RunTimes.expected`): the polls of that backoff before the expected finish are
    skipped, one poll comes at the expected finish (jittered later, never earlier), and the
    backoff follows unchanged from its first poll after it: an early estimate costs one poll
    and no latency. It never takes more polls than the backoff (the skipped polls are at
    least the one added, as the estimate comes after the backoff's first poll; compared with
    the backoff drawing its jitter from the same generator after this schedule's one draw),
    and never polls sooner than the policy's first delay after the previous poll. The
    backoff is kept when the expected finish comes before its first poll, when the reply
    already carries output (it is about to finish), and for a zero policy.
    """
    draw = rng if rng is not None else _JITTER
    learned = expected is not None and not has_output and policy.initial > 0 < policy.maximum
    # The one draw for the learned poll's jitter comes first: the backoff after it is the
    # backoff of the same generator from then on.
    stretch = 1.0 + draw.uniform(0, policy.jitter) if learned and policy.jitter else 1.0
    delays = poll_delays(policy, draw)
    if held > 0 and not has_output:
        spent = 0.0
        while spent < held and policy.initial < policy.maximum:
            delay = next(delays)
            if delay >= policy.maximum * (1 - policy.jitter):
                break
            spent += delay
    if expected is None or not learned:
        return delays
    target = (expected - held) * stretch
    first = next(delays)
    if target <= first:
        return itertools.chain((first,), delays)
    point = first  # the backoff's poll times, from now
    while True:
        step = next(delays)
        if point + step >= target:
            break
        point += step
    # Poll at target; keep the backoff's poll at point + step (a second look when the estimate
    # was early) unless it would come sooner than the policy's first delay after target.
    gap = point + step - target
    if gap >= policy.initial:
        return itertools.chain((target, gap), delays)
    return itertools.chain((target, gap + next(delays)), delays)
