# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What a catalogue entry is, and the :class:`Builder` entries write a model's input with.

An entry maps one typed request to one model family's real input fields. Its ``build``
function receives the request and a :class:`Builder`, and uses the builder's checks so every
refusal reads the same: the model, the request's field, the value, and what is allowed. A
field the model has no input for is dropped and reported (``Builder.drop``); a value it cannot
honour (a duration it does not make, an image role it cannot take) is refused before any
request is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import attrs

from replicate_async._uploads import is_file_input
from replicate_async.exceptions import ValidationError

__all__ = ["Builder", "BuiltInput", "CatalogEntry", "is_file_source"]


@attrs.frozen(kw_only=True)
class CatalogEntry:
    """How one model family takes one kind of request.

    Args:
        model: ``"owner/name"`` of the model, or with ``prefix=True`` the start of the names
            it covers (``"kwaivgi/kling-v2"`` covers v2.0, v2.1, v2.1-master, ...).
        request: The request class it takes (:class:`~replicate_async.catalog.VideoRequest`, ...).
        build: ``build(request, builder)``: writes the model's input with the builder.
        schema: The name of the shipped schema the input is checked against
            (``"kwaivgi__kling-v2.1"``), a schema record (a mapping with ``input`` and optional
            ``components``), or None for no check.
        prefix: Whether ``model`` is a prefix of model names rather than one name.
        output: What the model makes: ``"video"``, ``"image"``, ``"text"`` or ``"audio"``.
        source: Where its field mapping comes from (a schema file, a version id, a page).
        summary: One line for the catalogue table: what it takes (durations, image roles).

    .. versionadded:: 0.1.0
    """

    model: str
    request: type
    build: Callable[[Any, Builder], None]
    schema: str | Mapping[str, Any] | None = None
    prefix: bool = False
    output: str = "file"
    source: str = ""
    summary: str = ""


@attrs.frozen(kw_only=True)
class BuiltInput:
    """A request mapped to one model's input.

    Args:
        model: The model reference as given (a ``:version`` kept for the call).
        input: The exact input to send.
        dropped: The request's fields the model has no input for, left out.
        entry: The catalogue entry used; None for the generic mapping of an unknown model.

    .. versionadded:: 0.1.0
    """

    model: str
    input: Mapping[str, Any]
    dropped: tuple[str, ...] = ()
    entry: CatalogEntry | None = None


def is_file_source(value: object) -> bool:
    """Whether *value* can be a file input: a URL string, a path, bytes or a file object."""
    if isinstance(value, str):
        return value.startswith(("https://", "http://", "data:"))
    return is_file_input(value)


PLACEHOLDER_URL = "https://example.invalid/file"
"""What a file source stands as when an input is checked against a schema (a URI)."""


