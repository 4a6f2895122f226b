# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Hostile inputs: non-JSON prediction inputs, loose base URLs, bad verify() arguments, long names.

Issue 11, items 6, 8, 10 and 11. Each case is refused with one readable error before any I/O,
or (long names) saved over real loopback HTTP.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import types
import urllib.parse
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from _client_support import TOKEN
from fixtures.fileserver import Reply
from replicate_async import AsyncClient, ValidationError, webhooks
from replicate_async._file_output import FileOutput
from replicate_async._sansio.inputs import MAX_INPUT_DEPTH, scan_input
from replicate_async._saving import save_all
from replicate_async._uploads import is_file_input

if TYPE_CHECKING:
    from pathlib import Path

    from replicate_async.emulator import EmulatorServer


def _requests_seen(emulator: EmulatorServer) -> int:
    """Every request the emulator answered, of any route and status."""
    stats = emulator.stats()
    return sum(sum(codes.values()) for codes in stats["requests"].values())


# -- item 6: inputs that are not JSON ---------------------------------------------------------


class _Thing:
    """A custom object, which JSON cannot encode."""


def _circular_list() -> list[Any]:
    looped: list[Any] = [1, 2, 3]
    looped.append(looped)
    return looped


def _circular_dict() -> dict[str, Any]:
    looped: dict[str, Any] = {"name": "x"}
    looped["self"] = looped
    return looped


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


BAD_INPUTS = [
    pytest.param(
        {"d": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)},
        "input.d: datetime is not JSON; pass d.isoformat()",
        id="datetime",
    ),
    pytest.param(
        {"cfg": {"when": dt.date(2026, 1, 2)}},
        "input.cfg.when: date is not JSON; pass when.isoformat()",
        id="nested-date",
    ),
    pytest.param(
        {"x": math.nan}, "input.x: nan is not valid JSON; send a number or null", id="nan"
    ),
    pytest.param(
        {"xs": [1.0, -math.inf]},
        "input.xs[1]: -inf is not valid JSON; send a number or null",
        id="infinity",
    ),
    pytest.param({"a": _circular_list()}, "input.a[3]: circular reference", id="circular-list"),
    pytest.param({"c": _circular_dict()}, "input.c.self: circular reference", id="circular-dict"),
    pytest.param(
        {"tags": {"a", "b"}},
        "input.tags: set is not JSON; pass a list, e.g. sorted(tags)",
        id="set",
    ),
    pytest.param(
        {"price": decimal.Decimal("1.5")},
        "input.price: Decimal is not JSON; pass float(price) or str(price)",
        id="decimal",
    ),
    pytest.param(
        {"obj": _Thing()},
        "input.obj: _Thing is not JSON; pass a str, number, bool, None, list or dict",
        id="custom-object",
    ),
    pytest.param(
        {"deep": _nested(150)}, "nested deeper than 100 levels; flatten it", id="too-deep"
    ),
    pytest.param({"m": {(1, 2): "pair"}}, "input.m: key (1, 2) is not a string", id="tuple-key"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("value", "message"), BAD_INPUTS)
async def test_non_json_input_is_refused_before_any_request(
    replicate_emulator: EmulatorServer, value: dict[str, Any], message: str
) -> None:
    """A non-JSON input value raises ValidationError naming its path and what to do; nothing is sent."""
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        with pytest.raises(ValidationError) as info:
            await client.predictions.create("emulator/echo", input=value)
    assert message in str(info.value)
    assert info.value.status_code is None
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 300
    assert _requests_seen(replicate_emulator) == 0


@pytest.mark.anyio
async def test_a_bad_value_beside_a_file_uploads_nothing(
    replicate_emulator: EmulatorServer,
) -> None:
    """A file input next to a NaN: neither the upload nor the create is sent."""
    big = b"x" * (300 * 1024)  # above the data-URI limit: it would be uploaded
    async with AsyncClient(
        replicate_emulator.token, replicate_emulator.base_url, file_encoding="upload"
    ) as client:
        with pytest.raises(ValidationError, match=r"input\.cfg\.scale: nan"):
            await client.run("emulator/echo", {"image": big, "cfg": {"scale": math.nan}})
    assert _requests_seen(replicate_emulator) == 0


