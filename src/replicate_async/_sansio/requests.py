"""Build requests: model-reference routing, headers, bodies. Pure: no I/O, no httpx."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs

from replicate_async._models import Deployment
from replicate_async.exceptions import DecodeError, ValidationError

if TYPE_CHECKING:
    from replicate_async._config import Timeouts

__all__ = [
    "NAME_PATTERN",
    "NAME_RE",
    "REF_HELP",
    "VERSION_ID_RE",
    "WEBHOOK_EVENTS",
    "ModelRef",
    "Request",
    "base_headers",
    "build_cancel",
    "build_create",
    "build_get",
    "cancel_after_header",
    "create_read_timeout",
    "parse_cancel_after",
    "parse_ref",
    "prefer_header",
    "resolve_next_url",
    "user_agent",
]

REF_HELP = (
    "write a model reference as 'owner/name' (an official model), "
    "'owner/name:<64-hex version id>', a bare 64-hex version id, or Deployment('owner/name')"
)
"""How model references are written, for error messages."""

WEBHOOK_EVENTS = frozenset({"start", "output", "logs", "completed"})
"""The events a webhook may ask for."""

NAME_PATTERN = r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9_])?"
"""An owner, model or deployment name, as Replicate allows it."""
NAME_RE = re.compile(NAME_PATTERN)
""":data:`NAME_PATTERN` compiled (match it with ``fullmatch``)."""
VERSION_ID_RE = re.compile(r"[0-9a-f]{64}")
"""A version id: 64 lowercase hex characters (match it with ``fullmatch``)."""
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_DURATION_RE = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?"
)
_MIN_CANCEL_AFTER = 5.0
_MAX_WAIT = 60
_DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.frozen(kw_only=True)
class Request:
    """An HTTP request, described without sending it.

    Args:
        method: ``"GET"``, ``"POST"``, ``"PATCH"``, ``"DELETE"`` or ``"QUERY"``.
        path: A path under the API root, e.g. ``"/v1/predictions"``, or an absolute URL
            (a pagination cursor, already checked by :func:`resolve_next_url`).
        headers: Headers for this request only; the client adds :func:`base_headers`.
        json: The JSON body, or None for no body.
        text: A ``text/plain`` body instead (``QUERY /v1/models`` takes its search so).
    """

    method: str
    path: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    json: Any = None
    text: str | None = None


@attrs.frozen(kw_only=True)
class ModelRef:
    """A parsed model reference.

    Args:
        kind: ``"model"`` (``owner/name``), ``"version"`` (``owner/name:version`` or a bare
            version id) or ``"deployment"``.
        owner: The owner, or None for a bare version id.
        name: The model or deployment name, or None for a bare version id.
        version: The 64-hex version id, for kind ``"version"``.
    """

    kind: Literal["model", "version", "deployment"]
    owner: str | None = None
    name: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.kind == "deployment":
            return f"Deployment('{self.owner}/{self.name}')"
        if self.owner is None:
            return str(self.version)
        if self.version is None:
            return f"{self.owner}/{self.name}"
        return f"{self.owner}/{self.name}:{self.version}"


def _bad_ref(ref: object, why: str) -> ValidationError:
    """The error for a malformed model reference."""
    shown = repr(ref) if isinstance(ref, str) else f"{type(ref).__name__} {ref!r}"
    return ValidationError(
        status_code=None, message=f"invalid model reference {shown[:120]} ({why}); {REF_HELP}"
    )


def _owner_name(text: str, original: object) -> tuple[str, str]:
    """Split and check ``owner/name``."""
    owner, sep, name = text.partition("/")
    if not sep or "/" in name:
        raise _bad_ref(original, "expected exactly one '/'")
    for part in (owner, name):
        if not NAME_RE.fullmatch(part):
            raise _bad_ref(
                original,
                "owner and name use lowercase letters, digits, '-', '_' and '.'",
            )
    return owner, name


def parse_ref(ref: str | Deployment | ModelRef) -> ModelRef:
    """Parse a model reference; raise ValidationError (status_code None) saying how refs are written.

    ``owner/name`` runs an official model; ``owner/name:<version>`` and a bare 64-hex
    version id run that version; ``Deployment("owner/name")`` runs a deployment.
    """
    if isinstance(ref, ModelRef):
        return ref
    if isinstance(ref, Deployment):
        if not isinstance(ref.name, str):
            raise _bad_ref(ref, "a deployment name is a string")
        owner, name = _owner_name(ref.name.strip(), ref)
        return ModelRef(kind="deployment", owner=owner, name=name)
    if not isinstance(ref, str):
        raise _bad_ref(ref, "expected a string or a Deployment")
    return _parse_text(ref)


@functools.lru_cache(maxsize=256)
def _parse_text(ref: str) -> ModelRef:
    """Parse a text reference (cached: a batch names the same few models again and again)."""
    text = ref.strip()
    if not text:
        raise _bad_ref(ref, "it is empty")
    if VERSION_ID_RE.fullmatch(text):
        return ModelRef(kind="version", version=text)
    model, colon, version = text.partition(":")
    owner, name = _owner_name(model, ref)
    if not colon:
        return ModelRef(kind="model", owner=owner, name=name)
    if not VERSION_ID_RE.fullmatch(version):
        raise _bad_ref(ref, "the part after ':' must be a 64-character lowercase hex version id")
    return ModelRef(kind="version", owner=owner, name=name, version=version)


def user_agent(version: str) -> str:
    """The User-Agent value, ``replicate-async/<version>``."""
    return f"replicate-async/{version}"


def base_headers(token: str, user_agent: str) -> dict[str, str]:
    """Headers for every API request: Authorization (Bearer), User-Agent, Accept.

    Pass the token through :func:`~replicate_async._sansio.responses.check_token` first.
    These go only to the API, never to file hosts (promise 5).
    """
    return {
        "Authorization": f"Bearer {token}",
        "User-Agent": user_agent,
        "Accept": "application/json",
    }


def prefer_header(wait: int | bool) -> str | None:  # noqa: FBT001  (wait=False is the API's spelling)
    """The ``Prefer`` value for ``wait``: ``"wait=N"`` for 1..60, None for False.

    ``True`` means the server's maximum, 60 s. Anything else raises ValidationError.
    """
    value: object = wait  # checked at runtime: callers may pass anything
    if value is False:
        return None
    if value is True:
        return f"wait={_MAX_WAIT}"
    if not isinstance(value, int) or not 1 <= value <= _MAX_WAIT:
        raise ValidationError(
            status_code=None,
            message=(
                f"wait must be an integer number of seconds from 1 to {_MAX_WAIT}, "
                f"or False for no wait; got {wait!r}"
            ),
        )
    return f"wait={wait}"


def _bad_cancel_after(value: object, why: str) -> ValidationError:
    """The error for a bad Cancel-After value."""
    return ValidationError(
        status_code=None,
        message=(
            f"invalid cancel_after {value!r} ({why}); give seconds (int or float), a timedelta, "
            f"or a duration like '90s', '5m' or '1h30m', at least {_MIN_CANCEL_AFTER:g} s"
        ),
    )


def parse_cancel_after(value: float | str | timedelta) -> float:
    """Seconds of a Cancel-After value: a number of seconds, a timedelta, or ``"1h30m45s"``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise _bad_cancel_after(value, "a bool is not a duration")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            match = _DURATION_RE.fullmatch(text)
            if not text or match is None:
                raise _bad_cancel_after(value, "not a duration") from None
            seconds = (
                float(match["h"] or 0) * 3600 + float(match["m"] or 0) * 60 + float(match["s"] or 0)
            )
    else:
        raise _bad_cancel_after(value, f"a {type(value).__name__} is not a duration")
    if not math.isfinite(seconds):
        raise _bad_cancel_after(value, "not finite")
    if seconds < _MIN_CANCEL_AFTER:
        raise _bad_cancel_after(value, f"below the server's minimum of {_MIN_CANCEL_AFTER:g} s")
    return seconds


