# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fan-out: ``run_many`` and ``as_completed`` over thousands of jobs, bounded and resumable.

A fixed pool of ``concurrency`` worker tasks pulls jobs from one iterator, so jobs may be
a lazy iterable and the memory held per job in flight is a small constant. Each job is a
create (``Prefer: wait``), then, when the reply is not terminal, polling with capped
backoff that starts where the wait left off (a prediction that outlived a long wait is
not polled every 0.2 s). Requests take tokens from the client's rate limiter.

Cancelling a batch cancels every remote prediction it started (promise 4). A create
that is on the wire when the batch is cancelled keeps running, shielded, for at most
:data:`CREATE_GRACE` seconds, so its prediction id can be learnt and the prediction
cancelled; creates still waiting for a rate-limit token are dropped at once.

With ``journal=PATH`` every job's progress is kept in SQLite (`_journal`), so running the
same batch again creates only what never got a prediction id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar

import anyio
import attrs

from replicate_async import _sansio
from replicate_async._cancellation import is_cancellation
from replicate_async._config import USE_CLIENT_DEFAULT, OrClientDefault
from replicate_async._journal import CREATED, CREATING, Journal, canonical_json, job_key
from replicate_async._models import Deployment, Prediction, PredictionStatus
from replicate_async._ratelimit import REQUEST_HOOKS, BucketName
from replicate_async.exceptions import (
    APIError,
    ClientError,
    CreateOutcomeUnknown,
    PredictionError,
    PredictionTimeout,
    ReplicateError,
    TransportError,
)

if TYPE_CHECKING:
    import os
    from collections.abc import (
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Iterator,
        Mapping,
        Sequence,
    )

    from replicate_async._client import AsyncClient

__all__ = [
    "CREATE_GRACE",
    "CreateOutcomeUnknown",
    "Job",
    "JobSpec",
    "Progress",
    "ProgressEvent",
    "as_completed",
    "run_many",
]

logger = logging.getLogger("replicate_async")

CREATE_GRACE: Final = 5.0
"""Seconds a create already sent may still take, when its batch is cancelled, to learn its id."""

CANCEL_GRACE: Final = 5.0
"""Seconds the remote cancel of an abandoned prediction may take."""

LOOKUP_SLACK: Final = 120.0
"""Seconds before a journal's oldest unknown create that the prediction list is searched from."""

EventKind: TypeAlias = Literal["submitted", "running", "succeeded", "failed", "retried", "resumed"]


