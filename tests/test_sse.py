"""The sans-I/O server-sent-events parser and encoder.

The streams in the first group are the HTML standard's own examples, verbatim
(https://html.spec.whatwg.org/multipage/server-sent-events.html, sections 9.2.1 and 9.2.6).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async._sansio.sse import (
    Comment,
    ServerSentEvent,
    SSEDecoder,
    decode_stream,
    format_comment,
    format_event,
)

# -- The standard's examples ------------------------------------------------------------------


def test_standard_intro_three_messages():
    """9.2.1: three blank-line separated blocks give three messages, the second of two lines."""
    stream = (
        b"data: This is the first message.\n"
        b"\n"
        b"data: This is the second message, it\n"
        b"data: has two lines.\n"
        b"\n"
        b"data: This is the third message.\n"
        b"\n"
    )
    assert decode_stream(stream) == [
        ServerSentEvent(data="This is the first message."),
        ServerSentEvent(data="This is the second message, it\nhas two lines."),
        ServerSentEvent(data="This is the third message."),
    ]


def test_standard_intro_event_types():
    """9.2.1: the `event` field names each event's type."""
    stream = (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    )
    assert decode_stream(stream) == [
        ServerSentEvent(event="add", data="73857293"),
        ServerSentEvent(event="remove", data="2153"),
        ServerSentEvent(event="add", data="113411"),
    ]


def test_standard_yhoo_multi_line_data():
    """9.2.6: the stock ticker's three data lines join with LF into one message."""
    stream = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert decode_stream(stream) == [ServerSentEvent(event="message", data="YHOO\n+2\n10")]


def test_standard_first_second_third_ids():
    """9.2.6: a comment block fires nothing, `id: 1` applies, a bare `id` resets it to ""."""
    stream = (
        b": test stream\n"
        b"\n"
        b"data: first event\n"
        b"id: 1\n"
        b"\n"
        b"data:second event\n"
        b"id\n"
        b"\n"
        b"data:  third event\n"
        b"\n"
    )
    assert decode_stream(stream) == [
        ServerSentEvent(data="first event", id="1"),
        ServerSentEvent(data="second event", id=""),
        ServerSentEvent(data=" third event", id=""),
    ]


def test_standard_empty_data_blocks():
    """9.2.6: `data` alone fires "", two give "\\n", and the unterminated last block is dropped."""
    stream = b"data\n\ndata\ndata\n\ndata:"
    assert decode_stream(stream) == [ServerSentEvent(data=""), ServerSentEvent(data="\n")]


def test_standard_space_after_colon_is_optional():
    """9.2.6: `data:test` and `data: test` fire two identical events."""
    first, second = decode_stream(b"data:test\n\ndata: test\n\n")
    assert first == second == ServerSentEvent(data="test")


# -- Lines and line ends ----------------------------------------------------------------------


def test_cr_only_line_ends():
    """A lone CR ends a line, as LF and CRLF do."""
    assert decode_stream(b"event: e\rdata: a\rdata: b\r\r") == [
        ServerSentEvent(event="e", data="a\nb")
    ]


