# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The SQLite journal: its rows, and run_many resuming from it against the emulator."""

from __future__ import annotations

import sqlite3

import pytest

from _emulator_support import unlimited_client, unlimited_emulator
from replicate_async import (
    CreateOutcomeUnknown,
    Job,
    JournalBackend,
    JournalError,
    PredictionFailed,
)
from replicate_async._converters import structure
from replicate_async._journal import Journal, canonical_json, job_key
from replicate_async._journal_backend import LocalJournal
from replicate_async._models import Prediction
from replicate_async.emulator import (
    FakeModel,
)

PREDICTION = {"id": "p1", "status": "succeeded", "output": ["https://x.test/a.png"], "input": {}}


# -- the journal file -----------------------------------------------------------------------------


def test_keys_are_stable_and_depend_on_ref_input_and_index():
    """The same job at the same index has the same key; any difference changes it."""
    key = job_key("a/b", {"x": 1, "y": 2}, 0)
    assert key == job_key("a/b", {"y": 2, "x": 1}, 0)
    assert len({key, job_key("a/c", {"x": 1, "y": 2}, 0), job_key("a/b", {"x": 1, "y": 2}, 1)}) == 3


def test_canonical_json_sorts_keys():
    """Canonical JSON has sorted keys and no spaces."""
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_a_row_goes_from_creating_to_created_to_final(tmp_path):
    """creating, created and finished write the row's states in turn."""
    journal = Journal(tmp_path / "j.sqlite")
    journal.creating("k", "a/b", {"prompt": "x"})
    assert journal.get("k").state == "creating"
    journal.created("k", "p1")
    assert (journal.get("k").state, journal.get("k").prediction_id) == ("created", "p1")
    journal.finished("k", structure(PREDICTION, Prediction))
    row = journal.get("k")
    assert row.state == "succeeded"
    assert row.final().output == ["https://x.test/a.png"]
    assert journal.counts() == {"succeeded": 1}
    journal.close()


def test_rows_survive_reopening(tmp_path):
    """A row committed by one connection is there for the next one (the crash case)."""
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.creating("k", "a/b", {})
    with Journal(tmp_path / "j.sqlite") as journal:
        assert journal.get("k").state == "creating"


def test_forget_deletes_the_row(tmp_path):
    """forget removes a job's row."""
    journal = Journal(tmp_path / "j.sqlite")
    journal.creating("k", "a/b", {})
    journal.forget("k")
    assert journal.get("k") is None
    assert list(journal.rows()) == []
    journal.close()


def test_a_row_without_prediction_has_no_final(tmp_path):
    """final() on a row that holds no prediction raises ValueError."""
    journal = Journal(tmp_path / "j.sqlite")
    journal.creating("k", "a/b", {})
    with pytest.raises(ValueError, match="no prediction"):
        journal.get("k").final()
    journal.close()


def test_the_journal_uses_wal(tmp_path):
    """The database is in WAL mode."""
    Journal(tmp_path / "j.sqlite").close()
    db = sqlite3.connect(tmp_path / "j.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_journal_of_another_schema_is_refused(tmp_path):
    """A file written by a future schema is not reused."""
    db = sqlite3.connect(tmp_path / "j.sqlite")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JournalError, match="schema 99"):
        Journal(tmp_path / "j.sqlite")


def test_repr_names_the_file(tmp_path):
    """repr shows the path."""
    with Journal(tmp_path / "j.sqlite") as journal:
        assert "j.sqlite" in repr(journal)


# -- resuming against the emulator ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """An emulator with a quick and a long model, no rate limits."""
    models = (
        FakeModel(owner="j", name="quick", kind="text", official=True, latency=0.1),
        FakeModel(owner="j", name="long", kind="text", official=True, latency=1000.0),
        FakeModel(owner="j", name="fail", kind="fail", official=True, latency=0.1),
    )
    with unlimited_emulator(*models) as srv:
        yield srv


@pytest.fixture
def emulator(server):
    server.reset()
    return server


@pytest.mark.anyio
async def test_a_second_run_takes_finished_jobs_from_the_journal(emulator, tmp_path, anyio_backend):
    """Re-running a finished batch creates nothing and returns the same results."""
    path = tmp_path / "j.sqlite"
    jobs = [("j/quick", {"prompt": "a"}), ("j/fail", {"prompt": "b"})]
    async with unlimited_client(emulator) as client:
        first = await client.run_many(jobs, journal=path, return_exceptions=True)
        second = await client.run_many(jobs, journal=path, return_exceptions=True)
    assert first[0] == second[0] == "a"
    assert isinstance(second[1], PredictionFailed)
    assert emulator.stats()["creates"] == 2


