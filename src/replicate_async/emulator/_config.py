# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Configuration of the emulator: frozen attrs classes, read once by `create_app`.

`RateLimit` and `RateLimits` are the client's own (`replicate_async._config`), re-exported here:
one definition of the API's buckets for the side that paces and the side that enforces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from replicate_async._config import DEFAULT_RATE_LIMITS, RateLimit, RateLimits

if TYPE_CHECKING:
    from collections.abc import Mapping

    from replicate_async.emulator._fake_models import FakeModel

__all__ = [
    "DEFAULT_TOKEN",
    "DeploymentConfig",
    "EmulatorConfig",
    "FaultAction",
    "FaultRule",
    "RateLimit",
    "RateLimits",
    "RequestLimits",
    "WaitTimeoutStatus",
]

#: The token the emulator accepts unless configured otherwise (40 chars, like a real `r8_` token).
DEFAULT_TOKEN = "r8_emulator0000000000000000000000000000"  # noqa: S105 - a public test token


FaultAction = Literal["error", "accept_then_error", "delay", "drop", "drop_stream"]


@attrs.frozen(kw_only=True)
class FaultRule:
    """One injected fault, matched against each API request's route.

    `route` is `"*"` (every route), a route key such as `"POST /v1/predictions"` or
    `"GET /v1/predictions/{id}"`, or a group: `"create"` (the three create routes), `"get"`
    (`GET /v1/predictions/{id}`).

    Actions:

    - `error`: answer `status` (a 5xx by default) instead of handling the request.
    - `accept_then_error`: handle the request (a create really creates the prediction), then answer
      `status` anyway: the client cannot know its request was accepted.
    - `delay`: handle the request, then hold the response for `delay` seconds (provokes client read
      timeouts; a create has already created its prediction).
    - `drop`: close the connection without any response. With `after=True` the request is handled
      first (the prediction exists), otherwise it is dropped unseen.
    - `drop_stream`: a server-sent-events stream (`urls.stream`) sends `events` events, then its
      connection drops (clients resume with `Last-Event-ID`). Only stream routes see it.

    Args:
        action: What to do, see above.
        route: Which requests the rule applies to.
        rate: Probability (0..1) that a matching request is affected.
        status: HTTP status for `error` / `accept_then_error`.
        delay: Seconds for `delay`.
        count: Affect at most this many requests, then the rule is spent (`None`: unlimited).
        after: For `drop` and `error`: handle the request before failing.
        events: For `drop_stream`: how many events a stream sends before its connection drops.

    .. versionadded:: 0.1.0
    """

    action: FaultAction
    route: str = "*"
    rate: float = 1.0
    status: int = 500
    delay: float = 0.0
    count: int | None = None
    after: bool = False
    events: int = 0


@attrs.frozen(kw_only=True)
class DeploymentConfig:
    """A deployment the emulator knows: `owner/name` running a fake model.

    It starts at release 1, running the model's version; the API may update or delete it until
    the emulator's next reset.

    Args:
        name: The deployment's `owner/name`.
        model: The `owner/name` of the fake model it runs.
        hardware: The hardware SKU its release names.
        min_instances: Its release's lower instance bound (0 to 5).
        max_instances: Its release's upper instance bound (0 to 20).

    .. versionadded:: 0.1.0
    """

    name: str
    model: str
    hardware: str = "cpu"
    min_instances: int = 0
    max_instances: int = 1


WaitTimeoutStatus = Literal["starting", "actual"]

_MIB = 1024 * 1024