def test_crlf_line_ends():
    """CRLF ends one line, not two."""
    assert decode_stream(b"data: a\r\ndata: b\r\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_mixed_line_ends():
    """CR, LF and CRLF may be mixed in one stream."""
    assert decode_stream(b"data: a\rdata: b\ndata: c\r\n\n") == [ServerSentEvent(data="a\nb\nc")]


def test_crlf_split_between_chunks_is_one_line_end():
    """A chunk ending in CR and the next starting with LF make one line end, not a blank line."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_cr_at_chunk_end_completes_the_line_at_once():
    """A blank line ended by CR dispatches without waiting to see whether an LF follows."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ServerSentEvent(data="a")]


def test_lf_skip_survives_an_empty_chunk():
    """After a final CR, an empty chunk does not make the decoder forget to skip the next LF."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\ndata: b\n\n") == [ServerSentEvent(data="a\nb")]


def test_lf_after_cr_then_text_in_next_chunk():
    """Only an LF right after a chunk-ending CR is skipped; other text is kept."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"data: b\n\n") == [ServerSentEvent(data="a\nb")]


def test_line_split_across_many_chunks():
    """A line arriving in pieces is joined before it is interpreted."""
    decoder = SSEDecoder()
    assert decoder.feed(b"da") == []
    assert decoder.feed(b"ta: hel") == []
    assert decoder.feed(b"lo") == []
    assert decoder.feed(b"\n\n") == [ServerSentEvent(data="hello")]


def test_field_without_colon_has_empty_value():
    """A line without a colon is a field name with the empty string as its value."""
    assert decode_stream(b"event\ndata\n\n") == [ServerSentEvent(event="message", data="")]


def test_only_one_space_after_colon_is_removed():
    """One leading space of a value is dropped, further ones are kept."""
    assert decode_stream(b"data:   x\n\n") == [ServerSentEvent(data="  x")]


def test_value_keeps_later_colons():
    """Only the first colon separates the field name from its value."""
    assert decode_stream(b"data: a: b\n\n") == [ServerSentEvent(data="a: b")]


def test_field_names_are_case_sensitive():
    """`Data` is not `data`: the field is ignored."""
    assert decode_stream(b"Data: x\n\n") == []


def test_unknown_fields_are_ignored():
    """A field the standard does not define changes nothing."""
    assert decode_stream(b"foo: bar\ndata: x\n\n") == [ServerSentEvent(data="x")]


# -- Encoding ---------------------------------------------------------------------------------


def test_leading_bom_is_stripped():
    """One UTF-8 byte order mark at the start of the stream is removed."""
    assert decode_stream(b"\xef\xbb\xbfdata: a\n\n") == [ServerSentEvent(data="a")]


def test_leading_bom_split_across_chunks_is_stripped():
    """A byte order mark arriving one byte at a time is still removed."""
    assert decode_stream([b"\xef", b"\xbb", b"\xbfdata: a\n\n"]) == [ServerSentEvent(data="a")]


def test_only_one_leading_bom_is_stripped():
    """A second BOM is part of the first line, whose field name is then unknown."""
    assert decode_stream(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == [
        ServerSentEvent(data="b")
    ]


def test_bom_after_stream_start_is_kept():
    """A BOM anywhere but the very start is ordinary text."""
    assert decode_stream(b"data: \xef\xbb\xbfa\n\n") == [ServerSentEvent(data="\ufeffa")]


def test_multibyte_character_split_across_chunks():
    """A UTF-8 sequence cut between chunks decodes to the one character."""
    encoded = "data: añ€😀\n\n".encode()
    chunks = [encoded[i : i + 1] for i in range(len(encoded))]
    assert decode_stream(chunks) == [ServerSentEvent(data="añ€😀")]


def test_invalid_utf8_becomes_replacement_character():
    """Bytes that are not UTF-8 decode to U+FFFD, as the UTF-8 decode algorithm says."""
    assert decode_stream(b"data: a\xffb\n\n") == [ServerSentEvent(data="a\ufffdb")]


# -- Comments ---------------------------------------------------------------------------------


def test_comments_are_skipped_by_default():
    """Replicate's idle comments (`: hi`, `:408: ...`) yield nothing unless asked for."""
    stream = b": hi\n\n:408: 408 Request Timeout\n\n"
    assert decode_stream(stream) == []


def test_comments_reported_when_asked():
    """With comments=True each comment line is a Comment with the text after the colon."""
    stream = b": hi\ndata: x\n\n:408: 408 Request Timeout\n"
    assert decode_stream(stream, comments=True) == [
        Comment(" hi"),
        ServerSentEvent(data="x"),
        Comment("408: 408 Request Timeout"),
    ]


def test_comment_inside_event_does_not_end_it():
    """A comment between an event's fields leaves the event intact."""
    assert decode_stream(b"data: a\n: ping\ndata: b\n\n") == [ServerSentEvent(data="a\nb")]


# -- id and retry -----------------------------------------------------------------------------


def test_id_persists_across_events():
    """An event without an id field carries the last id in force."""
    assert decode_stream(b"id: 7\ndata: a\n\ndata: b\n\n") == [
        ServerSentEvent(data="a", id="7"),
        ServerSentEvent(data="b", id="7"),
    ]


def test_id_is_none_before_any_id_field():
    """Until an id field arrives, events have id None."""
    assert decode_stream(b"data: a\n\n") == [ServerSentEvent(data="a", id=None)]


def test_id_containing_null_is_ignored():
    """An id value containing U+0000 leaves the last id unchanged."""
    assert decode_stream(b"id: 5\ndata: a\n\nid: 6\x00\ndata: b\n\n") == [
        ServerSentEvent(data="a", id="5"),
        ServerSentEvent(data="b", id="5"),
    ]


def test_id_in_block_without_data_still_applies():
    """A block with only an id dispatches nothing but sets the id for later events."""
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 9\n\n") == []
    assert decoder.last_event_id == "9"
    assert decoder.feed(b"data: a\n\n") == [ServerSentEvent(data="a", id="9")]


def test_last_event_id_seeds_a_resumed_stream():
    """A decoder for a new connection starts from the previous connection's id and retry."""
    decoder = SSEDecoder(last_event_id="41", retry=1500)
    assert decoder.feed(b"data: a\n\n") == [ServerSentEvent(data="a", id="41", retry=1500)]


def test_retry_with_digits_sets_reconnection_time():
    """`retry: 5000` sets the reconnection time, reported on the event and the decoder."""
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 5000\ndata: a\n\n") == [ServerSentEvent(data="a", retry=5000)]
    assert decoder.retry == 5000


@pytest.mark.parametrize("value", ["1a", "-1", "", " 5", "1.5", "\u0663", "+3"])
def test_retry_with_non_digits_is_ignored(value):
    """A retry value that is not only ASCII digits leaves the reconnection time unchanged."""
    stream = f"retry: 250\nretry: {value}\ndata: a\n\n".encode()
    assert decode_stream(stream) == [ServerSentEvent(data="a", retry=250)]


def test_retry_persists_across_events():
    """The reconnection time stays in force for later events."""
    assert decode_stream(b"retry: 10\ndata: a\n\ndata: b\n\n")[1].retry == 10


# -- Dispatch and end of stream ---------------------------------------------------------------


def test_event_type_resets_after_dispatch():
    """The next event without an `event` field is a `message` again."""
    assert decode_stream(b"event: output\ndata: a\n\ndata: b\n\n") == [
        ServerSentEvent(event="output", data="a"),
        ServerSentEvent(event="message", data="b"),
    ]


def test_event_type_resets_after_block_without_data():
    """A block with an event type but no data dispatches nothing and forgets the type."""
    assert decode_stream(b"event: ignored\n\ndata: x\n\n") == [ServerSentEvent(data="x")]


def test_empty_event_type_means_message():
    """`event:` with an empty value gives the default type."""
    assert decode_stream(b"event:\ndata: x\n\n") == [ServerSentEvent(event="message", data="x")]


def test_incomplete_final_event_is_discarded():
    """An event not ended by a blank line before the stream ends is not dispatched."""
    assert decode_stream(b"data: a\n\ndata: b\n") == [ServerSentEvent(data="a")]


def test_close_discards_pending_event():
    """After close, the pending event is gone and nothing more is returned."""
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\ndata: pending\n") == []
    decoder.close()
    assert decoder.last_event_id is None


def test_feed_after_close_raises():
    """A closed decoder refuses more bytes instead of silently mixing two streams."""
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(RuntimeError, match="closed"):
        decoder.feed(b"data: a\n\n")


def test_empty_chunk_returns_nothing():
    """Feeding no bytes completes no event."""
    assert SSEDecoder().feed(b"") == []


# -- The encoder ------------------------------------------------------------------------------


def test_format_event_all_fields():
    """An event is written as event, id, retry, data lines and a blank line."""
    assert format_event("output", "hi", id="1690212292:0", retry=3000) == (
        b"event: output\nid: 1690212292:0\nretry: 3000\ndata: hi\n\n"
    )


def test_format_event_without_event_type():
    """event=None writes no `event` field; the reader sees a `message`."""
    assert format_event(None, "x") == b"data: x\n\n"
    assert decode_stream(format_event(None, "x")) == [ServerSentEvent(data="x")]


def test_format_event_splits_multi_line_data():
    """Each line of the data, whatever its line end, becomes its own `data` field."""
    assert format_event("output", "a\nb\r\nc\rd") == (
        b"event: output\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    )


def test_format_event_empty_data_is_dispatched():
    """Empty data is written as one empty `data` field, so the reader still fires the event."""
    assert decode_stream(format_event("done", "")) == [ServerSentEvent(event="done", data="")]


def test_format_event_keeps_leading_space_of_data():
    """A data line starting with a space survives: only the separator space is removed."""
    assert decode_stream(format_event("output", " token")) == [
        ServerSentEvent(event="output", data=" token")
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "a\nb"}, "event cannot contain a line break"),
        ({"event": "a\rb"}, "event cannot contain a line break"),
        ({"id": "1\n2"}, "id cannot contain a line break"),
        ({"id": "1\x002"}, "U\\+0000"),
        ({"retry": -1}, "non-negative"),
    ],
)
def test_format_event_refuses_values_that_break_framing(kwargs, message):
    """Values that the reader could not read back raise ValueError."""
    kwargs = {"event": "output", "data": "x", **kwargs}
    with pytest.raises(ValueError, match=message):
        format_event(**kwargs)


