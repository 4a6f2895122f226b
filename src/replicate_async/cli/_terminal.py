"""The terminal: a live status line and progress bars on stderr, tables on stdout.

Live output needs stderr to be a terminal and ``rich`` to be installed (the ``cli`` extra,
``pip install 'replicate-async[cli]'``; the ``emulator`` extra brings it too). Without
either, commands print the same results with nothing live: a pipe or a file gets only
results on stdout and one-line errors on stderr. ``rich`` is imported here only when a
live line or a rich table is drawn, never by the library.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from replicate_async.cli._output import last_log_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from replicate_async import Prediction, Progress

__all__ = ["BatchBar", "RunView", "Terminal", "in_flight", "plain_table"]


def _is_terminal(stream: TextIO) -> bool:
    """Whether *stream* is a terminal a person watches."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


def rich_installed() -> bool:
    """Whether ``rich`` can be imported (the ``cli`` extra)."""
    return importlib.util.find_spec("rich") is not None


def _seconds(value: float) -> str:
    """``4.2s``, ``1m05s``, ``2h03m``."""
    if value < 60:  # noqa: PLR2004
        return f"{value:.1f}s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@attrs.define
class RunView:
    """What the status line of one run shows: id, status, elapsed, progress, last log line."""

    started: float = attrs.field(factory=time.monotonic)
    prediction_id: str | None = None
    status: str = "creating"
    fraction: float | None = None
    log: str = ""

    def show(self, prediction: Prediction) -> None:
        """Take the latest state of the prediction."""
        self.prediction_id = prediction.id
        self.status = prediction.status.value
        self.log = last_log_line(prediction.logs)
        progress = prediction.progress  # the last tqdm-like bar in the logs, if any
        self.fraction = progress.percentage if progress is not None else None

    def elapsed(self, now: float | None = None) -> str:
        """Time since the run started, as people read it."""
        return _seconds((time.monotonic() if now is None else now) - self.started)

    def line(self, now: float | None = None) -> str:
        """The status line's text."""
        parts = [self.prediction_id or "", self.status, self.elapsed(now)]
        if self.fraction is not None:
            parts.append(f"{self.fraction:4.0%}")
        if self.log:
            parts.append(self.log)
        return "  ".join(part for part in parts if part)


def in_flight(progress: Progress) -> int:
    """Jobs started and not finished: created (or taken from the journal) and not yet done.

    ``Progress.running`` counts only predictions whose create has returned; a create held open
    by ``Prefer: wait`` is in flight too.
    """
    return max(0, progress.submitted + progress.resumed - progress.done)


class BatchBar:
    """A batch's progress bar (done, failed, running, rate, ETA), or nothing when not live."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar

    @property
    def drawn(self) -> bool:
        """Whether a bar is drawn (a terminal with rich)."""
        return self._bar is not None

    def update(self, progress: Progress) -> None:
        """Show the batch's counters."""
        if self._bar is not None:
            self._bar.update(
                succeeded=progress.succeeded,
                failed=progress.failed,
                running=in_flight(progress),
                resumed=progress.resumed,
            )


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns separated by two spaces, numbers right-aligned."""
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in r] for r in rows]]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) for r in rows) for i in range(len(headers))
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            cell.rjust(width) if number else cell.ljust(width)
            for cell, width, number in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


class Terminal:
    """Where a command writes: results to stdout, live lines and notes to stderr.

    Args:
        stdout: Where results go (``sys.stdout``).
        stderr: Where errors, notes and live lines go (``sys.stderr``).
    """

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        #: stderr is a terminal: notes for the person watching go there.
        self.watched = _is_terminal(self.stderr)
        #: ... and rich is installed: lines and bars are drawn live.
        self.live = self.watched and rich_installed()

    def note(self, message: str) -> None:
        """A line for the person watching (on stderr, only when it is a terminal)."""
        if self.watched:
            print(message, file=self.stderr, flush=True)

    @contextlib.contextmanager
    def run_line(self, view: RunView) -> Iterator[RunView]:
        """Draw *view* as a live line on stderr while the block runs (nothing when not live)."""
        if not self.live:
            yield view
            return
        from replicate_async.cli._rich import RunLine  # noqa: PLC0415 - rich only when drawn

        line = RunLine(view, self.stderr)
        line.start()
        try:
            yield view
        finally:
            line.stop()

    @contextlib.contextmanager
    def batch_bar(self, total: int, description: str) -> Iterator[BatchBar]:
        """A progress bar on stderr while the block runs (a bar that does nothing when not live)."""
        if not self.live:
            yield BatchBar(None)
            return
        from replicate_async.cli._rich import ProgressBar  # noqa: PLC0415 - rich only when drawn

        bar = ProgressBar(total, description, self.stderr)
        bar.start()
        try:
            yield BatchBar(bar)
        finally:
            bar.stop()

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        to_stderr: bool = False,
        title: str | None = None,
    ) -> None:
        """Print a table: drawn by rich on a terminal, plain aligned columns otherwise."""
        stream = self.stderr if to_stderr else self.stdout
        if _is_terminal(stream) and rich_installed():
            from replicate_async.cli._rich import print_table  # noqa: PLC0415

            print_table(headers, rows, stream, title=title)
            return
        if title:
            print(title, file=stream)
        print(plain_table(headers, rows), file=stream, flush=True)
