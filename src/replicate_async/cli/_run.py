"""`replicate-async run` and `stream`: one prediction, followed live, its output printed or saved."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio
import attrs

from replicate_async import AsyncClient, FileOutput, PredictionStatus
from replicate_async._cancellation import is_cancellation
from replicate_async._running import plan_run
from replicate_async._session import CANCEL_GRACE
from replicate_async.cli._output import (
    dumps,
    file_outputs,
    files_in,
    jsonable,
    prediction_json,
    save_files,
    text_of,
)
from replicate_async.cli._runtime import FAILED, OK, TIMEOUT, Interrupt, run_async, say
from replicate_async.cli._terminal import RunView, Terminal
from replicate_async.exceptions import (
    PredictionCanceled,
    PredictionFailed,
    PredictionTimeout,
    ReplicateError,
    StreamingNotSupportedError,
)

if TYPE_CHECKING:
    from replicate_async import Prediction

__all__ = ["RunArgs", "follow", "run_command", "stream_command"]

#: Seconds between polls: from the first, growing by half each time, up to the last.
POLL_FIRST: Final = 0.25
POLL_GROWTH: Final = 1.5
POLL_MOST: Final = 2.0

#: The create's ``Prefer: wait`` when --wait is not given: long for scripts (one request
#: is often all a run takes), short on a terminal so the status line shows the prediction.
WAIT_UNWATCHED: Final = 60
WAIT_WATCHED: Final = 5


@attrs.frozen(kw_only=True)
class RunArgs:
    """What `run` and `stream` were asked for."""

    ref: str
    input: dict[str, Any]
    output: Path | None = None
    json: bool = False
    timeout: float | None = None
    wait: int | None = None


class _Followed:
    """The prediction of a run as last seen (None while its create is out)."""

    prediction: Prediction | None = None


def _ended(prediction: Prediction | None) -> bool:
    return prediction is not None and prediction.status.is_terminal


async def _cancel(client: AsyncClient, prediction: Prediction | None) -> str:
    """Cancel an abandoned prediction remotely (shielded, bounded); say what became of it."""
    if prediction is None:
        # The library looked it up in the account's list and cancelled it (promise 4).
        return "its create had not returned; the prediction, if made, was canceled"
    if prediction.status.is_terminal:
        return f"prediction {prediction.id} had already ended ({prediction.status.value})"
    with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
        try:
            await client.predictions.cancel(prediction.id)
        except ReplicateError as exc:
            return (
                f"could not cancel prediction {prediction.id} ({exc}); "
                f"cancel it with: replicate-async predictions cancel {prediction.id}"
            )
        return f"prediction {prediction.id} canceled"
    return (
        f"prediction {prediction.id} did not answer the cancel in time; "
        f"cancel it with: replicate-async predictions cancel {prediction.id}"
    )


async def follow(
    client: AsyncClient, prediction: Prediction, view: RunView, seen: _Followed
) -> Prediction:
    """Poll *prediction* until its status is terminal, showing each state on *view*."""
    seen.prediction = prediction
    view.show(prediction)
    delay = POLL_FIRST
    while not prediction.status.is_terminal:
        await anyio.sleep(delay)
        delay = min(delay * POLL_GROWTH, POLL_MOST)
        prediction = await client.predictions.get(prediction.id)
        seen.prediction = prediction
        view.show(prediction)
    return prediction


def _wait(args: RunArgs, term: Terminal) -> int | Literal[False]:
    """The create's ``Prefer: wait``: --wait (0 for none), else by who is watching; at most half
    the timeout, so the prediction's id is known (and it can be canceled by id) before it ends."""
    wait = args.wait
    if wait is None:
        wait = WAIT_WATCHED if term.watched else WAIT_UNWATCHED
    if wait and args.timeout is not None:
        wait = max(1, min(wait, int(args.timeout / 2)))
    return wait or False


