"""Polling decisions: when to ask again, and what a finished prediction means. Pure."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from replicate_async._models import PredictionStatus
from replicate_async.exceptions import PredictionCanceled, PredictionFailed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from replicate_async._config import PollPolicy
    from replicate_async._models import Prediction

__all__ = ["is_terminal", "needs_confirmation", "outcome", "poll_delays"]

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
