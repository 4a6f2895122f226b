# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The public API from a caller's view: checked by `mypy --strict tests/typing`, never run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, assert_type

import replicate_async
from replicate_async import (
    Account,
    AsyncClient,
    AsyncPages,
    BatchOptions,
    Client,
    Collection,
    Deployment,
    DeploymentInfo,
    FileOutput,
    Generation,
    Hardware,
    Model,
    ModelVersion,
    Page,
    PollPolicy,
    Prediction,
    PredictionFailed,
    PredictionProgress,
    PredictionStatus,
    PredictionTimeout,
    RetryPolicy,
    SearchResults,
    SyncFileOutput,
    SyncPages,
    SyncPredictionStream,
    Timeouts,
    Training,
    TransportError,
)
from replicate_async.catalog import ChatRequest, ImageInput, VideoRequest


async def async_usage() -> None:
    client = AsyncClient(
        api_token="r8_x",
        base_url="https://api.replicate.com",
        timeouts=Timeouts(connect=5.0),
        retry=RetryPolicy(attempts=3),
        poll=PollPolicy(maximum=2.0),
        max_concurrency=64,
        user_agent="my-app/1",
    )
    async with client:
        out = await client.run("owner/name", input={"prompt": "x"}, wait=30, timeout=120)
        assert_type(out, Any)
        await client.run(Deployment("owner/name"), wait=False, cancel_on_timeout=True)
        pred = await client.predictions.create("owner/name", {"prompt": "x"}, wait=60)
        assert_type(pred, Prediction)
        assert_type(pred.status, PredictionStatus)
        assert_type(pred.status.is_terminal, bool)
        pred = await client.predictions.get(pred.id)
        pred = await client.predictions.wait(pred, timeout=600, cancel_on_timeout=False)
        pred = await client.predictions.wait(pred.id)
        pred = await client.predictions.cancel(pred.id)
        async for p in client.predictions.list():
            assert_type(p, Prediction)
        assert_type(client.predictions.list(source="web"), AsyncPages[Prediction])
        page = await client.models.list(sort_by="model_created_at").page()
        assert_type(page, Page[Model])
        assert_type(page.next_cursor, str | None)
        model = await client.models.get("owner/name")
        assert_type(model.latest_version, ModelVersion | None)
        assert_type(await client.models.readme("owner/name"), str)
        assert_type(await client.models.versions.get("o/n", "v" * 64), ModelVersion)
        assert_type(await client.account.get(), Account)
        assert_type(await client.collections.get("text-to-image"), Collection)
        deployment = await client.deployments.get("o/n")
        assert_type(deployment.ref, Deployment)
        training = await client.trainings.create("o/n:" + "a" * 64, destination="me/x", input={})
        assert_type(await client.trainings.wait(training), Training)
        async for item in client.trainings.list():
            assert_type(item, Training)
        request = VideoRequest("a kite", duration=5, images=[ImageInput("https://x/k.jpg")])
        assert_type(client.catalog.build("kwaivgi/kling-v2.1", request), dict[str, Any])
        generation = await client.generate("kwaivgi/kling-v2.1", request, timeout=600)
        assert_type(generation, Generation[FileOutput])
        assert_type(generation.file, FileOutput | None)
        assert_type(generation.text, str | None)
        assert_type(await client.run("google/veo-3", input=request), Any)
        await client.generate("owner/name", {"prompt": "x"}, validate=True)
        assert_type(client.base_url, str)
        outputs = await client.run_many([("owner/name", {"prompt": "x"})], concurrency=8)
        assert_type(outputs, list[Any])
        assert_type(await client.save_all(outputs, "renders", concurrency=4), Any)
    await client.aclose()
    assert_type(await replicate_async.async_run("owner/name", {"a": 1}), Any)


async def errors() -> None:
    async with AsyncClient() as client:
        try:
            await client.run("owner/name")
        except PredictionFailed as exc:
            assert_type(exc.prediction, Prediction)
        except PredictionTimeout as exc:
            assert_type(exc.timeout, float | None)
        except TransportError as exc:
            assert_type(exc.request_sent, bool)


def sync_usage() -> None:
    with Client() as client:
        client.run("owner/name", input={"prompt": "x"})
        assert_type(client.save_all(client.run_many([("owner/name", {})]), "renders"), Any)
    # The sync twins are generated from the async signatures: same parameters, blocking results.
    with Client("r8_x", max_concurrency=8) as client:
        assert_type(
            client.run_many([("o/n", {})], concurrency=4, return_exceptions=True),
            list[Any | Exception],
        )
        assert_type(client.as_completed([("o/n", {})], concurrency=4), Iterator[tuple[int, Any]])
        assert_type(client.stream("o/n", {"prompt": "x"}, timeout=5.0), SyncPredictionStream)
        assert_type(client.predictions.create("o/n", {}, wait=5), Prediction)
        assert_type(client.predictions.wait("id", timeout=None), Prediction)
        assert_type(client.predictions.list(), SyncPages[Prediction])
        for listed in client.predictions.list(created_after="2026-01-01T00:00:00Z"):
            assert_type(listed, Prediction)
        assert_type(client.predictions.list().page("cD0y"), Page[Prediction])
        assert_type(client.models.get("o/n"), Model)
        assert_type(client.models.versions.list("o/n"), SyncPages[ModelVersion])
        assert_type(client.deployments.get("o/n"), DeploymentInfo)
        assert_type(client.trainings.wait("id", timeout=60), Training)
        assert_type(client.hardware.list(), list[Hardware])
        assert_type(client.search("upscale", limit=5), SearchResults)
        done = client.generate("meta/meta-llama-3-8b-instruct", ChatRequest("hi"))
        assert_type(done, Generation[SyncFileOutput])
        client.generate("o/n", VideoRequest("x"), wait="no")  # type: ignore[arg-type]
        assert_type(client.files.iter_bytes("id"), Iterator[bytes])
        assert_type(client.files.save("id", "p"), Path)
        assert_type(client.webhooks.default_secret(), str)
        # Mistakes a caller makes are caught (mypy's warn_unused_ignores proves each is an error).
        client.run_many([], concurency=3)  # type: ignore[call-overload]
        client.predictions.create("o/n", {}, wait="no")  # type: ignore[arg-type]
    assert_type(replicate_async.run("owner/name"), Any)
    assert_type(replicate_async.__version__, str)


