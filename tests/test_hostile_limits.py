# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Hostile replies (issue 11, items 4 and 5): every request has an overall deadline, and
nothing a server sends is read into memory past a cap, compressed or not.

Each test talks to a raw loopback server (``test_backend.RawServer``) that misbehaves on
purpose: it trickles a byte every 0.1 s, sends 100 MiB, or sends a gzip bomb. Timing
assertions are generous: a trickle would last a minute, a test must end in seconds.
"""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc
import zlib
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import pytest

from _client_support import TOKEN, prediction
from replicate_async import AsyncClient, DecodeError, RequestTimeout, RetryPolicy, Timeouts
from replicate_async._backend import Outgoing, Phases
from replicate_async._backend_base import INFLATE_STEP, ContentDecodingError, Inflater
from replicate_async._config import DEFAULT_SIZE_LIMITS, SizeLimits
from replicate_async._downloads import Downloader
from replicate_async._file_output import FileOutput
from replicate_async._sansio import decode_prediction
from test_backend import EVERY_BACKEND, HUGE, MiB, RawServer, _make

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Per-read timeouts far longer than the trickle's gaps, and a short overall deadline.
TOTAL = 1.0
TRICKLING = Phases(connect=5.0, read=5.0, write=5.0, pool=5.0, total=TOTAL)
# A trickle lasts a minute: anything under this many seconds ended at the deadline.
SOON = 8.0
ONE_ATTEMPT = RetryPolicy(attempts=1)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    """A RawServer in the (hostile) mode given by indirect parametrisation."""
    raw = RawServer(request.param)
    yield raw
    raw.close()


def _root(server: RawServer) -> str:
    """The API root of a client talking to *server*."""
    return f"http://127.0.0.1:{server.port}"


async def _peak_while(call: Any) -> tuple[Any, int]:
    """Await *call()* under tracemalloc; its outcome (result or exception) and the peak bytes."""
    tracemalloc.start()
    try:
        try:
            outcome: Any = await call()
        except Exception as exc:  # the outcome is what the test inspects
            outcome = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, peak


async def _read_stream(backend: Any, outgoing: Outgoing) -> bytes:
    """Open *outgoing* as a stream through *backend* and read it to its end."""
    async with backend.open(outgoing) as streamed:
        return b"".join([chunk async for chunk in streamed.chunks()])


# --------------------------------------------------------------- item 4: deadlines, backend


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("server", ["trickle"], indirect=True)
async def test_trickling_reply_ends_at_the_total(server: RawServer, kind: str) -> None:
    """A reply trickling a byte every 0.1 s raises RequestTimeout at Phases.total, not after a minute."""
    backend = _make(kind)
    started = time.monotonic()
    try:
        with pytest.raises(RequestTimeout) as info:
            await backend.fetch(Outgoing("GET", server.url, {}, None, TRICKLING))
    finally:
        await backend.aclose()
    assert time.monotonic() - started < SOON
    assert info.value.request_sent is True
    assert server.sent < 300


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("server", ["trickle"], indirect=True)
async def test_trickling_stream_ends_at_the_total(server: RawServer, kind: str) -> None:
    """An open reply read chunk by chunk is bounded by Phases.total too."""
    backend = _make(kind)
    started = time.monotonic()
    try:
        with pytest.raises(RequestTimeout):
            await _read_stream(backend, Outgoing("GET", server.url, {}, None, TRICKLING))
    finally:
        await backend.aclose()
    assert time.monotonic() - started < SOON


# --------------------------------------------------------------- item 4: deadlines, client


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["trickle"], indirect=True)
async def test_client_total_bounds_a_trickling_api_call(server: RawServer) -> None:
    """AsyncClient(timeouts=Timeouts(total=1)) ends a trickling GET with RequestTimeout in seconds."""
    started = time.monotonic()
    async with AsyncClient(
        TOKEN, _root(server), timeouts=Timeouts(total=TOTAL), retry=ONE_ATTEMPT
    ) as client:
        with pytest.raises(RequestTimeout):
            await client.predictions.get("abc")
    assert time.monotonic() - started < SOON


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["trickle"], indirect=True)
async def test_trickling_file_host_ends_at_the_transfer_total(server: RawServer) -> None:
    """FileOutput.read() from a file host trickling a byte every 0.1 s ends at Timeouts.transfer."""
    started = time.monotonic()
    async with Downloader(timeouts=Timeouts(transfer=TOTAL), retry=ONE_ATTEMPT) as downloader:
        with pytest.raises(RequestTimeout, match="timed out"):
            await FileOutput(server.url, downloader).read()
    assert time.monotonic() - started < SOON


def test_timeouts_have_overall_deadlines_by_default() -> None:
    """Timeouts bound an API call (2 minutes) and a file transfer (15 minutes) by default."""
    assert Timeouts().total == 120.0
    assert Timeouts().transfer == 900.0


@pytest.mark.parametrize("field", ["total", "transfer"])
@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), None])
def test_overall_deadlines_must_be_finite_and_positive(field: str, value: object) -> None:
    """A total or transfer deadline that is not a finite number > 0 is refused at construction."""
    with pytest.raises((ValueError, TypeError), match=field):
        Timeouts(**{field: value})


# --------------------------------------------------------------- item 5: reply caps, backend


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("server", ["huge"], indirect=True)
async def test_reply_past_the_cap_fails_before_it_ends(server: RawServer, kind: str) -> None:
    """A 100 MiB reply to a request capped at 1 MiB raises DecodeError long before its end."""
    backend = _make(kind)
    phases = Phases(connect=5.0, read=5.0, write=5.0, pool=5.0)
    try:
        with pytest.raises(DecodeError, match=r"1,048,576 bytes") as info:
            await backend.fetch(Outgoing("GET", server.url, {}, None, phases, MiB))
    finally:
        await backend.aclose()
    assert "max_reply_bytes" in str(info.value)
    assert info.value.status_code == 200
    assert server.sent < HUGE // 2


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("server", ["huge"], indirect=True)
async def test_a_reply_left_unread_gives_its_connection_back(server: RawServer, kind: str) -> None:
    """A reply past the cap (its body left unread) frees its place in the pool: a backend of
    one connection fetches the next call at once, not after its pool timeout."""
    backend = _make(kind, max_connections=1)
    ok = RawServer("ok")
    phases = Phases(connect=5.0, read=5.0, write=5.0, pool=2.0)
    try:
        failed = None
        try:
            await backend.fetch(Outgoing("GET", server.url, {}, None, phases, MiB))
        except DecodeError as exc:
            failed = exc  # held, as a caller logging it would: the reply must not hold the pool
        reply = await backend.fetch(Outgoing("GET", ok.url, {}, None, phases, MiB))
    finally:
        await backend.aclose()
        ok.close()
    assert isinstance(failed, DecodeError)
    assert reply.status_code == 200


@pytest.mark.anyio
@EVERY_BACKEND
@pytest.mark.parametrize("server", ["bomb", "bomb2"], indirect=True)
async def test_gzip_bomb_is_capped_after_inflation(server: RawServer, kind: str) -> None:
    """A gzip bomb (64 KiB or a few KiB inflating to 64 or 128 MiB) stops at a 1 MiB cap.

    aiohttp does not decode stacked encodings (``gzip, gzip``) at all, so it may instead
    return the few raw KiB; either way no more than the cap is held.
    """
    backend = _make(kind)
    phases = Phases(connect=5.0, read=5.0, write=5.0, pool=5.0)
    outgoing = Outgoing("GET", server.url, {}, None, phases, MiB)
    try:
        outcome, peak = await _peak_while(lambda: backend.fetch(outgoing))
    finally:
        await backend.aclose()
    if not isinstance(outcome, DecodeError):
        assert server.mode == "bomb2", outcome
        assert kind == "aiohttp", outcome
        assert len(outcome.content) <= MiB
    assert peak < 16 * MiB


# --------------------------------------------------------------- item 5: reply caps, client


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["huge"], indirect=True)
async def test_huge_api_reply_is_refused_at_the_default_cap(server: RawServer) -> None:
    """A 100 MiB prediction reply raises DecodeError at the default 32 MiB cap, not after 100 MiB."""
    async with AsyncClient(TOKEN, _root(server), retry=ONE_ATTEMPT) as client:
        with pytest.raises(DecodeError, match=r"33,554,432 bytes.*max_reply_bytes"):
            await client.predictions.get("abc")
    assert server.sent < HUGE // 2


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["bomb"], indirect=True)
async def test_client_size_limits_cap_a_gzip_bomb(server: RawServer) -> None:
    """AsyncClient(size_limits=SizeLimits(max_reply_bytes=1 MiB)) stops a gzip bomb at 1 MiB."""
    async with AsyncClient(
        TOKEN, _root(server), retry=ONE_ATTEMPT, size_limits=SizeLimits(max_reply_bytes=MiB)
    ) as client:
        outcome, peak = await _peak_while(lambda: client.predictions.get("abc"))
    assert isinstance(outcome, DecodeError), outcome
    assert "1,048,576 bytes" in str(outcome)
    assert peak < 16 * MiB


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["sse_huge"], indirect=True)
async def test_huge_event_stream_line_is_refused(server: RawServer) -> None:
    """A stream whose first line is 100 MiB raises DecodeError at max_event_bytes, long before its end."""
    body = prediction("p1", "starting")
    body["urls"]["stream"] = server.url
    created = decode_prediction(200, {}, json.dumps(body))
    limits = SizeLimits(max_event_bytes=MiB)
    async with AsyncClient(TOKEN, _root(server), retry=ONE_ATTEMPT, size_limits=limits) as client:
        with anyio.fail_after(60), pytest.raises(DecodeError, match=r"1,048,576 bytes"):
            async for _ in client.predictions.stream(created, cancel_on_cancellation=False):
                pass
    assert server.sent < HUGE // 2


def test_size_limits_defaults() -> None:
    """API replies are capped at 32 MiB and one server-sent event at 8 MiB by default."""
    assert SizeLimits() == DEFAULT_SIZE_LIMITS
    assert SizeLimits().max_reply_bytes == 32 * MiB
    assert SizeLimits().max_event_bytes == 8 * MiB


@pytest.mark.parametrize("field", ["max_reply_bytes", "max_event_bytes"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, None])
def test_size_limits_must_be_positive_integers(field: str, value: object) -> None:
    """A cap that is not an integer >= 1 is refused at construction, naming the field."""
    with pytest.raises((ValueError, TypeError), match=field):
        SizeLimits(**{field: value})


def test_size_limits_are_frozen() -> None:
    """SizeLimits is an immutable value."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        SizeLimits().max_reply_bytes = 1  # type: ignore[misc]


