# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Which URLs the library fetches without the API token, and how they are shown and decoded.

Only ``https://`` and ``data:`` URLs are fetched; plain ``http://`` only on loopback hosts,
for local servers and the emulator. Signed URLs keep secrets in their query, so errors show
a URL through :func:`display_url`, which drops the query and fragment.

Package API: :func:`display_url`, :func:`redact_urls`, :func:`is_loopback`, :func:`check_url`,
:func:`is_file_url`, :func:`decode_data_url`, :func:`data_content_type`.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import unicodedata
import urllib.parse
from typing import Final

from .exceptions import DecodeError, UnsupportedURLError

# The query and fragment of any absolute URL, and its user:password@ part: signed URLs
# carry their signature in the query, and none of it belongs in a message.
_URL_QUERY: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*")
_USERINFO: Final = re.compile(r"(://)[^/\s@'\"<>]*@")

__all__ = [
    "LOOPBACK_HOSTS",
    "check_url",
    "data_content_type",
    "decode_data_url",
    "display_url",
    "is_file_url",
    "is_loopback",
    "redact_urls",
]

#: Hosts for which plain ``http://`` is accepted: local test servers and the emulator.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

_DEFAULT_DATA_TYPE: Final = "text/plain;charset=US-ASCII"

# An ASCII URL's whitespace and control characters (C0, space, DEL): found by one search
# instead of a look-up of every character's Unicode category.
_ASCII_SPACE_OR_CONTROL: Final = re.compile(r"[\x00-\x20\x7f]")
# A host name httpx takes as it is (lower-case letters, digits and hyphens in dot-separated
# labels, with a letter somewhere): nothing for its IDNA or IP-address checks to refuse.
_PLAIN_HOST: Final = re.compile(r"(?=[a-z0-9.-]*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?")
# httpx's own test for an IPv4-style host (its dots match any character): such a host must
# be an IPv4 address.
_IPV4_STYLE: Final = re.compile(r"^[0-9]+.[0-9]+.[0-9]+.[0-9]+$")
# The longest URL httpx parses.
_HTTPX_MAX_URL: Final = 65_536


def display_url(url: str) -> str:
    """A URL fit for a message: its scheme, host, port and path; never its credentials, query
    or fragment (signed URLs keep secrets in the query, Redis and database URLs a password
    before the host).

    Args:
        url: Any URL, ``data:`` URIs included (shown up to their first comma).
    """
    if url[:5].lower() == "data:":
        return url[: url.find(",") + 1] + "..." if "," in url else "data:..."
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket: cut at the query, drop the credentials
        return _USERINFO.sub(r"\1", url.split("?", 1)[0].split("#", 1)[0])
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:  # not a number: the host alone
        port = None
    netloc = host if port is None else f"{host}:{port}"
    if parts.scheme and url[len(parts.scheme) :].startswith("://"):
        # As written: urlunsplit drops the // of a scheme it does not know with no host
        # (``unix:///run/redis.sock``).
        return f"{parts.scheme}://{netloc}{parts.path}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")) or url[:40]


def redact_urls(text: str) -> str:
    """*text* (an error message from below) with every absolute URL in it cut at its query or
    fragment and without its credentials, as :func:`display_url` shows one URL."""
    return _USERINFO.sub(r"\1", _URL_QUERY.sub(r"\1", text))


def is_loopback(host: str) -> bool:
    """Whether *host* is one of the loopback names or addresses we allow over plain http.

    Args:
        host: A URL's host name or IP address, without brackets.
    """
    host = host.lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: str) -> str | None:  # noqa: PLR0911  (one early return per rule)
    """Why *url* may not be fetched, or None when it may."""
    if url[:5].lower() == "data:":
        return None if "," in url else "a data: URL needs a ',' before its data"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return "the URL is malformed"
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        shown = f"'{scheme}://'" if scheme else "a URL without a scheme"
        return f"only https:// and data: URLs are downloaded, not {shown}"
    if not host:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "URLs with embedded credentials are not downloaded"
    if _has_space_or_control(url):
        return "the URL contains whitespace or control characters"
    if scheme == "http" and not is_loopback(host):
        return "plain http:// is only allowed for loopback hosts (127.0.0.1, localhost, ::1); use https://"
    if _is_plain_host(host) and len(url) <= _HTTPX_MAX_URL:
        return None  # httpx would take it as it is (tests/test_file_url_checks.py checks that)
    import httpx  # noqa: PLC0415 - imported for an unusual host only, never by `import replicate_async`

    try:
        httpx.URL(url).host  # noqa: B018  (decoding the host raises on a bad IDNA label)
    except (httpx.InvalidURL, ValueError):  # e.g. an invalid IDNA host name
        return "the URL is malformed"
    return None


