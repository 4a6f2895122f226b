# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The HTTP plumbing every route shares: auth, rate limits, faults, stats (`api_route`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from replicate_async.emulator._bodies import LimitedReceive, Refused, declared_length, too_large
from replicate_async.emulator._util import UNAUTHENTICATED, dumps

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from replicate_async._config import BucketName
    from replicate_async.emulator._config import FaultRule
    from replicate_async.emulator._state import EmulatorState

Endpoint = Callable[[Request], Awaitable[Response]]
#: A route's body limit, read per request (runtime switches may change it): the most bytes,
#: and the 413 problem body for more.
BodyLimit = Callable[[], tuple[int, dict[str, Any]]]

#: Scope key under which `EmulatorApp` stores the server's own `send` (to drop connections).
RAW_SEND = "replicate_async.emulator.send"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    return Response(dumps(data), status, headers, "application/json")


def problem(data: dict[str, Any], status: int | None = None) -> Response:
    """An `application/problem+json` response (status from the body unless given)."""
    return Response(dumps(data), status or int(data["status"]), None, "application/problem+json")


def base_url(state: EmulatorState, scope: Scope) -> str:
    """The absolute base for URLs in responses: configured, else the emulator's own address.

    Its own address is the socket the request came in on (ASGI `server`) with the connection's
    scheme: never the `Host` header, which any client may set (`Host: evil.example` must not
    make the emulator hand out evil.example URLs to others, in webhooks or pages it shares).
    """
    if state.config.base_url is not None:
        return state.config.base_url.rstrip("/")
    base = own_address(scope)
    state.public_base = base  # for what is built outside a request (webhook bodies)
    return base


_DEFAULT_PORTS = {"http": 80, "https": 443}


