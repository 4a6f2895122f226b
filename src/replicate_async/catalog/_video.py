# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Catalogue entries (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replicate_async.catalog._builder import CatalogEntry

__all__ = ["ENTRIES"]

ENTRIES: tuple[CatalogEntry, ...] = ()
