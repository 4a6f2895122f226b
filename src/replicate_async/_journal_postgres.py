# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The PostgreSQL journal: one batch shared by several workers (``journal="postgresql://..."``).

Rows are the SQLite journal's (``creating`` / ``created`` / terminal, the fingerprint of
ref and input), in one table for every batch of the database, keyed by ``(batch, key)``.
Each worker that runs the batch is given the same jobs and:

* **claims** a job before running it: one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``
  statement that takes the row when nobody holds it, this worker holds it, or its holder's
  lease has expired. A job held by another live worker is skipped and come back to at the
  end (:meth:`PostgresJournal.settle`: one statement for all of them, which also takes over
  the expired ones, ``FOR UPDATE SKIP LOCKED`` so two workers taking over at once split them
  without waiting on each other).
* **holds** its claims with a lease: one ``UPDATE`` per worker every ``lease / 3`` seconds
  renews all of them (:meth:`PostgresJournal.hold`). A worker that dies stops renewing, and
  its jobs are taken over ``lease`` seconds later: their ``creating`` rows are looked up in
  the prediction list, as a resumed SQLite batch does. Leases rather than session advisory
  locks: a lease is a row anyone can read (which worker holds what, until when), it needs no
  connection held per job, and it ends on the server's clock even when a dead machine's TCP
  connection lingers for minutes.
