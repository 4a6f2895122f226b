# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The emulator's counters, for tests and benchmarks (`GET /_emulator/stats`)."""

from __future__ import annotations

import json
from collections import Counter, deque
from typing import Any

import attrs

#: Distinct inputs `creates_by_input` keeps counting (later new ones are not added).
_MAX_INPUT_KEYS = 100_000
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    """Canonical JSON of an input (sorted keys, compact), the key of `creates_by_input`."""
    return _CANONICAL.encode(value)


@attrs.define
class Stats:
    """Counters for tests (see `snapshot()` for the JSON shape)."""

    creates: int = 0
    creates_by_input: Counter[str] = attrs.field(factory=Counter)
    requests: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    throttled: int = 0
    cancels: int = 0
    faults_injected: Counter[str] = attrs.field(factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0
    peak_connections: int = 0
    #: TCP connections the server accepted (counted by `EmulatorServer` and `serve`).
    connections_opened: int = 0
    file_requests: int = 0
    file_requests_with_authorization: int = 0
    prediction_ids: deque[str] = attrs.field(factory=lambda: deque(maxlen=100_000))

    def count_create(self, prediction_id: str, prediction_input: Any) -> None:
        """Count one accepted create, by its canonical input too."""
        self.creates += 1
        self.prediction_ids.append(prediction_id)
        key = canonical(prediction_input)
        by_input = self.creates_by_input
        if key in by_input or len(by_input) < _MAX_INPUT_KEYS:
            by_input[key] += 1

    def snapshot(self, connections: int | None) -> dict[str, Any]:
        """A JSON-able copy."""
        by_route: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(self.requests.items()):
            by_route.setdefault(route, {})[str(status)] = n
        return {
            "creates": self.creates,
            "creates_by_input": dict(self.creates_by_input),
            "requests": by_route,
            "throttled": self.throttled,
            "cancels": self.cancels,
            "faults_injected": dict(self.faults_injected),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "connections": connections,
            "peak_connections": self.peak_connections,
            "connections_opened": self.connections_opened,
            "file_requests": self.file_requests,
            "file_requests_with_authorization": self.file_requests_with_authorization,
            "authorization_seen_on_files": self.file_requests_with_authorization > 0,
            "prediction_ids": list(self.prediction_ids),
        }
