"""How a command runs: its event loop, Ctrl-C, and the exit code of each error.

Exit codes (PRODUCT.md, "The command line"): 0 success, 1 the prediction failed or was
canceled (or any other failure), 2 bad usage or input, 3 authentication, 4 timeout,
130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Final, TypeVar

import anyio

from replicate_async.exceptions import (
    AuthenticationError,
    FileExpiredError,
    JournalError,
    NotFoundError,
    PermissionDeniedError,
    PredictionTimeout,
    RequestTimeout,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = [
    "AUTH",
    "FAILED",
    "INTERRUPTED",
    "OK",
    "TIMEOUT",
    "USAGE",
    "Interrupt",
    "Interrupted",
    "UsageError",
    "exit_code",
    "run_async",
    "say",
]

T = TypeVar("T")

OK: Final = 0
FAILED: Final = 1
USAGE: Final = 2
AUTH: Final = 3
TIMEOUT: Final = 4
INTERRUPTED: Final = 130


class UsageError(Exception):
    """Bad arguments or input, found before anything was sent (exit 2)."""


class Interrupted(Exception):  # noqa: N818 - what happened, not an error of the program
    """Ctrl-C ended the command; ``note`` says what became of its predictions."""

    def __init__(self, note: str | None) -> None:
        super().__init__(note)
        self.note = note


class Interrupt:
    """What a command tells the Ctrl-C handler: a note for the one line printed (set as it goes)."""

    def __init__(self) -> None:
        self.note: str | None = None
        self.requested = False


def say(message: str) -> None:
    """One line on stderr, prefixed with the command's name."""
    print(f"replicate-async: {message}", file=sys.stderr, flush=True)


def exit_code(exc: BaseException) -> int:
    """The exit code for an error that ended a command."""
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return AUTH
    if isinstance(exc, PredictionTimeout | RequestTimeout):
        return TIMEOUT
    if isinstance(exc, FileExpiredError):
        return FAILED
    if isinstance(exc, UsageError | ValidationError | NotFoundError | JournalError):
        return USAGE
    return FAILED


def run_async(body: Callable[[Interrupt], Awaitable[T]]) -> T:
    """Run *body* on an event loop; the first Ctrl-C cancels it, the second exits at once.

    Cancelling lets the library (and the commands) cancel their remote predictions,
    shielded and bounded, before the loop ends; then :class:`Interrupted` is raised with
    the note *body* left. A second Ctrl-C while that cleanup runs exits with 130 at once.
    """
    interrupt = Interrupt()

    async def main() -> T:
        results: list[T] = []
        errors: list[Exception] = []
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        if interrupt.requested:
                            say("interrupted again: exiting without waiting for the cleanup")
                            os._exit(INTERRUPTED)
                        interrupt.requested = True
                        group.cancel_scope.cancel()

            async def run() -> None:
                # A child task, not the host: a scope cancelled in the host task stopped
                # coverage's tracing for the rest of the process (seen with CPython 3.11 and
                # coverage 7.18), and an error raised in the host would come out of the task
                # group wrapped in an exception group.
                try:
                    results.append(await body(interrupt))
                except Exception as exc:  # noqa: BLE001 - raised below, outside the task group
                    errors.append(exc)
                finally:
                    group.cancel_scope.cancel()

            group.start_soon(watch)
            group.start_soon(run)
        if interrupt.requested:
            raise Interrupted(interrupt.note)
        if errors:
            raise errors[0]
        return results[0]

    try:
        return anyio.run(main)
    except KeyboardInterrupt:
        # Before the loop's signal receiver was in place (or where there is none).
        raise Interrupted(interrupt.note) from None