@pytest.mark.anyio
async def test_json_values_and_file_inputs_still_go(replicate_emulator: EmulatorServer) -> None:
    """Text, numbers, bools, None, lists, tuples, read-only mappings and bytes are all sent."""
    shared = [1, 2]
    value = {
        "prompt": "a fox",
        "n": 3,
        "scale": 7.5,
        "flag": True,
        "none": None,
        "pair": (1, "two"),
        "again": [shared, shared],  # the same list twice is not a cycle
        "view": types.MappingProxyType({"k": [0.5]}),
        "file": b"tiny",
    }
    async with AsyncClient(replicate_emulator.token, replicate_emulator.base_url) as client:
        prediction = await client.predictions.create("emulator/echo", input=value, wait=False)
    assert prediction.input is not None
    assert prediction.input["view"] == {"k": [0.5]}
    assert prediction.input["again"] == [[1, 2], [1, 2]]
    assert str(prediction.input["file"]).startswith("data:")


# -- item 8: base_url ------------------------------------------------------------------------


@pytest.fixture
def _no_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)
    monkeypatch.delenv("REPLICATE_ALLOW_INSECURE_HTTP", raising=False)


BAD_BASE_URLS = [
    pytest.param("http://[::1", "not a valid URL", id="unparseable"),
    pytest.param("https://api.example.com:99999", "port", id="port-out-of-range"),
    pytest.param("https://api.example.com:0", "port", id="port-zero"),
    pytest.param("https://api.example.com:http", "port", id="port-not-a-number"),
    pytest.param("https://api.example.com/?x=1", "query", id="query"),
    pytest.param("https://api.example.com/#frag", "fragment", id="fragment"),
    pytest.param("https://api.example.com/replicate", "path", id="path"),
    pytest.param("https://api.example.com/v1/predictions", "path", id="deeper-path"),
    pytest.param("https://api.exa mple.com", "not a valid URL", id="space-in-host"),
    pytest.param("https://api.exa<mple.com", "not a valid URL", id="bad-character-in-host"),
    pytest.param("http://[zz::1]:8000", "not a valid URL", id="bad-ipv6-host"),
    pytest.param("http://api.example.com", "allow_insecure_http", id="plain-http-remote"),
    pytest.param("http://10.0.0.7:8000", "allow_insecure_http", id="plain-http-lan"),
]


@pytest.mark.usefixtures("_no_url_env")
@pytest.mark.parametrize(("url", "hint"), BAD_BASE_URLS)
def test_a_loose_base_url_is_refused_with_one_clear_error(url: str, hint: str) -> None:
    """Each malformed or unsafe base_url raises one ValueError naming base_url; never an httpx error."""
    with pytest.raises(ValueError, match="base_url") as info:
        AsyncClient(TOKEN, url)
    assert not isinstance(info.value, httpx.HTTPError | httpx.InvalidURL)
    assert hint in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.usefixtures("_no_url_env")
@pytest.mark.parametrize(
    "url", ["https://user:hunter2@api.example.com", "http://user:hunter2@127.0.0.1:8000"]
)
def test_credentials_in_base_url_are_refused_without_echoing_them(url: str) -> None:
    """A user:password in base_url is refused, and the error never shows the password."""
    with pytest.raises(ValueError, match="credentials") as info:
        AsyncClient(TOKEN, url)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)
    assert info.value.__cause__ is None


@pytest.mark.usefixtures("_no_url_env")
def test_an_unparseable_url_with_credentials_hides_them() -> None:
    """Even a malformed URL's password is not echoed."""
    with pytest.raises(ValueError, match="base_url") as info:
        AsyncClient(TOKEN, "http://user:hunter2@[::1")
    assert "hunter2" not in str(info.value)


@pytest.mark.usefixtures("_no_url_env")
@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.8.9.10/v1/", "http://127.8.9.10"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("HTTPS://API.example.com/v1", "https://API.example.com"),
        ("https://b\u00fccher.example", "https://b\u00fccher.example"),  # an international host
        ("https://replicate_proxy.internal:8443", "https://replicate_proxy.internal:8443"),
    ],
)
def test_loopback_http_and_https_are_accepted(url: str, root: str) -> None:
    """Plain http:// is fine for loopback hosts (the emulator); https anywhere."""
    assert AsyncClient(TOKEN, url).base_url == root


