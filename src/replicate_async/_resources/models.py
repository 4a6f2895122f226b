# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`client.models`: get, list, search, create, update and delete models; their versions,
example predictions, README, and predictions of official models.

Every argument is checked before a request is sent: a malformed model name, an empty
update or an unknown visibility raises :class:`~replicate_async.ValidationError`
(``status_code`` None) with a line saying what to write instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

from replicate_async import _config
from replicate_async._api_objects import Model, ModelVersion
from replicate_async._models import Deployment, Prediction
from replicate_async._paging import AsyncPages
from replicate_async._sansio import Request
from replicate_async._sansio.requests import VERSION_ID_RE
from replicate_async._sansio.routes import owner_name, segment
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import timedelta

    from replicate_async._config import UseClientDefault
    from replicate_async._running import Runner
    from replicate_async._session import Session
    from replicate_async._uploads import FileEncoding

__all__ = ["AsyncModelPredictions", "AsyncModelVersions", "AsyncModels"]

_SORT_BY: Final = ("latest_version_created_at", "model_created_at")
_SORT_DIRECTION: Final = ("asc", "desc")
_VISIBILITY: Final = ("public", "private")


def _model_path(model: str) -> str:
    """``/v1/models/{owner}/{name}`` of a checked ``owner/name``."""
    return f"/v1/models/{owner_name(model)}"


def _versioned_model_path(model: str, call: str) -> str:
    """The model path for a versions call, refusing ``owner/name:version`` with the right hint."""
    given: object = model
    if isinstance(given, str) and ":" in given:
        bare = given.split(":", 1)[0].strip()
        raise ValidationError(
            status_code=None,
            message=(
                f"invalid model {model!r}: pass the model and the version id separately, "
                f"as in client.models.versions.{call}({bare!r}, version_id)"
            ),
        )
    return _model_path(model)


def _choice(value: object, allowed: Sequence[str], what: str) -> str:
    """*value* if it is one of *allowed*, else a ValidationError listing them."""
    if isinstance(value, str) and value in allowed:
        return value
    choices = " or ".join(repr(choice) for choice in allowed)
    raise ValidationError(status_code=None, message=f"invalid {what} {value!r}: pass {choices}")


def _text_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """The fields that were given (not None), each checked to be a string."""
    given: dict[str, str] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationError(
                status_code=None,
                message=f"invalid {key} {value!r}: pass a string (or None to leave it out)",
            )
        given[key] = value
    return given


