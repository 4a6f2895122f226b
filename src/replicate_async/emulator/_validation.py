# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Input validation with the real 422 shape (gojsonschema-style types and messages).

Schemas are resolved as the typed catalogue resolves them (`replicate_async._schemas.resolve`:
enum `components` inlined, `nullable` a union with null); only the messages are the emulator's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
from jsonschema import Draft7Validator

from replicate_async._schemas import resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from jsonschema.exceptions import ValidationError as SchemaError


@attrs.frozen
class InvalidField:
    """One entry of `invalid_fields`."""

    type: str
    field: str
    description: str

    def line(self) -> str:
        """Its line in `detail`."""
        return f"- {self.field}: {self.description}" if self.field else f"- {self.description}"


def problem_422(fields: Iterable[InvalidField]) -> dict[str, Any]:
    """The real body of a validation 422."""
    items = list(fields)
    return {
        "detail": "".join(f"{f.line()}\n" for f in items),
        "status": 422,
        "title": "Input validation failed",
        "invalid_fields": [attrs.asdict(f) for f in items],
    }


def _number(value: Any) -> str:
    """A bound as gojsonschema prints it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_TYPE_NAMES: Mapping[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
}


def _json_type(value: Any) -> str:
    """The JSON type name of a value (as parsed from JSON)."""
    return _TYPE_NAMES.get(type(value), "object")


def _field(prefix: str, error: SchemaError) -> str:
    """The dotted field name of an error (`""` for the top level of a body)."""
    parts = [str(p) for p in error.absolute_path]
    return ".".join([prefix, *parts] if prefix else parts)


_MESSAGES: Mapping[str, tuple[str, Callable[[Any], str]]] = {
    "minimum": ("number_gte", lambda v: f"Must be greater than or equal to {_number(v)}"),
    "maximum": ("number_lte", lambda v: f"Must be less than or equal to {_number(v)}"),
    "exclusiveMinimum": ("number_gt", lambda v: f"Must be greater than {_number(v)}"),
    "exclusiveMaximum": ("number_lt", lambda v: f"Must be less than {_number(v)}"),
    "minLength": (
        "string_gte",
        lambda v: f"String length must be greater than or equal to {v}",
    ),
    "maxLength": ("string_lte", lambda v: f"String length must be less than or equal to {v}"),
    "minItems": ("array_min_items", lambda v: f"Array must have at least {v} items"),
    "maxItems": ("array_max_items", lambda v: f"Array must have at most {v} items"),
    "pattern": ("pattern", lambda v: f"Does not match pattern '{v}'"),
}


def _convert(prefix: str, error: SchemaError) -> list[InvalidField]:
    """gojsonschema-style entries for one jsonschema error."""
    field = _field(prefix, error)
    kind = str(error.validator)
    value: Any = error.validator_value
    schema: Any = error.schema
    error_instance: Any = error.instance
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [p for p in value if p not in instance]
        return [InvalidField("required", field, f"{p} is required") for p in missing]
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in value)
        name = str(error.absolute_path[-1]) if error.absolute_path else prefix
        return [InvalidField("enum", field, f"{name} must be one of the following: {allowed}")]
    if kind == "type":
        expected = ", ".join(value) if isinstance(value, list) else value
        given = _json_type(error.instance)
        text = f"Invalid type. Expected: {expected}, given: {given}"
        return [InvalidField("invalid_type", field, text)]
    if kind == "additionalProperties":
        extra = sorted(set(error_instance) - set(schema.get("properties", {})))
        return [
            InvalidField(
                "additional_property_not_allowed", field, f"Additional property {p} is not allowed"
            )
            for p in extra
        ]
    if kind in _MESSAGES:
        name, message = _MESSAGES[kind]
        return [InvalidField(name, field, message(value))]
    return [InvalidField(kind, field, error.message)]


#: Python types that certainly match a JSON Schema `type` (bool is not an integer; floats that
#: are whole numbers, which Draft 7 counts as integers, are left to jsonschema).
_EXACT_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
#: Property keywords the quick check understands (`format` is not enforced by Draft7Validator).
_QUICK_KEYWORDS = frozenset(
    {"type", "enum", "minimum", "maximum", "default", "title", "description", "format", "x-order"}
)
_QuickProperty = tuple[tuple[type, ...], tuple[Any, ...] | None, Any, Any]


def _quick_plan(schema: Mapping[str, Any]) -> tuple[frozenset[str], dict[str, _QuickProperty]]:
    """What the quick check needs of a simple flat schema (empty when the schema is not simple)."""
    properties = schema.get("properties", {})
    simple = (
        set(schema) <= {"type", "title", "required", "properties"}
        and schema.get("type") == "object"
    )
    plan: dict[str, _QuickProperty] = {}
    for name, prop in properties.items() if simple else ():
        kind = prop.get("type") if isinstance(prop, dict) else None
        types = _EXACT_TYPES.get(kind) if isinstance(kind, str) else None
        if types is None or not set(prop) <= _QUICK_KEYWORDS:
            continue  # checked by jsonschema whenever present
        enum = tuple(prop["enum"]) if "enum" in prop else None
        numeric = kind in ("integer", "number")  # bounds apply to numbers only
        low, high = (prop.get("minimum"), prop.get("maximum")) if numeric else (None, None)
        plan[name] = (types, enum, low, high)
    return frozenset(schema.get("required", ())), plan if simple else {}


class InputValidator:
    """A model's compiled input validator (built once per model, reused for every create)."""

    def __init__(self, input_schema: Mapping[str, Any], components: Mapping[str, Any]) -> None:
        """Compile `input_schema` with its enum components resolved."""
        resolved = resolve(dict(input_schema), components)
        self._validator = Draft7Validator(resolved)
        self._required, self._quick = _quick_plan(resolved)
        self._known = frozenset(resolved.get("properties", {}))

    def _certainly_valid(self, value: Any) -> bool:
        """A fast check of the common case; False means "ask jsonschema", not "invalid"."""
        if not self._quick or type(value) is not dict or not self._required <= value.keys():
            return False
        for name, item in value.items():
            if name not in self._known:
                continue  # additional properties are allowed by simple schemas
            rule = self._quick.get(name)
            if rule is None:
                return False
            types, enum, low, high = rule
            if type(item) not in types:
                return False
            if enum is not None and not any(type(e) is type(item) and e == item for e in enum):
                return False
            if (low is not None and item < low) or (high is not None and item > high):
                return False
        return True

    def errors(self, value: Any) -> list[InvalidField]:
        """The invalid fields of `value` as a prediction's `input` (empty: valid)."""
        if self._certainly_valid(value) or self._validator.is_valid(value):
            return []
        out: list[InvalidField] = []
        seen: set[tuple[str, str]] = set()
        for error in self._validator.iter_errors(value):
            for item in _convert("input", error):
                if (item.field, item.description) not in seen:
                    seen.add((item.field, item.description))
                    out.append(item)
        return out


