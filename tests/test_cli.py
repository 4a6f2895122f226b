"""The `replicate-async` command: its pieces (inputs, jobs, output, terminal), --version and demo.

The commands themselves are driven as a user does in tests/test_cli_*.py.
"""

from __future__ import annotations

import io
from importlib.metadata import version
from pathlib import Path

import pytest

from _cli_support import cli, on_terminal
from replicate_async import AuthenticationError, NotFoundError, Progress, ValidationError
from replicate_async.cli import _terminal as terminal
from replicate_async.cli import main, parse_inputs
from replicate_async.cli._api import schema_rows
from replicate_async.cli._batch import default_paths
from replicate_async.cli._inputs import read_jobs
from replicate_async.cli._output import last_log_line
from replicate_async.cli._runtime import UsageError, exit_code
from replicate_async.exceptions import FileExpiredError, PredictionFailed, PredictionTimeout


def test_parse_inputs_reads_json_values_and_falls_back_to_text():
    """KEY=VALUE values are JSON when they parse, plain text otherwise."""
    assert parse_inputs(["n=2", "prompt=a cat", "flag=true", "xs=[1,2]", 'n2="2"']) == {
        "n": 2,
        "prompt": "a cat",
        "flag": True,
        "xs": [1, 2],
        "n2": "2",
    }


def test_parse_inputs_turns_at_paths_into_files(tmp_path):
    """`@path` becomes the file's Path (uploaded by the client); a JSON string keeps an '@'."""
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"png")
    assert parse_inputs([f"image=@{picture}", 'handle="@me"']) == {
        "image": picture,
        "handle": "@me",
    }


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("prompt", "'prompt' is not KEY=VALUE"),
        ("=x", "is not KEY=VALUE"),
        ("image=@", "write a file after '@'"),
        ("image=@/no/such/file.png", "no such file: /no/such/file.png"),
    ],
)
def test_parse_inputs_refuses_bad_pairs(pair, says):
    """A pair without '=' or key, or an @path that is no file, is a usage error naming it."""
    with pytest.raises(UsageError, match=says):
        parse_inputs([pair])


def test_read_jobs_accepts_model_ref_version_and_key(tmp_path):
    """Each line names its model by model, ref or version; input and key are optional."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        '{"model": "a/b", "input": {"x": 1}}\n'
        '{"ref": "a/b:' + "0" * 64 + '"}\n'
        "\n"
        '{"version": "' + "1" * 64 + '", "key": "k"}\n'
    )
    first, second, third = read_jobs(jobs)
    assert (first.ref, dict(first.input)) == ("a/b", {"x": 1})
    assert (second.ref, dict(second.input)) == ("a/b:" + "0" * 64, {})
    assert (third.ref, third.key) == ("1" * 64, "k")


def test_read_jobs_refuses_an_empty_or_missing_file(tmp_path):
    """A file with no job, or none at all, is a usage error."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(UsageError, match="no jobs"):
        read_jobs(empty)
    with pytest.raises(UsageError, match="cannot read"):
        read_jobs(tmp_path / "missing.jsonl")


def test_read_jobs_refuses_a_non_string_key(tmp_path):
    """A key that is not a string is refused with the line number."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"model": "a/b", "key": 3}\n')
    with pytest.raises(UsageError, match=r"jobs.jsonl:1: key must be a string"):
        read_jobs(jobs)


def test_default_paths_sit_beside_the_jobs_file(tmp_path):
    """The journal, results and files default to names beside the jobs file."""
    assert default_paths(tmp_path / "jobs.jsonl") == (
        tmp_path / "jobs.journal",
        tmp_path / "jobs.results.jsonl",
        tmp_path / "jobs-output",
    )
    assert default_paths(Path("jobs"))[0] == Path("jobs.journal")


def test_last_log_line_is_the_last_non_blank_line():
    """tqdm's carriage returns end lines too."""
    assert last_log_line("a\nb\r 50%|##| 1/2\n\n") == "50%|##| 1/2"
    assert last_log_line("") == ""
    assert last_log_line("\n \n") == ""


