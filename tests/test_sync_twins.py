# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Every blocking class offers what its async twin offers, with the same parameters."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from replicate_async._client import AsyncClient
from replicate_async._file_output import FileOutput
from replicate_async._paging import AsyncPages
from replicate_async._resources.deployments import AsyncDeploymentPredictions, AsyncDeployments
from replicate_async._resources.discovery import AsyncAccount, AsyncCollections, AsyncHardware
from replicate_async._resources.files import AsyncFiles
from replicate_async._resources.models import AsyncModelPredictions, AsyncModels, AsyncModelVersions
from replicate_async._resources.predictions import AsyncPredictions
from replicate_async._resources.trainings import AsyncTrainings
from replicate_async._resources.webhooks import AsyncWebhooks
from replicate_async._streaming import PredictionStream
from replicate_async._sync import (
    Client,
    SyncFileOutput,
    SyncFiles,
    SyncPredictions,
    SyncPredictionStream,
    SyncWebhooks,
)
from replicate_async._sync_api import (
    SyncAccount,
    SyncCollections,
    SyncDeploymentPredictions,
    SyncDeployments,
    SyncHardware,
    SyncModelPredictions,
    SyncModels,
    SyncModelVersions,
    SyncTrainings,
)
from replicate_async._sync_pages import SyncPages

TWINS = [
    (Client, AsyncClient),
    (SyncPredictions, AsyncPredictions),
    (SyncFiles, AsyncFiles),
    (SyncWebhooks, AsyncWebhooks),
    (SyncPredictionStream, PredictionStream),
    (SyncFileOutput, FileOutput),
    (SyncPages, AsyncPages),
    (SyncModels, AsyncModels),
    (SyncModelVersions, AsyncModelVersions),
    (SyncModelPredictions, AsyncModelPredictions),
    (SyncDeployments, AsyncDeployments),
    (SyncDeploymentPredictions, AsyncDeploymentPredictions),
    (SyncTrainings, AsyncTrainings),
    (SyncCollections, AsyncCollections),
    (SyncHardware, AsyncHardware),
    (SyncAccount, AsyncAccount),
]

#: Async names whose blocking twin is named as Python's sync protocols name it.
RENAMED = {
    "aclose": "close",
    "aiter_bytes": "iter_bytes",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
}

#: Async members with no blocking twin, each for a reason.
NOT_MIRRORED = {
    # The async download client behind FileOutput; a SyncFileOutput uses it on the loop thread.
    (AsyncClient, "downloader"),
    # Never offered on Client so far (a read-only property; adding it is an API decision).
    (AsyncClient, "base_url"),
}

#: Blocking methods with a docstring of their own: closing also stops the loop thread (Client)
#: or the iteration running in it (SyncPredictionStream). Every other one carries its twin's.
OWN_DOCSTRING = {"close"}


def _public(cls: type) -> dict[str, Any]:
    """*cls*'s public methods and properties (inherited ones too), and the protocols it speaks."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object's members are nobody's API
        for name, value in vars(klass).items():
            public = not name.startswith("_") or name in RENAMED or name in RENAMED.values()
            if public and (inspect.isfunction(value) or isinstance(value, property)):
                members[name] = value
    return members


def _params(func: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=[s.__name__ for s, _ in TWINS])
def test_every_async_member_has_a_blocking_twin(sync_cls: type, async_cls: type) -> None:
    """Each public async method and property has a twin: same parameters, names and defaults."""
    sync_members = _public(sync_cls)
    for name, async_member in _public(async_cls).items():
        if (async_cls, name) in NOT_MIRRORED or name in RENAMED.values():
            continue
        sync_name = RENAMED.get(name, name)
        assert sync_name in sync_members, f"{sync_cls.__name__} lacks {sync_name} ({name})"
        sync_member = sync_members[sync_name]
        if isinstance(async_member, property):
            assert isinstance(sync_member, property), f"{sync_cls.__name__}.{sync_name}"
            continue
        assert not inspect.iscoroutinefunction(sync_member), f"{sync_cls.__name__}.{sync_name}"
        assert not inspect.isasyncgenfunction(sync_member), f"{sync_cls.__name__}.{sync_name}"
        if name.startswith("_"):
            continue  # a protocol method: the signature is the protocol's
        assert _params(sync_member) == _params(async_member), f"{sync_cls.__name__}.{sync_name}"
        if sync_name not in OWN_DOCSTRING:
            assert sync_member.__doc__ == async_member.__doc__, f"{sync_cls.__name__}.{sync_name}"


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=[s.__name__ for s, _ in TWINS])
def test_no_blocking_member_without_an_async_twin(sync_cls: type, async_cls: type) -> None:
    """The blocking classes add no public surface of their own."""
    async_names = {RENAMED.get(name, name) for name in _public(async_cls)}
    assert set(_public(sync_cls)) - async_names == set()


def test_the_exceptions_name_real_members() -> None:
    """Each listed exception names a member the async class really has."""
    for async_cls, name in NOT_MIRRORED:
        assert name in _public(async_cls)
