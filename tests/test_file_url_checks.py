# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The file-URL policy's shortcut: plain host names are not handed to httpx, and no answer
changes for it (differential tests against the policy with the shortcut off)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async import _urls
from replicate_async._file_output import FileOutput, to_file_outputs
from replicate_async._urls import _is_plain_host, _url_problem

#: URLs around every rule of the policy, hosts of every kind among them.
CORPUS = [
    "https://replicate.delivery/pbxt/E6Ftpfi0dF1SOi4b6ltUwsfdxUf7zTQSfdhmJfRcfGTdZ88UE/out-0.png",
    "https://REPLICATE.delivery/x.png",
    "https://example.com./x",
    "https://a-b.c-d.example/x?sig=1#f",
    "https://example.com:8443/x",
    "https://example.com:99999/x",
    "https://example.com:x/x",
    "https://example.com:+80/x",
    "https://example.com: 80/x",
    "https://example.com:/x",
    "https://example.com:٣/x",
    "https://xn--zz.com/x",
    "https://xn--fiqs8s.icom.museum/x",
    "https://中国.icom.museum/x",
    "https://bücher.example/x",
    "https://1.2.3.4/x",
    "https://1.2.3.999/x",
    "https://1x2y3z4/x",
    "https://999/x",
    "https://[::1]/x",
    "https://[::ffff:192.168.0.1]:8080/x",
    "https://[zz::1]/x",
    "https://ex%61mple.com/x",
    "https://exa_mple.com/x",
    "https://-leading.example/x",
    "https://a..b/x",
    "https://example.com/a b.png",
    "https://example.com/a\tb",
    "https://example.com/\x7f",
    "https://example.com/\u00a0x",
    "https://example.com/caf\u00e9.png",
    "https://user:pass@example.com/x",
    "https:///no-host",
    "http://127.0.0.1:8000/x.png",
    "http://localhost/x",
    "http://example.com/x",
    "ftp://example.com/x",
    "data:text/plain,hi",
    "data:no-comma",
    "https://example.com/" + "a" * 70_000,
]


def _without_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_urls, "_is_plain_host", lambda host: False)


@pytest.mark.parametrize("url", CORPUS)
def test_the_shortcut_changes_no_answer(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every URL of the corpus gets the same verdict with and without the plain-host shortcut."""
    fast = _url_problem(url)
    _without_shortcut(monkeypatch)
    assert _url_problem(url) == fast


@given(
    st.text(alphabet="abcxyz0189-._%:[]@é中", min_size=1, max_size=20),
    st.text(alphabet="ab/%?# \t.", max_size=10),
)
def test_the_shortcut_changes_no_answer_for_any_host(host: str, path: str) -> None:
    """Generated hosts and paths: the verdict with the shortcut is the verdict without it."""
    url = f"https://{host}/{path}"
    fast = _url_problem(url)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _without_shortcut(monkeypatch)
        assert _url_problem(url) == fast


@given(st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}\.?", fullmatch=True))
def test_a_plain_host_is_one_httpx_takes(host: str) -> None:
    """What the shortcut calls plain, httpx parses without complaint (its host is the same)."""
    if _is_plain_host(host):
        assert httpx.URL(f"https://{host}/x").host == host


@pytest.mark.parametrize(
    "host", ["xn--zz.com", "1x2y3z4", "1.2.3.999", "ex%61mple.com", "bücher.example", "::1"]
)
def test_hosts_httpx_must_judge_are_not_plain(host: str) -> None:
    """IDNA labels, IPv4-shaped hosts that are no address (httpx's own test), escapes and
    IPv6 literals go to httpx."""
    assert not _is_plain_host(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "localhost", "a-b.example."])
def test_valid_ipv4_and_plain_names_skip_httpx(host: str) -> None:
    """A valid IPv4 address (a local server's) and plain names need no httpx."""
    assert _is_plain_host(host)
    assert httpx.URL(f"https://{host}/x").host == host


def test_each_output_url_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """to_file_outputs checks a URL once (is_file_url), not again in FileOutput()."""
    checked: list[str] = []
    problem = _urls._url_problem

    def counting(url: str) -> str | None:
        checked.append(url)
        return problem(url)

    monkeypatch.setattr(_urls, "_url_problem", counting)
    urls = [f"https://replicate.delivery/x/out-{i}.png" for i in range(3)]
    output = to_file_outputs({"images": urls, "caption": "a cat"}, lambda: None)  # type: ignore[arg-type, return-value]
    assert [str(f) for f in output["images"]] == urls
    assert all(isinstance(f, FileOutput) for f in output["images"])
    assert output["caption"] == "a cat"
    assert checked == urls


def test_a_file_outputs_name_is_made_when_asked() -> None:
    """The file name is made from the URL on first use, the same as before."""
    made = to_file_outputs(["https://replicate.delivery/x/out-0.png"], lambda: None)[0]  # type: ignore[arg-type, return-value]
    direct = FileOutput("https://replicate.delivery/x/out-0.png", None)  # type: ignore[arg-type]
    assert made.name == direct.name == "out-0.png"
