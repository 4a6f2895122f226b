# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.predictions`: create, get, cancel, wait for and list predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

from replicate_async import _config
from replicate_async._models import Prediction
from replicate_async._running import wait_budget
from replicate_async._streaming import PredictionStream

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime, timedelta

    from replicate_async._config import UseClientDefault
    from replicate_async._models import Deployment
    from replicate_async._paging import AsyncPages
    from replicate_async._running import Runner
    from replicate_async._uploads import FileEncoding
    from replicate_async.catalog import GenerationRequest

__all__ = ["DEFAULT_WAIT_TIMEOUT", "AsyncPredictions"]

DEFAULT_WAIT_TIMEOUT: Final = 600.0
"""Seconds :meth:`AsyncPredictions.wait` polls before raising PredictionTimeout."""


class AsyncPredictions:
    """The predictions API: ``client.predictions``.

    Args:
        runner: The run engine of the client (its session: connection pool, retries,
            poll policy).

    .. versionadded:: 0.1.0
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def __repr__(self) -> str:
        return f"<AsyncPredictions of {self._runner.session!r}>"

    async def create(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None = None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        cancel_after: float | str | timedelta | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
        validate: bool | None = None,
    ) -> Prediction:
        """Create a prediction and return it as the server answered.

        With ``wait`` the server holds the request until the prediction finishes or
        ``wait`` seconds pass; the reply may still be ``starting`` or ``processing``
        (possibly with partial output). Use :meth:`wait` to get a terminal status.

        The create is retried only on 429 and on failures that prove it was never sent
        (promise 1). A 5xx raises ServerError and a failure after sending raises
        TransportError with ``request_sent=True``: the prediction may exist, so it is
        never created twice behind your back.

        Args:
            ref: ``"owner/name"``, ``"owner/name:<version>"``, a bare 64-hex version id,
                or ``Deployment("owner/name")``.
            input: The model's input: a dict, or a typed request the client's catalogue maps.
            wait: Seconds (1 to 60) for ``Prefer: wait``, or False to return at once.
            cancel_after: A server-side deadline (``Cancel-After``): seconds, a timedelta,
                or a duration like ``"5m"``; at least 5 s.
            webhook: An https URL the server calls with updates.
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).
            file_encoding: How a ``Path``, ``bytes`` or file object in ``input`` is sent:
                ``"auto"`` (a data URI when small, else an upload through the Files API),
                ``"upload"`` or ``"data_uri"``; the client's setting by default. Files are
                encoded before the create is sent: a failed upload creates nothing.
            validate: Check the input against the model's schema first (the client's
                ``validate`` when None; a typed request is always checked offline).

        .. versionadded:: 0.1.0
        """
        return await self._runner.create(
            ref,
            input,
            wait=wait,
            cancel_after=cancel_after,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            file_encoding=file_encoding,
            validate=validate,
        )

    async def get(self, prediction_id: str) -> Prediction:
        """Fetch a prediction by id.

        Args:
            prediction_id: The prediction's id.

        .. versionadded:: 0.1.0
        """
        return await self._runner.get(prediction_id)

    async def cancel(self, prediction_id: str) -> Prediction:
        """Cancel a prediction and return it; cancelling a finished one changes nothing.

        Args:
            prediction_id: The prediction's id.

        .. versionadded:: 0.1.0
        """
        return await self._runner.cancel(prediction_id)

    def list(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        source: Literal["web"] | None = None,
    ) -> AsyncPages[Prediction]:
        """Your predictions, newest first, as a lazy list: ``async for p in ...list()``.

        Pages are fetched as you iterate; ``await ....list().page(cursor)`` fetches one page
        (see :class:`~replicate_async.AsyncPages`). Each page's ``next`` link is followed
        only when it points at the API's own host (the token goes nowhere else); a link
        elsewhere raises DecodeError.

        Args:
            created_after: Only predictions created after this time (a datetime, naive
                meaning UTC, or an ISO 8601 string).
            created_before: Only predictions created before this time.
            source: ``"web"`` for only those made on the website (the server keeps 14 days).

        .. versionadded:: 0.1.0
        """
        return self._runner.list(
            created_after=created_after, created_before=created_before, source=source
        )

    async def wait(
        self,
        prediction: Prediction | str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - public API (PRODUCT.md)
        cancel_on_timeout: bool = False,
        cancel_on_cancellation: bool = True,
    ) -> Prediction:
        """Poll a prediction until its status is terminal and return it.

        Terminal is succeeded, failed, canceled or aborted (promise 3); the returned
        prediction may be any of those. Polls GET with the client's PollPolicy delays
        (capped exponential backoff with jitter) under one deadline. A prediction that is
        already terminal is returned without a request.

        If the task awaiting ``wait`` is cancelled, a shielded, best-effort remote cancel is
        sent for the prediction (promise 4: what you abandon stops costing money), unless
        ``cancel_on_cancellation=False`` (for example when you only observe a prediction that
        someone else owns).

        Args:
            prediction: A Prediction or a prediction id.
            timeout: Seconds to poll before raising PredictionTimeout (with the last
                prediction seen); None means the client's longest wait, one hour.
            cancel_on_timeout: Cancel the prediction remotely when the timeout passes.
            cancel_on_cancellation: Cancel the prediction remotely when the task awaiting
                ``wait`` is cancelled.

        .. versionadded:: 0.1.0
        """
        budget = wait_budget(timeout)
        if not isinstance(prediction, Prediction):
            prediction = await self.get(prediction)
        return await self._runner.poll(
            prediction,
            within=budget,
            reported_timeout=budget,
            cancel_on_timeout=cancel_on_timeout,
            abandon=self._runner.abandon if cancel_on_cancellation else None,
        )

    def stream(
        self,
        prediction: Prediction | str,
        *,
        last_event_id: str | None = None,
        timeout: float | None = None,
        cancel_on_cancellation: bool = True,
    ) -> PredictionStream:
        """Stream the output of a prediction already created: ``async for event in ...``.

        The same events and errors as :meth:`AsyncClient.stream` (see
        :class:`~replicate_async.PredictionStream`).

        Args:
            prediction: A Prediction (its ``urls.stream`` is used) or a prediction id
                (fetched first).
            last_event_id: Resume after this event id (a previous stream's
                ``last_event_id``) instead of from the first event.
            timeout: Seconds the whole stream may take before PredictionTimeout; None
                means the client's longest wait, one hour.
            cancel_on_cancellation: Cancel the prediction remotely (shielded, best
                effort) when the iterating task is cancelled or the stream is closed
                before ``done``, as :meth:`wait` does; False leaves it running (for
                example when you only watch a prediction that others use).

        .. versionadded:: 0.1.0
        """
        if isinstance(prediction, Prediction):
            return PredictionStream(
                self._runner,
                prediction=prediction,
                owned=cancel_on_cancellation,
                last_event_id=last_event_id,
                timeout=timeout,
            )
        prediction_id = prediction

        async def fetch() -> Prediction:
            return await self.get(prediction_id)

        return PredictionStream(
            self._runner,
            start=fetch,
            owned=cancel_on_cancellation,
            last_event_id=last_event_id,
            timeout=timeout,
        )
