# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Saving every file in outputs into one folder, with names that never collide.

Real outputs repeat names: every image model's first file is ``out-0.webp`` or the like,
so a batch saved file by file into one folder keeps only the last one. `save_all` plans
one path per distinct URL first (the first file keeps its name, later ones with the same
name get ``-1``, ``-2``, ... before the extension, compared case-insensitively for the
file systems that fold case), then saves them concurrently, each atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from replicate_async._config import DEFAULT_SAVE_CONCURRENCY
from replicate_async._file_output import FileOutput, map_outputs
from replicate_async._naming import cap_name

if TYPE_CHECKING:
    import os

__all__ = ["save_all"]


def _numbered(name: str, number: int) -> str:
    """``out-0.webp`` -> ``out-0-2.webp``: the number before the extension, both kept within 255 bytes."""
    return cap_name(name, tag=f"-{number}")


class _Plan:
    """One path per distinct file URL, in the order the files appear."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: dict[str, Path] = {}
        self.files: list[FileOutput] = []
        self._taken: set[str] = set()

    def place(self, value: Any) -> Any:
        """A FileOutput's planned path (the same for the same URL); any other value as it is."""
        if not isinstance(value, FileOutput):
            return value
        path = self.paths.get(value.url)
        if path is None:
            name, number = value.name, 0
            while name.casefold() in self._taken:
                number += 1
                name = _numbered(value.name, number)
            self._taken.add(name.casefold())
            path = self.paths[value.url] = self.folder / name
            self.files.append(value)
        return path


async def save_all(
    output: Any,
    folder: str | os.PathLike[str],
    *,
    concurrency: int = DEFAULT_SAVE_CONCURRENCY,
) -> Any:
    """`AsyncClient.save_all` (see its docstring); the files of *output* saved into *folder*."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError("concurrency must be an int")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    target = Path(folder)
    plan = _Plan(target)
    placed = map_outputs(output, plan.place)
    if not plan.files:
        return placed
    await anyio.Path(target).mkdir(parents=True, exist_ok=True)
    errors: list[tuple[int, Exception]] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async with anyio.create_task_group() as group:

        async def save(index: int, file: FileOutput) -> None:
            """Save one file; the first error stops the rest."""
            async with limiter:
                try:
                    await file.save(plan.paths[file.url])
                except Exception as exc:  # noqa: BLE001 - raised below, in file order
                    errors.append((index, exc))
                    group.cancel_scope.cancel()

        for index, file in enumerate(plan.files):
            group.start_soon(save, index, file)
    if errors:
        raise min(errors, key=lambda pair: pair[0])[1]
    return placed
