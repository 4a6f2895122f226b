# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The objects of the rest of the API: models, versions, collections, hardware, account,
deployments, trainings and search results.

Frozen attrs classes like :mod:`replicate_async._models`: attribute names are the JSON keys,
everything the server may leave out has a default, and unknown keys are kept in ``extra``
(out of ``repr`` and equality) so newer API fields survive a round trip. Each is an
:class:`~replicate_async._models.APIObject` (``to_dict()``, ``to_json()``), and values that may
be long (schemas, descriptions, lists of models) are cut in ``repr``. Shapes follow
Replicate's OpenAPI document and the recorded replies in ``../shared/reference/cassettes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime  # noqa: TC003  (read at runtime by attrs and cattrs)
from typing import Any

import attrs

from ._models import APIObject, Deployment, Prediction, short_repr

__all__ = [
    "Account",
    "Collection",
    "DeploymentConfiguration",
    "DeploymentInfo",
    "DeploymentRelease",
    "Hardware",
    "Model",
    "ModelVersion",
    "SearchCollection",
    "SearchModel",
    "SearchModelMetadata",
    "SearchPage",
    "SearchResults",
    "Training",
    "TrainingOutput",
]


def _extra() -> Any:
    """The ``extra`` field every object has: unknown keys, out of repr and equality."""
    return attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class ModelVersion(APIObject):
    """A version of a model (``client.models.versions``).

    Args:
        id: The 64-hex version id.
        created_at: When it was pushed.
        cog_version: The Cog version that built it.
        openapi_schema: Its OpenAPI document: ``components.schemas.Input`` is the input
            schema, ``components.schemas.Output`` the output's.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    id: str
    created_at: datetime | None = None
    cog_version: str | None = None
    openapi_schema: Mapping[str, Any] | None = attrs.field(default=None, repr=short_repr)
    extra: Mapping[str, Any] = _extra()

    @property
    def input_schema(self) -> Mapping[str, Any] | None:
        """The JSON schema of the version's input (``components.schemas.Input``), if given.

        .. versionadded:: 0.1.0
        """
        schema = self.openapi_schema or {}
        found = schema.get("components", {}).get("schemas", {}).get("Input")
        return found if isinstance(found, Mapping) else None


@attrs.frozen(kw_only=True)
class Model(APIObject):
    """A model (``client.models``).

    Args:
        owner: The user or organisation that owns it.
        name: Its name; ``f"{owner}/{name}"`` is what ``run`` takes.
        url: Its page on replicate.com.
        description: A one-line description.
        visibility: ``"public"`` or ``"private"``.
        github_url: Its source code.
        paper_url: Its paper.
        license_url: Its licence.
        run_count: How many times it has run.
        cover_image_url: Its cover image.
        default_example: A prediction shown as its example.
        latest_version: Its newest version (with the input schema), None for official
            models that hide versions and for models not pushed yet.
        is_official: Whether it is an official model (run by name, no version).
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    owner: str
    name: str
    url: str | None = None
    description: str | None = attrs.field(default=None, repr=short_repr)
    visibility: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    run_count: int | None = None
    cover_image_url: str | None = None
    default_example: Prediction | None = None
    latest_version: ModelVersion | None = None
    is_official: bool | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def ref(self) -> str:
        """``"owner/name"``: the model reference ``run`` and ``predictions.create`` take.

        .. versionadded:: 0.1.0
        """
        return f"{self.owner}/{self.name}"


