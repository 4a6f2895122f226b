"""The `replicate-async` command: demo, emulator and run, over real loopback HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from replicate_async.cli import main, parse_inputs
from replicate_async.emulator import EmulatorConfig, EmulatorServer


def test_parse_inputs_reads_json_values_and_falls_back_to_text():
    """KEY=VALUE values are JSON when they parse, plain text otherwise."""
    assert parse_inputs(["n=2", "prompt=a cat", "flag=true", "xs=[1,2]"]) == {
        "n": 2,
        "prompt": "a cat",
        "flag": True,
        "xs": [1, 2],
    }


def test_parse_inputs_refuses_a_pair_without_equals():
    """An input without '=' is a usage error naming the input."""
    with pytest.raises(SystemExit, match="'prompt' is not KEY=VALUE"):
        parse_inputs(["prompt"])


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


def test_run_prints_the_output_as_json(monkeypatch, capsys):
    """`run` reads the token and base URL from the environment and prints the output."""
    with EmulatorServer(EmulatorConfig()) as server:
        monkeypatch.setenv("REPLICATE_API_TOKEN", server.token)
        monkeypatch.setenv("REPLICATE_BASE_URL", server.base_url)
        code = main(["run", "emulator/echo", "-i", "prompt=hello there"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == "hello there"


def test_run_saves_file_outputs_into_out(monkeypatch, capsys, tmp_path):
    """With --out, file outputs are saved and their paths printed."""
    with EmulatorServer(EmulatorConfig()) as server:
        monkeypatch.setenv("REPLICATE_API_TOKEN", server.token)
        monkeypatch.setenv("REPLICATE_BASE_URL", server.base_url)
        code = main(
            [
                "run",
                "emulator/image",
                "-i",
                "prompt=x",
                "-i",
                "num_outputs=2",
                "--out",
                str(tmp_path),
            ]
        )
    assert code == 0
    paths = json.loads(capsys.readouterr().out)
    assert len(paths) == 2
    for path in paths:
        assert Path(path).read_bytes().startswith(b"\x89PNG")


def test_run_reports_a_refused_token_in_one_line(monkeypatch, capsys):
    """A refused token exits 1 with one readable line on stderr and no traceback."""
    with EmulatorServer(EmulatorConfig()) as server:
        monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong")
        monkeypatch.setenv("REPLICATE_BASE_URL", server.base_url)
        code = main(["run", "emulator/echo", "-i", "prompt=hi"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("replicate-async: ")
    assert err.count("\n") == 1
    assert "r8_wrong" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_emulator_command_serves_the_api():
    """`replicate-async emulator --port N` serves the API until terminated."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replicate_async.cli",
            "emulator",
            "--port",
            str(port),
            "--no-rate-limits",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in banner
        token = banner.rsplit("token: ", 1)[1].rstrip(")\n")
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = httpx.post(
                    f"http://127.0.0.1:{port}/v1/models/emulator/echo/predictions",
                    json={"input": {"prompt": "hi"}},
                    headers={"Authorization": f"Bearer {token}", "Prefer": "wait=5"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the emulator never started listening"
                time.sleep(0.05)
        assert resp.status_code == 201
        assert resp.json()["output"] == "hi"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