# --------------------------------------------------------------- item 5: downloads


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["huge"], indirect=True)
async def test_download_read_cap_stops_early(server: RawServer) -> None:
    """Downloader.read(url, max_bytes=1 MiB) of a 100 MiB file raises DecodeError early."""
    async with Downloader(retry=ONE_ATTEMPT) as downloader:
        with pytest.raises(DecodeError, match=r"1,048,576 bytes"):
            await downloader.read(server.url, max_bytes=MiB)
    assert server.sent < HUGE // 2


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["bomb"], indirect=True)
async def test_gzip_bomb_download_streams_to_disk_in_bounded_memory(
    server: RawServer, tmp_path: Path
) -> None:
    """A gzipped download (64 KiB inflating to 64 MiB) is saved whole, never held whole."""
    target = tmp_path / "out.bin"
    async with Downloader(retry=ONE_ATTEMPT) as downloader:
        outcome, peak = await _peak_while(lambda: downloader.save(server.url, target))
    assert outcome == target
    assert 64 * MiB == target.stat().st_size
    assert peak < 16 * MiB


# --------------------------------------------------------------- the pieces


def test_a_run_can_pass_its_remaining_budget_as_the_total() -> None:
    """Session.phases(total=) sets one attempt's deadline; a create's wait raises the client's."""
    client = AsyncClient(TOKEN, "http://127.0.0.1:9", timeouts=Timeouts(total=10.0))
    session = client._session
    assert session.phases().total == 10.0
    assert session.phases(total=2.5).total == 2.5
    assert session.phases(read=65.0).total == 65.0
    assert session.phases(read=65.0, total=3.0).total == 3.0
    assert session.phases(transfer=True).total == 900.0


