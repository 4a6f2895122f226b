# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Unit tests: media bytes, validation messages, plugin import, server helper, timestamps."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import httpx
import pytest

from replicate_async import emulator
from replicate_async.emulator import EmulatorConfig, EmulatorServer, pytest_plugin
from replicate_async.emulator._media import generate, mp4, png, wav
from replicate_async.emulator._util import iso, parse_iso
from replicate_async.emulator._validation import InputValidator


def test_png_is_valid():
    """The PNG has a correct IHDR CRC and a 16x16 RGB header."""
    data = png("seed")
    length, kind = struct.unpack(">I4s", data[8:16])
    header = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert (kind, struct.unpack(">II", header[:8]), crc) == (
        b"IHDR",
        (16, 16),
        zlib.crc32(kind + header),
    )


def test_wav_header_matches_data():
    """The WAV's RIFF size and data size add up."""
    data = wav("seed", seconds=0.1)
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8


def test_mp4_boxes_cover_the_file():
    """The MP4 is a sequence of boxes ftyp, moov, mdat covering every byte."""
    data, kinds, pos = mp4("seed"), [], 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        kinds.append(kind)
        pos += size
    assert (kinds, pos) == ([b"ftyp", b"moov", b"mdat"], len(data))


def test_generate_unknown_extension_is_text():
    """Unknown kinds fall back to the seed's bytes."""
    assert generate("txt", "abc") == b"abc"


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"minimum": 1.0}, 0, ("number_gte", "Must be greater than or equal to 1")),
        ({"exclusiveMaximum": 2.5}, 3, ("number_lt", "Must be less than 2.5")),
        ({"minLength": 2}, "a", ("string_gte", "String length must be greater than or equal to 2")),
        ({"maxItems": 1}, [1, 2], ("array_max_items", "Array must have at most 1 items")),
        ({"pattern": "^a"}, "b", ("pattern", "Does not match pattern '^a'")),
        (
            {"type": "integer", "nullable": True},
            "x",
            ("invalid_type", "Invalid type. Expected: integer, null, given: string"),
        ),
        ({"const": 1}, 2, ("const", "1 was expected")),
    ],
)
def test_validation_messages(schema, value, expected):
    """jsonschema errors read like the real (gojsonschema) ones."""
    validator = InputValidator({"type": "object", "properties": {"f": schema}}, {})
    (error,) = validator.errors({"f": value})
    assert (error.type, error.description, error.field) == (*expected, "input.f")


def test_nullable_accepts_null():
    """`nullable: true` fields accept null."""
    validator = InputValidator(
        {"type": "object", "properties": {"f": {"type": "integer", "nullable": True}}}, {}
    )
    assert validator.errors({"f": None}) == []


def test_additional_properties_message():
    """A closed schema reports each extra property."""
    validator = InputValidator(
        {"type": "object", "additionalProperties": False, "properties": {}}, {}
    )
    (error,) = validator.errors({"x": 1})
    assert error.description == "Additional property x is not allowed"


def test_required_on_non_object_reports_nothing_missing():
    """A `required` error on a non-object instance lists nothing twice."""
    validator = InputValidator({"required": ["a"], "type": ["object", "string"]}, {})
    assert validator.errors("s") == []


def test_timestamps_round_trip():
    """Timestamps end in Z with the asked precision and parse back."""
    text = iso(1_700_000_000.123456, 3)
    assert (text, parse_iso(text)) == ("2023-11-14T22:13:20.123Z", pytest.approx(1_700_000_000.123))
    assert parse_iso("2023-11-14T22:13:20 00:00") == 1_700_000_000


def test_varying_timestamp_precision(state):
    """The chaos switch varies fractional digits between 3, 6 and 9."""
    state.vary_timestamp_precision = True
    lengths = {len(state.timestamp(1.5).split(".")[1]) for _ in range(60)}
    assert lengths == {4, 7, 10}


def test_lazy_public_names():
    """Public names resolve lazily; unknown ones raise AttributeError."""
    assert emulator.EmulatorConfig is EmulatorConfig
    with pytest.raises(AttributeError):
        _ = emulator.Nope


def test_plugin_import_is_light():
    """Importing the pytest plugin imports neither starlette nor uvicorn nor jsonschema."""
    code = "import sys, replicate_async.emulator.pytest_plugin; print(json.dumps(sorted(m for m in ('starlette','uvicorn','jsonschema') if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_plugin_skips_without_extra(monkeypatch):
    """Without the extra the fixtures skip instead of failing."""
    monkeypatch.setattr(pytest_plugin.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="emulator"):
        pytest_plugin._require_extra()


def test_fixture_default_config(replicate_emulator_config):
    """The fixture's emulator runs models 100 times faster than real."""
    assert replicate_emulator_config.time_scale == 0.01


def test_server_context_manager_serves_and_stops():
    """`EmulatorServer` serves on a free port and stops cleanly."""
    with EmulatorServer(EmulatorConfig(tokens=("t0k",))) as server:
        response = httpx.get(
            f"{server.base_url}/v1/predictions", headers={"Authorization": "Bearer t0k"}
        )
        token = server.token
    assert (response.status_code, token, server.port > 0) == (200, "t0k", True)
    server.stop()


def test_server_call_before_start_runs_inline():
    """`call` without a running loop runs the function directly."""
    server = EmulatorServer(EmulatorConfig(tokens=()))
    assert server.call(lambda: 7) == 7
    assert server.token == emulator.DEFAULT_TOKEN


def test_server_call_propagates_errors(replicate_emulator):
    """Exceptions raised on the server loop reach the caller."""

    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        replicate_emulator.call(boom)


def test_in_process_drop_raises():
    """In-process (no uvicorn transport) a drop surfaces as an app exception."""
    import anyio

    from replicate_async.emulator import FaultRule, create_app

    app = create_app(EmulatorConfig(tokens=(), faults=(FaultRule(action="drop"),)))

    async def main():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://emu"
        ) as c:
            await c.get("/v1/predictions", headers={"Authorization": "Bearer x"})

    with pytest.raises(ConnectionAbortedError):
        anyio.run(main)


def test_models_without_files_have_no_extension(state):
    """Text models have no file extension."""
    assert state.models["emulator/echo"].file_extension is None
    assert state.models["emulator/image"].file_extension == "png"


def test_a_missing_extra_says_how_to_install_it(monkeypatch):
    """Without the extra, using the emulator names the missing package and the pip command."""
    import builtins
    import sys

    from replicate_async import emulator

    real_import = builtins.__import__

    def no_starlette(name, *args, **kwargs):
        if name == "starlette" or name.startswith("starlette."):
            raise ModuleNotFoundError(f"No module named {name!r}", name="starlette")
        return real_import(name, *args, **kwargs)

    for module in [
        m for m in sys.modules if m.startswith(("replicate_async.emulator.", "starlette"))
    ]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_starlette)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'replicate-async\[emulator\]'"):
        emulator.create_app  # noqa: B018


def test_other_import_errors_are_not_disguised(monkeypatch):
    """An import error unrelated to the extra propagates unchanged."""
    from replicate_async import emulator

    def broken(name):
        raise ModuleNotFoundError("No module named 'something_else'", name="something_else")

    monkeypatch.setattr(emulator.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="something_else"):
        emulator.create_app  # noqa: B018
