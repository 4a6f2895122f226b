# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The PostgreSQL journal against a real server: claims, leases, fencing, schema, errors."""

from __future__ import annotations

import json
import socket

import anyio
import pytest

from _pg_server import pg_server_fixture, pg_url_fixture  # noqa: F401 - fixtures pg_server, pg_url
from replicate_async import JournalError, JournalMismatch, PostgresJournal
from replicate_async._converters import structure
from replicate_async._journal_backend import ClaimLost
from replicate_async._models import Prediction

pytestmark = pytest.mark.anyio

REF = "acme/model"
INPUT = {"prompt": "a cat"}


@pytest.fixture
def anyio_backend() -> str:
    """psycopg's async driver runs on asyncio only (trio is refused: see its test)."""
    return "asyncio"


def prediction(status: str = "succeeded", output: object = "done") -> Prediction:
    """A terminal prediction as the API returns it."""
    data = {
        "id": "p1",
        "model": REF,
        "version": "v",
        "status": status,
        "input": INPUT,
        "output": output if status == "succeeded" else None,
        "error": "boom" if status == "failed" else None,
        "created_at": "2026-01-01T00:00:00Z",
        "urls": {"get": "https://api.replicate.com/v1/predictions/p1"},
    }
    return structure(data, Prediction)


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    """Run one statement on its own connection."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(statement, params)  # type: ignore[arg-type]
        return await cursor.fetchall() if cursor.description else []


async def opened(url: str, **kwargs: object) -> PostgresJournal:
    journal = PostgresJournal(url, **{"batch": "b", **kwargs})  # type: ignore[arg-type]
    await journal.open()
    return journal


async def expire(url: str, key: str) -> None:
    """End the lease of *key*'s claim now (as if its worker stopped beating long ago)."""
    await sql(
        url,
        "UPDATE replicate_async_jobs SET lease_until = now() - interval '1 s' WHERE key = %s",
        key,
    )


async def test_a_job_is_claimed_by_one_worker_and_others_take_its_result(pg_url):
    a, b = await opened(pg_url), await opened(pg_url)
    try:
        claim = await a.claim("k", REF, INPUT)
        assert claim.row is None
        assert not claim.busy
        assert (await b.claim("k", REF, INPUT)).busy
        await a.creating("k", REF, INPUT)
        await a.created("k", "p1")
        assert (await b.claim("k", REF, INPUT)).busy
        settled = await b.settle(["k"])
        assert not settled.finished
        assert not settled.claimable
        await a.finished("k", prediction())
        taken = await b.claim("k", REF, INPUT)
        assert not taken.busy
        assert taken.row is not None
        assert taken.row.state == "succeeded"
        assert taken.row.final().output == "done"
        settled = await b.settle(["k", "never-claimed"])
        assert set(settled.finished) == {"k"}
        assert settled.claimable == {"never-claimed"}
        # The finished row holds no claim: nobody renews or takes it.
        assert await sql(pg_url, "SELECT claimed_by FROM replicate_async_jobs") == [(None,)]
    finally:
        await a.close()
        await b.close()


async def test_an_expired_claim_is_taken_over_and_the_old_holder_is_fenced(pg_url):
    a, b = await opened(pg_url), await opened(pg_url)
    try:
        await a.claim("k", REF, INPUT)
        await a.creating("k", REF, INPUT)
        await expire(pg_url, "k")
        # The old holder's lease has expired: its create is not sent, even before a take-over.
        with pytest.raises(ClaimLost):
            await a.creating("k", REF, INPUT)
        taken = await b.claim("k", REF, INPUT)
        assert not taken.busy
        assert taken.row is not None
        assert taken.row.state == "creating"
        with pytest.raises(ClaimLost):
            await a.creating("k", REF, INPUT)
        # The old holder's later writes do not touch the new holder's row.
        await a.created("k", "stale")
        await a.forget("k")
        await b.creating("k", REF, INPUT)
        rows = await b.rows()
        assert [(r.key, r.state, r.prediction_id) for r in rows] == [("k", "creating", None)]
    finally:
        await a.close()
        await b.close()


