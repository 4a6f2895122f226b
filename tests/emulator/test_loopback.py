# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Over real HTTP on loopback (the `replicate_emulator` fixture): files, faults, control, stats."""

from __future__ import annotations

import time

import httpx
import pytest

from replicate_async.emulator import FaultRule, RateLimits


def run(http, model, payload, **headers):
    """Create a prediction with `Prefer: wait` and return the body."""
    response = http.post(
        f"/v1/models/{model}/predictions",
        json={"input": payload},
        headers={"Prefer": "wait", **headers},
    )
    return response.json()


def test_output_files_need_no_auth(http, replicate_emulator):
    """Image outputs are PNGs served without auth, publicly cacheable, and no Authorization seen."""
    body = run(http, "emulator/image", {"prompt": "x", "num_outputs": 2})
    responses = [httpx.get(url) for url in body["output"]]
    assert [r.content[:8] for r in responses] == [b"\x89PNG\r\n\x1a\n"] * 2
    assert responses[0].headers["cache-control"] == "public,max-age=3600"
    assert responses[0].headers["content-type"] == "image/png"
    assert replicate_emulator.stats()["authorization_seen_on_files"] is False


def test_authorization_on_file_request_is_recorded(http, replicate_emulator):
    """A file request carrying Authorization is counted."""
    body = run(http, "emulator/image", {"prompt": "x"})
    http.get(body["output"][0])
    assert replicate_emulator.stats()["file_requests_with_authorization"] == 1


def test_audio_and_video_files_are_valid(http, replicate_emulator):
    """musicgen serves a WAV, video-01 an MP4."""
    version = replicate_emulator.state.models["meta/musicgen"].version_id
    audio = http.post("/v1/predictions", json={"version": version, "input": {"duration": 1}}).json()
    video = http.post(
        "/v1/models/minimax/video-01/predictions", json={"input": {"prompt": "x"}}
    ).json()
    replicate_emulator.travel(1000)
    wav = httpx.get(http.get(f"/v1/predictions/{audio['id']}").json()["output"])
    mp4 = httpx.get(http.get(f"/v1/predictions/{video['id']}").json()["output"])
    assert (wav.content[:4], wav.content[8:12], wav.headers["content-type"]) == (
        b"RIFF",
        b"WAVE",
        "audio/wav",
    )
    assert (mp4.content[4:8], mp4.headers["content-type"]) == (b"ftyp", "video/mp4")


def test_unknown_file_is_404(http):
    """Unknown predictions and files are 404."""
    assert httpx.get(http.base_url.join("/delivery/nope/out-0.png")).status_code == 404


def test_injected_error_then_recovery(http, replicate_emulator):
    """A counted error rule answers 503 once, then the route works again."""
    replicate_emulator.set_faults(
        FaultRule(action="error", route="GET /v1/predictions", status=503, count=1)
    )
    statuses = [http.get("/v1/predictions").status_code for _ in range(2)]
    assert statuses == [503, 200]
    assert replicate_emulator.stats()["faults_injected"] == {"error": 1}


def test_accept_then_error_creates_the_prediction(http, replicate_emulator):
    """`accept_then_error` answers 500 although the prediction was created."""
    replicate_emulator.set_faults(FaultRule(action="accept_then_error", route="create"))
    response = http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    stats = replicate_emulator.stats()
    assert (response.status_code, stats["creates"], len(stats["prediction_ids"])) == (500, 1, 1)


def test_delayed_create_provokes_read_timeout(http, replicate_emulator):
    """A delayed create times the client out, yet the prediction exists."""
    replicate_emulator.set_faults(FaultRule(action="delay", route="create", delay=0.5))
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}}, timeout=0.1
        )
    assert replicate_emulator.stats()["creates"] == 1


#: A dropped connection ends in a FIN (no response) or, when the request was still partly
#: unread in the kernel's buffer, a reset: both are "closed without any response".
NO_RESPONSE = (httpx.RemoteProtocolError, httpx.ReadError)


def test_dropped_connection_gets_no_response(http, replicate_emulator):
    """A drop closes the connection without any response and without creating anything."""
    replicate_emulator.set_faults(FaultRule(action="drop", route="create", count=1))
    with pytest.raises(NO_RESPONSE):
        http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    assert replicate_emulator.stats()["creates"] == 0


def test_drop_after_handling_creates(http, replicate_emulator):
    """A drop with `after=True` handles the create first."""
    replicate_emulator.set_faults(FaultRule(action="drop", route="create", after=True, count=1))
    with pytest.raises(NO_RESPONSE):
        http.post("/v1/models/emulator/echo/predictions", json={"input": {"prompt": "x"}})
    assert replicate_emulator.stats()["creates"] == 1


def test_zero_rate_fault_never_fires(http, replicate_emulator):
    """A rule with rate 0 never fires."""
    replicate_emulator.set_faults(FaultRule(action="error", rate=0.0))
    assert http.get("/v1/predictions").status_code == 200


