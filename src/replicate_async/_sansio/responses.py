"""Decode replies: (status, headers, body) to a model or an error. Pure: no I/O, no httpx.

The status-to-class mapping lives here (like gidgethub's ``decipher_response``).
"""

from __future__ import annotations

import http
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from replicate_async._converters import structure
from replicate_async._models import Deployment, Prediction
from replicate_async._sansio.requests import REF_HELP, ModelRef, parse_ref
from replicate_async.exceptions import (
    APIError,
    AuthenticationError,
    ClientError,
    DecodeError,
    InvalidField,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    problem_text,
)

__all__ = [
    "TOKEN_ENV_VAR",
    "check_token",
    "decode",
    "decode_prediction",
    "error_for",
    "header",
    "retry_after",
]

T = TypeVar("T")

TOKEN_ENV_VAR = "REPLICATE_API_TOKEN"  # noqa: S105  (a variable name, not a secret)
"""The environment variable holding the API token."""

_TOKEN_HINT = f"check {TOKEN_ENV_VAR} or the api_token= argument"
# A 5xx to a create does not say the prediction was not made: the server may have accepted it
# and failed afterwards. The create is never re-sent (promise 1); the caller must look first.
_CREATE_5XX_HINT = (
    "the prediction may have been created and billed, so the create was not retried: "
    "check client.predictions.list() before creating it again"
)
_SNIPPET = 200

_ERROR_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, case-insensitively, from any mapping (httpx.Headers or a dict)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def check_token(token: str | None) -> str:
    """Return the token without surrounding whitespace; raise AuthenticationError if unusable.

    Raised before any request (``status_code`` None). The message names the environment
    variable and the argument, and never contains the token.
    """
    value: object = token  # callers pass os.environ.get(...) or anything a user typed
    if not isinstance(value, str) or not value.strip():
        raise AuthenticationError(
            status_code=None,
            message=(
                f"no Replicate API token: set the {TOKEN_ENV_VAR} environment variable "
                "or pass api_token= to the client"
            ),
        )
    cleaned = value.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in cleaned):
        raise AuthenticationError(
            status_code=None,
            message=(
                f"the Replicate API token contains spaces or control characters; {_TOKEN_HINT}"
            ),
        )
    return cleaned