def _has_space_or_control(url: str) -> bool:
    """Whether *url* has a whitespace or control character (any Unicode one)."""
    if url.isascii():
        return _ASCII_SPACE_OR_CONTROL.search(url) is not None
    return any(c.isspace() or unicodedata.category(c) == "Cc" for c in url)


def _is_plain_host(host: str) -> bool:
    """Whether *host* (a URL's lower-cased host name) is one httpx's URL parser takes as it is:
    a plain DNS name (ASCII letters, digits and hyphens in dot-separated labels, no IDNA
    ``xn--`` label) or a valid IPv4 address (httpx's own test for an IPv4-shaped host). Any
    other host is checked by httpx itself (IDNA, IPv6 literals, percent-escapes).
    """
    if _IPV4_STYLE.match(host) is not None:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return _PLAIN_HOST.fullmatch(host) is not None and "xn--" not in host


def check_url(url: str) -> None:
    """Raise :class:`UnsupportedURLError` unless *url* may be fetched without the token.

    Args:
        url: The URL about to be fetched (or followed as a redirect).

    Raises:
        TypeError: When *url* is not a str.
        UnsupportedURLError: When the URL policy refuses it.
    """
    if not isinstance(url, str):
        raise TypeError(f"a file URL must be a str, got {type(url).__name__}")
    problem = _url_problem(url)
    if problem is not None:
        raise UnsupportedURLError(
            status_code=None, message=f"refusing to download {display_url(url)}: {problem}"
        )


def is_file_url(value: object) -> bool:
    """Tell whether *value* is a string naming a file this library downloads.

    True for ``https://`` URLs with a host, ``data:`` URIs, and ``http://`` URLs on
    loopback hosts. Anything else, such as text, ``file://`` or ``ftp://`` URLs, is False.

    Args:
        value: Any value from a prediction's output.

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        return False
    head = value[:8].lower()  # one slice for the three schemes (text is mostly rejected here)
    if head[:5] == "data:":
        return "," in value
    if head != "https://" and head[:7] != "http://":
        return False
    return _url_problem(value) is None


def _media_type(params: list[str]) -> str:
    """The media type from a ``data:`` URI's header parameters (``;base64`` already removed)."""
    return ";".join(params) if params[0] else _DEFAULT_DATA_TYPE


def decode_data_url(url: str) -> tuple[str, bytes]:
    """Decode a ``data:`` URI (RFC 2397) into its media type and bytes, without any request.

    Args:
        url: A ``data:`` URI that passed :func:`check_url`.

    Raises:
        DecodeError: When its base64 payload is invalid.
    """
    header, _, payload = url[5:].partition(",")
    params = [p.strip() for p in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = _media_type(params)
    raw = urllib.parse.unquote_to_bytes(payload)
    if not is_base64:
        return media_type, raw
    compact = b"".join(raw.split())
    compact += b"=" * (-len(compact) % 4)
    try:
        return media_type, base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(message=f"the output's data: URL has invalid base64 ({exc})") from exc


def data_content_type(url: str) -> str:
    """The media type declared by a ``data:`` URI, without decoding its payload.

    Args:
        url: A ``data:`` URI.
    """
    header = url[5:].partition(",")[0]
    params = [p.strip() for p in header.split(";")]
    if len(params) > 1 and params[-1].lower() == "base64":
        params.pop()
    return _media_type(params)