async def _run(args: RunArgs, term: Terminal, interrupt: Interrupt) -> int:
    """Create, follow until terminal (or the timeout, or Ctrl-C), then report."""
    _, create_wait, cancel_after = plan_run(_wait(args, term), args.timeout, cancel_on_timeout=True)
    seen = _Followed()
    view = RunView()
    async with AsyncClient() as client:
        with term.run_line(view), anyio.move_on_after(args.timeout or float("inf")) as deadline:
            try:
                # cancel_after: the server cancels it even if this process dies first.
                created = await client.predictions.create(
                    args.ref, args.input, wait=create_wait, cancel_after=cancel_after
                )
                prediction = await follow(client, created, view, seen)
            except BaseException as exc:
                if is_cancellation(exc) and not _ended(seen.prediction):
                    interrupt.note = await _cancel(client, seen.prediction)
                raise
        if deadline.cancelled_caught:
            say(
                f"timed out after {args.timeout:g} s; {interrupt.note or 'the prediction had ended'}"
            )
            return TIMEOUT
        return await _report(client, prediction, args, term, view)


async def _report(
    client: AsyncClient, prediction: Prediction, args: RunArgs, term: Terminal, view: RunView
) -> int:
    """Print a finished prediction's output (saving its files), or its error line."""
    if prediction.status is not PredictionStatus.SUCCEEDED:
        if args.json:
            print(dumps(prediction_json(prediction)), flush=True)
        failed = prediction.status is PredictionStatus.FAILED
        error = (PredictionFailed if failed else PredictionCanceled)(prediction=prediction)
        say(str(error))
        return FAILED
    output = file_outputs(client, prediction.output)
    files = files_in(output)
    saved = None
    if files and (args.output is not None or not args.json):
        saved = await save_files(files, args.output or Path())
    if args.json:
        print(dumps(prediction_json(prediction, saved=saved)), flush=True)
    else:
        _print_output(output, saved)
    metrics = prediction.metrics
    took = (
        f" (predict time {metrics.predict_time:.1f} s)" if metrics and metrics.predict_time else ""
    )
    term.note(f"{prediction.id} succeeded in {view.elapsed()}{took}")
    return OK


def _print_output(output: Any, saved: dict[str, Path] | None) -> None:
    """A person's view of an output: text as text, files as the paths they were saved to."""
    text = text_of(output)
    if text is not None:
        print(text, flush=True)
        return
    items = output if isinstance(output, list | tuple) else [output]
    if saved and all(isinstance(item, FileOutput) for item in items):
        for item in items:
            print(saved[item.url], flush=True)
        return
    if output is not None:
        print(dumps(jsonable(output, saved)), flush=True)


def run_command(args: RunArgs, term: Terminal) -> int:
    """`replicate-async run`."""
    return run_async(lambda interrupt: _run(args, term, interrupt))


async def _stream(args: RunArgs, term: Terminal, interrupt: Interrupt) -> int:
    """Print the output events as they come; a model that does not stream is followed instead."""
    out = sys.stdout
    ended_with_newline = True
    async with AsyncClient() as client:
        stream = client.stream(args.ref, args.input, timeout=args.timeout, cancel_on_timeout=True)
        try:
            async with stream:
                async for event in stream:
                    if event.event == "output" and event.data:
                        out.write(event.data)
                        out.flush()
                        ended_with_newline = event.data.endswith("\n")
        except StreamingNotSupportedError as exc:
            view = RunView()
            seen = _Followed()
            with term.run_line(view):
                try:
                    prediction = await follow(client, exc.prediction, view, seen)
                except BaseException as inner:
                    if is_cancellation(inner) and not _ended(seen.prediction):
                        interrupt.note = await _cancel(client, seen.prediction)
                    raise
            return await _report(client, prediction, args, term, view)
        except PredictionTimeout as exc:
            say(f"{exc}; it was canceled")
            return TIMEOUT
        except BaseException as exc:
            if is_cancellation(exc):
                made = stream.prediction
                interrupt.note = (
                    f"prediction {made.id} canceled"
                    if made is not None
                    else "its create had not returned; the prediction, if made, was canceled"
                )
            raise
        finally:
            if not ended_with_newline:
                out.write("\n")
                out.flush()
    return OK


def stream_command(args: RunArgs, term: Terminal) -> int:
    """`replicate-async stream`."""
    return run_async(lambda interrupt: _stream(args, term, interrupt))
