"""The errors raised by replicate_async.

Every error is a :class:`ReplicateError`, and no exception of the HTTP stack
(httpx, aiohttp, anyio) ever reaches a caller: transport failures are wrapped
in :class:`TransportError` with the original as ``__cause__``.

The tree::

    ReplicateError                  str(exc) is one readable line, never the token
    ├── APIError                    status_code, title, detail, type, instance, body
    │   ├── ClientError             any other 4xx (402, 409, 413, ...)
    │   │   ├── AuthenticationError     401, or a missing token (status_code None)
    │   │   ├── PermissionDeniedError   403
    │   │   ├── NotFoundError           404
    │   │   │   └── FileExpiredError        an output file is gone (404/410 from the file host)
    │   │   ├── ValidationError         422, or a client-side check (status_code None);
    │   │   │   │                       invalid_fields
    │   │   │   └── UnsupportedURLError     a file URL this library will not fetch
    │   │   └── RateLimitError          429; retry_after
    │   └── ServerError             5xx
    ├── TransportError              the request failed on the wire; request_sent
    │   └── RequestTimeout          also a builtins.TimeoutError
    ├── DecodeError                 the server's reply was not what the API promises
    ├── CreateOutcomeUnknown        a batch job's create may have landed: not re-sent
    ├── JournalError                a batch's journal file is unusable; path
    │   ├── JournalLocked           another batch has it open
    │   └── JournalMismatch         a key's row is another job's (ref or input); key
    ├── ClientClosedError           the client was closed; also a builtins.RuntimeError
    ├── PredictionError             prediction
    │   ├── PredictionFailed        the model failed (error text and last logs)
    │   ├── PredictionCanceled      canceled, or aborted by its deadline
    │   ├── PredictionTimeout       a local deadline passed first
    │   └── StreamingNotSupportedError  the model has no stream
    └── WebhookVerificationError    reason

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self

import attrs

if TYPE_CHECKING:
    from ._jobs import Job
    from ._models import Prediction

__all__ = [
    "APIError",
    "AuthenticationError",
    "ClientClosedError",
    "ClientError",
    "CreateOutcomeUnknown",
    "DecodeError",
    "FileExpiredError",
    "InvalidField",
    "JournalError",
    "JournalLocked",
    "JournalMismatch",
    "NotFoundError",
    "PermissionDeniedError",
    "PredictionCanceled",
    "PredictionError",
    "PredictionFailed",
    "PredictionTimeout",
    "RateLimitError",
    "ReplicateError",
    "RequestTimeout",
    "ServerError",
    "StreamingNotSupportedError",
    "TransportError",
    "UnsupportedURLError",
    "ValidationError",
    "WebhookVerificationError",
]

# Replicate tokens look like "r8_" + 37 characters; a server or a user may echo one
# into a message, and promise 5 says it must never reach a log line.
_TOKEN_RE = re.compile(r"r8_[A-Za-z0-9_-]{8,}")
# An Authorization value ("Bearer x", legacy "Token x"): after "Bearer" anything long enough;
# after the everyday word "token" only something token-like (20+ characters with a digit).
_BEARER_RE = re.compile(
    r"(?i)\b(bearer)\s+[A-Za-z0-9_.~+/=-]{8,}"
    r"|\b(token)\s+(?=[A-Za-z0-9_.~+/=-]*\d)[A-Za-z0-9_.~+/=-]{20,}"
)
_MAX_LINE = 1000


def _one_line(text: str, *, limit: int = _MAX_LINE) -> str:
    """Collapse text (bulleted lines included) into one line, redact tokens, and cap its length."""
    parts = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("- ", "* ")):
            line = line[2:].strip()
        if line:
            parts.append(line)
    joined = "; ".join(parts)
    joined = _TOKEN_RE.sub("r8_***", joined)
    joined = _BEARER_RE.sub(lambda m: f"{m.group(1) or m.group(2)} ***", joined)
    if len(joined) > limit:
        joined = joined[: limit - 3].rstrip() + "..."
    return joined


def _restore(cls: type[ReplicateError], kwargs: dict[str, Any]) -> ReplicateError:
    """Rebuild a pickled error from its keyword arguments."""
    return cls(**kwargs)


class ReplicateError(Exception):
    """The base class of every error raised by replicate_async.

    ``str(exc)`` is always one readable line and never contains the API token.

    Args:
        message: What went wrong, in one sentence.

    .. versionadded:: 0.1.0
    """

    message: str

    def __init__(self, *, message: str) -> None:
        self.message = _one_line(message)
        self._kwargs: dict[str, Any] = {"message": message}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive Exception's default pickling.
        return (_restore, (type(self), self._kwargs))

    def with_message(self, message: str) -> Self:
        """A new error of the same class and fields, saying *message* instead.

        Args:
            message: The new message, in one sentence.

        .. versionadded:: 0.1.0
        """
        return type(self)(**{**self._kwargs, "message": message})


@attrs.frozen(kw_only=True)
class InvalidField:
    """One entry of a 422 reply's ``invalid_fields``.

    Args:
        type: The kind of problem, e.g. ``"required"``, ``"enum"``,
            ``"additional_property_not_allowed"``.
        field: The dotted field path, e.g. ``"input.prompt"``; ``""`` for the body itself.
        description: The server's explanation.

    .. versionadded:: 0.1.0
    """

    type: str = ""
    field: str = ""
    description: str = ""


class APIError(ReplicateError):
    """The API answered with an error status (RFC 7807 problem details).

    Args:
        status_code: The HTTP status, or None for a check made before any request.
        title: The problem's short title, e.g. ``"Input validation failed"``.
        detail: The problem's explanation.
        type: The problem type URI, when the server sends one.
        instance: The problem instance URI, when the server sends one.
        body: The decoded reply body (JSON value or text) for inspection.
        request_method: The HTTP method of the failed request, e.g. ``"POST"``.
        request_path: The path of the failed request, e.g. ``"/v1/predictions"``.
        message: The line to show; built from the fields above when omitted.

    .. versionadded:: 0.1.0
    """

    status_code: int | None
    title: str | None
    detail: str | None
    type: str | None
    instance: str | None
    body: Any
    request_method: str | None
    request_path: str | None

    def __init__(
        self,
        *,
        status_code: int | None,
        title: str | None = None,
        detail: str | None = None,
        type: str | None = None,  # noqa: A002  (the RFC 7807 member is called "type")
        instance: str | None = None,
        body: Any = None,
        request_method: str | None = None,
        request_path: str | None = None,
        message: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.title = title
        self.detail = detail
        self.type = type
        self.instance = instance
        self.body = body
        self.request_method = request_method
        self.request_path = request_path
        text = message if message is not None else problem_text(title, detail)
        super().__init__(message=_with_location(text, status_code, request_method, request_path))
        self._kwargs = {
            "status_code": status_code,
            "title": title,
            "detail": detail,
            "type": type,
            "instance": instance,
            "body": body,
            "request_method": request_method,
            "request_path": request_path,
            "message": message,
        }


def problem_text(title: str | None, detail: str | None) -> str:
    """Join a problem's title and detail into one phrase (each collapsed to one line, tokens
    redacted), as an :class:`APIError` says them; the sans-I/O decoder builds messages with it.

    .. versionadded:: 0.1.0
    """
    parts = [_one_line(p) for p in (title, detail) if p and p.strip()]
    return ": ".join(parts) or "the API returned an error"


def _with_location(text: str, status_code: int | None, method: str | None, path: str | None) -> str:
    """Prefix the status code and request line, when known, to an error's text."""
    where = " ".join(p for p in (method, _strip_query(path)) if p)
    if status_code is None:
        return f"{text} ({where})" if where else text
    head = f"HTTP {status_code}"
    if where:
        head += f" on {where}"
    return f"{head}: {text}"


