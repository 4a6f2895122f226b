# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Property tests of the decoders a server's bytes reach (issue 11): whatever arrives,
``decode_prediction`` and the SSE decoder return a result or raise one of our errors,
never anything else, and the SSE decoder never holds more than its cap.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from replicate_async import ReplicateError
from replicate_async._models import Prediction
from replicate_async._sansio import decode_prediction
from replicate_async._sansio.sse import Comment, ServerSentEvent, SSEDecoder, decode_stream

# -- decode_prediction ------------------------------------------------------------------------

_PREDICTION: dict[str, Any] = {
    "id": "p1",
    "model": "acme/painter",
    "version": "hidden",
    "input": {"prompt": "a cat"},
    "output": None,
    "logs": "",
    "error": None,
    "status": "succeeded",
    "created_at": "2025-01-01T00:00:00.000Z",
    "urls": {"get": "https://api.test/v1/predictions/p1"},
}

_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# A prediction with any of its fields replaced by (or added as) any JSON value.
_mangled = st.builds(
    lambda changes, dropped: {
        **{k: v for k, v in _PREDICTION.items() if k not in dropped},
        **changes,
    },
    st.dictionaries(
        st.sampled_from([*_PREDICTION, "metrics", "started_at", "completed_at", "data_removed"])
        | st.text(max_size=8),
        _json,
        max_size=4,
    ),
    st.sets(st.sampled_from(list(_PREDICTION)), max_size=3),
)
_bodies = (
    st.binary(max_size=200)
    | st.text(max_size=200)
    | _json.map(json.dumps)
    | _mangled.map(json.dumps)
    | _mangled.map(lambda value: json.dumps(value).encode())
)
_headers = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "Retry-After", "retry-after", "X-Other"]),
    st.text(max_size=30),
    max_size=3,
)


def _nested(depth: int) -> str:
    """JSON nested *depth* levels deep, inside a prediction's input."""
    return json.dumps({**_PREDICTION, "input": None}).replace(
        '"input": null', '"input": ' + "[" * depth + "]" * depth
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.integers(min_value=0, max_value=999), headers=_headers, body=_bodies)
@example(status=200, headers={}, body=json.dumps(_PREDICTION))
@example(status=200, headers={}, body="[" * 100_000)
@example(status=500, headers={}, body="[" * 100_000)
@example(status=429, headers={"Retry-After": "[" * 100_000}, body=b'{"retry_after": 1e999}')
@example(status=200, headers={}, body=_nested(100_000))
@example(status=200, headers={}, body=_nested(900))
@example(status=500, headers={}, body='{"detail": ' + "[" * 900 + "]" * 900 + "}")
@example(status=200, headers={}, body=json.dumps({**_PREDICTION, "created_at": 5}))
@example(status=200, headers={}, body=b"\xff\xfe\x00\x00")
def test_decode_prediction_returns_a_prediction_or_raises_ours(
    status: int, headers: dict[str, str], body: bytes | str
) -> None:
    """decode_prediction of any status, headers and body gives a Prediction or a ReplicateError."""
    try:
        result = decode_prediction(status, headers, body, method="GET", path="/v1/predictions/p1")
    except ReplicateError as exc:
        error: ReplicateError | None = exc
    else:
        error = None
    if error is not None:
        assert "\n" not in str(error)
        return
    assert isinstance(result, Prediction)
    assert 200 <= status < 300


# -- the SSE decoder --------------------------------------------------------------------------

_CAP = 64
# Streams made of event-stream pieces (so events do occur), raw bytes and long runs.
_pieces = st.sampled_from(
    [
        b"data: x",
        b"data:",
        b"event: e",
        b"id: 1",
        b"id",
        b"retry: 10",
        b": c",
        b":",
        b"\r",
        b"\n",
        b"\r\n",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xe2\x82",
        b"\xac",
        b"x" * 40,
        b"\x00",
    ]
) | st.binary(max_size=16)
_streams = st.lists(_pieces, max_size=40).map(b"".join)


def _chunked(stream: bytes, cuts: list[int]) -> list[bytes]:
    """*stream* cut at the positions *cuts* (taken modulo its length)."""
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def _decode(chunks: list[bytes], cap: int | None) -> tuple[list[ServerSentEvent | Comment], str]:
    """Feed *chunks* to one decoder; the items and how it ended ("ok", or the error's class)."""
    decoder = SSEDecoder(comments=True, max_event_bytes=cap)
    items: list[ServerSentEvent | Comment] = []
    error: ReplicateError | None = None
    try:
        for chunk in chunks:
            items.extend(decoder.feed(chunk))
            held = decoder._partial_size + decoder._event_size  # what the cap is about
            assert cap is None or held <= cap
    except ReplicateError as exc:
        error = exc
    if error is not None:
        assert "\n" not in str(error)
        return items, type(error).__name__
    decoder.close()
    return items, "ok"


@settings(max_examples=400)
@given(stream=_streams, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_sse_any_chunking_gives_the_same_items(stream: bytes, cuts: list[int]) -> None:
    """Without a cap, any chunking of any bytes decodes to the same items as the whole stream."""
    whole = decode_stream(stream, comments=True)
    assert _decode(_chunked(stream, cuts), None) == (whole, "ok")


@settings(max_examples=400)
@given(stream=_streams, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_sse_cap_raises_ours_and_never_holds_more(stream: bytes, cuts: list[int]) -> None:
    """With a cap, any chunking yields events or raises DecodeError, holding at most the cap."""
    items, ending = _decode(_chunked(stream, cuts), _CAP)
    assert ending in {"ok", "DecodeError"}
    whole = decode_stream(stream, comments=True)
    assert items == whole[: len(items)]
    if ending == "ok":
        assert items == whole


@given(
    st.binary(min_size=_CAP + 1, max_size=4 * _CAP).filter(
        lambda b: b"\n" not in b and b"\r" not in b
    )
)
def test_sse_line_past_the_cap_is_refused(line: bytes) -> None:
    """A line longer than the cap, however it is chunked, raises DecodeError naming the cap."""
    chunks = [line[index : index + 7] for index in range(0, len(line), 7)]
    with pytest.raises(ReplicateError, match="64 bytes"):
        _feed_all(SSEDecoder(max_event_bytes=_CAP), chunks)


def _feed_all(decoder: SSEDecoder[ServerSentEvent], chunks: list[bytes]) -> None:
    """Feed every chunk to *decoder*."""
    for chunk in chunks:
        decoder.feed(chunk)
