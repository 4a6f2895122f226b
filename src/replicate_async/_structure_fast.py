# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Generated fast structure functions for the attrs models that keep ``extra``.

cattrs' own generated function is general: per field it dispatches to a hook, builds a
keyword dict, collects errors for detailed validation and calls the class. Decoding a
prediction that way costs about 10 us, the larger part of every reply. :class:`FastBuilder`
writes one plain function per model class instead (the source is built, compiled and kept in
``linecache`` so tracebacks show it, as attrs and cattrs do), with each field's conversion
inlined by its type.

A fast function only knows well-formed input, exactly typed as ``json.loads`` gives it. On
anything else (a wrong type, a missing required key, a timestamp of an unusual shape) it
raises, and the caller (``_converters``) runs cattrs' path instead, which gives today's value
or today's error. So the fast path never has to produce an error message, and it never
accepts a value cattrs would convert differently: a number where a string belongs is handed
to cattrs, whatever cattrs makes of it.

An instance is made as attrs' ``__init__`` makes it, without running it: ``object.__new__``,
then each slot stored through its own descriptor (a frozen class's ``__setattr__`` refuses).
For a prediction's 20 fields that took 1.2 us, against 1.7 us with ``object.__setattr__`` per
slot, 1.8 us for ``cls(**kwargs)`` and 2.2 us for a keyword call of ``__init__``. Nested models
are written inline, in the same function.

A class gets no fast function (None) when a field has a type this module does not handle,
or when its ``__init__`` does more than store values (validators, converters, ``init=False``
fields, an ``__attrs_pre_init__``, hash caching, no slots): cattrs alone decodes it.
"""

from __future__ import annotations

import enum
import itertools
import linecache
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MemberDescriptorType, NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs

__all__ = ["FastBuilder", "Refused"]

_counter = itertools.count()


class Refused(Exception):  # noqa: N818 - a signal to the caller, never shown to users
    """Raised by a fast function on input it does not handle: decode it the slow way."""


def _optional_of(tp: Any) -> Any | None:
    """X for ``X | None`` (one X), else None."""
    if get_origin(tp) not in (Union, UnionType):
        return None
    args = [a for a in get_args(tp) if a is not NoneType]
    if len(args) != 1 or len(get_args(tp)) != 2:  # noqa: PLR2004
        return None
    return args[0]


def _resolve(tp: Any, typevars: Mapping[Any, Any]) -> Any:
    """tp with the type variables of a generic class replaced (None when one is unbound)."""
    if isinstance(tp, TypeVar):
        return typevars.get(tp)
    inner = _optional_of(tp)
    if inner is not None:
        resolved = _resolve(inner, typevars)
        return None if resolved is None else resolved | None
    if get_origin(tp) is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            item = _resolve(args[0], typevars)
            return None if item is None else tuple[item, ...]  # type: ignore[valid-type]
    return tp


class _Source:
    """The body of one generated function, and the namespace its names are read from."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"Refused": Refused, "missing": object()}

    def name(self, prefix: str, value: Any) -> str:
        """A new namespace name bound to value."""
        key = f"{prefix}_{len(self.namespace)}"
        self.namespace[key] = value
        return key

    def add(self, lines: list[str], indent: int = 1) -> None:
        """Append lines to the function body, indented by indent levels."""
        self.lines.extend("    " * indent + line for line in lines)


class FastBuilder:
    """Builds (once per class, cached) the fast structure function of an attrs model class.

    Args:
        keeps_extra: Whether a class is one whose hook keeps unknown keys in ``extra``
            (only such classes get a fast function, and only they may be nested in one).
        parse_datetime: The converter's timestamp parser, for strings.
    """

    def __init__(
        self, keeps_extra: Callable[[Any], bool], parse_datetime: Callable[[str], datetime]
    ) -> None:
        self._keeps_extra = keeps_extra
        self._parse_datetime = parse_datetime
        self._built: dict[Any, Callable[[Any], Any] | None] = {}
        self._building: set[Any] = set()

    def function(self, cls: Any) -> Callable[[Any], Any] | None:
        """The fast function of cls (a dict in, an instance out; :class:`Refused` or another
        exception on input it does not handle), or None when cls gets none. Compiled when
        first asked for: a nested model is written inline into its container's function, so
        only an array's items need one of their own."""
        if cls in self._built:
            return self._built[cls]
        if cls in self._building:  # a class that contains itself: left to cattrs
            return None
        built = self._built[cls] = self._build(cls)
        return built

    def hook(
        self, cls: Any, fallback: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], Any] | None:
        """A structure hook for cls: its fast lines, and on any exception ``fallback(value,
        type)`` from the start (None when cls gets no fast function)."""
        src = _Source()
        body = self._body(src, cls, _Names(0))
        if body is None:
            return None
        src.namespace["fallback"] = fallback
        lines = ["try:", *_indent(body), "except Exception:", "    return fallback(o, t)"]
        src.add([*lines, "return obj"])
        name = f"structure_{(get_origin(cls) or cls).__name__}_or_cattrs"
        hook: Callable[[Any, Any], Any] = _compile(name, src, "o, t")
        return hook

    def _build(self, cls: Any) -> Callable[[Any], Any] | None:
        """Write, compile and return the fast function of cls (None when not possible)."""
        src = _Source()
        body = self._body(src, cls, _Names(0))
        if body is None:
            return None
        src.add([*body, "return obj"])
        function: Callable[[Any], Any] = _compile(
            f"structure_{(get_origin(cls) or cls).__name__}", src, "o"
        )
        return function

    def _body(self, src: _Source, cls: Any, n: _Names) -> list[str] | None:
        """The lines making an instance of cls (in ``n.obj``) from the JSON object ``n.o``
        (None when cls is not handled, or contains itself: left to cattrs)."""
        if cls in self._building:
            return None
        self._building.add(cls)
        try:
            return self._lines(src, cls, n)
        finally:
            self._building.discard(cls)

    def _lines(self, src: _Source, cls: Any, n: _Names) -> list[str] | None:
        """:meth:`_body` for a class not being written already."""
        base = get_origin(cls) or cls
        if not (isinstance(base, type) and attrs.has(base) and self._keeps_extra(cls)):
            return None
        if not _plain_init(base):
            return None
        typevars = dict(zip(getattr(base, "__parameters__", ()), get_args(cls), strict=False))
        try:
            attrs.resolve_types(base)
        except NameError:  # an annotation naming what its module does not have
            return None
        lines = [f"if type({n.o}) is not dict:", "    raise Refused", f"{n.g} = {n.o}.get"]
        lines.append(f"{n.obj} = {src.name('new', object.__new__)}({src.name('cls', base)})")
        known: list[str] = []
        for field in attrs.fields(base):
            if field.name == "extra":
                continue
            tp = _resolve(field.type, typevars)
            field_lines = None if tp is None else self._field(src, base, field, tp, n)
            if field_lines is None:
                return None
            lines += field_lines
            known.append(field.name)
        set_extra = _setter(base, "extra")
        if set_extra is None:
            return None
        setter, known_set = src.name("set", set_extra), src.name("known", frozenset(known))
        # issuperset walks the reply's keys without building a set: most replies have no new key.
        lines += [
            f"if {known_set}.issuperset({n.o}):",
            f"    {setter}({n.obj}, {{}})",
            "else:",
            f"    {setter}({n.obj}, {{k: x for k, x in {n.o}.items() if k not in {known_set}}})",
        ]
        if hasattr(base, "__attrs_post_init__"):
            lines.append(f"{n.obj}.__attrs_post_init__()")
        return lines

    def _field(
        self, src: _Source, base: type, field: attrs.Attribute[Any], tp: Any, n: _Names
    ) -> list[str] | None:
        """The lines of one field: read, check, convert, store (None: not handled)."""
        inner = _optional_of(tp)
        kind = tp if inner is None else inner
        convert = self._conversion(src, kind, n)
        set_field = _setter(base, field.name)
        if convert is None or set_field is None:
            return None
        default: Any = field.default
        key, v = repr(field.name), n.v
        if inner is None and kind == Mapping[str, Any]:  # null is an empty object
            convert = [f"if {v} is None:", f"    {v} = {{}}", "else:", *_indent(convert)]
        elif inner is not None and convert:  # null stays null
            if convert[1:] == ["    raise Refused"]:  # a type check only: one condition
                convert = [f"if {v} is not None and {convert[0][3:]}", convert[1]]
            else:
                convert = [f"if {v} is not None:", *_indent(convert)]
        if default is attrs.NOTHING:  # required: KeyError when absent
            lines = [f"{v} = {n.o}[{key}]", *convert]
        elif default is None and (inner is not None or kind is Any):  # absent is null
            lines = [f"{v} = {n.g}({key})", *convert]
        else:
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                if default.takes_self:
                    return None
                factory = default.factory
                made = "{}" if factory is dict else f"{src.name('factory', factory)}()"
            else:
                made = src.name("default", default)
            lines = [f"{v} = {n.g}({key}, missing)", f"if {v} is missing:", f"    {v} = {made}"]
            if convert:
                lines += ["else:", *_indent(convert)]
        return [*lines, f"{src.name('set', set_field)}({n.obj}, {v})"]

    def _conversion(self, src: _Source, kind: Any, n: _Names) -> list[str] | None:
        """The lines converting ``n.v`` of a non-optional type in place (raising on input they
        do not handle), or None when the type is not handled."""
        lines = self._leaf(src, kind, n.v)
        if lines is not None:
            return lines
        if get_origin(kind) is tuple:
            return self._tuple(src, kind, n.v)
        # The nested model's lines, inline: no call per nested object (None: not a model, or
        # one that contains itself).
        inner = n.deeper()
        body = self._body(src, kind, inner)
        return None if body is None else [f"{inner.o} = {n.v}", *body, f"{n.v} = {inner.obj}"]

    def _leaf(self, src: _Source, kind: Any, v: str) -> list[str] | None:
        """The conversion of a JSON value that is not an array or a model (None: not one)."""
        refuse = "    raise Refused"
        if kind is Any:
            lines: list[str] = []
        elif kind in (str, int, bool):
            lines = [f"if type({v}) is not {src.name(kind.__name__, kind)}:", refuse]
        elif kind is float:  # an integer is a float, as float() makes it
            lines = [
                f"if type({v}) is not float:",
                f"    if type({v}) is not int:",
                "    " + refuse,
            ]
            lines.append(f"    {v} = float({v})")
        elif kind == Mapping[str, Any]:
            lines = [f"if type({v}) is not dict:", refuse]
        elif kind is datetime:
            # The API's shape ('2026-12-06T05:52:19.123456Z', 1 to 6 digits) straight to
            # fromisoformat (an error there: cattrs' path says it); others to parse_datetime.
            lines = [
                f"if type({v}) is not str:",
                refuse,
                f"if 21 < len({v}) < 28 and {v}[4:20:3] == '--T::.' and {v}[-1] == 'Z':",
                f"    {v} = {src.name('fromisoformat', datetime.fromisoformat)}({v})",
                "else:",
                f"    {v} = {src.name('parse_datetime', self._parse_datetime)}({v})",
            ]
        elif isinstance(kind, type) and issubclass(kind, enum.StrEnum):
            # The enum's own lookup for the strings it does not know (UNKNOWN for the status).
            members = src.name("members", {member.value: member for member in kind})
            lines = [f"if type({v}) is not str:", refuse, f"e = {members}.get({v})"]
            lines.append(f"{v} = {src.name('enum', kind)}({v}) if e is None else e")
        else:
            return None
        return lines

    def _tuple(self, src: _Source, kind: Any, v: str) -> list[str] | None:
        """``tuple[X, ...]`` from a JSON array: X a str, int or bool, or a model class."""
        args = get_args(kind)
        if len(args) != 2 or args[1] is not Ellipsis:  # noqa: PLR2004
            return None
        item = args[0]
        head = [f"if type({v}) is not list:", "    raise Refused"]
        if item in (str, int, bool):
            check = src.name(item.__name__, item)
            return [
                *head,
                f"for e in {v}:",
                f"    if type(e) is not {check}:",
                "        raise Refused",
                f"{v} = tuple({v})",
            ]
        nested = self.function(item)
        if nested is None:
            return None
        return [*head, f"{v} = tuple([{src.name('structure', nested)}(e) for e in {v}])"]


