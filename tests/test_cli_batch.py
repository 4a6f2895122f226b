"""`replicate-async batch`, driven as a user does: a subprocess against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli_support import api_get, cli, interrupt, on_terminal, start, wait_until


def _write_jobs(path: Path, *jobs: dict) -> Path:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs))
    return path


def _results(path: Path) -> dict[int, dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return {line["index"]: line for line in lines}


def test_batch_runs_every_job_and_writes_results_files_and_a_summary(replicate_emulator, tmp_path):
    """Every job runs; results (one line per job), files and journal land beside the jobs file."""
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        {"model": "emulator/echo", "input": {"prompt": "zero"}},
        {"ref": "emulator/image", "input": {"prompt": "one", "num_outputs": 2}},
        {"model": "emulator/tokens", "input": {"prompt": "two"}},
    )
    done = cli(replicate_emulator, "batch", str(jobs))
    assert done.returncode == 0, done.stderr
    results = _results(tmp_path / "jobs.results.jsonl")
    assert sorted(results) == [0, 1, 2]
    assert {r["status"] for r in results.values()} == {"succeeded"}
    assert results[0]["output"] == "zero"
    assert results[2]["text"] == "".join(results[2]["output"])
    files = [Path(p) for p in results[1]["files"]]
    assert [p.name for p in files] == ["1-out-0.png", "1-out-1.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in files)
    assert files[0].parent == tmp_path / "jobs-output"
    assert (tmp_path / "jobs.journal").exists()
    ids = {p["id"] for p in api_get(replicate_emulator, "/v1/predictions")["results"]}
    assert {r["prediction_id"] for r in results.values()} == ids
    assert "3 of 3 succeeded" in done.stdout
    assert "emulator/image" in done.stdout  # the summary table


def test_batch_exits_1_when_a_job_failed_and_names_it(replicate_emulator, tmp_path):
    """A failed job makes the batch exit 1; its error is in the results and on stderr."""
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        {"model": "emulator/echo", "input": {"prompt": "fine"}},
        {"model": "emulator/fail", "input": {"prompt": "x"}},
    )
    done = cli(replicate_emulator, "batch", str(jobs), "--no-journal")
    assert done.returncode == 1
    results = _results(tmp_path / "jobs.results.jsonl")
    assert results[0]["status"] == "succeeded"
    assert results[1]["status"] == "failed"
    assert results[1]["prediction_id"] in results[1]["error"]
    assert "job 1 (emulator/fail)" in done.stderr
    assert not (tmp_path / "jobs.journal").exists()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"model": "emulator/echo", "input": ', "not JSON"),
        ('["emulator/echo"]', "expected an object"),
        ('{"input": {}}', "exactly one of model, ref or version"),
        ('{"model": "emulator/echo", "inputs": {}}', "unknown key 'inputs'"),
        ('{"model": "no model here"}', "invalid model"),
        ('{"model": "emulator/echo", "input": "hi"}', "input must be an object"),
        ('{"model": 3}', "model must be a string"),
    ],
)
def test_a_bad_line_exits_2_naming_it_before_any_create(replicate_emulator, tmp_path, line, says):
    """A line that is not a job is refused with its line number, exit 2, and nothing is created."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"model": "emulator/echo", "input": {"prompt": "ok"}}\n\n' + line + "\n")
    done = cli(replicate_emulator, "batch", str(jobs))
    assert done.returncode == 2
    assert f"{jobs}:3: " in done.stderr
    assert says in done.stderr
    assert replicate_emulator.stats()["creates"] == 0
    assert not (tmp_path / "jobs.results.jsonl").exists()


def test_a_refused_token_stops_the_batch_with_exit_3(replicate_emulator, tmp_path):
    """An authentication error ends the batch at once with exit 3."""
    jobs = _write_jobs(tmp_path / "jobs.jsonl", {"model": "emulator/echo", "input": {}})
    done = cli(replicate_emulator, "batch", str(jobs), token="r8_wrong")
    assert done.returncode == 3
    assert done.stderr.startswith("replicate-async: ")


def test_results_can_go_to_stdout(replicate_emulator, tmp_path):
    """`--results -` writes the JSONL on stdout (the summary moves to stderr)."""
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", {"model": "emulator/echo", "input": {"prompt": "a"}}
    )
    done = cli(replicate_emulator, "batch", str(jobs), "--results", "-")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["output"] == "a"
    assert "1 of 1 succeeded" in done.stderr


