# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The ids of the predictions a runner's creates made: bounded, and kept in few objects.

A create whose reply was lost is looked up in the account's prediction list, skipping what
this runner's own creates made (`_running.Runner._recover`): so every create's id is
remembered, the newest ``limit`` of them. At thousands of predictions a second, one small
string (and a float) per id, each living for ``limit`` finished jobs, would sit among the
memory those jobs freed and keep the allocator from reusing or returning it (a long batch's
memory then grows with its length). Ids are kept in a short list, joined every :data:`CHUNK`
into one string, and whole chunks are dropped: a few large objects instead of ``limit``
small ones; looking one up, rare (only for a lost create), searches those strings.

When a create was sent is kept only for a prediction that is not terminal yet and shows no
output (the poll that follows times its first look from it) and handed over once.
"""

from __future__ import annotations

import collections
from typing import Final

__all__ = ["CHUNK", "Claims"]

CHUNK: Final = 256
"""Ids joined into one string at a time."""

_SEP: Final = "\n"  # never in an API's prediction id


class Claims:
    """The ids of a runner's own predictions, at least the newest *limit* (fewer than
    ``limit + 2 * CHUNK``), and the send times of those not polled yet (at most *limit*)."""

    __slots__ = ("_chunks", "_limit", "_recent", "_sent")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._recent: list[str] = []
        # Older ids, CHUNK to a string, each between separators; the oldest first.
        self._chunks: collections.deque[str] = collections.deque()
        self._sent: dict[str, float] = {}

    def add(self, prediction_id: str, sent: float | None = None) -> None:
        """Remember *prediction_id*; *sent*: when its create went out, for its first poll."""
        recent = self._recent
        recent.append(prediction_id)
        if len(recent) >= CHUNK:
            self._chunks.append(_SEP + _SEP.join(recent) + _SEP)
            recent.clear()
            while self._chunks and (len(self._chunks) - 1) * CHUNK >= self._limit:
                self._chunks.popleft()
        if sent is not None:
            times = self._sent
            times[prediction_id] = sent
            if len(times) > self._limit:  # never polled (the caller left): drop the oldest
                del times[next(iter(times))]

    def sent(self, prediction_id: str) -> float | None:
        """When the create of *prediction_id* went out (once: the entry is dropped)."""
        return self._sent.pop(prediction_id, None)

    def __contains__(self, prediction_id: object) -> bool:
        if not isinstance(prediction_id, str):
            return False
        if prediction_id in self._recent:
            return True
        needle = _SEP + prediction_id + _SEP
        return _SEP not in prediction_id and any(needle in chunk for chunk in self._chunks)

    def __len__(self) -> int:
        """How many ids are remembered."""
        return len(self._chunks) * CHUNK + len(self._recent)