class _Names:
    """The local names of one nesting level of a generated function (``o``, ``obj``, ...)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        suffix = str(depth) if depth else ""
        self.o, self.g, self.obj, self.v = (f"{x}{suffix}" for x in ("o", "g", "obj", "v"))

    def deeper(self) -> _Names:
        """The names of a model nested in this level's."""
        return _Names(self.depth + 1)


def _indent(lines: list[str]) -> list[str]:
    """lines one level deeper."""
    return ["    " + line for line in lines]


def _setter(cls: type, name: str) -> Callable[[Any, Any], None] | None:
    """The slot's own setter (a frozen class's ``__setattr__`` refuses), or None."""
    descriptor = getattr(cls, name, None)
    if not isinstance(descriptor, MemberDescriptorType):
        return None
    setter: Callable[[Any, Any], None] = descriptor.__set__
    return setter


def _plain_init(cls: type) -> bool:
    """Whether cls's ``__init__`` only stores its arguments, one slot per field (so storing
    into the slots directly makes the same object). Not so with validators, converters,
    ``init=False`` fields, an ``__attrs_pre_init__``, or a slot that is no field (attrs'
    cached hash), or without slots."""
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__attrs_pre_init__"):
        return False
    fields = attrs.fields(cls)
    names = {f.name for f in fields} | {"__weakref__"}
    for klass in cls.__mro__[:-1]:
        slots = klass.__dict__.get("__slots__", ())
        if not names.issuperset((slots,) if isinstance(slots, str) else slots):
            return False
    return all(
        f.init and f.validator is None and f.converter is None and f.alias == f.name for f in fields
    )


def _compile(name: str, src: _Source, arguments: str) -> Any:
    """Compile ``def name(arguments)`` with src's body, registered in linecache for tracebacks.

    The namespace's values are the arguments of an enclosing function, so the body reads
    them as closure cells, not as globals.
    """
    names = ", ".join(src.namespace)
    body = "\n".join("    " + line for line in src.lines)
    text = f"def make({names}):\n    def {name}({arguments}):\n{body}\n    return {name}\n"
    filename = f"<replicate_async generated {name} {next(_counter)}>"
    code = compile(text, filename, "exec")
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    scope: dict[str, Any] = {}
    exec(code, scope)  # noqa: S102 - our own generated source, as attrs and cattrs do
    return scope["make"](**src.namespace)