def own_address(scope: Scope) -> str:
    """`scheme://host[:port]` of the socket this request came in on."""
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    server = scope.get("server")
    if not server:  # a Unix socket: no address a client could use, so a neutral one
        return f"{scheme}://localhost"
    host, port = str(server[0]), server[1]
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer …` or legacy `Token …` header."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() in ("bearer", "token") and token.strip():
                return token.strip()
            return None
    return None


def has_authorization(scope: Scope) -> bool:
    """Whether the request carried any Authorization header."""
    return any(name == b"authorization" for name, _ in scope["headers"])


async def drop_connection(scope: Scope) -> None:
    """Close the client's connection without answering (fault injection)."""
    send = scope.get(RAW_SEND)
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        # In-process (httpx.ASGITransport): the closest thing is an error the client sees.
        raise ConnectionAbortedError("connection dropped by the emulator's fault injection")
    transport.abort()
    for _ in range(100):  # uvicorn marks the cycle disconnected on the next loop iterations
        if getattr(cycle, "disconnected", True):
            break
        await anyio.lowlevel.checkpoint()


class Guarded:
    """An ASGI endpoint wrapped with the emulator's policy: stats, faults, auth, rate limit."""

    def __init__(
        self,
        state: EmulatorState,
        endpoint: Endpoint,
        *,
        key: str,
        auth: bool,
        bucket: BucketName | None,
        group: str | None,
        file_route: bool,
        body_limit: BodyLimit | None,
    ) -> None:
        """Remember the policy of one route."""
        self.state = state
        self.endpoint = endpoint
        self.key = key
        self.auth = auth
        self.bucket = bucket
        self.group = group
        self.file_route = file_route
        self.body_limit = body_limit or self._json_limit

    def _json_limit(self) -> tuple[int, dict[str, Any]]:
        """The configured limit of JSON (and text) bodies."""
        limit = self.state.config.limits.body_bytes
        return limit, too_large(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        state = self.state
        stats = state.stats
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        if state.connection_count is not None:
            stats.peak_connections = max(stats.peak_connections, state.connection_count())
        if self.file_route:
            stats.file_requests += 1
            if has_authorization(scope):
                stats.file_requests_with_authorization += 1
        try:
            status = await self._handle(scope, receive, send)
        finally:
            stats.in_flight -= 1
        stats.requests[self.key, status] += 1

    def _gate(self, scope: Scope) -> tuple[Response | None, list[tuple[bytes, bytes]]]:
        """Auth and rate limit: an error response (or None) and the rate-limit headers."""
        state = self.state
        token = bearer_token(scope)
        if token is None or (state.tokens and token not in state.tokens):
            return problem(UNAUTHENTICATED), []
        taken = state.take_token(token, self.bucket) if self.bucket is not None else None
        if taken is None:
            return None, []
        allowed, remaining, seconds = taken
        headers = [
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(seconds).encode()),
        ]
        if allowed:
            return None, headers
        state.stats.throttled += 1
        headers.append((b"retry-after", str(seconds).encode()))
        body = {
            "detail": f"Request was throttled. Your rate limit resets in ~{seconds}s.",
            "status": 429,
            "retry_after": seconds,
        }
        return problem(body), headers

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Apply the policy, run the endpoint, send; return the status sent (0: dropped)."""
        limit, refusal = self.body_limit()
        body = LimitedReceive(receive, limit, refusal)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            # Refused on its headers alone: not a byte of it is read.
            response: Response | None = problem(refusal)
        else:
            response = await self._respond(scope, body)
        if response is None:
            return 0
        if await body.finish(scope, self.state.config.limits.drain_bytes):
            response.raw_headers.append((b"connection", b"close"))  # the server then closes
        await response(scope, receive, send)
        return response.status_code

    async def _respond(self, scope: Scope, receive: Receive) -> Response | None:
        """Faults, auth, rate limit and the endpoint: the response (None: connection dropped)."""
        state = self.state
        faults: list[FaultRule] = state.pick_faults(self.key, self.group) if state.faults else []
        for rule in faults:
            if rule.action == "drop" and not rule.after:
                await drop_connection(scope)
                return None
            if rule.action == "error" and not rule.after:
                return problem(_server_error(rule.status))
        response, extra = self._gate(scope) if self.auth else (None, [])
        if response is None:
            try:
                response = await self.endpoint(Request(scope, receive))
            except Refused as refused:  # a body too large, too deep, ... (see `_bodies`)
                response = problem(refused.body)
        for rule in faults:
            if rule.action == "delay":
                await anyio.sleep(rule.delay)
            elif rule.action == "drop":
                await drop_connection(scope)
                return None
            elif response.status_code < HTTPStatus.BAD_REQUEST:  # accepted, then an error
                response = problem(_server_error(rule.status))
        response.raw_headers.extend(extra)
        return response


def _server_error(status: int) -> dict[str, Any]:
    """The body of an injected server error."""
    return {"title": "Internal Server Error", "detail": "Internal server error", "status": status}


def api_route(
    state: EmulatorState,
    path: str,
    endpoint: Endpoint,
    *,
    methods: list[str],
    auth: bool = True,
    bucket: BucketName | None = "other",
    group: str | None = None,
    file_route: bool = False,
    body_limit: BodyLimit | None = None,
) -> Route:
    """A Starlette route whose endpoint runs under the emulator's policy.

    Args:
        state: The emulator state.
        path: The route path (Starlette syntax, e.g. `/v1/predictions/{id}`).
        endpoint: `async def endpoint(request) -> Response`.
        methods: HTTP methods.
        auth: Whether a valid token is required (401 otherwise).
        bucket: The rate-limit bucket (`None`: not rate limited).
        group: A fault-rule group name this route also answers to (`create`, `get`).
        file_route: Count the request in the file stats (and whether it carried Authorization).
        body_limit: The body's limit and 413 body (default: `RequestLimits.body_bytes`).

    .. versionadded:: 0.1.0
    """
    key = f"{methods[0]} {path}"
    guarded = Guarded(
        state,
        endpoint,
        key=key,
        auth=auth,
        bucket=bucket,
        group=group,
        file_route=file_route,
        body_limit=body_limit,
    )
    return Route(path, guarded, methods=methods, name=key)
