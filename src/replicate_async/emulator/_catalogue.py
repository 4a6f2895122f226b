# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The default catalogue: every model of the typed catalogue (schemas from `_schemas`) and helpers."""

from __future__ import annotations

import re
from typing import Any

from replicate_async import _schemas
from replicate_async.emulator._fake_models import Duration, FakeModel, OutputKind

#: A record's `version` is a 64-hex id, sometimes followed by a note on where it was recorded.
_VERSION = re.compile(r"[0-9a-f]{64}")


def _version(value: Any) -> str | None:
    """The version id a record's `version` names, if any (else the emulator derives one)."""
    found = _VERSION.match(value) if isinstance(value, str) else None
    return found.group() if found else None


def real_model(
    ref: str,
    kind: OutputKind,
    *,
    latency: Duration,
    queue: Duration = 0.0,
    official: bool = True,
    files_as_list: bool | None = None,
    description: str = "",
) -> FakeModel:
    """A fake model carrying the real model `ref`'s shipped input and output schemas.

    The schemas are the records of `replicate_async._schemas` (the same objects the typed
    catalogue checks inputs against): the `input` schema with its enum `components`, and the
    `output` schema where the record has one (else the one `kind` implies).

    Args:
        ref: `owner/name` of a shipped record (`replicate_async._schemas.names()`).
        kind: Output kind.
        latency: Processing seconds (or a range), before time scaling.
        queue: Starting seconds (or a range), before time scaling.
        official: Whether it runs without a version.
        files_as_list: Whether file outputs are an array; default: for a file kind, whether the
            record's output schema is an array.
        description: The model's description.

    .. versionadded:: 0.1.0
    """
    owner, name = ref.split("/", 1)
    record = _schemas.load(ref)
    output = record.get("output")
    if files_as_list is None:
        is_array = isinstance(output, dict) and output.get("type") == "array"
        files_as_list = is_array and kind in ("image", "audio", "video")
    return FakeModel(
        owner=owner,
        name=name,
        kind=kind,
        official=official,
        version=_version(record.get("version")),
        latency=latency,
        queue=queue,
        input_schema=record["input"],
        components=record.get("components") or {},
        output_schema=output,
        files_as_list=files_as_list,
        description=description or f"Emulated {ref} (real input schema).",
    )