* **fences** the ``creating`` write by its claim: the write happens only while this worker
  holds an unexpired lease (the server's clock decides), else :class:`ClaimLost` and the
  create is not sent. The limit: a worker frozen longer than its lease *between* that
  commit and the create leaving may race the worker that took it over.

Schema creation is safe when workers start at once: ``CREATE TABLE IF NOT EXISTS`` in one
transaction under an advisory lock, with a schema version in ``replicate_async_meta``.
psycopg 3's async driver runs on asyncio only. A worker uses a few connections
(``connections``, 4 by default), not one per job.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants; values go as parameters

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Final

import anyio

from replicate_async._converters import unstructure
from replicate_async._journal import (
    CREATED,
    CREATING,
    JournalRow,
    canonical_json,
    check_fingerprint,
    fingerprint,
)
from replicate_async._journal_backend import Claim, ClaimLost, Settled
from replicate_async._urls import display_url
from replicate_async.exceptions import JournalError, JournalLocked

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from psycopg import AsyncConnection

    from replicate_async._models import Prediction

__all__ = ["PostgresJournal"]

logger = logging.getLogger("replicate_async")

SCHEMA_VERSION: Final = 1
"""The layout of ``replicate_async_jobs``; a database of a newer one is refused."""

CLAIMED: Final = "claimed"
"""A row's state between its claim and its ``creating`` write: nothing was sent."""

_DAY: Final = 86400.0
_TERMINAL: Final = "('succeeded', 'failed', 'canceled', 'aborted')"
_SCHEMA_LOCK: Final = 0x7265706C69636174  # "replicat": the advisory lock of schema creation
_ROW: Final = "key, state, ref, input, prediction_id, prediction, started_at, fingerprint"
_LEASE: Final = "now() + make_interval(secs => %(lease)s)"
_COLUMNS: Final = frozenset(
    (
        "batch",
        *_ROW.split(", "),
        "claimed_by",
        "lease_until",
        "updated_at",
    )
)

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS replicate_async_meta (name text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS replicate_async_jobs (
        batch text NOT NULL,
        key text NOT NULL,
        state text NOT NULL,
        ref text NOT NULL,
        input text NOT NULL,
        fingerprint text NOT NULL,
        prediction_id text,
        prediction text,
        claimed_by text,
        lease_until timestamptz,
        started_at double precision NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (batch, key)
    )""",
)
_INDEX: Final = "CREATE INDEX IF NOT EXISTS replicate_async_jobs_claims ON replicate_async_jobs (batch, claimed_by)"

_CLAIM: Final = f"""
INSERT INTO replicate_async_jobs AS j
    (batch, key, state, ref, input, fingerprint, claimed_by, lease_until, started_at)
VALUES (%(batch)s, %(key)s, '{CLAIMED}', %(ref)s, %(input)s, %(fp)s, %(me)s, {_LEASE}, %(now)s)
ON CONFLICT (batch, key) DO UPDATE
    SET claimed_by = excluded.claimed_by, lease_until = excluded.lease_until, updated_at = now()
    WHERE j.fingerprint = excluded.fingerprint AND j.state NOT IN {_TERMINAL}
        AND (j.claimed_by IS NULL OR j.claimed_by = excluded.claimed_by OR j.lease_until < now())
RETURNING {", ".join(f"j.{c}" for c in _ROW.split(", "))}
"""

# One statement per look at the jobs set aside: take over the free or expired ones (rows
# another worker is taking over right now are skipped, not waited for), and read every row's
# state, with the prediction of the terminal ones. Both parts see the rows as they were
# before the take-over; ``taken`` tells which were taken.
_SETTLE: Final = f"""
WITH taken AS (
    UPDATE replicate_async_jobs AS j
        SET claimed_by = %(me)s, lease_until = {_LEASE}, updated_at = now()
    FROM (
        SELECT key FROM replicate_async_jobs
        WHERE batch = %(batch)s AND key = ANY(%(keys)s) AND state NOT IN {_TERMINAL}
            AND (claimed_by IS NULL OR claimed_by = %(me)s OR lease_until < now())
        FOR UPDATE SKIP LOCKED
    ) AS free
    WHERE j.batch = %(batch)s AND j.key = free.key
    RETURNING j.key
)
SELECT key, state, ref, input, prediction_id,
    CASE WHEN state IN {_TERMINAL} THEN prediction END, started_at, fingerprint,
    key IN (SELECT key FROM taken)
FROM replicate_async_jobs
WHERE batch = %(batch)s AND key = ANY(%(keys)s)
"""


class PostgresJournal:
    """A batch's journal in PostgreSQL, shared by every worker that runs the batch.

    Give every worker the same jobs (the same keys: explicit ``Job(key=...)``, or the same
    jobs in the same order) and the same URL and batch name. Each job is run by one worker;
    each worker's ``run_many`` returns every job's result, taking the others' from their rows.

    Args:
        url: ``postgresql://user:password@host:port/database``; its query may name the batch
            and the lease: ``...?batch=nightly&lease=30`` (the other parameters go to libpq).
        batch: The batch's name (overrides the URL's). One database holds many batches; a
            batch name is to this journal what a file path is to the SQLite one. Required.
        lease: Seconds a worker's claims outlive its last heartbeat (renewed every
            ``lease / 3``): how long a dead worker's jobs wait before another takes them.
        connections: Most connections this worker opens.

    Raises:
        JournalError: No batch name, or a bad lease (at once); the server unreachable, a
            failed login or a newer schema (when the batch starts).

    .. versionadded:: 0.1.0
    """

    shared = True

    def __init__(
        self,
        url: str,
        *,
        batch: str | None = None,
        lease: float | None = None,
        connections: int = 4,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        given = {name: value for name, value in query if name in ("batch", "lease")}
        rest = urllib.parse.urlencode([(n, v) for n, v in query if n not in ("batch", "lease")])
        self._conninfo = urllib.parse.urlunsplit(parts._replace(query=rest))
        self.url = display_url(url)  # without user, password or query: for messages
        if parts.scheme not in ("postgresql", "postgres") or not parts.netloc + parts.path:
            raise self._error(f"{self.url} is not a PostgreSQL URL: pass postgresql://host/db")
        self.batch = batch if batch is not None else given.get("batch")
        if not self.batch:
            raise self._error(
                f"the PostgreSQL journal {self.url} needs a batch name: add ?batch=NAME to the "
                "URL or pass PostgresJournal(url, batch=NAME), the same in every worker"
            )
        asked = lease if lease is not None else given.get("lease", 30.0)
        try:
            self.lease = float(asked)
        except ValueError:
            self.lease = 0.0
        if not 0.0 < self.lease < _DAY:
            raise self._error(f"lease must be seconds between 0 and 86400, got {asked!r}")
        if connections < 1:
            raise ValueError(f"connections must be an int >= 1, got {connections!r}")
        self.worker = _worker_id()
        """This worker's name in the rows it claims: ``host:pid:random``."""
        self._slots = connections
        self._idle: list[AsyncConnection[Any]] = []
        self._limit: anyio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"<PostgresJournal {self.url!r} batch={self.batch!r}>"

    def _error(self, message: str) -> JournalError:
        return JournalError(path=getattr(self, "url", ""), message=message)

    # ---------------------------------------------------------------- connections

    async def _connect(self) -> AsyncConnection[Any]:
        """A new autocommit connection; JournalError saying what to check when it fails."""
        import psycopg  # noqa: PLC0415 - optional and heavy: only for this journal

        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=10
            )
        except psycopg.Error as exc:
            # libpq's first line says what failed ("...: Connection refused"); hints follow.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise self._error(
                f"cannot connect to the PostgreSQL journal {self.url} ({reason}): check that the "
                "server runs there and the URL's user, password and database"
            ) from exc

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """One of this worker's few connections (opened on demand, dropped when broken)."""
        from psycopg.pq import TransactionStatus  # noqa: PLC0415

        if self._limit is None:
            raise RuntimeError("the journal is not open")
        async with self._limit:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                yield conn
            finally:
                if not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE:
                    self._idle.append(conn)
                else:
                    with anyio.CancelScope(shield=True):
                        await conn.close()

    async def _run(self, sql: str, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        """Run one statement (autocommit): its rows and row count.

        A connection found broken (the server restarted, an idle connection was cut) is
        replaced and the statement run once more: every statement here may run twice.
        """
        import psycopg  # noqa: PLC0415

        for attempt in (1, 2):
            async with self._connection() as conn:
                try:
                    cursor = await conn.execute(sql, params)
                    rows = await cursor.fetchall() if cursor.description is not None else []
                except psycopg.Error as exc:
                    if attempt == 1 and conn.closed:
                        continue
                    raise self._error(
                        f"the PostgreSQL journal {self.url} failed ({str(exc).strip()}): check "
                        "the server; the rows it holds are kept"
                    ) from exc
                return rows, cursor.rowcount
        raise AssertionError("unreachable")  # pragma: no cover

    def _params(self, **more: Any) -> dict[str, Any]:
        return {"batch": self.batch, "me": self.worker, "lease": self.lease, **more}

    # ---------------------------------------------------------------- opening

    async def open(self) -> None:
        """Connect and make (or check) the schema."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise self._error(
                "the PostgreSQL journal runs on asyncio only (psycopg's async driver): run the "
                "batch under asyncio, or pass an SQLite journal path"
            ) from None
        try:
            import psycopg  # noqa: PLC0415
        except ImportError:
            raise self._error(
                "the PostgreSQL journal needs psycopg: pip install 'replicate-async[postgres]'"
            ) from None
        if self._limit is not None:
            raise JournalLocked(
                path=self.url,
                message=f"this PostgresJournal ({self.url}, batch {self.batch!r}) is in use by "
                "another batch of this process: make one per run_many, or wait for that one",
            )
        self._limit = anyio.Semaphore(self._slots)
        self.worker = _worker_id()  # a new worker each time: old claims are not taken for ours
        try:
            async with self._connection() as conn:
                try:
                    await self._make_schema(conn)
                except psycopg.Error as exc:
                    raise self._error(
                        f"cannot make or read the journal's tables in {self.url} "
                        f"({str(exc).strip().splitlines()[0]}): open it once as a user who may "
                        "create tables there (GRANT CREATE ON SCHEMA), then grant this one "
                        "SELECT, INSERT, UPDATE, DELETE on replicate_async_jobs and _meta"
                    ) from exc
        except BaseException:
            await self.close()
            raise

    async def _make_schema(self, conn: AsyncConnection[Any]) -> None:
        """Make what is missing once, however many workers start at once; refuse a newer
        schema. Tables that exist are only read: a user without CREATE can use them."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cursor = await conn.execute(
                "SELECT to_regclass('replicate_async_meta') IS NOT NULL,"
                " to_regclass('replicate_async_jobs') IS NOT NULL,"
                " to_regclass('replicate_async_jobs_claims') IS NOT NULL"
            )
            has_meta, has_jobs, has_index = await cursor.fetchone() or (False, False, False)
            version = None
            if not has_meta:
                await conn.execute(_SCHEMA[0])
            else:
                cursor = await conn.execute(
                    "SELECT value FROM replicate_async_meta WHERE name = 'schema_version'"
                )
                found = await cursor.fetchone()
                version = int(found[0]) if found is not None and str(found[0]).isdigit() else None
            if version is not None and version > SCHEMA_VERSION:
                raise self._error(
                    f"{self.url} holds journal schema {version}; this version of replicate-async "
                    f"reads schemas up to {SCHEMA_VERSION}: upgrade it, or use another database"
                )
            if not has_jobs:
                await conn.execute(_SCHEMA[1])
            else:
                cursor = await conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'replicate_async_jobs' AND table_schema = current_schema()"
                )
                columns = {name for (name,) in await cursor.fetchall()}
                if not columns >= _COLUMNS:
                    raise self._error(
                        f"{self.url} has a table replicate_async_jobs that is not a journal's "
                        f"(columns {', '.join(sorted(columns))}): use another database or schema"
                    )
            if not has_index:
                await conn.execute(_INDEX)
            if version is None:
                await conn.execute(
                    "INSERT INTO replicate_async_meta VALUES ('schema_version', %s)"
                    " ON CONFLICT (name) DO NOTHING",
                    (str(SCHEMA_VERSION),),
                )

    async def close(self) -> None:
        """Release this worker's claims (others take its jobs at once) and disconnect."""
        if self._limit is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
            with contextlib.suppress(JournalError):
                if self._idle:  # else never opened, or the server is gone: leases end the claims
                    await self._run(
                        "UPDATE replicate_async_jobs SET claimed_by = NULL, lease_until = NULL"
                        " WHERE batch = %(batch)s AND claimed_by = %(me)s",
                        self._params(),
                    )
            while self._idle:
                await self._idle.pop().close()
        self._limit = None

    async def hold(self) -> None:
        """Renew every claim of this worker, every ``lease / 3`` seconds, in one statement."""
        while True:
            await anyio.sleep(self.lease / 3)
            try:
                # Shielded: the batch ends by cancelling this task, which must not cut a
                # statement short (psycopg would drop the connection and say so).
                with anyio.CancelScope(shield=True), anyio.fail_after(self.lease / 3 + 5.0):
                    await self.renew()
            except TimeoutError:
                logger.warning("renewing the journal's claims took over %.1f s", self.lease / 3 + 5)
            except JournalError as exc:  # the fence keeps creates safe; try again next beat
                logger.warning("could not renew the journal's claims: %s", exc)

    async def renew(self) -> int:
        """Renew this worker's claims now; return how many it holds."""
        _, count = await self._run(
            f"UPDATE replicate_async_jobs SET lease_until = {_LEASE}"
            " WHERE batch = %(batch)s AND claimed_by = %(me)s",
            self._params(),
        )
        return count

    # ---------------------------------------------------------------- rows

    async def claim(self, key: str, ref: str, input: Mapping[str, Any]) -> Claim:  # noqa: A002
        """Take job *key* (see the module doc); busy when a live worker holds it."""
        input_json = canonical_json(input)
        mark = fingerprint(ref, input_json)
        params = self._params(key=key, ref=ref, input=input_json, fp=mark, now=time.time())
        while True:
            rows, _ = await self._run(_CLAIM, params)
            if rows:
                row = _row(rows[0])
                return Claim(None if row.state == CLAIMED else row)
            found, _ = await self._run(
                f"SELECT {_ROW} FROM replicate_async_jobs WHERE batch = %(batch)s AND key = %(key)s",
                params,
            )
            if not found:  # deleted in between: claim it again
                continue
            row = _row(found[0])
            check_fingerprint(
                row,
                ref,
                mark,
                path=self.url,
                journal=f"the journal {self.url} (batch {self.batch!r})",
                instead="another batch name",
            )
            if row.state in (CLAIMED, CREATING, CREATED):
                return Claim(None, busy=True)
            return Claim(row)  # terminal: take it, nothing to hold

    async def creating(self, key: str, ref: str, input: Mapping[str, Any]) -> None:  # noqa: A002, ARG002
        """Commit ``creating`` while this worker's lease holds; ClaimLost otherwise."""
        _, count = await self._run(
            f"UPDATE replicate_async_jobs SET state = '{CREATING}', prediction_id = NULL,"
            f" prediction = NULL, started_at = %(now)s, lease_until = {_LEASE}, updated_at = now()"
            " WHERE batch = %(batch)s AND key = %(key)s AND claimed_by = %(me)s"
            " AND lease_until > now()",
            self._params(key=key, now=time.time()),
        )
        if not count:
            raise ClaimLost(key)

    async def created(self, key: str, prediction_id: str) -> None:
        """Record the prediction id (while this worker holds the job)."""
        await self._run(
            f"UPDATE replicate_async_jobs SET state = '{CREATED}', prediction_id = %(id)s,"
            " updated_at = now() WHERE batch = %(batch)s AND key = %(key)s AND claimed_by = %(me)s",
            self._params(key=key, id=prediction_id),
        )

    async def finished(self, key: str, prediction: Prediction) -> None:
        """Record the terminal prediction and release the claim."""
        await self._run(
            "UPDATE replicate_async_jobs SET state = %(state)s, prediction_id = %(id)s,"
            " prediction = %(prediction)s, claimed_by = NULL, lease_until = NULL,"
            " updated_at = now() WHERE batch = %(batch)s AND key = %(key)s AND claimed_by = %(me)s",
            self._params(
                key=key,
                state=prediction.status.value,
                id=prediction.id,
                prediction=canonical_json(unstructure(prediction)),
            ),
        )

    async def forget(self, key: str) -> None:
        """Delete the row (while this worker holds the job)."""
        await self._run(
            "DELETE FROM replicate_async_jobs"
            " WHERE batch = %(batch)s AND key = %(key)s AND claimed_by = %(me)s",
            self._params(key=key),
        )

    async def release(self, key: str) -> None:
        """Let another worker take the job."""
        await self._run(
            "UPDATE replicate_async_jobs SET claimed_by = NULL, lease_until = NULL"
            " WHERE batch = %(batch)s AND key = %(key)s AND claimed_by = %(me)s",
            self._params(key=key),
        )

    async def rows(self) -> Sequence[JournalRow]:
        """Every row of the batch, without its prediction JSON (the look-up reads ids only)."""
        found, _ = await self._run(
            f"SELECT {_ROW.replace('prediction,', 'NULL,')} FROM replicate_async_jobs"
            " WHERE batch = %(batch)s",
            self._params(),
        )
        return [_row(r) for r in found]

    async def settle(self, keys: Sequence[str]) -> Settled:
        """Take over the expired or free jobs of *keys*; return them and the finished ones
        (one statement for all of them)."""
        found, _ = await self._run(_SETTLE, self._params(keys=list(keys)))
        rows = [(_row(r[:-1]), r[-1]) for r in found]
        finished = {r.key: r for r, _ in rows if r.state not in (CLAIMED, CREATING, CREATED)}
        taken = {r.key for r, was_taken in rows if was_taken}
        missing = set(keys) - {r.key for r, _ in rows}
        return Settled(finished=finished, claimable=frozenset(taken | missing))


def _worker_id() -> str:
    """A worker's name: its host and process (for people reading the table), and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _row(found: Sequence[Any]) -> JournalRow:
    """A JournalRow from the columns of ``_ROW``."""
    key, state, ref, input_json, prediction_id, prediction, started_at, mark = found
    return JournalRow(
        key=key,
        state=state,
        ref=ref,
        input=input_json,
        prediction_id=prediction_id,
        prediction=prediction,
        started_at=started_at,
        fingerprint=mark,
    )
