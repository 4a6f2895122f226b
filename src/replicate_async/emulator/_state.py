# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The emulator's state: predictions and their event history, stats, rate limits, faults.

Predictions advance lazily: each one carries a plan of timed steps (start, log lines, outputs,
end), and `advance()` applies the steps that are due whenever anyone looks at it. No task runs
per prediction; waiters sleep exactly until the next due step, or until `notify()` wakes them
(cancel, clock travel). A single optional scheduler task (started by the app's lifespan) drives
the predictions some listener wants pushed (webhooks) without anyone polling them.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio
import attrs

from replicate_async.emulator._fake_models import FakeModel, Plan, make_plan
from replicate_async.emulator._util import iso, new_id
from replicate_async.emulator._validation import InputValidator

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from replicate_async.emulator._config import (
        EmulatorConfig,
        FaultRule,
        RateLimit,
        RateLimits,
    )

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
_STEP_LOG, _STEP_OUTPUT = 0, 1
_MAX_INPUT_KEYS = 100_000


class Event(NamedTuple):
    """One entry of a prediction's append-only event history (what a stream replays).

    `kind` is `output` (data: the output item, a str or a `FileItem`), `logs` (data: one line,
    without newline), `error` (data: the error text) or `done` (data: `""`, `"canceled"` or
    `"error"`, the SSE `reason`). `at` is the emulated wall-clock time it happened.
    """

    kind: str
    data: Any
    at: float


@attrs.frozen
class Training:
    """What makes a prediction record a training: its destination and the version it creates."""

    destination: str
    version: str


class PredictionRecord:
    """One prediction (or training): identity, request, plan, and what has materialised so far."""

    __slots__ = (
        "_pos",
        "_steps",
        "as_list",
        "canceled",
        "completed_at",
        "created_at",
        "created_iso",
        "data_removed",
        "deadline",
        "deployment",
        "end_at",
        "error",
        "events",
        "id",
        "input",
        "listened",
        "logs",
        "metrics_extra",
        "model",
        "output",
        "plan_error",
        "seq",
        "start_at",
        "started_at",
        "status",
        "training",
        "version",
        "waiter",
        "webhook",
        "webhook_events_filter",
    )

    def __init__(
        self,
        *,
        seq: int,
        model: FakeModel,
        version: str,
        prediction_input: dict[str, Any],
        created_at: float,
        created_iso: str,
    ) -> None:
        """A fresh, `starting` prediction (its plan is set by the state)."""
        self.id = new_id()
        self.seq = seq
        self.model = model
        self.version = version
        self.input = prediction_input
        self.created_at = created_at
        self.created_iso = created_iso
        self.status = "starting"
        self.started_at: float | None = None
        self.completed_at: float | None = None
        self.output: Any = None
        self.logs = ""
        self.error: str | None = None
        self.events: list[Event] = []
        self.data_removed = False
        self.canceled = False
        self.deadline: float | None = None
        self.deployment: str | None = None
        self.webhook: str | None = None
        self.webhook_events_filter: list[str] | None = None
        self.waiter: anyio.Event | None = None
        self.listened = False
        self.start_at = created_at
        self.end_at = created_at
        self.as_list = False
        self.metrics_extra: Mapping[str, Any] = {}
        self.plan_error: str | None = None
        self.training: Training | None = None
        self._steps: list[tuple[float, int, Any]] = []
        self._pos = 0

    @property
    def terminal(self) -> bool:
        """Whether the status is terminal (as materialised)."""
        return self.status in TERMINAL

    @property
    def outputs_done(self) -> bool:
        """Whether every output exists (the point a `Prefer: wait` answers)."""
        return self.terminal or (self._pos >= len(self._steps) and self.status == "processing")

    def next_due(self) -> float:
        """When the next step is due (math.inf when nothing more will happen by itself)."""
        if self.terminal:
            return math.inf
        due = self.start_at if self.status == "starting" else self.end_at
        if self.status == "processing" and self._pos < len(self._steps):
            due = self._steps[self._pos][0]
        if self.deadline is not None:
            due = min(due, self.deadline)
        return due

    def __repr__(self) -> str:
        """Short identity."""
        return f"<PredictionRecord {self.id} {self.model.ref} {self.status}>"


Listener = Callable[[PredictionRecord, str], None]


class Bucket:
    """A token bucket."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, limit: RateLimit, now: float) -> None:
        """A full bucket."""
        self.capacity = limit.capacity
        self.rate = limit.per_minute / 60.0
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> tuple[bool, int, int]:
        """Take one token: (allowed, remaining, seconds until reset or retry)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            reset = max(1, math.ceil((self.capacity - self.tokens) / self.rate)) if self.rate else 1
            return True, int(self.tokens), min(reset, 60)
        wait = math.ceil((1 - self.tokens) / self.rate) if self.rate else 60
        return False, 0, max(1, wait)


@attrs.define
class Stats:
    """Counters for tests (see `snapshot()` for the JSON shape)."""

    creates: int = 0
    creates_by_input: Counter[str] = attrs.field(factory=Counter)
    requests: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    throttled: int = 0
    cancels: int = 0
    faults_injected: Counter[str] = attrs.field(factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0
    peak_connections: int = 0
    file_requests: int = 0
    file_requests_with_authorization: int = 0
    prediction_ids: deque[str] = attrs.field(factory=lambda: deque(maxlen=100_000))

    def snapshot(self, connections: int | None) -> dict[str, Any]:
        """A JSON-able copy."""
        by_route: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(self.requests.items()):
            by_route.setdefault(route, {})[str(status)] = n
        return {
            "creates": self.creates,
            "creates_by_input": dict(self.creates_by_input),
            "requests": by_route,
            "throttled": self.throttled,
            "cancels": self.cancels,
            "faults_injected": dict(self.faults_injected),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "connections": connections,
            "peak_connections": self.peak_connections,
            "file_requests": self.file_requests,
            "file_requests_with_authorization": self.file_requests_with_authorization,
            "authorization_seen_on_files": self.file_requests_with_authorization > 0,
            "prediction_ids": list(self.prediction_ids),
        }


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    """Canonical JSON of an input (sorted keys, compact), the key of `creates_by_input`."""
    return _CANONICAL.encode(value)


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
        self.models: dict[str, FakeModel] = {}
        self.versions: dict[str, FakeModel] = {}
        self.validators: dict[str, InputValidator] = {}
        for model in config.models:
            self.models[model.ref] = model
            self.versions[model.version_id] = model
            self.validators[model.ref] = InputValidator(model.input_schema, model.components)
        self.deployments: dict[str, FakeModel] = {}
        for deployment in config.deployments:
            if deployment.model not in self.models:
                raise ValueError(
                    f"deployment {deployment.name} runs unknown model {deployment.model}"
                )
            self.deployments[deployment.name] = self.models[deployment.model]
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

        .. versionadded:: 0.1.0
        """
        config = self.config
        self.predictions: dict[str, PredictionRecord] = {}
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
        self._offset = 0.0
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
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def set_faults(self, rules: tuple[FaultRule, ...] | list[FaultRule]) -> None:
        """Replace the active fault rules.

        Args:
            rules: The rules; an empty sequence switches faults off.

        .. versionadded:: 0.1.0
        """
        self.faults: list[list[Any]] = [[rule, rule.count] for rule in rules]

    def pick_faults(self, route: str, group: str | None) -> list[FaultRule]:
        """The fault rules that fire for one request (consuming their counts)."""
        fired = []
        for entry in self.faults:
            rule: FaultRule = entry[0]
            if rule.route not in ("*", route, group) or rule.action == "drop_stream":
                continue
            if entry[1] is not None and entry[1] <= 0:
                continue
            if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                continue
            if entry[1] is not None:
                entry[1] -= 1
            fired.append(rule)
            self.stats.faults_injected[rule.action] += 1
        return fired

    def take_token(self, token: str, bucket: str) -> tuple[bool, int, int] | None:
        """Take from `token`'s bucket `bucket`; None when that bucket is off."""
        limit: RateLimit | None = getattr(self.rate_limits, bucket)
        if limit is None:
            return None
        key = (token, bucket)
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = Bucket(limit, time.monotonic())
        return found.take(time.monotonic())

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
        scale = self.time_scale
        record.start_at = start = now + plan.queue * scale
        record.end_at = start + plan.run * scale
        record.as_list = plan.as_list
        record.error = None
        record.metrics_extra = plan.metrics
        steps = [(start + t * scale, _STEP_LOG, line) for t, line in plan.logs]
        steps.extend((start + t * scale, _STEP_OUTPUT, item) for t, item in plan.outputs)
        steps.sort(key=lambda s: (s[0], s[1]))
        record._steps = steps  # noqa: SLF001 - the state owns the record
        record.plan_error = plan.error
        if plan.as_list:
            record.output = []
        if cancel_after is not None:
            record.deadline = now + cancel_after * scale
        record.deployment = deployment
        record.webhook = webhook
        record.webhook_events_filter = webhook_events_filter
        record.training = training
        self.predictions[record.id] = record
        stats = self.stats
        stats.creates += 1
        stats.prediction_ids.append(record.id)
        key = canonical(prediction_input)
        if key in stats.creates_by_input or len(stats.creates_by_input) < _MAX_INPUT_KEYS:
            stats.creates_by_input[key] += 1
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
            changed = self._apply_steps(record, limit) or changed
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

    def _apply_steps(self, record: PredictionRecord, limit: float) -> bool:
        """Apply the log and output steps due by `limit`; whether any was."""
        steps = record._steps  # noqa: SLF001
        pos = start = record._pos  # noqa: SLF001
        while pos < len(steps) and steps[pos][0] <= limit:
            at, kind, value = steps[pos]
            pos += 1
            if kind == _STEP_LOG:
                record.logs += value + "\n"
                record.events.append(Event("logs", value, at))
                self._emit(record, "logs")
            else:
                if record.as_list:
                    record.output.append(value)
                else:
                    record.output = value
                record.events.append(Event("output", value, at))
                self._emit(record, "output")
        record._pos = pos  # noqa: SLF001
        return pos > start

    def _finish(self, record: PredictionRecord, status: str, at: float) -> None:
        """Make `record` terminal with `status` at emulated time `at`."""
        record.status = status
        record.completed_at = at
        if status == "failed":
            record.error = record.plan_error
            record.events.append(Event("error", record.error, at))
            record.events.append(Event("done", "error", at))
        elif status == "succeeded":
            record.events.append(Event("done", "", at))
        else:
            record.events.append(Event("done", "canceled", at))
        record._steps = []  # noqa: SLF001 - the plan is spent
        record._pos = 0  # noqa: SLF001
        self._emit(record, "completed")

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
