# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.deployments`: list, get, create, update and delete deployments, and run them.

Every argument is checked before a request is sent: a malformed ``owner/name``, version id
or hardware SKU, instance bounds outside the API's ranges (0 to 5 kept warm, 0 to 20 at
most, the first not above the second) or an update that changes nothing raises
:class:`~replicate_async.ValidationError` (``status_code`` None) with one line saying what
to write instead.

Creating a deployment is retried like the API's other calls: a deployment's name is unique
in its account, so a repeated create can never make a second one (a repeat the server
refuses because the name is taken means the first one was made: ``get`` it). Predictions of
a deployment go through the run engine like every other create (retried only when surely
unsent, promise 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

from replicate_async import _config
from replicate_async._api_objects import DeploymentInfo
from replicate_async._models import Deployment, Prediction
from replicate_async._paging import AsyncPages
from replicate_async._sansio import Request
from replicate_async._sansio.requests import NAME_RE, VERSION_ID_RE
from replicate_async._sansio.routes import owner_name, segment
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import timedelta

    from replicate_async._config import UseClientDefault
    from replicate_async._running import Runner
    from replicate_async._session import Session
    from replicate_async._uploads import FileEncoding

__all__ = ["MAX_INSTANCES", "MAX_MIN_INSTANCES", "AsyncDeploymentPredictions", "AsyncDeployments"]

MAX_MIN_INSTANCES: Final = 5
"""The largest ``min_instances`` the API takes (instances kept warm)."""

MAX_INSTANCES: Final = 20
"""The largest ``max_instances`` the API takes."""


def _fail(message: str) -> ValidationError:
    """A client-side check's error (no request was sent)."""
    return ValidationError(status_code=None, message=message)


def _path(deployment: str) -> str:
    """``/v1/deployments/{owner}/{name}`` of a checked ``owner/name``."""
    return f"/v1/deployments/{owner_name(deployment, 'deployment')}"


def _check_name(name: object) -> str:
    """A new deployment's name: a slug without the owner (it goes to the token's account)."""
    if isinstance(name, str) and NAME_RE.fullmatch(name.strip()):
        return name.strip()
    if isinstance(name, str) and "/" in name:
        bare = name.rsplit("/", 1)[-1].strip()
        raise _fail(
            f"invalid deployment name {name!r}: a deployment is created in the token's "
            f"account; pass its name without the owner, e.g. {bare!r}"
        )
    raise _fail(
        f"invalid deployment name {name!r}: use lowercase letters, digits, '-', '_' and '.'"
    )


def _check_version(version: object) -> str:
    """A version id: 64 lowercase hex characters (not ``owner/name:version``)."""
    if isinstance(version, str) and VERSION_ID_RE.fullmatch(version.strip()):
        return version.strip()
    hint = ""
    if isinstance(version, str) and ":" in version:
        hint = f"; pass only the part after ':', {version.rsplit(':', 1)[-1].strip()!r}"
    raise _fail(f"invalid version {version!r}: expected a 64-character hex version id{hint}")


def _check_count(value: object, what: str, most: int) -> int:
    """An instance bound: an int from 0 to *most*."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most:
        return value
    raise _fail(f"invalid {what} {value!r}: expected a whole number from 0 to {most}")


def _check_bounds(min_instances: int | None, max_instances: int | None) -> None:
    """Both bounds given: the warm instances may not exceed the most instances."""
    if min_instances is not None and max_instances is not None and min_instances > max_instances:
        raise _fail(
            f"min_instances ({min_instances}) is above max_instances ({max_instances}); "
            "a deployment keeps at most max_instances running"
        )


class AsyncDeploymentPredictions:
    """Predictions of a deployment: ``client.deployments.predictions``.

    Args:
        runner: The run engine of the client (its session, file inputs, create retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def __repr__(self) -> str:
        return f"<AsyncDeploymentPredictions of {self._runner.session!r}>"

    async def create(
        self,
        deployment: str,
        input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        cancel_after: float | str | timedelta | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
    ) -> Prediction:
        """Create a prediction of a deployment (``POST /v1/deployments/{owner}/{name}/predictions``).

        The same create as :meth:`AsyncPredictions.create` with
        ``Deployment("owner/name")``: the same waiting, retries (only when surely unsent:
        promise 1), file inputs, and remote cancel when the awaiting task is cancelled while
        the create is held open.

        Args:
            deployment: The deployment, ``"owner/name"``.
            input: The model's input.
            wait: Seconds (1 to 60) for ``Prefer: wait``, or False to return at once.
            cancel_after: A server-side deadline (``Cancel-After``): seconds, a timedelta,
                or a duration like ``"5m"``; at least 5 s.
            webhook: An https URL the server calls with updates.
            webhook_events_filter: Which events call the webhook (start, output, logs,
                completed).
            file_encoding: How a ``Path``, ``bytes`` or file object in ``input`` is sent:
                ``"auto"``, ``"upload"`` or ``"data_uri"``; the client's setting by default.

        .. versionadded:: 0.1.0
        """
        return await self._runner.create(
            Deployment(owner_name(deployment, "deployment")),
            input,
            wait=wait,
            cancel_after=cancel_after,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            file_encoding=file_encoding,
        )


class AsyncDeployments:
    """The deployments API: ``client.deployments``.

    Args:
        session: The client's session (connection pool, token, retries).
        runner: The run engine of the client, for :attr:`predictions`.

    .. versionadded:: 0.1.0
    """

    predictions: AsyncDeploymentPredictions
    """Predictions of a deployment (``create``).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session, runner: Runner) -> None:
        self._session = session
        self.predictions = AsyncDeploymentPredictions(runner)

    def __repr__(self) -> str:
        return f"<AsyncDeployments of {self._session!r}>"

    def list(self) -> AsyncPages[DeploymentInfo]:
        """Your deployments, newest first, as a lazy list: ``async for d in ...list()``.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`); each
        page's ``next`` link is followed only when it points at the API's own host.

        .. versionadded:: 0.1.0
        """
        return AsyncPages(self._session, "/v1/deployments", DeploymentInfo)

    async def get(self, deployment: str) -> DeploymentInfo:
        """Fetch a deployment, with its current release.

        Args:
            deployment: The deployment, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        request = Request(method="GET", path=_path(deployment))
        return await self._session.send_json(request, DeploymentInfo)

    async def create(
        self,
        name: str,
        *,
        model: str,
        version: str,
        hardware: str,
        min_instances: int,
        max_instances: int,
    ) -> DeploymentInfo:
        """Create a deployment in the token's account and return it (the API answers 200).

        Retried like other calls (a name is unique in its account, so a repeat cannot make
        a second deployment; see the module's notes).

        Args:
            name: The deployment's name, without the owner; it is run as
                ``"<your account>/<name>"``.
            model: The model it runs, ``"owner/name"``.
            version: The model's version id (64 hex characters).
            hardware: The hardware SKU, e.g. ``"gpu-t4"`` (see ``client.hardware.list()``).
            min_instances: Instances kept running, 0 to 5.
            max_instances: Most instances, 0 to 20, not below ``min_instances``.

        .. versionadded:: 0.1.0
        """
        body = {
            "name": _check_name(name),
            "model": owner_name(model, "model"),
            "version": _check_version(version),
            "hardware": segment(hardware, "hardware"),
            "min_instances": _check_count(min_instances, "min_instances", MAX_MIN_INSTANCES),
            "max_instances": _check_count(max_instances, "max_instances", MAX_INSTANCES),
        }
        _check_bounds(min_instances, max_instances)
        request = Request(method="POST", path="/v1/deployments", json=body)
        return await self._session.send_json(request, DeploymentInfo)

    async def update(
        self,
        deployment: str,
        *,
        version: str | None = None,
        hardware: str | None = None,
        min_instances: int | None = None,
        max_instances: int | None = None,
    ) -> DeploymentInfo:
        """Change a deployment (``PATCH``); each update makes a new release.

        Only the arguments given are sent; the rest stay as they are. An update with
        nothing to change is refused before any request.

        Args:
            deployment: The deployment, ``"owner/name"``.
            version: A new version id of its model (64 hex characters).
            hardware: A new hardware SKU.
            min_instances: Instances kept running, 0 to 5.
            max_instances: Most instances, 0 to 20.

        .. versionadded:: 0.1.0
        """
        path = _path(deployment)
        body: dict[str, Any] = {}
        if version is not None:
            body["version"] = _check_version(version)
        if hardware is not None:
            body["hardware"] = segment(hardware, "hardware")
        if min_instances is not None:
            body["min_instances"] = _check_count(min_instances, "min_instances", MAX_MIN_INSTANCES)
        if max_instances is not None:
            body["max_instances"] = _check_count(max_instances, "max_instances", MAX_INSTANCES)
        if not body:
            raise _fail(
                f"deployments.update({deployment!r}) changes nothing: pass at least one of "
                "version, hardware, min_instances or max_instances"
            )
        _check_bounds(min_instances, max_instances)
        request = Request(method="PATCH", path=path, json=body)
        return await self._session.send_json(request, DeploymentInfo)

    async def delete(self, deployment: str) -> None:
        """Delete a deployment (the API allows it once it has been offline and unused for 15 minutes).

        Args:
            deployment: The deployment, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        await self._session.send_no_content(Request(method="DELETE", path=_path(deployment)))
