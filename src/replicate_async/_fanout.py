# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fan-out: ``run_many`` and ``as_completed`` (`_as_completed`) over thousands of jobs, bounded
and resumable.

A fixed pool of ``concurrency`` worker tasks pulls jobs from one iterator, so jobs may be
a lazy iterable and the memory held per job in flight is a small constant. Each job is a
create (``Prefer: wait``), then, when the reply is not terminal, polling with capped
backoff that starts where the wait left off (a prediction that outlived a long wait is
not polled every 0.2 s). Requests take tokens from the client's rate limiter.

Cancelling a batch cancels every remote prediction it started (promise 4). A create
that is on the wire when the batch is cancelled keeps running, shielded, for at most
:data:`CREATE_GRACE` seconds, so its prediction id can be learnt and the prediction
cancelled; creates still waiting for a rate-limit token are dropped at once. A worker runs
its jobs in one shielded scope, which the sentinel cancels (or gives a create its grace).

With ``journal=PATH`` every job's progress is kept in SQLite (`_journal`), so running the
same batch again creates only what never got a prediction id (`_resuming`). A job whose
key's row was written for another ref or input fails with JournalMismatch before its create
(its own error with ``return_exceptions``, else the batch's, as for any job error).

With a shared journal (``journal="postgresql://...?batch=NAME"``, `_journal_postgres`)
several workers run one batch: each claims a job before running it; a job another live
worker holds is set aside and come back to once this worker's iterator is spent, every
:data:`SETTLE_INTERVAL` seconds with one query for all of them, until its row is terminal
(its result is taken from there) or its claim expired (this worker takes it over).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio

from replicate_async import _clock as clock
from replicate_async._create_watch import CreateWatch, surely_not_created
from replicate_async._jobs import (
    Job,
    JobSpec,
    Progress,
    ProgressEvent,
    as_job,
    job_options,
    ref_text,
)
from replicate_async._journal import job_key
from replicate_async._journal_backend import ClaimLost, JobHeld, JournalBackend
from replicate_async._models import Prediction, PredictionStatus
from replicate_async._resuming import Resumer, open_journal
from replicate_async._running import RunOptions, plan_run
from replicate_async._session import CANCEL_GRACE
from replicate_async._uploads import check_input
from replicate_async._worker_pool import run_workers
from replicate_async.exceptions import CreateOutcomeUnknown, PredictionError, ReplicateError

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

    from replicate_async._jobs import EventKind
    from replicate_async._journal import JournalRow
    from replicate_async._ratelimit import BucketName
    from replicate_async._running import Runner

__all__ = ["CREATE_GRACE", "Batch", "run_many"]

logger = logging.getLogger("replicate_async")

CREATE_GRACE: Final = 5.0
"""Seconds a create already sent may still take, when its batch is cancelled, to learn its id."""

JOURNAL_GRACE: Final = 5.0
"""Seconds a journal write may take while its batch is being cancelled."""

SETTLE_INTERVAL: Final = 0.5
"""Seconds between two looks at the jobs other workers of a shared journal hold."""


class _JobRun(CreateWatch):
    """One job in flight: the cancel scope of the worker running it, and its request hooks
    (which watch the create themselves: the run engine uses them as they are)."""

    __slots__ = ("batch", "index", "input", "job", "key", "running", "scope")

    def __init__(self, batch: Batch, index: int, job: Job, scope: anyio.CancelScope) -> None:
        super().__init__(None)
        self.batch = batch
        self.index = index
        self.job = job
        self.scope = scope
        # The input sent: the job's, or its typed request mapped (set by Batch._run_one).
        self.input: Mapping[str, Any] = {}
        self.key: str | None = None
        self.running = False

    def sending(self, bucket: BucketName) -> Awaitable[None] | None:
        """The create goes out: journal it first; refuse when the batch was cancelled."""
        if bucket != "create":
            return None
        if self.sent:  # sent again after a 429: its prediction is made from now
            self.at = clock.now()
            return None
        if self.batch.interrupted:
            raise _Interrupted
        if self.batch.journal is not None and self.key is not None:
            return self._journal_creating(self.batch.journal, self.key)
        self._sent()
        return None

    async def _journal_creating(self, journal: JournalBackend, key: str) -> None:
        """Commit the `creating` row (ClaimLost: another worker holds the job), then send."""
        await journal.creating(key, ref_text(self.job.ref), self.input)
        self._sent()

    def _sent(self) -> None:
        self.sent = True
        self.at = clock.now()
        self.batch.emit("submitted", self, None)

    async def abandon(self, prediction: Prediction) -> None:
        """Cancel this job's abandoned *prediction* (the run engine's ``abandon`` step)."""
        await self.batch.cancel_abandoned(self, prediction)

    def throttled(self, bucket: BucketName) -> None:  # noqa: ARG002 - the protocol's signature
        """A request of this job met a 429."""
        self.batch.emit("retried", self, None)


class _Interrupted(Exception):  # noqa: N818 - private signal
    """The batch was cancelled before this create was sent."""


class Batch:
    """The engine behind run_many and as_completed."""

    def __init__(
        self,
        runner: Runner,
        *,
        concurrency: int,
        return_exceptions: bool,
        options: RunOptions,
        journal: str | os.PathLike[str] | JournalBackend | None,
        recreate_unknown: bool,
        on_progress: Callable[[ProgressEvent], object] | None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        runner.session.reserve(concurrency)  # the pool grows: no job queues for a connection
        self.runner = runner
        self.concurrency = concurrency
        self.return_exceptions = return_exceptions
        self.options = options
        self.journal_spec = journal
        self.journal: JournalBackend | None = None
        self.resumer: Resumer | None = None
        self.recreate_unknown = recreate_unknown
        self.on_progress = on_progress
        self.interrupted = False
        self.error: BaseException | None = None
        self.total: int | None = None
        self.started = 0.0
        self.counts = dict.fromkeys(
            ("submitted", "running", "succeeded", "failed", "retried", "resumed"), 0
        )
        self._active: set[_JobRun] = set()  # the jobs whose create is under way
        self._scopes: set[anyio.CancelScope] = set()  # the shield of each task running jobs
        # Jobs another worker of a shared journal holds, by key, and how many are re-run.
        self._deferred: dict[str, _JobRun] = {}
        self._retrying = 0

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
            elapsed=clock.now() - self.started,
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
        self.started = clock.now()
        try:
            self.total = len(jobs)  # type: ignore[arg-type]
        except TypeError:
            self.total = None
        workers = self.concurrency if self.total is None else min(self.concurrency, self.total)
        if self.journal_spec is not None:
            journal = open_journal(self.journal_spec)
            await journal.open()
            self.journal = journal
            self.resumer = Resumer(self.runner, journal, recreate_unknown=self.recreate_unknown)
        iterator = enumerate(jobs)
        try:
            async with anyio.create_task_group() as tg:
                self._scope = tg.cancel_scope
                tg.start_soon(self._sentinel)
                if self.journal is not None and self.journal.shared:
                    tg.start_soon(self.journal.hold)
                work = lambda: self._worker(iterator, deliver)  # noqa: E731
                await run_workers(workers, work, interrupt=tg.cancel_scope.cancel)
                if self._deferred:
                    await self._settle(deliver)
                tg.cancel_scope.cancel()  # the sentinel's work is done
        finally:
            if self.journal is not None:
                with anyio.CancelScope(shield=True):
                    await self.journal.close()
        if self.error is not None:
            raise self.error

    async def _sentinel(self) -> None:
        """On cancellation of the batch, give creates on the wire a short grace, drop the rest."""
        try:
            await anyio.sleep_forever()
        finally:
            self.interrupted = True
            now = clock.now()
            graced = {run.scope for run in self._active if run.sent}
            for scope in self._scopes - graced:
                scope.cancel()
            for scope in graced:
                scope.deadline = now + CREATE_GRACE

    def _fail(self, exc: BaseException) -> None:
        """Remember the batch's first error and cancel the rest of it."""
        if self.error is None:
            self.error = exc
        self._scope.cancel()

    def _shield(self) -> anyio.CancelScope:
        """A shielded scope for a task running jobs (the sentinel's to cancel), in ``_scopes``
        until the task drops it (not a context manager: two objects fewer per worker)."""
        scope = anyio.CancelScope(shield=True)
        if self.interrupted:
            scope.cancel()
        self._scopes.add(scope)
        return scope

    async def _worker(
        self,
        iterator: Iterator[tuple[int, JobSpec]],
        deliver: Callable[[int, Any], Awaitable[None] | None],
    ) -> None:
        """Take jobs from the shared iterator until it is exhausted."""
        scope = self._shield()
        try:
            with scope:
                while True:
                    try:
                        index, spec = next(iterator)
                    except StopIteration:
                        return
                    except Exception as exc:  # noqa: BLE001 - the caller's iterable failed
                        self._fail(exc)
                        return
                    run = _JobRun(self, index, spec, scope)  # type: ignore[arg-type]  # checked below
                    if not await self._run_one(run, deliver):
                        return
        finally:
            self._scopes.discard(scope)

    async def _run_one(
        self,
        run: _JobRun,
        deliver: Callable[[int, Any], Awaitable[None] | None],
        settled: JournalRow | None = None,
    ) -> bool:
        """Run one job to its output (or error) and deliver it, or set it aside when another
        worker of a shared journal holds it; False when the batch fails.

        *settled*: the job's terminal row, when another worker finished it. One coroutine for
        the whole job (it is on the hot path of every prediction).
        """
        try:
            run.job = job = as_job(spec := run.job)  # a (ref, input) pair sets no option
            options = self.options if job is not spec else job_options(job, self.options)
            # Mapped (a typed request) and checked (validate) once, here: the journal's key, its
            # fingerprint and the create (which does not check it again) see the input sent.
            run.input = await self.runner.prepare_input(
                job.ref, job.input, validate=options.validate
            )
            started = clock.now()
            budget, create_wait, cancel_after = plan_run(
                options.wait, options.timeout, cancel_on_timeout=options.cancel_on_timeout
            )
            prediction: Prediction | None = None
            if self.journal is not None:
                prediction, settled = await self._resume(run, settled)
            if prediction is None:
                prediction = await self._create(run, options, create_wait, cancel_after)
            if not prediction.status.is_terminal:
                held = clock.now() - started
                prediction = await self.runner.poll(
                    prediction,
                    within=budget - held,
                    reported_timeout=budget,
                    cancel_on_timeout=options.cancel_on_timeout,
                    abandon=run.abandon,
                    held=held,
                    hooks=run,
                )
            if self.journal is not None and run.key is not None and settled is None:
                await self.journal.finished(run.key, prediction)
            value = self.runner.output(prediction, use_file_output=options.use_file_output)
            self.emit("succeeded", run, prediction.id)
        except (JobHeld, ClaimLost):
            assert run.key is not None  # noqa: S101 - only a journaled job is busy
            self._deferred[run.key] = run
            return True
        except Exception as exc:  # noqa: BLE001 - the job's error, returned or raised
            if self.journal is not None and self.journal.shared and run.key is not None:
                with anyio.CancelScope(shield=True), anyio.move_on_after(JOURNAL_GRACE):
                    await self.journal.release(run.key)  # another worker may do better
            pid = exc.prediction.id if isinstance(exc, PredictionError) else None
            self.emit("failed", run, pid, exc)
            if not self.return_exceptions:
                self._fail(exc)
                return False
            value = exc
        pending = deliver(run.index, value)
        if pending is not None:
            await pending
        return True

    async def _resume(
        self, run: _JobRun, settled: JournalRow | None
    ) -> tuple[Prediction | None, JournalRow | None]:
        """The journal's view of the job: its prediction when one was made already (else
        None: create it), and its terminal row."""
        assert self.journal is not None  # noqa: S101 - only with a journal
        assert self.resumer is not None  # noqa: S101 - made with the journal
        job = run.job
        # Keys and fingerprints read the input: refuse what JSON cannot carry first, with its
        # field path, as the create would.
        check_input(run.input)
        ref = ref_text(job.ref)
        run.key = job.key if job.key is not None else job_key(ref, run.input, run.index)
        prediction, settled = await self.resumer.start(run.index, job, run.key, run.input, settled)
        if prediction is not None:
            run.sent = True
            self.emit("resumed", run, prediction.id)
        return prediction, settled

    async def _settle(self, deliver: Callable[[int, Any], Awaitable[None] | None]) -> None:
        """Wait for the jobs other workers hold: take their results, or take them over."""
        assert self.journal is not None  # noqa: S101 - only a shared journal defers jobs
        limit = anyio.CapacityLimiter(self.concurrency)

        async def again(run: _JobRun, row: JournalRow | None) -> None:
            run.scope = self._shield()
            try:
                async with limit:
                    with run.scope:
                        await self._run_one(run, deliver, row)
            finally:
                self._scopes.discard(run.scope)
                self._retrying -= 1

        async with anyio.create_task_group() as pool:
            try:
                while self._deferred or self._retrying:
                    if self._deferred:
                        settled = await self.journal.settle(list(self._deferred))
                        for key in [*settled.finished, *settled.claimable]:
                            run = self._deferred.pop(key, None)
                            if run is not None:
                                self._retrying += 1
                                pool.start_soon(again, run, settled.finished.get(key))
                    await anyio.sleep(SETTLE_INTERVAL)
            except anyio.get_cancelled_exc_class():  # asyncio's own too, which the group's
                self._scope.cancel()  # shielded jobs would not see: the sentinel stops them
                raise

    async def _create(
        self,
        run: _JobRun,
        options: RunOptions,
        wait: int | Literal[False],
        cancel_after: float | None,
    ) -> Prediction:
        """Create the job's prediction; shielded for a grace once sent (see the module doc)."""
        job = run.job
        self._active.add(run)
        prediction: Prediction | None = None
        try:
            prediction = await self.runner.create(
                job.ref,
                run.input,
                validate=False,  # checked by _run_one
                wait=wait,
                cancel_after=cancel_after,
                webhook=options.webhook,
                webhook_events_filter=options.webhook_events_filter,
                file_encoding=options.file_encoding,
                hooks=run,
                abandon=run.abandon,
            )
        except _Interrupted:
            prediction = None
        except Exception as exc:
            if not run.sent:
                raise  # refused before sending: nothing went out, and no row of this job was written
            if surely_not_created(exc):
                await self._forget(run)
                raise
            # Anything else (a 5xx, a connection lost after sending, a 2xx whose body does
            # not decode) may have made a prediction: its row stays `creating`.
            again = (
                "run the batch again with this journal to look it up"
                if self.journal is not None
                else "look for it in predictions.list() before running the job again"
            )
            raise CreateOutcomeUnknown(
                index=run.index,
                job=job,
                key=run.key,
                message=f"job {run.index}: the create may have made a prediction ({exc}); "
                f"it was not sent again: {again}",
            ) from exc
        finally:
            self._active.discard(run)
        if prediction is None:
            if not run.sent:
                await self._forget(run)
            # The batch is cancelled (the worker's scope, by the sentinel): this raises.
            await anyio.lowlevel.checkpoint()
            raise CreateOutcomeUnknown(  # pragma: no cover - only without a cancellation
                index=run.index, job=job, key=run.key, message="the create was abandoned"
            )
        if self.journal is not None and run.key is not None:
            await self.journal.created(run.key, prediction.id)
        self.emit("running", run, prediction.id)
        if self.interrupted:
            run.scope.cancel()  # it came back in its grace: its poll abandons it at once
        return prediction

    async def _forget(self, run: _JobRun) -> None:
        """Drop the job's journal row: its create surely made nothing (shielded, bounded)."""
        if self.journal is not None and run.key is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(JOURNAL_GRACE):
                await self.journal.forget(run.key)

    async def cancel_abandoned(self, run: _JobRun, prediction: Prediction) -> None:
        """Cancel an abandoned prediction remotely (shielded, bounded) and journal the result."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
            try:
                final = await self.runner.cancel(prediction.id)
            except ReplicateError as exc:
                logger.warning("could not cancel prediction %s: %s", prediction.id, exc)
                return
            logger.info("canceled prediction %s", prediction.id)
            if self.journal is not None and run.key is not None:
                if final.status is PredictionStatus.SUCCEEDED:
                    await self.journal.finished(run.key, final)
                else:
                    # Canceled by this batch: a later run of the batch creates it again.
                    await self.journal.forget(run.key)


# ---------------------------------------------------------------------- the entry points


async def run_many(
    runner: Runner,
    jobs: Iterable[JobSpec],
    *,
    options: RunOptions,
    concurrency: int = 64,
    return_exceptions: bool = False,
    journal: str | os.PathLike[str] | JournalBackend | None = None,
    recreate_unknown: bool = False,
    on_progress: Callable[[ProgressEvent], object] | None = None,
) -> list[Any]:
    """The engine of :meth:`AsyncClient.run_many` (see there); *options* are every job's defaults."""
    results: list[Any] = []

    def deliver(index: int, value: Any) -> None:
        """Put a result in its job's place."""
        if index >= len(results):
            results.extend([None] * (index + 1 - len(results)))
        results[index] = value

    batch = Batch(
        runner,
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        options=options,
        journal=journal,
        recreate_unknown=recreate_unknown,
        on_progress=on_progress,
    )
    await batch.run(jobs, deliver)
    return results