async def test_the_heartbeat_renews_every_claim_of_its_worker_in_one_statement(pg_url):
    a = await opened(pg_url, lease=0.6)
    b = await opened(pg_url, lease=0.6)
    try:
        for key in ("k1", "k2", "k3"):
            await a.claim(key, REF, {"prompt": key})
        await b.claim("other", REF, INPUT)
        lease = "SELECT key, lease_until FROM replicate_async_jobs WHERE claimed_by = %s"
        before = dict(await sql(pg_url, lease, a.worker))
        assert await a.renew() == 3
        after = dict(await sql(pg_url, lease, a.worker))
        assert all(after[k] > before[k] for k in before)  # type: ignore[operator]
        async with anyio.create_task_group() as tg:
            tg.start_soon(a.hold)
            with anyio.fail_after(10):  # beats every lease / 3: watch the lease move
                while dict(await sql(pg_url, lease, a.worker))["k1"] == after["k1"]:
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
        assert (await b.claim("k1", REF, {"prompt": "k1"})).busy
    finally:
        await a.close()
        await b.close()


async def test_take_over_skips_rows_locked_by_another_worker(pg_url):
    import psycopg

    a, b = await opened(pg_url), await opened(pg_url)
    try:
        for key in ("k1", "k2"):
            await a.claim(key, REF, {"prompt": key})
            await expire(pg_url, key)
        async with await psycopg.AsyncConnection.connect(pg_url) as locker:
            # Another worker is taking k1 over right now (its row is locked).
            await locker.execute("SELECT 1 FROM replicate_async_jobs WHERE key = 'k1' FOR UPDATE")
            with anyio.fail_after(5):  # does not wait for the lock
                settled = await b.settle(["k1", "k2"])
            assert settled.claimable == {"k2"}
            await locker.rollback()
        assert (await b.settle(["k1"])).claimable == {"k1"}
        assert (await a.claim("k1", REF, {"prompt": "k1"})).busy
    finally:
        await a.close()
        await b.close()