def test_error_after_handling_keeps_error_status(http, replicate_emulator):
    """`error` with `after=True` leaves an already failing response as it is."""
    replicate_emulator.set_faults(FaultRule(action="error", after=True))
    assert http.get("/v1/predictions/nope").status_code == 404


def test_faults_route_sets_rules(http, replicate_emulator):
    """`POST /_emulator/faults` switches faults for an out-of-process server."""
    response = httpx.post(
        f"{replicate_emulator.base_url}/_emulator/faults", json=[{"action": "error", "status": 502}]
    )
    assert response.json()["rules"][0]["status"] == 502
    assert http.get("/v1/predictions").status_code == 502


@pytest.mark.parametrize(
    "body", [{"rules": "x"}, [{"action": "nope"}], [{"action": "drop", "colour": 1}], "x"]
)
def test_faults_route_rejects_bad_rules(replicate_emulator, body):
    """Malformed fault rules are a 422."""
    assert (
        httpx.post(f"{replicate_emulator.base_url}/_emulator/faults", json=body).status_code == 422
    )


def test_stats_route(http, replicate_emulator):
    """`GET /_emulator/stats` reports creates, per-input counts and requests by route and status."""
    run(http, "emulator/echo", {"prompt": "s"})
    stats = httpx.get(f"{replicate_emulator.base_url}/_emulator/stats").json()
    assert stats["creates_by_input"] == {'{"prompt":"s"}': 1}
    assert stats["requests"]["POST /v1/models/{owner}/{name}/predictions"] == {"201": 1}
    assert stats["connections"] >= 1
    assert stats["peak_in_flight"] >= 1


def test_reset_route(http, replicate_emulator):
    """`POST /_emulator/reset` forgets everything."""
    run(http, "emulator/echo", {"prompt": "s"})
    httpx.post(f"{replicate_emulator.base_url}/_emulator/reset")
    assert replicate_emulator.stats()["creates"] == 0


def test_travel_route_expires_data(http, replicate_emulator):
    """`POST /_emulator/travel` moves the clock past retention."""
    body = run(http, "emulator/echo", {"prompt": "s"})
    httpx.post(f"{replicate_emulator.base_url}/_emulator/travel", json={"seconds": 4000})
    assert http.get(f"/v1/predictions/{body['id']}").json()["data_removed"] is True


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": True}, None])
def test_travel_route_rejects_bad_input(replicate_emulator, body):
    """Travel needs a non-negative number of seconds."""
    assert (
        httpx.post(f"{replicate_emulator.base_url}/_emulator/travel", json=body).status_code == 422
    )


def test_settings_route(http, replicate_emulator):
    """`POST /_emulator/settings` sets switches and rate limits."""
    response = httpx.post(
        f"{replicate_emulator.base_url}/_emulator/settings",
        json={
            "wait_returns_terminal": True,
            "rate_limits": {"create": {"per_minute": 60, "burst": 5}, "other": None},
        },
    )
    assert response.json()["wait_returns_terminal"] is True
    created = http.post(
        "/v1/models/emulator/echo/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Prefer": "wait"},
    )
    assert (created.json()["status"], created.headers["ratelimit-remaining"]) == ("succeeded", "4")
    assert "ratelimit-remaining" not in http.get("/v1/predictions").headers


@pytest.mark.parametrize(
    "body",
    [{"colour": 1}, {"rate_limits": {"nope": None}}, {"rate_limits": {"create": {"x": 1}}}, []],
)
def test_settings_route_rejects_bad_input(replicate_emulator, body):
    """Unknown switches or malformed limits are a 422."""
    assert (
        httpx.post(f"{replicate_emulator.base_url}/_emulator/settings", json=body).status_code
        == 422
    )


def test_fixture_resets_rate_limits(replicate_emulator):
    """Each test starts with the configured (real) limits."""
    assert replicate_emulator.state.rate_limits == RateLimits()


def test_configure_rejects_unknown_switch(replicate_emulator):
    """`configure` names unknown switches."""
    with pytest.raises(TypeError, match="colour"):
        replicate_emulator.configure(colour="red")


def test_set_rate_limits_through_server(http, replicate_emulator):
    """`set_rate_limits` applies on the server's loop."""
    replicate_emulator.set_rate_limits(RateLimits.unlimited())
    assert "ratelimit-remaining" not in http.get("/v1/predictions").headers


def test_travel_through_server(http, replicate_emulator):
    """`travel` moves the server's clock."""
    before = replicate_emulator.state.now()
    replicate_emulator.travel(100)
    assert replicate_emulator.state.now() - before >= 100


def test_wait_over_loopback_is_fast(http, replicate_emulator):
    """A zero-latency wait answers within a request's time (no scheduler round trip)."""
    start = time.perf_counter()
    for _ in range(20):
        run(http, "emulator/echo", {"prompt": "x"})
    assert time.perf_counter() - start < 2
