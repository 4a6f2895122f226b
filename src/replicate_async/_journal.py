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
it was interrupted: a later run creates those jobs afresh. Any other failure of a create
that was sent (a 5xx, a lost connection, a 2xx whose body does not decode) keeps the row
``creating``: the next run looks the prediction up instead of paying for it twice.

Each row holds a fingerprint of its job's model reference and input. A job whose key finds
a row of another fingerprint is refused with :class:`~replicate_async.JournalMismatch`: the
row, and its prediction, belong to another job.

One batch at a time: opening a journal takes an exclusive ``flock`` on ``PATH.lock`` beside
it, without waiting, and a second opener (another process, or another batch of this one)
gets :class:`~replicate_async.JournalLocked` at once. ``flock`` rather than SQLite's own
locking: its lock belongs to the open file, so a second open in the same process conflicts
too; the kernel drops it when the process dies, even by SIGKILL, so it is never stale; and
it fails at once instead of after SQLite's busy timeout, with an error that cannot be
confused with passing contention. The lock file stays after close (deleting it would race
with the next opener). A file that is not a journal (garbage bytes, another program's
database, a newer schema) gives :class:`~replicate_async.JournalError` naming it, and is
left unchanged.

Writes are a few hundred bytes each and committed at once, in WAL mode with
``synchronous=NORMAL``: a commit survives the process being killed (it is in the WAL
before the call returns), though not a power cut. They run synchronously on the event
loop: a commit takes tens of microseconds here, far less than handing it to a worker
thread would (docs/fanout.md has the numbers).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import time
import weakref
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

from replicate_async._converters import structure, unstructure
from replicate_async._models import Prediction
from replicate_async._sansio.inputs import canonical_json
from replicate_async.exceptions import JournalError, JournalLocked, JournalMismatch

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "Journal",
    "JournalRow",
    "canonical_json",
    "check_fingerprint",
    "fingerprint",
    "job_key",
]

SCHEMA_VERSION: Final = 2
"""1: the first layout; 2: adds ``fingerprint`` (1 is migrated in place when opened)."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    ref TEXT NOT NULL,
    input TEXT NOT NULL,
    prediction_id TEXT,
    prediction TEXT,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    fingerprint TEXT
)
"""

_COLUMNS: Final = frozenset(
    ("key", "state", "ref", "input", "prediction_id", "prediction", "started_at", "updated_at")
)

CREATING: Final = "creating"
CREATED: Final = "created"


def job_key(ref: str, input: Mapping[str, Any], index: int) -> str:  # noqa: A002 - the API's name
    """A stable identity for a job without an explicit key: a hash of ref, input and index."""
    data = f"{ref}\n{canonical_json(input)}\n{index}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


def fingerprint(ref: str, input_json: str) -> str:
    """The fingerprint of a job: a hash of its reference and its input's canonical JSON."""
    return hashlib.sha256(f"{ref}\n{input_json}".encode()).hexdigest()


def check_fingerprint(
    row: JournalRow, ref: str, mark: str, *, path: str, journal: str, instead: str
) -> None:
    """Raise JournalMismatch unless *row* was written for the job of fingerprint *mark*.

    Args:
        row: The row found under the job's key.
        ref: The job's model reference (to say what differs).
        mark: The job's :func:`fingerprint`.
        path: The journal, as the error names it.
        journal: The journal, as the message names it.
        instead: What to use instead of this journal, as the message suggests.
    """
    if row.fingerprint == mark:
        return
    what = f"model reference {row.ref!r}" if row.ref != ref else "another input"
    raise JournalMismatch(
        path=path,
        key=row.key,
        message=f"{journal} holds key {row.key!r} for a job with {what}, so its prediction is "
        f"not this job's: use {instead}, or give this job another key",
    )


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
    fingerprint: str

    def final(self) -> Prediction:
        """The terminal prediction stored in the row."""
        if self.prediction is None:
            raise ValueError(f"journal row {self.key} holds no prediction")
        return structure(json.loads(self.prediction), Prediction)


