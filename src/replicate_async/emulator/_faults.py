# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Injected faults: the active rules, and how many more times each may fire."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random
    from collections.abc import Collection, Iterable

    from replicate_async.emulator._config import FaultRule


class ActiveFault:
    """One fault rule in force, with what is left of its `count` (None: unlimited)."""

    __slots__ = ("remaining", "rule")

    def __init__(self, rule: FaultRule) -> None:
        """The rule with its full count."""
        self.rule = rule
        self.remaining = rule.count

    def fires(self, rng: random.Random) -> bool:
        """Whether the rule fires for this request (drawing on `rate`, consuming the count)."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.rule.rate < 1.0 and rng.random() >= self.rule.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


class Faults:
    """The fault rules in force (false when there are none).

    Args:
        rules: The rules, in the order they are tried.
    """

    __slots__ = ("active",)

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        """Every rule with its full count."""
        self.active = [ActiveFault(rule) for rule in rules]

    def __bool__(self) -> bool:
        """Whether any rule is in force."""
        return bool(self.active)

    def pick(self, route: str, group: str | None, rng: random.Random) -> list[FaultRule]:
        """The rules that fire for one API request of `route` (or its `group`), in order."""
        fired = []
        for fault in self.active:
            rule = fault.rule
            if rule.route not in ("*", route, group) or rule.action == "drop_stream":
                continue
            if fault.fires(rng):
                fired.append(rule)
        return fired

    def stream_drop(self, routes: Collection[str], rng: random.Random) -> int | None:
        """The event count after which to drop a stream, if a `drop_stream` rule for `routes` fires."""
        for fault in self.active:
            rule = fault.rule
            if rule.action != "drop_stream" or rule.route not in routes:
                continue
            if fault.fires(rng):
                return max(int(rule.events), 0)
        return None
