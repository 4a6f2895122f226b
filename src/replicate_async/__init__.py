"""An async-first client for the Replicate HTTP API."""

from __future__ import annotations

__all__: list[str] = []
