"""Polling: the delay policy, terminal detection, and what a final status means."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from replicate_async._config import (
    USE_CLIENT_DEFAULT,
    PollPolicy,
    RetryPolicy,
    Timeouts,
    UseClientDefault,
)
from replicate_async._models import Prediction, PredictionMetrics, PredictionStatus
from replicate_async._sansio.polling import (
    RunTimes,
    is_terminal,
    model_key,
    needs_confirmation,
    outcome,
    poll_delays,
    scheduled_delays,
)
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


# -- RunTimes: how long each model takes ----------------------------------------------------------

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _finished(
    run: float | None = 3.0,
    queue: float | None = 1.0,
    *,
    status: str = "succeeded",
    version: str | None = "v1",
    model: str | None = "acme/painter",
    predict_time: float | None = None,
) -> Prediction:
    started = None if queue is None else _T0 + timedelta(seconds=queue)
    completed = None if run is None or started is None else started + timedelta(seconds=run)
    return Prediction(
        id="p1",
        status=PredictionStatus(status),
        version=version,
        model=model,
        created_at=_T0,
        started_at=started,
        completed_at=completed,
        metrics=None if predict_time is None else PredictionMetrics(predict_time=predict_time),
    )


def _fresh(version: str | None = "v1", model: str | None = "acme/painter") -> Prediction:
    return Prediction(
        id="p2", status=PredictionStatus.STARTING, version=version, model=model, created_at=_T0
    )


def test_nothing_known_gives_no_estimate():
    """A model never seen finish has no expected finish."""
    assert RunTimes().expected(_fresh()) is None


def test_one_run_is_the_estimate():
    """After one run: its queue time plus its run time."""
    times = RunTimes()
    times.learn(_finished(run=3.0, queue=1.0))
    assert times.expected(_fresh()) == pytest.approx(4.0)


def test_estimates_are_exponentially_weighted_with_half_the_deviation():
    """Each run moves the average by the weight; half the mean deviation is added."""
    times = RunTimes(weight=0.5)
    times.learn(_finished(run=2.0, queue=0.0))
    times.learn(_finished(run=4.0, queue=0.0))
    # run: 2 + 0.5 * (4 - 2) = 3; deviation: 0 + 0.5 * (|4 - 2| - 0) = 1
    assert times.expected(_fresh()) == pytest.approx(3.0 + 0.5)
    for _ in range(50):
        times.learn(_finished(run=10.0, queue=2.0))
    assert times.expected(_fresh()) == pytest.approx(12.0, abs=1e-6)


def test_predict_time_stands_in_for_missing_timestamps():
    """Without started_at/completed_at, metrics.predict_time is the run time."""
    times = RunTimes()
    times.learn(_finished(run=None, queue=None, predict_time=2.5))
    assert times.expected(_fresh()) == pytest.approx(2.5)


def test_own_queue_time_is_used_once_started():
    """A prediction already started is expected its own queue time plus the run time."""
    times = RunTimes()
    times.learn(_finished(run=3.0, queue=1.0))
    started = attrs.evolve(_fresh(), started_at=_T0 + timedelta(seconds=7))
    assert times.expected(started) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "finished",
    [
        _finished(status="failed"),
        _finished(status="canceled"),
        _finished(status="processing"),
        _finished(version=None, model=None),
        _finished(run=None, queue=None),
        _finished(run=-1.0),
        _finished(run=10 * 86_400.0),
        _finished(run=None, queue=None, predict_time=float("nan")),
    ],
)
def test_unhelpful_predictions_teach_nothing(finished):
    """Failed, unfinished, keyless, timeless or implausible predictions are ignored."""
    times = RunTimes()
    times.learn(finished)
    assert len(times) == 0
    assert times.expected(_fresh()) is None


def test_keys_are_the_version_else_the_model():
    """A version id is the key; an official model's "hidden" version falls back to the model."""
    times = RunTimes()
    times.learn(_finished(run=5.0, queue=0.0, version="v1"))
    times.learn(_finished(run=9.0, queue=0.0, version="hidden", model="acme/official"))
    assert model_key(_fresh(version="v1")) == "v1"
    assert model_key(_fresh(version="hidden", model="acme/official")) == "acme/official"
    assert model_key(_fresh(version=None, model=None)) is None
    assert times.expected(_fresh(version="v1")) == pytest.approx(5.0)
    assert times.expected(_fresh(version="v2")) is None
    assert times.expected(_fresh(version="hidden", model="acme/official")) == pytest.approx(9.0)


def test_memory_is_bounded_least_recently_used_first():
    """At most `capacity` models are remembered; the least recently used goes first."""
    times = RunTimes(capacity=3)
    for key in ("a", "b", "c"):
        times.learn(_finished(version=key))
    assert times.expected(_fresh(version="a")) is not None  # a used: b is now the oldest
    times.learn(_finished(version="d"))
    assert len(times) == 3
    assert times.expected(_fresh(version="b")) is None
    assert all(times.expected(_fresh(version=k)) is not None for k in ("a", "c", "d"))
    for i in range(1000):
        times.learn(_finished(version=f"v{i}"))
    assert len(times) == 3


