# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The SQLite journal of a resumable batch (``run_many(..., journal=PATH)``).

One row per job, keyed by the job's identity. Its life:

``creating``
    Written and committed *before* the create request is sent. A row still in this state
    when a batch starts again means the outcome of that create is unknown: the process
    died while the request was out, or the server answered with an error that does not
    prove the prediction was not made.
``created``
    The create returned: the row holds the prediction id. A later run waits on it.
``succeeded`` / ``failed`` / ``canceled`` / ``aborted``
    Terminal: the row holds the final prediction as JSON. A later run takes it from here.

A create refused for sure (a 4xx, a 429 that ran out of retries, a failure before the
request was sent) deletes its row, as does a prediction this batch itself cancelled when
it was interrupted: a later run creates those jobs afresh.

Writes are a few hundred bytes each and committed at once, in WAL mode with
``synchronous=NORMAL``: a commit survives the process being killed (it is in the WAL
before the call returns), though not a power cut. They run synchronously on the event
loop: a commit takes tens of microseconds here, far less than handing it to a worker
thread would (docs/fanout.md has the numbers).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Final

import attrs

from replicate_async._converters import structure, unstructure
from replicate_async._models import Prediction

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping

__all__ = ["Journal", "JournalRow", "canonical_json", "job_key"]

SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    ref TEXT NOT NULL,
    input TEXT NOT NULL,
    prediction_id TEXT,
    prediction TEXT,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""

CREATING: Final = "creating"
CREATED: Final = "created"


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, non-JSON values as their ``str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def job_key(ref: str, input: Mapping[str, Any], index: int) -> str:  # noqa: A002 - the API's name
    """A stable identity for a job without an explicit key: a hash of ref, input and index."""
    data = f"{ref}\n{canonical_json(input)}\n{index}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


@attrs.frozen(kw_only=True)
class JournalRow:
    """One job's row."""

    key: str
    state: str
    ref: str
    input: str
    prediction_id: str | None
    prediction: str | None
    started_at: float

    def final(self) -> Prediction:
        """The terminal prediction stored in the row."""
        if self.prediction is None:
            raise ValueError(f"journal row {self.key} holds no prediction")
        return structure(json.loads(self.prediction), Prediction)


class Journal:
    """A batch's journal on disk.

    Args:
        path: The SQLite file; made when missing.

    .. versionadded:: 0.1.0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            self._db.close()
            raise ValueError(
                f"{path} is a journal of schema {version}; this version writes {SCHEMA_VERSION}"
            )
        self._db.execute(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r}>"

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def get(self, key: str) -> JournalRow | None:
        """The row of job *key*, or None."""
        found = self._db.execute(
            "SELECT key, state, ref, input, prediction_id, prediction, started_at"
            " FROM jobs WHERE key = ?",
            (key,),
        ).fetchone()
        if found is None:
            return None
        return JournalRow(
            key=found[0],
            state=found[1],
            ref=found[2],
            input=found[3],
            prediction_id=found[4],
            prediction=found[5],
            started_at=found[6],
        )

    def rows(self) -> Iterator[JournalRow]:
        """Every row, in no particular order."""
        for key in [r[0] for r in self._db.execute("SELECT key FROM jobs")]:
            row = self.get(key)
            if row is not None:  # pragma: no branch - keys come from the same table
                yield row

    def creating(self, key: str, ref: str, input: Mapping[str, Any]) -> None:  # noqa: A002
        """Record that job *key*'s create is about to be sent (committed before it is)."""
        now = time.time()
        self._db.execute(
            "INSERT OR REPLACE INTO jobs"
            " (key, state, ref, input, prediction_id, prediction, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
            (key, CREATING, ref, canonical_json(input), now, now),
        )

    def created(self, key: str, prediction_id: str) -> None:
        """Record the id of job *key*'s prediction."""
        self._db.execute(
            "UPDATE jobs SET state = ?, prediction_id = ?, updated_at = ? WHERE key = ?",
            (CREATED, prediction_id, time.time(), key),
        )

    def finished(self, key: str, prediction: Prediction) -> None:
        """Record job *key*'s terminal prediction."""
        self._db.execute(
            "UPDATE jobs SET state = ?, prediction_id = ?, prediction = ?, updated_at = ?"
            " WHERE key = ?",
            (
                prediction.status.value,
                prediction.id,
                canonical_json(unstructure(prediction)),
                time.time(),
                key,
            ),
        )

    def forget(self, key: str) -> None:
        """Delete job *key*'s row: its create surely did not happen, or it is to run again."""
        self._db.execute("DELETE FROM jobs WHERE key = ?", (key,))

    def counts(self) -> Mapping[str, int]:
        """How many rows are in each state."""
        return dict(self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
