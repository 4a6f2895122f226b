# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Request bodies under limits: oversized ones refused early, JSON of bounded depth.

Every route runs under `Guarded` (`_http`), which holds its body to a limit (`RequestLimits` in
the configuration): a declared `Content-Length` over it is refused before a byte is read, and
`LimitedReceive` counts a streamed (chunked) body as the endpoint reads it, raising
`BodyTooLarge` the moment the count passes the limit. So no body larger than its limit is ever
held in memory, whatever its size.

An endpoint refuses a request by raising `Refused` with a problem body; `Guarded` answers it.
`parse_json` raises it for JSON nested too deep (Python's parser would recurse until a
`RecursionError`, a 500) and for `NaN` and infinities (not JSON, though Python reads them).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Message, Receive, Scope


class Refused(Exception):  # noqa: N818 - a refusal the emulator answers, not a failure of it
    """A request refused: `Guarded` answers `body` as problem+json.

    Args:
        body: The problem body (with its `status`).
    """

    def __init__(self, body: dict[str, Any]) -> None:
        """Remember the body."""
        super().__init__(body["detail"])
        self.body = body


class BodyTooLarge(Refused):
    """A streamed body passed its route's limit (raised by `LimitedReceive`)."""


def too_large(limit: int) -> dict[str, Any]:
    """The 413 body for a JSON (or text) body over `limit` bytes (the real text is unknown)."""
    return {
        "title": "Request body too large",
        "detail": f"Request bodies must be at most {limit} bytes.",
        "status": 413,
    }


def invalid_json(detail: str) -> dict[str, Any]:
    """A 400 body for JSON the emulator will not take."""
    return {"title": "Invalid JSON", "detail": detail, "status": 400}


def declared_length(scope: Scope) -> int | None:
    """The request's `Content-Length` (None: absent, so chunked or no body)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server (h11, httptools) has already refused a malformed one.
            return int(value)
    return None


def has_body(scope: Scope) -> bool:
    """Whether the request carries a body (a non-zero length, or chunked)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bytes(value).strip() != b"0"
        if name == b"transfer-encoding":
            return True
    return False


class LimitedReceive:
    """An ASGI `receive` that counts the body and raises `BodyTooLarge` past `limit` bytes.

    Args:
        receive: The server's `receive`.
        limit: The most body bytes the endpoint may read.
        refusal: The problem body of `BodyTooLarge`.
    """

    __slots__ = ("count", "ended", "limit", "receive", "refusal")

    def __init__(self, receive: Receive, limit: int, refusal: dict[str, Any]) -> None:
        """Nothing read yet."""
        self.receive = receive
        self.limit = limit
        self.refusal = refusal
        self.count = 0
        self.ended = False

    async def __call__(self) -> Message:
        """The next message; `BodyTooLarge` once the body passes the limit."""
        message = await self.receive()
        if message["type"] == "http.request":
            self.count += len(message.get("body", b""))
            self.ended = not message.get("more_body", False)
            if self.count > self.limit:
                raise BodyTooLarge(self.refusal)
        return message

    async def finish(self, scope: Scope, drain_bytes: int) -> bool:
        """After the answer is decided: whether the connection must close (rest left unread).

        A rest of up to `drain_bytes` is read and thrown away (here, not by the server: an
        in-process transport would not), so that the connection stays usable and a client
        that writes its whole body before reading sees the answer. A longer rest is not read:
        one of known length not at all, a chunked one from `drain_bytes` on.
        """
        if self.ended or not has_body(scope):
            return False
        declared = declared_length(scope)
        if declared is not None and declared - self.count > drain_bytes:
            return True
        seen = 0
        while not self.ended:
            if seen > drain_bytes:
                return True
            message = await self.receive()
            if message["type"] != "http.request":  # the client went away
                return True
            seen += len(message.get("body", b""))
            self.ended = not message.get("more_body", False)
        return False


def _refuse_constant(name: str) -> Any:
    """`json.loads`'s hook for `NaN`, `Infinity` and `-Infinity`: refused."""
    raise Refused(invalid_json(f"{name} is not valid JSON."))


def _finite_float(text: str) -> float:
    """`json.loads`'s hook for numbers with a fraction or exponent: `1e999` is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise Refused(invalid_json(f"{text} is not valid JSON (out of range)."))
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests arrays and objects more than `limit` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(raw: bytes, depth: int) -> Any:
    """Decode a JSON body of at most `depth` levels.

    Raises:
        Refused: 400 for deeper nesting or a non-finite number.
        ValueError: Malformed JSON (each route answers it its own way).
    """
    too_deep = invalid_json(f"The request body nests deeper than {depth} levels.")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # the C parser's own guard, far past `depth`: nothing to unwind
        raise Refused(too_deep) from None
    if _deeper_than(value, depth):
        raise Refused(too_deep)
    return value


async def json_object(request: Request, depth: int) -> dict[str, Any] | None:
    """The request's body as a JSON object (None: not JSON, or not an object).

    Raises:
        Refused: As `parse_json` (nesting deeper than `depth`, non-finite numbers).
    """
    try:
        body = parse_json(await request.body(), depth)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
