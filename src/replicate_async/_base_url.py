# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The API root a client sends its token to, checked once when the client is made.

A base URL is ``scheme://host[:port]``, optionally followed by ``/`` or ``/v1``. Everything else
is refused with one ValueError naming where it came from (``base_url`` or
``REPLICATE_BASE_URL``): an unparseable URL, a port out of range, credentials (never echoed:
the token goes in a header), a query, a fragment or another path (each would break the URLs
built on it), and plain ``http://`` to a host that is not loopback, which would send the token
in clear, unless the caller opts in.

A ValueError, like the client's other settings, rather than our ValidationError: it is a
configuration mistake found before any request, while ValidationError describes a request's
input (an ``APIError`` with ``status_code`` and ``invalid_fields``).

Package API: :func:`normalise_base_url`, :func:`insecure_http_allowed`,
:data:`INSECURE_HTTP_ENV_VAR`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Final

from ._urls import is_loopback

if TYPE_CHECKING:
    import httpx

__all__ = ["INSECURE_HTTP_ENV_VAR", "insecure_http_allowed", "normalise_base_url"]

INSECURE_HTTP_ENV_VAR: Final = "REPLICATE_ALLOW_INSECURE_HTTP"
"""Set to ``1`` (or ``true``, ``yes``, ``on``) to allow plain http:// to a non-loopback host."""

_TRUTHY: Final = frozenset({"1", "true", "yes", "on"})
_API_PATHS: Final = frozenset({"", "/v1"})
_EXAMPLE: Final = "https://api.replicate.com"
_SHOWN: Final = 100
_BAD_PORT: Final = "has an invalid port (give 1 to 65535)"


def _shown(url: str) -> str:
    """*url* for an error message: no credentials, query or fragment, at most 100 characters."""
    head = url.partition("#")[0]
    head, query, _ = head.partition("?")
    scheme, sep, rest = head.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rpartition("@")[2]
        head = f"{scheme}{sep}{authority}{slash}{path}"
    shown = head + ("?..." if query else "")
    return shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "..."


def _split(url: str) -> urllib.parse.SplitResult:
    """*url* split, its port and host parsed; ValueError saying why it cannot be."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError("is not a valid URL (it contains spaces or control characters)")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port out of range or not a number)
        parts.hostname  # noqa: B018
    except ValueError:
        # urllib's own message may quote the URL, which may hold credentials: say it anew.
        authority = url.partition("://")[2].split("/")[0].split("?")[0].split("#")[0]
        host_port = authority.rpartition("@")[2]
        if "[" not in host_port and host_port.count(":") == 1:
            raise ValueError(_BAD_PORT) from None
        raise ValueError("is not a valid URL") from None
    return parts


def _problem(url: str, parts: urllib.parse.SplitResult) -> str | None:  # noqa: PLR0911
    """Why *parts* is not an API root (credentials aside), or None; one early return per rule."""
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return "must be an http(s) URL"
    if parts.port == 0:
        return _BAD_PORT
    if parts.query or url.endswith("?"):
        return "must not have a query string"
    if parts.fragment or url.endswith("#"):
        return "must not have a fragment"
    if parts.path.rstrip("/") not in _API_PATHS:
        return f"must not have a path ({parts.path!r}); only '/v1' may follow the host"
    if not _valid_host(parts.hostname, bracketed="[" in parts.netloc):
        return "is not a valid URL"
    return None


# What a host name may hold (letters, digits, '-', '.', '_'): what aiohttp and httpx both parse.
_HOST_RE: Final = re.compile(r"[A-Za-z0-9._-]+")


def _valid_host(host: str, *, bracketed: bool) -> bool:
    """Whether *host* is one the backends parse: an IPv6 address in brackets, an ASCII host
    name, or an international one IDNA encodes (checked without importing an HTTP library:
    a client is made in a few milliseconds)."""
    if bracketed:
        try:
            ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return False
        return True
    if host.isascii():
        return _HOST_RE.fullmatch(host) is not None
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def normalise_base_url(
    base_url: str, *, source: str = "base_url", allow_insecure_http: bool = False
) -> str:
    """The API root, checked: ``scheme://host[:port]`` (a trailing ``/`` or ``/v1`` dropped).

    Args:
        base_url: The URL given.
        source: Where it came from, named in the error: ``"base_url"`` or the variable.
        allow_insecure_http: Allow plain ``http://`` to a host that is not loopback.

    Raises:
        ValueError: One line saying what is wrong and what to give, never the URL's
            credentials, query or fragment.
    """
    if not isinstance(base_url, str):
        raise TypeError(f"{source} must be a str like {_EXAMPLE!r}")
    url = base_url.strip()
    try:
        parts = _split(url)
        why = _problem(url, parts)
    except ValueError as exc:
        why = str(exc)
    if why is None and (parts.username is not None or parts.password is not None):
        raise ValueError(
            f"{source} must not contain credentials (user:password@); the API token is sent "
            "in a header: pass api_token= or set REPLICATE_API_TOKEN"
        )
    if why is not None:
        raise ValueError(
            f"{source} {why}; give the API root like {_EXAMPLE!r}, got {_shown(url)!r}"
        )
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_insecure_http and not is_loopback(host):
        raise ValueError(
            f"{source} uses plain http:// to {host!r}, which is not loopback, so the API token "
            "would travel in clear; use https://, or opt in with "
            f"AsyncClient(allow_insecure_http=True) or {INSECURE_HTTP_ENV_VAR}=1"
        )
    return f"{scheme}://{parts.netloc}"


def insecure_http_allowed(
    allow_insecure_http: bool,  # noqa: FBT001  (the client's keyword, passed on)
    transport: httpx.AsyncBaseTransport | None = None,
) -> bool:
    """Whether plain ``http://`` may go to any host.

    When the caller asked for it, when :data:`INSECURE_HTTP_ENV_VAR` is set to a true value,
    or when *transport* answers in this process (``httpx.ASGITransport``,
    ``httpx.MockTransport``), so nothing travels over a network.
    """
    if allow_insecure_http:
        return True
    if transport is not None:
        import httpx  # noqa: PLC0415 - the caller made an httpx transport: httpx is loaded

        if isinstance(transport, httpx.ASGITransport | httpx.MockTransport):
            return True
    return os.environ.get(INSECURE_HTTP_ENV_VAR, "").strip().lower() in _TRUTHY
