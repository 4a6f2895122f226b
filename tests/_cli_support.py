"""Driving `replicate-async` as a user does: a subprocess against the emulator, on a pipe or a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from replicate_async.emulator import EmulatorServer

CLI = [sys.executable, "-m", "replicate_async.cli"]

#: Terminal control sequences (colours, cursor moves), taken out of what a terminal received.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: Bounded waits: long enough for a loaded CI machine, short enough to fail fast.
PROCESS_TIMEOUT = 60.0
WAIT_TIMEOUT = 20.0


def env_for(server: EmulatorServer | None, token: str | None = None) -> dict[str, str]:
    """The environment of a user pointed at *server* (token: the emulator's, unless given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    env.pop("COLUMNS", None)
    if server is not None:
        env["REPLICATE_BASE_URL"] = server.base_url
        env["REPLICATE_API_TOKEN"] = server.token if token is None else token
    return env


def cli(
    server: EmulatorServer | None,
    *args: str,
    token: str | None = None,
    cwd: Path | None = None,
    timeout: float = PROCESS_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run the command to its end on pipes (not a terminal)."""
    return subprocess.run(
        [*CLI, *args],
        env=env_for(server, token),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def start(
    server: EmulatorServer | None, *args: str, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start the command on pipes."""
    return subprocess.Popen(
        [*CLI, *args],
        env=env_for(server),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll *check* until it returns something true; fail naming *what* after *timeout* s."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Press Ctrl-C once; return the exit code, stdout and stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, out, err


def api_get(server: EmulatorServer, path: str) -> Any:
    """GET an API path with the emulator's token and return the JSON."""
    resp = httpx.get(
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()


def predictions(server: EmulatorServer) -> list[dict[str, Any]]:
    """The emulator's predictions, newest first (the first page)."""
    return list(api_get(server, "/v1/predictions")["results"])


def gets(server: EmulatorServer) -> int:
    """How many prediction GETs (polls) the emulator answered."""
    by_route = server.stats()["requests"].get("GET /v1/predictions/{id}", {})
    return sum(by_route.values())


def on_terminal(
    server: EmulatorServer | None,
    *args: str,
    cwd: Path | None = None,
    timeout: float = PROCESS_TIMEOUT,
    stdout_too: bool = False,
) -> tuple[int, str, str]:
    """Run the command with stderr on a terminal (a pty, 120 columns) and stdout on a pipe
    (on the terminal too with *stdout_too*).

    Returns the exit code, stdout, and the text the terminal received (control sequences out).
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**env_for(server), "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_too else subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def pump() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        reader.join(5)
        os.close(master)
    screen = _ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    return proc.returncode, (out or b"").decode(), screen
