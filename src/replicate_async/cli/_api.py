"""`replicate-async predictions get|cancel|list` and `models get|schema`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from replicate_async import AsyncClient
from replicate_async._converters import format_datetime
from replicate_async._schemas import resolve
from replicate_async._urls import is_file_url
from replicate_async.cli._inputs import check_ref
from replicate_async.cli._output import dumps, last_log_line, prediction_json, text_of
from replicate_async.cli._runtime import OK, UsageError, run_async

if TYPE_CHECKING:
    from collections.abc import Mapping

    from replicate_async import Model, Prediction
    from replicate_async.cli._terminal import Terminal

__all__ = [
    "models_get",
    "models_schema",
    "predictions_cancel",
    "predictions_get",
    "predictions_list",
]


def _pairs(rows: list[tuple[str, object]]) -> str:
    """``label  value`` lines, the labels aligned (a value's further lines too); empty values
    left out."""
    kept = [(label, str(value)) for label, value in rows if value not in (None, "")]
    width = max(len(label) for label, _ in kept)
    indent = "\n" + " " * (width + 2)
    return "\n".join(f"{label:<{width}}  {value.replace(chr(10), indent)}" for label, value in kept)


def _output_text(output: Any) -> str | None:
    """An output in one line or a few: text as it is, file URLs one per line, else JSON."""
    if output is None:
        return None
    items = output if isinstance(output, list) else [output]
    if items and all(isinstance(item, str) and is_file_url(item) for item in items):
        return "\n".join(items)  # file URLs, one per line
    text = text_of(output)
    return text if text is not None else dumps(output)


def _describe(prediction: Prediction) -> str:
    """A prediction for a person: what ran, how it ended, how long it took, what it made."""
    metrics = prediction.metrics
    timing = None
    if metrics is not None and metrics.predict_time is not None:
        timing = f"{metrics.predict_time:.2f} s predicting"
        if metrics.total_time is not None:
            timing += f", {metrics.total_time:.2f} s in all"
    return _pairs(
        [
            ("id", prediction.id),
            ("model", prediction.model),
            ("version", prediction.version),
            ("status", prediction.status.value),
            ("created", prediction.created_at and format_datetime(prediction.created_at)),
            ("completed", prediction.completed_at and format_datetime(prediction.completed_at)),
            ("time", timing),
            ("error", prediction.error),
            ("log", last_log_line(prediction.logs)),
            ("output", _output_text(prediction.output)),
            ("web", prediction.urls.web),
        ]
    )


def _print_prediction(prediction: Prediction, *, as_json: bool) -> None:
    print(dumps(prediction_json(prediction, logs=True)) if as_json else _describe(prediction))


def predictions_get(prediction_id: str, *, as_json: bool) -> int:
    """`predictions get ID`."""

    async def body(_: object) -> int:
        async with AsyncClient() as client:
            _print_prediction(await client.predictions.get(prediction_id), as_json=as_json)
        return OK

    return run_async(body)


def predictions_cancel(prediction_id: str, *, as_json: bool) -> int:
    """`predictions cancel ID`: cancelling a finished prediction changes nothing (exit 0)."""

    async def body(_: object) -> int:
        async with AsyncClient() as client:
            _print_prediction(await client.predictions.cancel(prediction_id), as_json=as_json)
        return OK

    return run_async(body)


def predictions_list(*, limit: int, as_json: bool, term: Terminal) -> int:
    """`predictions list`: the newest *limit* predictions."""

    async def body(_: object) -> list[Prediction]:
        found: list[Prediction] = []
        async with AsyncClient() as client:
            listing = client.predictions.list().pages()
            async with contextlib.aclosing(listing) as pages:
                async for page in pages:
                    found.extend(page.results[: limit - len(found)])
                    if len(found) >= limit:
                        break
        return found

    predictions = run_async(body)
    if as_json:
        print(dumps([prediction_json(p) for p in predictions]))
        return OK
    rows = [
        [
            p.id,
            p.model or p.version or "",
            p.status.value,
            p.created_at and format_datetime(p.created_at),
            p.metrics.predict_time if p.metrics and p.metrics.predict_time is not None else None,
        ]
        for p in predictions
    ]
    term.table(["id", "model", "status", "created", "predict s"], rows)
    return OK


def _model_ref(ref: str) -> str:
    """An ``owner/name`` (a version is refused: models are looked up by name)."""
    checked = check_ref(ref)
    if ":" in checked or "/" not in checked:
        raise UsageError(f"invalid model {ref!r}: write owner/name")
    return checked


def _get_model(ref: str) -> Model:
    name = _model_ref(ref)

    async def body(_: object) -> Model:
        async with AsyncClient() as client:
            return await client.models.get(name)

    return run_async(body)


def models_get(ref: str, *, as_json: bool) -> int:
    """`models get OWNER/NAME`."""
    model = _get_model(ref)
    if as_json:
        print(dumps(model.to_dict()))
        return OK
    version = model.latest_version
    print(
        _pairs(
            [
                ("model", f"{model.owner}/{model.name}"),
                ("description", model.description),
                (
                    "official",
                    None if model.is_official is None else "yes" if model.is_official else "no",
                ),
                ("visibility", model.visibility),
                ("runs", model.run_count),
                ("version", version.id if version else None),
                ("pushed", version and version.created_at and format_datetime(version.created_at)),
                ("url", model.url),
                ("github", model.github_url),
                ("paper", model.paper_url),
                ("license", model.license_url),
            ]
        )
    )
    return OK


def _type(field: Mapping[str, Any]) -> str:
    """A field's type as people read it: ``string``, ``integer``, ``file``, ``array of file``."""
    kind = field.get("type")
    if isinstance(kind, list):
        kind = "/".join(str(k) for k in kind if k != "null") or "null"
    if kind == "string" and field.get("format") == "uri":
        return "file"
    if kind == "array":
        items = field.get("items")
        return f"array of {_type(items)}" if isinstance(items, dict) else "array"
    if kind is None and "enum" in field:
        return "enum"
    return str(kind or "any")


def _allowed(field: Mapping[str, Any]) -> str:
    """The values a field takes: its choices, or its range."""
    if "enum" in field:
        return ", ".join(str(v) for v in field["enum"])
    low, high = field.get("minimum"), field.get("maximum")
    if low is not None or high is not None:
        return f"{'' if low is None else low}..{'' if high is None else high}"
    return ""


def schema_rows(schema: Mapping[str, Any]) -> list[list[object]]:
    """One row per input field in the model's order: name, type, default, allowed, required,
    description."""
    required = set(schema.get("required", ()))
    fields = schema.get("properties", {})
    order = sorted(fields, key=lambda name: (fields[name].get("x-order", 1_000_000), name))
    rows: list[list[object]] = []
    for name in order:
        field = fields[name]
        default = field.get("default")
        rows.append(
            [
                name,
                _type(field),
                "" if default is None else dumps(default),
                _allowed(field),
                "yes" if name in required else "",
                str(field.get("description") or "").strip(),
            ]
        )
    return rows


def models_schema(ref: str, *, as_json: bool, term: Terminal) -> int:
    """`models schema OWNER/NAME`: the latest version's input fields."""
    model = _get_model(ref)
    version = model.latest_version
    schema = version.input_schema if version is not None else None
    if version is None or schema is None:
        raise UsageError(f"{model.owner}/{model.name} publishes no input schema")
    components = (version.openapi_schema or {}).get("components", {}).get("schemas", {})
    resolved = resolve(dict(schema), components)
    if as_json:
        print(dumps(resolved))
        return OK
    term.table(
        ["field", "type", "default", "allowed", "required", "description"],
        schema_rows(resolved),
        title=f"{model.owner}/{model.name} (version {version.id[:12]})",
    )
    return OK