@attrs.frozen(kw_only=True)
class RequestLimits:
    """How much of a request the emulator takes before it refuses it (400 or 413 problem+json).

    The real API's limits are not published except the Files API's (files of 100 MB or more get
    413); the others are the emulator's choice, generous for real clients and small enough that
    a hostile request cannot take the emulator's memory.

    Args:
        body_bytes: Bodies of every route but `POST /v1/files` (JSON, or the `QUERY /v1/models`
            text): larger ones get 413. A declared `Content-Length` over it is refused before
            any byte is read; a chunked body as soon as the count passes it.
        json_depth: JSON nested deeper than this (arrays and objects) gets 400.
        file_bytes: Files API uploads whose content has this many bytes or more get the real 413
            (`"Files must be less than 100MB in size"`). Switchable at runtime,
            `POST /_emulator/files/settings {"max_size": N}`.
        form_fields: Parts of a Files API upload besides `content` (`filename`, `type`,
            `metadata`, ...): more get 400.
        form_field_bytes: Bytes of one such part: more get 413.
        drain_bytes: After a 413, the rest of a body up to this size is read and thrown away, so
            a client that writes its whole body before reading the answer (aiohttp) sees the
            413 rather than a broken pipe; a longer (or chunked) rest is not read: the 413 goes
            out with `Connection: close`.

    .. versionadded:: 0.1.0
    """

    body_bytes: int = 10 * _MIB
    json_depth: int = 100
    file_bytes: int = 100 * _MIB
    form_fields: int = 16
    form_field_bytes: int = 64 * 1024
    drain_bytes: int = 128 * _MIB

    def upload_bytes(self, file_bytes: int) -> int:
        """The most a `POST /v1/files` body may declare with content under `file_bytes`.

        Content plus every field's room: only a bound for refusing early; the content part is
        held to `file_bytes` as it streams.
        """
        return file_bytes + self.form_fields * (self.form_field_bytes + 8 * 1024) + _MIB


def _default_models() -> tuple[FakeModel, ...]:
    from replicate_async.emulator._catalogue import default_catalogue  # noqa: PLC0415

    return default_catalogue()


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """Everything the emulator can be told at start; runtime switches live on its state.

    Args:
        tokens: API tokens accepted (`Bearer` or legacy `Token`). Empty: any non-empty token.
        models: The fake models (default: `default_catalogue()`).
        deployments: Deployments, each running one of the models.
        time_scale: Multiplies every emulated duration: model queue and run times, `Prefer: wait`
            and `Cancel-After`. `0.01` runs a 10 s model in 0.1 s.
        retention: Seconds (wall clock, not scaled) after completion before a prediction's data
            are removed (`data_removed: true`, output null, delivery URLs 404). Real: 3600.
        grace: Seconds after data removal before the prediction is forgotten entirely (then 404).
        max_predictions: Cap on stored predictions; the oldest are forgotten first.
        rate_limits: Token buckets; the defaults are the real limits.
        faults: Fault rules active from the start (tests usually set them at runtime).
        wait_returns_terminal: If true, a `Prefer: wait` that ends with all outputs answers the
            terminal object (`succeeded`, with `completed_at` and `metrics`) instead of the real
            quirk (`processing` with the full output and no `completed_at`).
        wait_timeout_status: When a `Prefer: wait` runs out first: `"starting"` answers the object
            as the official clients assume (status `starting`, no output), `"actual"` answers the
            current state (possibly `processing` with partial output).
        sync_data_urls: Answer file outputs of `Prefer: wait` responses as `data:` URLs (the
            October 2024 behaviour), to test clients' handling of them.
        vary_timestamp_precision: Emit 3, 6 or 9 fractional digits at random, as the real API does.
        base_url: Absolute base for URLs in responses and webhook bodies (`urls.get`, `next`,
            stream, delivery and file URLs); set it when clients reach the emulator through a
            proxy. Default: the address the request arrived on, the emulator's own socket (never
            the request's `Host` or `X-Forwarded-*` headers, which any client can forge).
        limits: Request size and shape limits (`RequestLimits`).
        seed: Seed for the emulator's randomness (fault rates, latency ranges, generated data).

    .. versionadded:: 0.1.0
    """

    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    models: tuple[FakeModel, ...] = attrs.field(factory=_default_models)
    deployments: tuple[DeploymentConfig, ...] = (
        DeploymentConfig(name="emulator/echo-deployment", model="emulator/echo"),
    )
    time_scale: float = 1.0
    retention: float = 3600.0
    grace: float = 600.0
    max_predictions: int = 50_000
    rate_limits: RateLimits = DEFAULT_RATE_LIMITS
    faults: tuple[FaultRule, ...] = ()
    wait_returns_terminal: bool = False
    wait_timeout_status: WaitTimeoutStatus = "starting"
    sync_data_urls: bool = False
    vary_timestamp_precision: bool = False
    base_url: str | None = None
    limits: RequestLimits = RequestLimits()
    seed: int | None = None

    def model_map(self) -> Mapping[str, FakeModel]:
        """The models by `owner/name`."""
        return {m.ref: m for m in self.models}
