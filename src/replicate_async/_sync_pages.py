# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Lists on the blocking client: :class:`SyncPages`, and :func:`forward_pages` to make them."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from ._paging import AsyncPages
from ._portal import SyncTwin, made_from

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ._models import Page

__all__ = ["SyncPages", "forward_pages"]

_T = TypeVar("_T")
_A = TypeVar("_A")
_P = ParamSpec("_P")


class SyncPages(SyncTwin[AsyncPages[_T]], Generic[_T]):
    """A list of the API on the blocking :class:`~replicate_async.Client`: ``for item in ...``.

    Pages are fetched on the client's event-loop thread as you iterate;
    :meth:`page` fetches one page (the first, or the one a cursor names).

    Args:
        pages: The async list this one drives.
        client: The client whose event-loop thread fetches the pages.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def __init__(self, pages: AsyncPages[_T], client: SyncTwin[Any]) -> None:
        super().__init__(pages, client)

    def __repr__(self) -> str:
        return "Sync" + repr(self._async).removeprefix("<")

    def __iter__(self) -> Iterator[_T]:
        """Every item of every page, fetching the next page when this one is used up."""
        pages = self._async
        return self._bridge.iterate(lambda: aiter(pages))

    def page(self, cursor: str | None = None) -> Page[_T]:
        """Fetch one page: the first, or the one a previous page's ``next_cursor`` names.

        Args:
            cursor: A page's ``next_cursor`` (or ``previous_cursor``); None for the first page.

        .. versionadded:: 0.1.0
        """
        return self._bridge.call(self._async.page, cursor)

    def pages(self) -> Iterator[Page[_T]]:
        """Every page from the first, fetched one at a time as you iterate.

        .. versionadded:: 0.1.0
        """
        return self._bridge.iterate(self._async.pages)


def forward_pages(
    func: Callable[Concatenate[_A, _P], AsyncPages[_T]],
) -> Callable[Concatenate[SyncTwin[_A], _P], SyncPages[_T]]:
    """A blocking method returning the :class:`SyncPages` of the async list method *func*."""

    def method(self: SyncTwin[_A], /, *args: _P.args, **kwargs: _P.kwargs) -> SyncPages[_T]:
        self._bridge.check()
        return SyncPages(func(self._async, *args, **kwargs), self)

    returns = inspect.signature(func).return_annotation
    if isinstance(returns, str) and returns.startswith("AsyncPages["):
        returns = "Sync" + returns.removeprefix("Async")
    return made_from(func, method, returns=returns)