def _strip_query(path: str | None) -> str | None:
    """Drop a query string (pagination cursors are long and say nothing to a reader)."""
    if path is None:
        return None
    return path.split("?", 1)[0]


class ClientError(APIError):
    """The API refused the request (4xx) for a reason without its own class (402, 409, 413, ...).

    .. versionadded:: 0.1.0
    """


class AuthenticationError(ClientError):
    """The API token is missing (``status_code`` None, raised before any request) or was refused (401).

    .. versionadded:: 0.1.0
    """


class PermissionDeniedError(ClientError):
    """The token may not do this (403).

    .. versionadded:: 0.1.0
    """


class NotFoundError(ClientError):
    """The model, deployment, prediction or route does not exist, or is not visible to the token (404).

    .. versionadded:: 0.1.0
    """


class ValidationError(ClientError):
    """The request is invalid: a 422 reply, or a check made before any request (``status_code`` None).

    Args:
        invalid_fields: The fields the server named, if any.
        **kwargs: As for :class:`APIError`.

    .. versionadded:: 0.1.0
    """

    invalid_fields: tuple[InvalidField, ...]

    def __init__(self, *, invalid_fields: tuple[InvalidField, ...] = (), **kwargs: Any) -> None:
        self.invalid_fields = tuple(invalid_fields)
        super().__init__(**kwargs)
        self._kwargs["invalid_fields"] = self.invalid_fields


