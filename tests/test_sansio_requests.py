"""Building requests: model-reference routing, headers, create bodies, cursors."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from replicate_async._config import Timeouts
from replicate_async._models import Deployment
from replicate_async._sansio import requests as rq
from replicate_async._sansio.requests import (
    REF_HELP,
    ModelRef,
    Request,
    base_headers,
    build_cancel,
    build_create,
    build_get,
    cancel_after_header,
    create_read_timeout,
    parse_cancel_after,
    parse_ref,
    prefer_header,
    resolve_next_url,
    user_agent,
)
from replicate_async.exceptions import DecodeError, ValidationError

VERSION = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
SANSIO = Path(rq.__file__).parent


# -- purity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["__init__.py", "requests.py", "responses.py", "polling.py"])
def test_core_modules_import_no_io_library(module):
    """The core sans-I/O modules import neither httpx, anyio, aiohttp nor importlib.metadata."""
    tree = ast.parse((SANSIO / module).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"httpx", "anyio", "aiohttp", "trio", "sniffio"}
    assert "importlib.metadata" not in imported


# -- parse_ref ---------------------------------------------------------------------------------


def test_parse_official_model():
    """owner/name is an official-model reference."""
    assert parse_ref("black-forest-labs/flux-schnell") == ModelRef(
        kind="model", owner="black-forest-labs", name="flux-schnell"
    )


def test_parse_model_with_version():
    """owner/name:version is a version reference keeping owner and name."""
    assert parse_ref(f"stability-ai/sdxl:{VERSION}") == ModelRef(
        kind="version", owner="stability-ai", name="sdxl", version=VERSION
    )


def test_parse_bare_version():
    """A bare 64-hex id is a version reference."""
    assert parse_ref(VERSION) == ModelRef(kind="version", version=VERSION)


def test_parse_deployment():
    """Deployment('owner/name') is a deployment reference."""
    assert parse_ref(Deployment("acme/my-dep")) == ModelRef(
        kind="deployment", owner="acme", name="my-dep"
    )


def test_parse_ref_strips_whitespace():
    """Surrounding whitespace (from config files) is ignored."""
    assert parse_ref("  meta/llama.3_8b \n").name == "llama.3_8b"


def test_parse_ref_passes_model_ref_through():
    """An already parsed reference is returned as is."""
    ref = ModelRef(kind="model", owner="a", name="b")
    assert parse_ref(ref) is ref


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("sdxl", "exactly one '/'"),
        ("a/b/c", "exactly one '/'"),
        ("", "empty"),
        ("   ", "empty"),
        ("Stability-AI/sdxl", "lowercase"),
        ("owner/na me", "lowercase"),
        ("-owner/name", "lowercase"),
        ("owner/name-", "lowercase"),
        ("/name", "lowercase"),
        ("owner/", "lowercase"),
        ("owner/name:latest", "64-character"),
        (f"owner/name:{VERSION[:-1]}", "64-character"),
        (f"owner/name:{VERSION.upper()}", "64-character"),
        (f"{VERSION}x", "exactly one '/'"),
    ],
)
def test_malformed_refs(ref, why):
    """Malformed references raise ValidationError (no status) naming how refs are written."""
    with pytest.raises(ValidationError) as info:
        parse_ref(ref)
    assert info.value.status_code is None
    assert why in str(info.value)
    assert REF_HELP in str(info.value)
    assert "\n" not in str(info.value)


def test_non_string_ref():
    """A reference of the wrong type says what it got."""
    with pytest.raises(ValidationError, match="int 5"):
        parse_ref(5)  # type: ignore[arg-type]


def test_bad_deployment_name():
    """A Deployment with a malformed name is refused."""
    with pytest.raises(ValidationError, match="exactly one '/'"):
        parse_ref(Deployment("just-a-name"))


def test_deployment_with_non_string_name():
    """A Deployment whose name is not a string is refused."""
    with pytest.raises(ValidationError, match="a deployment name is a string"):
        parse_ref(Deployment(3))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        ("a/b", "a/b"),
        (f"a/b:{VERSION}", f"a/b:{VERSION}"),
        (VERSION, VERSION),
        (Deployment("a/b"), "Deployment('a/b')"),
    ],
)
def test_model_ref_str(ref, text):
    """str(ModelRef) writes the reference back."""
    assert str(parse_ref(ref)) == text


# -- headers ----------------------------------------------------------------------------------


def test_user_agent():
    """The User-Agent is replicate-async/<version>."""
    assert user_agent("0.1.0") == "replicate-async/0.1.0"


def test_base_headers():
    """Every API request carries Bearer auth, the User-Agent and Accept JSON."""
    assert base_headers("r8_tok", "replicate-async/0.1.0") == {
        "Authorization": "Bearer r8_tok",
        "User-Agent": "replicate-async/0.1.0",
        "Accept": "application/json",
    }


@pytest.mark.parametrize(
    ("wait", "value"), [(1, "wait=1"), (60, "wait=60"), (True, "wait=60"), (False, None)]
)
def test_prefer_header(wait, value):
    """wait 1..60 gives Prefer: wait=N; True means 60; False gives no header."""
    assert prefer_header(wait) == value


@pytest.mark.parametrize("wait", [0, 61, -1, 1.5, None, "60"])
def test_prefer_header_out_of_range(wait):
    """Anything else raises ValidationError before any request."""
    with pytest.raises(ValidationError, match="from 1 to 60") as info:
        prefer_header(wait)
    assert info.value.status_code is None


# -- Cancel-After --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "header"),
    [
        (5, "5s"),
        (90, "90s"),
        (90.0, "90s"),
        (300, "5m"),
        (5.2, "6s"),
        (3600, "1h"),
        (5400, "90m"),
        (timedelta(minutes=5), "5m"),
        ("5m", "5m"),
        ("90s", "90s"),
        ("90", "90s"),
        (" 1H30M ", "90m"),
        ("1h30m45s", "5445s"),
        ("1.5m", "90s"),
        ("2h", "2h"),
    ],
)
def test_cancel_after_header(value, header):
    """Durations in every accepted form render as whole seconds, minutes or hours."""
    assert cancel_after_header(value) == header


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (4, "minimum"),
        (4.99, "minimum"),
        ("4s", "minimum"),
        (timedelta(seconds=1), "minimum"),
        ("", "not a duration"),
        ("5 minutes", "not a duration"),
        ("m", "not a duration"),
        (True, "bool"),
        (float("inf"), "not finite"),
        (float("nan"), "not finite"),
        ([5], "list"),
    ],
)
def test_cancel_after_invalid(value, why):
    """Bad or too-short durations raise ValidationError saying how to write one."""
    with pytest.raises(ValidationError, match=why) as info:
        parse_cancel_after(value)
    assert "'90s'" in str(info.value)


# -- build_create ----------------------------------------------------------------------------------


def test_create_official_model():
    """owner/name posts to the models endpoint with just the input."""
    req = build_create("meta/meta-llama-3-8b-instruct", {"prompt": "hi"}, wait=10)
    assert req == Request(
        method="POST",
        path="/v1/models/meta/meta-llama-3-8b-instruct/predictions",
        headers={"Prefer": "wait=10"},
        json={"input": {"prompt": "hi"}},
    )


def test_create_model_with_version():
    """owner/name:version posts to /v1/predictions with the bare version id."""
    req = build_create(f"stability-ai/sdxl:{VERSION}", {"prompt": "x"})
    assert req.path == "/v1/predictions"
    assert req.json == {"version": VERSION, "input": {"prompt": "x"}}


def test_create_bare_version():
    """A bare version posts to /v1/predictions with that version."""
    req = build_create(VERSION, {})
    assert (req.path, req.json) == ("/v1/predictions", {"version": VERSION, "input": {}})


def test_create_deployment():
    """A Deployment posts to the deployments endpoint."""
    req = build_create(Deployment("acme/my-dep"), {"a": 1})
    assert req.path == "/v1/deployments/acme/my-dep/predictions"
    assert req.json == {"input": {"a": 1}}


def test_create_default_wait_is_60():
    """The default wait is the server's maximum."""
    assert build_create("a/b", {}).headers == {"Prefer": "wait=60"}