@pytest.mark.usefixtures("_no_url_env")
def test_plain_http_to_another_host_needs_an_explicit_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """allow_insecure_http=True, or REPLICATE_ALLOW_INSECURE_HTTP=1, lets http:// go elsewhere."""
    url = "http://emulator.internal:8000"
    assert AsyncClient(TOKEN, url, allow_insecure_http=True).base_url == url
    monkeypatch.setenv("REPLICATE_ALLOW_INSECURE_HTTP", "1")
    assert AsyncClient(TOKEN, url).base_url == url
    monkeypatch.setenv("REPLICATE_ALLOW_INSECURE_HTTP", "0")
    with pytest.raises(ValueError, match="allow_insecure_http"):
        AsyncClient(TOKEN, url)


@pytest.mark.usefixtures("_no_url_env")
def test_an_in_process_transport_may_use_plain_http() -> None:
    """With httpx.ASGITransport (nothing leaves the process) an http:// root needs no opt-in."""

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
        raise AssertionError

    client = AsyncClient(TOKEN, "http://emulator", transport=httpx.ASGITransport(app))
    assert client.base_url == "http://emulator"


@pytest.mark.usefixtures("_no_url_env")
@pytest.mark.parametrize(
    ("url", "hint"),
    [("http://[::1", "not a valid URL"), ("http://api.example.com", "allow_insecure_http")],
)
def test_replicate_base_url_gets_the_same_checks(
    monkeypatch: pytest.MonkeyPatch, url: str, hint: str
) -> None:
    """REPLICATE_BASE_URL is validated like base_url=, and the error names the variable."""
    monkeypatch.setenv("REPLICATE_BASE_URL", url)
    with pytest.raises(ValueError, match="REPLICATE_BASE_URL") as info:
        AsyncClient(TOKEN)
    assert hint in str(info.value)


@pytest.mark.anyio
async def test_the_emulator_on_localhost_is_reached_over_plain_http(
    replicate_emulator: EmulatorServer,
) -> None:
    """http://localhost:<port> (loopback) works without any opt-in."""
    port = urllib.parse.urlsplit(replicate_emulator.base_url).port
    async with AsyncClient(replicate_emulator.token, f"http://localhost:{port}/v1") as client:
        assert await client.run("emulator/echo", {"prompt": "hi"}) == "hi"


# -- item 10: verify() checks its own arguments ----------------------------------------------

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
BODY = b'{"test": 2432232314}'


@pytest.mark.parametrize(
    ("tolerance", "error"),
    [
        (math.nan, ValueError),
        (math.inf, ValueError),
        (0, ValueError),
        (-5, ValueError),
        (True, TypeError),
        ("300", TypeError),
        (None, TypeError),
    ],
)
def test_verify_refuses_a_tolerance_that_is_not_a_finite_positive_number(
    tolerance: object, error: type[Exception]
) -> None:
    """A NaN tolerance would accept a delivery from 1970 (a replay): it is a ValueError naming tolerance."""
    with pytest.raises(error, match="tolerance"):
        webhooks.verify(HEADERS, BODY, SECRET, tolerance, now=2e9)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", [None, SECRET.encode(), 42])
def test_verify_refuses_a_secret_that_is_not_a_str(secret: object) -> None:
    """None or bytes as the secret is a TypeError naming secret, not an AttributeError."""
    with pytest.raises(TypeError, match="secret") as info:
        webhooks.verify(HEADERS, BODY, secret, now=1614265330.0)  # type: ignore[arg-type]
    assert SECRET.removeprefix("whsec_") not in str(info.value)


@pytest.mark.parametrize("now", [math.nan, math.inf, "now"])
def test_verify_refuses_a_now_that_is_not_a_finite_number(now: object) -> None:
    """now= must be a finite Unix time: NaN would skip the timestamp check."""
    with pytest.raises((TypeError, ValueError), match="now"):
        webhooks.verify(HEADERS, BODY, SECRET, now=now)  # type: ignore[arg-type]


def test_verify_still_accepts_the_vector_with_a_float_tolerance() -> None:
    """A valid delivery within a float tolerance still verifies."""
    webhooks.verify(HEADERS, BODY, SECRET, 0.5, now=1614265330.25)


