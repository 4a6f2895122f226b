# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What the API shows about models and deployments: metadata, versions, examples, releases.

The fake models (`EmulatorConfig.models`) say how predictions run; the registry says what the
account sees. Each fake model is a public model with one version and (unless it always fails)
one example prediction. Models created through the API start without versions; a successful
training pushes a version to its destination, which then runs like the version it trained.
`PATCH` changes a model's metadata, `DELETE` removes models and versions; deployments keep their
releases, one more per update. `EmulatorState.reset()` builds a fresh registry from the
configuration, so nothing of this outlives a reset.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

import attrs

from replicate_async.emulator._fake_models import FakeModel, make_plan
from replicate_async.emulator._files_api import OWNER
from replicate_async.emulator._records import PredictionRecord
from replicate_async.emulator._util import iso

if TYPE_CHECKING:
    from collections.abc import Sequence

    from replicate_async.emulator._config import DeploymentConfig

#: The account every token belongs to (`GET /v1/account`); it owns what the API creates.
ACCOUNT: dict[str, Any] = {
    "type": "user",
    "username": OWNER,
    "name": "Replicate Emulator",
    "github_url": None,
    "avatar_url": None,
}
#: `GET /v1/hardware` (the SKUs the real API recorded, and a few newer ones).
HARDWARE: list[dict[str, str]] = [
    {"name": "CPU", "sku": "cpu"},
    {"name": "Nvidia T4 GPU", "sku": "gpu-t4"},
    {"name": "Nvidia A40 GPU", "sku": "gpu-a40-small"},
    {"name": "Nvidia A40 (Large) GPU", "sku": "gpu-a40-large"},
    {"name": "Nvidia L40S GPU", "sku": "gpu-l40s"},
    {"name": "2x Nvidia L40S GPU", "sku": "gpu-l40s-2x"},
    {"name": "Nvidia A100 (80GB) GPU", "sku": "gpu-a100-large"},
    {"name": "Nvidia H100 GPU", "sku": "gpu-h100"},
]
SKUS: tuple[str, ...] = tuple(item["sku"] for item in HARDWARE)
#: When the fake models and their versions say they were pushed (Unix seconds).
PUSHED_AT = 1_717_200_000.0
VERSION_CREATED_AT = iso(PUSHED_AT)
#: The input of a fake model's example: its text field, nothing else.
EXAMPLE_PROMPT = "An example prompt"


@attrs.define(kw_only=True)
class VersionEntry:
    """A model version: its id, when it was pushed, and the fake model that runs it."""

    id: str
    created_iso: str
    runs: FakeModel


