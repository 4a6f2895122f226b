# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Finding things: `client.collections`, `client.hardware`, `client.account` and `search`.

:func:`search` is the request behind :meth:`AsyncClient.search` (``GET /v1/search``):
models, collections and documentation pages matching a query, in one reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from replicate_async._api_objects import Account, Collection, Hardware, SearchResults
from replicate_async._paging import AsyncPages
from replicate_async._sansio import Request
from replicate_async._sansio.routes import segment, with_query
from replicate_async.exceptions import ValidationError

if TYPE_CHECKING:
    from replicate_async._session import Session

__all__ = ["MAX_SEARCH_LIMIT", "AsyncAccount", "AsyncCollections", "AsyncHardware", "search"]

MAX_SEARCH_LIMIT: Final = 50
"""The most results :func:`search` may ask for (the server's default is 20)."""


async def search(session: Session, query: str, *, limit: int | None = None) -> SearchResults:
    """Search models, collections and documentation pages (``GET /v1/search``).

    Args:
        session: Sends the request.
        query: What to search for, e.g. ``"upscale"``.
        limit: The most models to return, 1 to 50; the server's default (20) when None.

    .. versionadded:: 0.1.0
    """
    given: object = query
    if not isinstance(given, str) or not given.strip():
        raise ValidationError(
            status_code=None,
            message=f"invalid search query {query!r}: pass a non-empty string, e.g. 'upscale'",
        )
    checked: object = limit
    if checked is not None and (
        isinstance(checked, bool)
        or not isinstance(checked, int)
        or not 1 <= checked <= MAX_SEARCH_LIMIT
    ):
        raise ValidationError(
            status_code=None,
            message=(
                f"invalid search limit {limit!r}: pass a whole number from 1 to "
                f"{MAX_SEARCH_LIMIT}, or None for the server's default (20)"
            ),
        )
    path = with_query("/v1/search", {"query": given.strip(), "limit": limit})
    return await session.send_json(Request(method="GET", path=path), SearchResults)


class AsyncCollections:
    """Curated collections of models: ``client.collections``.

    Args:
        session: The client's session (connection pool, token, retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"<AsyncCollections of {self._session!r}>"

    def list(self) -> AsyncPages[Collection]:
        """Every collection (name, slug, description; no models), as a lazy list.

        Pages are fetched as you iterate (see :class:`~replicate_async.AsyncPages`);
        :meth:`get` gives a collection's models.

        .. versionadded:: 0.1.0
        """
        return AsyncPages(self._session, "/v1/collections", Collection)

    async def get(self, slug: str) -> Collection:
        """Fetch a collection with its models and full description.

        Args:
            slug: The collection's slug, e.g. ``"text-to-image"``.

        .. versionadded:: 0.1.0
        """
        path = f"/v1/collections/{segment(slug, 'collection slug')}"
        return await self._session.send_json(Request(method="GET", path=path), Collection)


class AsyncHardware:
    """The hardware models and deployments run on: ``client.hardware``.

    Args:
        session: The client's session (connection pool, token, retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"<AsyncHardware of {self._session!r}>"

    async def list(self) -> list[Hardware]:
        """Every kind of hardware (its ``sku`` is what ``models.create`` takes).

        .. versionadded:: 0.1.0
        """
        request = Request(method="GET", path="/v1/hardware")
        return await self._session.send_json(request, list[Hardware])


class AsyncAccount:
    """The account the API token belongs to: ``client.account``.

    Args:
        session: The client's session (connection pool, token, retries).

    .. versionadded:: 0.1.0
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"<AsyncAccount of {self._session!r}>"

    async def get(self) -> Account:
        """Fetch the account the client's API token belongs to.

        .. versionadded:: 0.1.0
        """
        return await self._session.send_json(Request(method="GET", path="/v1/account"), Account)
