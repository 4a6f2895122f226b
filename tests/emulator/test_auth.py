# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Authentication: Bearer and legacy Token, the exact 401 body."""

from __future__ import annotations

import httpx
import pytest

from replicate_async.emulator import DEFAULT_TOKEN, EmulatorConfig, create_app

pytestmark = pytest.mark.anyio

UNAUTHENTICATED = {
    "title": "Unauthenticated",
    "detail": "You did not pass a valid authentication token",
    "status": 401,
}


async def test_missing_token_is_401_problem(client):
    """A request without Authorization gets the real 401 problem body."""
    response = await client.get("/v1/predictions", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response.headers["content-type"] == "application/problem+json"


async def test_wrong_token_is_401(client):
    """An unknown token is refused."""
    response = await client.get("/v1/predictions", headers={"Authorization": "Bearer r8_nope"})
    assert response.status_code == 401


async def test_legacy_token_scheme_is_accepted(client):
    """`Authorization: Token …` still works."""
    response = await client.get(
        "/v1/predictions", headers={"Authorization": f"Token {DEFAULT_TOKEN}"}
    )
    assert response.status_code == 200


async def test_unknown_scheme_is_401(client):
    """`Basic …` is not a token."""
    response = await client.get(
        "/v1/predictions", headers={"Authorization": f"Basic {DEFAULT_TOKEN}"}
    )
    assert response.status_code == 401


async def test_empty_token_list_accepts_any_token():
    """With `tokens=()` any non-empty token is accepted."""
    app = create_app(EmulatorConfig(tokens=()))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu") as c:
        response = await c.get("/v1/predictions", headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 200