class Journal:
    """A batch's journal on disk, held exclusively while open.

    Args:
        path: The SQLite file; made when missing.

    Raises:
        JournalLocked: Another batch (in any process) has it open.
        JournalError: The file is not a journal, or cannot be opened.

    .. versionadded:: 0.1.0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._name = os.fspath(path)
        fd = _lock(self._name)
        # Unlocks when the Journal is dropped unclosed, too (close() runs it at once).
        self._unlock = weakref.finalize(self, os.close, fd)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            self._unlock()
            raise self._error(exc) from exc
        try:
            # Checked before WAL is switched on: that would rewrite a foreign file's header.
            self._open_schema()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise

    def __repr__(self) -> str:
        return f"<Journal {self._name!r}>"

    def close(self) -> None:
        """Close the database and let the next batch open it."""
        self._db.close()
        self._unlock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------- opening

    def _error(self, exc: sqlite3.Error) -> JournalError:
        """Our error for a database that cannot serve as a journal."""
        return JournalError(
            path=self._name,
            message=f"{self._name} is not a journal this library can use ({exc}): "
            "move it away, or pass another journal path",
        )

    def _foreign(self, what: str) -> JournalError:
        """Our error for another program's SQLite database."""
        return JournalError(
            path=self._name,
            message=f"{self._name} is not a journal: it is an SQLite database with {what}; "
            "pass another journal path (nothing in it was changed)",
        )

    def _open_schema(self) -> None:
        """Check, make or migrate the table in one transaction (a refused file is left as it was)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._check_or_make_schema()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _check_or_make_schema(self) -> None:
        """Raise JournalError unless the file is empty or a journal; make or migrate its table."""
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION or version < 0:
            raise JournalError(
                path=self._name,
                message=f"{self._name} is a journal of schema {version}; this version of "
                f"replicate-async reads schemas up to {SCHEMA_VERSION}: upgrade it, or pass "
                "another journal path",
            )
        tables = sorted(
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        )
        others = [name for name in tables if name != "jobs"]
        if others:
            raise self._foreign(f"other tables ({', '.join(others[:5])})")
        if not tables:
            db.execute(_SCHEMA)
        else:
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if not columns >= _COLUMNS or columns - _COLUMNS - {"fingerprint"}:
                raise self._foreign(f"a table 'jobs' of columns {', '.join(sorted(columns))}")
            if "fingerprint" not in columns:
                self._add_fingerprints()
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _add_fingerprints(self) -> None:
        """Migrate schema 1: add the fingerprint column and fill it from each row's ref and input."""
        db = self._db
        db.execute("ALTER TABLE jobs ADD COLUMN fingerprint TEXT")
        rows = db.execute("SELECT key, ref, input FROM jobs").fetchall()
        db.executemany(
            "UPDATE jobs SET fingerprint = ? WHERE key = ?",
            [(fingerprint(ref, input_json), key) for key, ref, input_json in rows],
        )

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement; a database failure becomes our error naming the file."""
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.Error as exc:
            raise JournalError(
                path=self._name,
                message=f"the journal {self._name} failed ({exc}): check the disk and the file; "
                "a copy of the journal keeps what it recorded",
            ) from exc

    # ---------------------------------------------------------------- rows

    def get(self, key: str) -> JournalRow | None:
        """The row of job *key*, or None."""
        found = self._execute(
            "SELECT key, state, ref, input, prediction_id, prediction, started_at, fingerprint"
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
            fingerprint=found[7],
        )

    def row_for(self, key: str, ref: str, input: Mapping[str, Any]) -> JournalRow | None:  # noqa: A002
        """The row of job *key*, or None; raise JournalMismatch when it is another job's."""
        row = self.get(key)
        if row is not None:
            self._check(row, ref, canonical_json(input))
        return row

    def _check(self, row: JournalRow, ref: str, input_json: str) -> None:
        """Raise JournalMismatch unless *row* was written for this ref and input."""
        check_fingerprint(
            row,
            ref,
            fingerprint(ref, input_json),
            path=self._name,
            journal=f"the journal {self._name}",
            instead="another journal for this batch",
        )

    def rows(self) -> Iterator[JournalRow]:
        """Every row, in no particular order."""
        for key in [r[0] for r in self._execute("SELECT key FROM jobs")]:
            row = self.get(key)
            if row is not None:  # pragma: no branch - keys come from the same table
                yield row

    def creating(self, key: str, ref: str, input: Mapping[str, Any]) -> None:  # noqa: A002
        """Record that job *key*'s create is about to be sent (committed before it is).

        Raises:
            JournalMismatch: The key's row is another job's (two jobs of one batch share it).
        """
        now = time.time()
        input_json = canonical_json(input)
        mark = fingerprint(ref, input_json)
        # One statement: a row of the same job is replaced, another job's is left alone.
        changed = self._execute(
            "INSERT INTO jobs (key, state, ref, input, fingerprint, prediction_id, prediction,"
            " started_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state, prediction_id = NULL,"
            " prediction = NULL, started_at = excluded.started_at,"
            " updated_at = excluded.updated_at WHERE fingerprint = excluded.fingerprint",
            (key, CREATING, ref, input_json, mark, now, now),
        ).rowcount
        if not changed:
            row = self.get(key)
            if row is not None:  # pragma: no branch - the conflict was with this row
                self._check(row, ref, input_json)

    def created(self, key: str, prediction_id: str) -> None:
        """Record the id of job *key*'s prediction."""
        self._execute(
            "UPDATE jobs SET state = ?, prediction_id = ?, updated_at = ? WHERE key = ?",
            (CREATED, prediction_id, time.time(), key),
        )

    def finished(self, key: str, prediction: Prediction) -> None:
        """Record job *key*'s terminal prediction."""
        self._execute(
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
        self._execute("DELETE FROM jobs WHERE key = ?", (key,))

    def counts(self) -> Mapping[str, int]:
        """How many rows are in each state."""
        return dict(self._execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())


# ---------------------------------------------------------------------- the lock


def _lock(name: str) -> int:
    """Lock ``name + ".lock"`` exclusively without waiting; return its descriptor."""
    lock_name = f"{name}.lock"
    try:
        fd = os.open(lock_name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise JournalError(
            path=name,
            message=f"cannot open the journal's lock file {lock_name} ({exc.strerror}): "
            "pass a journal path in a folder that exists and is writable",
        ) from exc
    try:
        _try_lock(fd)
    except OSError as exc:
        holder = _read_holder(fd)
        os.close(fd)
        raise JournalLocked(
            path=name,
            message=f"the journal {name} is in use by another batch ({holder}): one journal "
            "serves one batch at a time; wait for that one to finish, or pass another journal path",
        ) from exc
    # Who holds it, for the error another opener gets (best effort: the lock is what counts).
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _read_holder(fd: int) -> str:
    """Name the holder from the pid it wrote in the lock file."""
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError, AttributeError):  # pragma: no cover - pread is POSIX
        pid = ""
    if not pid.isdigit():  # pragma: no cover - written right after the lock is taken
        return "another process, or another run_many or as_completed in this one"
    if int(pid) == os.getpid():
        return "another run_many or as_completed in this process"
    return f"process {pid}"


if sys.platform == "win32":  # pragma: no cover - tested on Linux; Windows locks byte 0 instead
    import msvcrt

    def _try_lock(fd: int) -> None:
        """Lock the first byte of *fd* without waiting (raises OSError when it is taken)."""
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        """Take an exclusive flock on *fd* without waiting (raises OSError when it is taken)."""
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