# -- item 11: long non-ASCII output names ----------------------------------------------------

LONG_NAME = "é" * 200 + ".png"  # 405 UTF-8 bytes: far past the 255-byte file-name limit


@pytest.mark.anyio
async def test_a_long_non_ascii_output_name_is_saved(
    file_server: Any, downloader: Any, tmp_path: Path
) -> None:
    """A FileOutput named with 200 non-ASCII characters saves into a folder, its name capped in bytes."""
    url = file_server.add("/a/" + urllib.parse.quote(LONG_NAME), Reply(b"png bytes"))
    output = FileOutput(url, downloader)
    saved = await output.save(tmp_path)
    assert saved.parent == tmp_path
    assert saved.read_bytes() == b"png bytes"
    assert saved.name.endswith(".png")
    assert len(saved.name.encode()) <= 255
    assert list(tmp_path.iterdir()) == [saved]  # no .part file left behind


@pytest.mark.anyio
async def test_save_all_saves_every_long_named_output(
    file_server: Any, downloader: Any, tmp_path: Path
) -> None:
    """save_all of three outputs with the same long non-ASCII name saves three numbered files."""
    outputs = [
        FileOutput(
            file_server.add(f"/{i}/" + urllib.parse.quote(LONG_NAME), Reply(f"file {i}".encode())),
            downloader,
        )
        for i in range(3)
    ]
    placed = await save_all(outputs, tmp_path / "renders")
    assert len(set(placed)) == 3
    assert [path.read_bytes() for path in placed] == [b"file 0", b"file 1", b"file 2"]
    assert all(len(path.name.encode()) <= 255 for path in placed)
    assert placed[1].name.endswith("-1.png")
    assert sorted(p.name for p in (tmp_path / "renders").iterdir()) == sorted(
        p.name for p in placed
    )


@pytest.mark.anyio
async def test_saving_to_an_explicit_255_byte_name_works(
    file_server: Any, downloader: Any, tmp_path: Path
) -> None:
    """A target path whose own name is at the 255-byte limit still saves (its temp name is capped too)."""
    url = file_server.add("/b/out.bin", Reply(b"data"))
    target = tmp_path / ("ü" * 125 + "12345")  # 255 bytes
    saved = await FileOutput(url, downloader).save(target)
    assert saved == target
    assert target.read_bytes() == b"data"


def test_nesting_up_to_the_limit_is_accepted() -> None:
    """An input nested exactly MAX_INPUT_DEPTH levels deep passes; one more level is refused."""
    assert scan_input({"deep": _nested(MAX_INPUT_DEPTH - 1)}, is_file_input) == ([], False)
    with pytest.raises(ValidationError, match="nested deeper"):
        scan_input({"deep": _nested(MAX_INPUT_DEPTH)}, is_file_input)


def test_a_flat_input_is_json_as_it_is() -> None:
    """Names to strings, numbers, bools and None (the common input): no file, no rebuild."""
    flat = {"prompt": "a cat", "steps": 30, "scale": 7.5, "hd": True, "seed": None}
    assert scan_input(flat, is_file_input) == ([], False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param({"prompt": "x", "x": math.nan}, "input.x: nan is not valid JSON", id="nan"),
        pytest.param({"x": math.inf}, "input.x: inf is not valid JSON", id="inf"),
        pytest.param({"prompt": "x", "obj": _Thing()}, "input.obj: _Thing is not JSON", id="obj"),
    ],
)
def test_a_bad_value_at_the_top_is_refused_with_its_name(value: Any, message: str) -> None:
    """A flat input with one value JSON cannot carry still gets the walk's error and path."""
    with pytest.raises(ValidationError, match=message):
        scan_input(value, is_file_input)


def test_a_top_level_file_or_mapping_is_still_found(tmp_path: Path) -> None:
    """A file among plain values is collected; a mapping that is not a dict asks for a rebuild."""
    image = tmp_path / "in.png"
    image.write_bytes(b"png")
    found = scan_input({"prompt": "x", "image": image}, is_file_input)
    assert found == ([("input.image", image)], False)
    proxy = types.MappingProxyType({"prompt": "x"})
    assert scan_input(proxy, is_file_input) == ([], True)
    assert scan_input({1: "a"}, is_file_input) == ([], False)  # json makes the key "1"
