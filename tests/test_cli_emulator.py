"""`replicate-async emulator`: any token by default, only `--token` when given, the real port printed."""

from __future__ import annotations

import re
import signal
import subprocess

import httpx
import pytest

from _cli_support import CLI, PROCESS_TIMEOUT, cli, env_for

_BANNER = re.compile(r"^Replicate emulator on http://127\.0\.0\.1:(\d+) \((.*)\)$")


@pytest.fixture
def emulator_process():
    """Start `replicate-async emulator --port 0 ...`; give its port and banner's note."""
    procs: list[subprocess.Popen[str]] = []

    def launch(*args: str) -> tuple[int, str]:
        proc = subprocess.Popen(
            [*CLI, "emulator", "--port", "0", "--no-rate-limits", *args],
            env=env_for(None),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        banner = proc.stdout.readline().rstrip("\n")
        match = _BANNER.match(banner)
        assert match, f"unexpected banner {banner!r}"
        return int(match.group(1)), match.group(2)

    yield launch
    for proc in procs:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn shuts down, then the command exits
        proc.communicate(timeout=PROCESS_TIMEOUT)
        assert proc.returncode == 130


def _create(port: int, token: str) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "hi"}},
        headers={"Authorization": f"Bearer {token}", "Prefer": "wait=5"},
        timeout=10,
    )


def test_port_0_prints_the_port_it_listens_on(emulator_process):
    """With --port 0 the banner names the real port, and the API answers there at once."""
    port, _ = emulator_process()
    assert port != 0
    resp = _create(port, "r8_anything")
    assert resp.status_code == 201
    assert resp.json()["output"] == "hi"


def test_any_well_formed_token_is_accepted_by_default(emulator_process):
    """Code pointed at the emulator keeps its own token: any non-empty one works."""
    port, note = emulator_process()
    assert note == "any token"
    for token in ("r8_users_own_token_0000000000000000000", "something-else"):
        assert _create(port, token).status_code == 201
    bare = httpx.get(f"http://127.0.0.1:{port}/v1/predictions", timeout=10)
    assert bare.status_code == 401  # a token is still needed


def test_token_makes_it_accept_only_that_token(emulator_process):
    """With --token only that token is accepted."""
    port, note = emulator_process("--token", "r8_only_this_one")
    assert note == "token: r8_only_this_one"
    assert _create(port, "r8_only_this_one").status_code == 201
    assert _create(port, "r8_another").status_code == 401


def test_a_port_in_use_exits_2_in_one_line(emulator_process):
    """A port that cannot be bound exits 2 with one line (no traceback)."""
    port, _ = emulator_process()
    done = cli(None, "emulator", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.startswith(f"replicate-async: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in done.stderr