def _text(body: bytes | str) -> str:
    """Body bytes as text, replacing undecodable bytes."""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _snippet(body: bytes | str) -> str:
    """A short readable excerpt of a body, for messages."""
    text = " ".join(_text(body).split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."


def _where(status_code: int, method: str | None, path: str | None) -> str:
    """``HTTP 201 on POST /v1/predictions`` (the known parts)."""
    where = " ".join(p for p in (method, path.split("?", 1)[0] if path else None) if p)
    return f"HTTP {status_code} on {where}" if where else f"HTTP {status_code}"


# The scanner of a default (strict) JSONDecoder, json.loads' own: it reads one value at an
# index (typeshed does not list the attribute JSONDecoder sets in __init__).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"  # the whitespace JSON allows around a value


def _parse_json(body: bytes | str) -> Any:
    """``json.loads(body)``, faster for the API's replies (UTF-8 bytes, a value first).

    json.loads sniffs the encoding of bytes (UTF-16 and UTF-32 too, a BOM) and matches
    whitespace before and after the value with regular expressions; the fast way decodes
    UTF-8 and scans one value from the first character, with JSON's whitespace after it.
    Anything it does not take (another encoding, a BOM, whitespace first, bytes that are not
    UTF-8, text that is not JSON) goes to json.loads, so every value and error is its own.
    """
    if type(body) is bytes:
        try:
            text = body.decode()
            value, end = _SCAN(text, 0)
        except (ValueError, StopIteration):  # UnicodeDecodeError, JSONDecodeError; no value
            pass
        else:
            if end == len(text) or not text[end:].strip(_JSON_SPACE):
                return value
    return json.loads(body)


def decode(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes | str,
    cls: type[T],
    *,
    method: str | None = None,
    path: str | None = None,
    ref: str | Deployment | ModelRef | None = None,
    create: bool = False,
) -> T:
    """Decode a JSON reply into ``cls``, or raise the error it stands for.

    A status >= 400 raises :func:`error_for`'s error (*create*: the reply answers a create);
    a non-2xx status, an empty or non-JSON body, or JSON of the wrong shape raises
    DecodeError with a readable line.
    """
    if status_code >= 400:  # noqa: PLR2004
        raise error_for(
            status_code, headers, body, method=method, path=path, ref=ref, create=create
        )
    if not 200 <= status_code < 300:  # noqa: PLR2004
        raise DecodeError(
            message=f"{_where(status_code, method, path)}: unexpected status for this call",
            status_code=status_code,
        )
    # isspace: the same whitespace as strip() without copying the body, and it stops at the
    # first other character.
    if not body or body.isspace():
        raise DecodeError(
            message=f"{_where(status_code, method, path)}: the reply has an empty body where JSON was expected",
            status_code=status_code,
        )
    try:
        data = _parse_json(body)
    except RecursionError as exc:  # a hostile reply: the parser recurses per level
        raise DecodeError(
            message=f"{_where(status_code, method, path)}: the reply's JSON is nested too deeply to decode",
            status_code=status_code,
        ) from exc
    except ValueError as exc:
        kind = header(headers, "content-type") or "no content type"
        raise DecodeError(
            message=f"{_where(status_code, method, path)}: the reply is not JSON ({kind}): {_snippet(body)!r}",
            status_code=status_code,
        ) from exc
    try:
        return structure(data, cls)
    except DecodeError as exc:
        raise DecodeError(
            message=f"{_where(status_code, method, path)}: {exc.message}", status_code=status_code
        ) from exc.__cause__


def decode_prediction(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    method: str | None = None,
    path: str | None = None,
    ref: str | Deployment | ModelRef | None = None,
    create: bool = False,
) -> Prediction:
    """Decode a reply carrying one prediction (create, get, cancel), or raise its error.

    *create* says the reply answers a create, whose 5xx may hide an accepted prediction.
    """
    return decode(
        status_code, headers, body, Prediction, method=method, path=path, ref=ref, create=create
    )


def _decoded_body(body: bytes | str | None) -> Any:
    """The body as JSON when it parses, else as text, else None when empty."""
    if not body:
        return None
    try:
        # strict=False: an error body with a raw newline inside a string is still readable.
        return json.loads(body, strict=False)
    except (ValueError, RecursionError):  # too deep to parse: shown as text
        return _text(body)


def _str_or_none(value: object) -> str | None:
    """A problem member as a string (servers are not always strict about types)."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _invalid_fields(value: object) -> tuple[InvalidField, ...]:
    """The ``invalid_fields`` of a 422 problem, skipping entries that are not objects."""
    if not isinstance(value, list):
        return ()
    return tuple(
        InvalidField(
            type=_str_or_none(item.get("type")) or "",
            field=_str_or_none(item.get("field")) or "",
            description=_str_or_none(item.get("description")) or "",
        )
        for item in value
        if isinstance(item, Mapping)
    )


def _not_found_text(ref: str | Deployment | ModelRef, problem: str) -> str:
    """The 404 line for a create: which reference was not found, and how refs are written."""
    try:
        parsed = parse_ref(ref)
    except ValidationError:
        return f"model reference {ref!r} was not found ({problem}); {REF_HELP}"
    if parsed.kind == "deployment":
        return (
            f"deployment '{parsed.owner}/{parsed.name}' was not found ({problem}); "
            "check the deployment's owner and name, and that the token's account can use it"
        )
    if parsed.kind == "model":
        return (
            f"model '{parsed}' was not found ({problem}); it may not exist or be private, "
            "and 'owner/name' alone runs only official models: pin a version of any other model "
            "as 'owner/name:<64-hex version id>'"
        )
    return f"model version '{parsed}' was not found ({problem}); {REF_HELP}"


def _phrase(status_code: int) -> str | None:
    """The standard reason phrase of a status code, if it has one."""
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return None


def _error_class(status_code: int) -> type[APIError]:
    """The error class for a status code."""
    if status_code in _ERROR_CLASSES:
        return _ERROR_CLASSES[status_code]
    if status_code >= 500:  # noqa: PLR2004
        return ServerError
    if status_code >= 400:  # noqa: PLR2004
        return ClientError
    return APIError


def error_for(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes | str | None,
    *,
    method: str | None = None,
    path: str | None = None,
    ref: str | Deployment | ModelRef | None = None,
    create: bool = False,
) -> APIError:
    """The error for an error reply (problem+json or plain JSON or text), ready to raise.

    401 says the token was refused; 404 with a ``ref`` says which model reference was not
    found and how references are written; 422 keeps ``invalid_fields``; 429 carries
    ``retry_after``; a 5xx to a *create* says the prediction may exist and what to do. ``str()`` of the result is one line with the status and request line.
    """
    decoded = _decoded_body(body)
    problem: Mapping[str, Any] = decoded if isinstance(decoded, Mapping) else {}
    title = _str_or_none(problem.get("title"))
    detail = _str_or_none(problem.get("detail"))
    if not problem and isinstance(decoded, str) and decoded.strip():
        stripped = decoded.lstrip()
        detail = (
            "the server sent an HTML error page" if stripped.startswith("<") else _snippet(stripped)
        )
    if title is None and detail is None:
        title = _phrase(status_code)
    cls = _error_class(status_code)
    text = problem_text(title, detail)
    extra: dict[str, Any] = {}
    if cls is AuthenticationError:
        text = f"the API token was refused ({text}); {_TOKEN_HINT}"
    elif cls is NotFoundError and ref is not None:
        text = _not_found_text(ref, text)
    elif cls is ValidationError:
        extra["invalid_fields"] = _invalid_fields(problem.get("invalid_fields"))
        if ref is not None:
            text = (
                f"{text} (model reference {ref if isinstance(ref, str) else str(parse_ref(ref))!r})"
            )
    elif cls is RateLimitError:
        extra["retry_after"] = retry_after(headers, decoded)
    elif cls is ServerError and create:
        text = f"{text}; {_CREATE_5XX_HINT}"
    return cls(
        status_code=status_code,
        title=title,
        detail=detail,
        type=_str_or_none(problem.get("type")),
        instance=_str_or_none(problem.get("instance")),
        body=decoded,
        request_method=method,
        request_path=path,
        message=text,
        **extra,
    )


def _seconds(value: object) -> float | None:
    """A finite, non-negative number of seconds from a JSON number or numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number):
        return None
    return max(0.0, number)


def retry_after(
    headers: Mapping[str, str], body: Any = None, *, now: datetime | None = None
) -> float | None:
    """Seconds the server asked to wait: ``Retry-After`` (seconds or HTTP date), else body ``retry_after``.

    ``body`` may be the raw bytes or the decoded JSON. Not capped here: the caller caps it
    (``RetryPolicy.max_retry_after``). None when the server said nothing usable.
    """
    value = header(headers, "retry-after")
    if value is not None:
        seconds = _seconds(value)
        if seconds is not None:
            return seconds
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            current = now if now is not None else datetime.now(UTC)
            return max(0.0, (when - current).total_seconds())
    decoded = _decoded_body(body) if isinstance(body, bytes | str) else body
    if isinstance(decoded, Mapping):
        return _seconds(decoded.get("retry_after"))
    return None
