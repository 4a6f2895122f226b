# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Many blocks' deadlines, kept by one timer of the event loop instead of one each.

A cancel scope given a deadline on asyncio schedules a timer of its own (``loop.call_at``)
and cancels it on exit. A fan-out polls thousands of predictions at once, each under its
run's deadline, which almost never passes (an hour by default): a timer per poll loop that
is pushed onto the loop's heap and cancelled again, its Python-level comparisons paid by
every other timer of the loop meanwhile. :class:`Deadlines` holds those deadlines in a heap
of its own (plain tuples, compared in C) and arms a single loop timer for the earliest; when
it fires, the scopes whose deadline has passed are cancelled (as their own timer would
have), and it is armed again for the next. A scope that leaves before its deadline is only
forgotten: no timer is touched. Under trio (no asyncio loop running) a scope simply gets
its deadline, as before: trio's deadlines are cheap.

:meth:`Deadlines.bound` is the block the poll loop runs in (``anyio.move_on_after``'s
behaviour): on asyncio a :class:`TaskDeadline`, which cancels its task natively as
``asyncio.timeout`` does, without the bookkeeping of an anyio cancel scope (a scope, two
sets, its registration with the task: three objects and 4 us per block, for every prediction
polled; the collector walks what every prediction in flight holds).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from typing import TYPE_CHECKING, Self

import anyio

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Deadlines", "TaskDeadline"]

#: Heap entries for scopes already gone, past which the heap is rebuilt from the live ones.
_SLACK = 64


class Deadlines:
    """The deadlines of the cancel scopes :meth:`keep` was given, on one event loop's timer."""

    __slots__ = ("_due", "_heap", "_live", "_loop", "_order", "_timer")

    def __init__(self) -> None:
        self._live: dict[int, anyio.CancelScope | TaskDeadline] = {}  # by entry number
        self._heap: list[tuple[float, int]] = []  # (deadline, entry number), some gone
        self._order = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due = math.inf  # when the timer fires

    def __len__(self) -> int:
        return len(self._live)

    def bound(self, deadline: float, *, native: bool = True) -> TaskDeadline | anyio.CancelScope:
        """A block of the running task left at *deadline* (the event loop's clock) if it has
        not ended by then, as ``anyio.move_on_after``: its ``cancelled_caught`` says so.

        On asyncio a :class:`TaskDeadline` kept here; under trio, or with *native* False, a
        cancel scope with the deadline (trio's deadlines are cheap). *native* False is for a
        block running code other than the library's (a caller's callback): that code may
        shield itself with an anyio scope, which only anyio's own cancellation respects.
        """
        if native:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass
            else:
                return TaskDeadline(self, deadline)
        return anyio.CancelScope(deadline=deadline)

    def keep(self, scope: anyio.CancelScope | TaskDeadline, deadline: float) -> int | None:
        """Cancel *scope* at *deadline* (the event loop's clock) unless :meth:`drop` comes first.

        Call it before entering the scope. Returns the entry to pass to :meth:`drop`; None
        when the scope was given the deadline itself (no asyncio loop running: trio). A
        deadline already past cancels it when the loop next runs its timers (at the block's
        first wait).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            assert isinstance(scope, anyio.CancelScope)  # noqa: S101 - a TaskDeadline needs asyncio
            scope.deadline = deadline
            return None
        if loop is not self._loop:  # the first use, or a client used on another loop now
            self._move_to(loop)
        entry = next(self._order)
        self._live[entry] = scope
        heap = self._heap
        heapq.heappush(heap, (deadline, entry))
        if len(heap) > 2 * len(self._live) + _SLACK:
            self._compact()
        if deadline < self._due:
            self._arm(deadline)
        return entry

    def drop(self, entry: int | None) -> None:
        """Forget the scope of *entry*: it left before its deadline (its timer stays armed)."""
        if entry is not None:
            self._live.pop(entry, None)

    def _move_to(self, loop: asyncio.AbstractEventLoop) -> None:
        """Keep deadlines on *loop* from now on (those of another loop are dropped with it)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._due = math.inf
        self._live.clear()
        self._heap.clear()
        self._loop = loop

    def _arm(self, due: float) -> None:
        """Fire at *due*, and no later than any timer armed before."""
        assert self._loop is not None  # noqa: S101 - armed only once a loop is known
        if self._timer is not None:
            self._timer.cancel()
        self._due = due
        self._timer = self._loop.call_at(due, self._fire)

    def _fire(self) -> None:
        """Cancel every scope past its deadline; arm for the next deadline."""
        assert self._loop is not None  # noqa: S101 - fires only on its loop
        self._timer = None
        self._due = math.inf
        now = self._loop.time()
        heap, live = self._heap, self._live
        while heap and (heap[0][0] <= now or heap[0][1] not in live):
            _, entry = heapq.heappop(heap)
            scope = live.pop(entry, None)
            if scope is not None:
                scope.cancel()
        if heap:
            self._arm(heap[0][0])

    def _compact(self) -> None:
        """Rebuild the heap from the live entries (memory stays bounded: promise 2)."""
        live = self._live
        self._heap = [item for item in self._heap if item[1] in live]
        heapq.heapify(self._heap)


class TaskDeadline:
    """A block of one asyncio task, left when its deadline passes (see :meth:`Deadlines.bound`).

    When its :class:`Deadlines` timer finds the deadline passed, the task is cancelled
    (``Task.cancel``); on exit the block undoes that cancellation (``Task.uncancel``), as
    ``asyncio.timeout`` does, and swallows it, as ``anyio.move_on_after`` does. A
    cancellation from elsewhere at the same time (an anyio scope around it, the caller) goes
    on. The task is only ever cancelled while it waits inside the block: the timer runs
    between the task's steps, and the block leaves the heap when it exits. Being native, the
    cancellation passes through an anyio shield inside the block: only the library's own
    code runs in one.
    """

    __slots__ = (
        "_cancelling",
        "_deadline",
        "_deadlines",
        "_entry",
        "_task",
        "cancel_called",
        "cancelled_caught",
    )

    def __init__(self, deadlines: Deadlines, deadline: float) -> None:
        """A block to be left at *deadline*, kept by *deadlines* once entered."""
        self._deadlines = deadlines
        self._deadline = deadline
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self._entry: int | None = None
        self.cancel_called = False
        """Whether the deadline passed while the block ran (its task was cancelled)."""
        self.cancelled_caught = False
        """Whether the block was left because its deadline passed."""

    def __enter__(self) -> Self:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - a block always runs in a task
            raise RuntimeError("a TaskDeadline is entered in a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._entry = self._deadlines.keep(self, self._deadline)
        return self

    def cancel(self) -> None:
        """The deadline passed: cancel the task (waiting inside the block)."""
        task = self._task
        if task is not None and not self.cancel_called:
            self.cancel_called = True
            task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._deadlines.drop(self._entry)
        task, self._task = self._task, None
        if not self.cancel_called or task is None:
            return False
        if task.uncancel() > self._cancelling:
            return False  # cancelled from elsewhere too: that goes on
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            self.cancelled_caught = True
            return True
        return False