def _input(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A job's input: an empty mapping for None."""
    return {} if value is None else value


@attrs.frozen
class Job:
    """One job of a batch: a model reference, its input, and options for this job alone.

    Options left at ``USE_CLIENT_DEFAULT`` take the value given to ``run_many`` /
    ``as_completed``.

    Args:
        ref: ``"owner/name"``, ``"owner/name:<version>"``, a version id or a Deployment.
        input: The model's input.
        wait: Seconds for ``Prefer: wait`` (1 to 60), or False.
        timeout: Seconds the job may take, or None for the client's longest wait.
        cancel_on_timeout: Cancel the prediction remotely when ``timeout`` passes.
        use_file_output: Turn file URLs in the output into FileOutput objects.
        webhook: An https URL the server calls with this job's updates.
        webhook_events_filter: Which events call the webhook (start, output, logs, completed).
        key: The job's identity in a journal; by default a hash of ref, input and the
            job's index. Give one when the order of the jobs may change between runs.

    .. versionadded:: 0.1.0
    """

    ref: str | Deployment
    input: Mapping[str, Any] = attrs.field(factory=dict, converter=_input)
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


JobSpec: TypeAlias = "Job | tuple[str | Deployment, Mapping[str, Any] | None]"
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


@attrs.frozen(kw_only=True)
class _Options:
    """The batch-wide defaults of the per-job options."""

    wait: int | Literal[False]
    timeout: float | None
    cancel_on_timeout: bool
    use_file_output: bool
    webhook: str | None = None
    webhook_events_filter: Sequence[str] | None = None


T = TypeVar("T")


def _or_batch(value: OrClientDefault[T], batch: T) -> T:
    """A job's own option, or the batch's when the job left it at USE_CLIENT_DEFAULT."""
    return batch if value is USE_CLIENT_DEFAULT else value


def _as_job(spec: object) -> Job:
    """A Job from a Job or a ``(ref, input)`` pair."""
    if isinstance(spec, Job):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2:  # noqa: PLR2004
        return Job(spec[0], spec[1])
    raise TypeError(f"a job is a Job or a (ref, input) pair, got {spec!r}")


def _ref_text(ref: str | Deployment) -> str:
    """A reference as text, for journals and keys."""
    return f"deployment:{ref.name}" if isinstance(ref, Deployment) else ref


def _matches(prediction: Prediction, job: Job, wanted_input: str) -> bool:
    """Whether *prediction* could be the one *job*'s create made."""
    if canonical_json(dict(prediction.input)) != wanted_input:
        return False
    if isinstance(job.ref, Deployment):
        return prediction.deployment in (None, job.ref.name)
    ref = _sansio.parse_ref(job.ref)
    if ref.version is not None and prediction.version not in (None, "hidden"):
        return prediction.version == ref.version
    if ref.owner is not None and prediction.model is not None:
        return prediction.model == f"{ref.owner}/{ref.name}"
    return True


class _JobRun:
    """One job in flight: its cancel scope around the create and its request hooks."""

    __slots__ = ("batch", "create_scope", "index", "job", "key", "running", "sent")

    def __init__(self, batch: _Batch, index: int, job: Job) -> None:
        self.batch = batch
        self.index = index
        self.job = job
        self.key: str | None = None
        self.sent = False
        self.running = False
        self.create_scope: anyio.CancelScope | None = None

    def sending(self, bucket: BucketName) -> None:
        """The create goes out: journal it first; refuse when the batch was cancelled."""
        if bucket != "create" or self.sent:
            return
        batch = self.batch
        if batch.interrupted:
            raise _Interrupted
        if batch.journal is not None and self.key is not None:
            batch.journal.creating(self.key, _ref_text(self.job.ref), self.job.input)
        self.sent = True
        batch.emit("submitted", self, None)

    def throttled(self, bucket: BucketName) -> None:  # noqa: ARG002 - the protocol's signature
        """A request of this job met a 429."""
        self.batch.emit("retried", self, None)


class _Interrupted(Exception):  # noqa: N818 - private signal
    """The batch was cancelled before this create was sent."""


class _Batch:
    """The engine behind run_many and as_completed."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        concurrency: int,
        return_exceptions: bool,
        options: _Options,
        journal: str | os.PathLike[str] | None,
        recreate_unknown: bool,
        on_progress: Callable[[ProgressEvent], object] | None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        capacity = client._max_concurrency  # noqa: SLF001 - same package
        if concurrency > capacity:
            raise ValueError(
                f"concurrency={concurrency} is more than this client's max_concurrency={capacity} "
                "(its connection pool), so jobs would queue for connections: make the client with "
                f"AsyncClient(max_concurrency={concurrency}) or lower concurrency"
            )
        self.client = client
        self.concurrency = concurrency
        self.return_exceptions = return_exceptions
        self.options = options
        self.journal_path = journal
        self.journal: Journal | None = None
        self.recreate_unknown = recreate_unknown
        self.on_progress = on_progress
        self.interrupted = False
        self.error: BaseException | None = None
        self.total: int | None = None
        self.started = 0.0
        self.counts = dict.fromkeys(
            ("submitted", "running", "succeeded", "failed", "retried", "resumed"), 0
        )
        self._active: set[_JobRun] = set()
        self._lookup_lock = anyio.Lock()
        self._candidates: list[Prediction] | None = None

    # ---------------------------------------------------------------- progress

    def progress(self) -> Progress:
        """The counters now."""
        c = self.counts
        return Progress(
            total=self.total,
            submitted=c["submitted"],
            running=c["running"],
            succeeded=c["succeeded"],
            failed=c["failed"],
            retried=c["retried"],
            resumed=c["resumed"],
            elapsed=anyio.current_time() - self.started,
        )

    def emit(
        self,
        kind: EventKind,
        run: _JobRun,
        prediction_id: str | None,
        error: BaseException | None = None,
    ) -> None:
        """Count an event and tell on_progress."""
        c = self.counts
        c[kind] += 1
        if kind in ("running", "resumed"):
            c["running"] += kind == "resumed"
            run.running = True
        elif kind in ("succeeded", "failed") and run.running:
            c["running"] -= 1
            run.running = False
        if self.on_progress is not None:
            self.on_progress(
                ProgressEvent(
                    kind=kind,
                    index=run.index,
                    prediction_id=prediction_id,
                    error=error,
                    progress=self.progress(),
                )
            )

    # ---------------------------------------------------------------- running

    async def run(
        self, jobs: Iterable[JobSpec], deliver: Callable[[int, Any], Awaitable[None] | None]
    ) -> None:
        """Run every job, handing each result (or error) to *deliver* as it finishes."""
        self.started = anyio.current_time()
        try:
            self.total = len(jobs)  # type: ignore[arg-type]
        except TypeError:
            self.total = None
        workers = self.concurrency if self.total is None else min(self.concurrency, self.total)
        if self.journal_path is not None:
            self.journal = Journal(self.journal_path)
        iterator = enumerate(jobs)
        try:
            async with anyio.create_task_group() as tg:
                self._scope = tg.cancel_scope
                tg.start_soon(self._sentinel)
                async with anyio.create_task_group() as pool:
                    for _ in range(workers):
                        pool.start_soon(self._worker, iterator, deliver)
                tg.cancel_scope.cancel()  # the sentinel's work is done
        finally:
            if self.journal is not None:
                self.journal.close()
        if self.error is not None:
            raise self.error

    async def _sentinel(self) -> None:
        """On cancellation of the batch, give creates on the wire a short grace, drop the rest."""
        try:
            await anyio.sleep_forever()
        finally:
            self.interrupted = True
            now = anyio.current_time()
            for run in self._active:
                if run.create_scope is not None:
                    run.create_scope.deadline = now + CREATE_GRACE if run.sent else now

    def _fail(self, exc: BaseException) -> None:
        """Remember the batch's first error and cancel the rest of it."""
        if self.error is None:
            self.error = exc
        self._scope.cancel()

    async def _worker(
        self,
        iterator: Iterator[tuple[int, JobSpec]],
        deliver: Callable[[int, Any], Awaitable[None] | None],
    ) -> None:
        """Take jobs from the shared iterator until it is exhausted."""
        while True:
            try:
                index, spec = next(iterator)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - the caller's iterable failed
                self._fail(exc)
                return
            run = _JobRun(self, index, spec)  # type: ignore[arg-type]  # checked below
            try:
                run.job = _as_job(spec)
                value = await self._run_job(run)
            except Exception as exc:  # noqa: BLE001 - the job's error, returned or raised
                pid = exc.prediction.id if isinstance(exc, PredictionError) else None
                self.emit("failed", run, pid, exc)
                if not self.return_exceptions:
                    self._fail(exc)
                    return
                value = exc
            pending = deliver(index, value)
            if pending is not None:
                await pending

    def _options(self, job: Job) -> tuple[int | Literal[False], float | None, bool, bool]:
        """The job's wait, timeout, cancel_on_timeout and use_file_output."""
        o = self.options
        return (
            _or_batch(job.wait, o.wait),
            _or_batch(job.timeout, o.timeout),
            _or_batch(job.cancel_on_timeout, o.cancel_on_timeout),
            _or_batch(job.use_file_output, o.use_file_output),
        )

    async def _run_job(self, run: _JobRun) -> Any:
        """Run one job to its output (or raise its error)."""
        from replicate_async._client import plan_run  # noqa: PLC0415 - a cycle at import time

        job = run.job
        wait, timeout, cancel_on_timeout, use_file_output = self._options(job)
        started = anyio.current_time()
        budget, create_wait, cancel_after = plan_run(
            wait, timeout, cancel_on_timeout=cancel_on_timeout
        )
        prediction: Prediction | None = None
        if self.journal is not None:
            run.key = (
                job.key
                if job.key is not None
                else job_key(_ref_text(job.ref), job.input, run.index)
            )
            prediction = await self._resume(run)
            if prediction is not None and not prediction.status.is_terminal:
                prediction = await self._follow(
                    run, prediction, budget, started, cancel_on_timeout=cancel_on_timeout
                )
        if prediction is None:
            prediction = await self._create(run, create_wait, cancel_after)
            if not prediction.status.is_terminal:
                prediction = await self._follow(
                    run, prediction, budget, started, cancel_on_timeout=cancel_on_timeout
                )
        return self._finish(run, prediction, use_file_output=use_file_output)

    def _finish(self, run: _JobRun, prediction: Prediction, *, use_file_output: bool) -> Any:
        """Journal a terminal prediction and turn it into the job's output or error."""
        if self.journal is not None and run.key is not None:
            self.journal.finished(run.key, prediction)
        output = _sansio.outcome(prediction).output
        self.emit("succeeded", run, prediction.id)
        if use_file_output:
            from replicate_async._file_output import to_file_outputs  # noqa: PLC0415

            return to_file_outputs(output, self.client.downloader)
        return output

    async def _create(
        self, run: _JobRun, wait: int | Literal[False], cancel_after: float | None
    ) -> Prediction:
        """Create the job's prediction; shielded for a grace once sent (see the module doc)."""
        job = run.job
        scope = anyio.CancelScope(shield=True)
        run.create_scope = scope
        if self.interrupted:
            scope.deadline = anyio.current_time()
        self._active.add(run)
        token = REQUEST_HOOKS.set(run)
        prediction: Prediction | None = None
        try:
            with scope:
                prediction = await self.client.predictions.create(
                    job.ref,
                    job.input,
                    wait=wait,
                    cancel_after=cancel_after,
                    webhook=_or_batch(job.webhook, self.options.webhook),
                    webhook_events_filter=_or_batch(
                        job.webhook_events_filter, self.options.webhook_events_filter
                    ),
                )
        except _Interrupted:
            prediction = None
        except (APIError, TransportError) as exc:
            if _surely_not_created(exc):
                self._forget(run)
                raise
            raise CreateOutcomeUnknown(
                index=run.index,
                job=job,
                key=run.key,
                message=f"job {run.index}: the create may have made a prediction ({exc}); "
                "it was not sent again",
            ) from exc
        except ReplicateError:
            self._forget(run)
            raise
        finally:
            REQUEST_HOOKS.reset(token)
            self._active.discard(run)
            run.create_scope = None
        if prediction is None:
            if not run.sent:
                self._forget(run)
            await anyio.lowlevel.checkpoint()  # the batch is cancelled: this raises
            raise CreateOutcomeUnknown(  # pragma: no cover - only without a cancellation
                index=run.index, job=job, key=run.key, message="the create was abandoned"
            )
        if self.journal is not None and run.key is not None:
            self.journal.created(run.key, prediction.id)
        self.emit("running", run, prediction.id)
        return prediction

    def _forget(self, run: _JobRun) -> None:
        """Drop the job's journal row: its create surely made nothing."""
        if self.journal is not None and run.key is not None:
            self.journal.forget(run.key)

    async def _follow(
        self,
        run: _JobRun,
        prediction: Prediction,
        budget: float,
        started: float,
        *,
        cancel_on_timeout: bool,
    ) -> Prediction:
        """Poll until terminal; cancel it remotely when the batch is cancelled."""
        client = self.client
        policy = client._poll  # noqa: SLF001 - same package
        delays = _sansio.poll_delays(policy)
        held = anyio.current_time() - started
        if prediction.output is None:
            # The wait ran out (no output yet): it is a long prediction, so poll as if we
            # had been polling all along instead of starting over at the shortest delay.
            spent = 0.0
            while spent < held and policy.initial < policy.maximum:
                delay = next(delays)
                if delay >= policy.maximum * (1 - policy.jitter):
                    break
                spent += delay
        last = prediction
        token = REQUEST_HOOKS.set(run)
        try:
            with anyio.move_on_after(budget - held):
                while not last.status.is_terminal:
                    await anyio.sleep(next(delays))
                    last = await client.predictions.get(last.id)
        except BaseException as exc:
            if is_cancellation(exc):
                await self._abandon(run, last)
            raise
        finally:
            REQUEST_HOOKS.reset(token)
        if not last.status.is_terminal:
            if cancel_on_timeout:
                await client._cancel_quietly(last.id)  # noqa: SLF001 - same package
            raise PredictionTimeout(prediction=last, timeout=budget)
        return last

    async def _abandon(self, run: _JobRun, prediction: Prediction) -> None:
        """Cancel an abandoned prediction remotely (shielded, bounded) and journal the result."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
            try:
                final = await self.client.predictions.cancel(prediction.id)
            except ReplicateError as exc:
                logger.warning("could not cancel prediction %s: %s", prediction.id, exc)
                return
            logger.info("canceled prediction %s", prediction.id)
            if self.journal is not None and run.key is not None:
                if final.status is PredictionStatus.SUCCEEDED:
                    self.journal.finished(run.key, final)
                else:
                    # Canceled by this batch: a later run of the batch creates it again.
                    self.journal.forget(run.key)

    # ---------------------------------------------------------------- the journal

    async def _resume(self, run: _JobRun) -> Prediction | None:
        """The job's prediction from the journal, or None to create it."""
        assert self.journal is not None  # noqa: S101 - only called with a journal
        assert run.key is not None  # noqa: S101
        row = self.journal.get(run.key)
        if row is None:
            return None
        if row.state == CREATING:
            found = await self._look_up(run, row.started_at)
            if found is None:
                if not self.recreate_unknown:
                    raise CreateOutcomeUnknown(
                        index=run.index,
                        job=run.job,
                        key=run.key,
                        message=f"job {run.index} (key {run.key}): an earlier run sent its create "
                        "and never learnt the outcome, and no matching prediction was found; "
                        "pass recreate_unknown=True to create it again",
                    )
                self.journal.forget(run.key)
                return None
            self.journal.created(run.key, found.id)
            prediction: Prediction = found
        elif row.state == CREATED:
            assert row.prediction_id is not None  # noqa: S101 - written with the state
            prediction = await self.client.predictions.get(row.prediction_id)
        else:
            prediction = row.final()
        run.sent = True
        self.emit("resumed", run, prediction.id)
        return prediction

    async def _look_up(self, run: _JobRun, started_at: float) -> Prediction | None:
        """Find the prediction an unknown create made, in the account's prediction list."""
        assert self.journal is not None  # noqa: S101
        async with self._lookup_lock:
            if self._candidates is None:
                self._candidates = await self._list_candidates()
        wanted = canonical_json(dict(run.job.input))
        for position, prediction in enumerate(self._candidates):
            if prediction.created_at is not None and prediction.created_at.timestamp() < (
                started_at - LOOKUP_SLACK
            ):
                continue
            if _matches(prediction, run.job, wanted):
                del self._candidates[position]
                return prediction
        return None

    async def _list_candidates(self) -> list[Prediction]:
        """Predictions made since the oldest unknown create, minus those the journal knows."""
        assert self.journal is not None  # noqa: S101
        rows = list(self.journal.rows())
        known = {row.prediction_id for row in rows if row.prediction_id is not None}
        oldest = min(row.started_at for row in rows if row.state == CREATING)
        found: list[Prediction] = []
        async for prediction in self.client.predictions.list():
            created = prediction.created_at
            if created is not None and created.timestamp() < oldest - LOOKUP_SLACK:
                break
            if prediction.id not in known:
                found.append(prediction)
        found.reverse()  # oldest first, the order the jobs were created in
        return found


def _surely_not_created(exc: APIError | TransportError) -> bool:
    """Whether a failed create surely made no prediction (promise 1)."""
    if isinstance(exc, TransportError):
        return not exc.request_sent
    return isinstance(exc, ClientError)


# ---------------------------------------------------------------------- public functions


async def run_many(
    client: AsyncClient,
    jobs: Iterable[JobSpec],
    *,
    concurrency: int = 64,
    return_exceptions: bool = False,
    wait: int | Literal[False] = 60,
    timeout: float | None = None,  # noqa: ASYNC109 - per-job budgets, not the call's
    cancel_on_timeout: bool = False,
    use_file_output: bool = True,
    webhook: str | None = None,
    webhook_events_filter: Sequence[str] | None = None,
    journal: str | os.PathLike[str] | None = None,
    recreate_unknown: bool = False,
    on_progress: Callable[[ProgressEvent], object] | None = None,
) -> list[Any]:
    """The engine of :meth:`AsyncClient.run_many` (see there)."""
    results: list[Any] = []

    def deliver(index: int, value: Any) -> None:
        """Put a result in its job's place."""
        if index >= len(results):
            results.extend([None] * (index + 1 - len(results)))
        results[index] = value

    batch = _Batch(
        client,
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        options=_Options(
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            use_file_output=use_file_output,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        ),
        journal=journal,
        recreate_unknown=recreate_unknown,
        on_progress=on_progress,
    )
    await batch.run(jobs, deliver)
    return results


async def as_completed(
    client: AsyncClient,
    jobs: Iterable[JobSpec],
    *,
    concurrency: int = 64,
    wait: int | Literal[False] = 60,
    timeout: float | None = None,  # noqa: ASYNC109 - per-job budgets, not the call's
    cancel_on_timeout: bool = False,
    use_file_output: bool = True,
    webhook: str | None = None,
    webhook_events_filter: Sequence[str] | None = None,
    journal: str | os.PathLike[str] | None = None,
    recreate_unknown: bool = False,
    on_progress: Callable[[ProgressEvent], object] | None = None,
) -> AsyncIterator[tuple[int, Any]]:
    """The engine of :meth:`AsyncClient.as_completed` (see there)."""
    batch = _Batch(
        client,
        concurrency=concurrency,
        return_exceptions=True,
        options=_Options(
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            use_file_output=use_file_output,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        ),
        journal=journal,
        recreate_unknown=recreate_unknown,
        on_progress=on_progress,
    )
    send, receive = anyio.create_memory_object_stream[tuple[int, Any]](concurrency)
    failure: list[Exception] = []

    async def deliver(index: int, value: Any) -> None:
        """Hand a result to the consumer (waits while it is behind)."""
        await send.send((index, value))

    async def produce() -> None:
        """Run the batch into the stream."""
        async with send:
            try:
                await batch.run(jobs, deliver)
            except Exception as exc:  # noqa: BLE001 - re-raised in the consumer's task
                failure.append(exc)

    closed = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        try:
            async with receive:
                async for item in receive:
                    yield item
        except GeneratorExit:
            # The consumer left early: end the batch (its predictions are cancelled
            # remotely as the workers unwind) without the exit escaping the task group.
            closed = True
        finally:
            tg.cancel_scope.cancel()
    if failure and not closed:
        raise failure[0]