def cancel_after_header(value: float | str | timedelta) -> str:
    """The ``Cancel-After`` value: whole seconds rounded up, as ``"90s"``, ``"5m"`` or ``"2h"``.

    Rounding up keeps the server's deadline at or after the caller's own.
    """
    seconds = math.ceil(parse_cancel_after(value) - 1e-9)
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _check_input(input: object) -> dict[str, Any]:  # noqa: A002  (the API's field name)
    """A prediction input must be a JSON object with string keys."""
    if not isinstance(input, Mapping):
        raise ValidationError(
            status_code=None,
            message=f"input must be a mapping of input names to values, got {type(input).__name__}",
        )
    bad = [k for k in input if not isinstance(k, str)]
    if bad:
        raise ValidationError(
            status_code=None, message=f"input names must be strings, got {bad[0]!r}"
        )
    return dict(input)


def _check_webhook(webhook: object) -> str:
    """A webhook is an http(s) URL."""
    if not isinstance(webhook, str) or urlsplit(webhook).scheme not in {"http", "https"}:
        raise ValidationError(
            status_code=None, message=f"webhook must be an https:// URL, got {webhook!r}"
        )
    return webhook


def _check_events(events: object) -> list[str]:
    """Webhook events are a sequence drawn from start, output, logs and completed."""
    allowed = ", ".join(sorted(WEBHOOK_EVENTS))
    if isinstance(events, str) or not isinstance(events, Sequence | frozenset | set):
        raise ValidationError(
            status_code=None,
            message=f"webhook_events_filter must be a list of events ({allowed}), got {events!r}",
        )
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(
            status_code=None,
            message=f"unknown webhook event {unknown[0]!r}; the events are {allowed}",
        )
    return list(dict.fromkeys(events))


