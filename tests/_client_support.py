# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Constants and reply builders shared by the client tests (tests/test_client_*.py)."""

from __future__ import annotations

from typing import Any

import httpx

API = "https://api.replicate.test"
TOKEN = "r8_TestToken0123456789abcdefghijklmnopqrs"


def prediction(pid: str = "p1", status: str = "starting", **fields: Any) -> dict[str, Any]:
    """A prediction as the API sends it."""
    body: dict[str, Any] = {
        "id": pid,
        "model": "acme/painter",
        "version": "hidden",
        "input": {"prompt": "a cat"},
        "output": None,
        "logs": "",
        "error": None,
        "status": status,
        "created_at": "2025-01-01T00:00:00.000Z",
        "urls": {
            "get": f"{API}/v1/predictions/{pid}",
            "cancel": f"{API}/v1/predictions/{pid}/cancel",
        },
    }
    body.update(fields)
    return body


def reply(status: str = "starting", code: int = 200, **fields: Any) -> httpx.Response:
    """A JSON reply carrying a prediction."""
    return httpx.Response(code, json=prediction(status=status, **fields))


def problem(code: int, title: str | None = None, detail: str = "", **extra: Any) -> httpx.Response:
    """A problem+json error reply."""
    body: dict[str, Any] = {"detail": detail, "status": code, **extra}
    if title is not None:
        body["title"] = title
    return httpx.Response(code, json=body, headers={"Content-Type": "application/problem+json"})
