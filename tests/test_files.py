# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""FileOutput and Downloader: byte-exact downloads over loopback, atomic saves, URL policy."""

from __future__ import annotations

import base64
import gzip
import os
import socket
import urllib.parse
from contextlib import aclosing

import anyio
import httpx
import pytest
import stamina
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from fixtures.fileserver import Reply
from replicate_async._config import RetryPolicy
from replicate_async._downloads import Downloader
from replicate_async._file_output import FileOutput, map_outputs, to_file_outputs
from replicate_async._naming import safe_file_name
from replicate_async._urls import is_file_url
from replicate_async.exceptions import (
    ClientError,
    DecodeError,
    FileExpiredError,
    NotFoundError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
    UnsupportedURLError,
    ValidationError,
)

PAYLOAD = os.urandom(300_000)


def _refusing_transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request to {request.url}")

    return httpx.MockTransport(handler)


def _mock(handler) -> Downloader:
    return Downloader(transport=httpx.MockTransport(handler))


# -- reading and saving over loopback ---------------------------------------------------


@pytest.mark.anyio
async def test_read_returns_the_exact_bytes(file_server, downloader):
    """FileOutput.read returns the served bytes exactly."""
    url = file_server.add("/out-0.bin", Reply(PAYLOAD))
    assert await FileOutput(url, downloader).read() == PAYLOAD


@pytest.mark.anyio
async def test_read_learns_the_content_type(file_server, downloader):
    """After a download, content_type is the file host's Content-Type."""
    url = file_server.add("/out-0.png", Reply(b"png", content_type="image/png"))
    out = FileOutput(url, downloader)
    assert out.content_type is None
    await out.read()
    assert out.content_type == "image/png"


@pytest.mark.anyio
async def test_content_type_stays_unknown_without_a_header():
    """A reply without Content-Type leaves content_type None."""
    async with _mock(lambda request: httpx.Response(200, content=b"x")) as d:
        out = FileOutput("https://files.example/x", d)
        assert await out.read() == b"x"
        assert out.content_type is None


@pytest.mark.anyio
async def test_save_writes_the_exact_bytes(file_server, downloader, tmp_path):
    """FileOutput.save to a file path writes exactly the served bytes there."""
    url = file_server.add("/out-0.bin", Reply(PAYLOAD))
    target = tmp_path / "image.bin"
    assert await FileOutput(url, downloader).save(target) == target
    assert target.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.bin"]


@pytest.mark.anyio
async def test_save_into_a_folder_uses_the_name(file_server, downloader, tmp_path):
    """Saving into a folder writes the file under its safe name."""
    url = file_server.add("/pbxt/abc/out-0.webp", Reply(b"webp"))
    saved = await FileOutput(url, downloader).save(tmp_path)
    assert saved == tmp_path / "out-0.webp"
    assert saved.read_bytes() == b"webp"


@pytest.mark.anyio
async def test_save_to_a_path_with_trailing_separator_needs_the_folder(
    file_server, downloader, tmp_path
):
    """A path ending with a separator means a folder; a missing one is an OSError, not a file."""
    url = file_server.add("/out.txt", Reply(b"x"))
    with pytest.raises(FileNotFoundError):
        await FileOutput(url, downloader).save(f"{tmp_path}/missing/")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_save_leaves_nothing_when_the_connection_drops(file_server, downloader, tmp_path):
    """A download cut off mid-body raises TransportError and leaves no file, not even a temp one."""
    url = file_server.add("/out.bin", Reply(PAYLOAD, drop_after=100_000))
    with pytest.raises(TransportError) as info:
        await FileOutput(url, downloader).save(tmp_path / "out.bin")
    assert info.value.request_sent is True
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_failed_save_keeps_an_existing_file(file_server, downloader, tmp_path):
    """A failed save never touches the file already at the target path."""
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    url = file_server.add("/out.bin", Reply(PAYLOAD, drop_after=10))
    with pytest.raises(TransportError):
        await FileOutput(url, downloader).save(target)
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.anyio
async def test_a_dropped_download_is_retried_whole(file_server, downloader, tmp_path):
    """read() starts again after a mid-body failure and returns the complete bytes."""
    url = file_server.add("/out.bin", Reply(PAYLOAD, drop_after=1000), Reply(PAYLOAD))
    assert await downloader.read(url) == PAYLOAD
    assert len(file_server.requests_to("/out.bin")) == 2


