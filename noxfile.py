"""Automation: `nox -s tests` is the test command the README and CI run."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "mypy"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _groups(*names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out.extend(nox.project.dependency_groups(PYPROJECT, name))
    return out


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the test suite under coverage (branch), with the official peer client installed."""
    session.install("-e", ".[emulator]", *_groups("tests", "peers"))
    session.run("coverage", "erase")
    # Subprocesses (the CLI's emulator, sync-client scripts) are measured too:
    # `[tool.coverage.run] patch = ["subprocess"]`.
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine")
    session.run("coverage", "report")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python="3.11")
def mypy(session: nox.Session) -> None:
    """mypy --strict on the package and on the caller's-view typing tests."""
    session.install("-e", ".[emulator]", *_groups("typing"))
    session.run("mypy", "--strict", "src/replicate_async")
    session.run("mypy", "--strict", "tests/typing")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the docs with Sphinx (warnings are errors)."""
    session.install("-e", ".[emulator]", *_groups("docs"))
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run the benchmarks (on request only; they print ratios, they never assert)."""
    session.install("-e", ".[emulator]", "aiohttp", "httpx")
    script = session.posargs[0] if session.posargs else "benchmarks/transport.py"
    session.run("python", script, *session.posargs[1:])


@nox.session(python="3.11")
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