def default_catalogue() -> tuple[FakeModel, ...]:
    """The models an emulator knows unless configured otherwise.

    Every model of the typed catalogue (`replicate_async.catalog`), each with its real input
    schema (validated on create) and output of its kind, shaped by its record's output schema;
    latencies roughly like the real ones, before time scaling:

    - images: `black-forest-labs/flux-schnell` (an array of PNG URLs, `num_outputs`),
      `black-forest-labs/flux-1.1-pro`, `stability-ai/stable-diffusion-3.5-large`,
      `ideogram-ai/ideogram-v3-turbo` (one PNG URL each);
    - text: `meta/meta-llama-3-8b-instruct`, `meta/meta-llama-3-70b-instruct`,
      `meta/meta-llama-3.1-405b-instruct` (arrays of string chunks, streamed);
    - video (one MP4 URL): `kwaivgi/kling-v1.6-standard`, `kwaivgi/kling-v2.1`,
      `kwaivgi/kling-lip-sync`, `luma/ray`, `minimax/video-01`, `minimax/hailuo-02`,
      `wan-video/wan-2.1-1.3b`, `wan-video/wan-2.2-i2v-fast`, `wavespeedai/wan-2.1-i2v-480p`,
      `google/veo-3`, `douwantech/musetalk` (versioned, not official);
    - audio: `meta/musicgen` (one WAV URL; versioned, not official).

    Test helpers: `emulator/echo` (official, zero latency, echoes `prompt`),
    `emulator/echo-versioned` (the same, versioned only), `emulator/tokens` (a fast token
    stream), `emulator/image` (a fast image array), `emulator/fail` (fails with logs and error
    text), `emulator/slow` (30 s of processing after 1 s of starting).

    .. versionadded:: 0.1.0
    """
    return (
        real_model("black-forest-labs/flux-schnell", "image", latency=(0.8, 1.6), queue=0.1),
        real_model("black-forest-labs/flux-1.1-pro", "image", latency=(3.0, 6.0), queue=0.2),
        real_model("stability-ai/stable-diffusion-3.5-large", "image", latency=(4.0, 8.0)),
        real_model("ideogram-ai/ideogram-v3-turbo", "image", latency=(3.0, 6.0)),
        real_model("meta/meta-llama-3-8b-instruct", "tokens", latency=(1.0, 2.5), queue=0.1),
        real_model("meta/meta-llama-3-70b-instruct", "tokens", latency=(2.0, 5.0), queue=0.2),
        real_model("meta/meta-llama-3.1-405b-instruct", "tokens", latency=(4.0, 9.0), queue=0.3),
        real_model("kwaivgi/kling-v1.6-standard", "video", latency=(90.0, 180.0), queue=2.0),
        real_model("kwaivgi/kling-v2.1", "video", latency=(60.0, 120.0), queue=2.0),
        real_model("kwaivgi/kling-lip-sync", "video", latency=(30.0, 90.0), queue=1.0),
        real_model("luma/ray", "video", latency=(40.0, 90.0), queue=1.0),
        real_model("minimax/video-01", "video", latency=(90.0, 180.0), queue=2.0),
        real_model("minimax/hailuo-02", "video", latency=(60.0, 150.0), queue=2.0),
        real_model("wan-video/wan-2.1-1.3b", "video", latency=(40.0, 100.0), queue=1.0),
        real_model("wan-video/wan-2.2-i2v-fast", "video", latency=(20.0, 45.0), queue=1.0),
        real_model("wavespeedai/wan-2.1-i2v-480p", "video", latency=(40.0, 100.0), queue=1.0),
        real_model("google/veo-3", "video", latency=(40.0, 90.0), queue=1.0),
        real_model("douwantech/musetalk", "video", latency=(30.0, 90.0), queue=2.0, official=False),
        real_model("meta/musicgen", "audio", latency=(10.0, 25.0), queue=0.5, official=False),
        FakeModel(
            owner="emulator",
            name="echo",
            kind="text",
            official=True,
            description="Echoes its prompt at once.",
        ),
        FakeModel(
            owner="emulator",
            name="echo-versioned",
            kind="text",
            description="Echoes its prompt at once; run it by version.",
        ),
        FakeModel(
            owner="emulator",
            name="tokens",
            kind="tokens",
            official=True,
            latency=0.5,
            input_schema=_TOKENS_INPUT,
            description="Streams a short reply token by token.",
        ),
        FakeModel(
            owner="emulator",
            name="image",
            kind="image",
            official=True,
            latency=0.2,
            files_as_list=True,
            input_schema=_IMAGE_INPUT,
            description="Returns `num_outputs` small PNG images.",
        ),
        FakeModel(
            owner="emulator",
            name="fail",
            kind="fail",
            official=True,
            latency=0.1,
            description="Always fails, with logs and an error.",
        ),
        FakeModel(
            owner="emulator",
            name="slow",
            kind="text",
            official=True,
            latency=30.0,
            queue=1.0,
            description="Echoes its prompt after 1 s of starting and 30 s of processing.",
        ),
    )


_TOKENS_INPUT: dict[str, Any] = {
    "type": "object",
    "title": "Input",
    "properties": {
        "prompt": {"type": "string", "title": "Prompt", "default": "", "x-order": 0},
        "max_tokens": {
            "type": "integer",
            "title": "Max Tokens",
            "default": 512,
            "minimum": 1,
            "x-order": 1,
        },
    },
}

_IMAGE_INPUT: dict[str, Any] = {
    "type": "object",
    "title": "Input",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "title": "Prompt", "x-order": 0},
        "num_outputs": {
            "type": "integer",
            "title": "Num Outputs",
            "default": 1,
            "minimum": 1,
            "maximum": 4,
            "x-order": 1,
        },
    },
}
