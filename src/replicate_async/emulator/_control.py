# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Unauthenticated control routes for tests driving an out-of-process emulator (`/_emulator/…`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

import attrs

from replicate_async._config import RateLimit, RateLimits
from replicate_async.emulator._bodies import Refused, invalid_json, parse_json
from replicate_async.emulator._config import FaultAction, FaultRule
from replicate_async.emulator._http import api_route, json_response, problem

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from replicate_async.emulator._state import EmulatorState

_ACTIONS = frozenset(get_args(FaultAction))
_RULE_FIELDS = frozenset(f.name for f in attrs.fields(FaultRule))
_SWITCHES = (
    "time_scale",
    "retention",
    "wait_returns_terminal",
    "wait_timeout_status",
    "sync_data_urls",
)


def parse_rules(data: Any) -> list[FaultRule]:
    """Fault rules from JSON: a list of rule objects, or `{"rules": [...]}`; ValueError if bad."""
    if isinstance(data, dict):
        data = data.get("rules")
    if not isinstance(data, list):
        raise TypeError('expected a list of fault rules or {"rules": [...]}')
    rules = []
    for item in data:
        if not isinstance(item, dict) or item.get("action") not in _ACTIONS:
            raise TypeError(f"each rule needs an action, one of {sorted(_ACTIONS)}")
        unknown = set(item) - _RULE_FIELDS
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        rules.append(FaultRule(**item))
    return rules


def parse_limits(data: Any) -> RateLimits:
    """Rate limits from JSON: `{"create": {"per_minute": N, "burst": M} | null, …}`."""
    if not isinstance(data, dict) or set(data) - {"create", "get_prediction", "other"}:
        raise ValueError(
            "expected {create, get_prediction, other}: each {per_minute, burst} or null"
        )
    current = RateLimits()
    values: dict[str, RateLimit | None] = {}
    for name in ("create", "get_prediction", "other"):
        if name not in data:
            values[name] = getattr(current, name)
        elif data[name] is None:
            values[name] = None
        else:
            values[name] = RateLimit(**data[name])
    return RateLimits(**values)


async def _body(request: Request, depth: int) -> Any:
    """The JSON body (None when empty); malformed JSON is refused (400)."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return parse_json(raw, depth)
    except ValueError as exc:
        raise Refused(invalid_json(f"The request body is not valid JSON: {exc}")) from None


def _bad(exc: Exception) -> Response:
    """A 422 for a malformed control request."""
    return problem({"detail": str(exc), "status": 422})


class _Control:
    """The control endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def stats(self, _: Request) -> Response:
        """`GET /_emulator/stats`."""
        return json_response(self.state.stats_snapshot())

    async def faults(self, request: Request) -> Response:
        """`POST /_emulator/faults`: replace the fault rules."""
        try:
            rules = parse_rules(await _body(request, self.state.config.limits.json_depth))
        except (ValueError, TypeError) as exc:
            return _bad(exc)
        self.state.set_faults(rules)
        return json_response({"rules": [attrs.asdict(r) for r in rules]})

    async def reset(self, _: Request) -> Response:
        """`POST /_emulator/reset`."""
        self.state.reset()
        return json_response({"reset": True})

    async def travel(self, request: Request) -> Response:
        """`POST /_emulator/travel` `{"seconds": N}`: move the emulated clock forward."""
        data = await _body(request, self.state.config.limits.json_depth)
        seconds = data.get("seconds") if isinstance(data, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return _bad(ValueError('expected {"seconds": N} with N >= 0'))
        self.state.travel(float(seconds))
        return json_response({"now": self.state.now()})

    async def settings(self, request: Request) -> Response:
        """`POST /_emulator/settings`: runtime switches and `rate_limits`."""
        state = self.state
        data = await _body(request, self.state.config.limits.json_depth)
        if not isinstance(data, dict) or set(data) - {*_SWITCHES, "rate_limits"}:
            return _bad(
                ValueError(f"expected an object with keys from {[*_SWITCHES, 'rate_limits']}")
            )
        if "rate_limits" in data:
            try:
                limits = parse_limits(data["rate_limits"])
            except (ValueError, TypeError) as exc:
                return _bad(exc)
            state.set_rate_limits(limits)
        for name in _SWITCHES:
            if name in data:
                setattr(state, name, data[name])
        return json_response({name: getattr(state, name) for name in _SWITCHES})


def routes(state: EmulatorState) -> list[BaseRoute]:
    """`GET /_emulator/stats`, `POST /_emulator/faults`, `/reset`, `/travel`, `/settings`."""
    c = _Control(state)
    return [
        api_route(state, "/_emulator/stats", c.stats, methods=["GET"], auth=False, bucket=None),
        api_route(state, "/_emulator/faults", c.faults, methods=["POST"], auth=False, bucket=None),
        api_route(state, "/_emulator/reset", c.reset, methods=["POST"], auth=False, bucket=None),
        api_route(state, "/_emulator/travel", c.travel, methods=["POST"], auth=False, bucket=None),
        api_route(
            state, "/_emulator/settings", c.settings, methods=["POST"], auth=False, bucket=None
        ),
    ]
