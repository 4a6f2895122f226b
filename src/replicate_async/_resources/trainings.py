# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.trainings`: create, get, list, cancel and wait for trainings.

A training is a prediction of a trainer model that pushes a new version to its destination
model; :class:`~replicate_async.Training` is a Prediction with ``destination``, so waiting,
timeouts and errors treat both alike. :meth:`AsyncTrainings.wait` uses the run engine's one
poll loop with the trainings' own GET and cancel.

A create is billed, so it is retried only when the server surely did not accept it (promise
1): on 429 and on failures before the request left this process. A 5xx raises ServerError and
a failure after sending raises TransportError with ``request_sent=True``, each saying that
the training may exist and to check ``client.trainings.list()`` before creating it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from replicate_async import _sansio
from replicate_async._api_objects import Training
from replicate_async._paging import AsyncPages
from replicate_async._resources.predictions import DEFAULT_WAIT_TIMEOUT
from replicate_async._running import wait_budget
from replicate_async._sansio import Request
from replicate_async._sansio.inputs import scan_input
from replicate_async._sansio.routes import owner_name, segment
from replicate_async._session import cancel_quietly
from replicate_async._uploads import is_file_input
from replicate_async.exceptions import (
    ServerError,
    TransportError,
    ValidationError,
    problem_text,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from replicate_async._running import Runner
    from replicate_async._session import Session

__all__ = ["AsyncTrainings"]

_LOST_HINT: Final = (
    "the training may have been created and billed, so it was not retried: check "
    "client.trainings.list() before creating it again"
)


def _fail(message: str) -> ValidationError:
    """A client-side check's error (no request was sent)."""
    return ValidationError(status_code=None, message=message)


def _training_path(training_id: str, suffix: str = "") -> str:
    """``/v1/trainings/{id}`` (plus *suffix*) of a checked id."""
    return f"/v1/trainings/{segment(training_id, 'training id')}{suffix}"


def _create_request(
    version: str,
    destination: str,
    input: Mapping[str, Any],  # noqa: A002 - the API's name
    webhook: str | None,
    webhook_events_filter: Sequence[str] | None,
) -> Request:
    """``POST /v1/models/{owner}/{name}/versions/{id}/trainings``, every argument checked."""
    try:
        parsed = _sansio.parse_ref(version)
    except ValidationError:
        parsed = None
    if parsed is None or parsed.kind != "version" or parsed.owner is None:
        raise _fail(
            f"invalid model version {version!r}: a training starts from a trainer's version, "
            "written 'owner/name:<64-hex version id>'"
        )
    checked_destination = owner_name(destination, "destination")
    # The prediction create's checks of the input (a mapping with string keys), the webhook
    # and its events, so both creates refuse the same arguments with the same lines.
    checked = _sansio.build_create(
        parsed,
        input,
        wait=False,
        webhook=webhook,
        webhook_events_filter=webhook_events_filter,
    ).json
    files, _ = scan_input(checked["input"], is_file_input)
    if files:
        field = files[0][0]
        raise _fail(
            f"{field}: a training's input takes URLs, not files: pass a FileOutput's .url, "
            "or upload the file with client.files.create() and pass its urls.get"
        )
    body: dict[str, Any] = {"destination": checked_destination, "input": _plain(checked["input"])}
    for key in ("webhook", "webhook_events_filter"):
        if key in checked:
            body[key] = checked[key]
    path = f"/v1/models/{parsed.owner}/{parsed.name}/versions/{parsed.version}/trainings"
    return Request(method="POST", path=path, json=body)


def _plain(value: Any) -> Any:
    """*value* with every mapping a dict and every tuple a list (what ``json`` encodes)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _reworded(exc: Exception, request: Request) -> Exception | None:
    """A create's ServerError or sent TransportError, saying the training (not a
    prediction) may exist and where to look; None for any other error."""
    if isinstance(exc, ServerError):
        return exc.with_message(f"{problem_text(exc.title, exc.detail)}; {_LOST_HINT}")
    if isinstance(exc, TransportError) and exc.request_sent:
        cause = exc.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else "no reply"
        if cause is not None and not str(cause):
            reason = type(cause).__name__
        return exc.with_message(
            f"{request.method} {request.path} failed after the request was sent ({reason}); "
            f"{_LOST_HINT}"
        )
    return None


class AsyncTrainings:
    """The trainings API: ``client.trainings``.

    Args:
        session: The client's session (connection pool, token, retries).
        runner: The run engine of the client (its poll loop, for :meth:`wait`).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session, runner: Runner) -> None:
        self._session = session
        self._runner = runner

    def __repr__(self) -> str:
        return f"<AsyncTrainings of {self._session!r}>"

    async def create(
        self,
        version: str,
        *,
        destination: str,
        input: Mapping[str, Any],  # noqa: A002 - the API's name
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> Training:
        """Start a training of a trainer model's version and return it (usually ``starting``).

        Sent once, and again only on 429 or a failure that proves it was never sent
        (promise 1: a training is billed). A 5xx raises ServerError and a failure after
        sending raises TransportError with ``request_sent=True``; either way the training
        may exist: look in :meth:`list` before creating it again. Use :meth:`wait` for a
        terminal status.

        Args:
            version: The trainer's version, ``"owner/name:<64-hex version id>"``.
            destination: The model the new version is pushed to, ``"owner/name"`` (it must
                exist; otherwise the server answers 404).
            input: The trainer's input (JSON values; put files in as URLs, e.g. from
                ``client.files.create``).
            webhook: An https URL the server calls with updates.
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).

        .. versionadded:: 0.1.0
        """
        request = _create_request(version, destination, input, webhook, webhook_events_filter)
        try:
            reply = await self._session.send(request, create=True)
            return _sansio.decode(
                reply.status_code,
                reply.headers,
                reply.content,
                Training,
                method=request.method,
                path=request.path,
                create=True,
            )
        except (ServerError, TransportError) as exc:
            reworded = _reworded(exc, request)
            if reworded is None:
                raise
            raise reworded from exc.__cause__

    async def get(self, training_id: str) -> Training:
        """Fetch a training by id.

        Args:
            training_id: The training's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="GET", path=_training_path(training_id))
        return await self._session.send_json(request, Training)

    def list(self) -> AsyncPages[Training]:
        """Your trainings, newest first, as a lazy list: ``async for t in ...list()``.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`); each
        page's ``next`` link is followed only when it points at the API's own host.

        .. versionadded:: 0.1.0
        """
        return AsyncPages(self._session, "/v1/trainings", Training)

    async def cancel(self, training_id: str) -> Training:
        """Cancel a training and return it; cancelling a finished one changes nothing.

        Args:
            training_id: The training's id.

        .. versionadded:: 0.1.0
        """
        request = Request(method="POST", path=_training_path(training_id, "/cancel"))
        return await self._session.send_json(request, Training)

    async def wait(
        self,
        training: Training | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - public API (PRODUCT.md)
        cancel_on_timeout: bool = False,
        cancel_on_cancellation: bool = True,
    ) -> Training:
        """Poll a training until its status is terminal and return it.

        Terminal is succeeded, failed, canceled or aborted (promise 3); the returned
        training may be any of those (a failed one is returned, not raised). Polls
        ``GET /v1/trainings/{id}`` with the client's PollPolicy delays under one deadline,
        like :meth:`AsyncPredictions.wait`. A training that is already terminal is returned
        without a request.

        If the task awaiting ``wait`` is cancelled, a shielded, bounded remote cancel is sent
        for the training (promise 4: what you abandon stops costing money), unless
        ``cancel_on_cancellation=False`` (for example when you only watch a training that
        someone else owns).

        Args:
            training: A Training or a training id.
            timeout: Seconds to poll before raising PredictionTimeout (with the last
                training seen); None means the client's longest wait, one hour.
            cancel_on_timeout: Cancel the training remotely when the timeout passes.
            cancel_on_cancellation: Cancel the training remotely when the task awaiting
                ``wait`` is cancelled.

        .. versionadded:: 0.1.0
        """
        budget = wait_budget(timeout)
        if not isinstance(training, Training):
            training = await self.get(training)
        return await self._runner.poll(
            training,
            within=budget,
            reported_timeout=budget,
            cancel_on_timeout=cancel_on_timeout,
            abandon=self._abandon if cancel_on_cancellation else None,
            fetch=self.get,
            cancel=self.cancel,
        )

    async def _abandon(self, training: Training) -> None:
        """Cancel an abandoned training remotely, shielded and bounded."""
        await cancel_quietly(self.cancel, training.id)
