# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""save_all: every file of many outputs into one folder, no name overwriting another."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fixtures.fileserver import Reply
from replicate_async import AsyncClient, Client, FileExpiredError
from replicate_async._file_output import FileOutput
from replicate_async._saving import _numbered, save_all

if TYPE_CHECKING:
    from pathlib import Path

    from replicate_async.emulator import EmulatorServer


@pytest.mark.anyio
async def test_same_names_get_numbers_and_the_shape_is_kept(file_server, downloader, tmp_path):
    """Files named alike (case folded) are saved side by side; other values pass through."""
    a = FileOutput(file_server.add("/a/out-0.webp", Reply(b"first")), downloader)
    b = FileOutput(file_server.add("/b/out-0.webp", Reply(b"second")), downloader)
    c = FileOutput(file_server.add("/c/OUT-0.webp", Reply(b"third")), downloader)
    failed = ValueError("job 2 failed")
    outputs = [[a], {"image": b}, failed, "some text", (c, 7)]

    placed = await save_all(outputs, tmp_path / "renders")

    folder = tmp_path / "renders"
    assert placed == [
        [folder / "out-0.webp"],
        {"image": folder / "out-0-1.webp"},
        failed,
        "some text",
        (folder / "OUT-0-2.webp", 7),
    ]
    assert (folder / "out-0.webp").read_bytes() == b"first"
    assert (folder / "out-0-1.webp").read_bytes() == b"second"
    assert (folder / "OUT-0-2.webp").read_bytes() == b"third"
    assert len(list(folder.iterdir())) == 3


@pytest.mark.anyio
async def test_one_url_is_downloaded_once(file_server, downloader, tmp_path):
    """The same URL twice in the outputs is one download and one path."""
    url = file_server.add("/x/out-0.png", Reply(b"png"))
    placed = await save_all([FileOutput(url, downloader), FileOutput(url, downloader)], tmp_path)
    assert placed == [tmp_path / "out-0.png", tmp_path / "out-0.png"]
    assert len(file_server.requests_to("/x/out-0.png")) == 1


@pytest.mark.anyio
async def test_saving_again_gives_the_same_paths(file_server, downloader, tmp_path):
    """A second save of the same outputs replaces the files under the same names."""
    first = FileOutput(file_server.add("/a/out.txt", Reply(b"1"), Reply(b"1")), downloader)
    second = FileOutput(file_server.add("/b/out.txt", Reply(b"2"), Reply(b"2")), downloader)
    once = await save_all([first, second], tmp_path)
    again = await save_all([first, second], tmp_path)
    assert once == again == [tmp_path / "out.txt", tmp_path / "out-1.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-1.txt", "out.txt"]


@pytest.mark.anyio
async def test_an_expired_file_raises_and_leaves_no_partial_file(file_server, downloader, tmp_path):
    """A file gone from its host raises FileExpiredError; nothing half-written is left behind."""
    good = FileOutput(file_server.add("/a/out-0.png", Reply(b"x" * 10_000)), downloader)
    gone = FileOutput(file_server.add("/b/out-1.png", Reply(b"", status=404)), downloader)
    with pytest.raises(FileExpiredError):
        await save_all([good, gone], tmp_path, concurrency=1)
    # The good file may or may not have been saved before the failure stopped the rest
    # (the backends start tasks in different orders); either way it is whole.
    left = list(tmp_path.iterdir())
    assert [p.name for p in left] in ([], ["out-0.png"])
    assert all(p.read_bytes() == b"x" * 10_000 for p in left)


@pytest.mark.anyio
async def test_outputs_without_files_make_no_folder(tmp_path):
    """Text outputs come back as they are and no folder is made."""
    assert await save_all(["a", {"b": 1}], tmp_path / "never") == ["a", {"b": 1}]
    assert not (tmp_path / "never").exists()


@pytest.mark.anyio
@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (True, TypeError), (2.0, TypeError)])
async def test_concurrency_is_checked(tmp_path, value, error):
    """concurrency must be an int >= 1."""
    with pytest.raises(error, match="concurrency"):
        await save_all([], tmp_path, concurrency=value)


def test_numbered_names_keep_the_extension_within_the_limit():
    """A number goes before the extension, and a long name stays within 255 bytes."""
    assert _numbered("out-0.webp", 3) == "out-0-3.webp"
    assert _numbered("output", 1) == "output-1"
    long = _numbered("é" * 126 + ".png", 12)  # 256 bytes
    assert long.endswith("-12.png")
    assert len(long.encode()) <= 255
    assert long.startswith("é" * 100)


@pytest.mark.anyio
async def test_a_batch_of_image_outputs_is_saved_whole(
    replicate_emulator: EmulatorServer, tmp_path: Path
):
    """A run_many of image jobs (each naming its file out-0.png) saves every image."""
    jobs = [("black-forest-labs/flux-schnell", {"prompt": f"fox {i}"}) for i in range(3)]
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        outputs = await client.run_many(jobs, concurrency=3)
        placed = await client.save_all(outputs, tmp_path)
        expected = [await output.read() for job in outputs for output in job]
    paths = [path for job in placed for path in job]
    assert len(set(paths)) == len(paths) == len(expected)
    assert [path.read_bytes() for path in paths] == expected


def test_the_sync_client_saves_its_outputs(replicate_emulator: EmulatorServer, tmp_path: Path):
    """Client.save_all takes the sync client's file outputs and returns paths."""
    jobs = [("black-forest-labs/flux-schnell", {"prompt": f"owl {i}"}) for i in range(2)]
    with Client(api_token=replicate_emulator.token, base_url=replicate_emulator.base_url) as c:
        outputs = c.run_many(jobs, concurrency=2)
        placed = c.save_all(outputs, tmp_path / "owls")
        expected = [output.read() for job in outputs for output in job]
    paths = [path for job in placed for path in job]
    assert [path.read_bytes() for path in paths] == expected
    assert len(set(paths)) == len(paths) == 2
