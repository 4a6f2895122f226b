# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What ``generate`` returns: the prediction, its files or text, and the input that was sent."""

from __future__ import annotations

from collections.abc import Mapping  # noqa: TC003 - attrs reads the annotations
from typing import Any, Generic, TypeVar

import attrs

from replicate_async._file_output import FileOutputBase, map_outputs
from replicate_async._models import Prediction  # noqa: TC001 - attrs reads the annotations

__all__ = ["Generation", "make_generation"]

F = TypeVar("F", bound=FileOutputBase)


@attrs.frozen(kw_only=True)
class Generation(Generic[F]):
    """A finished generation: ``await client.generate(model, request)``.

    Args:
        model: The model reference as given.
        prediction: The succeeded prediction (id, status, logs, metrics, timestamps).
        output: Its output, file URLs as :class:`~replicate_async.FileOutput` objects
            (:class:`~replicate_async.SyncFileOutput` on the blocking client).
        files: Every file of the output, in order: what image, video and audio models make.
        text: A language model's reply (its chunks joined), or a text output; None when
            the output is files or anything else.
        input: The exact input that was sent (a typed request mapped by the catalogue).
        dropped: The request's fields the model has no input for, left out.

    .. versionadded:: 0.1.0
    """

    model: str
    prediction: Prediction
    output: Any
    files: tuple[F, ...] = ()
    text: str | None = None
    input: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    dropped: tuple[str, ...] = ()

    @property
    def file(self) -> F | None:
        """The first file (None when there is none), the one file most image and video models make.

        .. versionadded:: 0.1.0
        """
        return self.files[0] if self.files else None


def make_generation(
    model: str,
    prediction: Prediction,
    output: Any,
    *,
    input: Mapping[str, Any],  # noqa: A002 - the API's name
    dropped: tuple[str, ...],
) -> Generation[Any]:
    """A Generation from a succeeded prediction and its output (files already FileOutputs)."""
    files: list[Any] = []

    def collect(value: Any) -> Any:
        if isinstance(value, FileOutputBase):
            files.append(value)
        return value

    map_outputs(output, collect)
    return Generation(
        model=model,
        prediction=prediction,
        output=output,
        files=tuple(files),
        text=None if files else _text(output),
        input=input,
        dropped=dropped,
    )


def _text(output: Any) -> str | None:
    """A text output: a string, or a language model's list of string chunks joined."""
    if isinstance(output, str):
        return output
    if isinstance(output, list | tuple) and output and all(isinstance(c, str) for c in output):
        return "".join(output)
    return None
