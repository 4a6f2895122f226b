"""`replicate-async run` and `stream`, driven as a user does: a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from _cli_support import (
    api_get,
    cli,
    gets,
    interrupt,
    on_terminal,
    predictions,
    start,
    wait_until,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_run_prints_a_text_output_as_text(replicate_emulator):
    """A text output is printed as it is, and nothing else reaches stdout."""
    done = cli(replicate_emulator, "run", "emulator/echo", "-i", "prompt=hello there")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello there\n"
    assert done.stderr == ""


def test_run_joins_a_language_models_chunks(replicate_emulator):
    """A language model's output (a list of chunks) comes out as one text, not a JSON array."""
    done = cli(replicate_emulator, "run", "emulator/tokens", "-i", "prompt=tell me more")
    assert done.returncode == 0, done.stderr
    text = done.stdout.rstrip("\n")
    assert not text.startswith("[")
    record = predictions(replicate_emulator)[0]
    assert text == "".join(record["output"])


def test_run_uploads_an_at_path_input_and_saves_file_outputs(replicate_emulator, tmp_path):
    """`-i key=@file` sends the file's bytes, and --output saves the file outputs, paths printed."""
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    out = tmp_path / "out"
    done = cli(
        replicate_emulator,
        "run",
        "emulator/echo",
        "-i",
        f"prompt=@{picture}",
        "--output",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    sent = predictions(replicate_emulator)[0]["input"]["prompt"]
    assert sent != f"@{picture}"  # the file, not the literal text, went
    (saved,) = done.stdout.splitlines()
    assert Path(saved).parent == out
    assert Path(saved).read_bytes() == PNG  # echoed back and saved


def test_run_saves_every_file_and_keeps_earlier_ones(replicate_emulator, tmp_path):
    """Each file of a list output is saved and printed; a second run does not overwrite the first."""
    args = ("run", "emulator/image", "-i", "prompt=x", "-i", "num_outputs=2", "-o", str(tmp_path))
    first = cli(replicate_emulator, *args)
    second = cli(replicate_emulator, *args)
    assert first.returncode == second.returncode == 0
    paths = first.stdout.splitlines() + second.stdout.splitlines()
    assert len(set(paths)) == 4
    for path in paths:
        assert Path(path).read_bytes().startswith(b"\x89PNG")


def test_run_json_prints_the_prediction(replicate_emulator, tmp_path):
    """--json prints id, status, output (the file URLs) and metrics; no file is saved without -o."""
    done = cli(
        replicate_emulator, "run", "emulator/image", "-i", "prompt=x", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["id"] == predictions(replicate_emulator)[0]["id"]
    assert data["status"] == "succeeded"
    assert data["output"][0].startswith(replicate_emulator.base_url)
    assert "predict_time" in data["metrics"]
    assert "files" not in data
    assert list(tmp_path.iterdir()) == []


def test_run_json_with_output_lists_the_saved_files(replicate_emulator, tmp_path):
    """--json with --output saves the files and lists their paths."""
    done = cli(
        replicate_emulator, "run", "emulator/image", "-i", "prompt=x", "--json", "-o", str(tmp_path)
    )
    data = json.loads(done.stdout)
    assert [Path(p).name for p in data["files"]] == ["out-0.png"]
    assert (tmp_path / "out-0.png").exists()


def test_a_failed_prediction_exits_1_with_its_error_line(replicate_emulator):
    """A failed prediction exits 1 with one line naming the prediction and its error."""
    done = cli(replicate_emulator, "run", "emulator/fail", "-i", "prompt=x")
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    pid = predictions(replicate_emulator)[0]["id"]
    assert line.startswith(f"replicate-async: prediction {pid} failed: ")


def test_a_failed_prediction_with_json_still_prints_it(replicate_emulator):
    """With --json a failed prediction is printed too (status and error), and exits 1."""
    done = cli(replicate_emulator, "run", "emulator/fail", "-i", "prompt=x", "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["status"] == "failed"
    assert data["error"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["emulator/image", "-i", "num_outputs=9"], "num_outputs"),  # the server's 422
        (["emulator/echo", "-i", "prompt"], "is not KEY=VALUE"),
        (["emulator/echo", "-i", "prompt=@no-such-file.png"], "no such file"),
        (["not a model"], "invalid model"),
        (["emulator/echo", "--timeout", "0"], "must be more than 0"),
        (["emulator/echo", "--wait", "61"], "must be 0 to 60"),
        (["emulator/echo", "--wait", "soon"], "not a whole number"),
        (["emulator/echo", "--timeout", "later"], "not a number"),
    ],
)
def test_bad_usage_or_input_exits_2(replicate_emulator, args, says):
    """Invalid input, a bad argument or a missing file exits 2 with the reason."""
    done = cli(replicate_emulator, "run", *args)
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_input_creates_nothing(replicate_emulator):
    """Input refused before sending (a missing file) costs no create."""
    cli(replicate_emulator, "run", "emulator/echo", "-i", "prompt=@no-such-file.png")
    assert replicate_emulator.stats()["creates"] == 0


@pytest.mark.parametrize("token", ["r8_wrong", ""])
def test_a_refused_or_missing_token_exits_3(replicate_emulator, token):
    """A token the server refuses, or none, exits 3 in one line that never shows the token."""
    done = cli(replicate_emulator, "run", "emulator/echo", "-i", "prompt=hi", token=token)
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith("replicate-async: ")
    if token:
        assert token not in line


def test_timeout_cancels_the_prediction_and_exits_4(replicate_emulator):
    """An expired --timeout cancels the remote prediction, says so on stderr and exits 4."""
    replicate_emulator.configure(time_scale=1.0)  # emulator/slow: 31 s
    done = cli(replicate_emulator, "run", "emulator/slow", "-i", "prompt=x", "--timeout", "2")
    assert done.returncode == 4
    (record,) = predictions(replicate_emulator)
    assert record["status"] == "canceled"
    (line,) = done.stderr.splitlines()
    assert line == f"replicate-async: timed out after 2 s; prediction {record['id']} canceled"


def test_ctrl_c_while_polling_cancels_the_prediction_and_exits_130(replicate_emulator):
    """Ctrl-C once the prediction is being polled cancels it remotely; one line, exit 130."""
    replicate_emulator.configure(time_scale=1.0)
    proc = start(replicate_emulator, "run", "emulator/slow", "-i", "prompt=x", "--wait", "1")
    wait_until(lambda: gets(replicate_emulator) >= 1, "the first poll")
    code, out, err = interrupt(proc)
    assert code == 130
    assert out == ""
    (record,) = predictions(replicate_emulator)
    assert record["status"] == "canceled"
    assert err == f"replicate-async: interrupted; prediction {record['id']} canceled\n"


def test_ctrl_c_during_the_create_cancels_the_prediction_and_exits_130(replicate_emulator):
    """Ctrl-C while the create is held open (no id yet) still cancels it; one line, exit 130."""
    replicate_emulator.configure(time_scale=1.0)
    proc = start(replicate_emulator, "run", "emulator/slow", "-i", "prompt=x")  # wait=60
    wait_until(lambda: replicate_emulator.stats()["creates"] == 1, "the create")
    code, _, err = interrupt(proc)
    assert code == 130
    assert err.count("\n") == 1
    assert err.startswith("replicate-async: interrupted")
    assert "Traceback" not in err
    assert wait_until(
        lambda: predictions(replicate_emulator)[0]["status"] == "canceled", "the remote cancel"
    )


def test_stream_prints_tokens_as_they_come(replicate_emulator):
    """`stream` writes each chunk when it arrives: the first is read while the model still runs."""
    replicate_emulator.configure(time_scale=1.0)  # the reply takes 1 to 2.5 s
    proc = start(
        replicate_emulator,
        "stream",
        "meta/meta-llama-3-8b-instruct",
        "-i",
        "prompt=a long answer, please",
    )
    first: list[str] = []
    # From the file descriptor, so no byte waits in a Python buffer that communicate() skips.
    reader = threading.Thread(
        target=lambda: first.append(os.read(proc.stdout.fileno(), 1).decode()), daemon=True
    )
    reader.start()
    reader.join(20)
    assert first, "no output streamed"
    assert first[0]
    assert proc.poll() is None, "the output came only at the end"
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (record,) = predictions(replicate_emulator)
    assert first[0] + rest == "".join(record["output"]) + "\n"


def test_stream_of_a_model_that_does_not_stream_prints_its_output(replicate_emulator):
    """A model without a stream is followed to its end and its output printed, exit 0."""
    done = cli(replicate_emulator, "stream", "emulator/echo", "-i", "prompt=no stream here")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "no stream here\n"


def test_stream_of_a_failing_model_exits_1(replicate_emulator):
    """A failed prediction ends the stream with exit 1 and its error line."""
    done = cli(replicate_emulator, "stream", "emulator/fail", "-i", "prompt=x")
    assert done.returncode == 1
    assert "failed" in done.stderr.splitlines()[-1]


def test_stream_timeout_cancels_it_and_exits_4(replicate_emulator):
    """A stream's --timeout cancels the prediction and exits 4, saying so."""
    replicate_emulator.configure(time_scale=10.0)  # tens of seconds of tokens
    done = cli(
        replicate_emulator,
        "stream",
        "meta/meta-llama-3-8b-instruct",
        "-i",
        "prompt=go on",
        "--timeout",
        "1",
    )
    assert done.returncode == 4
    (record,) = predictions(replicate_emulator)
    assert done.stderr.splitlines()[-1].endswith("; it was canceled")
    assert wait_until(
        lambda: (
            api_get(replicate_emulator, f"/v1/predictions/{record['id']}")["status"] == "canceled"
        ),
        "the remote cancel",
    )


def test_ctrl_c_during_a_stream_cancels_it(replicate_emulator):
    """Ctrl-C while tokens stream cancels the prediction and exits 130 with one line."""
    replicate_emulator.configure(time_scale=5.0)  # several seconds of tokens
    proc = start(
        replicate_emulator, "stream", "meta/meta-llama-3-8b-instruct", "-i", "prompt=go on"
    )
    wait_until(
        lambda: any(p["status"] == "processing" for p in predictions(replicate_emulator)),
        "the stream to start",
    )
    code, _, err = interrupt(proc)
    assert code == 130
    (record,) = predictions(replicate_emulator)
    assert err == f"replicate-async: interrupted; prediction {record['id']} canceled\n"
    assert wait_until(
        lambda: (
            api_get(replicate_emulator, f"/v1/predictions/{record['id']}")["status"] == "canceled"
        ),
        "the remote cancel",
    )


def test_run_on_a_terminal_shows_a_live_status_line(replicate_emulator):
    """On a terminal, stderr shows the id, status and elapsed time live; stdout only the result."""
    replicate_emulator.configure(time_scale=0.1)  # 3 s of processing
    code, out, screen = on_terminal(
        replicate_emulator, "run", "emulator/slow", "-i", "prompt=watched", "--wait", "1"
    )
    assert code == 0, screen
    assert out == "watched\n"
    (record,) = predictions(replicate_emulator)
    assert f"{record['id']}  processing" in screen
    assert f"{record['id']} succeeded in" in screen