class FileExpiredError(NotFoundError):
    """The file host no longer has an output file (404 or 410).

    Replicate deletes a prediction's output files an hour after it finishes (the
    prediction then reports ``data_removed``), so download or save outputs promptly.

    .. versionadded:: 0.1.0
    """


class UnsupportedURLError(ValidationError):
    """A file URL this library will not fetch: not ``https://`` or ``data:``, or malformed.

    Plain ``http://`` is accepted only for loopback hosts (127.0.0.1, localhost, ::1).

    .. versionadded:: 0.1.0
    """


class RateLimitError(ClientError):
    """The account's rate limit was hit (429).

    Args:
        retry_after: Seconds the server asked to wait (``Retry-After`` header or body), if it said.
        **kwargs: As for :class:`APIError`.

    .. versionadded:: 0.1.0
    """

    retry_after: float | None

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)
        self._kwargs["retry_after"] = retry_after


class ServerError(APIError):
    """The API failed on its side (5xx).

    .. versionadded:: 0.1.0
    """


class TransportError(ReplicateError):
    """The request failed on the wire; the original error is ``__cause__``.

    Args:
        message: What failed, in one sentence.
        request_sent: Whether the request may have reached the server. A create with
            ``request_sent=True`` is never retried, because the server may have accepted it.

    .. versionadded:: 0.1.0
    """

    request_sent: bool

    def __init__(self, *, message: str, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message=message)
        self._kwargs["request_sent"] = request_sent


class RequestTimeout(TransportError, TimeoutError):  # noqa: N818  (public name fixed by PRODUCT.md)
    """An HTTP request timed out (connect, read, write or pool).

    .. versionadded:: 0.1.0
    """


class DecodeError(ReplicateError):
    """The server's reply could not be decoded (not JSON, or not the shape the API promises).

    Args:
        message: What was wrong with the reply, in one sentence.
        status_code: The HTTP status of the reply, when known.

    .. versionadded:: 0.1.0
    """

    status_code: int | None

    def __init__(self, *, message: str, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message=message)
        self._kwargs["status_code"] = status_code


class PredictionError(ReplicateError):
    """A prediction ended without a usable output.

    Args:
        prediction: The prediction as last seen.
        message: The line to show; built from the prediction when omitted.

    .. versionadded:: 0.1.0
    """

    prediction: Prediction

    def __init__(self, *, prediction: Prediction, message: str | None = None) -> None:
        self.prediction = prediction
        super().__init__(message=message if message is not None else self._describe(prediction))
        self._kwargs = {"prediction": prediction, "message": message}

    def _describe(self, prediction: Prediction) -> str:
        """The default line for this kind of error."""
        return f"prediction {prediction.id} ended as {prediction.status.value}"


class PredictionFailed(PredictionError):  # noqa: N818  (public name fixed by PRODUCT.md)
    """The model failed; the message carries its error text and the last lines of its logs.

    .. versionadded:: 0.1.0
    """

    def _describe(self, prediction: Prediction) -> str:
        """Error text plus a tail of the logs."""
        error = prediction.error
        text = f"prediction {prediction.id} failed"
        if error is not None and str(error).strip():
            text += f": {_one_line(str(error), limit=500)}"
        tail = _logs_tail(prediction.logs)
        if tail:
            text += f" (last logs: {tail})"
        return text


class PredictionCanceled(PredictionError):  # noqa: N818  (public name fixed by PRODUCT.md)
    """The prediction was canceled, or aborted because its deadline passed before it started.

    .. versionadded:: 0.1.0
    """

    def _describe(self, prediction: Prediction) -> str:
        """Say which of the two it was."""
        if prediction.status.value == "aborted":
            return f"prediction {prediction.id} was aborted: its deadline passed before it started"
        return f"prediction {prediction.id} was canceled"