def test_create_without_wait_has_no_prefer():
    """wait=False sends no Prefer header."""
    assert "Prefer" not in build_create("a/b", {}, wait=False).headers


def test_create_with_cancel_after():
    """cancel_after becomes a Cancel-After header."""
    assert build_create("a/b", {}, cancel_after="5m").headers["Cancel-After"] == "5m"


def test_create_with_webhook():
    """webhook and a de-duplicated events filter go into the body."""
    req = build_create(
        "a/b",
        {},
        webhook="https://example.com/hook",
        webhook_events_filter=("start", "completed", "start"),
    )
    assert req.json["webhook"] == "https://example.com/hook"
    assert req.json["webhook_events_filter"] == ["start", "completed"]


def test_create_input_is_copied():
    """The body holds a copy of the input, so later mutation does not leak in."""
    data = {"prompt": "x"}
    req = build_create("a/b", data)
    data["prompt"] = "y"
    assert req.json["input"] == {"prompt": "x"}


@pytest.mark.parametrize("bad", [None, ["prompt"], "prompt"])
def test_create_input_must_be_mapping(bad):
    """A non-mapping input raises ValidationError."""
    with pytest.raises(ValidationError, match="input must be a mapping"):
        build_create("a/b", bad)


def test_create_input_keys_must_be_strings():
    """Non-string input names are refused."""
    with pytest.raises(ValidationError, match="input names must be strings"):
        build_create("a/b", {1: "x"})


