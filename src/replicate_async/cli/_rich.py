"""The live parts drawn with rich: a run's status line, a batch's bar, tables.

Imported only by `_terminal`, and only when rich is installed and stderr is a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from replicate_async.cli._terminal import RunView

__all__ = ["ProgressBar", "RunLine", "print_table"]

_STATUS_STYLES = {
    "starting": "yellow",
    "processing": "cyan",
    "succeeded": "green",
    "failed": "red",
    "canceled": "magenta",
    "aborted": "magenta",
}


class RunLine:
    """One run's status line: a spinner, then id, status, elapsed, progress, last log line."""

    def __init__(self, view: RunView, stream: TextIO) -> None:
        self._view = view
        self._spinner = Spinner("dots", style="cyan")
        self._console = Console(file=stream, highlight=False)
        # transient: the line goes when the run ends, leaving the screen to the result.
        self._live = Live(self, console=self._console, refresh_per_second=10, transient=True)

    def __rich__(self) -> Spinner:
        """Re-read the view at each refresh, so the elapsed time runs between polls."""
        view = self._view
        text = Text(view.line(), no_wrap=True, overflow="ellipsis")
        if view.prediction_id:
            text.stylize("bold", 0, len(view.prediction_id))
        start = text.plain.find(view.status)
        if start >= 0:
            text.stylize(_STATUS_STYLES.get(view.status, ""), start, start + len(view.status))
        text.truncate(max(self._console.width - 3, 10), overflow="ellipsis")
        self._spinner.update(text=text)
        return self._spinner

    def start(self) -> None:
        """Start drawing."""
        self._live.start()

    def stop(self) -> None:
        """Stop drawing and clear the line."""
        self._live.stop()


class _RateColumn(ProgressColumn):
    """Jobs finished per second since the start."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f}/s", style="progress.data.speed")


class ProgressBar:
    """A batch's bar: done of total, succeeded, failed, running, rate, elapsed and ETA."""

    def __init__(self, total: int, description: str, stream: TextIO) -> None:
        self._progress = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=stream, highlight=False),
            refresh_per_second=8,
        )
        self._task = self._progress.add_task(description, total=total, counts="")

    def update(self, *, succeeded: int, failed: int, running: int, resumed: int) -> None:
        """Show the batch's counters."""
        counts = f"[green]{succeeded} ok[/] [red]{failed} failed[/] [cyan]{running} running[/]"
        if resumed:
            counts += f" ({resumed} resumed)"
        self._progress.update(self._task, completed=succeeded + failed, counts=counts)

    def start(self) -> None:
        """Start drawing."""
        self._progress.start()

    def stop(self) -> None:
        """Draw the last state and stop (the bar stays on the screen)."""
        self._progress.refresh()
        self._progress.stop()


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    stream: TextIO,
    *,
    title: str | None = None,
) -> None:
    """A table drawn by rich, numbers right-aligned."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, header in enumerate(headers):
        numeric = bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        table.add_column(header, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    Console(file=stream, highlight=False).print(table)
