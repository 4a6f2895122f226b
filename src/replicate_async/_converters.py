"""The one cattrs converter: JSON values <-> the attrs models of ``_models``.

Hooks for simple types (datetimes, string enums such as the status, pass-through mappings)
are registered before the class hook factories, as cattrs' customisation guide asks.
Every attrs class with an ``extra`` field gets hooks that keep unknown keys on the
way in and write them back on the way out.

This module names no model: every hook is keyed by a type or a predicate (an enum, an attrs
class with ``extra``), so it sits below ``_models``, whose ``to_dict`` uses :func:`unstructure`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_origin

import attrs

from .exceptions import DecodeError

if TYPE_CHECKING:
    import cattrs

    from ._structure_fast import FastBuilder

__all__ = [
    "converter",
    "format_datetime",
    "make_converter",
    "parse_datetime",
    "structure",
    "unstructure",
]

T = TypeVar("T")

# RFC 3339 as Replicate sends it: 'Z', and 0 to 9 fractional digits (3, 6, 8 and 9 all occur).
# Python 3.11's fromisoformat() takes neither 8 nor 9 digits, so the fraction is normalised first.
_DATETIME_RE = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    [Tt\x20]
    (?P<time>\d{2}:\d{2}(?::\d{2})?)
    (?:[.,](?P<fraction>\d+))?
    (?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE,
)


# The shapes the API sends nearly always: UTC as 'Z', no fraction or 1 to 6 digits
# ('2026-12-06T05:52:19.123456Z'). Checked by position, without a regular expression, and
# parsed by datetime.fromisoformat itself: the fast path of every decoded prediction's timestamps.
_SHORTEST, _LONGEST = 20, 27  # no fraction; 6 digits
# What took the fast path before (any Unicode digits): its errors are fromisoformat's.
_COMMON_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6})?Z")


def parse_datetime(value: str) -> datetime:
    """Parse an RFC 3339 timestamp with any fractional precision; no offset means UTC."""
    size = len(value)
    if (
        _SHORTEST <= size <= _LONGEST
        and value[-1] == "Z"
        and value[4] == value[7] == "-"
        and value[10] == "T"
        and value[13] == value[16] == ":"
        and (size == _SHORTEST or (size > _SHORTEST + 1 and value[19] == "."))
    ):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            if _COMMON_RE.fullmatch(value) is not None:  # digits, yet no date: its own words
                raise
    return parse_any_datetime(value)


def parse_any_datetime(value: str) -> datetime:
    """:func:`parse_datetime` without its fast path: any RFC 3339 shape, by regular expression."""
    match = _DATETIME_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value[:40]!r}")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    tz = match["tz"]
    parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    if tz is None or tz in "Zz":
        return parsed.replace(tzinfo=UTC)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return parsed.replace(tzinfo=timezone(sign * offset))


def format_datetime(value: datetime) -> str:
    """Render a datetime as RFC 3339, with 'Z' for UTC (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _structure_datetime(value: Any, _: type) -> datetime:
    """Structure hook for datetimes: strings as RFC 3339, datetimes as they are."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parse_datetime(value)


def _structure_str_enum(value: Any, cls: type[enum.StrEnum]) -> enum.StrEnum:
    """Structure hook for string enums: strings only; the enum maps strings it does not know
    (the status makes them UNKNOWN through its ``_missing_``)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a {cls.__name__} string, got {type(value).__name__}")
    return cls(value)


def _unstructure_str_enum(value: enum.StrEnum) -> str:
    """Unstructure a string enum as its plain string."""
    return str(value.value)


def _structure_mapping(value: Any, _: type) -> Mapping[str, Any]:
    """Pass a JSON object through untouched (``input`` belongs to the model, not to us)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _unstructure_mapping(value: Mapping[str, Any]) -> Any:
    """Unstructure a pass-through mapping as a plain dict."""
    return dict(value)


def _is_optional(cls: Any) -> bool:
    """Whether cls is ``X | None`` of one type X."""
    args = getattr(cls, "__args__", None)
    return (
        get_origin(cls) in (Union, UnionType)
        and args is not None
        and len(args) == 2  # noqa: PLR2004
        and type(None) in args
    )


def _make_structure_optional(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Hook factory for ``X | None``: X's hook looked up once, not on every value (cattrs'
    own optional hook dispatches on X for each one: a third of a prediction's decoding)."""
    inner_type = next(a for a in cls.__args__ if a is not type(None))
    inner = converter.get_structure_hook(inner_type)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else inner(value, inner_type)

    return structure


def _is_json_object(cls: Any) -> bool:
    """Whether cls is ``Mapping[str, Any]``, the type of pass-through JSON objects."""
    return bool(cls == Mapping[str, Any])


def _has_extra(cls: Any) -> bool:
    """Whether cls (or its generic origin) is an attrs class with an ``extra`` field."""
    base = get_origin(cls) or cls
    return (
        isinstance(base, type)
        and attrs.has(base)
        and any(a.name == "extra" for a in attrs.fields(base))
    )


def _known_keys(cls: Any) -> frozenset[str]:
    """The JSON keys a model class maps to fields."""
    base = get_origin(cls) or cls
    return frozenset(a.name for a in attrs.fields(base) if a.name != "extra")


def _make_structure_keeping_extra(
    cls: Any, converter: cattrs.Converter, fast: FastBuilder | None = None
) -> Callable[[Any, Any], Any]:
    """Hook factory: cattrs' generated structure function, plus unknown keys kept in ``extra``.

    With *fast*, the class's generated fast function runs first; on input it does not
    handle (it raises), cattrs' function decodes the value again from the start, giving
    the very value or error it always gave.
    """
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415 - see converter()

    known = _known_keys(cls)
    # cattrs' function, generated when first needed: with a fast function, only for a reply it
    # does not handle (generating it costs milliseconds, at the first reply of a process).
    made: list[Callable[[Any, Any], Any]] = []

    def structure(value: Any, type_: Any) -> Any:
        # A dict (every decoded reply) is checked without the ABC machinery.
        if type(value) is not dict and not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object, got {type(value).__name__}")
        if not made:
            made.append(make_dict_structure_fn(cls, converter, extra=override(omit=True)))
        obj = made[0](value, type_)
        if value.keys() - known:  # one set operation in C for the common reply: no new key
            unknown = {k: v for k, v in value.items() if k not in known}
            # The instance was built a moment ago and is not shared yet; setting the
            # field directly avoids a second __init__ run for the rare payload with new keys.
            object.__setattr__(obj, "extra", unknown)
        return obj

    quick = fast.hook(cls, structure) if fast is not None else None
    return structure if quick is None else quick


def _make_unstructure_with_extra(
    cls: Any, converter: cattrs.Converter
) -> Callable[[Any], dict[str, Any]]:
    """Hook factory: cattrs' generated unstructure function, plus the kept ``extra`` keys."""
    from cattrs.gen import make_dict_unstructure_fn, override  # noqa: PLC0415 - see converter()

    inner = make_dict_unstructure_fn(cls, converter, extra=override(omit=True))

    def unstructure(obj: Any) -> dict[str, Any]:
        data: dict[str, Any] = inner(obj)
        for key, value in obj.extra.items():
            data.setdefault(key, converter.unstructure(value))
        return data

    return unstructure


def make_converter(*, fast: bool = True) -> cattrs.Converter:
    """Build a converter with this package's hooks (one per process is enough: see converter).

    *fast* False leaves out the generated fast functions of the model classes: cattrs' own
    functions alone, the reference the fast ones are tested against.
    """
    import cattrs  # noqa: PLC0415 - see converter()

    from ._structure_fast import FastBuilder  # noqa: PLC0415 - written with the converter

    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, format_datetime)
    # Registered for the StrEnum base: cattrs dispatches on the class's MRO, where StrEnum
    # comes before str (whose hooks would pass the member through as it is).
    converter.register_structure_hook(enum.StrEnum, _structure_str_enum)
    converter.register_unstructure_hook(enum.StrEnum, _unstructure_str_enum)
    converter.register_structure_hook_factory(_is_optional, _make_structure_optional)
    converter.register_structure_hook_func(_is_json_object, _structure_mapping)
    converter.register_unstructure_hook_func(_is_json_object, _unstructure_mapping)
    # One builder per converter: a class's fast function is written when its hook is first
    # asked for, and nested model classes reuse theirs.
    builder = FastBuilder(_has_extra, parse_datetime) if fast else None

    def keeping_extra(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
        return _make_structure_keeping_extra(cls, converter, builder)

    converter.register_structure_hook_factory(_has_extra, keeping_extra)
    converter.register_unstructure_hook_factory(_has_extra, _make_unstructure_with_extra)
    return converter


_converter: cattrs.Converter | None = None


def converter() -> cattrs.Converter:
    """The package's converter, built on first use. Never the global ``cattrs`` one, so users'
    hooks cannot leak in.

    cattrs is imported here, with the first reply decoded, not by ``import replicate_async``
    (it costs more than the rest of the package's own modules together).
    """
    global _converter  # noqa: PLW0603 - one converter per process, built once
    if _converter is None:
        _converter = make_converter()
    return _converter


def __getattr__(name: str) -> Any:
    """``CONVERTER``: the package's converter (see :func:`converter`), made when first asked for."""
    if name == "CONVERTER":
        return converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The hooks of one converter by class, each looked up once: cattrs' dispatch on every call
# costs as much as structuring a small nested object.
_hooks: dict[Any, Callable[[Any, Any], Any]] = {}
_hooks_of: list[cattrs.Converter] = []  # the converter they belong to


def _hook(conv: cattrs.Converter, cls: Any) -> Callable[[Any, Any], Any]:
    """conv's structure hook for cls, remembered (for conv only: another forgets them)."""
    if not _hooks_of or _hooks_of[0] is not conv:
        _hooks.clear()
        _hooks_of[:] = [conv]
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = conv.get_structure_hook(cls)
    return hook


def structure(data: Any, cls: type[T]) -> T:
    """Structure a decoded JSON value into ``cls``, raising DecodeError on a wrong shape."""
    try:
        result: T = _hook(_converter or converter(), cls)(data, cls)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DecodeError(message=f"unexpected reply shape: {_type_name(cls)}: {exc}") from exc
    except Exception as exc:
        import cattrs  # noqa: PLC0415 - loaded by converter() already

        if not isinstance(exc, cattrs.BaseValidationError):
            raise
        problems = cattrs.transform_error(exc, path=_type_name(cls))
        raise DecodeError(message=f"unexpected reply shape: {_summarise(problems)}") from exc
    return result


def unstructure(obj: Any) -> Any:
    """Turn a model into JSON-able values with the API's keys (``extra`` keys included)."""
    return (_converter or converter()).unstructure(obj)


def _type_name(cls: Any) -> str:
    """A short readable name for a (possibly generic) type."""
    base = get_origin(cls) or cls
    return getattr(base, "__name__", str(cls))


def _summarise(problems: list[str], limit: int = 5) -> str:
    """Join cattrs' error lines, keeping the first few."""
    shown = "; ".join(problems[:limit])
    if len(problems) > limit:
        shown += f"; and {len(problems) - limit} more"
    return shown
