"""`replicate-async demo`: a fan-out of mixed generations against an embedded emulator."""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from pathlib import Path

    from replicate_async import AsyncClient
    from replicate_async.cli._terminal import BatchBar, Terminal

#: (model reference, input) templates cycled through to make the demo's jobs; `{i}` is the job number.
_TEMPLATES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "black-forest-labs/flux-schnell",
        {"prompt": "a lighthouse at dawn, study {i}", "num_outputs": 2},
    ),
    ("meta/meta-llama-3-8b-instruct", {"prompt": "Write a haiku about job {i}.", "max_tokens": 64}),
    ("black-forest-labs/flux-1.1-pro", {"prompt": "a watercolour fox, variation {i}"}),
    ("meta/musicgen", {"prompt": "lo-fi beat number {i}", "duration": 4}),
    ("minimax/video-01", {"prompt": "a paper boat on a river, take {i}"}),
    ("google/veo-3", {"prompt": "a drone shot over dunes, take {i}"}),
)


@attrs.define
class _Tally:
    """What one model's jobs produced."""

    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    files: int = 0
    bytes: int = 0
    texts: int = 0


def _jobs(count: int, versions: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """`count` jobs cycling through the templates; non-official models are run by version."""
    out = []
    for i in range(count):
        ref, template = _TEMPLATES[i % len(_TEMPLATES)]
        if ref in versions:
            ref = f"{ref}:{versions[ref]}"
        data = {k: v.format(i=i) if isinstance(v, str) else v for k, v in template.items()}
        out.append((ref, data))
    return out


async def _run_all(
    client: AsyncClient,
    jobs: list[tuple[str, dict[str, Any]]],
    concurrency: int,
    out: Path,
    bar: BatchBar,
) -> dict[str, _Tally]:
    """Run every job with `as_completed`, at most `concurrency` at once, saving file outputs.

    Progress is a bar on a terminal (with rich), else one line per finished job on stderr.
    """
    from replicate_async import FileOutput, ProgressEvent  # noqa: PLC0415

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for ref, _ in jobs:
        tallies[ref.split(":", 1)[0]].jobs += 1

    def on_progress(event: ProgressEvent) -> None:
        """The bar, or one status line per finished job."""
        if bar.drawn:
            bar.update(event.progress)
        elif event.kind in ("succeeded", "failed"):
            p = event.progress
            print(
                f"  [{p.elapsed:6.1f} s] {p.done}/{p.total} done, {p.running} running, "
                f"{p.failed} failed, {p.retried} retried",
                file=sys.stderr,
            )

    results = client.as_completed(
        jobs, concurrency=min(concurrency, 1000), timeout=300, on_progress=on_progress
    )
    async for index, output in results:
        tally = tallies[jobs[index][0].split(":", 1)[0]]
        if isinstance(output, Exception):
            tally.failed += 1
            print(f"  job {index}: {output}", file=sys.stderr)
            continue
        tally.succeeded += 1
        items = output if isinstance(output, list) else [output]
        if items and all(isinstance(x, str) for x in items):
            tally.texts += 1
            continue
        for n, item in enumerate(items):
            if isinstance(item, FileOutput):
                target = out / f"job{index:03d}-{n}-{item.name}"
                await item.save(target)
                tally.files += 1
                tally.bytes += target.stat().st_size
    return tallies


def demo(*, jobs: int, concurrency: int, out: Path, time_scale: float, term: Terminal) -> int:
    """Start an emulator, fan out `jobs` mixed generations, print a summary."""
    try:
        from replicate_async.emulator import EmulatorConfig, EmulatorServer, RateLimits  # noqa: PLC0415
    except ImportError:  # pragma: no cover - depends on the installed extra
        print(
            "replicate-async: the demo needs the extra: pip install 'replicate-async[emulator]'",
            file=sys.stderr,
        )
        return 2
    import anyio  # noqa: PLC0415

    from replicate_async import AsyncClient  # noqa: PLC0415

    config = EmulatorConfig(time_scale=time_scale, rate_limits=RateLimits.unlimited())
    versions = {m.ref: m.version_id for m in config.models if not m.official}
    planned = _jobs(jobs, versions)
    out.mkdir(parents=True, exist_ok=True)

    with EmulatorServer(config) as server:
        print(f"Emulator on {server.base_url}; running {jobs} generations, {concurrency} at once")

        async def main() -> dict[str, _Tally]:
            async with AsyncClient(api_token=server.token, base_url=server.base_url) as client:
                with term.batch_bar(len(planned), "demo") as bar:
                    return await _run_all(client, planned, concurrency, out, bar)

        started = time.perf_counter()
        tallies = anyio.run(main)
        elapsed = time.perf_counter() - started
        stats = server.stats()

    _print_summary(tallies, elapsed, stats, out)
    return 0 if all(t.failed == 0 for t in tallies.values()) else 1


def _print_summary(
    tallies: dict[str, _Tally], elapsed: float, stats: dict[str, Any], out: Path
) -> None:
    """The table the README shows."""
    width = max(len(ref) for ref in tallies)
    print()
    print(f"{'model':<{width}}  jobs  ok  failed  texts  files  bytes")
    for ref, t in sorted(tallies.items()):
        print(
            f"{ref:<{width}}  {t.jobs:>4}  {t.succeeded:>2}  {t.failed:>6}"
            f"  {t.texts:>5}  {t.files:>5}  {t.bytes:>6}"
        )
    total = sum(t.jobs for t in tallies.values())
    ok = sum(t.succeeded for t in tallies.values())
    creates = int(stats.get("creates", 0))
    requests = _api_requests(stats)
    dupes = sum(max(0, n - 1) for n in Counter(stats.get("creates_by_input", {})).values())
    print()
    print(f"{ok}/{total} succeeded in {elapsed:.1f} s; {creates} creates, {dupes} duplicate")
    if total:
        print(f"{requests} API requests ({requests / total:.2f} per prediction)")
    print(f"files saved in {out.resolve()}")


def _api_requests(stats: dict[str, Any]) -> int:
    """Requests to the API routes (not file downloads) from the emulator's counters."""
    by_route = stats.get("requests", {})
    return sum(
        int(n)
        for route, statuses in by_route.items()
        if " /v1/" in route
        for n in (statuses.values() if isinstance(statuses, dict) else [statuses])
    )
