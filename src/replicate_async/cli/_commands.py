"""`replicate-async emulator`: the Replicate API emulator in the foreground."""

from __future__ import annotations

from replicate_async.cli._runtime import USAGE, say

__all__ = ["emulator"]


def emulator(
    *, host: str, port: int, time_scale: float, rate_limits: bool, token: str | None
) -> int:
    """Serve the emulator until interrupted; print where, once the port is bound.

    Any non-empty token is accepted, so code pointed at it keeps its own
    ``REPLICATE_API_TOKEN``; with *token*, only that one.
    """
    try:
        from replicate_async.emulator import EmulatorConfig, RateLimits, serve  # noqa: PLC0415

        config = EmulatorConfig(
            tokens=(token,) if token else (),
            time_scale=time_scale,
            rate_limits=RateLimits() if rate_limits else RateLimits.unlimited(),
        )
    except ImportError as exc:  # pragma: no cover - depends on the installed extra
        say(f"the emulator needs the extra: pip install 'replicate-async[emulator]' ({exc})")
        return USAGE
    accepts = f"token: {token}" if token else "any token"

    def ready(bound: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(f"Replicate emulator on http://{shown}:{bound} ({accepts})", flush=True)

    try:
        serve(host, port, config, ready=ready)
    except OSError as exc:
        say(f"cannot listen on {host}:{port}: {exc}")
        return USAGE
    return 0