@pytest.mark.anyio
async def test_save_into_a_folder_cannot_escape_it(file_server, downloader, tmp_path):
    """An encoded ../ in the URL's name is neutralised: the file lands inside the folder."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    url = file_server.add("/files/..%2F..%2Fescape.txt", Reply(b"data"))
    saved = await FileOutput(url, downloader).save(folder)
    assert saved.parent == folder
    assert saved.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs"]


@pytest.mark.anyio
async def test_downloader_save_names_from_the_content_type(file_server, downloader, tmp_path):
    """Downloader.save into a folder falls back to 'output' plus an extension from the reply."""
    url = file_server.add("/", Reply(b"png", content_type="image/png"))
    assert await downloader.save(url, tmp_path) == tmp_path / "output.png"


@pytest.mark.anyio
async def test_aiter_bytes_streams_the_exact_bytes(file_server, downloader):
    """aiter_bytes yields chunks that join to the served bytes, and learns the content type."""
    url = file_server.add("/song.mp3", Reply(PAYLOAD, content_type="audio/mpeg"))
    out = FileOutput(url, downloader)
    async with aclosing(out.aiter_bytes()) as chunks:
        data = b"".join([chunk async for chunk in chunks])
    assert data == PAYLOAD
    assert out.content_type == "audio/mpeg"


@pytest.mark.anyio
async def test_downloader_aiter_bytes_streams(file_server, downloader):
    """Downloader.aiter_bytes yields the served bytes."""
    url = file_server.add("/x", Reply(b"abc"))
    async with aclosing(downloader.aiter_bytes(url)) as chunks:
        assert b"".join([c async for c in chunks]) == b"abc"


@pytest.mark.anyio
async def test_aiter_bytes_does_not_retry_after_the_first_byte(file_server, downloader):
    """A stream that breaks after bytes were given out raises instead of starting over."""
    url = file_server.add("/x", Reply(PAYLOAD, drop_after=70_000), Reply(PAYLOAD))
    received = 0

    async def consume():
        nonlocal received
        async with aclosing(downloader.aiter_bytes(url)) as chunks:
            async for chunk in chunks:
                received += len(chunk)

    with pytest.raises(TransportError):
        await consume()
    assert 0 < received < len(PAYLOAD)
    assert len(file_server.requests_to("/x")) == 1


@pytest.mark.anyio
async def test_aiter_bytes_retries_before_the_first_byte(file_server, downloader):
    """A 503 before any byte is retried by the streaming path too."""
    url = file_server.add("/x", Reply(status=503), Reply(b"ok"))
    async with aclosing(downloader.aiter_bytes(url)) as chunks:
        assert b"".join([c async for c in chunks]) == b"ok"


# -- the token never reaches a file host ------------------------------------------------


@pytest.mark.anyio
async def test_no_download_carries_authorization(file_server, downloader, tmp_path):
    """Reads, streams and saves send no Authorization header (checked on the server side)."""
    url = file_server.add("/a.bin", Reply(b"a"))
    out = FileOutput(url, downloader)
    await out.read()
    await out.save(tmp_path)
    async with aclosing(out.aiter_bytes()) as chunks:
        async for _ in chunks:
            pass
    assert len(file_server.seen) == 3
    assert all("authorization" not in s.headers for s in file_server.seen)


@pytest.mark.anyio
async def test_an_authorization_header_set_on_the_client_is_stripped(file_server, downloader):
    """Even a header put on the download client by mistake never leaves: a hook removes it."""
    downloader._headers["Authorization"] = "Bearer r8_secretsecretsecret"
    url = file_server.add("/a.bin", Reply(b"a"))
    await downloader.read(url)
    assert "authorization" not in file_server.seen[0].headers


@pytest.mark.anyio
async def test_redirects_carry_no_authorization(file_server, downloader):
    """A redirected download reaches its target without an Authorization header."""
    file_server.add("/final", Reply(b"final"))
    url = file_server.add("/start", Reply(status=302, headers={"Location": "/final"}))
    assert await downloader.read(url) == b"final"
    assert [s.path for s in file_server.seen] == ["/start", "/final"]
    assert all("authorization" not in s.headers for s in file_server.seen)


@pytest.mark.anyio
async def test_downloads_send_our_user_agent(file_server, downloader):
    """Downloads identify as replicate-async."""
    url = file_server.add("/a", Reply(b"a"))
    await downloader.read(url)
    assert file_server.seen[0].headers["user-agent"].startswith("replicate-async/")


# -- URL policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/out.png",
        "http://example.com/out.png",
        "gopher://example.com/x",
        "example.com/out.png",
        "https:///no-host",
        "https://user:pass@example.com/out.png",
        "https://example.com/a b.png",
        "https://example.com:99999/x",
        "https://xn--zz.com/x",
        "data:no-comma",
    ],
)
@pytest.mark.anyio
async def test_unsupported_urls_are_refused_without_a_request(url):
    """file://, ftp://, remote http:// and malformed URLs raise UnsupportedURLError, one line."""
    async with Downloader(transport=_refusing_transport()) as d:
        with pytest.raises(UnsupportedURLError) as info:
            await d.read(url)
    assert isinstance(info.value, ValidationError)
    assert info.value.status_code is None
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("refusing to download")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/out.png"])
def test_file_output_refuses_other_schemes(url):
    """A FileOutput cannot even be made for a file:// or ftp:// URL."""
    with pytest.raises(UnsupportedURLError, match="only https:// and data: URLs"):
        FileOutput(url, Downloader(transport=_refusing_transport()))