@attrs.frozen(kw_only=True)
class Collection(APIObject):
    """A curated collection of models (``client.collections``).

    ``collections.list()`` gives ``name``, ``slug`` and ``description``; ``collections.get``
    adds ``full_description`` and ``models``.

    Args:
        slug: Its id, e.g. ``"text-to-image"``.
        name: Its title.
        description: A short description.
        full_description: A longer description (``get`` only).
        models: Its models (``get`` only; empty in lists).
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    slug: str
    name: str | None = None
    description: str | None = None
    full_description: str | None = attrs.field(default=None, repr=short_repr)
    models: tuple[Model, ...] = attrs.field(default=(), repr=short_repr)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Hardware(APIObject):
    """A kind of hardware models and deployments run on (``client.hardware.list()``).

    Args:
        sku: Its id, e.g. ``"gpu-t4"``: what ``models.create`` and deployments take.
        name: Its name, e.g. ``"Nvidia T4 GPU"``.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    sku: str
    name: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Account(APIObject):
    """The account the API token belongs to (``client.account.get()``), also a release's author.

    Args:
        username: The account's username.
        type: ``"user"`` or ``"organization"``.
        name: Its display name.
        github_url: Its GitHub profile.
        avatar_url: Its avatar.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    username: str
    type: str | None = None
    name: str | None = None
    github_url: str | None = None
    avatar_url: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class DeploymentConfiguration(APIObject):
    """How a deployment release runs: hardware and instance bounds.

    Args:
        hardware: The hardware SKU.
        min_instances: Instances kept warm (0 to 5).
        max_instances: Most instances (0 to 20).
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    hardware: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class DeploymentRelease(APIObject):
    """A deployment's release: every update makes a new one with the next ``number``.

    Args:
        number: The release number, from 1.
        model: ``owner/name`` of the model it runs.
        version: The version id it runs.
        created_at: When it was released.
        created_by: Who released it.
        configuration: Hardware and instance bounds.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    number: int | None = None
    model: str | None = None
    version: str | None = None
    created_at: datetime | None = None
    created_by: Account | None = None
    configuration: DeploymentConfiguration | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class DeploymentInfo(APIObject):
    """A deployment as the API describes it (``client.deployments``).

    Not to be confused with :class:`~replicate_async.Deployment`, the model reference
    meaning "run this deployment"; :attr:`ref` gives that reference.

    Args:
        owner: The account that owns it.
        name: Its name (without the owner).
        current_release: The release it runs.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    owner: str
    name: str
    current_release: DeploymentRelease | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def ref(self) -> Deployment:
        """``Deployment("owner/name")``: the reference ``run`` takes to run this deployment.

        .. versionadded:: 0.1.0
        """
        return Deployment(f"{self.owner}/{self.name}")


@attrs.frozen(kw_only=True)
class TrainingOutput(APIObject):
    """What a successful training made.

    Args:
        version: The new version, ``"owner/name:<version id>"`` of the destination.
        weights: A URL of the trained weights.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    version: str | None = None
    weights: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Training(Prediction):
    """A training (``client.trainings``): a prediction of a trainer model, with its destination.

    Everything a :class:`~replicate_async.Prediction` has (status, input, logs, metrics,
    timestamps), so polling, timeouts and errors treat both alike. ``output`` stays the
    JSON value; :attr:`result` reads it as a :class:`TrainingOutput`.

    Args:
        destination: The model the new version is pushed to, ``owner/name``.

    .. versionadded:: 0.1.0
    """

    destination: str | None = None

    @property
    def result(self) -> TrainingOutput | None:
        """The output as a :class:`TrainingOutput` once it has one (a successful training).

        .. versionadded:: 0.1.0
        """
        output = self.output
        if not isinstance(output, Mapping):
            return None
        return TrainingOutput(
            version=_str_or_none(output.get("version")),
            weights=_str_or_none(output.get("weights")),
            extra={k: v for k, v in output.items() if k not in {"version", "weights"}},
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen(kw_only=True)
class SearchModelMetadata(APIObject):
    """What search says about a model it found.

    Args:
        generated_description: A description written for search.
        tags: Its tags.
        score: How well it matches the query.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    generated_description: str | None = attrs.field(default=None, repr=short_repr)
    tags: tuple[str, ...] = attrs.field(default=(), repr=short_repr)
    score: float | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class SearchModel(APIObject):
    """A model search found, with search's metadata.

    Args:
        model: The model.
        metadata: Search's description, tags and score.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    model: Model
    metadata: SearchModelMetadata = attrs.field(factory=SearchModelMetadata)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class SearchCollection(APIObject):
    """A collection search found.

    Args:
        slug: The collection's id.
        name: Its title.
        description: Its description.
        models: Its models as ``owner/name`` strings.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    slug: str
    name: str | None = None
    description: str | None = None
    models: tuple[str, ...] | None = attrs.field(default=None, repr=short_repr)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class SearchPage(APIObject):
    """A documentation page search found.

    Args:
        name: Its title.
        href: Its URL.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    name: str
    href: str
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class SearchResults(APIObject):
    """What ``client.search(query)`` found: models, collections and documentation pages.

    Args:
        query: The query as the server read it.
        models: Models, best match first.
        collections: Collections.
        pages: Documentation pages.
        extra: Keys this version of the library does not know.

    .. versionadded:: 0.1.0
    """

    query: str | None = None
    models: tuple[SearchModel, ...] = attrs.field(default=(), repr=short_repr)
    collections: tuple[SearchCollection, ...] = attrs.field(default=(), repr=short_repr)
    pages: tuple[SearchPage, ...] = attrs.field(default=(), repr=short_repr)
    extra: Mapping[str, Any] = _extra()