@pytest.mark.parametrize("layers", [["gzip"], ["deflate"], ["x-gzip", "gzip"], ["deflate", "gzip"]])
def test_inflater_decodes_stacked_encodings_in_bounded_steps(layers: list[str]) -> None:
    """Inflater undoes gzip and deflate (zlib or raw), stacked, in pieces of at most one step."""
    data = bytes(5 * INFLATE_STEP) + b"end"
    body = data
    for name in layers:
        body = zlib.compress(body) if name == "deflate" else gzip.compress(body)
    inflater = Inflater.for_encoding(", ".join(layers))
    assert inflater is not None
    pieces = [
        piece
        for index in range(0, len(body), 3)
        for piece in inflater.feed(body[index : index + 3])
    ]
    pieces += list(inflater.flush())
    assert b"".join(pieces) == data
    assert max(map(len, pieces)) <= INFLATE_STEP


def test_inflater_reads_raw_deflate() -> None:
    """A "deflate" body without the zlib header (as some servers send it) decodes too."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    body = compressor.compress(b"raw deflate") + compressor.flush()
    inflater = Inflater.for_encoding("deflate")
    assert inflater is not None
    assert b"".join([*inflater.feed(body), *inflater.flush()]) == b"raw deflate"


@pytest.mark.parametrize("value", [None, "", "identity", "unknown-coding"])
def test_inflater_is_not_needed_for_identity(value: str | None) -> None:
    """No Content-Encoding, identity or an unknown token needs no decoding (as httpx)."""
    assert Inflater.for_encoding(value) is None


@pytest.mark.parametrize("value", ["br", "gzip, zstd"])
def test_inflater_refuses_encodings_never_asked_for(value: str) -> None:
    """brotli and zstd, which the client never offers, are refused with a clear reason."""
    with pytest.raises(ContentDecodingError, match="not supported"):
        Inflater.for_encoding(value)
