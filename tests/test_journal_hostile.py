# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The journal under hostile conditions (issue 11, items 2, 3 and 9), over loopback to the emulator.

A key reused for another job, a create accepted with a reply that does not decode, a corrupt
or foreign file, and a second process on the same journal.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from _emulator_support import unlimited_client, unlimited_emulator
from replicate_async import (
    AsyncClient,
    CreateOutcomeUnknown,
    DecodeError,
    Job,
    JournalError,
    JournalLocked,
    JournalMismatch,
    ValidationError,
)
from replicate_async._journal import Journal
from replicate_async.emulator import (
    FakeModel,
    FaultRule,
)

# The journal's layout before fingerprints (schema 1), as 0.1.0 development builds wrote it.
SCHEMA_1 = """
CREATE TABLE jobs (
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


@pytest.fixture(scope="module")
def server():
    """An emulator with a quick text model and no rate limits."""
    models = (FakeModel(owner="h", name="quick", kind="text", official=True, latency=0.1),)
    with unlimited_emulator(*models) as srv:
        yield srv


@pytest.fixture
def emulator(server):
    server.reset()
    return server


# -- item 2: a key reused for another job ---------------------------------------------------------


@pytest.mark.anyio
async def test_a_key_reused_with_another_input_is_refused(emulator, tmp_path, anyio_backend):
    """A second batch with the same keys and other inputs raises JournalMismatch and creates nothing."""
    path = tmp_path / "j.sqlite"
    async with unlimited_client(emulator) as client:
        await client.run_many([Job("h/quick", {"prompt": "first"}, key="k0")], journal=path)
        with pytest.raises(JournalMismatch) as caught:
            await client.run_many([Job("h/quick", {"prompt": "second"}, key="k0")], journal=path)
    assert caught.value.key == "k0"
    assert caught.value.path == str(path)
    assert "'k0'" in str(caught.value)
    assert str(path) in str(caught.value)
    assert "another journal" in str(caught.value)
    assert emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_a_key_reused_with_another_ref_is_that_jobs_error(emulator, tmp_path, anyio_backend):
    """With return_exceptions a mismatched key holds JournalMismatch; the other jobs run."""
    path = tmp_path / "j.sqlite"
    async with unlimited_client(emulator) as client:
        await client.run_many([Job("h/quick", {"prompt": "x"}, key="k0")], journal=path)
        results = await client.run_many(
            [
                Job("h/quick:" + "0" * 64, {"prompt": "x"}, key="k0"),
                Job("h/quick", {"prompt": "fresh"}, key="k1"),
            ],
            journal=path,
            return_exceptions=True,
        )
    assert isinstance(results[0], JournalMismatch)
    assert "model reference" in str(results[0])
    assert results[1] == "fresh"
    assert emulator.stats()["creates"] == 2


@pytest.mark.anyio
async def test_one_key_for_two_jobs_of_one_batch_is_refused(emulator, tmp_path):
    """Two jobs of one batch with one key and different inputs: one runs, the other mismatches."""
    path = tmp_path / "j.sqlite"
    jobs = [
        Job("h/quick", {"prompt": "a"}, key="same"),
        Job("h/quick", {"prompt": "b"}, key="same"),
    ]
    async with unlimited_client(emulator) as client:
        results = await client.run_many(jobs, journal=path, return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["JournalMismatch", "str"]
    assert emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_a_schema_1_journal_is_migrated_without_losing_rows(emulator, tmp_path):
    """A journal from before fingerprints opens, keeps its rows and still refuses a mismatch."""
    path = tmp_path / "j.sqlite"
    async with unlimited_client(emulator) as client:
        prediction = await client.predictions.create("h/quick", {"prompt": "old"}, wait=False)
        db = sqlite3.connect(path)
        db.execute(SCHEMA_1)
        db.execute(
            "INSERT INTO jobs VALUES ('old', 'created', 'h/quick', '{\"prompt\":\"old\"}', ?, NULL,"
            " 1.0, 1.0)",
            (prediction.id,),
        )
        db.execute("PRAGMA user_version=1")
        db.commit()
        db.close()
        with pytest.raises(JournalMismatch):
            await client.run_many([Job("h/quick", {"prompt": "new"}, key="old")], journal=path)
        outputs = await client.run_many(
            [Job("h/quick", {"prompt": "old"}, key="old")], journal=path
        )
    assert outputs == ["old"]
    assert emulator.stats()["creates"] == 1
    with Journal(path) as journal:
        assert journal.get("old").prediction_id == prediction.id


# -- item 3: a create accepted with a reply that does not decode ----------------------------------


@pytest.mark.anyio
async def test_an_undecodable_2xx_create_is_not_forgotten(emulator, tmp_path, anyio_backend):
    """A 2xx create whose body does not decode keeps its row; the next run finds it, no 2nd create."""
    path = tmp_path / "j.sqlite"
    job = Job("h/quick", {"prompt": "garbled"}, key="g")
    # The emulator makes the prediction, then answers 201 with a body that is no prediction.
    emulator.set_faults(FaultRule(action="accept_then_error", route="create", status=201, count=1))
    async with unlimited_client(emulator) as client:
        first = await client.run_many([job], journal=path, return_exceptions=True)
        with Journal(path) as journal:
            assert journal.get("g").state == "creating"
        second = await client.run_many([job], journal=path)
    assert isinstance(first[0], CreateOutcomeUnknown)
    assert isinstance(first[0].__cause__, DecodeError)
    assert "again" in str(first[0])
    assert second == ["garbled"]
    assert emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_a_refused_create_drops_its_row(emulator, tmp_path):
    """A create refused with a 4xx surely made nothing: its row goes, the next run creates it."""
    path = tmp_path / "j.sqlite"
    emulator.set_faults(FaultRule(action="error", route="create", status=422, count=1))
    async with unlimited_client(emulator) as client:
        first = await client.run_many(
            [("h/quick", {"prompt": "r"})], journal=path, return_exceptions=True
        )
        with Journal(path) as journal:
            assert list(journal.rows()) == []
        second = await client.run_many([("h/quick", {"prompt": "r"})], journal=path)
    assert not isinstance(first[0], CreateOutcomeUnknown)
    assert second == ["r"]


# -- item 9: corrupt, foreign and shared journals -------------------------------------------------


@pytest.mark.anyio
async def test_a_corrupt_journal_is_our_error_naming_the_path(emulator, tmp_path):
    """Garbage bytes give JournalError naming the file, before any create, and stay untouched."""
    path = tmp_path / "j.sqlite"
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    async with unlimited_client(emulator) as client:
        with pytest.raises(JournalError) as caught:
            await client.run_many([("h/quick", {"prompt": "c"})], journal=path)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    assert "not a journal" in str(caught.value)
    assert path.read_bytes() == garbage
    assert emulator.stats()["creates"] == 0


def test_a_foreign_jobs_table_is_our_error_naming_the_path(tmp_path):
    """A database whose table 'jobs' has other columns is refused at open, naming the file."""
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, command TEXT)")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="not a journal") as caught:
        Journal(path)
    assert str(path) in str(caught.value)


def test_a_foreign_database_is_refused_and_left_unchanged(tmp_path):
    """A database with other tables is refused naming the file, and no table is added to it."""
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(JournalError, match="not a journal") as caught:
        Journal(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_a_journal_of_a_newer_schema_is_our_error(tmp_path):
    """A file written by a newer schema is refused with JournalError naming it."""
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JournalError, match="schema 99") as caught:
        Journal(path)
    assert str(path) in str(caught.value)


HOLDER = textwrap.dedent(
    """
    import sys
    from replicate_async._journal import Journal

    with Journal(sys.argv[1]):
        print("open", flush=True)
        sys.stdin.readline()  # hold the journal until the test says so
    """
)

OPENER = textwrap.dedent(
    """
    import sys
    from replicate_async import JournalLocked
    from replicate_async._journal import Journal

    try:
        Journal(sys.argv[1]).close()
    except JournalLocked as exc:
        print("locked:", exc, flush=True)
    else:
        print("opened", flush=True)
    """
)


@pytest.mark.anyio
async def test_a_journal_held_by_another_process_is_refused(emulator, tmp_path):
    """While another process holds the journal, a batch on it fails at once naming the path."""
    path = tmp_path / "j.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    try:
        assert holder.stdout.readline() == "open\n"  # blocks until the other process has it
        async with unlimited_client(emulator) as client:
            with pytest.raises(JournalLocked) as caught:
                await client.run_many([("h/quick", {"prompt": "p"})], journal=path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    assert str(path) in str(caught.value)
    assert emulator.stats()["creates"] == 0
    with Journal(path):  # the other process has exited: the journal is free again
        pass


def test_this_process_holding_the_journal_locks_out_another(tmp_path):
    """A journal held open here is refused to a second process (and to a second Journal here)."""
    path = tmp_path / "j.sqlite"
    with Journal(path):
        with pytest.raises(JournalLocked, match="in use"):
            Journal(path)
        other = subprocess.run(
            [sys.executable, "-c", OPENER, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    assert other.stdout.startswith("locked:"), other.stdout + other.stderr
    assert str(path) in other.stdout
    again = subprocess.run(
        [sys.executable, "-c", OPENER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert again.stdout == "opened\n", again.stderr


@pytest.mark.anyio
async def test_a_circular_input_in_a_journaled_batch_names_its_path(replicate_emulator, tmp_path):
    """A journal's key reads the input: a cycle is a ValidationError naming the field, no create."""
    looped: list[object] = []
    looped.append(looped)
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        with pytest.raises(ValidationError, match=r"input\.a\[0\]: circular reference"):
            await client.run_many([("emulator/echo", {"a": looped})], journal=tmp_path / "j.sqlite")
    assert replicate_emulator.stats()["creates"] == 0
