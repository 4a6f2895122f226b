# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Generic answers: unknown routes, wrong methods."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio


async def test_unknown_route_is_generic_404(client):
    """An unknown path gets the generic problem body."""
    response = await client.get("/v1/nothing/here")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "The requested resource could not be found.", "status": 404},
    )


async def test_wrong_method_is_405_problem(client):
    """A known path with the wrong method is a 405 problem."""
    response = await client.delete("/v1/predictions")
    assert (response.status_code, response.json()["status"]) == (405, 405)
