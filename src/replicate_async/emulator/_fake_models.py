# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fake models: what a model is called, how long it runs, what it outputs (a plan per prediction)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    import random
    from collections.abc import Mapping

OutputKind = Literal["text", "tokens", "image", "audio", "video", "fail"]
Duration = float | tuple[float, float]

_EXTENSIONS: Mapping[str, str] = {"image": "png", "audio": "wav", "video": "mp4"}

_DEFAULT_INPUT: Mapping[str, Any] = {
    "type": "object",
    "title": "Input",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Any text"}
    },
}


def _default_output(kind: OutputKind, *, files_as_list: bool) -> Mapping[str, Any]:
    """The Cog output schema matching an output kind."""
    if kind == "tokens":
        return {
            "type": "array",
            "items": {"type": "string"},
            "title": "Output",
            "x-cog-array-type": "iterator",
            "x-cog-array-display": "concatenate",
        }
    if kind in ("text", "fail"):
        return {"type": "string", "title": "Output"}
    uri = {"type": "string", "format": "uri"}
    if files_as_list:
        return {"type": "array", "items": uri, "title": "Output"}
    return {**uri, "title": "Output"}


@attrs.frozen(kw_only=True)
class FakeModel:
    """A model the emulator can run.

    Output kinds:

    - `text`: one string, the input's `text_field` (an echo).
    - `tokens`: an array of string chunks, produced one by one during the run (LLM style,
      `x-cog-array-type: iterator`); streaming-capable, so its predictions get `urls.stream`.
    - `image`, `audio`, `video`: file URLs served by the emulator (PNG, WAV, MP4 generated on the
      fly); an array when `files_as_list` (length from the `count_field` input), else one URL.
    - `fail`: runs, logs, then ends `failed` with `error`.

    Args:
        owner: Account part of `owner/name`.
        name: Model part of `owner/name`.
        kind: Output kind, see above.
        official: Official models run without a version (`/v1/models/{o}/{n}/predictions`) and
            report `version: "hidden"`.
        version: The 64-hex version id; default: derived from `owner/name`.
        latency: Seconds of `processing` (a fixed number or a `(low, high)` range), before
            the emulator's time scale.
        queue: Seconds of `starting` before processing, likewise.
        input_schema: The Cog `Input` schema (JSON Schema), validated on create.
        components: Further `components.schemas` entries the input schema refers to (enums).
        output_schema: The Cog `Output` schema; default: derived from `kind`.
        files_as_list: File kinds only: output an array of URLs instead of one URL.
        count_field: Input that sets how many files an array output has.
        text_field: Input that `text` echoes and `tokens` answers.
        error: The `error` text of a `fail` model.
        logs: Log lines printed during the run (default: a few lines per kind).
        description: The model's description.

    .. versionadded:: 0.1.0
    """

    owner: str
    name: str
    kind: OutputKind
    official: bool = False
    version: str | None = None
    latency: Duration = 0.0
    queue: Duration = 0.0
    input_schema: Mapping[str, Any] = _DEFAULT_INPUT
    components: Mapping[str, Any] = attrs.field(factory=dict)
    output_schema: Mapping[str, Any] | None = None
    files_as_list: bool = False
    count_field: str | None = "num_outputs"
    text_field: str = "prompt"
    error: str = "Prediction failed (emulated model error)"
    logs: tuple[str, ...] | None = None
    description: str = ""

    @property
    def ref(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"

    @property
    def version_id(self) -> str:
        """The model's 64-hex version id."""
        if self.version is not None:
            return self.version
        return hashlib.sha256(f"emulator:{self.ref}".encode()).hexdigest()

    @property
    def streams(self) -> bool:
        """Whether predictions of this model get a `urls.stream`."""
        return self.kind == "tokens"

    @property
    def file_extension(self) -> str | None:
        """The extension of the files this model outputs, if any."""
        return _EXTENSIONS.get(self.kind)

    def output_json_schema(self) -> Mapping[str, Any]:
        """The `Output` schema."""
        if self.output_schema is not None:
            return self.output_schema
        return _default_output(self.kind, files_as_list=self.files_as_list)

    def openapi_schema(self) -> dict[str, Any]:
        """The version's `openapi_schema` (a Cog OpenAPI document, trimmed to what clients read)."""
        schemas: dict[str, Any] = {
            "Input": dict(self.input_schema),
            "Output": dict(self.output_json_schema()),
        }
        schemas.update(self.components)
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": schemas},
        }


