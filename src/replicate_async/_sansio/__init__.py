"""The sans-I/O core: builds every request and decodes every reply, without doing I/O.

Nothing here imports httpx or anyio, so it is tested without an event loop and shared
by the async client, the sync wrapper and the emulator (gidgethub's ``sansio`` design).
"""

from __future__ import annotations

from replicate_async._sansio.polling import is_terminal, needs_confirmation, outcome, poll_delays
from replicate_async._sansio.requests import (
    REF_HELP,
    ModelRef,
    Request,
    base_headers,
    build_cancel,
    build_create,
    build_get,
    cancel_after_header,
    create_read_timeout,
    parse_cancel_after,
    parse_ref,
    prefer_header,
    resolve_next_url,
    user_agent,
)
from replicate_async._sansio.responses import (
    TOKEN_ENV_VAR,
    check_token,
    decode,
    decode_prediction,
    error_for,
    header,
    retry_after,
)

__all__ = [
    "REF_HELP",
    "TOKEN_ENV_VAR",
    "ModelRef",
    "Request",
    "base_headers",
    "build_cancel",
    "build_create",
    "build_get",
    "cancel_after_header",
    "check_token",
    "create_read_timeout",
    "decode",
    "decode_prediction",
    "error_for",
    "header",
    "is_terminal",
    "needs_confirmation",
    "outcome",
    "parse_cancel_after",
    "parse_ref",
    "poll_delays",
    "prefer_header",
    "resolve_next_url",
    "retry_after",
    "user_agent",
]
