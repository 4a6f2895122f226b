# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The catalogue: which entry maps a request for a model, and the generic fallback.

Lookup strips a ``:version`` from the model reference (the call keeps it), prefers an exact
name over a prefix and the longest prefix over shorter ones. A model no entry covers gets the
generic mapping (prompt, seed, negative prompt, aspect ratio) and the result lists every
other field of the request as dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from replicate_async._models import Deployment
from replicate_async.catalog._builder import Builder, BuiltInput, CatalogEntry, with_placeholders
from replicate_async.catalog._requests import (
    AvatarRequest,
    ChatRequest,
    ImageRequest,
    LipSyncRequest,
    MusicRequest,
    VideoRequest,
)
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from replicate_async.catalog._requests import GenerationRequest

__all__ = ["GENERIC_FIELDS", "REQUEST_TYPES", "Catalog", "is_request"]

REQUEST_TYPES: tuple[type, ...] = (
    VideoRequest,
    ImageRequest,
    ChatRequest,
    AvatarRequest,
    MusicRequest,
    LipSyncRequest,
)
"""The typed request classes."""

GENERIC_FIELDS: tuple[str, ...] = ("prompt", "seed", "negative_prompt", "aspect_ratio")
"""The fields the generic mapping sends to a model no entry covers."""


def is_request(value: object) -> bool:
    """Whether *value* is a typed request (rather than an input mapping)."""
    return isinstance(value, REQUEST_TYPES)


def _model_name(model: str | Deployment) -> str | None:
    """``owner/name`` of a reference (a version stripped), or None (a bare version, a deployment)."""
    if isinstance(model, Deployment) or not isinstance(model, str):
        return None
    name = model.strip().split(":", 1)[0]
    return name if "/" in name else None


class Catalog:
    """Catalogue entries by model, and the mapping of typed requests to model inputs.

    ``client.catalog`` is one (the built-in entries; register your own on it); a
    ``Catalog()`` made directly starts from the built-in entries too, unless ``entries`` is
    given. Building an input does no I/O.

    Args:
        entries: The entries to start from; the built-in catalogue when None.

    .. versionadded:: 0.1.0
    """

    def __init__(self, entries: Iterable[CatalogEntry] | None = None) -> None:
        if entries is None:
            from replicate_async.catalog._builtin import builtin_entries  # noqa: PLC0415

            entries = builtin_entries()
        self._exact: dict[tuple[str, type], CatalogEntry] = {}
        self._prefixes: dict[tuple[str, type], CatalogEntry] = {}
        for entry in entries:
            self.register(entry)

    def __repr__(self) -> str:
        return f"<Catalog of {len(self._exact) + len(self._prefixes)} entries>"

    @property
    def entries(self) -> tuple[CatalogEntry, ...]:
        """Every entry, exact names first, in the order they were registered.

        .. versionadded:: 0.1.0
        """
        return (*self._exact.values(), *self._prefixes.values())

    def register(self, entry: CatalogEntry) -> None:
        """Add *entry*, replacing one for the same model (or prefix) and request class.

        Args:
            entry: The entry.

        .. versionadded:: 0.1.0
        """
        if not isinstance(entry, CatalogEntry):
            raise TypeError(f"expected a CatalogEntry, got {type(entry).__name__}")
        if entry.request not in REQUEST_TYPES:
            raise TypeError(
                f"an entry's request is one of the request classes, not {entry.request!r}"
            )
        table = self._prefixes if entry.prefix else self._exact
        table[(entry.model, entry.request)] = entry

    def find(self, model: str | Deployment, request: type) -> CatalogEntry | None:
        """The entry for *model* and this request class, or None (the generic mapping).

        Raises ValidationError when entries cover the model but for other requests (a video
        model given an ImageRequest).

        Args:
            model: A model reference; a ``:version`` is ignored for matching.
            request: The request's class.

        .. versionadded:: 0.1.0
        """
        name = _model_name(model)
        if name is None:
            return None
        found = self._exact.get((name, request)) or self._longest_prefix(name, request)
        if found is not None:
            return found
        others = sorted(
            {e.request.__name__ for (n, _), e in self._exact.items() if n == name}
            | {e.request.__name__ for (p, _), e in self._prefixes.items() if name.startswith(p)}
        )
        if others:
            raise ValidationError(
                status_code=None,
                message=(
                    f"{name} takes a {' or a '.join(others)}, not a {request.__name__}: "
                    "pass the request for what the model makes, or an input dict"
                ),
            )
        return None

    def _longest_prefix(self, name: str, request: type) -> CatalogEntry | None:
        best: CatalogEntry | None = None
        for (prefix, kind), entry in self._prefixes.items():
            longer = best is None or len(prefix) > len(best.model)
            if kind is request and name.startswith(prefix) and longer:
                best = entry
        return best

    def plan(self, model: str | Deployment, request: GenerationRequest) -> BuiltInput:
        """Map *request* to *model*'s input, with what was dropped and the entry used.

        Checks everything the catalogue knows before any request: the entry's own checks
        (durations, aspect ratios, image roles, ranges) and the mapped input against the
        model's shipped schema. Raises ValidationError naming the model, the field, the
        value and what is allowed.

        Args:
            model: The model reference (kept as given in the result).
            request: A typed request.

        .. versionadded:: 0.1.0
        """
        if not is_request(request):
            raise TypeError(
                f"expected a typed request (VideoRequest, ImageRequest, ...), got {type(request).__name__}"
            )
        entry = self.find(model, type(request))
        shown = _model_name(model) or str(model)
        builder = Builder(shown)
        if entry is None:
            _generic(request, builder)
        else:
            entry.build(request, builder)
            if entry.schema is not None:
                _check_schema(entry.schema, shown, builder.input)
        label = model if isinstance(model, str) else str(model)
        return builder.result(label, entry)

    def build(self, model: str | Deployment, request: GenerationRequest) -> dict[str, Any]:
        """The exact input *model* should get for *request* (no I/O).

        Args:
            model: The model reference.
            request: A typed request.

        .. versionadded:: 0.1.0
        """
        return dict(self.plan(model, request).input)


def _generic(request: GenerationRequest, builder: Builder) -> None:
    """The mapping for a model no entry covers: the common fields, the rest dropped."""
    for field in attrs.fields(type(request)):
        value = getattr(request, field.name)
        if field.name == "extra":
            builder.extra(value)  # noqa: S610 - not Django
        elif field.name in GENERIC_FIELDS:
            builder.set(field.name, value)
        else:
            builder.drop(field.name, value)


def _check_schema(schema: str | Mapping[str, Any], model: str, built: Mapping[str, Any]) -> None:
    """Check the built input against the model's schema (files stand in as a URL)."""
    from replicate_async import _schemas  # noqa: PLC0415 - jsonschema only when needed

    # A shipped schema goes by its name, so its compiled validator is cached.
    _schemas.check_input(schema, model, with_placeholders(built))