@attrs.define(kw_only=True)
class ModelEntry:
    """A model as the API shows it; `versions` oldest first, `examples` finished predictions."""

    owner: str
    name: str
    seq: int
    created_iso: str
    visibility: str = "public"
    hardware: str | None = None
    description: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    cover_image_url: str | None = None
    weights_url: str | None = None
    readme: str | None = None
    official: bool = False
    fake: FakeModel | None = None
    versions: list[VersionEntry] = attrs.field(factory=list)
    examples: list[PredictionRecord] = attrs.field(factory=list)

    @property
    def ref(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"

    @property
    def latest(self) -> VersionEntry | None:
        """The newest version, if any."""
        return self.versions[-1] if self.versions else None

    def version(self, version_id: str) -> VersionEntry | None:
        """The version with this id, if the model has it."""
        return next((v for v in self.versions if v.id == version_id), None)


@attrs.define(kw_only=True)
class Release:
    """One release of a deployment: what it runs and how."""

    number: int
    model: str
    version: str
    created_iso: str
    hardware: str
    min_instances: int
    max_instances: int


@attrs.define(kw_only=True)
class DeploymentEntry:
    """A deployment: its releases, oldest first."""

    owner: str
    name: str
    seq: int
    releases: list[Release] = attrs.field(factory=list)

    @property
    def ref(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"

    @property
    def current(self) -> Release:
        """The current release (every deployment has one)."""
        return self.releases[-1]


def example_record(model: FakeModel) -> PredictionRecord | None:
    """A finished example prediction of a fake model (None for a model that always fails).

    Built off the prediction store (never listed, never expired), with a fixed input and timings
    drawn from a generator seeded with the model's name, so its output is the same every time.
    """
    if model.kind == "fail":
        return None
    at = PUSHED_AT + 60.0
    record = PredictionRecord(
        seq=0,
        model=model,
        version="hidden" if model.official else model.version_id,
        prediction_input={model.text_field: EXAMPLE_PROMPT},
        created_at=at,
        created_iso=iso(at),
    )
    record.lay_out(make_plan(model, record.input, random.Random(model.ref)), at, 1.0)  # noqa: S311
    record.status = "processing"
    record.started_at = record.start_at
    record.apply_steps(math.inf, lambda _record, _event: None)
    record.finish("succeeded", record.end_at)
    return record


class Registry:
    """The models and deployments the account sees (see the module docstring).

    Args:
        models: The fake models; each becomes a public model with one version.
        deployments: The configured deployments; each starts at release 1.
        now_iso: The timestamp of the configured deployments' first release.
    """

    def __init__(
        self, models: Sequence[FakeModel], deployments: Sequence[DeploymentConfig], now_iso: str
    ) -> None:
        """Index the fake models, their examples and the configured deployments."""
        self.models: dict[str, ModelEntry] = {}
        self.deployments: dict[str, DeploymentEntry] = {}
        self._versions: dict[str, tuple[ModelEntry, VersionEntry]] = {}
        self._examples: dict[str, PredictionRecord] = {}
        self._seq = 0
        for fake in models:
            entry = self.add_model(
                owner=fake.owner,
                name=fake.name,
                created_iso=VERSION_CREATED_AT,
                description=fake.description,
                official=fake.official,
                fake=fake,
            )
            self.add_version(
                entry, VersionEntry(id=fake.version_id, created_iso=VERSION_CREATED_AT, runs=fake)
            )
            example = example_record(fake)
            if example is not None:
                entry.examples.append(example)
                self._examples[example.id] = example
        for config in deployments:
            model = self.models.get(config.model)
            latest = model.latest if model is not None else None
            if latest is None:
                raise ValueError(f"deployment {config.name} runs unknown model {config.model}")
            owner, _, name = config.name.partition("/")
            release = Release(
                number=1,
                model=config.model,
                version=latest.id,
                created_iso=now_iso,
                hardware=config.hardware,
                min_instances=config.min_instances,
                max_instances=config.max_instances,
            )
            self.add_deployment(owner, name, release)

    def _next_seq(self) -> int:
        """The next creation number (listing order)."""
        self._seq += 1
        return self._seq

    # -- models -----------------------------------------------------------------------------

    def add_model(self, *, owner: str, name: str, created_iso: str, **fields: Any) -> ModelEntry:
        """Add a model (metadata as keyword arguments, see `ModelEntry`)."""
        entry = ModelEntry(
            owner=owner, name=name, seq=self._next_seq(), created_iso=created_iso, **fields
        )
        self.models[entry.ref] = entry
        return entry

    def remove_model(self, entry: ModelEntry) -> None:
        """Forget a model and its versions."""
        for version in list(entry.versions):
            self.remove_version(entry, version)
        del self.models[entry.ref]

    def add_version(self, entry: ModelEntry, version: VersionEntry) -> None:
        """Push a version to a model (it becomes the latest)."""
        entry.versions.append(version)
        self._versions[version.id] = (entry, version)

    def remove_version(self, entry: ModelEntry, version: VersionEntry) -> None:
        """Delete one version of a model."""
        entry.versions.remove(version)
        self._versions.pop(version.id, None)

    def push_trained(self, destination: str, version_id: str, base: FakeModel, at: str) -> None:
        """The version a successful training pushes: it runs like `base`, as `destination`.

        Nothing happens when the destination was deleted meanwhile.
        """
        entry = self.models.get(destination)
        if entry is None or entry.version(version_id) is not None:
            return
        runs = attrs.evolve(
            base, owner=entry.owner, name=entry.name, version=version_id, official=False
        )
        self.add_version(entry, VersionEntry(id=version_id, created_iso=at, runs=runs))

    def find_version(self, version_id: str) -> tuple[ModelEntry, VersionEntry] | None:
        """The model and version of a 64-hex version id."""
        return self._versions.get(version_id)

    def example(self, prediction_id: str) -> PredictionRecord | None:
        """An example prediction by id (their output files are public, like any)."""
        return self._examples.get(prediction_id)

    def listed_models(self) -> list[ModelEntry]:
        """Every model, oldest first (creation order)."""
        return sorted(self.models.values(), key=lambda e: e.seq)

    # -- deployments ------------------------------------------------------------------------

    def add_deployment(self, owner: str, name: str, release: Release) -> DeploymentEntry:
        """Add a deployment at its first release."""
        entry = DeploymentEntry(owner=owner, name=name, seq=self._next_seq(), releases=[release])
        self.deployments[entry.ref] = entry
        return entry

    def deploys(self, version_id: str) -> bool:
        """Whether any deployment's current release runs this version."""
        return any(d.current.version == version_id for d in self.deployments.values())

    def runnable(self, deployment: DeploymentEntry) -> FakeModel | None:
        """The fake model a deployment's current release runs (None: its version is gone)."""
        found = self.find_version(deployment.current.version)
        return found[1].runs if found is not None else None
