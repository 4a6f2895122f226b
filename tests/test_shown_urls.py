# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""How a URL is shown in a message: one rule for API calls, downloads, Redis and PostgreSQL.

Signed URLs keep their signature in the query, Redis and database URLs a password before the
host: neither may reach an error message or a log line.
"""

from __future__ import annotations

import pytest

from replicate_async._urls import display_url, redact_urls


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # the API, and a loopback server: the port stays (it tells two servers apart)
        (
            "https://api.replicate.com/v1/predictions?cursor=abc",
            "https://api.replicate.com/v1/predictions",
        ),
        ("http://127.0.0.1:8123/v1/files/f1#part", "http://127.0.0.1:8123/v1/files/f1"),
        # a signed download: no signature
        (
            "https://replicate.delivery/xezq/out.png?X-Amz-Signature=0123456789abcdef&X-Amz-Expires=3600",
            "https://replicate.delivery/xezq/out.png",
        ),
        # credentials never
        ("redis://:s3cret@redis.internal:6379/0", "redis://redis.internal:6379/0"),
        (
            "postgresql://batch:pw@db.example.com/jobs?batch=nightly",
            "postgresql://db.example.com/jobs",
        ),
        ("rediss://user:pw@[::1]:6380/2", "rediss://[::1]:6380/2"),
        ("unix:///run/redis/redis.sock?db=0&password=pw", "unix:///run/redis/redis.sock"),
        # what is not quite a URL still loses its secrets
        ("http://user:pw@[::1/x?sig=1", "http://[::1/x"),
        ("http://host:notaport/path?q=1", "http://host/path"),
        ("data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,..."),
    ],
)
def test_a_url_is_shown_without_its_secrets(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_urls_inside_a_message_lose_their_query_and_credentials() -> None:
    """An error message from below (aiohttp's, httpx's) may quote the URL it failed on."""
    message = (
        "Cannot connect to host https://u:p@files.example.com/a.bin?X-Amz-Signature=deadbeef "
        "and http://127.0.0.1:9/v1/x#frag"
    )
    assert redact_urls(message) == (
        "Cannot connect to host https://files.example.com/a.bin and http://127.0.0.1:9/v1/x"
    )
