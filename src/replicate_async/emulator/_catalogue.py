# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The default catalogue: real models' schemas (from `schemas/*.json`) plus small test helpers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from replicate_async.emulator._fake_models import Duration, FakeModel, OutputKind


@cache
def _schema_file(owner: str, name: str) -> dict[str, Any]:
    """The stored schema record of a real model (input, components, output, version)."""
    text = (
        resources.files("replicate_async.emulator")
        .joinpath("schemas", f"{owner}__{name}.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def real_model(
    ref: str,
    kind: OutputKind,
    *,
    latency: Duration,
    queue: Duration = 0.0,
    official: bool = True,
    files_as_list: bool = False,
    description: str = "",
) -> FakeModel:
    """A fake model carrying the real model `ref`'s stored input and output schemas.

    Args:
        ref: `owner/name` of a model in `replicate_async/emulator/schemas/`.
        kind: Output kind.
        latency: Processing seconds (or a range), before time scaling.
        queue: Starting seconds (or a range), before time scaling.
        official: Whether it runs without a version.
        files_as_list: Whether file outputs are an array.
        description: The model's description.

    .. versionadded:: 0.1.0
    """
    owner, name = ref.split("/", 1)
    record = _schema_file(owner, name)
    return FakeModel(
        owner=owner,
        name=name,
        kind=kind,
        official=official,
        version=record.get("version"),
        latency=latency,
        queue=queue,
        input_schema=record["input"],
        components=record.get("components") or {},
        output_schema=record.get("output"),
        files_as_list=files_as_list,
        description=description or f"Emulated {ref} (real input schema).",
    )


def default_catalogue() -> tuple[FakeModel, ...]:
    """The models an emulator knows unless configured otherwise.

    Real models (their real input schemas; latencies roughly like the real ones, before time
    scaling): `black-forest-labs/flux-schnell` (array of PNG URLs, `num_outputs`),
    `black-forest-labs/flux-1.1-pro` (one image URL), `stability-ai/stable-diffusion-3.5-large`,
    `ideogram-ai/ideogram-v3-turbo`, `meta/meta-llama-3-8b-instruct` and
    `meta/meta-llama-3.1-405b-instruct` (token streams), `kwaivgi/kling-v2.1`, `minimax/video-01`,
    `minimax/hailuo-02`, `google/veo-3` (MP4 URLs), `meta/musicgen` (WAV URL; versioned, not
    official).

    Test helpers: `emulator/echo` (official, zero latency, echoes `prompt`),
    `emulator/echo-versioned` (the same, versioned only), `emulator/tokens` (a fast token
    stream), `emulator/image` (a fast image array), `emulator/fail` (fails with logs and error
    text), `emulator/slow` (30 s of processing after 1 s of starting).

    .. versionadded:: 0.1.0
    """
    return (
        real_model(
            "black-forest-labs/flux-schnell",
            "image",
            latency=(0.8, 1.6),
            queue=0.1,
            files_as_list=True,
        ),
        real_model("black-forest-labs/flux-1.1-pro", "image", latency=(3.0, 6.0), queue=0.2),
        real_model("stability-ai/stable-diffusion-3.5-large", "image", latency=(4.0, 8.0)),
        real_model("ideogram-ai/ideogram-v3-turbo", "image", latency=(3.0, 6.0)),
        real_model("meta/meta-llama-3-8b-instruct", "tokens", latency=(1.0, 2.5), queue=0.1),
        real_model("meta/meta-llama-3.1-405b-instruct", "tokens", latency=(4.0, 9.0), queue=0.3),
        real_model("kwaivgi/kling-v2.1", "video", latency=(60.0, 120.0), queue=2.0),
        real_model("minimax/video-01", "video", latency=(90.0, 180.0), queue=2.0),
        real_model("minimax/hailuo-02", "video", latency=(60.0, 150.0), queue=2.0),
        real_model("google/veo-3", "video", latency=(40.0, 90.0), queue=1.0),
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
