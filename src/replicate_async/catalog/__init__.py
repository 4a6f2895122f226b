# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Typed generation: one request per modality, mapped to each catalogued model's real inputs.

.. code-block:: python

    from replicate_async.catalog import ImageInput, VideoRequest

    request = VideoRequest(
        "a kite in a storm", duration=5, images=[ImageInput("https://.../kite.jpg")]
    )
    client.catalog.build("kwaivgi/kling-v2.1", request)  # the exact input; no I/O
    generation = await client.generate("kwaivgi/kling-v2.1", request)

Every model names its inputs its own way (Kling ``start_image``, Minimax
``first_frame_image``, Wan frame counts, SD 3.5 ``cfg``); an entry of the catalogue maps a
request to one model family's fields, written from that model's real schema (shipped in the
package), and checks what the model can take before any request is made.
"""

from __future__ import annotations

from replicate_async.catalog._builder import Builder, BuiltInput, CatalogEntry
from replicate_async.catalog._catalog import GENERIC_FIELDS, Catalog
from replicate_async.catalog._requests import (
    IMAGE_ROLES,
    AvatarRequest,
    ChatMessage,
    ChatRequest,
    GenerationRequest,
    ImageInput,
    ImageRequest,
    ImageRole,
    LipSyncRequest,
    MusicRequest,
    VideoRequest,
)

__all__ = [
    "GENERIC_FIELDS",
    "IMAGE_ROLES",
    "AvatarRequest",
    "Builder",
    "BuiltInput",
    "Catalog",
    "CatalogEntry",
    "ChatMessage",
    "ChatRequest",
    "GenerationRequest",
    "ImageInput",
    "ImageRequest",
    "ImageRole",
    "LipSyncRequest",
    "MusicRequest",
    "VideoRequest",
]
