"""Hostile requests over loopback: deep JSON, huge bodies, multipart floods, a forged Host."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import pytest

from replicate_async.emulator import RateLimits

if TYPE_CHECKING:
    import httpx

MIB = 1024 * 1024
DEEP = 100_000
PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict:
    """The problem body of `response`, after checking its status and content type."""
    assert response.status_code == status, response.text[:200]
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    return body


def _peak_rss_reset() -> None:
    """Reset this process's peak RSS (VmHWM), which the emulator's thread shares."""
    Path("/proc/self/clear_refs").write_text("5")


def _proc_kib(field: str) -> int:
    """A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _raw_exchange(base_url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send `head` (and `body`) on a fresh connection; everything the server answers."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


# -- deep and non-finite JSON -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/models/emulator/echo/predictions", "[" * DEEP + "]" * DEEP),
        (
            "/v1/models/emulator/echo/predictions",
            '{"input": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
        ),
        ("/v1/predictions", '{"version": "x", "input": ' + "[" * DEEP + "]" * DEEP + "}"),
        ("/_emulator/travel", "[" * DEEP + "]" * DEEP),
    ],
)
def test_100k_deep_json_is_a_400_problem(http, path, body):
    """JSON nested 100,000 levels is a 400 problem+json naming the limit, not a 500."""
    response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert "deeper than 100" in _problem(response, 400)["detail"]


def test_json_just_over_the_depth_limit_is_refused_and_at_it_is_not(http):
    """101 levels are refused before validation; 100 levels are accepted (echo takes any input)."""

    def nested(levels: int) -> str:
        return '{"input": {"prompt": "x", "deep": ' + "[" * (levels - 2) + "]" * (levels - 2) + "}}"

    path = "/v1/models/emulator/echo/predictions"
    _problem(http.post(path, content=nested(101)), 400)
    assert http.post(path, content=nested(100)).status_code == 201


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_a_400_problem(http, number):
    """NaN and infinities are not JSON: 400, as the real API's parser answers."""
    content = '{"input": {"prompt": "x", "max_tokens": ' + number + "}}"
    response = http.post("/v1/models/emulator/tokens/predictions", content=content)
    assert "not valid JSON" in _problem(response, 400)["detail"]


# -- oversized bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "detail"),
    [
        ("/v1/predictions", "application/json", "Request bodies must be"),
        ("/v1/files", "multipart/form-data; boundary=b", "Files must be less than 100MB"),
        ("/_emulator/settings", "application/json", "Request bodies must be"),
    ],
)
def test_a_declared_200_mb_body_is_refused_before_it_is_sent(
    replicate_emulator, path, content_type, detail
):
    """Content-Length: 200 MB gets its 413 from the headers alone, and the connection closes."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {replicate_emulator.token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {200 * MIB}\r\n\r\n"
    ).encode()
    answer = _raw_exchange(replicate_emulator.base_url, head)  # no body byte is ever sent
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert b"content-type: application/problem+json" in headers.lower()
    assert b"connection: close" in headers.lower()
    problem = json.loads(body)
    assert problem["status"] == 413
    assert detail in problem["detail"]


def test_a_streamed_200_mb_body_is_refused_with_flat_memory(http):
    """A chunked 200 MB create gets 413 problem+json; the process's peak RSS grows < 48 MiB."""
    chunk = b" " * MIB  # one buffer, sent 200 times: the test holds 1 MiB, not 200

    def body():
        yield b'{"input": {"prompt": "'
        for _ in range(200):
            yield chunk
        yield b'"}}'

    before = _proc_kib("VmRSS")
    _peak_rss_reset()
    response = http.post("/v1/models/emulator/echo/predictions", content=body())
    growth_mib = (_proc_kib("VmHWM") - before) / 1024
    assert "Request bodies must be at most" in _problem(response, 413)["detail"]
    assert growth_mib < 48, f"peak RSS grew {growth_mib:.0f} MiB"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_client_that_writes_its_whole_body_first_still_sees_the_413(replicate_emulator, declared):
    """aiohttp writes a 20 MiB create before reading: it gets the 413, the connection kept."""
    url = f"{replicate_emulator.base_url}/v1/models/emulator/echo/predictions"
    chunk = b" " * MIB

    async def body():
        yield b'{"input": {"prompt": "'
        for _ in range(20):
            yield chunk
        yield b'"}}'

    async def post() -> tuple[int, str, str | None]:
        headers = {"Authorization": f"Bearer {replicate_emulator.token}"}
        if declared:
            headers["Content-Length"] = str(20 * MIB + 25)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body(), headers=headers) as response,
        ):
            return response.status, response.content_type, response.headers.get("Connection")

    status, content_type, connection = asyncio.run(post())
    assert (status, content_type) == (413, PROBLEM)
    assert connection != "close"  # the rest (under `drain_bytes`) was read and thrown away


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_not(http, replicate_emulator):
    """The JSON limit (10 MiB) is inclusive: at it the body is parsed, one byte over it is 413."""
    limit = replicate_emulator.config.limits.body_bytes
    head = b'{"input": {"prompt": "'
    tail = b'"}}'
    fill = b"a" * (limit - len(head) - len(tail))
    path = "/v1/models/emulator/echo/predictions"
    assert http.post(path, content=head + fill + tail).status_code == 201
    _problem(http.post(path, content=head + fill + b"a" + tail), 413)


