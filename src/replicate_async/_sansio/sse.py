"""Server-sent events, sans I/O: an incremental parser and a tiny encoder.

The parser follows the HTML standard's "event stream interpretation"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
step by step, so it can be fed bytes in chunks of any size: a chunk may end inside a line, between
the CR and the LF of a CRLF pair, or inside a UTF-8 multibyte sequence.

No httpx and no anyio here: the client feeds it what it reads from the network, and the
emulator uses `format_event` / `format_comment` to write its streams.
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, Generic, Literal, TypeVar, overload

import attrs

from replicate_async.exceptions import DecodeError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Comment",
    "SSEDecoder",
    "ServerSentEvent",
    "decode_stream",
    "format_comment",
    "format_event",
]

# The standard's three line ends; `\r\n?` also matches a CR that ends a chunk, whose LF (if
# any) then arrives with the next chunk and is skipped (see `_skip_lf`).
_EOL = re.compile(r"\r\n?|\n")
_EOL_BYTES = re.compile(rb"\r\n?|\n")
# One leading byte order mark is stripped ("UTF-8 decode" does), even split across chunks.
_BOM = codecs.BOM_UTF8


@attrs.frozen
class ServerSentEvent:
    """One dispatched event.

    Args:
        event: The event type; ``"message"`` when the event named none (or an empty one).
        data: The ``data`` lines joined with ``"\\n"``, without the final newline.
        id: The last event id in force when the event was dispatched: as in the standard, an
            ``id`` field persists across the following events until another one replaces it.
            ``None`` until the stream (or the decoder's *last_event_id*) set one; ``""`` after
            an empty ``id`` field reset it.
        retry: The reconnection time in milliseconds in force when the event was dispatched
            (the last valid ``retry`` field so far), or ``None`` if none was given.

    .. versionadded:: 0.1.0
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


@attrs.frozen
class Comment:
    """A comment line (one starting with ``:``), reported only when asked for.

    Args:
        text: Everything after the colon, verbatim: ``": hi"`` gives ``" hi"`` and
            ``":408: 408 Request Timeout"`` gives ``"408: 408 Request Timeout"``.

    .. versionadded:: 0.1.0
    """

    text: str


ItemT = TypeVar("ItemT", ServerSentEvent, ServerSentEvent | Comment)


class SSEDecoder(Generic[ItemT]):
    """An incremental event-stream parser.

    Feed it the bytes of one response, in any chunking, and it returns the events completed so
    far. At the end of the stream call `close`: per the standard, an event not yet ended by a
    blank line (and an unterminated last line) is discarded.

    To resume a stream on a new connection, create a new decoder (a new stream may start with a
    byte order mark again) and pass the previous decoder's `last_event_id` and `retry`.

    Args:
        comments: Also return comment lines, as `Comment` items, in stream order.
        last_event_id: The last event id in force from a previous connection.
        retry: The reconnection time in force from a previous connection.
        max_event_bytes: The most bytes of one event (its lines, as received, together)
            and so of any one line, or None for no cap. Past it `feed` raises
            :class:`~replicate_async.DecodeError` at once, holding no more than the cap.

    .. versionadded:: 0.1.0
    """

    @overload
    def __init__(
        self: SSEDecoder[ServerSentEvent],
        *,
        comments: Literal[False] = False,
        last_event_id: str | None = None,
        retry: int | None = None,
        max_event_bytes: int | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: SSEDecoder[ServerSentEvent | Comment],
        *,
        comments: Literal[True],
        last_event_id: str | None = None,
        retry: int | None = None,
        max_event_bytes: int | None = None,
    ) -> None: ...

    def __init__(
        self,
        *,
        comments: bool = False,
        last_event_id: str | None = None,
        retry: int | None = None,
        max_event_bytes: int | None = None,
    ) -> None:
        self._comments = comments
        # Lines are split on bytes (CR and LF never occur inside a UTF-8 sequence), so a
        # line is held as bytes, counted exactly, and decoded once complete: "UTF-8
        # decode" with replacement characters, which gives the same text as decoding the
        # whole stream because a line end always ends an invalid sequence.
        self._head: bytes | None = b""  # the stream's first bytes, until a BOM is ruled out
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._skip_lf = False
        self._data: list[str] = []
        self._event_size = 0  # bytes of the lines of the event being built
        self._event_type = ""
        self._last_event_id = last_event_id
        self._retry = retry
        self._closed = False
        self._max_event_bytes = max_event_bytes

    @property
    def last_event_id(self) -> str | None:
        """The last event id in force, to send as ``Last-Event-ID`` when reconnecting."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds in force, if the stream set one."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ItemT]:
        """Parse the next chunk of the stream and return the items it completed.

        Args:
            chunk: The next bytes of the response body, of any length.

        Raises:
            RuntimeError: If the decoder was closed.
            DecodeError: If an event passed ``max_event_bytes`` (the decoder is then closed).

        .. versionadded:: 0.1.0
        """
        if self._closed:
            raise RuntimeError("this SSEDecoder is closed; create a new one for a new stream")
        if self._head is not None:
            chunk = self._after_bom(chunk)
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            chunk = chunk.removeprefix(b"\n")
        out: list[ItemT] = []
        pos = 0
        for match in _EOL_BYTES.finditer(chunk):
            line = chunk[pos : match.start()]
            if self._partial:
                self._partial.append(line)
                line = b"".join(self._partial)
                self._partial.clear()
                self._partial_size = 0
            self._check_size(len(line))
            self._process_line(line, out)
            pos = match.end()
        if pos < len(chunk):
            rest = chunk[pos:]
            self._check_size(self._partial_size + len(rest))
            self._partial.append(rest)
            self._partial_size += len(rest)
        self._skip_lf = chunk.endswith(b"\r")
        return out

    def _after_bom(self, chunk: bytes) -> bytes:
        """The stream's first bytes without a byte order mark; b"" while one may be split."""
        chunk = (self._head or b"") + chunk
        if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
            self._head = chunk  # maybe a byte order mark, split: wait for more
            return b""
        self._head = None
        return chunk.removeprefix(_BOM)

    def close(self) -> None:
        """End the stream: discard any incomplete line and undispatched event.

        .. versionadded:: 0.1.0
        """
        self._closed = True
        self._partial.clear()
        self._partial_size = 0
        self._data.clear()
        self._event_size = 0
        self._event_type = ""

    def _check_size(self, line_size: int) -> None:
        """Raise DecodeError (and close) when the event with a line of *line_size* passes the cap."""
        cap = self._max_event_bytes
        if cap is not None and self._event_size + line_size > cap:
            self.close()
            raise DecodeError(
                message=(
                    f"an event of the output stream passed {cap:,} bytes, the cap on one "
                    "event (SizeLimits.max_event_bytes), and was not read further"
                )
            )

    def _process_line(self, raw: bytes, out: list[ItemT]) -> None:
        """Interpret one complete line, appending any item it completes to *out*."""
        if not raw:
            self._dispatch(out)
            return
        line = raw.decode("utf-8", "replace")
        if line[0] == ":":
            if self._comments:
                out.append(Comment(line[1:]))  # type: ignore[arg-type]
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._event_size += len(raw)  # the lines an event holds count against its cap
        self._process_field(name, value)

    def _process_field(self, name: str, value: str) -> None:
        """Apply one field; unknown field names are ignored, as the standard says."""
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id" and "\x00" not in value:
            self._last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, out: list[ItemT]) -> None:
        """Dispatch the buffered event, if its data buffer is not empty."""
        self._event_size = 0
        if not self._data:
            self._event_type = ""
            return
        event = ServerSentEvent(
            event=self._event_type or "message",
            data="\n".join(self._data),
            id=self._last_event_id,
            retry=self._retry,
        )
        self._data.clear()
        self._event_type = ""
        out.append(event)


