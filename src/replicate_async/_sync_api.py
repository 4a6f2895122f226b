# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The blocking twins of the whole API's resources: models, deployments, trainings and more.

Each method is its async twin run through the client's portal (:func:`forward`), with the
same parameters, return type and docstring; lists are :class:`SyncPages`.
"""

from __future__ import annotations

from typing import Any

from ._portal import SyncTwin, forward
from ._resources.deployments import AsyncDeploymentPredictions, AsyncDeployments
from ._resources.discovery import AsyncAccount, AsyncCollections, AsyncHardware
from ._resources.models import AsyncModelPredictions, AsyncModels, AsyncModelVersions
from ._resources.trainings import AsyncTrainings
from ._sync_pages import forward_pages

__all__ = [
    "SyncAccount",
    "SyncCollections",
    "SyncDeploymentPredictions",
    "SyncDeployments",
    "SyncHardware",
    "SyncModelPredictions",
    "SyncModelVersions",
    "SyncModels",
    "SyncTrainings",
]


class SyncModelVersions(SyncTwin[AsyncModelVersions]):
    """``client.models.versions`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    list = forward_pages(AsyncModelVersions.list)
    get = forward(AsyncModelVersions.get)
    delete = forward(AsyncModelVersions.delete)


class SyncModelPredictions(SyncTwin[AsyncModelPredictions]):
    """``client.models.predictions`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    create = forward(AsyncModelPredictions.create)


class SyncModels(SyncTwin[AsyncModels]):
    """``client.models`` on the blocking :class:`~replicate_async.Client`.

    Args:
        models: The async resource this one drives.
        client: The client whose event-loop thread runs the calls.

    .. versionadded:: 0.1.0
    """

    def __init__(self, models: AsyncModels, client: SyncTwin[Any]) -> None:
        super().__init__(models, client)
        self.versions: SyncModelVersions = SyncModelVersions(models.versions, client)
        """A model's versions (list, get, delete)."""
        self.predictions: SyncModelPredictions = SyncModelPredictions(models.predictions, client)
        """Predictions of official models by name."""

    get = forward(AsyncModels.get)
    list = forward_pages(AsyncModels.list)
    search = forward_pages(AsyncModels.search)
    create = forward(AsyncModels.create)
    update = forward(AsyncModels.update)
    delete = forward(AsyncModels.delete)
    examples = forward_pages(AsyncModels.examples)
    readme = forward(AsyncModels.readme)


class SyncDeploymentPredictions(SyncTwin[AsyncDeploymentPredictions]):
    """``client.deployments.predictions`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    create = forward(AsyncDeploymentPredictions.create)


class SyncDeployments(SyncTwin[AsyncDeployments]):
    """``client.deployments`` on the blocking :class:`~replicate_async.Client`.

    Args:
        deployments: The async resource this one drives.
        client: The client whose event-loop thread runs the calls.

    .. versionadded:: 0.1.0
    """

    def __init__(self, deployments: AsyncDeployments, client: SyncTwin[Any]) -> None:
        super().__init__(deployments, client)
        self.predictions: SyncDeploymentPredictions = SyncDeploymentPredictions(
            deployments.predictions, client
        )
        """Predictions through a deployment."""

    list = forward_pages(AsyncDeployments.list)
    get = forward(AsyncDeployments.get)
    create = forward(AsyncDeployments.create)
    update = forward(AsyncDeployments.update)
    delete = forward(AsyncDeployments.delete)


class SyncTrainings(SyncTwin[AsyncTrainings]):
    """``client.trainings`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    create = forward(AsyncTrainings.create)
    get = forward(AsyncTrainings.get)
    list = forward_pages(AsyncTrainings.list)
    cancel = forward(AsyncTrainings.cancel)
    wait = forward(AsyncTrainings.wait)


class SyncCollections(SyncTwin[AsyncCollections]):
    """``client.collections`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    list = forward_pages(AsyncCollections.list)
    get = forward(AsyncCollections.get)


class SyncHardware(SyncTwin[AsyncHardware]):
    """``client.hardware`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    list = forward(AsyncHardware.list)


class SyncAccount(SyncTwin[AsyncAccount]):
    """``client.account`` on the blocking :class:`~replicate_async.Client`.

    .. versionadded:: 0.1.0
    """

    get = forward(AsyncAccount.get)
