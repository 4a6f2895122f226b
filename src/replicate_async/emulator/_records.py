# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""One prediction's record: its identity, request, timed plan, and what has materialised so far.

A record lays its plan out on the emulated clock once (`lay_out()`), then applies the steps due
by a given time (`apply_steps()`) and ends (`finish()`); the state decides when, and tells the
listeners. The plan's steps are the record's own: nothing outside this module touches them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from replicate_async.emulator._util import new_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import anyio

    from replicate_async.emulator._fake_models import FakeModel, Plan

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
_STEP_LOG, _STEP_OUTPUT = 0, 1


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
        """A fresh, `starting` prediction without a plan (see `lay_out()`)."""
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

    def lay_out(
        self, plan: Plan, now: float, scale: float, cancel_after: float | None = None
    ) -> None:
        """Put `plan` on the emulated clock: it starts `plan.queue` after `now`, all times scaled.

        Args:
            plan: What the prediction does, in unscaled seconds.
            now: The emulated time of creation.
            scale: The emulator's time scale.
            cancel_after: Unscaled seconds after `now` before the deadline, if any.
        """
        self.start_at = start = now + plan.queue * scale
        self.end_at = start + plan.run * scale
        self.as_list = plan.as_list
        self.error = None
        self.metrics_extra = plan.metrics
        steps = [(start + t * scale, _STEP_LOG, line) for t, line in plan.logs]
        steps.extend((start + t * scale, _STEP_OUTPUT, item) for t, item in plan.outputs)
        steps.sort(key=lambda s: (s[0], s[1]))
        self._steps = steps
        self._pos = 0
        self.plan_error = plan.error
        if plan.as_list:
            self.output = []
        if cancel_after is not None:
            self.deadline = now + cancel_after * scale

    def apply_steps(self, limit: float, emit: Callable[[PredictionRecord, str], None]) -> bool:
        """Apply the log and output steps due by `limit`; whether any was.

        Args:
            limit: The emulated time to apply steps up to.
            emit: Told `(self, "logs")` or `(self, "output")` after each step.
        """
        steps = self._steps
        pos = start = self._pos
        while pos < len(steps) and steps[pos][0] <= limit:
            at, kind, value = steps[pos]
            pos += 1
            if kind == _STEP_LOG:
                self.logs += value + "\n"
                self.events.append(Event("logs", value, at))
                emit(self, "logs")
            else:
                if self.as_list:
                    self.output.append(value)
                else:
                    self.output = value
                self.events.append(Event("output", value, at))
                emit(self, "output")
        self._pos = pos
        return pos > start

    def finish(self, status: str, at: float) -> None:
        """Make the record terminal with `status` at emulated time `at` (the plan is spent).

        Args:
            status: `succeeded`, `failed`, `canceled` or `aborted`.
            at: The emulated completion time.
        """
        self.status = status
        self.completed_at = at
        if status == "failed":
            self.error = self.plan_error
            self.events.append(Event("error", self.error, at))
            self.events.append(Event("done", "error", at))
        elif status == "succeeded":
            self.events.append(Event("done", "", at))
        else:
            self.events.append(Event("done", "canceled", at))
        self._steps = []
        self._pos = 0

    def __repr__(self) -> str:
        """Short identity."""
        return f"<PredictionRecord {self.id} {self.model.ref} {self.status}>"
