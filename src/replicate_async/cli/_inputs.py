"""What the user typed, checked before anything is sent: ``-i KEY=VALUE`` inputs and JSONL jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from replicate_async._jobs import Job
from replicate_async._sansio import parse_ref
from replicate_async.cli._runtime import UsageError
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["check_ref", "parse_inputs", "read_jobs"]

#: The keys a job line may have; one of the first three names the model.
_REF_KEYS: Final = ("model", "ref", "version")
_JOB_KEYS: Final = frozenset({*_REF_KEYS, "input", "key"})


def check_ref(ref: str) -> str:
    """*ref* if it is a model reference the API takes, else a UsageError saying how to write one."""
    try:
        parse_ref(ref)
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    return ref.strip()


def _file(key: str, name: str) -> Path:
    """The file an ``@path`` value names, which must exist (it is uploaded)."""
    path = Path(name).expanduser()
    if not name:
        raise UsageError(f"input {key!r}: write a file after '@', as in {key}=@photo.png")
    if not path.is_file():
        raise UsageError(f"input {key!r}: no such file: {name}")
    return path


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` pairs into a model input.

    A VALUE is parsed as JSON when it parses (``2``, ``true``, ``[1,2]``, ``"123"``) and
    taken as text otherwise; ``@path`` names a local file, sent as a ``Path`` (the client
    uploads it, or inlines a small one). A text that starts with ``@`` is written as a JSON
    string: ``-i 'handle="@me"'``.

    Args:
        pairs: The ``KEY=VALUE`` strings.

    Raises:
        UsageError: A pair without ``=`` or key, or an ``@path`` that is not a file.

    .. versionadded:: 0.1.0
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"input {pair!r} is not KEY=VALUE")
        if value.startswith("@"):
            out[key] = _file(key, value[1:])
            continue
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _job(line: str, where: str) -> Job:
    """One line of a jobs file as a Job, or a UsageError naming the line."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise UsageError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(
            f'{where}: expected an object like {{"model": "owner/name", "input": {{...}}}}'
        )
    unknown = sorted(set(data) - _JOB_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown key {unknown[0]!r} (a job has model, ref or version; input; key)"
        )
    named = [k for k in _REF_KEYS if k in data]
    if len(named) != 1:
        raise UsageError(f"{where}: give exactly one of model, ref or version")
    ref = data[named[0]]
    if not isinstance(ref, str):
        raise UsageError(f"{where}: {named[0]} must be a string, got {ref!r}")
    try:
        ref = check_ref(ref)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    input_ = data.get("input", {})
    if not isinstance(input_, dict):
        raise UsageError(f"{where}: input must be an object, got {input_!r}")
    key = data.get("key")
    if key is not None and not isinstance(key, str):
        raise UsageError(f"{where}: key must be a string, got {key!r}")
    return Job(ref, input_, key=key)


def read_jobs(path: Path) -> list[Job]:
    """Every job of a JSONL file, checked whole before any is run (blank lines are skipped).

    Raises:
        UsageError: The file cannot be read, a line is not a job (with its number), or
            there is no job at all.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    jobs = [
        _job(line, f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not jobs:
        raise UsageError(f"{path}: no jobs (one JSON object per line)")
    return jobs
