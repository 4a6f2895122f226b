"""The `replicate-async` command: the emulator, a fan-out demo, and one-off runs.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replicate-async",
        description="An async-first client for the Replicate HTTP API.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emu = sub.add_parser(
        "emulator",
        help="serve the Replicate API emulator on loopback",
        description="Serve the Replicate-compatible emulator (needs the [emulator] extra).",
    )
    emu.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    emu.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    emu.add_argument(
        "--time-scale",
        type=float,
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
    demo.add_argument("--jobs", type=int, default=36, help="number of generations (default: 36)")
    demo.add_argument(
        "--concurrency", type=int, default=16, help="predictions in flight at once (default: 16)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("replicate-demo-output"),
        help="folder for the output files (default: ./replicate-demo-output)",
    )
    demo.add_argument(
        "--time-scale",
        type=float,
        default=0.02,
        help="emulated time per real second (default 0.02: a 2-minute video takes 2.4 s)",
    )

    run = sub.add_parser(
        "run",
        help="run one model and print its output",
        description=(
            "Run a model on Replicate (or REPLICATE_BASE_URL) and print its output as JSON; "
            "file outputs are saved into --out when given, else printed as URLs."
        ),
    )
    run.add_argument("ref", help='"owner/name", "owner/name:version" or a 64-hex version id')
    run.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input field (VALUE is parsed as JSON when it can be, else taken as text)",
    )
    run.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")
    run.add_argument("--out", type=Path, default=None, help="folder to save output files into")
    return parser


def parse_inputs(pairs: Sequence[str]) -> dict[str, object]:
    """Turn `KEY=VALUE` pairs into an input mapping (values parsed as JSON when possible).

    Args:
        pairs: The `KEY=VALUE` strings.

    .. versionadded:: 0.1.0
    """
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"replicate-async: input {pair!r} is not KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `replicate-async` command.

    Args:
        argv: Arguments (default: `sys.argv[1:]`).

    .. versionadded:: 0.1.0
    """
    args = _parser().parse_args(argv)
    if args.command == "emulator":
        from replicate_async.cli._commands import emulator  # noqa: PLC0415

        return emulator(
            host=args.host,
            port=args.port,
            time_scale=args.time_scale,
            rate_limits=not args.no_rate_limits,
        )
    if args.command == "demo":
        from replicate_async.cli._demo import demo  # noqa: PLC0415

        return demo(
            jobs=args.jobs, concurrency=args.concurrency, out=args.out, time_scale=args.time_scale
        )
    from replicate_async.cli._commands import run_one  # noqa: PLC0415

    return run_one(args.ref, parse_inputs(args.input), timeout=args.timeout, out=args.out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