@pytest.mark.anyio
async def test_a_running_prediction_is_waited_on_not_created_again(emulator, tmp_path):
    """A job journaled with a prediction id is re-attached to that prediction."""
    path = tmp_path / "j.sqlite"
    async with unlimited_client(emulator) as client:
        prediction = await client.predictions.create("j/quick", {"prompt": "r"}, wait=False)
        journal = Journal(path)
        journal.creating(job_key("j/quick", {"prompt": "r"}, 0), "j/quick", {"prompt": "r"})
        journal.created(job_key("j/quick", {"prompt": "r"}, 0), prediction.id)
        journal.close()
        events = []
        outputs = await client.run_many(
            [("j/quick", {"prompt": "r"})], journal=path, on_progress=events.append
        )
    assert outputs == ["r"]
    assert emulator.stats()["creates"] == 1
    assert [e.kind for e in events] == ["resumed", "succeeded"]


@pytest.mark.anyio
async def test_an_unknown_create_is_found_in_the_prediction_list(emulator, tmp_path):
    """A 'creating' row whose prediction exists is matched by input and re-attached."""
    path = tmp_path / "j.sqlite"
    job = Job("j/quick", {"prompt": "lost"}, key="lost")
    journal = Journal(path)
    journal.creating("lost", "j/quick", {"prompt": "lost"})
    journal.close()
    async with unlimited_client(emulator) as client:
        await client.predictions.create("j/quick", {"prompt": "other"}, wait=False)
        await client.predictions.create("j/quick", {"prompt": "lost"}, wait=False)
        outputs = await client.run_many([job], journal=path)
    assert outputs == ["lost"]
    assert emulator.stats()["creates"] == 2


@pytest.mark.anyio
async def test_an_unknown_create_not_found_is_reported(emulator, tmp_path):
    """A 'creating' row with no matching prediction fails with CreateOutcomeUnknown."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.creating("gone", "j/quick", {"prompt": "gone"})
    journal.close()
    async with unlimited_client(emulator) as client:
        results = await client.run_many(
            [Job("j/quick", {"prompt": "gone"}, key="gone")], journal=path, return_exceptions=True
        )
    assert isinstance(results[0], CreateOutcomeUnknown)
    assert results[0].key == "gone"
    assert emulator.stats()["creates"] == 0


@pytest.mark.anyio
async def test_recreate_unknown_creates_what_was_not_found(emulator, tmp_path):
    """With recreate_unknown=True an unknown create that is not in the list is created."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.creating("gone", "j/quick", {"prompt": "gone"})
    journal.close()
    async with unlimited_client(emulator) as client:
        outputs = await client.run_many(
            [Job("j/quick", {"prompt": "gone"}, key="gone")], journal=path, recreate_unknown=True
        )
    assert outputs == ["gone"]
    assert emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_predictions_cancelled_by_the_batch_run_again_next_time(emulator, tmp_path):
    """A batch cancelled mid-way forgets what it cancelled, so the next run creates it again."""
    import anyio

    path = tmp_path / "j.sqlite"
    jobs = [("j/long", {"prompt": f"l{i}"}) for i in range(3)]
    async with unlimited_client(emulator) as client:
        with anyio.CancelScope() as scope:

            def on_progress(event) -> None:
                if event.progress.running == 3:
                    scope.cancel()

            await client.run_many(jobs, journal=path, wait=1, on_progress=on_progress)
    assert emulator.stats()["cancels"] == 3
    with Journal(path) as journal:
        assert list(journal.rows()) == []


# -- the backend protocol -------------------------------------------------------------------------


class _Recording(LocalJournal):
    """The SQLite journal, noting every call the engine makes."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.calls: list[str] = []

    async def claim(self, key, ref, input):  # noqa: A002
        self.calls.append("claim")
        return await super().claim(key, ref, input)

    async def creating(self, key, ref, input):  # noqa: A002
        self.calls.append("creating")
        await super().creating(key, ref, input)

    async def created(self, key, prediction_id):
        self.calls.append("created")
        await super().created(key, prediction_id)

    async def finished(self, key, prediction):
        self.calls.append("finished")
        await super().finished(key, prediction)


@pytest.mark.anyio
async def test_run_many_takes_a_journal_backend_object(emulator, tmp_path):
    """A JournalBackend is used as given: the SQLite one is the default behind a path."""
    journal = _Recording(tmp_path / "j.sqlite")
    assert isinstance(journal, JournalBackend)
    assert not journal.shared
    async with unlimited_client(emulator) as client:
        assert await client.run_many([("j/quick", {"prompt": "a"})], journal=journal) == ["a"]
        assert journal.calls == ["claim", "creating", "created", "finished"]
        journal.calls.clear()
        assert await client.run_many([("j/quick", {"prompt": "a"})], journal=journal) == ["a"]
        assert journal.calls == ["claim"]  # taken from its row
    assert emulator.stats()["creates"] == 1
