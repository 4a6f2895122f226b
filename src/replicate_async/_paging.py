# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Lists of the API: lazy async iterators over cursor pages (:class:`AsyncPages`).

Every list call (``predictions.list()``, ``models.list()``, ``trainings.list()``, ...)
returns an :class:`AsyncPages` at once, without a request. ``async for item in pages``
fetches the pages as they are needed; ``await pages.page()`` fetches one page and
``await pages.page(cursor)`` the page a previous one's ``next_cursor`` named, so a list
can be resumed in another process. Requests go through the session, with its retries,
rate limits and error mapping; a ``next`` link is followed only when it points at the
API's own host (the token goes nowhere else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from replicate_async import _sansio
from replicate_async._models import Page
from replicate_async._sansio import Request
from replicate_async._sansio.routes import with_query
from replicate_async.exceptions import DecodeError, ValidationError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Mapping

    from replicate_async._session import Session

__all__ = ["AsyncPages"]

T = TypeVar("T")


class AsyncPages(Generic[T]):
    """A list of the API, fetched page by page: ``async for item in client.models.list()``.

    Nothing is fetched until you iterate or ask for a page. Iterating walks every page
    from the first, following each page's ``next`` link; :meth:`page` fetches one page.

    Args:
        session: Sends the requests.
        path: The list's path, e.g. ``"/v1/models"``.
        item: The class of the list's items.
        params: Query parameters (filters, sort order); None values are left out.
        method: ``"GET"``, or ``"QUERY"`` for a model search.
        text: The ``text/plain`` body of a ``QUERY``.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_item", "_method", "_path", "_session", "_text")

    def __init__(
        self,
        session: Session,
        path: str,
        item: type[T],
        *,
        params: Mapping[str, str | int | None] | None = None,
        method: str = "GET",
        text: str | None = None,
    ) -> None:
        self._session = session
        self._path = with_query(path, params or {})
        self._item = item
        self._method = method
        self._text = text

    def __repr__(self) -> str:
        return f"<AsyncPages {self._method} {self._path}>"

    def __aiter__(self) -> AsyncGenerator[T, None]:  # noqa: PYI058 - aclose() for an early exit
        """Every item of every page, fetching the next page when this one is used up."""
        return self._items()

    async def page(self, cursor: str | None = None) -> Page[T]:
        """Fetch one page: the first, or the one a previous page's ``next_cursor`` names.

        Args:
            cursor: A page's ``next_cursor`` (or ``previous_cursor``); None for the first page.

        .. versionadded:: 0.1.0
        """
        path = self._path
        given: object = cursor
        if given is not None:
            if not isinstance(given, str) or not given:
                raise ValidationError(
                    status_code=None,
                    message=f"invalid cursor {cursor!r}: pass a page's next_cursor (a string)",
                )
            path = with_query(path, {"cursor": given})
        return await self._fetch(path)

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Every page from the first, fetched one at a time as you iterate.

        .. versionadded:: 0.1.0
        """
        path = self._path
        while True:
            page = await self._fetch(path)
            yield page
            if not page.next:
                return
            following = _sansio.resolve_next_url(page.next, self._session.base_url)
            if following == path:
                raise DecodeError(message=f"the page at {path} names itself as the next page")
            path = following

    async def _items(self) -> AsyncGenerator[T, None]:
        pages = self.pages()
        try:
            async for page in pages:
                for item in page.results:
                    yield item
        finally:
            await pages.aclose()

    async def _fetch(self, path: str) -> Page[T]:
        request = Request(method=self._method, path=path, text=self._text)
        page: Page[T] = await self._session.send_json(request, Page[self._item])  # type: ignore[name-defined]
        return page