def test_run_view_line_shows_id_status_elapsed_progress_and_log():
    """The status line reads: id, status, elapsed, the logs' progress, last log line."""
    from replicate_async import Prediction, PredictionStatus

    view = terminal.RunView(started=100.0)
    logs = "loading\n 10%|#         | 1/10\r 45%|####5     | 45/100 [00:04<00:05]\nstep 45"
    view.show(Prediction(id="abc", status=PredictionStatus.PROCESSING, logs=logs))
    assert view.line(now=112.34) == "abc  processing  12.3s   45%  step 45"
    view.show(Prediction(id="abc", status=PredictionStatus.PROCESSING, logs="no bar"))
    assert view.line(now=112.34) == "abc  processing  12.3s  no bar"
    assert terminal.RunView(started=0.0).line(now=65) == "creating  1m05s"
    assert terminal.RunView(started=0.0).line(now=7300) == "creating  2h01m"


def test_plain_table_aligns_columns_and_right_aligns_numbers():
    """Columns are padded; numeric columns are right-aligned."""
    text = terminal.plain_table(["model", "n"], [["a/b", 3], ["long/name", 12]])
    assert text.splitlines() == ["model       n", "a/b         3", "long/name  12"]


def test_without_rich_a_terminal_gets_no_live_drawing(monkeypatch):
    """Without rich, a terminal gets notes but no live line or bar, and tables are plain."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(terminal, "rich_installed", lambda: False)
    out, err = Tty(), Tty()
    term = terminal.Terminal(stdout=out, stderr=err)
    assert term.watched
    assert not term.live
    with term.run_line(terminal.RunView()) as view:
        view.status = "processing"
    with term.batch_bar(3, "jobs") as bar:
        assert not bar.drawn
        bar.update(
            Progress(
                total=3,
                submitted=1,
                running=1,
                succeeded=0,
                failed=0,
                retried=0,
                resumed=0,
                elapsed=1.0,
            )
        )
    term.note("a note")
    term.table(["a"], [["x"]], title="T")
    assert err.getvalue() == "a note\n"
    assert out.getvalue() == "T\na\nx\n"


def test_a_pipe_gets_no_notes():
    """Notes are for a person at a terminal: a pipe gets none."""
    err = io.StringIO()
    terminal.Terminal(stdout=io.StringIO(), stderr=err).note("hidden")
    assert err.getvalue() == ""


def test_schema_rows_describe_each_field_in_order():
    """Fields come in x-order with type, default, allowed values, required and description."""
    schema = {
        "required": ["prompt"],
        "properties": {
            "size": {"type": "string", "enum": ["s", "m"], "default": "m", "x-order": 2},
            "prompt": {"type": "string", "x-order": 0, "description": "What to draw"},
            "image": {"type": "string", "format": "uri", "x-order": 1},
            "steps": {"type": "integer", "minimum": 1, "x-order": 3},
            "tags": {"type": "array", "items": {"type": "string"}, "x-order": 4},
            "seed": {"type": ["integer", "null"], "x-order": 5},
            "mode": {"enum": ["a", "b"], "x-order": 6},
            "extra": {},
        },
    }
    assert schema_rows(schema) == [
        ["prompt", "string", "", "", "yes", "What to draw"],
        ["image", "file", "", "", "", ""],
        ["size", "string", '"m"', "s, m", "", ""],
        ["steps", "integer", "", "1..", "", ""],
        ["tags", "array of string", "", "", "", ""],
        ["seed", "integer", "", "", "", ""],
        ["mode", "enum", "", "a, b", "", ""],
        ["extra", "any", "", "", "", ""],
    ]


def _prediction():
    from replicate_async import Prediction, PredictionStatus

    return Prediction(id="p", status=PredictionStatus.FAILED)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), 2),
        (ValidationError(status_code=None, message="x"), 2),
        (NotFoundError(status_code=404, message="x"), 2),
        (FileExpiredError(status_code=None, message="x"), 1),
        (AuthenticationError(status_code=401, message="x"), 3),
        (PredictionTimeout(prediction=_prediction(), timeout=1), 4),
        (PredictionFailed(prediction=_prediction()), 1),
    ],
)
def test_exit_codes(error, code):
    """Each error maps to the exit code PRODUCT.md fixes."""
    assert exit_code(error) == code


def test_version_prints_the_package_version():
    """`--version` prints the installed version."""
    done = cli(None, "--version")
    assert done.returncode == 0
    assert done.stdout == f"replicate-async {version('replicate-async')}\n"


def test_help_names_every_command_and_the_exit_codes():
    """`--help` lists the commands and the exit codes."""
    done = cli(None, "--help")
    for command in ("run", "stream", "batch", "predictions", "models", "emulator", "demo"):
        assert command in done.stdout
    assert "130 interrupted" in " ".join(done.stdout.split())


def test_no_command_is_a_usage_error():
    """No command exits 2 with argparse's usage line."""
    done = cli(None)
    assert done.returncode == 2
    assert "usage: replicate-async" in done.stderr


