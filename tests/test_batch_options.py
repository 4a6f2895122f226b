# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The typed overloads of `run_many` and `save_all` stay in step with their implementations.

The overloads (read by type checkers only) take `run_many`'s options as `**Unpack[BatchOptions]`;
an option added to `run_many` but not to `BatchOptions` would be refused to typed callers. The
runtime behaviour the overloads describe is checked here too, so the types do not promise more
than the calls do.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import httpx
import pytest

from _client_support import reply
from replicate_async import AsyncClient, Client, FileOutput, PredictionFailed
from replicate_async._client import BatchOptions


def _annotation(value: object) -> str:
    return value.__forward_arg__ if isinstance(value, typing.ForwardRef) else str(value)


@pytest.mark.parametrize("method", [AsyncClient.run_many, Client.run_many])
def test_batch_options_are_run_manys_options(method):
    """BatchOptions has each keyword option of run_many but return_exceptions, typed alike."""
    options = {
        name: param.annotation
        for name, param in inspect.signature(method).parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY and name != "return_exceptions"
    }
    declared = {name: _annotation(t) for name, t in BatchOptions.__annotations__.items()}
    assert declared == options
    assert not BatchOptions.__required_keys__


def test_the_overloads_cover_both_clients():
    """Both clients declare the run_many and save_all overloads type checkers read."""
    for cls in (AsyncClient, Client):
        assert len(typing.get_overloads(cls.run_many)) == 2
        assert len(typing.get_overloads(cls.save_all)) == 6


@pytest.mark.asyncio
async def test_return_exceptions_puts_exceptions_in_place(api, make_client):
    """With return_exceptions=True a failed job's place holds an Exception (list[Any | Exception])."""
    api.post("/v1/models/acme/painter/predictions").mock(
        side_effect=[reply("succeeded", 201, output="ok"), reply("failed", 201, error="boom")]
    )
    async with make_client() as client:
        results = await client.run_many(
            [("acme/painter", {"n": 1}), ("acme/painter", {"n": 2})],
            return_exceptions=True,
            concurrency=1,
        )
    assert results[0] == "ok"
    assert isinstance(results[1], PredictionFailed)


@pytest.mark.anyio
async def test_save_all_keeps_the_shapes_the_overloads_name(tmp_path, downloader):
    """One file gives a Path; a list, tuple or dict of files the same container of Paths."""
    data = FileOutput("data:text/plain;base64,aGk=", downloader)
    async with AsyncClient(api_token="r8_x", transport=httpx.MockTransport(_refuse)) as client:
        one = await client.save_all(data, tmp_path / "one")
        many = await client.save_all([data], tmp_path / "list")
        pair = await client.save_all((data, data), tmp_path / "tuple")
        named = await client.save_all({"a": data}, tmp_path / "dict")
        nothing = await client.save_all(None, tmp_path / "none")
    assert isinstance(one, Path)
    assert one.read_bytes() == b"hi"
    assert isinstance(many, list)
    assert [type(p) for p in many] == [type(one)]
    assert isinstance(pair, tuple)
    assert len(pair) == 2
    assert pair[0] == pair[1]
    assert isinstance(named, dict)
    assert isinstance(named["a"], Path)
    assert nothing is None


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request to {request.url}")
