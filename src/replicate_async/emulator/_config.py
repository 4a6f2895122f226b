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

    Args:
        name: The deployment's `owner/name`.
        model: The `owner/name` of the fake model it runs.

    .. versionadded:: 0.1.0
    """

    name: str
    model: str


WaitTimeoutStatus = Literal["starting", "actual"]


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
        base_url: Absolute base for URLs in responses (`urls.get`, `next`, file URLs); default: the
            request's own scheme and Host.
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
    seed: int | None = None

    def model_map(self) -> Mapping[str, FakeModel]:
        """The models by `owner/name`."""
        return {m.ref: m for m in self.models}