def test_demo_runs_every_job_and_saves_real_files(tmp_path, capsys):
    """The demo runs all its jobs against an embedded emulator and saves valid files."""
    out = tmp_path / "out"
    code = main(
        ["demo", "--jobs", "12", "--concurrency", "6", "--out", str(out), "--time-scale", "0.002"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "12/12 succeeded" in printed
    assert "0 duplicate" in printed
    files = sorted(out.iterdir())
    pngs = [f for f in files if f.suffix == ".png"]
    wavs = [f for f in files if f.suffix == ".wav"]
    mp4s = [f for f in files if f.suffix == ".mp4"]
    assert pngs
    assert wavs
    assert mp4s
    assert pngs[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert wavs[0].read_bytes()[:4] == b"RIFF"
    assert mp4s[0].read_bytes()[4:8] == b"ftyp"


def test_demo_on_a_terminal_draws_a_progress_bar_not_a_line_per_job(tmp_path):
    """On a terminal the demo shows one progress bar instead of a line per finished job."""
    code, out, screen = on_terminal(
        None, "demo", "--jobs", "6", "--out", str(tmp_path), "--time-scale", "0.002"
    )
    assert code == 0
    assert "6/6 succeeded" in out
    assert "6/6" in screen
    assert "6 ok 0 failed" in screen
    assert "done," not in screen  # the per-job lines of a pipe


def test_print_output_prints_other_outputs_as_json(capsys):
    """An output that is neither text nor files is printed as JSON; None prints nothing."""
    from replicate_async.cli._run import _print_output

    _print_output({"score": 0.9, "labels": ["cat"]}, None)
    _print_output(None, None)
    assert capsys.readouterr().out == '{\n  "score": 0.9,\n  "labels": [\n    "cat"\n  ]\n}\n'


class _Predictions:
    """A client's predictions whose cancel fails or hangs."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    async def cancel(self, prediction_id: str):
        import anyio

        from replicate_async import ServerError

        if self.fail:
            raise ServerError(status_code=503, message="busy")
        await anyio.sleep(10)


class _Client:
    def __init__(self, fail: bool) -> None:
        self.predictions = _Predictions(fail)


def _running(status: str = "processing"):
    from replicate_async import Prediction, PredictionStatus

    return Prediction(id="p1", status=PredictionStatus(status))


@pytest.mark.anyio
async def test_an_abandoned_prediction_that_ended_is_not_canceled():
    """A prediction that already ended is reported as such, with no cancel."""
    from replicate_async.cli._run import _cancel

    note = await _cancel(_Client(fail=True), _running("succeeded"))
    assert note == "prediction p1 had already ended (succeeded)"


@pytest.mark.anyio
async def test_a_failed_cancel_says_how_to_cancel_by_hand():
    """When the cancel fails the note names the command that cancels it."""
    from replicate_async.cli._run import _cancel

    note = await _cancel(_Client(fail=True), _running())
    assert note.startswith("could not cancel prediction p1 (")
    assert note.endswith("cancel it with: replicate-async predictions cancel p1")


@pytest.mark.anyio
async def test_a_cancel_that_hangs_is_given_up_within_the_grace(monkeypatch):
    """A cancel that does not answer within the grace is reported, not waited for."""
    from replicate_async.cli import _run

    monkeypatch.setattr(_run, "CANCEL_GRACE", 0.05)
    note = await _run._cancel(_Client(fail=False), _running())
    assert note.startswith("prediction p1 did not answer the cancel in time")


def test_a_closed_stream_is_not_a_terminal():
    """A stream that cannot say whether it is a terminal counts as none."""
    stream = io.StringIO()
    stream.close()
    assert not terminal.Terminal(stdout=stream, stderr=stream).watched
