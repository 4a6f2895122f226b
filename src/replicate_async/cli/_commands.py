"""The `emulator` and `run` subcommands."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def emulator(*, host: str, port: int, time_scale: float, rate_limits: bool) -> int:
    """Serve the emulator in the foreground until interrupted."""
    try:
        from replicate_async.emulator import EmulatorConfig, RateLimits, serve  # noqa: PLC0415

        config = EmulatorConfig(
            time_scale=time_scale,
            rate_limits=RateLimits() if rate_limits else RateLimits.unlimited(),
        )
    except ImportError as exc:  # pragma: no cover - depends on the installed extra
        print(
            f"replicate-async: the emulator needs the extra: pip install 'replicate-async[emulator]' ({exc})",
            file=sys.stderr,
        )
        return 2
    print(f"Replicate emulator on http://{host}:{port} (token: {config.tokens[0]})", flush=True)
    serve(host, port, config)
    return 0


def _jsonable(value: Any, saved: dict[str, str]) -> Any:
    """Output with FileOutputs replaced by their saved path or URL."""
    from replicate_async import FileOutput  # noqa: PLC0415

    if isinstance(value, FileOutput):
        return saved.get(value.url, value.url)
    if isinstance(value, list | tuple):
        return [_jsonable(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v, saved) for k, v in value.items()}
    return value


def _file_outputs(value: Any) -> list[Any]:
    """Every FileOutput in an output, depth first."""
    from replicate_async import FileOutput  # noqa: PLC0415

    if isinstance(value, FileOutput):
        return [value]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _file_outputs(v)]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _file_outputs(v)]
    return []


def run_one(ref: str, input: dict[str, Any], *, timeout: float | None, out: Path | None) -> int:  # noqa: A002
    """Run one model through the async client and print its output as JSON."""
    import anyio  # noqa: PLC0415

    from replicate_async import AsyncClient, ReplicateError  # noqa: PLC0415

    async def main() -> Any:
        async with AsyncClient() as client:
            output = await client.run(ref, input=input, timeout=timeout)
            saved: dict[str, str] = {}
            if out is not None:
                for file in _file_outputs(output):
                    path = await file.save(out)
                    saved[file.url] = str(path)
            return _jsonable(output, saved)

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    try:
        result = anyio.run(main)
    except ReplicateError as exc:
        print(f"replicate-async: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
