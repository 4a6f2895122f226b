# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The public surface: `replicate_async.__all__` is sorted and complete, `__version__` is lazy."""

from __future__ import annotations

import importlib.metadata
import types

import pytest

import replicate_async


def test_all_is_sorted() -> None:
    """__all__ is sorted as ruff's RUF022 sorts it (CONSTANTS, Classes, functions), without duplicates."""
    names = replicate_async.__all__

    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 2 if name.islower() else 1, name)

    assert names == sorted(names, key=key)
    assert len(set(names)) == len(names)


def test_all_is_complete() -> None:
    """Every public, non-module name in the package namespace is in __all__, and vice versa."""
    public = {
        name
        for name, value in vars(replicate_async).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any", "Literal", "atexit", "threading"}
        and getattr(value, "__module__", "replicate_async").startswith("replicate_async")
    }
    assert public == set(replicate_async.__all__)


@pytest.mark.parametrize("name", replicate_async.__all__)
def test_every_exported_name_is_documented(name: str) -> None:
    """Each exported class and function has a docstring saying when it was added."""
    value = getattr(replicate_async, name)
    if isinstance(value, type) or callable(value):
        assert ".. versionadded::" in (value.__doc__ or "")


def test_product_names_are_exported() -> None:
    """The names PRODUCT.md fixes are importable from the package."""
    from replicate_async import (  # noqa: F401
        APIError,
        AsyncClient,
        AuthenticationError,
        Client,
        DecodeError,
        FileOutput,
        NotFoundError,
        PermissionDeniedError,
        Prediction,
        PredictionCanceled,
        PredictionError,
        PredictionFailed,
        PredictionStatus,
        PredictionTimeout,
        RateLimitError,
        ReplicateError,
        ServerError,
        TransportError,
        ValidationError,
        WebhookVerificationError,
    )


def test_version_comes_from_the_distribution() -> None:
    """__version__ is the installed distribution's version."""
    assert replicate_async.__version__ == importlib.metadata.version("replicate-async")


def test_unknown_attribute_raises() -> None:
    """Asking the package for a name it does not have raises AttributeError."""
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = replicate_async.no_such_name  # type: ignore[attr-defined]