@attrs.frozen
class FileItem:
    """A file output: rendered as a delivery URL under its prediction."""

    name: str
    index: int


@attrs.frozen
class Plan:
    """What one prediction will do, in unscaled seconds from its start of processing.

    `logs` and `outputs` are `(offset, value)` pairs sorted by offset; `run` is when it ends.
    """

    queue: float
    run: float
    logs: tuple[tuple[float, str], ...]
    outputs: tuple[tuple[float, Any], ...]
    as_list: bool
    error: str | None
    metrics: Mapping[str, Any]


def _duration(value: Duration, rng: random.Random) -> float:
    """A fixed duration, or one drawn from a range."""
    if isinstance(value, tuple):
        low, high = value
        return rng.uniform(low, high)
    return float(value)


def _spread(run: float, values: list[Any]) -> tuple[tuple[float, Any], ...]:
    """Offsets spreading `values` evenly over `run`, the last one at its end."""
    n = len(values)
    return tuple((run * (i + 1) / n, v) for i, v in enumerate(values))


def _tokens(text: str, limit: int) -> list[str]:
    """Chunks of a reply, LLM style: words with their leading space, and a final empty chunk."""
    words = f"Emulated reply: {text}".split(" ") if text else ["Emulated", " reply."]
    chunks = [w if i == 0 else f" {w}" for i, w in enumerate(words)][: max(limit, 1)]
    return [*chunks, ""]


def _int(value: Any, default: int) -> int:
    """An integer input, or the default when absent or of another type."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def make_plan(model: FakeModel, prediction_input: Mapping[str, Any], rng: random.Random) -> Plan:
    """Decide what a prediction of `model` with `prediction_input` does."""
    queue = _duration(model.queue, rng)
    run = _duration(model.latency, rng)
    text = prediction_input.get(model.text_field)
    text = text if isinstance(text, str) else ""
    outputs: tuple[tuple[float, Any], ...]
    metrics: dict[str, Any] = {}
    as_list = False
    error = None
    default_logs: list[str]
    if model.kind == "text":
        outputs = ((run, text),)
        default_logs = [f"Echoing {len(text)} characters"]
    elif model.kind == "tokens":
        chunks = _tokens(text, _int(prediction_input.get("max_tokens"), 512))
        outputs = _spread(run, chunks)
        as_list = True
        metrics = {
            "input_token_count": len(text.split()),
            "output_token_count": len(chunks),
        }
        default_logs = ["Random seed used: `42`", "Formatted prompt: `" + text[:200] + "`"]
    elif model.kind == "fail":
        outputs = ()
        error = model.error
        default_logs = ["Starting prediction", "Traceback (most recent call last):", model.error]
    else:
        ext = _EXTENSIONS[model.kind]
        count = 1
        if model.files_as_list:
            as_list = True
            count = max(1, _int(prediction_input.get(model.count_field or ""), 1))
        files = [FileItem(f"out-{i}.{ext}", i) for i in range(count)]
        outputs = _spread(run, files) if as_list else ((run, files[0]),)
        seed = _int(prediction_input.get("seed"), rng.randrange(1 << 16))
        default_logs = [f"Using seed: {seed}", "Generating...", f"100%|##########| {count}/{count}"]
    lines = list(model.logs) if model.logs is not None else default_logs
    logs = _spread(run, lines) if lines else ()
    # The first line appears as processing starts.
    if logs:
        logs = ((0.0, logs[0][1]), *logs[1:])
    return Plan(
        queue=queue,
        run=run,
        logs=logs,
        outputs=outputs,
        as_list=as_list,
        error=error,
        metrics=metrics,
    )
