# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A batch's jobs and what it reports: Job, JobSpec, Progress, ProgressEvent (pure data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs

from replicate_async._config import USE_CLIENT_DEFAULT, OrClientDefault
from replicate_async._models import Deployment

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from replicate_async._running import RunOptions
    from replicate_async.catalog import GenerationRequest

__all__ = [
    "EventKind",
    "Job",
    "JobSpec",
    "Progress",
    "ProgressEvent",
    "as_job",
    "job_options",
    "ref_text",
]

EventKind: TypeAlias = Literal["submitted", "running", "succeeded", "failed", "retried", "resumed"]


def _input(
    value: Mapping[str, Any] | GenerationRequest | None,
) -> Mapping[str, Any] | GenerationRequest:
    """A job's input: an empty mapping for None."""
    return {} if value is None else value


@attrs.frozen
class Job:
    """One job of a batch: a model reference, its input, and options for this job alone.

    Options left at ``USE_CLIENT_DEFAULT`` take the value given to ``run_many`` /
    ``as_completed``.

    Args:
        ref: ``"owner/name"``, ``"owner/name:<version>"``, a version id or a Deployment.
        input: The model's input: a dict, or a typed request (``VideoRequest``, ...) the
            client's catalogue maps once, before the job's journal key is made.
        wait: Seconds for ``Prefer: wait`` (1 to 60), or False.
        timeout: Seconds the job may take, or None for the client's longest wait.
        cancel_on_timeout: Cancel the prediction remotely when ``timeout`` passes.
        use_file_output: Turn file URLs in the output into FileOutput objects.
        webhook: An https URL the server calls with this job's updates.
        webhook_events_filter: Which events call the webhook (start, output, logs, completed).
        key: The job's identity in a journal; by default a hash of ref, input and the
            job's index. Give one when the order of the jobs may change between runs (or
            between the workers sharing a PostgreSQL journal).

    .. versionadded:: 0.1.0
    """

    ref: str | Deployment
    input: Mapping[str, Any] | GenerationRequest = attrs.field(factory=dict, converter=_input)
    wait: OrClientDefault[int | Literal[False]] = attrs.field(
        default=USE_CLIENT_DEFAULT, kw_only=True
    )
    timeout: OrClientDefault[float | None] = attrs.field(default=USE_CLIENT_DEFAULT, kw_only=True)
    cancel_on_timeout: OrClientDefault[bool] = attrs.field(default=USE_CLIENT_DEFAULT, kw_only=True)
    use_file_output: OrClientDefault[bool] = attrs.field(default=USE_CLIENT_DEFAULT, kw_only=True)
    webhook: OrClientDefault[str | None] = attrs.field(default=USE_CLIENT_DEFAULT, kw_only=True)
    webhook_events_filter: OrClientDefault[Sequence[str] | None] = attrs.field(
        default=USE_CLIENT_DEFAULT, kw_only=True
    )
    key: str | None = attrs.field(default=None, kw_only=True)


JobSpec: TypeAlias = "Job | tuple[str | Deployment, Mapping[str, Any] | GenerationRequest | None]"
"""A job: a :class:`Job` or a ``(ref, input)`` pair."""


@attrs.frozen(kw_only=True)
class Progress:
    """A batch's counters at one moment.

    Args:
        total: Jobs in the batch, when the jobs have a length; else None.
        submitted: Creates sent (the first time for each job).
        running: Jobs whose prediction exists and is not finished yet.
        succeeded: Jobs that ended with an output.
        failed: Jobs that ended with an error.
        retried: Requests answered 429 and sent again.
        resumed: Jobs taken up from a journal (finished or still running).
        elapsed: Seconds since the batch started.

    .. versionadded:: 0.1.0
    """

    total: int | None
    submitted: int
    running: int
    succeeded: int
    failed: int
    retried: int
    resumed: int
    elapsed: float

    @property
    def done(self) -> int:
        """Jobs finished either way.

        .. versionadded:: 0.1.0
        """
        return self.succeeded + self.failed


@attrs.frozen(kw_only=True)
class ProgressEvent:
    """Something happened to one job of a batch; passed to ``on_progress``.

    Args:
        kind: ``submitted`` (its create was sent), ``running`` (its prediction exists),
            ``succeeded``, ``failed``, ``retried`` (a request of it got a 429 and is sent
            again) or ``resumed`` (taken up from the journal).
        index: The job's position in the batch.
        prediction_id: Its prediction's id, once known.
        error: For ``failed``, the error.
        progress: The batch's counters after this event.

    .. versionadded:: 0.1.0
    """

    kind: EventKind
    index: int
    prediction_id: str | None
    error: BaseException | None
    progress: Progress


#: The options a Job may set for itself; each left at USE_CLIENT_DEFAULT takes the batch's.
_JOB_OPTIONS: Final = (
    "wait",
    "timeout",
    "cancel_on_timeout",
    "use_file_output",
    "webhook",
    "webhook_events_filter",
)


def job_options(job: Job, batch: RunOptions) -> RunOptions:
    """The options one job runs with: its own where it set them, else the batch's (the
    batch's own object for the common job that sets none: no copy per job)."""
    own = {
        name: value
        for name in _JOB_OPTIONS
        if (value := getattr(job, name)) is not USE_CLIENT_DEFAULT
    }
    return attrs.evolve(batch, **own) if own else batch


def as_job(spec: object) -> Job:
    """A Job from a Job or a ``(ref, input)`` pair."""
    if isinstance(spec, Job):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2:  # noqa: PLR2004
        return Job(spec[0], spec[1])
    raise TypeError(f"a job is a Job or a (ref, input) pair, got {spec!r}")


def ref_text(ref: str | Deployment) -> str:
    """A reference as text, for journals and keys."""
    return f"deployment:{ref.name}" if isinstance(ref, Deployment) else ref
