# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A journaled job's way back: its prediction from its row, or None to create it.

A ``creating`` row means an earlier create's outcome is unknown (the process died with the
request out, or a worker holding it did): the prediction it may have made is looked up in
``predictions.list(created_after=...)`` (ref and input must match; predictions another row
already names are left out) rather than paid for twice. A ``created`` row's prediction is
fetched; a terminal row's is taken as it is.

:func:`open_journal` turns ``run_many(journal=...)`` into a journal backend.
"""

from __future__ import annotations

import contextlib
import math
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import anyio

from replicate_async._jobs import ref_text
from replicate_async._journal import CREATED, CREATING, canonical_json
from replicate_async._journal_backend import JobHeld, JournalBackend, LocalJournal
from replicate_async._running import made_by
from replicate_async.exceptions import CreateOutcomeUnknown

if TYPE_CHECKING:
    from collections.abc import Mapping

    from replicate_async._jobs import Job
    from replicate_async._journal import JournalRow
    from replicate_async._models import Prediction
    from replicate_async._running import Runner

__all__ = ["LOOKUP_SLACK", "Resumer", "open_journal"]

LOOKUP_SLACK: Final = 120.0
"""Seconds before a journal's oldest unknown create that the prediction list is searched from."""


def open_journal(spec: str | os.PathLike[str] | JournalBackend) -> JournalBackend:
    """The backend for ``journal=...``: a backend as is, a PostgreSQL URL, else an SQLite path."""
    if isinstance(spec, JournalBackend):
        return spec
    if isinstance(spec, str) and spec.startswith(("postgresql://", "postgres://")):
        from replicate_async._journal_postgres import PostgresJournal  # noqa: PLC0415 - optional

        return PostgresJournal(spec)
    return LocalJournal(os.fspath(spec))


class Resumer:
    """Resumes a batch's jobs from their journal rows (one per batch)."""

    def __init__(self, runner: Runner, journal: JournalBackend, *, recreate_unknown: bool) -> None:
        self.runner = runner
        self.journal = journal
        self.recreate_unknown = recreate_unknown
        self._lock = anyio.Lock()
        self._candidates: list[Prediction] | None = None
        self._listed_at = -math.inf

    async def start(
        self,
        index: int,
        job: Job,
        key: str,
        input: Mapping[str, Any],  # noqa: A002 - the API's name
        settled: JournalRow | None = None,
    ) -> tuple[Prediction | None, JournalRow | None]:
        """Claim the job and resume it from its row: its prediction, or None to create it;
        and its row when that is terminal already (nothing more to write), else None.

        Raises:
            JobHeld: Another live worker of a shared journal holds it.
            JournalMismatch: Its key's row is another job's.
        """
        claimed_at = anyio.current_time()
        row = settled  # a terminal row another worker wrote: nothing to claim
        if row is None:
            claim = await self.journal.claim(key, ref_text(job.ref), input)
            if claim.busy:
                raise JobHeld(key)
            row = claim.row
        if row is None:
            return None, None
        if row.state not in (CREATING, CREATED):
            return row.final(), row
        found = await self.resume(
            index=index, job=job, key=key, input=input, row=row, claimed_at=claimed_at
        )
        return found, None

    async def resume(
        self,
        *,
        index: int,
        job: Job,
        key: str,
        input: Mapping[str, Any],  # noqa: A002 - the API's name
        row: JournalRow,
        claimed_at: float,
    ) -> Prediction | None:
        """The job's prediction from *row*, or None to create it (claimed at *claimed_at*)."""
        if row.state == CREATING:
            found = await self._look_up(job, input, row.started_at, claimed_at)
            if found is None:
                if not self.recreate_unknown:
                    raise CreateOutcomeUnknown(
                        index=index,
                        job=job,
                        key=key,
                        message=f"job {index} (key {key}): an earlier run sent its create "
                        "and never learnt the outcome, and no matching prediction was found; "
                        "pass recreate_unknown=True to create it again",
                    )
                if not self.journal.shared:  # a shared row stays, claimed: `creating` rewrites it
                    await self.journal.forget(key)
                return None
            await self.journal.created(key, found.id)
            return found
        if row.state == CREATED:
            assert row.prediction_id is not None  # noqa: S101 - written with the state
            return await self.runner.get(row.prediction_id)
        return row.final()

    async def _look_up(
        self,
        job: Job,
        input: Mapping[str, Any],  # noqa: A002
        started_at: float,
        claimed_at: float,
    ) -> Prediction | None:
        """Find the prediction an unknown create made, in the account's prediction list.

        Listed once per batch; with a shared journal, again for a job taken over after the
        last listing (its worker may have died since).
        """
        async with self._lock:
            if self._candidates is None or (self.journal.shared and self._listed_at < claimed_at):
                self._listed_at = anyio.current_time()
                self._candidates = await self._list_candidates()
        wanted = canonical_json(dict(input))
        for position, prediction in enumerate(self._candidates):
            if prediction.created_at is not None and prediction.created_at.timestamp() < (
                started_at - LOOKUP_SLACK
            ):
                continue
            if made_by(prediction, job.ref, wanted):
                del self._candidates[position]
                return prediction
        return None

    async def _list_candidates(self) -> list[Prediction]:
        """Predictions made since the oldest unknown create, minus those the journal knows."""
        rows = await self.journal.rows()
        known = {row.prediction_id for row in rows if row.prediction_id is not None}
        unknown = [row.started_at for row in rows if row.state == CREATING]
        oldest = min(unknown) if unknown else datetime.now(UTC).timestamp()
        since = datetime.fromtimestamp(oldest - LOOKUP_SLACK, UTC)
        found: list[Prediction] = []
        # Closed at once when left early: trio refuses async generators left to the GC.
        async with contextlib.aclosing(aiter(self.runner.list(created_after=since))) as listed:
            async for prediction in listed:
                created = prediction.created_at
                if created is not None and created < since:
                    break  # a server that ignores the filter: the rest is older still
                if prediction.id not in known:
                    found.append(prediction)
        found.reverse()  # oldest first, the order the jobs were created in
        return found