async def test_a_cut_connection_is_replaced_and_the_statement_run_again(pg_url):
    a = await opened(pg_url)
    try:
        await a.claim("k1", REF, {"prompt": "k1"})
        await sql(
            pg_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        assert not (await a.claim("k2", REF, {"prompt": "k2"})).busy
        assert await a.renew() == 2
    finally:
        await a.close()


async def test_concurrent_claims_of_one_job_give_it_to_exactly_one_worker(pg_url):
    workers = [await opened(pg_url) for _ in range(6)]
    try:
        results: list[bool] = []

        async def claim(journal: PostgresJournal) -> None:
            results.append(not (await journal.claim("k", REF, INPUT)).busy)

        async with anyio.create_task_group() as tg:
            for journal in workers:
                tg.start_soon(claim, journal)
        assert sorted(results) == [False] * 5 + [True]
    finally:
        for journal in workers:
            await journal.close()


async def test_a_key_of_another_job_is_a_mismatch(pg_url):
    a, b = await opened(pg_url), await opened(pg_url)
    try:
        await a.claim("k", REF, INPUT)
        with pytest.raises(JournalMismatch, match="another input") as caught:
            await b.claim("k", REF, {"prompt": "a dog"})
        assert caught.value.key == "k"
        with pytest.raises(JournalMismatch, match="model reference"):
            await a.claim("k", "acme/other", INPUT)
    finally:
        await a.close()
        await b.close()


async def test_batches_of_one_database_are_apart(pg_url):
    a, b = await opened(pg_url, batch="one"), await opened(pg_url, batch="two")
    try:
        await a.claim("k", REF, INPUT)
        assert not (await b.claim("k", REF, {"prompt": "another job"})).busy
    finally:
        await a.close()
        await b.close()


async def test_close_releases_the_claims_at_once(pg_url):
    a, b = await opened(pg_url), await opened(pg_url)
    try:
        await a.claim("k", REF, INPUT)
        await a.creating("k", REF, INPUT)
        await a.close()
        assert (await b.settle(["k"])).claimable == {"k"}
        taken = await b.claim("k", REF, INPUT)
        assert taken.row is not None
        assert taken.row.state == "creating"
    finally:
        await b.close()


async def test_workers_starting_at_once_make_the_schema_once(pg_url):
    journals = [PostgresJournal(pg_url, batch="b") for _ in range(8)]
    async with anyio.create_task_group() as tg:
        for journal in journals:
            tg.start_soon(journal.open)
    for journal in journals:
        await journal.close()
    assert await sql(pg_url, "SELECT name, value FROM replicate_async_meta") == [
        ("schema_version", "1")
    ]


async def test_a_newer_schema_or_a_foreign_table_is_refused(pg_url):
    journal = await opened(pg_url)
    await journal.close()
    await sql(pg_url, "UPDATE replicate_async_meta SET value = '99'")
    with pytest.raises(JournalError, match=r"schema 99.*upgrade"):
        await opened(pg_url)
    await sql(pg_url, "DROP TABLE replicate_async_jobs, replicate_async_meta")
    await sql(pg_url, "CREATE TABLE replicate_async_jobs (id int)")
    with pytest.raises(JournalError, match="not a journal's"):
        await opened(pg_url)


async def test_a_user_without_create_uses_tables_made_by_another(pg_url):
    """Workers may run as a user that may only read and write the journal's two tables."""
    role = f"worker_{pg_url.rsplit('/', 1)[1]}"
    await sql(pg_url, f"CREATE ROLE {role} LOGIN")
    as_worker = pg_url.replace("postgres@", f"{role}@")
    with pytest.raises(JournalError, match=r"permission denied.*GRANT CREATE ON SCHEMA"):
        await opened(as_worker)  # nothing made yet, and it may not make it
    await (await opened(pg_url)).close()  # made once by the owner
    await sql(
        pg_url,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON replicate_async_jobs, replicate_async_meta"
        f" TO {role}",
    )
    worker = await opened(as_worker)
    try:
        assert not (await worker.claim("k", REF, INPUT)).busy
        await worker.creating("k", REF, INPUT)
    finally:
        await worker.close()


async def test_terminal_failed_rows_keep_the_prediction(pg_url):
    a = await opened(pg_url)
    try:
        await a.claim("k", REF, INPUT)
        await a.finished("k", prediction("failed"))
        (listed,) = await a.rows()  # ids and states only, for the look-up
        assert (listed.state, listed.prediction_id, listed.prediction) == ("failed", "p1", None)
        row = (await a.claim("k", REF, INPUT)).row
        assert row is not None
        assert row.state == "failed"
        assert json.loads(row.prediction or "")["error"] == "boom"
    finally:
        await a.close()


def test_a_url_needs_a_batch_name_and_a_sane_lease():
    with pytest.raises(JournalError, match=r"needs a batch name: add \?batch=NAME"):
        PostgresJournal("postgresql://u:secret@localhost/db")
    journal = PostgresJournal("postgresql://u:secret@localhost/db?batch=nightly&lease=12")
    assert (journal.batch, journal.lease) == ("nightly", 12.0)
    assert "secret" not in repr(journal)
    assert "secret" not in journal.url
    assert PostgresJournal("postgresql://localhost/db?batch=x", batch="y").batch == "y"
    with pytest.raises(JournalError, match="lease must be"):
        PostgresJournal("postgresql://localhost/db?batch=x&lease=soon")
    with pytest.raises(JournalError, match="lease must be"):
        PostgresJournal("postgresql://localhost/db", batch="x", lease=0)
    with pytest.raises(JournalError, match="not a PostgreSQL URL"):
        PostgresJournal("mysql://localhost/db", batch="x")


async def test_a_server_that_is_not_there_is_one_clear_error(pg_server):
    url = f"postgresql://postgres:pw@127.0.0.1:{free_port()}/db"
    with pytest.raises(JournalError, match="cannot connect to the PostgreSQL journal") as caught:
        await opened(url)
    assert "pw" not in str(caught.value)
    with pytest.raises(JournalError, match="does not exist"):
        await opened(pg_server.url("no_such_database"))
    nobody = pg_server.url().replace("postgres@", "nobody:pw@")
    with pytest.raises(JournalError, match=r'role "nobody" does not exist\): check') as caught:
        await opened(nobody)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_is_refused_clearly(pg_url):
    with pytest.raises(JournalError, match="asyncio only"):
        await opened(pg_url)