@pytest.mark.parametrize("kwargs", [{"capacity": 0}, {"weight": 0}, {"weight": 1.5}])
def test_run_times_reject_bad_settings(kwargs):
    """Capacity >= 1 and a weight in (0, 1]."""
    with pytest.raises(ValueError, match="must be"):
        RunTimes(**kwargs)


# -- scheduled_delays --------------------------------------------------------------------------


def _poll_times(delays, finish: float, limit: int = 10_000) -> list[float]:
    """The poll times (from the start of polling) until the first at or after *finish*."""
    times, at = [], 0.0
    for delay in itertools.islice(delays, limit):
        at += delay
        times.append(at)
        if at >= finish:
            return times
    raise AssertionError("never reached the finish")


@pytest.mark.parametrize("held", [0.0, 1.0, 30.0])
@pytest.mark.parametrize("has_output", [False, True])
def test_without_an_estimate_the_schedule_is_todays_backoff(held, has_output):
    """Nothing known: the backoff, fast-forwarded past a hold without output, as before."""
    policy = PollPolicy()
    got = list(
        itertools.islice(
            scheduled_delays(policy, held=held, has_output=has_output, rng=_rng(3)), 30
        )
    )
    delays = poll_delays(policy, _rng(3))
    if held > 0 and not has_output:
        spent = 0.0
        while spent < held:
            delay = next(delays)
            if delay >= policy.maximum * (1 - policy.jitter):
                break
            spent += delay
    assert got == list(itertools.islice(delays, 30))


def test_the_first_poll_is_at_the_expected_finish():
    """Known: the first poll comes at the expected finish (minus the hold), jittered later."""
    policy = PollPolicy()
    for seed in range(50):
        first = next(scheduled_delays(policy, held=1.0, expected=8.0, rng=_rng(seed)))
        assert 7.0 <= first <= 7.0 * (1 + policy.jitter)


def test_an_expected_finish_before_the_first_backoff_poll_keeps_the_backoff():
    """Polls are never sooner than the backoff's first one."""
    policy = PollPolicy(jitter=0)
    got = list(itertools.islice(scheduled_delays(policy, expected=0.1), 5))
    assert got == list(itertools.islice(poll_delays(policy), 5))
    late = list(itertools.islice(scheduled_delays(policy, held=5.0, expected=4.0), 5))
    assert late == list(itertools.islice(scheduled_delays(policy, held=5.0), 5))


def test_output_or_a_zero_policy_ignores_the_estimate():
    """A reply with output is about to finish, and the tests' zero policy never waits."""
    policy = PollPolicy(jitter=0)
    got = list(itertools.islice(scheduled_delays(policy, has_output=True, expected=9.0), 5))
    assert got == list(itertools.islice(poll_delays(policy), 5))
    zero = PollPolicy(initial=0, factor=1, maximum=0, jitter=0)
    assert set(itertools.islice(scheduled_delays(zero, held=1.0, expected=9.0), 10)) == {0}


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.5])
def test_never_more_polls_than_the_backoff(jitter):
    """Whatever the estimate and the true finish, the polls are at most the backoff's."""
    policy = PollPolicy(jitter=jitter)
    grid = [0.05 * 1.3**i for i in range(40)]
    grid = [g for g in grid if g < 400]
    for seed, held, expected, finish in itertools.product(
        range(3), (0.0, 1.0, 20.0), grid[::3], grid[1::3]
    ):
        if finish <= held:
            continue
        rng = _rng(seed)
        if jitter:
            rng.random()  # the learned poll's own draw
        backoff = _poll_times(scheduled_delays(policy, held=held, rng=rng), finish - held)
        learned = _poll_times(
            scheduled_delays(policy, held=held, expected=expected, rng=_rng(seed)), finish - held
        )
        assert len(learned) <= len(backoff), (seed, held, expected, finish)
        if finish - held >= (expected - held) * (1 + jitter):  # an early estimate: no later
            assert learned[-1] <= backoff[-1] + 1e-9, (seed, held, expected, finish)
        gaps = [b - a for a, b in itertools.pairwise([0.0, *learned])]
        assert min(gaps) >= policy.initial * (1 - jitter) - 1e-9
        assert learned[0] >= min(backoff[0], expected - held)


def test_a_right_estimate_takes_one_poll():
    """When the model takes what it took before, one poll after the hold finds it done."""
    policy = PollPolicy()
    for finish in (2.0, 3.0, 10.0, 60.0, 300.0):
        delays = scheduled_delays(policy, held=1.0, expected=finish, rng=_rng(0))
        assert len(_poll_times(delays, finish - 1.0)) == 1