class PredictionTimeout(PredictionError):  # noqa: N818  (public name fixed by PRODUCT.md)
    """A local deadline passed before the prediction reached a terminal status.

    Args:
        prediction: The prediction as last seen.
        timeout: The deadline in seconds, for the message.
        message: The line to show; built from the prediction when omitted.

    .. versionadded:: 0.1.0
    """

    timeout: float | None

    def __init__(
        self, *, prediction: Prediction, timeout: float | None = None, message: str | None = None
    ) -> None:
        self.timeout = timeout
        super().__init__(prediction=prediction, message=message)
        self._kwargs["timeout"] = timeout

    def _describe(self, prediction: Prediction) -> str:
        """Say how long we waited and what the prediction was doing."""
        within = f" within {self.timeout:g} s" if self.timeout is not None else " in time"
        return (
            f"prediction {prediction.id} did not finish{within} "
            f"(last status: {prediction.status.value})"
        )


class WebhookVerificationError(ReplicateError):
    """A webhook's signature, timestamp or headers did not verify.

    Args:
        reason: Why verification failed, e.g. ``"signature mismatch"``.

    .. versionadded:: 0.1.0
    """

    reason: str

    def __init__(self, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message=f"webhook verification failed: {reason}")
        self._kwargs = {"reason": reason}

    def with_message(self, message: str) -> Self:
        """A new WebhookVerificationError whose reason is *message*.

        Args:
            message: The new reason.

        .. versionadded:: 0.1.0
        """
        return type(self)(reason=message)


def _logs_tail(logs: str | None, *, lines: int = 3, limit: int = 300) -> str:
    """The last non-empty lines of a prediction's logs, joined into one capped line."""
    if not logs:
        return ""
    kept = [line.strip() for line in logs.splitlines() if line.strip()][-lines:]
    text = " | ".join(kept)
    if len(text) > limit:
        text = "..." + text[-(limit - 3) :].lstrip()
    return _one_line(text, limit=limit + 10)


class CreateOutcomeUnknown(ReplicateError):  # noqa: N818 - named for what the caller must check
    """A job's create may or may not have made a prediction, so it was not created again.

    Raised (or returned in place with ``return_exceptions=True``) when the create failed
    after it was sent (a 5xx, a lost reply, a 2xx that did not decode: a journal keeps its
    row, so the next run looks it up), and for a journaled create an earlier run never saw
    end that is not in ``predictions.list()``. Pass ``recreate_unknown=True`` to create
    such jobs anyway (you may pay twice), or look for the prediction yourself.

    Args:
        index: The job's position in the batch.
        job: The job.
        key: The job's journal key (None without a journal).
        message: What happened.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, index: int, job: Job, key: str | None = None, message: str) -> None:
        self.index = index
        self.job = job
        self.key = key
        super().__init__(message=message)
        self._kwargs = {"index": index, "job": job, "key": key, "message": message}


class StreamingNotSupportedError(PredictionError):
    """The prediction has no ``urls.stream``: its model does not stream its output.

    The prediction exists (and runs): wait for it with ``client.predictions.wait``
    instead, or use ``client.run``.

    .. versionadded:: 0.1.0
    """

    def _describe(self, prediction: Prediction) -> str:
        """Name the model and what to use instead."""
        model = prediction.model or "this model"
        return (
            f"{model} does not stream its output (prediction {prediction.id} has no "
            "urls.stream); use client.run() or client.predictions.wait() instead"
        )


class ClientClosedError(ReplicateError, RuntimeError):
    """A call after ``aclose()``/``close()`` (raised before any I/O), or one that was running
    when the blocking ``Client`` was closed (cancelled, its prediction too, best effort).

    .. versionadded:: 0.1.0
    """


class JournalError(ReplicateError):
    """A batch's journal cannot be used: not a journal (corrupt, another program's database,
    a newer schema) or not openable. Raised before anything is sent.

    Args:
        path: The journal's file.
        message: What is wrong and what to do, in one sentence.
        key: The job's key, for a :class:`JournalMismatch`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *, path: str, message: str, key: str | None = None) -> None:
        self.path = path
        self.key = key
        super().__init__(message=message)
        self._kwargs = {"path": path, "message": message, "key": key}


class JournalLocked(JournalError):  # noqa: N818 - named for what the caller must check
    """Another batch (in another process, or in this one) has the journal open.

    .. versionadded:: 0.1.0
    """


class JournalMismatch(JournalError):  # noqa: N818 - named for what the caller must check
    """The journal's row for this job's ``key`` was written for another ref or input: use
    another journal, or another key. Raised for that job alone, before its create.

    .. versionadded:: 0.1.0
    """