@overload
def decode_stream(
    chunks: bytes | Iterable[bytes], *, comments: Literal[False] = False
) -> list[ServerSentEvent]: ...


@overload
def decode_stream(
    chunks: bytes | Iterable[bytes], *, comments: Literal[True]
) -> list[ServerSentEvent | Comment]: ...


def decode_stream(
    chunks: bytes | Iterable[bytes], *, comments: bool = False
) -> list[ServerSentEvent] | list[ServerSentEvent | Comment]:
    """Parse a whole event stream at once.

    Args:
        chunks: The complete stream, as bytes or as the chunks it arrived in.
        comments: Also return comment lines, as `Comment` items, in stream order.

    .. versionadded:: 0.1.0
    """
    if isinstance(chunks, bytes):
        chunks = (chunks,)
    decoder: SSEDecoder[ServerSentEvent] | SSEDecoder[ServerSentEvent | Comment]
    decoder = SSEDecoder(comments=True) if comments else SSEDecoder()
    items: list[ServerSentEvent | Comment] = []
    for chunk in chunks:
        items.extend(decoder.feed(chunk))
    decoder.close()
    return items


def _check_single_line(name: str, value: str) -> None:
    """Refuse a field value that would break the stream's framing."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"an event's {name} cannot contain a line break: {value!r}")


def format_event(
    event: str | None,
    data: str,
    id: str | None = None,  # noqa: A002 -- the standard's field name
    retry: int | None = None,
) -> bytes:
    """Encode one event, ended by its blank line.

    `SSEDecoder` reads it back as `ServerSentEvent(event or "message", data, id, retry)`,
    except that CR and CRLF line ends in *data* come back as LF.

    Args:
        event: The event type; ``None`` writes no ``event`` field (the type is then
            ``"message"``).
        data: The payload; each of its lines becomes one ``data`` field.
        id: The event id, if any.
        retry: The reconnection time in milliseconds, if any.

    Raises:
        ValueError: If *event* or *id* contains a line break, *id* contains U+0000 (the
            reader would ignore it), or *retry* is negative.

    .. versionadded:: 0.1.0
    """
    lines: list[str] = []
    if event is not None:
        _check_single_line("event", event)
        lines.append(f"event: {event}")
    if id is not None:
        _check_single_line("id", id)
        if "\x00" in id:
            raise ValueError(f"an event id cannot contain U+0000 (readers ignore it): {id!r}")
        lines.append(f"id: {id}")
    if retry is not None:
        if retry < 0:
            raise ValueError(f"retry must be a non-negative number of milliseconds: {retry!r}")
        lines.append(f"retry: {retry:d}")
    lines.extend(f"data: {line}" for line in _EOL.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def format_comment(text: str) -> bytes:
    """Encode a comment line (or several, one per line of *text*).

    Nothing is added after the colon, so ``format_comment(" hi")`` gives ``b": hi\\n"`` and
    ``format_comment("408: 408 Request Timeout")`` gives ``b":408: 408 Request Timeout\\n"``,
    the bytes Replicate's stream server sends; `Comment.text` reads them back verbatim.

    Args:
        text: The comment text.

    .. versionadded:: 0.1.0
    """
    return "".join(f":{line}\n" for line in _EOL.split(text)).encode()
