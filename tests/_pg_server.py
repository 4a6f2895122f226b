# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A real PostgreSQL server for the tests, started in a temporary folder.

``pg_server`` (session-scoped) runs ``initdb`` and ``postgres`` from the system's packages
(``/usr/lib/postgresql/*/bin``, ``pg_config --bindir`` or ``PATH``) on a free loopback port,
with its socket in the folder and ``fsync=off``. Import the fixtures into a test module with
``from _pg_server import pg_server_fixture, pg_url_fixture``. PostgreSQL refuses to run as root: as root
it runs as the ``postgres`` system user. ``pg_url`` gives each test a fresh database.

Without the binaries the tests that need it are skipped, saying so, except on CI (the
``CI`` environment variable set), where ``.ci/run`` installs them and their absence fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

__all__ = ["PgServer", "pg_server_fixture", "pg_url_fixture"]

_databases = itertools.count()


def _bin_dir() -> Path | None:
    """Where initdb and postgres are, or None."""
    found = Path("/usr/lib/postgresql").glob("*/bin")
    candidates = sorted(found, key=lambda p: int(p.parent.name), reverse=True)
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb") or "").parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A running PostgreSQL server (trust authentication on loopback, user ``postgres``)."""

    def __init__(self, bin_dir: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="replicate-async-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        user = {"user": "postgres"} if as_root else {}
        if as_root:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            [bin_dir / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            **user,  # type: ignore[call-overload]
        )
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                bin_dir / "postgres",
                "-D",
                self.data,
                "-p",
                str(self.port),
                "-k",
                self.root,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            **user,  # type: ignore[call-overload]
        )
        log.close()  # the server has its own descriptor
        self._wait_ready()

    def url(self, database: str = "postgres") -> str:
        """A URL of *database* on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _wait_ready(self) -> None:
        """Wait (at most 30 s) until the server takes connections."""
        import psycopg

        deadline = time.monotonic() + 30.0
        while True:
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited: {log[-2000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # polling the server's readiness, not synchronising tests
            else:
                return

    def new_database(self) -> str:
        """Make a fresh database; return its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(_databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session", name="pg_server")
def pg_server_fixture():
    """A PostgreSQL server for the session (skipped without the binaries, except on CI)."""
    reason = None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "the postgres extra (psycopg) is not installed: pip install -e '.[postgres]'"
    bin_dir = _bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL's initdb/postgres binaries were not found (apt install postgresql)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; on CI .ci/run installs them")
        pytest.skip(reason)
    assert bin_dir is not None
    server = PgServer(bin_dir)
    yield server
    server.stop()


@pytest.fixture(name="pg_url")
def pg_url_fixture(pg_server: PgServer) -> str:
    """The URL of a fresh database on the session's server."""
    return pg_server.new_database()