# -- multipart ------------------------------------------------------------------------------------


def _part(name: str, value: bytes, extra_header: str = "") -> bytes:
    """One multipart part of boundary `b0undary`."""
    head = f'--b0undary\r\nContent-Disposition: form-data; name="{name}"\r\n{extra_header}\r\n'
    return head.encode() + value + b"\r\n"


CONTENT = _part("content", b"hello", "Content-Type: text/plain\r\n")
MULTIPART = {"Content-Type": "multipart/form-data; boundary=b0undary"}


def test_many_form_fields_are_a_400_problem(http, replicate_emulator):
    """1,000 small form fields are refused with 400 problem+json; nothing is stored."""
    fields = b"".join(_part(f"f{i}", b"x" * 10) for i in range(1000))
    response = http.post(
        "/v1/files", content=CONTENT + fields + b"--b0undary--\r\n", headers=MULTIPART
    )
    assert "form fields" in _problem(response, 400)["detail"]
    assert replicate_emulator.stats()["files"]["uploads"] == 0


def test_a_large_form_field_is_a_413_problem(http, replicate_emulator):
    """A 512 KiB non-file field (over the 64 KiB cap) is a 413 problem+json; nothing is stored."""
    body = CONTENT + _part("x", b"x" * (512 * 1024)) + b"--b0undary--\r\n"
    response = http.post("/v1/files", content=body, headers=MULTIPART)
    assert "at most 65536 bytes" in _problem(response, 413)["detail"]
    assert replicate_emulator.stats()["files"]["uploads"] == 0


def test_deeply_nested_metadata_is_a_400_problem(http, replicate_emulator):
    """A `metadata` field nested 20,000 levels (inside the field cap) is a 400, not a 500."""
    body = CONTENT + _part("metadata", b"[" * 20_000 + b"]" * 20_000) + b"--b0undary--\r\n"
    response = http.post("/v1/files", content=body, headers=MULTIPART)
    assert "deeper than 100" in _problem(response, 400)["detail"]
    assert replicate_emulator.stats()["files"]["uploads"] == 0


def test_the_usual_fields_are_still_accepted(http):
    """`content` with `filename`, `type` and `metadata` fields uploads as before (201)."""
    body = (
        CONTENT
        + _part("filename", b"a.txt")
        + _part("type", b"text/plain")
        + _part("metadata", b'{"k": "v"}')
        + b"--b0undary--\r\n"
    )
    response = http.post("/v1/files", content=body, headers=MULTIPART)
    assert response.status_code == 201
    assert response.json()["metadata"] == {"k": "v"}


# -- URLs come from the emulator's own address ---------------------------------------------------


def _urls(value: object) -> list[str]:
    """Every absolute http(s) URL in a JSON value."""
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return [value]
    return []


EVIL = {"Host": "evil.example", "X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example"}


def test_prediction_urls_ignore_a_forged_host_header(http, replicate_emulator):
    """Create (with file outputs and a stream), get, list: every URL is on the emulator's address."""
    base = replicate_emulator.base_url
    made = [
        http.post(
            f"/v1/models/{model}/predictions",
            json={"input": {"prompt": "x"}},
            headers={**EVIL, "Prefer": "wait"},
        ).json()
        for model in ("emulator/image", "emulator/tokens")
    ]
    got = http.get(f"/v1/predictions/{made[0]['id']}", headers=EVIL).json()
    listed = http.get("/v1/predictions", headers=EVIL).json()
    urls = _urls([made, got, listed])
    assert any("/delivery/" in u for u in urls)
    assert any("/stream/" in u for u in urls)
    assert urls
    assert [u for u in urls if not u.startswith(base + "/")] == []


def test_next_cursors_and_file_urls_ignore_a_forged_host_header(http, replicate_emulator):
    """A list's `next` and a file's `urls.get` are on the emulator's address too."""
    replicate_emulator.set_rate_limits(RateLimits.unlimited())
    for _ in range(101):
        http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    listed = http.get("/v1/predictions", headers=EVIL).json()
    uploaded = http.post(
        "/v1/files", files={"content": ("a.txt", b"hi", "text/plain")}, headers=EVIL
    ).json()
    assert listed["next"].startswith(replicate_emulator.base_url + "/v1/predictions?cursor=")
    assert uploaded["urls"]["get"].startswith(replicate_emulator.base_url + "/v1/files/")