def build_create(
    ref: str | Deployment | ModelRef,
    input: Mapping[str, Any],  # noqa: A002  (the API's field name)
    *,
    wait: int | Literal[False] = 60,
    cancel_after: float | str | timedelta | None = None,
    webhook: str | None = None,
    webhook_events_filter: Sequence[str] | None = None,
) -> Request:
    """The request that creates a prediction, routed by the kind of model reference.

    ``owner/name`` goes to ``POST /v1/models/{owner}/{name}/predictions``; a version (bare or
    ``owner/name:version``) to ``POST /v1/predictions`` with ``version`` in the body; a
    deployment to ``POST /v1/deployments/{owner}/{name}/predictions``.
    """
    parsed = parse_ref(ref)
    body: dict[str, Any] = {}
    if parsed.kind == "version":
        body["version"] = parsed.version
        path = "/v1/predictions"
    elif parsed.kind == "deployment":
        path = f"/v1/deployments/{parsed.owner}/{parsed.name}/predictions"
    else:
        path = f"/v1/models/{parsed.owner}/{parsed.name}/predictions"
    body["input"] = _check_input(input)
    if webhook is not None:
        body["webhook"] = _check_webhook(webhook)
    if webhook_events_filter is not None:
        body["webhook_events_filter"] = _check_events(webhook_events_filter)
    headers: dict[str, str] = {}
    prefer = prefer_header(wait)
    if prefer is not None:
        headers["Prefer"] = prefer
    if cancel_after is not None:
        headers["Cancel-After"] = cancel_after_header(cancel_after)
    return Request(method="POST", path=path, headers=headers, json=body)


def _check_id(prediction_id: object) -> str:
    """A prediction id is a short token of URL-safe characters (it becomes a path segment)."""
    if not isinstance(prediction_id, str) or not _ID_RE.fullmatch(prediction_id):
        raise ValidationError(
            status_code=None,
            message=f"invalid prediction id {prediction_id!r}: expected letters and digits like 'gm3qorzdhgbfurvjtvhg6dckhu'",
        )
    return prediction_id


def build_get(prediction_id: str) -> Request:
    """``GET /v1/predictions/{id}``."""
    return Request(method="GET", path=f"/v1/predictions/{_check_id(prediction_id)}")


def build_cancel(prediction_id: str) -> Request:
    """``POST /v1/predictions/{id}/cancel``."""
    return Request(method="POST", path=f"/v1/predictions/{_check_id(prediction_id)}/cancel")


def resolve_next_url(next_url: str, base_url: str) -> str:
    """Check that a pagination link points at the API itself before the token is sent there.

    The link must have the API root's host and port; its scheme is taken from the API root,
    so a stray ``http://`` never carries the token in clear. A relative link is resolved
    against the root. Anything else raises DecodeError.
    """
    base = urlsplit(base_url)
    link = urlsplit(next_url)
    if not link.netloc:
        if not link.path.startswith("/"):
            raise DecodeError(message=f"unusable pagination link {next_url[:120]!r}")
        return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))
    base_port = base.port or _DEFAULT_PORTS.get(base.scheme)
    if link.hostname != base.hostname or link.port not in {None, base_port}:
        raise DecodeError(
            message=(
                f"refusing to follow a pagination link to {link.hostname!r}: "
                f"the API token is only sent to {base.hostname!r}"
            )
        )
    return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))


def create_read_timeout(wait: int | bool, timeouts: Timeouts) -> float:  # noqa: FBT001
    """Read timeout of a create: at least ``wait`` + margin, since the server holds it that long.

    Never below the ordinary read timeout: a read timeout on a create leaves its fate
    unknown (it cannot be retried), so a create gets at least as long as any other call.
    """
    if wait is False:
        return timeouts.read
    held = _MAX_WAIT if wait is True else wait
    return max(timeouts.read, held + timeouts.wait_margin)
