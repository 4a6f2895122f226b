# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Hostile lifecycle cases (issue 11, items 7, 12, 13): closed clients, retry noise, 5xx creates."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from replicate_async import AsyncClient, ServerError, _sansio
from replicate_async.emulator import FaultRule

if TYPE_CHECKING:
    from replicate_async.emulator._server import EmulatorServer


CREATE_ADVICE = (
    "the prediction may have been created and billed, so the create was not retried: "
    "check client.predictions.list() before creating it again"
)


def _client(emulator: EmulatorServer, **kwargs: Any) -> AsyncClient:
    return AsyncClient(emulator.token, emulator.base_url, **kwargs)


# -- item 13: a create answered 5xx may have made the prediction -------------------------------


@pytest.mark.anyio
async def test_a_create_answered_500_says_the_prediction_may_exist(
    replicate_emulator: EmulatorServer,
) -> None:
    """A create accepted then answered 500 raises a ServerError saying to check predictions.list()."""
    replicate_emulator.set_faults(FaultRule(action="accept_then_error", route="create", status=500))
    async with _client(replicate_emulator) as client:
        with pytest.raises(ServerError) as info:
            await client.run("emulator/echo", {"prompt": "x"})
    message = str(info.value)
    assert message.startswith("HTTP 500 on POST /v1/models/emulator/echo/predictions")
    assert "may have been created" in message
    assert "client.predictions.list()" in message
    assert replicate_emulator.stats()["creates"] == 1


@pytest.mark.anyio
async def test_a_get_answered_500_does_not_talk_of_creating(
    replicate_emulator: EmulatorServer,
) -> None:
    """A GET answered 500 (after its retries) raises a ServerError without the create advice."""
    replicate_emulator.set_faults(FaultRule(action="error", route="get", status=500))
    async with _client(replicate_emulator) as client:
        created = await client.predictions.create("emulator/echo", {"prompt": "x"}, wait=False)
        with pytest.raises(ServerError) as info:
            await client.predictions.get(created.id)
    message = str(info.value)
    assert message.startswith(f"HTTP 500 on GET /v1/predictions/{created.id}")
    assert "created" not in message
    assert "predictions.list()" not in message


def test_the_create_advice_is_chosen_by_the_pure_decoder() -> None:
    """error_for adds the create advice to a 5xx only when told the reply answers a create."""
    path = "/v1/predictions"
    created = _sansio.error_for(502, {}, b"", method="POST", path=path, create=True)
    fetched = _sansio.error_for(502, {}, b"", method="POST", path=path)
    assert str(created) == f"{fetched}; {CREATE_ADVICE}"
    assert "may have been created" not in str(fetched)


# -- item 12: retries are logged by our logger, and nothing reaches an unconfigured terminal -----


def test_retries_against_an_unreachable_api_print_nothing() -> None:
    """Retries of a refused connection write nothing to stderr when logging is not configured."""
    script = textwrap.dedent(
        """
        import sys
        import anyio
        from replicate_async import AsyncClient, RetryPolicy, TransportError

        async def main(port):
            policy = RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01, wait_jitter=0)
            async with AsyncClient("r8_x", f"http://127.0.0.1:{port}", retry=policy) as client:
                try:
                    await client.predictions.get("abc")
                except TransportError as exc:
                    assert not exc.request_sent, exc
                    print("refused")

        anyio.run(main, int(sys.argv[1]))
        """
    )
    # A bound port nobody listens on: connecting is refused at once, with no race.
    with socket.socket() as unreachable:
        unreachable.bind(("127.0.0.1", 0))
        port = unreachable.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", script, str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "refused\n"
    assert done.stderr == ""
