# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The emulator's state: the prediction store, its clock, waiters and scheduler.

Predictions advance lazily: each one carries a plan of timed steps (start, log lines, outputs,
end), and `advance()` applies the steps that are due whenever anyone looks at it. No task runs
per prediction; waiters sleep exactly until the next due step, or until `notify()` wakes them
(cancel, clock travel). A single optional scheduler task (started by the app's lifespan) drives
the predictions some listener wants pushed (webhooks) without anyone polling them.

The parts live beside it: the records in `_records`, what the API shows of models and
deployments in `_registry` (rebuilt by `reset()`), rate limits in `_limits`, injected faults in
`_faults`, counters in `_stats`.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio

from replicate_async.emulator._fake_models import FakeModel, Plan, make_plan
from replicate_async.emulator._faults import Faults
from replicate_async.emulator._limits import TokenBuckets
from replicate_async.emulator._records import TERMINAL, PredictionRecord, Training
from replicate_async.emulator._registry import Registry
from replicate_async.emulator._stats import Stats
from replicate_async.emulator._util import iso
from replicate_async.emulator._validation import InputValidator

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from replicate_async._config import BucketName, RateLimits
    from replicate_async.emulator._config import EmulatorConfig, FaultRule

Listener = Callable[[PredictionRecord, str], None]


class EmulatorState:
    """Everything an emulator instance knows; one per app, reachable as `app.state.emulator`.

    Args:
        config: The configuration (frozen); runtime switches are copied from it and reset by
            `reset()`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, config: EmulatorConfig) -> None:
        """Index the models, compile their validators, start empty."""
        self.config = config
        #: The configured fake models by `owner/name` and by version id (what runs; what the
        #: API shows of models, deployments and pushed versions is `registry`).
        self.models: dict[str, FakeModel] = {}
        self.versions: dict[str, FakeModel] = {}
        #: Input validators by version id (`validator()`).
        self.validators: dict[str, InputValidator] = {}
        for model in config.models:
            self.models[model.ref] = model
            self.versions[model.version_id] = model
            self.validators[model.version_id] = InputValidator(model.input_schema, model.components)
        self.tokens = frozenset(config.tokens)
        self.listeners: list[Listener] = []
        #: Objects other emulator modules attach by name (files store, webhook sender, ...): each
        #: has `reset()` (called by `reset()`) and `stats()` (added to `stats_snapshot()`).
        self.extensions: dict[str, Any] = {}
        self.connection_count: Callable[[], int] | None = None
        self.task_group: TaskGroup | None = None
        self.public_base = config.base_url
        self._offset = 0.0
        self._heap: list[tuple[float, int, PredictionRecord]] = []
        self._wakeup: anyio.Event | None = None
        self.reset()

    # -- runtime switches -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every prediction and counter; restore the configured switches.

        Models and deployments go back to the configured ones too: a fresh `registry` forgets
        what the API created, changed or deleted.

        .. versionadded:: 0.1.0
        """
        config = self.config
        self.predictions: dict[str, PredictionRecord] = {}
        self._offset = 0.0
        #: What the API shows of models, versions and deployments (see `_registry`).
        self.registry = Registry(config.models, config.deployments, iso(self.now()))
        self._trainings: list[PredictionRecord] = []
        self.stats = Stats()
        self.rng = random.Random(config.seed)  # noqa: S311 - not for security
        self.time_scale = config.time_scale
        self.retention = config.retention
        self.wait_returns_terminal = config.wait_returns_terminal
        self.wait_timeout_status = config.wait_timeout_status
        self.sync_data_urls = config.sync_data_urls
        self.vary_timestamp_precision = config.vary_timestamp_precision
        self.set_rate_limits(config.rate_limits)
        self.set_faults(config.faults)
        for extension in self.extensions.values():
            extension.reset()
        self._seq = 0
        self._heap.clear()
        waiting = list(self._waiting) if hasattr(self, "_waiting") else []
        self._waiting: set[PredictionRecord] = set()
        for record in waiting:
            self._notify(record)

    def set_rate_limits(self, limits: RateLimits) -> None:
        """Replace the token buckets (all start full).

        Args:
            limits: The new limits.

        .. versionadded:: 0.1.0
        """
        self.rate_limits = limits
        self._buckets = TokenBuckets(limits)

    def set_faults(self, rules: tuple[FaultRule, ...] | list[FaultRule]) -> None:
        """Replace the active fault rules.

        Args:
            rules: The rules; an empty sequence switches faults off.

        .. versionadded:: 0.1.0
        """
        self.faults = Faults(rules)

    def pick_faults(self, route: str, group: str | None) -> list[FaultRule]:
        """The fault rules that fire for one request (consuming their counts)."""
        fired = self.faults.pick(route, group, self.rng)
        for rule in fired:
            self.stats.faults_injected[rule.action] += 1
        return fired

    def take_token(self, token: str, bucket: BucketName) -> tuple[bool, int, int] | None:
        """Take from `token`'s bucket `bucket`; None when that bucket is off."""
        return self._buckets.take(token, bucket, time.monotonic())

    # -- clock ------------------------------------------------------------------------------

    def now(self) -> float:
        """The emulated wall clock (Unix seconds; real time plus any `travel()`)."""
        return time.time() + self._offset

    def travel(self, seconds: float) -> None:
        """Move the emulated clock forward (for retention and deadline tests) and wake waiters.

        Call it on the server's event loop thread (`EmulatorServer.call` does).

        Args:
            seconds: How far to jump.

        .. versionadded:: 0.1.0
        """
        self._offset += seconds
        for record in list(self._waiting):
            self._notify(record)
        self._wake_scheduler()

    def timestamp(self, value: float) -> str:
        """An API timestamp for emulated time `value`."""
        if self.vary_timestamp_precision:
            return iso(value, self.rng.choice((3, 6, 9)))
        return iso(value)

    # -- predictions ------------------------------------------------------------------------

    def create(
        self,
        model: FakeModel,
        prediction_input: dict[str, Any],
        *,
        version: str,
        deployment: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: list[str] | None = None,
        cancel_after: float | None = None,
        plan: Plan | None = None,
        training: Training | None = None,
    ) -> PredictionRecord:
        """Create and store a prediction (input already validated); it starts by itself.

        Args:
            model: The model to run.
            prediction_input: The input as submitted.
            version: The version string to report (`"hidden"` for official models).
            deployment: The deployment's `owner/name`, if created through one.
            webhook: The webhook URL, if any.
            webhook_events_filter: The webhook events asked for.
            cancel_after: Emulated seconds after creation before the deadline (unscaled).
            plan: What it does (default: `make_plan()` of the model and input).
            training: Set for a training (which shares the prediction id space).

        .. versionadded:: 0.1.0
        """
        now = self.now()
        self._sweep(now)
        self._seq += 1
        record = PredictionRecord(
            seq=self._seq,
            model=model,
            version=version,
            prediction_input=prediction_input,
            created_at=now,
            created_iso=self.timestamp(now),
        )
        if plan is None:
            plan = make_plan(model, prediction_input, self.rng)
        record.lay_out(plan, now, self.time_scale, cancel_after)
        record.deployment = deployment
        record.webhook = webhook
        record.webhook_events_filter = webhook_events_filter
        record.training = training
        self.predictions[record.id] = record
        if training is not None:
            self._trainings.append(record)
        self.stats.count_create(record.id, prediction_input)
        if self.listeners and webhook is not None:
            record.listened = True
        self.advance(record, now)
        if record.listened and not record.terminal:
            self.watch(record)
        return record

    def get(self, prediction_id: str) -> PredictionRecord | None:
        """The prediction with this id, advanced to now (None if unknown or forgotten).

        Args:
            prediction_id: Its id.

        .. versionadded:: 0.1.0
        """
        record = self.predictions.get(prediction_id)
        if record is not None:
            self.advance(record)
        return record

    def cancel(self, record: PredictionRecord) -> None:
        """Cancel a running prediction (a terminal one stays as it is).

        Args:
            record: The prediction.

        .. versionadded:: 0.1.0
        """
        now = self.now()
        self.advance(record, now)
        self.stats.cancels += 1
        if record.terminal:
            return
        if record.started_at is None:
            record.started_at = now
        record.canceled = True
        self._finish(record, "canceled", now)
        self._notify(record)

    def advance(self, record: PredictionRecord, now: float | None = None) -> None:
        """Apply every step of `record` that is due by `now` (default: the emulated clock).

        Args:
            record: The prediction.
            now: The emulated time to advance to.

        .. versionadded:: 0.1.0
        """
        if now is None:
            now = self.now()
        if record.terminal:
            self._expire(record, now)
            return
        limit = now
        deadline = record.deadline
        if deadline is not None and deadline <= now:
            limit = deadline
        changed = False
        if record.status == "starting" and record.start_at <= limit:
            record.status = "processing"
            record.started_at = record.start_at
            changed = True
            self._emit(record, "start")
        if record.status == "processing":
            changed = record.apply_steps(limit, self._emit) or changed
            if record.end_at <= limit:
                status = "succeeded" if record.plan_error is None else "failed"
                self._finish(record, status, record.end_at)
                changed = True
        if record.status not in TERMINAL and deadline is not None and deadline <= now:
            self._finish(record, "aborted" if record.status == "starting" else "canceled", deadline)
            changed = True
        if changed:
            self._notify(record)
        if record.status in TERMINAL:
            self._expire(record, now)

    def _finish(self, record: PredictionRecord, status: str, at: float) -> None:
        """Make `record` terminal with `status` at emulated time `at`, and say so.

        A training that succeeds pushes its new version to its destination.
        """
        record.finish(status, at)
        training = record.training
        if training is not None and status == "succeeded":
            self.registry.push_trained(
                training.destination, training.version, record.model, self.timestamp(at)
            )
        self._emit(record, "completed")

    def settle_trainings(self) -> None:
        """Advance every unfinished training, so the versions they pushed by now exist.

        .. versionadded:: 0.1.0
        """
        now = self.now()
        for record in self._trainings:
            self.advance(record, now)
        self._trainings = [r for r in self._trainings if not r.terminal]

    def validator(self, model: FakeModel) -> InputValidator:
        """The input validator of a model's version (compiled once, on first use).

        Args:
            model: The fake model a create runs.

        .. versionadded:: 0.1.0
        """
        found = self.validators.get(model.version_id)
        if found is None:
            found = InputValidator(model.input_schema, model.components)
            self.validators[model.version_id] = found
        return found

    def _expire(self, record: PredictionRecord, now: float) -> None:
        """Purge input, output, logs and events once retention has passed (files then 404)."""
        if record.data_removed or now < record.completed_at + self.retention:  # type: ignore[operator]
            return
        record.data_removed = True
        record.input = {}
        record.output = None
        record.logs = ""
        record.events = []

    def _sweep(self, now: float) -> None:
        """Forget the oldest predictions past retention and grace, or beyond the cap."""
        predictions = self.predictions
        horizon = self.retention + self.config.grace
        cap = self.config.max_predictions
        for _ in range(100):
            if not predictions:
                return
            oldest = next(iter(predictions.values()))
            if len(predictions) < cap:
                self.advance(oldest, now)
                if oldest.completed_at is None or now < oldest.completed_at + horizon:
                    return
            del predictions[oldest.id]

    def records(self) -> Iterator[PredictionRecord]:
        """Every stored prediction, newest first."""
        return reversed(self.predictions.values())

    # -- waiting and listeners --------------------------------------------------------------

    def _emit(self, record: PredictionRecord, event: str) -> None:
        """Tell listeners (webhooks) about a `start`/`output`/`logs`/`completed` event."""
        if record.listened:
            for listener in self.listeners:
                listener(record, event)

    def _notify(self, record: PredictionRecord) -> None:
        """Wake whoever waits on `record`."""
        waiter = record.waiter
        if waiter is not None:
            record.waiter = None
            self._waiting.discard(record)
            waiter.set()

    async def wait_for_change(
        self, record: PredictionRecord, seen: int, deadline: float | None = None
    ) -> bool:
        """Wait until `record` has more than `seen` events (True) or `deadline` passes (False).

        `deadline` is emulated time (compare `now()`); None waits as long as it takes. A
        terminal prediction returns at once once its events are past `seen`.

        Args:
            record: The prediction.
            seen: How many events the caller has already seen.
            deadline: Emulated time to give up at.

        .. versionadded:: 0.1.0
        """
        while True:
            now = self.now()
            self.advance(record, now)
            if len(record.events) > seen or record.data_removed:
                return True
            if deadline is not None and now >= deadline:
                return False
            wake = record.next_due()
            if deadline is not None:
                wake = min(wake, deadline)
            if record.waiter is None:
                record.waiter = anyio.Event()
                self._waiting.add(record)
            waiter = record.waiter
            with anyio.move_on_after(max(wake - now, 0.0) if wake != math.inf else None):
                await waiter.wait()

    async def wait_for_outputs(self, record: PredictionRecord, deadline: float) -> bool:
        """Wait until every output of `record` exists or it ends (True), or `deadline` (False).

        Args:
            record: The prediction.
            deadline: Emulated time to give up at.

        .. versionadded:: 0.1.0
        """
        while not record.outputs_done:
            if not await self.wait_for_change(record, len(record.events), deadline):
                return False
        return True

    def add_listener(self, listener: Listener) -> None:
        """Register a callback for `start`/`output`/`logs`/`completed` of predictions with a webhook.

        The callback runs synchronously inside `advance()`: it must only enqueue work. Predictions
        created with a webhook while a listener exists are driven by the scheduler, so their
        events fire on time even when nobody polls them.

        Args:
            listener: Called as `listener(record, event)`.

        .. versionadded:: 0.1.0
        """
        self.listeners.append(listener)

    def watch(self, record: PredictionRecord) -> None:
        """Have the scheduler advance `record` at each of its due times."""
        heapq.heappush(self._heap, (record.next_due(), record.seq, record))
        self._wake_scheduler()

    def _wake_scheduler(self) -> None:
        """Interrupt the scheduler's sleep."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def run_scheduler(self) -> None:
        """Advance watched predictions as their steps fall due (runs for the app's lifetime).

        .. versionadded:: 0.1.0
        """
        while True:
            now = self.now()
            while self._heap and self._heap[0][0] <= now:
                _, _, record = heapq.heappop(self._heap)
                self.advance(record, now)
                if not record.terminal:
                    heapq.heappush(self._heap, (record.next_due(), record.seq, record))
            self._wakeup = anyio.Event()
            timeout = self._heap[0][0] - now if self._heap else None
            with anyio.move_on_after(timeout):
                await self._wakeup.wait()

    def spawn(self, func: Callable[[], Any]) -> bool:
        """Start a background coroutine function in the app's task group (False without one).

        Args:
            func: An async callable without arguments.

        .. versionadded:: 0.1.0
        """
        if self.task_group is None:
            return False
        self.task_group.start_soon(func)
        return True

    # -- introspection ----------------------------------------------------------------------

    def stats_snapshot(self) -> dict[str, Any]:
        """The stats as JSON-able data (what `GET /_emulator/stats` answers).

        .. versionadded:: 0.1.0
        """
        connections = self.connection_count() if self.connection_count is not None else None
        snapshot = self.stats.snapshot(connections)
        for name, extension in self.extensions.items():
            snapshot[name] = extension.stats()
        return snapshot
