"""`replicate-async predictions get|cancel|list` and `models get|schema` against the emulator."""

from __future__ import annotations

import json

from _cli_support import cli, on_terminal, predictions, start, wait_until


def _run_echo(server, prompt: str) -> str:
    """Run emulator/echo and return its prediction's id."""
    done = cli(server, "run", "emulator/echo", "-i", f"prompt={prompt}")
    assert done.returncode == 0, done.stderr
    return predictions(server)[0]["id"]


def test_predictions_get_shows_a_prediction(replicate_emulator):
    """`predictions get ID` shows its id, model, status and output, one per line."""
    pid = _run_echo(replicate_emulator, "shown")
    done = cli(replicate_emulator, "predictions", "get", pid)
    assert done.returncode == 0, done.stderr
    fields = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert fields["id"] == pid
    assert fields["model"] == "emulator/echo"
    assert fields["status"] == "succeeded"
    assert fields["output"] == "shown"


def test_predictions_get_json_has_the_logs(replicate_emulator):
    """`predictions get ID --json` prints the prediction with its logs."""
    pid = _run_echo(replicate_emulator, "x")
    data = json.loads(cli(replicate_emulator, "predictions", "get", pid, "--json").stdout)
    assert data["id"] == pid
    assert data["output"] == "x"
    assert "Echoing" in data["logs"]


def test_predictions_get_of_an_unknown_id_exits_2(replicate_emulator):
    """An id the server does not know exits 2 with one line."""
    done = cli(replicate_emulator, "predictions", "get", "nosuchprediction00000000000")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1


def test_predictions_cancel_cancels_a_running_prediction(replicate_emulator):
    """`predictions cancel ID` cancels it on the server and shows the result."""
    replicate_emulator.configure(time_scale=1.0)
    proc = start(replicate_emulator, "run", "emulator/slow", "-i", "prompt=x", "--wait", "1")
    try:
        (pid,) = wait_until(lambda: [p["id"] for p in predictions(replicate_emulator)], "a create")
        done = cli(replicate_emulator, "predictions", "cancel", pid, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "canceled"
        proc.communicate(timeout=30)
        assert proc.returncode == 1  # the run saw its prediction canceled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_predictions_list_shows_the_newest_first_up_to_the_limit(replicate_emulator):
    """`predictions list -n 2` lists the two newest, newest first."""
    ids = [_run_echo(replicate_emulator, f"p{n}") for n in range(3)]
    done = cli(replicate_emulator, "predictions", "list", "-n", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert [p["id"] for p in json.loads(done.stdout)] == [ids[2], ids[1]]
    table = cli(replicate_emulator, "predictions", "list", "-n", "2").stdout.splitlines()
    assert table[0].split() == ["id", "model", "status", "created", "predict", "s"]
    assert [row.split()[0] for row in table[1:]] == [ids[2], ids[1]]


def test_models_get_shows_a_model(replicate_emulator):
    """`models get OWNER/NAME` shows the model and its latest version; --json the whole object."""
    done = cli(replicate_emulator, "models", "get", "emulator/image")
    assert done.returncode == 0, done.stderr
    fields = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert fields["model"] == "emulator/image"
    assert len(fields["version"]) == 64
    data = json.loads(cli(replicate_emulator, "models", "get", "emulator/image", "--json").stdout)
    assert (data["owner"], data["name"]) == ("emulator", "image")


def test_models_get_of_an_unknown_model_exits_2(replicate_emulator):
    """A model that does not exist exits 2; so does a reference with a version."""
    assert cli(replicate_emulator, "models", "get", "nobody/nothing").returncode == 2
    done = cli(replicate_emulator, "models", "get", "emulator/image:" + "a" * 64)
    assert done.returncode == 2
    assert "write owner/name" in done.stderr


def test_models_schema_prints_a_table_of_the_input_fields(replicate_emulator):
    """`models schema` lists each field in the model's order: type, default, allowed, required."""
    done = cli(replicate_emulator, "models", "schema", "emulator/image")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("emulator/image (version ")
    assert lines[1].split() == ["field", "type", "default", "allowed", "required", "description"]
    prompt, num_outputs = (line.split() for line in lines[2:4])
    assert prompt[:3] == ["prompt", "string", "yes"]
    assert num_outputs[:4] == ["num_outputs", "integer", "1", "1..4"]


def test_models_schema_json_prints_the_input_schema(replicate_emulator):
    """`models schema --json` prints the latest version's input JSON schema."""
    done = cli(replicate_emulator, "models", "schema", "emulator/image", "--json")
    schema = json.loads(done.stdout)
    assert schema["required"] == ["prompt"]
    assert schema["properties"]["num_outputs"]["maximum"] == 4


def test_models_schema_on_a_terminal_draws_a_table(replicate_emulator):
    """On a terminal the schema table is drawn (with rich) with the same fields."""
    code, out, _ = on_terminal(replicate_emulator, "models", "schema", "emulator/image")
    assert code == 0
    assert "num_outputs" in out


def test_predictions_get_shows_file_urls_and_errors(replicate_emulator, tmp_path):
    """A file output shows its URLs one per line; a failed prediction its error."""
    cli(
        replicate_emulator,
        "run",
        "emulator/image",
        "-i",
        "prompt=x",
        "-i",
        "num_outputs=2",
        cwd=tmp_path,  # where its files are saved
    )
    image = predictions(replicate_emulator)[0]
    shown = cli(replicate_emulator, "predictions", "get", image["id"]).stdout
    lines = shown.splitlines()
    at = lines.index(f"output     {image['output'][0]}")  # labels padded to "completed"
    assert lines[at + 1] == f"           {image['output'][1]}"
    cli(replicate_emulator, "run", "emulator/fail", "-i", "prompt=x")
    failed = predictions(replicate_emulator)[0]
    shown = cli(replicate_emulator, "predictions", "get", failed["id"]).stdout
    fields = dict(line.split(None, 1) for line in shown.splitlines())
    assert fields["status"] == "failed"
    assert fields["error"] == failed["error"]
    assert "output" not in fields


def test_models_schema_on_a_terminal_is_drawn_as_a_table(replicate_emulator):
    """When stdout is a terminal too, the schema is a drawn table."""
    code, _, screen = on_terminal(
        replicate_emulator, "models", "schema", "emulator/image", stdout_too=True
    )
    assert code == 0
    assert "┃ field" in screen
    assert "num_outputs" in screen
