"""`replicate-async batch JOBS.jsonl`: many predictions at once, resumable, with a progress bar.

Beside ``JOBS.jsonl`` by default: the journal ``JOBS.journal`` (what makes a second run
resume), the results ``JOBS.results.jsonl`` and the files ``JOBS-output/``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import attrs

from replicate_async import AsyncClient, PostgresJournal
from replicate_async._client import DEFAULT_MAX_CONCURRENCY
from replicate_async.cli._inputs import read_jobs
from replicate_async.cli._output import files_in, jsonable, save_files, text_of
from replicate_async.cli._runtime import (
    FAILED,
    OK,
    Interrupt,
    UsageError,
    exit_code,
    run_async,
    say,
)
from replicate_async.cli._terminal import in_flight
from replicate_async.exceptions import (
    AuthenticationError,
    PermissionDeniedError,
    PredictionCanceled,
    PredictionError,
    PredictionFailed,
    PredictionTimeout,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from replicate_async import Job, ProgressEvent
    from replicate_async.cli._terminal import BatchBar, Terminal

__all__ = ["MAX_FAILURES_SHOWN", "BatchArgs", "batch_command", "default_paths"]

#: Failed jobs whose error line the summary prints (the results file has them all).
MAX_FAILURES_SHOWN: Final = 5


@attrs.frozen(kw_only=True)
class BatchArgs:
    """What `batch` was asked for (None: the default beside the jobs file)."""

    jobs: Path
    concurrency: int = 32
    journal: Path | str | None = None
    """A journal file, or a PostgreSQL URL with its batch name."""
    no_journal: bool = False
    output: Path | None = None
    results: str | None = None
    timeout: float | None = None


def default_paths(jobs: Path) -> tuple[Path, Path, Path]:
    """The journal, results and output folder beside *jobs*: ``x.journal``, ``x.results.jsonl``,
    ``x-output``."""
    stem = jobs.with_suffix("") if jobs.suffix else jobs
    return (
        stem.with_name(stem.name + ".journal"),
        stem.with_name(stem.name + ".results.jsonl"),
        stem.with_name(stem.name + "-output"),
    )


def _status(error: BaseException) -> str:
    """A failed job's status in the results file."""
    if isinstance(error, PredictionTimeout):
        return "timed_out"
    if isinstance(error, PredictionCanceled):
        return "canceled"
    if isinstance(error, PredictionFailed):
        return "failed"
    return "error"


@attrs.define
class _Tally:
    """What one model's jobs did."""

    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    files: int = 0


@attrs.define
class _Batch:
    """One batch's state while it runs."""

    args: BatchArgs
    jobs: list[Job]
    output: Path
    results_path: Path | None  # None: stdout
    results: TextIO | None = None
    bar: BatchBar | None = None
    ids: dict[int, str] = attrs.field(factory=dict)
    tallies: dict[str, _Tally] = attrs.field(factory=dict)
    resumed: int = 0
    running: int = 0
    written: int = 0
    fatal: BaseException | None = None
    failures: list[str] = attrs.field(factory=list)

    def on_progress(self, event: ProgressEvent) -> None:
        """Keep each job's prediction id; draw the bar."""
        if event.prediction_id is not None:
            self.ids[event.index] = event.prediction_id
        self.resumed = event.progress.resumed
        self.running = in_flight(event.progress)
        if self.bar is not None:
            self.bar.update(event.progress)

    def model(self, index: int) -> str:
        """The model of job *index* (without its version)."""
        ref = self.jobs[index].ref
        return str(ref).split(":", 1)[0]

    def write(self, line: dict[str, Any]) -> None:
        """One line of results; the file is opened (emptied) at the first, once the journal is ours."""
        if self.results is None:
            if self.results_path is None:
                self.results = sys.stdout
            else:
                try:
                    self.results = self.results_path.open("w", encoding="utf-8")
                except OSError as exc:
                    raise UsageError(
                        f"cannot write the results to {self.results_path}: {exc}"
                    ) from None
        self.results.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self.results.flush()
        self.written += 1

    def close(self) -> None:
        """Close the results file."""
        if self.results is not None and self.results is not sys.stdout:
            self.results.close()

    async def record(self, index: int, result: Any) -> None:
        """Save a finished job's files and write its line of results."""
        tally = self.tallies.setdefault(self.model(index), _Tally())
        line: dict[str, Any] = {"index": index, "model": str(self.jobs[index].ref)}
        if isinstance(result, BaseException):
            tally.failed += 1
            prediction = result.prediction if isinstance(result, PredictionError) else None
            line |= {
                "status": _status(result),
                "prediction_id": prediction.id if prediction else self.ids.get(index),
                "error": str(result),
            }
            self.failures.append(f"job {index} ({line['model']}): {result}")
        else:
            tally.succeeded += 1
            output = result  # file URLs are FileOutputs already (use_file_output)
            files = files_in(output)
            width = len(str(len(self.jobs) - 1))
            saved = await save_files(files, self.output, prefix=f"{index:0{width}d}-", replace=True)
            tally.files += len(saved)
            line |= {
                "status": "succeeded",
                "prediction_id": self.ids.get(index),
                "output": jsonable(output),
                "files": [str(path) for path in saved.values()],
            }
            text = text_of(output)
            if text is not None:
                line["text"] = text
        self.write(line)