def test_format_comment_writes_text_verbatim():
    """Nothing is added after the colon, so Replicate's comments can be written exactly."""
    assert format_comment(" hi") == b": hi\n"
    assert format_comment("408: 408 Request Timeout") == b":408: 408 Request Timeout\n"


def test_format_comment_multi_line():
    """Each line of a multi-line comment becomes its own comment line."""
    assert format_comment("a\nb") == b":a\n:b\n"


def test_format_comment_round_trip():
    """A written comment reads back as the same Comment."""
    assert decode_stream(format_comment(" hi"), comments=True) == [Comment(" hi")]


# -- Properties -------------------------------------------------------------------------------

_pieces = st.sampled_from(
    [
        "data",
        "data:",
        "data: ",
        "event: ",
        "id: ",
        "id",
        "retry: ",
        "retry: 12",
        ":",
        ": hi",
        " ",
        "x",
        "é",
        "€",
        "😀",
        "\ufeff",
        "\x00",
        "\r",
        "\n",
        "\r\n",
        "\n\n",
    ]
)
_streams = st.lists(_pieces, max_size=40).map(lambda pieces: "".join(pieces).encode())


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split *data* at the given offsets."""
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(
    stream=_streams,
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_chunking_gives_the_same_items(stream, bom, cuts):
    """Feeding a stream in any chunks gives exactly the items of feeding it whole."""
    if bom:
        stream = b"\xef\xbb\xbf" + stream
    whole = decode_stream(stream, comments=True)
    assert decode_stream(_chunked(stream, cuts), comments=True) == whole


@given(stream=_streams)
def test_byte_by_byte_gives_the_same_items(stream):
    """Feeding one byte at a time gives exactly the items of feeding the stream whole."""
    whole = decode_stream(stream, comments=True)
    assert decode_stream([stream[i : i + 1] for i in range(len(stream))], comments=True) == whole


_single_line = st.text().filter(lambda s: "\r" not in s and "\n" not in s)
_events = st.lists(
    st.tuples(
        st.none() | _single_line,
        st.text(),
        st.none() | _single_line.filter(lambda s: "\x00" not in s),
        st.none() | st.integers(min_value=0, max_value=10**12),
    ),
    max_size=8,
)


@given(events=_events)
def test_format_event_round_trips(events):
    """What format_event writes, the decoder reads back (line ends in data normalised to LF)."""
    stream = b"".join(format_event(e, d, id=i, retry=r) for e, d, i, r in events)
    expected = []
    last_id = None
    last_retry = None
    for event, data, id_, retry in events:
        last_id = id_ if id_ is not None else last_id
        last_retry = retry if retry is not None else last_retry
        normalised = data.replace("\r\n", "\n").replace("\r", "\n")
        expected.append(
            ServerSentEvent(event=event or "message", data=normalised, id=last_id, retry=last_retry)
        )
    assert decode_stream(stream) == expected