def test_remote_http_is_refused_with_advice():
    """Plain http:// to a remote host is refused, and the message says to use https://."""
    with pytest.raises(UnsupportedURLError, match="use https://"):
        FileOutput("http://example.com/x.png", Downloader(transport=_refusing_transport()))


def test_a_file_url_must_be_a_string():
    """A non-string URL is a TypeError."""
    with pytest.raises(TypeError, match="must be a str"):
        FileOutput(b"https://example.com/x", Downloader(transport=_refusing_transport()))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://replicate.delivery/pbxt/x/out-0.png", True),
        ("HTTPS://example.com/x", True),
        ("data:image/png;base64,AAAA", True),
        ("http://127.0.0.1:8000/x.png", True),
        ("http://localhost/x.png", True),
        ("http://[::1]:8000/x.png", True),
        ("http://127.0.0.2/x.png", True),
        ("http://example.com/x.png", False),
        ("file:///etc/passwd", False),
        ("ftp://example.com/x", False),
        ("data:nocomma", False),
        (" the", False),
        ("https", False),
        ("see https://example.com/x", False),
        ("https://example.com/a b", False),
        (42, False),
        (None, False),
    ],
)
def test_is_file_url(value, expected):
    """is_file_url accepts whole https/data:/loopback-http URLs only."""
    assert is_file_url(value) is expected


# -- data: URLs ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_base64_data_url_is_decoded_without_a_request():
    """A base64 data: URL is decoded locally; no HTTP request is made."""
    data = os.urandom(1000)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    async with Downloader(transport=_refusing_transport()) as d:
        out = FileOutput(url, d)
        assert out.content_type == "image/png"
        assert await out.read() == data


@pytest.mark.anyio
async def test_percent_encoded_data_url_is_decoded():
    """A data: URL without base64 is percent-decoded."""
    async with Downloader(transport=_refusing_transport()) as d:
        out = FileOutput("data:text/plain;charset=utf-8,hello%20w%C3%B6rld", d)
        assert await out.read() == "hello wörld".encode()
        assert out.content_type == "text/plain;charset=utf-8"


@pytest.mark.anyio
async def test_data_url_defaults_to_text_plain():
    """A data: URL with no media type is text/plain (RFC 2397)."""
    async with Downloader(transport=_refusing_transport()) as d:
        out = FileOutput("data:,hi", d)
        assert out.content_type == "text/plain;charset=US-ASCII"
        assert await out.read() == b"hi"
        assert out.name == "output.txt"


@pytest.mark.anyio
async def test_base64_data_url_tolerates_missing_padding_and_whitespace():
    """Unpadded base64 with line breaks decodes."""
    async with Downloader(transport=_refusing_transport()) as d:
        assert await d.read("data:;base64,aGVs%0AbG8") == b"hello"


@pytest.mark.anyio
async def test_bad_base64_is_a_decode_error():
    """A data: URL with invalid base64 raises DecodeError."""
    async with Downloader(transport=_refusing_transport()) as d:
        with pytest.raises(DecodeError, match="invalid base64"):
            await d.read("data:image/png;base64,@@@@")


@pytest.mark.anyio
async def test_data_url_saves_atomically(tmp_path):
    """A data: URL saves into a folder as output plus the media type's extension."""
    async with Downloader(transport=_refusing_transport()) as d:
        saved = await FileOutput("data:image/png;base64,aGk=", d).save(tmp_path)
    assert saved == tmp_path / "output.png"
    assert saved.read_bytes() == b"hi"