class BodyValidator:
    """A request body's validator: a JSON Schema, errors named as the API names them.

    Fields are named from the top of the body (`hardware`, not `body.hardware`); a missing
    required key is `{"type": "required", "field": ""}` as for the prediction creates.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        """Compile `schema`."""
        self._validator = Draft7Validator(schema)

    def errors(self, body: Any) -> list[InvalidField]:
        """The invalid fields of `body` (empty: valid)."""
        out: list[InvalidField] = []
        for error in self._validator.iter_errors(body):
            # jsonschema reports `required` once per missing key, each naming all of them.
            out.extend(item for item in _convert("", error) if item not in out)
        return out


_EVENTS = ("start", "output", "logs", "completed")


def body_errors(
    body: Mapping[str, Any], allowed: frozenset[str], *, needs_version: bool
) -> list[InvalidField]:
    """Top-level errors of a create body (unknown keys, missing fields, wrong types)."""
    out = [
        InvalidField(
            "additional_property_not_allowed", "", f"Additional property {key} is not allowed"
        )
        for key in body
        if key not in allowed
    ]
    if needs_version and "version" not in body:
        out.append(InvalidField("required", "", "version is required"))
    elif needs_version and not isinstance(body["version"], str):
        given = _json_type(body["version"])
        out.append(
            InvalidField(
                "invalid_type", "version", f"Invalid type. Expected: string, given: {given}"
            )
        )
    if "input" not in body:
        out.append(InvalidField("required", "", "input is required"))
    elif not isinstance(body["input"], dict):
        given = _json_type(body["input"])
        out.append(
            InvalidField("invalid_type", "input", f"Invalid type. Expected: object, given: {given}")
        )
    webhook = body.get("webhook")
    if webhook is not None and not isinstance(webhook, str):
        given = _json_type(webhook)
        out.append(
            InvalidField(
                "invalid_type", "webhook", f"Invalid type. Expected: string, given: {given}"
            )
        )
    events = body.get("webhook_events_filter")
    if events is not None:
        if not isinstance(events, list):
            given = _json_type(events)
            out.append(
                InvalidField(
                    "invalid_type",
                    "webhook_events_filter",
                    f"Invalid type. Expected: array, given: {given}",
                )
            )
        else:
            allowed_events = ", ".join(json.dumps(e) for e in _EVENTS)
            out.extend(
                InvalidField(
                    "enum",
                    f"webhook_events_filter.{i}",
                    f"{i} must be one of the following: {allowed_events}",
                )
                for i, event in enumerate(events)
                if event not in _EVENTS
            )
    return out
