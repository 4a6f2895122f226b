# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Checks the image, text and audio entries share, beside the :class:`Builder`'s own.

Enumerations are read from the shipped schema (:func:`enum_of`), so an entry's refusal lists
exactly what the model's schema allows and cannot drift from it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from replicate_async._schemas import load, resolve
from replicate_async.catalog._builder import is_file_source
from replicate_async.exceptions import InvalidField, ValidationError

if TYPE_CHECKING:
    from replicate_async.catalog._builder import Builder

__all__ = [
    "FILE_SOURCES",
    "at_least",
    "enum_of",
    "file_source",
    "long_choice",
    "whole_at_least",
]

FILE_SOURCES = "a URL (https:// or data:), a Path, bytes or a binary file"
"""What a file input may be, for refusals."""


@cache
def enum_of(stem: str, key: str) -> tuple[Any, ...]:
    """The values the shipped schema *stem* allows for its input *key* (``$ref`` enums too)."""
    record = load(stem)
    node = resolve(record["input"]["properties"][key], record.get("components") or {})
    return tuple(node["enum"])


def long_choice(builder: Builder, field: str, value: Any, allowed: tuple[str, ...]) -> Any:
    """*value* when it is one of a long string enum (None passes), else a refusal.

    The message names the first few values and how many there are (a full list would pass
    the one-line cap of error messages); ``invalid_fields`` holds them all.
    """
    if value is None or value in allowed:
        return value
    head = ", ".join(allowed[:_SHOWN])
    try:
        builder.fail(
            field, value, f"one of {len(allowed)} values: {head}, ... (all in invalid_fields)"
        )
    except ValidationError as refusal:
        every = InvalidField(type="enum", field=field, description=f"one of {', '.join(allowed)}")
        raise ValidationError(
            status_code=None, message=refusal.message, invalid_fields=(every,)
        ) from None


_SHOWN = 6


def whole_at_least(builder: Builder, field: str, value: Any, low: int) -> int | None:
    """*value* as an int when it is a whole number of at least *low* (None passes)."""
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not float(value).is_integer() or value < low:
        builder.fail(field, value, f"a whole number of at least {low}")
    return int(value)


def at_least(builder: Builder, field: str, value: Any, low: float) -> Any:
    """*value* when it is a number of at least *low* (None passes)."""
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not value >= low:  # NaN compares false
        builder.fail(field, value, f"a number of at least {low:g}")
    return value


def file_source(builder: Builder, field: str, value: Any) -> Any:
    """*value* when it can be a file input (None passes): a plain path string is refused."""
    if value is not None and not is_file_source(value):
        builder.fail(field, value, FILE_SOURCES)
    return value
