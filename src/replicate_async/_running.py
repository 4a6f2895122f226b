# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The run engine: plan, create with ``Prefer: wait``, confirm, poll, cancel on abandon, outputs.

One prediction's whole life is written here once; ``client.run``, ``predictions.create`` and
``predictions.wait``, ``run_many``/``as_completed`` (each job), ``stream``'s create and the
webhook waiter all call it:

1. :func:`plan_run` turns the caller's ``wait``/``timeout``/``cancel_on_timeout`` into a
   deadline, the create's wait (shortened to fit) and its ``Cancel-After``.
2. :meth:`Runner.create` encodes file inputs and sends the create (never re-sent once it may
   have landed: promise 1).
3. :meth:`Runner.poll` confirms any non-terminal reply, ``processing`` with output included
   (promise 3), polling with capped backoff under one deadline, and cancels the prediction
   remotely when the caller abandons it (promise 4) or its timeout passes when asked.
4. :meth:`Runner.output`: a terminal prediction's output (files as FileOutput), or its error.

Hooks a batch needs (journal rows, progress events, its own abandon step) are passed in.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast

import anyio
import attrs

from replicate_async import _clock as clock
from replicate_async import _sansio
from replicate_async._callbacks import progress_teller, telling
from replicate_async._cancellation import is_cancellation
from replicate_async._claims import Claims
from replicate_async._config import USE_CLIENT_DEFAULT
from replicate_async._create_watch import AbandonWatch, CreateWatch
from replicate_async._deadlines import Deadlines
from replicate_async._file_output import to_file_outputs
from replicate_async._models import Deployment, Prediction
from replicate_async._paging import AsyncPages
from replicate_async._poll_schedule import FinishWatch, PollSchedule
from replicate_async._sansio.inputs import canonical_json
from replicate_async._sansio.polling import scheduled_delays
from replicate_async._sansio.routes import timestamp
from replicate_async._session import CANCEL_GRACE, cancel_quietly
from replicate_async._uploads import check_file_encoding, encode_request
from replicate_async.exceptions import (
    FileExpiredError,
    PredictionTimeout,
    ReplicateError,
    RequestTimeout,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from datetime import timedelta

    from replicate_async._config import UseClientDefault
    from replicate_async._downloads import Downloader
    from replicate_async._ratelimit import RequestHooks
    from replicate_async._session import Session
    from replicate_async._uploads import FileEncoding, Source
    from replicate_async.catalog import GenerationRequest

__all__ = [
    "CANCEL_AFTER_SLACK",
    "CLOCK_SLACK",
    "DEFAULT_RUN_TIMEOUT",
    "MIN_CANCEL_AFTER",
    "RunOptions",
    "Runner",
    "made_by",
    "plan_run",
    "wait_budget",
]

logger = logging.getLogger("replicate_async")

P = TypeVar("P", bound=Prediction)

DEFAULT_RUN_TIMEOUT: Final = 3600.0
"""Seconds a run waits for a terminal status when given ``timeout=None`` (promise 2: every wait ends).

An hour covers a cold boot plus the server's own 30-minute limit on a running prediction.
"""

CANCEL_AFTER_SLACK: Final = 10
"""Seconds added to a run's timeout for its ``Cancel-After``, so the local deadline fires first."""

MIN_CANCEL_AFTER: Final = 5
"""The server's minimum ``Cancel-After``."""

CLOCK_SLACK: Final = 120.0
"""Seconds a prediction's ``created_at`` may be before the local clock's time of its create
(clocks differ) and still be taken for that create's prediction when its id was lost."""

LOOKUP_DELAYS: Final = (0.0, 0.25, 0.5, 1.0, 1.0, 2.0)
"""Seconds between looks in the prediction list for an abandoned create's prediction (the
server may list it a moment after it accepted the create); all within :data:`CANCEL_GRACE`."""

MAX_CLAIMED: Final = 10_000
"""Prediction ids a runner remembers as made by its own creates (never taken for a lost one)."""


def made_by(prediction: Prediction, ref: str | Deployment, input_json: str) -> bool:
    """Whether *prediction* could be the one a create of *ref* with this input made.

    Args:
        prediction: A prediction from the account's list.
        ref: The create's model reference.
        input_json: The create's input as sent, in canonical JSON (sorted keys, no spaces).
    """
    if canonical_json(dict(prediction.input)) != input_json:
        return False
    if isinstance(ref, Deployment):
        return prediction.deployment in (None, ref.name)
    parsed = _sansio.parse_ref(ref)
    if parsed.version is not None and prediction.version not in (None, "hidden"):
        return prediction.version == parsed.version
    if parsed.owner is not None and prediction.model is not None:
        return prediction.model == f"{parsed.owner}/{parsed.name}"
    return True


@attrs.frozen(kw_only=True)
class RunOptions:
    """How one prediction is run: the options of ``run`` and of every batch job.

    Args:
        wait: Seconds (1 to 60) the server may hold the create open, or False.
        timeout: Seconds to wait for a terminal status; None for :data:`DEFAULT_RUN_TIMEOUT`.
        cancel_on_timeout: Cancel the prediction remotely when ``timeout`` passes (the
            create also carries ``Cancel-After``).
        use_file_output: Turn file URLs in the output into FileOutput objects.
        file_encoding: How file inputs are sent; the client's setting by default.
        webhook: An https URL the server also calls with updates.
        webhook_events_filter: Which events call the webhook.
        validate: Check the input against the model's schema before the create; the
            client's setting when None.
        on_progress: Called with the prediction after the create and after each poll
            (:func:`progress_teller` says how).
    """

    wait: int | Literal[False] = 60
    timeout: float | None = None
    cancel_on_timeout: bool = False
    use_file_output: bool = True
    file_encoding: FileEncoding | UseClientDefault = USE_CLIENT_DEFAULT
    webhook: str | None = None
    webhook_events_filter: Sequence[str] | None = None
    validate: bool | None = None
    on_progress: Callable[[Prediction], object] | None = None


def plan_run(
    wait: int | Literal[False], timeout: float | None, *, cancel_on_timeout: bool
) -> tuple[float, int | Literal[False], float | None]:
    """The deadline, the create's wait and its ``Cancel-After`` for a run (and a batch job).

    The wait is shortened to fit ``timeout``; ``Cancel-After`` is sent only when the caller
    asked for cancellation on timeout (``timeout`` plus slack, so the local deadline fires first).
    """
    budget = DEFAULT_RUN_TIMEOUT if timeout is None else float(timeout)
    if not budget > 0 or math.isinf(budget):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    create_wait: int | Literal[False] = wait
    cancel_after: float | None = None
    if timeout is not None:
        if not isinstance(wait, bool):
            create_wait = max(1, min(wait, math.floor(budget)))
        if cancel_on_timeout:
            cancel_after = max(MIN_CANCEL_AFTER, math.ceil(budget) + CANCEL_AFTER_SLACK)
    return budget, create_wait, cancel_after


def wait_budget(timeout: object) -> float:
    """The seconds a ``wait(timeout=...)`` polls: finite and not negative (promise 2: waits end).

    None means :data:`DEFAULT_RUN_TIMEOUT`; anything else that is not a finite number of
    seconds >= 0 raises ValidationError before any request.
    """
    if timeout is None:
        return DEFAULT_RUN_TIMEOUT
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        seconds = float(timeout)
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    raise ValidationError(
        status_code=None,
        message=(
            f"invalid timeout {timeout!r}: expected a finite number of seconds (>= 0), "
            "or None for the client's longest wait"
        ),
    )


class Runner:
    """Runs predictions over one session.

    Args:
        session: Sends the requests.
        upload: Uploads one file input and returns its URL (the Files API, cached).
        downloader: Gives the token-free download client behind FileOutput objects.
        file_encoding: The client's default for file inputs.
        max_data_uri_bytes: The largest file sent as a data URI under ``"auto"``.
        prepare: Makes what a caller passed as ``input`` (a dict or a typed request) into the
            input sent, checking it (``prepare(ref, input, validate)``).
    """

    def __init__(
        self,
        session: Session,
        *,
        upload: Callable[[Source], Awaitable[str]],
        downloader: Callable[[], Downloader],
        file_encoding: FileEncoding,
        max_data_uri_bytes: int,
        prepare: Callable[[str | Deployment, Any, bool | None], Awaitable[Mapping[str, Any]]],
    ) -> None:
        self.session: Final = session
        self._prepare = prepare
        self._upload = upload
        self._downloader = downloader
        self._file_encoding = file_encoding
        self._max_data_uri_bytes = max_data_uri_bytes
        # Ids this runner's creates made (a lost create is looked up among the others); bounded.
        self._claimed = Claims(MAX_CLAIMED)
        # How long each model takes (learned from finishes) schedules and wakes the polls.
        self.finishes: Final = FinishWatch()
        # The poll loops' deadlines, on one timer of the event loop (not one timer each).
        self._deadlines = Deadlines()

    def __repr__(self) -> str:
        return f"<Runner over {self.session!r}>"

    async def create(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        cancel_after: float | str | timedelta | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        file_encoding: FileEncoding | UseClientDefault = USE_CLIENT_DEFAULT,
        hooks: RequestHooks | None = None,
        abandon: Callable[[Prediction], Awaitable[None]] | Literal["cancel"] | None = "cancel",
        validate: bool | None = None,
    ) -> Prediction:
        """Encode file inputs, then send the create once (retried only when surely unsent).

        If the caller's task is cancelled while the create is on the wire (a ``Prefer: wait``
        create is held open for up to a minute, so this is when people press Ctrl-C), the
        prediction's id is not known yet: it is looked up in the account's prediction list
        (made since the create went out, same model and input, not made by another create of
        this runner), shielded and within :data:`CANCEL_GRACE`, and handed to *abandon*
        (by default: cancelled remotely), so it stops costing money (promise 4).

        Args:
            hooks: Told when the create takes its rate-limit token and when it meets a 429.
            abandon: What to do with a prediction found that way: ``"cancel"`` it remotely
                (:meth:`abandon`), another coroutine function, or None to leave it running.
            validate: Check the input against the model's schema first (see ``prepare``).
        """
        sent_input = await self._prepare(ref, input, validate)
        request = _sansio.build_create(
            ref,
            sent_input,
            wait=wait,
            cancel_after=cancel_after,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )
        encoding = (
            self._file_encoding
            if file_encoding is USE_CLIENT_DEFAULT
            else check_file_encoding(file_encoding)
        )
        request = await encode_request(
            request,
            encoding=encoding,
            max_data_uri_bytes=self._max_data_uri_bytes,
            upload=self._upload,
        )
        # Hooks that watch the create themselves (a batch's job, finish()'s) need no wrapper.
        watch = hooks if isinstance(hooks, CreateWatch) else CreateWatch(hooks)
        sent_at = time.time()  # the server's created_at is wall-clock time
        try:
            prediction = await self.session.send_prediction(
                request,
                create=True,
                read_timeout=_sansio.create_read_timeout(wait, self.session.timeouts),
                ref=ref,
                hooks=watch,
            )
        except BaseException as exc:
            if watch.sent and is_cancellation(exc):
                take = self.abandon if abandon == "cancel" else abandon
                await self._recover(ref, request.json["input"], sent_at, take)
            raise
        # When it went out times the first poll: kept only for a reply the poll times (without
        # output: see poll), or it would lie unread for MAX_CLAIMED creates (see _claims.py).
        timed = not prediction.status.is_terminal and prediction.output is None
        self._claimed.add(prediction.id, watch.at if timed else None)
        return prediction

    async def prepare_input(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None,  # noqa: A002 - the API's name
        *,
        validate: bool | None = None,
    ) -> Mapping[str, Any]:
        """The input a create of *ref* sends for *input* (a typed request mapped, checked)."""
        return await self._prepare(ref, input, validate)

    async def _recover(
        self,
        ref: str | Deployment,
        input: Any,  # noqa: A002 - the API's name
        sent_at: float,
        abandon: Callable[[Prediction], Awaitable[None]] | None,
    ) -> Prediction | None:
        """Find the prediction of a create abandoned before its reply, and hand it to *abandon*.

        Shielded from the caller's cancellation and bounded by :data:`CANCEL_GRACE`; a failure
        to look is logged, never raised (the caller is leaving).
        """
        found: Prediction | None = None
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
            try:
                found = await self._look_up(ref, canonical_json(input), sent_at)
            except ReplicateError as exc:
                logger.warning("could not look up an abandoned create's prediction: %s", exc)
            if found is None:
                logger.warning(
                    "a create was abandoned before its reply and its prediction was not found; "
                    "if the server accepted it, it runs to completion: check "
                    "client.predictions.list()"
                )
                return None
            self._claimed.add(found.id)
            logger.info("found prediction %s of an abandoned create", found.id)
            if abandon is not None:
                await abandon(found)
        return found

    async def _look_up(
        self, ref: str | Deployment, input_json: str, sent_at: float
    ) -> Prediction | None:
        """The newest unclaimed prediction made since *sent_at* by a create like this one."""
        since = datetime.fromtimestamp(sent_at - CLOCK_SLACK, UTC)
        for delay in LOOKUP_DELAYS:
            await anyio.sleep(delay)
            found = await self._newest_match(ref, input_json, since)
            if found is not None:
                return found
        return None

    async def _newest_match(
        self, ref: str | Deployment, input_json: str, since: datetime
    ) -> Prediction | None:
        """One look through the predictions made since *since* (newest first)."""
        # Closed at once when left early: trio refuses async generators left to the GC.
        async with contextlib.aclosing(self.list(created_after=since).pages()) as pages:
            async for page in pages:
                for prediction in page.results:
                    created = prediction.created_at
                    if created is not None and created < since:
                        return None  # older than the create: a server ignoring the filter
                    if prediction.id not in self._claimed and made_by(prediction, ref, input_json):
                        return prediction
        return None

    async def get(self, prediction_id: str, *, hooks: RequestHooks | None = None) -> Prediction:
        """Fetch a prediction by id."""
        return await self.session.send_prediction(_sansio.build_get(prediction_id), hooks=hooks)

    async def cancel(self, prediction_id: str) -> Prediction:
        """Cancel a prediction and return it."""
        return await self.session.send_prediction(_sansio.build_cancel(prediction_id))

    def list(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        source: str | None = None,
    ) -> AsyncPages[Prediction]:
        """The account's predictions, newest first, as a lazy list of pages (see AsyncPages)."""
        after, before = created_after, created_before
        params = {
            "created_after": None if after is None else timestamp(after, "created_after"),
            "created_before": None if before is None else timestamp(before, "created_before"),
            "source": source,
        }
        return AsyncPages(self.session, "/v1/predictions", Prediction, params=params)

    async def poll(
        self,
        prediction: P,
        *,
        within: float,
        reported_timeout: float,
        cancel_on_timeout: bool,
        abandon: Callable[[P], Awaitable[None]] | None,
        held: float | None = None,
        hooks: RequestHooks | None = None,
        fetch: Callable[[str], Awaitable[P]] | None = None,
        cancel: Callable[[str], Awaitable[object]] | None = None,
        on_update: Callable[[P], Awaitable[None]] | None = None,
    ) -> P:
        """Poll *prediction* until terminal, within *within* seconds: the one poll loop.

        Args:
            prediction: The prediction as last seen; returned at once when terminal.
            within: Seconds left to poll.
            reported_timeout: The caller's timeout, for PredictionTimeout.
            cancel_on_timeout: Cancel remotely when *within* passes.
            abandon: Called (shielded by the caller's choice) with the last prediction seen
                when the polling task is cancelled before it is terminal; None leaves it
                running.
            held: Seconds since the create was sent (held open by ``Prefer: wait``); None when
                unknown. When known, the first poll comes around the finish expected from this
                runner's earlier predictions of the model (:attr:`finishes`), else a reply
                without output after a long hold starts at the delay the backoff would have
                reached by then (:func:`~replicate_async._sansio.polling.scheduled_delays`),
                moved onto the expected finish once the model's first run finishes.
            hooks: Told of the polls' rate-limit tokens and 429s.
            fetch: Fetches the prediction by id (a training's GET); predictions' by default.
            cancel: Cancels it remotely on timeout (a training's cancel); predictions' by
                default.
            on_update: Awaited with *prediction*, then with each poll's reply, within the time.

        Raises:
            PredictionTimeout: *within* passed first (with the last prediction seen).
        """
        has_output = prediction.output is not None
        # Only a reply without output is timed from its create and polls around its expected
        # finish (scheduled_delays, PollSchedule): a reply with output (about to finish) keeps
        # the backoff's first delay, so it neither reads clocks nor looks its model up.
        expected = None
        if held is not None and not has_output:
            held = _since_created(held, prediction, self._claimed.sent(prediction.id))
            expected = self.finishes.times.expected(prediction)
        delays = scheduled_delays(
            policy := self.session.poll, held=held or 0.0, has_output=has_output, expected=expected
        )
        schedule = PollSchedule(delays, self.finishes, prediction, held=held, jitter=policy.jitter)
        # The common poll (a prediction's GET, nobody told of updates) calls self.get itself:
        # no partial per prediction in flight.
        refresh: Callable[[str], Awaitable[Any]] | None = fetch
        last = prediction
        # move_on_after(within), its deadline kept with every other poll loop's; an anyio scope
        # when a caller's on_update runs in it (it may shield its own work).
        try:
            with self._deadlines.bound(clock.now() + within, native=on_update is None) as block:
                if on_update is not None:
                    await on_update(last)
                    refresh = telling(fetch or functools.partial(self.get, hooks=hooks), on_update)
                # cancel_called too: a cancellation that something inside swallowed (an older
                # anyio's scope meeting it in the same pass as its own) still ends the loop.
                while _sansio.needs_confirmation(last) and not block.cancel_called:
                    await schedule.wait(last)
                    if refresh is None:  # P is Prediction: no fetch of another kind given
                        last = cast("P", await self.get(last.id, hooks=hooks))
                    else:
                        last = await refresh(last.id)
        except BaseException as exc:
            if is_cancellation(exc) and abandon is not None and _sansio.needs_confirmation(last):
                await abandon(last)
            raise
        if _sansio.needs_confirmation(last):
            if cancel_on_timeout:
                await cancel_quietly(cancel or self.cancel, last.id)
            raise PredictionTimeout(prediction=last, timeout=reported_timeout)
        self.finishes.learn(last)
        return last

    async def abandon(self, prediction: Prediction) -> None:
        """The default abandon step: cancel the prediction remotely, shielded and bounded."""
        await self.session.cancel_quietly(prediction.id)

    def output(self, prediction: Prediction, *, use_file_output: bool) -> Any:
        """A terminal prediction's output, or its error (PredictionFailed, PredictionCanceled).

        Raises:
            FileExpiredError: It succeeded but its output was already deleted.
        """
        output = _sansio.outcome(prediction).output
        if output is None and prediction.data_removed:
            raise FileExpiredError(
                status_code=None,
                message=(
                    f"prediction {prediction.id} succeeded but its output is gone: Replicate "
                    "deletes an API prediction's output (and its files) an hour after it "
                    "finishes; run it again and read or save the output within the hour"
                ),
            )
        if use_file_output:
            return to_file_outputs(output, self._downloader)
        return output

    async def run(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None,  # noqa: A002 - the API's name
        options: RunOptions,
    ) -> Any:
        """Run one prediction to its output: create, confirm, poll, cancel on abandon."""
        prediction = await self.finish(ref, input, options)
        return self.output(prediction, use_file_output=options.use_file_output)

    async def finish(
        self,
        ref: str | Deployment,
        input: Mapping[str, Any] | GenerationRequest | None,  # noqa: A002 - the API's name
        options: RunOptions,
    ) -> Prediction:
        """Run one prediction to a terminal status and return it (any terminal status)."""
        started = clock.now()
        budget, create_wait, cancel_after = plan_run(
            options.wait, options.timeout, cancel_on_timeout=options.cancel_on_timeout
        )
        # The caller's task cancelled during the create: its prediction is cancelled; the run's
        # deadline passed then: cancelled only when asked to.
        sent = AbandonWatch(self.abandon, cancel_on_timeout=options.cancel_on_timeout)
        with anyio.move_on_after(budget) as deadline:
            sent.deadline = deadline
            prediction = await self.create(
                ref,
                input,
                wait=create_wait,
                cancel_after=cancel_after,
                file_encoding=options.file_encoding,
                webhook=options.webhook,
                webhook_events_filter=options.webhook_events_filter,
                hooks=sent,
                abandon=sent.abandon,
                validate=options.validate,
            )
        if deadline.cancelled_caught:
            if sent.found is not None:
                raise PredictionTimeout(prediction=sent.found, timeout=budget)
            if not sent.sent:
                raise RequestTimeout(
                    message=(
                        f"the run's timeout ({budget:g} s) passed before its create was sent "
                        "(while its file inputs were read or uploaded); nothing was created"
                    ),
                    request_sent=False,
                )
            raise RequestTimeout(
                message=(
                    f"the create did not return within the run's timeout ({budget:g} s) and its "
                    "prediction was not found; it may have been created and billed: check "
                    "client.predictions.list() before creating it again"
                ),
                request_sent=True,
            )
        tell = progress_teller(options.on_progress)
        if _sansio.needs_confirmation(prediction):
            held = clock.now() - started
            prediction = await self.poll(
                prediction,
                within=budget - held,
                reported_timeout=budget,
                cancel_on_timeout=options.cancel_on_timeout,
                abandon=self.abandon,
                held=held,
                on_update=tell,
            )
        else:
            self.finishes.learn(prediction)
            if tell is not None:
                await tell(prediction)
        return prediction


def _since_created(held: float, prediction: Prediction, sent: float | None) -> float:
    """Seconds since *prediction* was created, for timing its polls: *held* (since the run
    began) counted from the create's send (*sent*, anyio's clock) instead, and from the reply's
    ``created_at`` when that is later (the server took the create in some time after it was
    sent: a burst of creates queues there), but never less than half of it (clocks differ)."""
    if sent is not None:
        held = min(held, clock.now() - sent)
    created = prediction.created_at
    if created is None:
        return held
    try:  # not contextlib.suppress, whose context manager costs more on this hot path
        since = time.time() - created.timestamp()
    except (TypeError, OverflowError, ValueError):  # naive, out of range
        return held
    return min(held, max(held / 2, since))