# -- everyday ergonomics: progress, dicts, iterable files, precise batch and save types ----------


def show(prediction: Prediction) -> None:
    """A progress display: status, the model's progress bar, logs."""
    progress = prediction.progress
    assert_type(progress, PredictionProgress | None)
    if progress is not None:
        assert_type(progress.percentage, float)
        assert_type(progress.current, int)
        assert_type(progress.total, int)
    assert_type(PredictionProgress.from_logs(prediction.logs), PredictionProgress | None)


async def ashow(prediction: Prediction) -> None:
    """An async progress display (awaited by the run)."""


async def async_ergonomics(flag: bool) -> None:
    async with AsyncClient() as client:
        await client.run("o/n", {"prompt": "x"}, on_progress=show)
        await client.run("o/n", {"prompt": "x"}, on_progress=ashow)
        await client.run("o/n", on_progress=lambda p: (p.status, p.progress))
        await client.run("o/n", on_progress=print)
        await client.generate("o/n", {"prompt": "x"}, on_progress=show)
        await client.run("o/n", on_progress=lambda p: p.nope)  # type: ignore[attr-defined]
        # Dicts and JSON of every response model.
        pred = await client.predictions.get("id")
        assert_type(pred.to_dict(), dict[str, Any])
        assert_type(pred.to_json(indent=2), str)
        assert_type((await client.models.get("o/n")).to_dict(), dict[str, Any])
        assert_type((await client.trainings.get("id")).to_json(), str)
        assert_type((await client.models.list().page()).to_dict(), dict[str, Any])
        # FileOutput iterates in chunks, as replicate 1.x's does.
        file = FileOutput("https://replicate.delivery/x.png", client.downloader())
        async for chunk in file:
            assert_type(chunk, bytes)
        # run_many's result says whether failed jobs' exceptions are in it.
        jobs = [("o/n", {"prompt": "x"})]
        assert_type(await client.run_many(jobs), list[Any])
        assert_type(await client.run_many(jobs, return_exceptions=False), list[Any])
        assert_type(await client.run_many(jobs, return_exceptions=True), list[Any | Exception])
        assert_type(await client.run_many(jobs, return_exceptions=flag), list[Any | Exception])
        options: BatchOptions = {"concurrency": 8, "timeout": 60.0, "on_progress": print}
        assert_type(await client.run_many(jobs, **options), list[Any])
        bad: BatchOptions = {"concurency": 8}  # type: ignore[typeddict-unknown-key]
        await client.run_many(jobs, **bad)
        for result in await client.run_many(jobs, return_exceptions=True, concurrency=4):
            result.read()  # type: ignore[union-attr]
            if not isinstance(result, Exception):
                result.read()
        # save_all keeps the shape it can see, with a Path for each file.
        generation = await client.generate("o/n", {"prompt": "x"})
        assert_type(await client.save_all(file, "out"), Path)
        assert_type(await client.save_all(generation.file, "out"), Path | None)
        assert_type(await client.save_all(generation.files, "out"), tuple[Path, ...])
        assert_type(await client.save_all([file, file], "out", concurrency=2), list[Path])
        assert_type(await client.save_all({"image": file}, "out"), dict[str, Path])
        assert_type(await client.save_all(await client.run("o/n"), "out"), Any)
        await client.save_all(file, "out", concurency=2)  # type: ignore[call-overload]


def sync_ergonomics(sync_file: SyncFileOutput, flag: bool) -> None:
    with Client() as client:
        client.run("o/n", {"prompt": "x"}, on_progress=show)
        done = client.generate("o/n", {"prompt": "x"}, on_progress=show)
        for chunk in sync_file:
            assert_type(chunk, bytes)
        jobs = [("o/n", {"prompt": "x"})]
        assert_type(client.run_many(jobs), list[Any])
        assert_type(client.run_many(jobs, return_exceptions=flag), list[Any | Exception])
        assert_type(client.save_all(sync_file, "out"), Path)
        assert_type(client.save_all(done.file, "out"), Path | None)
        assert_type(client.save_all(done.files, "out"), tuple[Path, ...])
        assert_type(client.save_all([sync_file], "out"), list[Path])
        assert_type(client.save_all({"a": sync_file}, "out"), dict[str, Path])
        assert_type(client.save_all(client.run("o/n"), "out"), Any)
        assert_type(client.predictions.get("id").to_dict(), dict[str, Any])
