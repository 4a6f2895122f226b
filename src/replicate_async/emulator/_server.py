# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Running the emulator: `serve()` in the foreground, `EmulatorServer` on a background thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Self, TypeVar

import uvicorn

from replicate_async.emulator._app import create_app
from replicate_async.emulator._config import DEFAULT_TOKEN, EmulatorConfig, FaultRule

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from replicate_async._config import RateLimits
    from replicate_async.emulator._state import EmulatorState

T = TypeVar("T")

#: Seconds an idle keep-alive connection stays open. uvicorn's default (5 s) is far shorter
#: than the load balancers in front of the real API, and shorter than a client's pause between
#: two polls: clients then reuse connections the server is just closing, and a create sent on
#: one fails after it may have been read (so it cannot be retried). Real servers keep them ~1 min.
KEEP_ALIVE = 65


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on *host*:*port* (port 0: a free one), as `serve` hands to uvicorn."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP.
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # connections made before uvicorn serves wait in the backlog
    except BaseException:
        sock.close()
        raise
    return sock


def _count_connections(config: uvicorn.Config, state: EmulatorState) -> None:
    """Make the server's HTTP protocol count each accepted connection (`connections_opened`)."""
    if not config.loaded:
        config.load()
    base: type[asyncio.Protocol] = config.http_protocol_class

    class Counting(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            state.stats.connections_opened += 1
            super().connection_made(transport)

    config.http_protocol_class = Counting


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    config: EmulatorConfig | None = None,
    *,
    ready: Callable[[int], object] | None = None,
) -> None:
    """Run the emulator under uvicorn until interrupted (what `replicate-async emulator` runs).

    Args:
        host: Interface to bind.
        port: TCP port (0: any free port).
        config: The emulator configuration.
        ready: Called with the bound port once the socket listens, before serving (the
            port the system chose when *port* is 0); requests made from then on are served.

    .. versionadded:: 0.1.0
    """
    app = create_app(config)
    sock = _listen(host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="info",
            timeout_keep_alive=KEEP_ALIVE,
            proxy_headers=False,  # X-Forwarded-*: forgeable; behind a proxy, set config.base_url
        )
    )
    state: EmulatorState = app.state.emulator
    state.connection_count = lambda: len(server.server_state.connections)
    _count_connections(server.config, state)
    try:
        if ready is not None:
            ready(sock.getsockname()[1])
        server.run(sockets=[sock])
    finally:
        sock.close()


class EmulatorServer:
    """The emulator on a free loopback port, served by uvicorn on a background thread.

    Use it as a context manager (or `start()` / `stop()`). Everything that touches the state
    while the server runs goes through `call()`, which runs on the server's event loop.

    Args:
        config: The emulator configuration.
        host: Interface to bind (loopback by default).
        port: TCP port (0: a free one).
        ssl_certfile: Serve HTTPS with this PEM certificate (chain). The official Python client
            only turns `https:` output URLs into file objects, so drive it over TLS.
        ssl_keyfile: The certificate's PEM private key.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        """Prepare (nothing runs until `start()`)."""
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.app = create_app(self.config)
        self.state: EmulatorState = self.app.state.emulator
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` (`https` with TLS), the API root to give a client."""
        scheme = "https" if self.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        """A token the emulator accepts."""
        return self.config.tokens[0] if self.config.tokens else DEFAULT_TOKEN

    def start(self, timeout: float = 10.0) -> Self:
        """Bind, start serving on a background thread, and wait until it accepts requests.

        Args:
            timeout: Seconds to wait for the server to start.
        """
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
        # without it every keep-alive response waits ~40 ms (Nagle against delayed ACKs).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                access_log=False,
                timeout_keep_alive=KEEP_ALIVE,
                timeout_graceful_shutdown=1,
                proxy_headers=False,  # X-Forwarded-Proto would set the scheme of its URLs
                ssl_certfile=self.ssl_certfile,
                ssl_keyfile=self.ssl_keyfile,
            )
        )
        self._server = server
        self.state.connection_count = lambda: len(server.server_state.connections)
        _count_connections(server.config, self.state)

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        def run() -> None:
            try:
                asyncio.run(main())
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="replicate-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        """Stop the server and join its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = None
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        """Start."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()

    def call(self, func: Callable[..., T], *args: Any) -> T:
        """Run `func(*args)` on the server's event loop and return its result.

        Args:
            func: A plain (non-async) callable, usually a state method.
            args: Its arguments.
        """
        loop = self._loop
        if loop is None:
            return func(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(func(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(10)

    def stats(self) -> dict[str, Any]:
        """The introspection counters (`EmulatorState.stats_snapshot()`)."""
        return self.call(self.state.stats_snapshot)

    def reset(self) -> None:
        """Forget all predictions and counters, restore the configured switches."""
        self.call(self.state.reset)

    def set_faults(self, *rules: FaultRule) -> None:
        """Replace the active fault rules (none: faults off).

        Args:
            rules: The rules.
        """
        self.call(self.state.set_faults, list(rules))

    def set_rate_limits(self, limits: RateLimits) -> None:
        """Replace the rate limits (buckets start full).

        Args:
            limits: The new limits; `RateLimits.unlimited()` switches throttling off.
        """
        self.call(self.state.set_rate_limits, limits)

    def travel(self, seconds: float) -> None:
        """Move the emulated clock forward (retention, deadlines).

        Args:
            seconds: How far.
        """
        self.call(self.state.travel, seconds)

    def configure(self, **switches: Any) -> None:
        """Set runtime switches on the state (`time_scale`, `retention`, `wait_returns_terminal`,
        `wait_timeout_status`, `sync_data_urls`, `vary_timestamp_precision`).

        Args:
            switches: Names and values.
        """
        allowed = {
            "time_scale",
            "retention",
            "wait_returns_terminal",
            "wait_timeout_status",
            "sync_data_urls",
            "vary_timestamp_precision",
        }
        unknown = set(switches) - allowed
        if unknown:
            raise TypeError(f"unknown emulator switches: {sorted(unknown)}")

        def apply() -> None:
            for name, value in switches.items():
                setattr(self.state, name, value)

        self.call(apply)