@pytest.mark.anyio
async def test_data_url_streams_as_one_chunk():
    """aiter_bytes of a data: URL yields its decoded bytes."""
    async with Downloader(transport=_refusing_transport()) as d:
        out = FileOutput("data:,abc", d)
        async with aclosing(out.aiter_bytes()) as chunks:
            assert [c async for c in chunks] == [b"abc"]


# -- errors from the file host ------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.anyio
async def test_gone_file_says_outputs_expire(file_server, downloader, status):
    """A 404 or 410 raises FileExpiredError (a NotFoundError) saying outputs expire in an hour."""
    url = file_server.add("/old.png?sig=SECRET", Reply(status=status))
    with pytest.raises(FileExpiredError) as info:
        await FileOutput(url, downloader).read()
    assert isinstance(info.value, NotFoundError)
    assert info.value.status_code == status
    assert "an hour" in str(info.value)
    assert "SECRET" not in str(info.value)
    assert len(file_server.seen) == 1


@pytest.mark.anyio
async def test_server_errors_are_retried(file_server, downloader):
    """A 503 then a 200 succeeds."""
    url = file_server.add("/x", Reply(status=503), Reply(b"ok"))
    assert await downloader.read(url) == b"ok"
    assert len(file_server.seen) == 2


@pytest.mark.anyio
async def test_persistent_server_errors_raise_after_the_attempts(file_server, downloader):
    """A file host that keeps answering 500 raises ServerError after the retry budget."""
    url = file_server.add("/x", Reply(status=500))
    with pytest.raises(ServerError, match="HTTP 500 on GET"):
        await downloader.read(url)
    assert len(file_server.seen) == 3


