# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Check a prediction's input before it is sent: JSON values only, apart from file inputs. Pure.

``json.dumps`` would send NaN as invalid JSON, fail on a datetime with a bare TypeError and on a
cycle with a RecursionError, all without saying which field. :func:`scan_input` walks the input
once, before any upload or create, and refuses such values with a ValidationError naming the
field path and what to pass instead. The same walk collects the file inputs that
``_uploads.encode_input`` turns into URLs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Final

from replicate_async.exceptions import InvalidField, ValidationError

__all__ = ["MAX_INPUT_DEPTH", "canonical_json", "input_path", "scan_input"]

MAX_INPUT_DEPTH: Final = 100
"""Most nested lists and dicts in an input: far past any model's schema, well under Python's
recursion limit, so neither the checks nor ``json.dumps`` can hit a RecursionError."""

#: Exact types that are JSON as they are; checked first, by identity, as most values are these.
_SCALARS: Final = frozenset({str, int, bool, type(None)})
_SHOWN_PATH: Final = 80


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, non-JSON values as their ``str``.

    What tells two inputs apart: a journal's keys and fingerprints, and the lookup of a
    prediction whose create was abandoned before its reply.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def input_path(parent: str, key: object) -> str:
    """The display path of a child value: ``input.images[2]``, ``input.cfg.mask``, ``input['a b']``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if isinstance(key, str) and key.isidentifier():
        return f"{parent}.{key}"
    return f"{parent}[{key!r}]"


#: How to turn a value of a non-JSON type into JSON, first match wins ({name} is its key).
_HINTS: Final[tuple[tuple[type | tuple[type, ...], str], ...]] = (
    ((dt.date, dt.time), "pass {name}.isoformat()"),  # datetime is a date
    (timedelta, "pass {name}.total_seconds()"),
    (decimal.Decimal, "pass float({name}) or str({name})"),
    (uuid.UUID, "pass str({name})"),
    (enum.Enum, "pass {name}.value"),
    ((set, frozenset), "pass a list, e.g. sorted({name})"),
)


def _what_to_pass(value: object, name: str) -> str:
    """How to turn a non-JSON *value* into JSON, for the error message."""
    for kinds, hint in _HINTS:
        if isinstance(value, kinds):
            return hint.format(name=name)
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars
        return f"pass {name}.tolist()"
    if isinstance(value, Iterable):
        return f"pass list({name})"
    return "pass a str, number, bool, None, list or dict"


class _Scan:
    """One walk over an input: JSON checks, file inputs found, whether it must be rebuilt.

    The path of the value being looked at is kept as a stack of keys and formatted only for
    a file input or an error, so a plain input costs one type lookup per value.
    """

    __slots__ = ("files", "is_file", "keys", "open", "rebuild")

    def __init__(self, is_file: Callable[[object], bool]) -> None:
        self.is_file = is_file
        self.files: list[tuple[str, Any]] = []
        self.keys: list[object] = []
        self.open: set[int] = set()  # ids of the containers being walked: a repeat is a cycle
        self.rebuild = False

    def path(self) -> str:
        """The display path of the current value."""
        path = "input"
        for key in self.keys:
            path = input_path(path, key)
        return path

    def fail(self, why: str) -> ValidationError:
        """The error for the current value, naming its path (shortened when very deep)."""
        path = self.path()
        if len(path) > _SHOWN_PATH:
            path = path[:_SHOWN_PATH] + "..."
        return ValidationError(
            status_code=None,
            message=f"{path}: {why}",
            invalid_fields=(InvalidField(type="json", field=path, description=why),),
        )

    def value(self, value: Any) -> None:
        """Check one value that is not an exact JSON scalar."""
        if isinstance(value, float):  # float and its subclasses (numpy's float64)
            if not math.isfinite(value):
                raise self.fail(f"{float(value)!r} is not valid JSON; send a number or null")
        elif isinstance(value, str | int):  # StrEnum, IntEnum: json encodes their value
            return
        elif isinstance(value, Mapping | list | tuple):
            self.container(value)
        elif self.is_file(value):
            self.files.append((self.path(), value))
        else:
            key = self.keys[-1] if self.keys else None
            name = key if isinstance(key, str) and key.isidentifier() else "value"
            hint = _what_to_pass(value, name)
            raise self.fail(f"{type(value).__name__} is not JSON; {hint}")

    def container(self, value: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> None:
        """Check a list, tuple or mapping and everything in it."""
        if len(self.keys) > MAX_INPUT_DEPTH:
            raise self.fail(f"nested deeper than {MAX_INPUT_DEPTH} levels; flatten it")
        marker = id(value)
        if marker in self.open:
            raise self.fail("circular reference")
        self.open.add(marker)
        keys = self.keys
        items: Iterable[tuple[Any, Any]]
        if type(value) is dict:
            items = value.items()
        elif isinstance(value, Mapping):
            self.rebuild = True  # json encodes only dicts: a MappingProxyType becomes one
            items = value.items()
        else:
            items = enumerate(value)
        isfinite = math.isfinite
        for key, item in items:
            kind = type(key)
            if kind is not str and kind is not int and not isinstance(key, str | int):
                raise self.fail(f"key {key!r} is not a string; JSON object keys are strings")
            kind = type(item)
            if kind in _SCALARS or (kind is float and isfinite(item)):
                continue
            keys.append(key)
            self.value(item)
            keys.pop()
        self.open.discard(marker)


def scan_input(
    input: Mapping[str, Any],  # noqa: A002  (the API's field name)
    is_file: Callable[[object], bool],
) -> tuple[list[tuple[str, Any]], bool]:
    """Check that *input* is JSON apart from its file inputs, before anything is sent.

    Refuses NaN and infinities (``json.dumps`` would send them as invalid JSON), values JSON
    has no form for (datetime, set, Decimal, custom objects...), circular containers and
    nesting deeper than :data:`MAX_INPUT_DEPTH`, with a ValidationError (status_code None)
    naming the field path and what to pass instead: ``input.d: datetime is not JSON; pass
    d.isoformat()``.

    Args:
        input: A prediction's input (a mapping with string keys).
        is_file: Tells a file input (a path, bytes, a file object, an output) from any other
            value that is not JSON; those are collected, not refused.

    Returns:
        The file inputs as ``(path, value)`` pairs, depth first, and whether the input holds a
        mapping that is not a dict (json encodes only dicts, so the input must be rebuilt).
    """
    if type(input) is dict and _flat(input):
        return [], False  # the common input: names to plain values, nothing to walk
    scan = _Scan(is_file)
    scan.container(input)
    return scan.files, scan.rebuild


def _flat(input: dict[Any, Any]) -> bool:  # noqa: A002  (the API's field name)
    """Whether *input* is a dict of string keys to strings, ints, bools, None and finite
    floats only: JSON as it is (what the scan would find, without its walk)."""
    isfinite = math.isfinite
    for key, item in input.items():
        kind = type(item)
        if type(key) is not str or not (kind in _SCALARS or (kind is float and isfinite(item))):
            return False
    return True