@pytest.mark.parametrize("bad", ["ftp://x", "example.com/hook", 5])
def test_create_bad_webhook(bad):
    """A webhook must be an http(s) URL."""
    with pytest.raises(ValidationError, match="webhook must be"):
        build_create("a/b", {}, webhook=bad)


def test_create_events_filter_string_is_refused():
    """A bare string is not a list of events."""
    with pytest.raises(ValidationError, match="must be a list of events"):
        build_create("a/b", {}, webhook_events_filter="completed")


def test_create_unknown_event_is_refused():
    """An unknown event name is refused and the valid ones listed."""
    with pytest.raises(
        ValidationError, match=r"unknown webhook event 'done'.*completed, logs, output, start"
    ):
        build_create("a/b", {}, webhook_events_filter=["done"])


def test_create_bad_ref_raises_before_anything_else():
    """The reference is checked first."""
    with pytest.raises(ValidationError, match="invalid model reference"):
        build_create("nope", {"a": 1})


# -- get, cancel, list ----------------------------------------------------------------------------


def test_build_get():
    """GET /v1/predictions/{id}."""
    assert build_get("gm3qorzdhgbfurvjtvhg6dckhu") == Request(
        method="GET", path="/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"
    )


def test_build_cancel():
    """POST /v1/predictions/{id}/cancel."""
    assert build_cancel("abc") == Request(method="POST", path="/v1/predictions/abc/cancel")


@pytest.mark.parametrize("bad", ["", "../models", "a/b", "a?b", None, "x" * 200])
def test_bad_prediction_id(bad):
    """An id that would change the path is refused."""
    with pytest.raises(ValidationError, match="invalid prediction id"):
        build_get(bad)


def test_resolve_next_url_same_host():
    """A cursor on the API host is followed as is."""
    url = "https://api.replicate.com/v1/predictions?cursor=abc"
    assert resolve_next_url(url, "https://api.replicate.com") == url


def test_resolve_next_url_upgrades_scheme():
    """A cursor with http:// (a known docs typo) is followed over the API root's scheme."""
    assert (
        resolve_next_url(
            "http://api.replicate.com/v1/predictions?cursor=abc", "https://api.replicate.com/v1"
        )
        == "https://api.replicate.com/v1/predictions?cursor=abc"
    )


def test_resolve_next_url_explicit_default_port():
    """An explicit default port matches the API root."""
    assert (
        resolve_next_url(
            "https://api.replicate.com:443/v1/predictions?cursor=a", "https://api.replicate.com"
        )
        == "https://api.replicate.com/v1/predictions?cursor=a"
    )


def test_resolve_next_url_loopback_port():
    """The emulator's host and port are matched exactly."""
    assert (
        resolve_next_url("http://127.0.0.1:8765/v1/predictions?cursor=a", "http://127.0.0.1:8765")
        == "http://127.0.0.1:8765/v1/predictions?cursor=a"
    )


def test_resolve_next_url_relative():
    """A relative cursor is resolved against the API root."""
    assert resolve_next_url("/v1/predictions?cursor=a", "http://127.0.0.1:8765") == (
        "http://127.0.0.1:8765/v1/predictions?cursor=a"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/v1/predictions?cursor=a",
        "https://api.replicate.com:8443/v1/predictions",
        "http://127.0.0.1:9999/v1/predictions",
        "v1/predictions",
    ],
)
def test_resolve_next_url_refuses_other_hosts(url):
    """A cursor elsewhere raises DecodeError: the token would go there."""
    with pytest.raises(DecodeError):
        resolve_next_url(
            url, "https://api.replicate.com" if "127" not in url else "http://127.0.0.1:8765"
        )


# -- timeouts -------------------------------------------------------------------------------------


def test_create_read_timeout_follows_wait():
    """A create's read timeout is its wait plus the margin."""
    assert create_read_timeout(60, Timeouts()) == 65.0


def test_create_read_timeout_true_is_60():
    """wait=True is 60 s."""
    assert create_read_timeout(True, Timeouts(wait_margin=1)) == 61.0


def test_create_read_timeout_never_below_read():
    """A short wait keeps the ordinary read timeout."""
    assert create_read_timeout(1, Timeouts(read=30)) == 30.0


def test_create_read_timeout_without_wait():
    """wait=False uses the ordinary read timeout."""
    assert create_read_timeout(False, Timeouts(read=12)) == 12.0