def test_an_interrupted_batch_resumes_from_its_journal_without_creating_again(
    replicate_emulator, tmp_path
):
    """Ctrl-C cancels what runs (exit 130, one line); the next run takes finished jobs from the
    journal and creates only the job that was cancelled."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow: 31 s
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        *({"model": "emulator/echo", "input": {"prompt": f"p{i}"}} for i in range(5)),
        {"model": "emulator/slow", "input": {"prompt": "slow"}},
    )
    results_path = tmp_path / "jobs.results.jsonl"
    proc = start(replicate_emulator, "batch", str(jobs))

    def echoes_recorded() -> bool:
        text = results_path.read_text() if results_path.exists() else ""
        return text.count("\n") == 5 and replicate_emulator.stats()["creates"] == 6

    wait_until(echoes_recorded, "the five quick jobs to finish and the slow one to be created")
    code, _, err = interrupt(proc)
    assert code == 130
    assert err.count("\n") == 1
    assert "5 of 6 jobs finished, 1 in flight canceled" in err
    assert "run the same command again to resume" in err
    first = _results(results_path)
    slow_id = wait_until(
        lambda: next(
            (
                p["id"]
                for p in api_get(replicate_emulator, "/v1/predictions")["results"]
                if p["model"] == "emulator/slow" and p["status"] == "canceled"
            ),
            None,
        ),
        "the slow job's prediction to be canceled",
    )

    replicate_emulator.configure(time_scale=0.01)
    done = cli(replicate_emulator, "batch", str(jobs))
    assert done.returncode == 0, done.stderr
    assert replicate_emulator.stats()["creates"] == 7  # only the cancelled job again
    second = _results(results_path)
    assert sorted(second) == list(range(6))
    for index in range(5):
        assert second[index]["prediction_id"] == first[index]["prediction_id"]
    assert second[5]["prediction_id"] != slow_id
    assert second[5]["output"] == "slow"
    assert "taken from the journal" in done.stdout


def test_batch_on_a_terminal_draws_a_progress_bar(replicate_emulator, tmp_path):
    """On a terminal the batch shows a progress bar with done, failed, running, rate and ETA."""
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        *({"model": "emulator/echo", "input": {"prompt": f"p{i}"}} for i in range(4)),
        {"model": "emulator/fail", "input": {"prompt": "x"}},
    )
    code, _, screen = on_terminal(replicate_emulator, "batch", str(jobs), "--no-journal")
    assert code == 1
    assert "5/5" in screen
    assert "4 ok 1 failed 0 running" in screen
    assert "/s" in screen
    assert "ETA" in screen


def test_timed_out_and_refused_jobs_are_recorded_and_the_batch_exits_1(
    replicate_emulator, tmp_path
):
    """A job past --timeout is canceled (timed_out); one the server refuses is an error."""
    replicate_emulator.configure(time_scale=1.0)
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        {"model": "emulator/slow", "input": {"prompt": "slow"}},
        {"model": "emulator/image", "input": {"prompt": "x", "num_outputs": 9}},
    )
    done = cli(replicate_emulator, "batch", str(jobs), "--timeout", "2", "--no-journal")
    assert done.returncode == 1
    results = _results(tmp_path / "jobs.results.jsonl")
    assert results[0]["status"] == "timed_out"
    assert results[1]["status"] == "error"
    assert "num_outputs" in results[1]["error"]
    slow = api_get(replicate_emulator, f"/v1/predictions/{results[0]['prediction_id']}")
    assert slow["status"] == "canceled"


def test_many_failures_are_summed_up_on_stderr(replicate_emulator, tmp_path):
    """The first five failures are printed, the rest counted."""
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", *({"model": "emulator/fail", "input": {"prompt": "x"}},) * 7
    )
    done = cli(replicate_emulator, "batch", str(jobs), "--no-journal")
    assert done.returncode == 1
    assert done.stderr.count("(emulator/fail): prediction") == 5
    assert "... and 2 more failed jobs in the results" in done.stderr


def test_an_unwritable_results_path_exits_2(replicate_emulator, tmp_path):
    """Results that cannot be written stop the batch with exit 2."""
    jobs = _write_jobs(tmp_path / "jobs.jsonl", {"model": "emulator/echo", "input": {}})
    done = cli(
        replicate_emulator, "batch", str(jobs), "--results", str(tmp_path / "no" / "such.jsonl")
    )
    assert done.returncode == 2
    assert "cannot write the results" in done.stderr


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_concurrency_exits_2(tmp_path, value):
    """--concurrency takes a whole number of at least 1."""
    jobs = _write_jobs(tmp_path / "jobs.jsonl", {"model": "emulator/echo", "input": {}})
    done = cli(None, "batch", str(jobs), "--concurrency", value)
    assert done.returncode == 2
    assert "--concurrency" in done.stderr