async def _run(
    batch: _Batch, journal: Path | PostgresJournal | None, term: Terminal, interrupt: Interrupt
) -> None:
    """Run every job, recording each as it finishes; stop at the first authentication error."""
    args = batch.args
    concurrency = max(1, args.concurrency)
    async with AsyncClient(max_concurrency=max(concurrency, DEFAULT_MAX_CONCURRENCY)) as client:
        with term.batch_bar(len(batch.jobs), args.jobs.name) as bar:
            batch.bar = bar
            # An async generator (typed as an iterator): closed at once when left early.
            results: AsyncGenerator[tuple[int, Any]] = client.as_completed(  # type: ignore[assignment]
                batch.jobs,
                concurrency=concurrency,
                timeout=args.timeout,
                cancel_on_timeout=True,
                journal=journal,
                on_progress=batch.on_progress,
            )
            try:
                async with contextlib.aclosing(results) as finished:
                    async for index, result in finished:
                        if isinstance(result, AuthenticationError | PermissionDeniedError):
                            batch.fatal = result
                            break
                        await batch.record(index, result)
            except BaseException:
                note = f"{batch.written} of {len(batch.jobs)} jobs finished"
                if batch.running:
                    note += f", {batch.running} in flight canceled"
                if journal is not None:
                    note += f"; run the same command again to resume ({_where(journal)})"
                interrupt.note = note
                raise
            finally:
                batch.close()


def _summary(batch: _Batch, elapsed: float, term: Terminal, paths: dict[str, str]) -> None:
    """The table of models and the closing lines."""
    rows = [
        [model, t.jobs or t.succeeded + t.failed, t.succeeded, t.failed, t.files]
        for model, t in sorted(batch.tallies.items())
    ]
    to_stderr = batch.args.results == "-"
    term.table(["model", "jobs", "succeeded", "failed", "files"], rows, to_stderr=to_stderr)
    ok = sum(t.succeeded for t in batch.tallies.values())
    lines = [f"{ok} of {len(batch.jobs)} succeeded in {elapsed:.1f} s"]
    if batch.resumed:
        lines[0] += f" ({batch.resumed} taken from the journal)"
    lines += [f"{name}: {where}" for name, where in paths.items()]
    stream = sys.stderr if to_stderr else sys.stdout
    print("\n".join(lines), file=stream, flush=True)
    shown = batch.failures[:MAX_FAILURES_SHOWN]
    for failure in shown:
        say(failure)
    if len(batch.failures) > len(shown):
        say(f"... and {len(batch.failures) - len(shown)} more failed jobs in the results")


def batch_command(args: BatchArgs, term: Terminal) -> int:
    """`replicate-async batch`: exit 0 when every job succeeded, 1 when any failed."""
    jobs = read_jobs(args.jobs)  # every line checked before any create
    journal_default, results_default, output_default = default_paths(args.jobs)
    given = None if args.no_journal else (args.journal or journal_default)
    # A URL: checked (a batch name) before any create; shown without its password.
    journal = PostgresJournal(given) if isinstance(given, str) else given
    output = args.output or output_default
    results_path = None if args.results == "-" else Path(args.results or results_default)
    batch = _Batch(args=args, jobs=jobs, output=output, results_path=results_path)
    for index in range(len(jobs)):
        batch.tallies.setdefault(batch.model(index), _Tally()).jobs += 1
    started = time.monotonic()
    run_async(lambda interrupt: _run(batch, journal, term, interrupt))
    # The rest in its own function: coverage lost the lines of this frame after a run whose
    # tasks were cancelled (CPython 3.11), though not those of the frames it calls.
    return _finish(batch, journal, term, time.monotonic() - started)


def _where(journal: Path | PostgresJournal) -> str:
    """The journal as shown: its path, or its URL (without the password) and batch name."""
    return str(journal) if isinstance(journal, Path) else f"{journal.url}?batch={journal.batch}"


def _finish(
    batch: _Batch, journal: Path | PostgresJournal | None, term: Terminal, elapsed: float
) -> int:
    """After the run: the fatal error, or the summary; the exit code."""
    if batch.fatal is not None:
        say(str(batch.fatal))
        return exit_code(batch.fatal)
    results_path = batch.results_path
    paths = {"results": "stdout" if results_path is None else str(results_path)}
    if any(t.files for t in batch.tallies.values()):
        paths["files"] = str(batch.output)
    if isinstance(journal, Path):
        paths["journal"] = (
            f"{journal} (a second run takes finished jobs from it; delete it to start over)"
        )
    elif journal is not None:
        paths["journal"] = f"{_where(journal)} (shared by every worker given this URL)"
    _summary(batch, elapsed, term, paths)
    failed = sum(t.failed for t in batch.tallies.values())
    return FAILED if failed else OK
