"""Polling: the delay policy, terminal detection, and what a final status means."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from replicate_async._config import (
    USE_CLIENT_DEFAULT,
    PollPolicy,
    RetryPolicy,
    Timeouts,
    UseClientDefault,
)
from replicate_async._models import Prediction, PredictionStatus
from replicate_async._sansio.polling import is_terminal, needs_confirmation, outcome, poll_delays
from replicate_async._sansio.responses import decode_prediction
from replicate_async.exceptions import PredictionCanceled, PredictionFailed

FIXTURES = Path(__file__).parent / "fixtures"


def _recorded(name: str) -> Prediction:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return decode_prediction(data["status"], data["headers"], data["body"].encode())


def _rng(seed: int) -> random.Random:
    """A seeded generator for jitter (not cryptography)."""
    return random.Random(seed)  # noqa: S311


def _pred(status: str, **kw) -> Prediction:
    return Prediction(id="p1", status=PredictionStatus(status), **kw)


# -- poll_delays --------------------------------------------------------------------------------


def test_delays_without_jitter_grow_to_the_cap():
    """Without jitter the delays are initial * factor**n, capped."""
    policy = PollPolicy(initial=0.2, factor=2, maximum=1, jitter=0)
    assert list(itertools.islice(poll_delays(policy), 5)) == [0.2, 0.4, 0.8, 1, 1]


def test_delays_are_deterministic_for_a_seeded_rng():
    """The same seed gives the same delays."""
    first = list(itertools.islice(poll_delays(PollPolicy(), _rng(7)), 20))
    second = list(itertools.islice(poll_delays(PollPolicy(), _rng(7)), 20))
    assert first == second


def test_delays_stay_within_jitter_bounds():
    """Each delay is within ±jitter of its base."""
    policy = PollPolicy(initial=1, factor=1.5, maximum=4, jitter=0.25)
    delays = itertools.islice(poll_delays(policy, _rng(1)), 50)
    bases = itertools.chain([1, 1.5, 2.25, 3.375], itertools.repeat(4))
    for delay, base in zip(delays, bases, strict=False):
        assert base * 0.75 <= delay <= base * 1.25


def test_delays_without_rng_are_random_but_bounded():
    """Without an rng the delays still respect the policy."""
    delays = list(itertools.islice(poll_delays(PollPolicy()), 30))
    assert all(0 < d <= 5.0 * 1.1 for d in delays)


def test_zero_policy_never_waits():
    """The tests' zero policy gives zero delays."""
    policy = PollPolicy(initial=0, factor=1, maximum=0, jitter=0)
    assert set(itertools.islice(poll_delays(policy), 10)) == {0}


def test_default_first_poll_is_fast():
    """The first confirmation after a processing reply comes within a quarter second."""
    first = next(poll_delays(PollPolicy(), _rng(0)))
    assert 0.1 <= first <= 0.25


def test_default_policy_polls_far_less_than_fixed_half_second():
    """A 3-minute prediction needs under a sixth of the GETs of a fixed 0.5 s poll."""
    policy = PollPolicy(jitter=0)
    elapsed, polls = 0.0, 0
    for delay in poll_delays(policy):
        if elapsed >= 180:
            break
        elapsed += delay
        polls += 1
    assert polls < 360 / 6


# -- config validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"factor": 0.5},
        {"maximum": 0.1},
        {"jitter": 1},
        {"jitter": -0.1},
        {"initial": -1},
        {"initial": float("nan")},
        {"initial": "1"},
        {"initial": True},
    ],
)
def test_poll_policy_rejects_bad_values(kwargs):
    """Bad poll settings fail at construction."""
    with pytest.raises((ValueError, TypeError)):
        PollPolicy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"attempts": 1.5},
        {"timeout": 0},
        {"wait_max": 0.1},
        {"max_retry_after": -1},
        {"wait_exp_base": 0},
    ],
)
def test_retry_policy_rejects_bad_values(kwargs):
    """Bad retry settings fail at construction."""
    with pytest.raises((ValueError, TypeError)):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"connect": 0},
        {"connect": "5"},
        {"read": -1},
        {"pool": 0},
        {"pool": float("inf")},
        {"wait_margin": -1},
    ],
)
def test_timeouts_reject_bad_values(kwargs):
    """Bad timeouts fail at construction."""
    with pytest.raises((ValueError, TypeError)):
        Timeouts(**kwargs)


def test_timeouts_defaults():
    """Defaults: connect 5 s, read 30 s, no pool limit, 5 s margin over a create's wait."""
    assert Timeouts() == Timeouts(connect=5.0, read=30.0, write=30.0, pool=None, wait_margin=5.0)


def test_timeouts_accept_a_pool_limit():
    """A pool timeout may be set."""
    assert Timeouts(pool=2).pool == 2


def test_retry_policy_defaults():
    """Defaults as the contract lists them."""
    policy = RetryPolicy()
    assert (policy.attempts, policy.timeout, policy.max_retry_after) == (8, 90.0, 60.0)


def test_use_client_default_sentinel():
    """The sentinel is a singleton with a clear repr that refuses truthiness."""
    assert isinstance(USE_CLIENT_DEFAULT, UseClientDefault)
    assert repr(USE_CLIENT_DEFAULT) == "USE_CLIENT_DEFAULT"
    with pytest.raises(TypeError, match="is"):
        bool(USE_CLIENT_DEFAULT)


# -- terminal and outcome -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("starting", False),
        ("processing", False),
        ("succeeded", True),
        ("failed", True),
        ("canceled", True),
        ("aborted", True),
        ("something-new", False),
    ],
)
def test_is_terminal_and_needs_confirmation(status, terminal):
    """Only the four terminal statuses end polling; unknown ones keep it going."""
    pred = _pred(status)
    assert is_terminal(pred) is terminal
    assert needs_confirmation(pred) is not terminal


def test_processing_with_output_needs_confirmation():
    """The recorded sync reply (processing, with output) is not believed as final."""
    pred = _recorded("prediction_processing_with_output.json")
    assert pred.output
    assert needs_confirmation(pred)


def test_outcome_succeeded_returns_prediction():
    """A recorded succeeded prediction is the result."""
    pred = _recorded("prediction_succeeded.json")
    assert outcome(pred) is pred


def test_outcome_failed_raises_with_error_and_logs():
    """A failed prediction raises PredictionFailed carrying it, with error and log tail."""
    pred = _pred("failed", error="NSFW content detected", logs="step 1\nstep 2\n")
    with pytest.raises(PredictionFailed) as info:
        outcome(pred)
    assert info.value.prediction is pred
    assert (
        str(info.value)
        == "prediction p1 failed: NSFW content detected (last logs: step 1 | step 2)"
    )


def test_outcome_canceled_raises():
    """A recorded canceled prediction raises PredictionCanceled carrying it."""
    pred = _recorded("prediction_canceled.json")
    with pytest.raises(PredictionCanceled) as info:
        outcome(pred)
    assert info.value.prediction is pred


def test_outcome_aborted_raises_canceled():
    """An aborted prediction is a PredictionCanceled too."""
    with pytest.raises(PredictionCanceled, match="aborted"):
        outcome(_pred("aborted"))


@pytest.mark.parametrize("status", ["starting", "processing", "unknown"])
def test_outcome_of_non_terminal_is_a_bug(status):
    """Asking the outcome of an unfinished prediction is a ValueError."""
    with pytest.raises(ValueError, match="poll it first"):
        outcome(_pred(status))
