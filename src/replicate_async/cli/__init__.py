"""The `replicate-async` command: run, stream and batch predictions; look up predictions and
models; serve the emulator; run the demo.

Exit codes: 0 success, 1 the prediction failed or was canceled (or another failure), 2 bad
usage or input, 3 authentication, 4 timeout, 130 interrupted. Live status lines and progress
bars need ``rich`` (``pip install 'replicate-async[cli]'``); without it the command prints the
same results, with nothing live.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replicate_async.cli._inputs import parse_inputs

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from replicate_async.cli._terminal import Terminal

__all__ = ["main", "parse_inputs"]

_EXIT_CODES = (
    "exit codes: 0 success, 1 the prediction failed or was canceled, 2 bad usage or input, "
    "3 authentication, 4 timeout, 130 interrupted"
)
_ENVIRONMENT = (
    "REPLICATE_API_TOKEN is the API token; REPLICATE_BASE_URL points the command at another "
    "API root, such as `replicate-async emulator`'s."
)


def _positive(text: str) -> float:
    """A number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _count(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _journal(text: str) -> Path | str:
    """A journal file, or a PostgreSQL URL (kept whole: a Path would fold its ``//``)."""
    return text if text.startswith(("postgresql://", "postgres://")) else Path(text)


def _wait(text: str) -> int:
    """Seconds for ``Prefer: wait``: 0 (none) to 60."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 60:  # noqa: PLR2004 - the API's limit
        raise argparse.ArgumentTypeError(f"must be 0 to 60, got {text!r}")
    return value


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ref", metavar="MODEL", help='"owner/name", "owner/name:version" or a version id'
    )
    parser.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input field; VALUE is JSON when it parses, else text; @path uploads a file",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=None,
        metavar="S",
        help="seconds to wait at most; then the prediction is canceled (exit 4)",
    )


def _run_parsers(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a model and print or save its output",
        description=(
            "Create a prediction, follow it (a live status line when stderr is a terminal) and "
            "print its output: a language model's text joined, files saved into --output with "
            "their paths printed, anything else as JSON. Ctrl-C and --timeout cancel it."
        ),
        epilog=_EXIT_CODES,
    )
    _add_inputs(run)
    run.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for output files (default: the current one; with --json: not saved)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the prediction as JSON: id, status, output (file URLs), metrics",
    )
    run.add_argument(
        "--wait",
        type=_wait,
        default=None,
        metavar="N",
        help="seconds the server may hold the create (0 to 60; default 5 on a terminal, else 60)",
    )

    stream = sub.add_parser(
        "stream",
        help="run a model and print its output as it is written",
        description=(
            "Create a prediction and print its output events as they come (a language model's "
            "tokens). A model that does not stream is followed until it ends instead."
        ),
        epilog=_EXIT_CODES,
    )
    _add_inputs(stream)

    batch = sub.add_parser(
        "batch",
        help="run many jobs from a JSONL file, resumably",
        description=(
            'Run every line of JOBS ({"model": "owner/name", "input": {...}}; "ref" or '
            '"version" may name the model, "key" the job in the journal), CONCURRENCY at a time, '
            "with a progress bar on a terminal. The journal makes a second run of the same "
            "file resume: finished jobs are taken from it, none is created twice."
        ),
        epilog=f"{_EXIT_CODES}; a batch exits 1 when any job failed",
    )
    batch.add_argument("jobs", type=Path, metavar="JOBS.jsonl", help="one job per line")
    batch.add_argument(
        "-c", "--concurrency", type=_count, default=32, help="jobs in flight at once (default: 32)"
    )
    batch.add_argument(
        "--journal",
        type=_journal,
        default=None,
        help="the journal: a file (default: JOBS.journal beside it), or "
        "postgresql://HOST/DB?batch=NAME to share the batch with workers on other machines",
    )
    batch.add_argument("--no-journal", action="store_true", help="run without a journal")
    batch.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for output files (default: JOBS-output beside it)",
    )
    batch.add_argument(
        "--results",
        default=None,
        metavar="PATH",
        help="JSONL of results, one line per job (default: JOBS.results.jsonl beside it; - for stdout)",
    )
    batch.add_argument(
        "--timeout", type=_positive, default=None, metavar="S", help="seconds each job may take"
    )


def _lookup_parsers(sub: Any) -> None:
    predictions = sub.add_parser("predictions", help="get, cancel or list predictions")
    psub = predictions.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("get", "show a prediction"), ("cancel", "cancel a prediction")):
        one = psub.add_parser(action, help=text, epilog=_EXIT_CODES)
        one.add_argument("prediction_id", metavar="ID")
        one.add_argument("--json", action="store_true", help="print it as JSON")
    listing = psub.add_parser("list", help="list your newest predictions", epilog=_EXIT_CODES)
    listing.add_argument("-n", "--limit", type=_count, default=20, help="how many (default: 20)")
    listing.add_argument("--json", action="store_true", help="print them as JSON")

    models = sub.add_parser("models", help="look up a model or its input schema")
    msub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = msub.add_parser("get", help="show a model", epilog=_EXIT_CODES)
    get.add_argument("model", metavar="OWNER/NAME")
    get.add_argument("--json", action="store_true", help="print it as JSON")
    schema = msub.add_parser(
        "schema", help="show the input fields of a model's latest version", epilog=_EXIT_CODES
    )
    schema.add_argument("model", metavar="OWNER/NAME")
    schema.add_argument("--json", action="store_true", help="print the input's JSON schema")


def _local_parsers(sub: Any) -> None:
    emu = sub.add_parser(
        "emulator",
        help="serve the Replicate API emulator on loopback",
        description=(
            "Serve the Replicate-compatible emulator (needs the [emulator] extra). It accepts any "
            "token unless --token is given, and prints the port it listens on."
        ),
    )
    emu.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    emu.add_argument(
        "--port", type=int, default=8000, help="TCP port; 0 for a free one (default: 8000)"
    )
    emu.add_argument("--token", default=None, help="accept only this token (default: any token)")
    emu.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="multiply every emulated duration (0.01 runs a 10 s model in 0.1 s)",
    )
    emu.add_argument(
        "--no-rate-limits", action="store_true", help="switch the emulated rate limits off"
    )

    demo = sub.add_parser(
        "demo",
        help="run a fan-out of mixed generations against an embedded emulator",
        description=(
            "Start the emulator on a free loopback port, run a few dozen mixed generations "
            "(images, text, audio, video) through AsyncClient at once, save every output file, "
            "and print what ran and where the files went."
        ),
    )
    demo.add_argument("--jobs", type=_count, default=36, help="number of generations (default: 36)")
    demo.add_argument(
        "--concurrency", type=_count, default=16, help="predictions in flight at once (default: 16)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("replicate-demo-output"),
        help="folder for the output files (default: ./replicate-demo-output)",
    )
    demo.add_argument(
        "--time-scale",
        type=_positive,
        default=0.02,
        help="emulated time per real second (default 0.02: a 2-minute video takes 2.4 s)",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("replicate-async")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replicate-async",
        description="An async-first client for the Replicate HTTP API.",
        epilog=f"{_ENVIRONMENT} {_EXIT_CODES}.",
    )
    parser.add_argument("--version", action="version", version=f"replicate-async {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _run_parsers(sub)
    _lookup_parsers(sub)
    _local_parsers(sub)
    return parser


def _run_or_stream(args: argparse.Namespace, term: Terminal) -> int:
    from replicate_async.cli import _run  # noqa: PLC0415
    from replicate_async.cli._inputs import check_ref  # noqa: PLC0415

    run_args = _run.RunArgs(
        ref=check_ref(args.ref),
        input=parse_inputs(args.input),
        output=getattr(args, "output", None),
        json=getattr(args, "json", False),
        timeout=args.timeout,
        wait=getattr(args, "wait", None),
    )
    if args.command == "run":
        return _run.run_command(run_args, term)
    return _run.stream_command(run_args, term)


def _batch(args: argparse.Namespace, term: Terminal) -> int:
    from replicate_async.cli._batch import BatchArgs, batch_command  # noqa: PLC0415

    batch_args = BatchArgs(
        jobs=args.jobs,
        concurrency=args.concurrency,
        journal=args.journal,
        no_journal=args.no_journal,
        output=args.output,
        results=args.results,
        timeout=args.timeout,
    )
    return batch_command(batch_args, term)


def _predictions(args: argparse.Namespace, term: Terminal) -> int:
    from replicate_async.cli import _api  # noqa: PLC0415

    if args.action == "list":
        return _api.predictions_list(limit=args.limit, as_json=args.json, term=term)
    act = _api.predictions_get if args.action == "get" else _api.predictions_cancel
    return act(args.prediction_id, as_json=args.json)


def _models(args: argparse.Namespace, term: Terminal) -> int:
    from replicate_async.cli import _api  # noqa: PLC0415

    if args.action == "get":
        return _api.models_get(args.model, as_json=args.json)
    return _api.models_schema(args.model, as_json=args.json, term=term)


def _emulator(args: argparse.Namespace, _term: Terminal) -> int:
    from replicate_async.cli._commands import emulator  # noqa: PLC0415

    return emulator(
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        rate_limits=not args.no_rate_limits,
        token=args.token,
    )


def _demo(args: argparse.Namespace, term: Terminal) -> int:
    from replicate_async.cli._demo import demo  # noqa: PLC0415

    return demo(
        jobs=args.jobs,
        concurrency=args.concurrency,
        out=args.out,
        time_scale=args.time_scale,
        term=term,
    )


#: What carries out each command (its modules are imported only when it runs).
_COMMANDS: dict[str, Callable[[argparse.Namespace, Terminal], int]] = {
    "run": _run_or_stream,
    "stream": _run_or_stream,
    "batch": _batch,
    "predictions": _predictions,
    "models": _models,
    "emulator": _emulator,
    "demo": _demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `replicate-async` command; returns its exit code.

    Args:
        argv: Arguments (default: `sys.argv[1:]`).

    .. versionadded:: 0.1.0
    """
    from replicate_async.cli._runtime import (  # noqa: PLC0415
        INTERRUPTED,
        Interrupted,
        UsageError,
        exit_code,
        say,
    )
    from replicate_async.exceptions import ReplicateError  # noqa: PLC0415

    args = _parser().parse_args(argv)
    try:
        from replicate_async.cli._terminal import Terminal  # noqa: PLC0415

        return _COMMANDS[args.command](args, Terminal())
    except Interrupted as exc:
        say(f"interrupted; {exc.note}" if exc.note else "interrupted")
        return INTERRUPTED
    except KeyboardInterrupt:
        say("interrupted")
        return INTERRUPTED
    except (ReplicateError, UsageError) as exc:
        say(str(exc))
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
