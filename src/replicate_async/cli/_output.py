"""What a command prints of a prediction: text, saved files, JSON, a log line, progress."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import anyio

from replicate_async._converters import format_datetime
from replicate_async._file_output import FileOutput, map_outputs, to_file_outputs
from replicate_async._naming import cap_name

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from replicate_async import AsyncClient, Prediction

__all__ = [
    "dumps",
    "file_outputs",
    "files_in",
    "jsonable",
    "last_log_line",
    "prediction_json",
    "save_files",
    "text_of",
]


def dumps(value: Any) -> str:
    """JSON for people and programs alike: indented, non-ASCII kept."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def last_log_line(logs: str | None) -> str:
    """The last non-blank line of the logs (tqdm's carriage returns count as line ends)."""
    if not logs:
        return ""
    for line in reversed(re.split(r"[\r\n]+", logs)):
        if line.strip():
            return line.strip()
    return ""


def file_outputs(client: AsyncClient, output: Any) -> Any:
    """*output* with every file URL in it as a FileOutput of *client*."""
    return to_file_outputs(output, client.downloader)


def files_in(output: Any) -> list[FileOutput]:
    """The FileOutputs of *output*, in order, each URL once."""
    found: dict[str, FileOutput] = {}

    def collect(value: Any) -> Any:
        if isinstance(value, FileOutput):
            found.setdefault(value.url, value)
        return value

    map_outputs(output, collect)
    return list(found.values())


def text_of(output: Any) -> str | None:
    """A text output: a string, or a language model's chunks joined; None for anything else."""
    if isinstance(output, str):
        return output
    if isinstance(output, list | tuple) and output and all(isinstance(c, str) for c in output):
        return "".join(output)
    return None


def jsonable(output: Any, saved: dict[str, Path] | None = None) -> Any:
    """*output* as JSON values: a FileOutput becomes its saved path, else its URL."""
    saved = saved or {}

    def leaf(value: Any) -> Any:
        if isinstance(value, FileOutput):
            path = saved.get(value.url)
            return str(path) if path is not None else value.url
        return value

    return map_outputs(output, leaf)


async def save_files(
    files: Sequence[FileOutput], folder: Path, *, prefix: str = "", replace: bool = False
) -> dict[str, Path]:
    """Save *files* into *folder* (made when missing) and return each URL's path.

    Each is named ``prefix`` plus the name its URL gives. Unless *replace*, a name already
    taken in the folder gets ``-1``, ``-2``, ... before its extension: running a model twice
    in the same folder keeps both results.
    """
    if not files:
        return {}
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    plan: dict[str, Path] = {}
    for file in files:
        base = cap_name(prefix + file.name)
        name, number = base, 0
        while name.casefold() in taken or (not replace and (folder / name).exists()):
            number += 1
            name = cap_name(base, tag=f"-{number}")
        taken.add(name.casefold())
        plan[file.url] = folder / name

    async with anyio.create_task_group() as group:
        for file in files:
            group.start_soon(file.save, plan[file.url])
    return plan


def prediction_json(
    prediction: Prediction, *, saved: dict[str, Path] | None = None, logs: bool = False
) -> dict[str, Any]:
    """A prediction as ``--json`` prints it: id, model, status, output (file URLs), error,
    metrics, timestamps, its web page, and the paths of the files saved."""
    data: dict[str, Any] = {
        "id": prediction.id,
        "model": prediction.model,
        "version": prediction.version,
        "status": prediction.status.value,
        "output": prediction.output,
        "error": prediction.error,
        "metrics": prediction.metrics.to_dict() if prediction.metrics is not None else None,
        "created_at": _time(prediction.created_at),
        "started_at": _time(prediction.started_at),
        "completed_at": _time(prediction.completed_at),
        "urls": {"web": prediction.urls.web, "stream": prediction.urls.stream},
    }
    if logs:
        data["logs"] = prediction.logs
    if saved is not None:
        data["files"] = [str(path) for path in saved.values()]
    return data


def _time(value: datetime | None) -> str | None:
    """A timestamp as RFC 3339 text."""
    return None if value is None else format_datetime(value)