def _non_empty(value: object, what: str, example: str) -> str:
    """*value* stripped if it is a non-empty string, else a ValidationError with an example."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValidationError(
        status_code=None,
        message=f"invalid {what} {value!r}: pass a non-empty string, e.g. {example}",
    )


class AsyncModelVersions:
    """A model's versions: ``client.models.versions``.

    Args:
        session: The client's session (connection pool, token, retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"<AsyncModelVersions of {self._session!r}>"

    def list(self, model: str) -> AsyncPages[ModelVersion]:
        """A model's versions, newest first, as a lazy list: ``async for v in ...list(model)``.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`).

        Args:
            model: The model, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        path = _versioned_model_path(model, "list") + "/versions"
        return AsyncPages(self._session, path, ModelVersion)

    async def get(self, model: str, version_id: str) -> ModelVersion:
        """Fetch one version of a model, with its OpenAPI schema.

        Args:
            model: The model, ``"owner/name"``.
            version_id: The version's id (64 hex characters).

        .. versionadded:: 0.1.0
        """
        path = f"{_versioned_model_path(model, 'get')}/versions/{segment(version_id, 'version id')}"
        return await self._session.send_json(Request(method="GET", path=path), ModelVersion)

    async def delete(self, model: str, version_id: str) -> None:
        """Delete a version of a model (the server deletes it in the background: 202).

        Only versions of your own private models can be deleted, and only when no one
        else has run them, no training used them and no deployment runs them.

        Args:
            model: The model, ``"owner/name"``.
            version_id: The version's id (64 hex characters).

        .. versionadded:: 0.1.0
        """
        path = (
            f"{_versioned_model_path(model, 'delete')}/versions/{segment(version_id, 'version id')}"
        )
        await self._session.send_no_content(Request(method="DELETE", path=path))


class AsyncModelPredictions:
    """Predictions of official models by name: ``client.models.predictions``.

    Args:
        runner: The run engine of the client (its session, file inputs, create retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def __repr__(self) -> str:
        return f"<AsyncModelPredictions of {self._runner.session!r}>"

    async def create(
        self,
        model: str,
        input: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        *,
        wait: int | Literal[False] = 60,
        cancel_after: float | str | timedelta | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        file_encoding: FileEncoding | UseClientDefault = _config.USE_CLIENT_DEFAULT,
    ) -> Prediction:
        """Create a prediction of an official model (``POST /v1/models/{owner}/{name}/predictions``).

        The same create as :meth:`AsyncPredictions.create` with an ``"owner/name"``
        reference: the same waiting, retries (only when surely unsent) and file inputs.
        A version goes to ``client.predictions.create("owner/name:<version>", ...)``.

        Args:
            model: The official model, ``"owner/name"``.
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
        given: object = model
        if isinstance(given, Deployment):
            raise ValidationError(
                status_code=None,
                message=(
                    f"invalid model {model!r}: run a deployment with "
                    "client.deployments.predictions.create('owner/name', input)"
                ),
            )
        if isinstance(given, str) and (":" in given or VERSION_ID_RE.fullmatch(given.strip())):
            raise ValidationError(
                status_code=None,
                message=(
                    f"invalid model {model!r}: models.predictions.create takes 'owner/name'; "
                    "run a version with client.predictions.create('owner/name:<version>', input)"
                ),
            )
        return await self._runner.create(
            owner_name(model),
            input,
            wait=wait,
            cancel_after=cancel_after,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            file_encoding=file_encoding,
        )


class AsyncModels:
    """The models API: ``client.models``.

    Args:
        session: The client's session (connection pool, token, retries).
        runner: The client's run engine, for :attr:`predictions`.

    .. versionadded:: 0.1.0
    """

    versions: AsyncModelVersions
    """A model's versions (list, get, delete).

    .. versionadded:: 0.1.0
    """

    predictions: AsyncModelPredictions
    """Predictions of official models by name.

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session, runner: Runner) -> None:
        self._session = session
        self.versions = AsyncModelVersions(session)
        self.predictions = AsyncModelPredictions(runner)

    def __repr__(self) -> str:
        return f"<AsyncModels of {self._session!r}>"

    async def get(self, model: str) -> Model:
        """Fetch a model, with its latest version (and input schema) and default example.

        Args:
            model: The model, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        return await self._session.send_json(Request(method="GET", path=_model_path(model)), Model)

    def list(
        self,
        *,
        sort_by: Literal["latest_version_created_at", "model_created_at"] | None = None,
        sort_direction: Literal["asc", "desc"] | None = None,
    ) -> AsyncPages[Model]:
        """Public models as a lazy list: ``async for m in client.models.list()``.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`).

        Args:
            sort_by: ``"latest_version_created_at"`` (the server's default) or
                ``"model_created_at"``.
            sort_direction: ``"desc"`` (the server's default) or ``"asc"``.

        .. versionadded:: 0.1.0
        """
        params: dict[str, str | int | None] = {
            "sort_by": None if sort_by is None else _choice(sort_by, _SORT_BY, "sort_by"),
            "sort_direction": (
                None
                if sort_direction is None
                else _choice(sort_direction, _SORT_DIRECTION, "sort_direction")
            ),
        }
        return AsyncPages(self._session, "/v1/models", Model, params=params)

    def search(self, query: str) -> AsyncPages[Model]:
        """Public models matching *query*, as a lazy list (``QUERY /v1/models``).

        The query goes as the ``text/plain`` body of every page's request. For models,
        collections and documentation pages with search scores, see
        :meth:`AsyncClient.search`.

        Args:
            query: What to search for, e.g. ``"upscale"``.

        .. versionadded:: 0.1.0
        """
        text = _non_empty(query, "search query", "'upscale'")
        return AsyncPages(self._session, "/v1/models", Model, method="QUERY", text=text)

    async def create(
        self,
        model: str,
        *,
        hardware: str,
        visibility: Literal["public", "private"] = "private",
        description: str | None = None,
        github_url: str | None = None,
        paper_url: str | None = None,
        license_url: str | None = None,
        cover_image_url: str | None = None,
    ) -> Model:
        """Create a model under your account or organisation, then push versions to it.

        Args:
            model: Its name, ``"owner/name"``.
            hardware: The hardware SKU it runs on, e.g. ``"gpu-t4"`` (see
                ``client.hardware.list()``).
            visibility: ``"private"`` (the default) or ``"public"``.
            description: A one-line description.
            github_url: Its source code.
            paper_url: Its paper.
            license_url: Its licence.
            cover_image_url: Its cover image.

        .. versionadded:: 0.1.0
        """
        owner, name = owner_name(model).split("/")
        body: dict[str, str] = {
            "owner": owner,
            "name": name,
            "visibility": _choice(visibility, _VISIBILITY, "visibility"),
            "hardware": _non_empty(hardware, "hardware", "'gpu-t4' (see client.hardware.list())"),
        }
        body.update(
            _text_fields(
                {
                    "description": description,
                    "github_url": github_url,
                    "paper_url": paper_url,
                    "license_url": license_url,
                    "cover_image_url": cover_image_url,
                }
            )
        )
        return await self._session.send_json(
            Request(method="POST", path="/v1/models", json=body), Model
        )

    async def update(
        self,
        model: str,
        *,
        description: str | None = None,
        readme: str | None = None,
        github_url: str | None = None,
        paper_url: str | None = None,
        weights_url: str | None = None,
        license_url: str | None = None,
    ) -> Model:
        """Change some of a model's details and return the model as it is now.

        Only the fields given are sent (``PATCH``); the others keep their values.

        Args:
            model: The model, ``"owner/name"``.
            description: A one-line description.
            readme: Its README, in Markdown.
            github_url: Its source code.
            paper_url: Its paper.
            weights_url: Its weights.
            license_url: Its licence.

        .. versionadded:: 0.1.0
        """
        path = _model_path(model)
        body = _text_fields(
            {
                "description": description,
                "readme": readme,
                "github_url": github_url,
                "paper_url": paper_url,
                "weights_url": weights_url,
                "license_url": license_url,
            }
        )
        if not body:
            raise ValidationError(
                status_code=None,
                message=(
                    f"nothing to update for model {model!r}: pass at least one of description=, "
                    "readme=, github_url=, paper_url=, weights_url= or license_url="
                ),
            )
        return await self._session.send_json(Request(method="PATCH", path=path, json=body), Model)

    async def delete(self, model: str) -> None:
        """Delete a model: only your own private models without versions can be deleted.

        Args:
            model: The model, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        await self._session.send_no_content(Request(method="DELETE", path=_model_path(model)))

    def examples(self, model: str) -> AsyncPages[Prediction]:
        """A model's example predictions, as a lazy list: ``async for p in ...examples(model)``.

        Args:
            model: The model, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        return AsyncPages(self._session, _model_path(model) + "/examples", Prediction)

    async def readme(self, model: str) -> str:
        """A model's README, as Markdown text (NotFoundError when it has none).

        Args:
            model: The model, ``"owner/name"``.

        .. versionadded:: 0.1.0
        """
        return await self._session.send_text(
            Request(method="GET", path=_model_path(model) + "/readme")
        )
