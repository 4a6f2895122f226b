"""Automation: `nox -s tests` is the test command the README and CI run.

The Python matrix is the classifiers' (as stamina's noxfile has it), less the interpreters this
machine lacks: CI promises only Python 3.11, so a matrix session for a missing one is left out,
not failed. `tests` (the default, under ten minutes) runs on 3.11; `tests_matrix` runs every
installed version on request; either is followed by `coverage_report`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "mypy", "typing"]
# No network fetch of interpreters (the machines cannot reach one); a session whose Python is
# not here is skipped, or fails when `CI` is set, which for the 3.11-only sessions is right.
nox.options.download_python = "never"

PYPROJECT = nox.project.load_toml("pyproject.toml")
ALL_SUPPORTED: list[str] = nox.project.python_versions(PYPROJECT)


def _pyenv_on_path() -> None:
    """Put pyenv's installed but inactive interpreters last on PATH, where nox can find them.

    pyenv's shims only run the versions `pyenv global` names; the others are installed all the
    same, and a shim falls back to PATH for them.
    """
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found: list[str] = []
    for python in ALL_SUPPORTED:
        # Plain releases only: pyenv keeps named virtualenvs and dev builds in the same folder.
        builds = [p for p in versions.glob(f"{python}.*") if p.name.rpartition(".")[2].isdigit()]
        if builds:
            newest = max(builds, key=lambda p: int(p.name.rpartition(".")[2]))
            found.append(str(newest / "bin"))
    if found:
        os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *found])


def _runs(python: str) -> bool:
    executable = shutil.which(f"python{python}")
    if executable is None:
        return False
    # A pyenv shim exists for every version pyenv knows of, and fails for the inactive ones.
    probe = subprocess.run([executable, "-c", ""], capture_output=True, check=False)  # noqa: S603
    return probe.returncode == 0


_pyenv_on_path()
#: The matrix: every supported Python installed here (all of them, to fail loudly, if none is).
PYTHONS = [python for python in ALL_SUPPORTED if _runs(python)] or ALL_SUPPORTED
#: The one Python of the single-version sessions: the oldest supported, the one CI has.
OLDEST = ALL_SUPPORTED[0]


def _groups(*names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out.extend(nox.project.dependency_groups(PYPROJECT, name))
    return out


#: The extras the tests and the type checks need: the emulator, and the shared limiter's and
#: journal's drivers (their tests start real Redis and PostgreSQL servers).
EXTRAS = "emulator,redis,postgres"


def _package(posargs: list[str]) -> tuple[list[str], list[str]]:
    """What to install (`--installpkg dist/x.whl` tests a built wheel), and pytest's arguments."""
    args = list(posargs)
    if "--installpkg" in args:
        at = args.index("--installpkg")
        wheel = args[at + 1]
        del args[at : at + 2]
        return [f"{wheel}[{EXTRAS}]"], args
    return ["-e", f".[{EXTRAS}]"], args


def _run_tests(session: nox.Session, *, erase: bool) -> None:
    package, args = _package(session.posargs)
    session.install(*package, *_groups("tests", "peers"))
    if erase:
        # Data left by a run that failed before its report would count towards this one.
        session.run("coverage", "erase")
    # Subprocesses (the CLI's emulator, sync-client scripts) are measured too:
    # `[tool.coverage.run] patch = ["subprocess"]`.
    session.run("coverage", "run", "-m", "pytest", *args)
    session.notify("coverage_report")


@nox.session(python=OLDEST)
def tests(session: nox.Session) -> None:
    """Run the test suite under coverage (branch), with the official peer client installed."""
    _run_tests(session, erase=True)


@nox.session(python=PYTHONS)
def tests_matrix(session: nox.Session) -> None:
    """The test suite on every supported Python installed here (on request: ~8 min each)."""
    # Each Python adds its data; the report combines them all.
    _run_tests(session, erase=session.python == PYTHONS[0])


@nox.session(python=OLDEST)
def coverage_report(session: nox.Session) -> None:
    """Combine the test sessions' coverage data and enforce `fail_under`."""
    session.install(*(r for r in _groups("tests") if r.startswith("coverage")))
    session.run("coverage", "combine")
    session.run("coverage", "report")


@nox.session(python=OLDEST)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", "src", "tests", "benchmarks", "docs/examples", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "src", "tests", "benchmarks", "docs/examples", "noxfile.py"
    )


@nox.session(python=OLDEST)
def mypy(session: nox.Session) -> None:
    """mypy --strict on the package and on the caller's-view typing tests."""
    session.install("-e", f".[{EXTRAS}]", *_groups("typing"))
    session.run("mypy", "--strict", "src/replicate_async")
    session.run("mypy", "--strict", "tests/typing")


@nox.session(python=PYTHONS)
def typing(session: nox.Session) -> None:
    """The public API as callers type-check it: pyright (strict) and mypy --strict on tests/typing."""
    session.install("-e", f".[{EXTRAS}]", *_groups("typing"))
    session.run("pyright", "tests/typing")
    session.run("mypy", "--strict", "tests/typing")


@nox.session(python=OLDEST)
def docs(session: nox.Session) -> None:
    """Build the docs with Sphinx (warnings are errors)."""
    session.install("-e", f".[{EXTRAS}]", *_groups("docs"))
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python=OLDEST)
def bench(session: nox.Session) -> None:
    """Run the benchmarks (on request only; they print ratios, they never assert)."""
    session.install("-e", ".[emulator]", "aiohttp", "httpx")
    script = session.posargs[0] if session.posargs else "benchmarks/transport.py"
    session.run("python", script, *session.posargs[1:])


@nox.session(python=OLDEST)
def bench_fanout(session: nox.Session) -> None:
    """Fan-out benchmark: ours, replicate==1.0.7 and 2.0.0b4 (each in its own venv), bare loops."""
    session.install("-e", ".[emulator]", "aiohttp", "httpx")
    pythons = {}
    for name, spec in (("replicate1", "replicate==1.0.7"), ("replicate2", "replicate==2.0.0b4")):
        venv = f"{session.virtualenv.location}/peer-{name}"
        session.run("python", "-m", "venv", "--clear", venv)
        python = f"{venv}/bin/python"
        session.run(python, "-m", "pip", "install", "-q", "--pre", spec, external=True)
        pythons[name] = python
    session.run(
        "python",
        "benchmarks/fanout.py",
        "--replicate1",
        pythons["replicate1"],
        "--replicate2",
        pythons["replicate2"],
        *session.posargs,
    )
