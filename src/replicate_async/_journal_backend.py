# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What the fan-out engine asks of a journal: :class:`JournalBackend`, and its SQLite default.

A batch's journal keeps one row per job (``_journal`` describes the rows and their life).
The engine talks to it through this async protocol, so a journal may live in a local
SQLite file (:class:`LocalJournal`, the default: ``journal=PATH``) or in a PostgreSQL
database shared by several workers (``_journal_postgres``: ``journal="postgresql://..."``).

A journal shared by workers hands each job to one of them: :meth:`JournalBackend.claim`
takes the job for this worker, or says it is another live worker's (``busy``); the engine
comes back to busy jobs at the end, with :meth:`JournalBackend.settle`, until their rows are
terminal or their claims expire. The ``creating`` write is fenced by the claim: a worker
whose claim was taken over gets :class:`ClaimLost` and does not send the create.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from replicate_async._journal import Journal, JournalRow

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from replicate_async._models import Prediction

__all__ = [
    "Claim",
    "ClaimLost",
    "JobHeld",
    "JournalBackend",
    "LocalJournal",
    "Settled",
]


class ClaimLost(Exception):  # noqa: N818 - a signal between the journal and the engine
    """This worker's claim on a job was taken over (its lease expired): the create is not sent."""


class JobHeld(Exception):  # noqa: N818 - a signal between the journal and the engine
    """Another live worker holds this job: come back to it later."""


@attrs.frozen
class Claim:
    """The outcome of :meth:`JournalBackend.claim`.

    Args:
        row: The job's row, or None when it has none (or only a claim): create the job.
        busy: Another live worker holds the job: come back to it later.
    """

    row: JournalRow | None
    busy: bool = False


@attrs.frozen
class Settled:
    """The outcome of :meth:`JournalBackend.settle` for jobs held by other workers.

    Args:
        finished: Terminal rows, by key: take their predictions.
        claimable: Keys nobody holds any more (a claim expired or was released, a row was
            deleted): claim them again.
    """

    finished: Mapping[str, JournalRow]
    claimable: frozenset[str]


@runtime_checkable
class JournalBackend(Protocol):
    """A batch's journal, as the fan-out engine uses it (``run_many(journal=...)``).

    The engine opens it, claims each job before running it, writes ``creating`` right
    before the create is sent (after the rate-limit wait: never for a create that did not
    go out), ``created`` with the prediction's id and the terminal prediction, and closes it.

    .. versionadded:: 0.1.0
    """

    @property
    def shared(self) -> bool:
        """Whether several workers may run the batch at once (busy claims, :meth:`settle`)."""

    async def open(self) -> None:
        """Open the journal (and make its schema); raise JournalError when it cannot serve."""

    async def close(self) -> None:
        """Close the journal, releasing every claim of this worker."""

    async def hold(self) -> None:
        """Keep this worker's claims alive while the batch runs (returns when none need it)."""

    async def claim(self, key: str, ref: str, input: Mapping[str, Any]) -> Claim:  # noqa: A002
        """Take job *key* for this worker, with its row; raise JournalMismatch for another job's."""

    async def creating(self, key: str, ref: str, input: Mapping[str, Any]) -> None:  # noqa: A002
        """Record that the create is about to be sent (committed before it is); ClaimLost when
        this worker no longer holds the job."""

    async def created(self, key: str, prediction_id: str) -> None:
        """Record the id of job *key*'s prediction."""

    async def finished(self, key: str, prediction: Prediction) -> None:
        """Record job *key*'s terminal prediction (and release its claim)."""

    async def forget(self, key: str) -> None:
        """Delete job *key*'s row: its create surely made nothing, or it is to run again."""

    async def release(self, key: str) -> None:
        """Let another worker take job *key* (this one failed it without a terminal row)."""

    async def rows(self) -> Sequence[JournalRow]:
        """Every row of the batch (for the look-up of unknown creates)."""

    async def settle(self, keys: Sequence[str]) -> Settled:
        """Of jobs held by other workers: the finished ones, and the ones free to claim."""


class LocalJournal:
    """The SQLite journal (one process, one batch at a time) behind the backend protocol.

    Its writes stay synchronous underneath: a commit takes tens of microseconds, less than
    handing it to a thread would.

    Args:
        path: The SQLite file; made when missing.

    .. versionadded:: 0.1.0
    """

    shared = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._journal: Journal | None = None

    def __repr__(self) -> str:
        return f"<LocalJournal {os.fspath(self.path)!r}>"

    @property
    def journal(self) -> Journal:
        """The open SQLite journal."""
        if self._journal is None:
            raise RuntimeError("the journal is not open")
        return self._journal

    async def open(self) -> None:
        """Open (and lock) the file: JournalLocked when another batch has it."""
        self._journal = Journal(self.path)

    async def close(self) -> None:
        """Close the file and unlock it."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    async def hold(self) -> None:
        """Nothing to keep: the file's lock is the batch's."""

    async def claim(self, key: str, ref: str, input: Mapping[str, Any]) -> Claim:  # noqa: A002
        """The job's row: one process runs the batch, so the job is always this one's."""
        return Claim(self.journal.row_for(key, ref, input))

    async def creating(self, key: str, ref: str, input: Mapping[str, Any]) -> None:  # noqa: A002
        """Commit the ``creating`` row."""
        self.journal.creating(key, ref, input)

    async def created(self, key: str, prediction_id: str) -> None:
        """Commit the prediction id."""
        self.journal.created(key, prediction_id)

    async def finished(self, key: str, prediction: Prediction) -> None:
        """Commit the terminal prediction."""
        self.journal.finished(key, prediction)

    async def forget(self, key: str) -> None:
        """Delete the row."""
        self.journal.forget(key)

    async def release(self, key: str) -> None:
        """Nothing to release."""

    async def rows(self) -> Sequence[JournalRow]:
        """Every row."""
        return list(self.journal.rows())

    async def settle(self, keys: Sequence[str]) -> Settled:  # pragma: no cover - never busy
        """No job is ever another worker's."""
        return Settled(finished={}, claimable=frozenset(keys))
