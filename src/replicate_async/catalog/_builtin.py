# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The built-in catalogue: every modality module's entries, in one tuple."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replicate_async.catalog._builder import CatalogEntry

__all__ = ["builtin_entries"]


def builtin_entries() -> tuple[CatalogEntry, ...]:
    """The entries the catalogue starts with (video, image, text, audio and avatar models)."""
    from replicate_async.catalog import _audio, _image, _text, _video  # noqa: PLC0415

    return (*_video.ENTRIES, *_image.ENTRIES, *_text.ENTRIES, *_audio.ENTRIES)