def with_placeholders(value: Any) -> Any:
    """*value* with every non-string file source replaced by a URL, for a schema check."""
    if isinstance(value, Mapping):
        return {k: with_placeholders(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [with_placeholders(v) for v in value]
    if is_file_input(value):
        return PLACEHOLDER_URL
    return value


class Builder:
    """Collects one model's input from a request, with checks that name what went wrong.

    Args:
        model: ``"owner/name"`` of the model (for messages; any version stripped).

    .. versionadded:: 0.1.0
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.input: dict[str, Any] = {}
        self.dropped: list[str] = []

    def __repr__(self) -> str:
        return f"<Builder for {self.model}: {sorted(self.input)}>"

    def fail(self, field: str, value: Any, allowed: str) -> NoReturn:
        """Refuse *value* for the request's *field*: ``ValidationError`` saying what is allowed.

        .. versionadded:: 0.1.0
        """
        shown = repr(value)
        if len(shown) > 80:  # noqa: PLR2004
            shown = shown[:77] + "..."
        raise ValidationError(
            status_code=None, message=f"{self.model}: {field}={shown} is not accepted: {allowed}"
        )

    def set(self, key: str, value: Any) -> None:
        """Send *value* as the model's input *key*, unless it is None (the model's default).

        .. versionadded:: 0.1.0
        """
        if value is not None:
            self.input[key] = value

    def drop(self, field: str, value: Any) -> None:
        """Leave the request's *field* out (the model has no input for it) and report it.

        Nothing is reported when *value* is unset (None or empty).

        .. versionadded:: 0.1.0
        """
        if value is not None and value not in ((), {}):
            self.dropped.append(field)

    def require(self, field: str, value: Any, why: str = "this model needs it") -> Any:
        """*value*, or a refusal when it is None or empty.

        .. versionadded:: 0.1.0
        """
        if value is None or value in ("", ()):
            self.fail(field, value, why)
        return value

    def choice(self, field: str, value: Any, allowed: Sequence[Any], unit: str = "") -> Any:
        """*value* when it is one of *allowed* (None passes), else a refusal listing them.

        A whole float (``5.0``) matches the int ``5``.

        .. versionadded:: 0.1.0
        """
        if value is None:
            return None
        for option in allowed:
            if _same(value, option):
                return option
        listed = ", ".join(str(a) for a in allowed)
        return self.fail(field, value, f"one of {listed}{unit}")

    def within(
        self, field: str, value: Any, low: float, high: float, *, integer: bool = False
    ) -> Any:
        """*value* when it is a number from *low* to *high* (None passes), else a refusal.

        .. versionadded:: 0.1.0
        """
        if value is None:
            return None
        kind = "a whole number" if integer else "a number"
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (integer and float(value) != int(value)) or not low <= value <= high:
            self.fail(field, value, f"{kind} from {_show(low)} to {_show(high)}")
        return int(value) if integer else value

    def images(
        self,
        images: Sequence[Any],
        roles: Mapping[str, str],
        *,
        many: Sequence[str] = (),
        required: Sequence[str] = (),
        most: Mapping[str, int] | None = None,
    ) -> None:
        """Send each :class:`~replicate_async.catalog.ImageInput` to the input its role maps to.

        Args:
            images: The request's images.
            roles: Role -> the model's input field, for the roles it takes.
            many: Roles whose field is a list (several references).
            required: Roles the model needs.
            most: Role -> the most images of that role.

        .. versionadded:: 0.1.0
        """
        taken = ", ".join(roles) or "no images"
        grouped: dict[str, list[Any]] = {}
        for image in images:
            role = getattr(image, "role", None)
            if not isinstance(role, str) or role not in roles:
                self.fail("images", image, f"{self.model} takes images as {taken}")
            grouped.setdefault(role, []).append(image.source)
        for role in required:
            if role not in grouped:
                self.fail("images", (), f"a {role} image is required ({taken})")
        for role, sources in grouped.items():
            limit = (most or {}).get(role, 1 if role not in many else 1_000)
            if len(sources) > limit:
                self.fail("images", len(sources), f"at most {limit} {role} image(s)")
            self.input[roles[role]] = sources if role in many else sources[0]

    def extra(self, extra: Mapping[str, Any]) -> None:
        """Send the request's ``extra`` inputs as they are (the schema check sees them too).

        An extra key that the mapping already set is refused: say it once.

        .. versionadded:: 0.1.0
        """
        for key, value in extra.items():
            if key in self.input:
                self.fail(f"extra[{key!r}]", value, f"{key} is already set from the request")
            self.input[key] = value

    def result(self, model: str, entry: CatalogEntry | None) -> BuiltInput:
        """The built input for *model* (the reference as given).

        .. versionadded:: 0.1.0
        """
        return BuiltInput(
            model=model, input=dict(self.input), dropped=tuple(self.dropped), entry=entry
        )


def _same(value: Any, option: Any) -> bool:
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option
    if isinstance(value, int | float) and isinstance(option, int | float):
        return float(value) == float(option)
    return bool(value == option)


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