@pytest.mark.anyio
async def test_rate_limits_are_retried_and_reported(file_server, downloader):
    """Persistent 429s raise RateLimitError carrying Retry-After."""
    url = file_server.add("/x", Reply(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as info:
        await downloader.read(url)
    assert info.value.retry_after == 7.0
    assert len(file_server.seen) == 3


@pytest.mark.anyio
async def test_rate_limit_without_retry_after(file_server, downloader):
    """A 429 without a numeric Retry-After has retry_after None."""
    url = file_server.add("/x", Reply(status=429, headers={"Retry-After": "soon"}))
    with pytest.raises(RateLimitError) as info:
        await downloader.read(url)
    assert info.value.retry_after is None


@pytest.mark.anyio
async def test_other_client_errors_are_not_retried(file_server, downloader):
    """A 403 raises ClientError at once."""
    url = file_server.add("/x", Reply(status=403))
    with pytest.raises(ClientError, match="403"):
        await downloader.read(url)
    assert len(file_server.seen) == 1


@pytest.mark.anyio
async def test_connection_refused_is_a_transport_error():
    """Nothing listening: TransportError with request_sent False, after retries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Downloader() as d:
        with pytest.raises(TransportError) as info:
            await d.read(f"http://127.0.0.1:{port}/x")
    assert info.value.request_sent is False


@pytest.mark.anyio
async def test_timeouts_are_request_timeouts():
    """A read timeout raises RequestTimeout, which is also a TimeoutError."""

    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    async with _mock(handler) as d:
        with pytest.raises(RequestTimeout) as info:
            await d.read("https://files.example/x")
    assert isinstance(info.value, TimeoutError)
    assert info.value.request_sent is True


@pytest.mark.anyio
async def test_connect_timeouts_are_unsent():
    """A connect timeout raises RequestTimeout with request_sent False."""

    def handler(request):
        raise httpx.ConnectTimeout("slow", request=request)

    async with _mock(handler) as d:
        with pytest.raises(RequestTimeout) as info:
            await d.read("https://files.example/x")
    assert info.value.request_sent is False


@pytest.mark.anyio
async def test_undecodable_bodies_are_decode_errors():
    """A body that fails Content-Encoding decoding raises DecodeError."""

    def handler(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    async with _mock(handler) as d:
        with pytest.raises(DecodeError):
            await d.read("https://files.example/x")


@pytest.mark.anyio
async def test_gzip_bodies_are_decoded():
    """A gzip-encoded body is returned decoded."""

    def handler(request):
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(b"hello")
        )

    async with _mock(handler) as d:
        assert await d.read("https://files.example/x") == b"hello"


# -- redirects ------------------------------------------------------------------------------


def _redirecting(location: str | None, *, final: bytes = b"ok", status: int = 302):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            headers = {} if location is None else {"Location": location}
            return httpx.Response(status, headers=headers)
        return httpx.Response(200, content=final)

    return handler


@pytest.mark.anyio
async def test_https_redirects_are_followed():
    """A redirect to another https host is followed."""
    async with _mock(_redirecting("https://cdn.example/final")) as d:
        assert await d.read("https://files.example/start") == b"ok"


@pytest.mark.parametrize(
    "location",
    ["http://cdn.example/final", "ftp://cdn.example/final", "file:///etc/passwd"],
)
@pytest.mark.anyio
async def test_redirects_to_other_schemes_are_refused(location):
    """A redirect from https to http, ftp or file is refused."""
    async with _mock(_redirecting(location)) as d:
        with pytest.raises(UnsupportedURLError):
            await d.read("https://files.example/start")


@pytest.mark.parametrize("location", ["http://127.0.0.1/final", "data:,gotcha"])
@pytest.mark.anyio
async def test_remote_hosts_cannot_redirect_to_loopback_or_data(location):
    """A remote host redirecting to a loopback http URL or a data: URL is refused."""
    async with _mock(_redirecting(location)) as d:
        with pytest.raises(UnsupportedURLError, match="redirect"):
            await d.read("https://files.example/start")


@pytest.mark.anyio
async def test_a_redirect_without_location_is_an_error():
    """A 302 without Location raises ClientError."""
    async with _mock(_redirecting(None)) as d:
        with pytest.raises(ClientError, match="302"):
            await d.read("https://files.example/start")


@pytest.mark.anyio
async def test_redirect_loops_stop():
    """More than ten redirects raise TransportError."""
    async with _mock(_redirecting("/start")) as d:
        with pytest.raises(TransportError, match="redirected more than 10 times"):
            await d.read("https://files.example/start")


# -- concurrency -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrency_is_bounded():
    """With max_concurrency=2, at most two downloads are in flight at once."""
    in_flight = 0
    peak = 0
    release = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return httpx.Response(200, content=b"x")

    async with (
        Downloader(transport=httpx.MockTransport(handler), max_concurrency=2) as d,
        anyio.create_task_group() as tg,
    ):
        for i in range(5):
            tg.start_soon(d.read, f"https://files.example/{i}")
        await wait_all_tasks_blocked()
        assert in_flight == 2
        release.set()
    assert peak == 2


@pytest.mark.parametrize("value", [0, -1])
def test_max_concurrency_must_be_positive(value):
    """max_concurrency below 1 is a ValueError."""
    with pytest.raises(ValueError, match="max_concurrency"):
        Downloader(max_concurrency=value)


def test_max_concurrency_must_be_an_int():
    """max_concurrency=True is a TypeError."""
    with pytest.raises(TypeError, match="max_concurrency"):
        Downloader(max_concurrency=True)


def test_downloader_repr():
    """The repr shows the concurrency bound."""
    assert repr(Downloader(max_concurrency=3)) == "<Downloader max_concurrency=3>"


@pytest.mark.anyio
async def test_retry_policy_is_honoured(file_server):
    """A RetryPolicy with one attempt does not retry."""
    url = file_server.add("/x", Reply(status=503), Reply(b"ok"))
    with stamina.set_testing(True, attempts=1, cap=True):
        async with Downloader(retry=RetryPolicy(attempts=1)) as d:
            with pytest.raises(ServerError):
                await d.read(url)
    assert len(file_server.seen) == 1


@pytest.mark.anyio
async def test_closing_twice_is_fine():
    """aclose can be called twice."""
    d = Downloader()
    await d.aclose()
    await d.aclose()
    await checkpoint()


# -- FileOutput surface ----------------------------------------------------------------------


def test_str_is_the_url():
    """str() and f-strings give the URL."""
    url = "https://replicate.delivery/pbxt/x/out-0.png"
    out = FileOutput(url, Downloader())
    assert str(out) == url
    assert f"{out}" == url
    assert out.url == url


def test_repr_shows_the_url():
    """The repr shows the URL."""
    out = FileOutput("https://replicate.delivery/a.png", Downloader())
    assert repr(out) == "FileOutput(url='https://replicate.delivery/a.png')"


def test_repr_of_a_long_data_url_is_short():
    """A big data: URL is cut short in the repr."""
    out = FileOutput("data:;base64," + "A" * 10_000, Downloader())
    assert len(repr(out)) < 120
    assert repr(out).endswith("...')")


def test_equality_is_by_url():
    """Two FileOutputs for the same URL are equal and hash alike; other types are not equal."""
    d = Downloader()
    a = FileOutput("https://x.example/a", d)
    b = FileOutput("https://x.example/a", Downloader())
    assert a == b
    assert hash(a) == hash(b)
    assert a != FileOutput("https://x.example/b", d)
    assert a != "https://x.example/a"


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://replicate.delivery/pbxt/abc/out-0.png", "out-0.png"),
        ("https://h/a/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"),
        ("https://h/a/..", "output"),
        ("https://h/a/.", "output"),
        ("https://h/", "output"),
        ("https://h", "output"),
        ("https://h/%2E%2E", "output"),
        ("https://h/a%5C..%5Cb.txt", "a_.._b.txt"),
        ("https://h/.bashrc", "bashrc"),
        ("https://h/evil%00name%01.png", "evil_name_.png"),
        ("https://h/a%E2%80%AEgnp.exe", "a_gnp.exe"),
        ("https://h/C%3A%5Cwin.ini", "C__win.ini"),
        ("https://h/CON.png", "_CON.png"),
        ("https://h/x.png?name=../../y", "x.png"),
        ("https://h/caf%C3%A9.jpg", "café.jpg"),
        ("https://h/%20%20", "output"),
    ],
)
def test_safe_names(url, name):
    """Names have no separators, no leading dots, no control characters, never '..' or empty."""
    assert safe_file_name(url) == name


def test_long_names_are_capped_keeping_the_extension():
    """A name over 255 bytes is shortened, keeping its extension."""
    name = safe_file_name("https://h/" + urllib.parse.quote("é" * 300) + ".png")
    assert len(name.encode()) <= 255
    assert name.endswith(".png")


def test_long_names_without_extension_are_capped():
    """A long name without a short extension is shortened too."""
    name = safe_file_name("https://h/" + "a" * 400)
    assert name == "a" * 255


def test_fallback_name_uses_the_content_type():
    """An empty name falls back to 'output' plus an extension for the content type."""
    assert safe_file_name("https://h/", "image/jpeg; charset=binary") in {
        "output.jpg",
        "output.jpeg",
    }
    assert safe_file_name("https://h/", "application/x-unknown") == "output"


def test_file_output_name():
    """FileOutput.name is the safe name of its URL."""
    out = FileOutput("https://h/a/..%2Fb.png", Downloader())
    assert out.name == "_b.png"
    assert os.sep not in out.name


# -- walking outputs ----------------------------------------------------------------------


def test_to_file_outputs_replaces_urls_in_nested_outputs():
    """URLs in nested lists, tuples and dicts become FileOutputs; the shape is kept."""
    d = Downloader()
    output = {
        "images": ["https://h/a.png", "https://h/b.png"],
        "meta": {"preview": ("data:,x", 3), "seed": 42},
    }
    result = to_file_outputs(output, lambda: d)
    assert isinstance(result["images"][0], FileOutput)
    assert result["images"][1].url == "https://h/b.png"
    assert isinstance(result["meta"]["preview"], tuple)
    assert isinstance(result["meta"]["preview"][0], FileOutput)
    assert result["meta"]["preview"][1] == 3
    assert result["meta"]["seed"] == 42


def _no_downloader() -> Downloader:
    raise AssertionError("an output without file URLs made a download client")


def test_to_file_outputs_leaves_text_alone():
    """Text chunks and non-file URLs stay plain strings, and no download client is made."""
    chunks = [" The", " answer", " is", " https", "://", "example.com", " 42.", ""]
    assert to_file_outputs(chunks, _no_downloader) == chunks
    others = ["file:///etc/passwd", "ftp://h/x", "http://example.com/x.png", "see https://h/x"]
    assert to_file_outputs(others, _no_downloader) == others


def test_to_file_outputs_single_url():
    """A bare URL output becomes one FileOutput."""
    d = Downloader()
    out = to_file_outputs("https://h/out.wav", lambda: d)
    assert isinstance(out, FileOutput)


def test_map_outputs_applies_to_leaves():
    """map_outputs rebuilds containers and maps every leaf."""
    assert map_outputs({"a": [1, (2, 3)], "b": None}, lambda v: v if v is None else v * 10) == {
        "a": [10, (20, 30)],
        "b": None,
    }
