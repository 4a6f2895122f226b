# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The real input schemas of the catalogue's models, shipped in the package, and the check.

One JSON record per model, ``<owner>__<name>.json``, copied unchanged from
``shared/reference/model-schemas`` (each names its source, its version and how it was
obtained: ``verbatim`` as Replicate served it, or ``reconstructed`` from a derived source).
The catalogue checks mapped inputs against them offline; the emulator's fake models validate
creates against the same files, so there is one copy.

:func:`check_input` validates an input against a record's ``input`` schema (with its enum
``components`` inlined, ``nullable`` as a union with null) and raises
:class:`~replicate_async.ValidationError` naming the model and every bad field.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from replicate_async.exceptions import InvalidField, ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["check_input", "input_errors", "load", "names", "resolve"]


def load(name: str) -> Mapping[str, Any]:
    """The shipped record *name* (``"kwaivgi__kling-v2.1"`` or ``"kwaivgi/kling-v2.1"``).

    Both spellings give the same object: the catalogue and the emulator share one copy.

    Raises:
        KeyError: No such record is shipped.
    """
    try:
        return _load(name.replace("/", "__"))
    except FileNotFoundError as exc:
        raise KeyError(f"no shipped schema named {name!r}") from exc


@cache
def _load(stem: str) -> Mapping[str, Any]:
    """The record of file ``<stem>.json``, read once."""
    text = resources.files(__name__).joinpath(f"{stem}.json").read_text(encoding="utf-8")
    record: dict[str, Any] = json.loads(text)
    return record


def names() -> tuple[str, ...]:
    """The stems of every shipped record, sorted."""
    root = resources.files(__name__)
    return tuple(
        sorted(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))
    )


def resolve(node: Any, components: Mapping[str, Any]) -> Any:
    """A copy of a Cog schema with ``allOf: [{$ref}]`` inlined and ``nullable`` made a union."""
    if isinstance(node, list):
        return [resolve(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "allOf" and isinstance(value, list) and len(value) == 1 and "$ref" in value[0]:
            target = str(value[0]["$ref"]).rsplit("/", 1)[-1]
            for k, v in resolve(components.get(target, {}), components).items():
                if k not in ("title", "description"):
                    out.setdefault(k, v)
        else:
            out[key] = resolve(value, components)
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def _validator(stem: str) -> Any:
    record = load(stem)
    return _compile(record)


def _compile(record: Mapping[str, Any]) -> Any:
    from jsonschema import Draft7Validator  # noqa: PLC0415 - imported when first needed

    schema = resolve(dict(record["input"]), record.get("components") or {})
    return Draft7Validator(schema)


def input_errors(record: Mapping[str, Any] | str, value: Mapping[str, Any]) -> list[InvalidField]:
    """Every problem of *value* against the record's input schema, as ``input.<field>`` entries.

    A key the schema does not name is a problem too (Cog schemas allow any key, and the model
    ignores it: a mapping that sends one has a bug).
    """
    if isinstance(record, str):
        validator = _validator(record.replace("/", "__"))
    else:
        validator = _compile(record)
    known = validator.schema.get("properties") or {}
    problems: list[InvalidField] = [
        InvalidField(
            type="additional_property_not_allowed",
            field=f"input.{key}",
            description=f"the model has no input {key!r} (it takes {', '.join(sorted(known))})",
        )
        for key in value
        if known and key not in known
    ]
    for error in sorted(validator.iter_errors(dict(value)), key=lambda e: list(e.absolute_path)):
        path = ".".join(["input", *(str(p) for p in error.absolute_path)])
        kind = str(error.validator)
        if kind == "enum":
            allowed = ", ".join(json.dumps(v) for v in error.validator_value)
            text = f"{json.dumps(error.instance)} is not one of {allowed}"
        elif kind == "additionalProperties":
            known = error.schema.get("properties", {})
            extra = sorted(set(error.instance) - set(known))
            text = f"the model has no input {', '.join(extra)}"
        else:
            text = error.message
        problems.append(InvalidField(type=kind, field=path, description=text))
    return problems


def check_input(record: Mapping[str, Any] | str, model: str, value: Mapping[str, Any]) -> None:
    """Raise ValidationError (no request made) when *value* breaks the record's input schema."""
    problems = input_errors(record, value)
    if problems:
        lines = "; ".join(f"{p.field}: {p.description}" for p in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""  # noqa: PLR2004
        raise ValidationError(
            status_code=None,
            message=f"{model}: the input does not fit the model's schema: {lines}{more}",
            invalid_fields=tuple(problems),
        )
