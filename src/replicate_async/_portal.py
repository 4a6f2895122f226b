# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The machinery of the blocking shell: one portal, and forwarders made from async signatures.

A :class:`Portal` enters :func:`anyio.from_thread.start_blocking_portal` once for a
``Client``'s whole life and runs every call there: the retry, polling and timeout logic
lives only in the async client, and an ``httpx.AsyncClient`` stays on the loop that made it
(encode/httpx#2473). There is no ``anyio.run`` per call and no ``BlockingPortalProvider``
(which would stop the loop when its last user leaves).

Async iterators (``predictions.list()``, a file's bytes) are driven by one task in the
portal, which fetches an item each time the caller asks for one, so they stay lazy and every
``async with`` inside them opens and closes in the same task.

A ``KeyboardInterrupt`` while a call blocks cancels that call's task in the portal and waits
(briefly) for it to unwind, so the async client's shielded remote cancel of an abandoned
prediction runs before the interrupt propagates (promise 4). Closing the portal does the same
to every call still running (from other threads): each is cancelled as a cancellation, with
the grace for its remote cancel, and its thread gets :class:`ClientClosedError`; only then is
the async client closed and the loop stopped.

:class:`SyncTwin` is the base of every blocking class: the async object it drives and the
portal. :func:`forward` and :func:`forward_iter` make a blocking method from an async one,
typed from its signature (ParamSpec), with its docstring as it is; :func:`shaped_like` gives a
hand-written wrapper the parameters of its async twin, for the few whose result changes.

A call blocks its own thread only, so it works where an event loop already runs in that
thread (a notebook's cell, a coroutine calling plain code): it blocks that loop, as any
blocking call does, while the portal's own loop does the work. The one thread it refuses is
the portal's: a call from there (a callback such as ``on_progress``) would wait for itself.
No warning is given for blocking a caller's loop: that is what a sync call means (the
official client says nothing either), and asyncio's debug mode already reports the slow step.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Concatenate, Final, Generic, ParamSpec, TypeVar

import anyio
import anyio.from_thread

from replicate_async.exceptions import ClientClosedError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
    from concurrent.futures import Future
    from contextlib import AbstractContextManager

    from anyio.abc import TaskStatus
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = [
    "INTERRUPT_GRACE",
    "Portal",
    "SyncTwin",
    "forward",
    "forward_iter",
    "made_from",
    "shaped_like",
]

_A = TypeVar("_A")
_R = TypeVar("_R")
_S = TypeVar("_S")
_T = TypeVar("_T")
_P = ParamSpec("_P")

#: Most seconds a Ctrl-C waits for the interrupted call to clean up (its remote cancel).
INTERRUPT_GRACE: Final = 15.0
#: Most seconds closing an abandoned iterator may take inside the portal.
_ITERATOR_CLOSE_GRACE: Final = 5.0
_CLOSED: Final = "this Client is closed; make a new one (or use `with Client() as client:`)"
_CLOSED_DURING: Final = (
    "the Client was closed while this call was running: the call was cancelled (and its "
    "prediction with it, best effort); make a new Client to go on"
)
_OWN_THREAD: Final = (
    "this Client was called on its own event-loop thread (from a callback such as "
    "on_progress), where a blocking call would wait for itself forever; make the call after "
    "the running one returns, or from another thread"
)
_THREAD_NAME: Final = "replicate-async-portal"
_SAME: Final = object()


class Portal:
    """One event-loop thread for a Client's life: blocking calls and lazy iteration through it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        #: The pumps of iterators still open, cancelled by :meth:`close`.
        self.open_iterators: set[Future[Any]] = set()
        #: The calls running (or about to), interrupted by :meth:`close`.
        self._running: set[_Call[Any]] = set()
        self._cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal("asyncio", name=_THREAD_NAME)
        )
        #: The anyio portal itself.
        self.portal = self._cm.__enter__()
        #: The loop thread: the one thread a blocking call may not come from.
        self._loop_thread = self.portal.call(threading.get_ident)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def start(self, make: Callable[[], _T]) -> _T:
        """``make()`` on the loop thread (an async client's pool belongs to its loop).

        When it fails, the loop thread is stopped before the error propagates.
        """
        try:
            return self.portal.call(make)
        except BaseException:
            self._closed = True
            self._cm.__exit__(*sys.exc_info())
            raise

    def check_open(self) -> None:
        """Raise a clear error when the client is closed."""
        if self._closed:
            raise ClientClosedError(message=_CLOSED)

    def check_thread(self) -> None:
        """Raise a clear error on the loop thread, where blocking on the loop would hang."""
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(_OWN_THREAD)

    def check(self) -> anyio.from_thread.BlockingPortal:
        """The portal, or a clear error when the client is closed or called from its loop.

        An event loop running in the calling thread (a notebook's) is no obstacle: the call
        blocks that thread, and so that loop, until the portal's loop has done the work.
        """
        self.check_open()
        self.check_thread()
        return self.portal

    def call(self, func: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``await func(*args, **kwargs)`` in the portal and block for its result."""
        portal = self.check()
        call = _Call(func, *args, **kwargs)
        with self._lock:
            # Under the lock that close() takes: a call registered here is interrupted by it,
            # a call after it is refused.
            self.check_open()
            self._running.add(call)
        try:
            return portal.start_task_soon(call.run).result()
        except BaseException:
            if not call.finished.is_set():
                # Interrupted (Ctrl-C) while the call runs, or while it was being started:
                # cancel it in the portal and let it unwind, so its shielded cleanup (the
                # remote cancel of an abandoned prediction) runs before we propagate.
                call.interrupt(portal)
                call.finished.wait(INTERRUPT_GRACE)
            raise
        finally:
            with self._lock:
                self._running.discard(call)

    def iterate(self, open_iterator: Callable[[], AsyncIterator[_T]]) -> Iterator[_T]:
        """Drive an async iterator from this thread, one item per ``next()``, lazily."""
        portal = self.check()
        pump: _Pump[_T] = _Pump(open_iterator)
        future, _ = portal.start_task(pump.run)
        with self._lock:
            self.open_iterators.add(future)
        try:
            while True:
                done, item = self.call(pump.next)
                if done:
                    return
                yield item
        finally:
            with self._lock:
                self.open_iterators.discard(future)
            future.cancel()

    def close(self, aclose: Callable[[], Awaitable[object]]) -> None:
        """Interrupt running calls, stop open iterators, ``await aclose()`` in the loop, then
        stop the loop; once only.

        Calls other threads are in are cancelled as a Ctrl-C cancels one (their remote
        cancels run, on the still open client) and raise ClientClosedError in their threads;
        closing waits for them at most :data:`INTERRUPT_GRACE` seconds in all.
        """
        self.check_thread()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            iterators = list(self.open_iterators)
            self.open_iterators.clear()
            calls = list(self._running)
        for future in iterators:
            future.cancel()
        for call in calls:
            call.interrupt(self.portal, closing=True)
        deadline = time.monotonic() + INTERRUPT_GRACE
        unfinished = [c for c in calls if not c.finished.wait(max(deadline - time.monotonic(), 0))]
        try:
            self.portal.call(aclose)
        finally:
            if unfinished:
                # Past the grace: cancel whatever is left instead of waiting for it forever.
                with contextlib.suppress(RuntimeError):
                    self.portal.call(self.portal.stop, True)  # noqa: FBT003 - anyio's API
            self._cm.__exit__(None, None, None)


class _Call(Generic[_T]):
    """One forwarded call, cancellable from the caller's thread whether or not it started yet."""

    def __init__(
        self, func: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        self._run: Callable[[], Awaitable[_T]] = functools.partial(func, *args, **kwargs)
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = threading.Event()
        self._closing = False
        self.finished = threading.Event()

    async def run(self) -> _T:
        """Await the call inside a cancel scope that :meth:`interrupt` can cancel."""
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._cancel_requested.is_set():
                scope.cancel("interrupted before it started")
            try:
                return await self._run()
            finally:
                self.finished.set()
        if self._closing:
            raise ClientClosedError(message=_CLOSED_DURING)
        raise RuntimeError("the call was interrupted")

    def interrupt(self, portal: anyio.from_thread.BlockingPortal, *, closing: bool = False) -> None:
        """Cancel the call from any thread; *closing*: because its client is being closed.

        Returns at once: the caller waits on :attr:`finished` (bounded) for it to unwind.
        """
        self._closing = closing
        self._cancel_requested.set()
        # Runs on the loop thread, so it and run()'s start cannot interleave: either the
        # scope exists and is cancelled here, or run() sees the request when it starts.
        with contextlib.suppress(RuntimeError):  # the portal is already shutting down
            portal.call(self._cancel_scope)

    def _cancel_scope(self) -> None:
        """Cancel the running call's scope, if it started."""
        if self._scope is not None:
            self._scope.cancel("interrupted")


class _Pump(Generic[_T]):
    """Runs an async iterator inside one portal task and hands out an item per request."""

    def __init__(self, open_iterator: Callable[[], AsyncIterator[_T]]) -> None:
        self._open = open_iterator
        self._asks: MemoryObjectSendStream[None] | None = None
        self._answers: MemoryObjectReceiveStream[tuple[bool, Any]] | None = None
        self.finished = threading.Event()

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        """Serve items until the iterator ends, fails, or this task is cancelled."""
        asks_send, asks_receive = anyio.create_memory_object_stream[None]()
        answers_send, answers_receive = anyio.create_memory_object_stream[tuple[bool, Any]]()
        self._asks, self._answers = asks_send, answers_receive
        iterator = self._open()
        task_status.started()
        try:
            async with asks_receive, answers_send:
                async for _ in asks_receive:
                    try:
                        item = await anext(iterator)
                    except StopAsyncIteration:
                        await answers_send.send((True, None))
                        return
                    except Exception as exc:  # noqa: BLE001  (handed to the caller's thread)
                        await answers_send.send((True, exc))
                        return
                    await answers_send.send((False, item))
        finally:
            asks_send.close()
            answers_receive.close()
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True), anyio.move_on_after(_ITERATOR_CLOSE_GRACE):
                    await aclose()
            self.finished.set()

    async def next(self) -> tuple[bool, _T]:
        """Ask for one item: ``(False, item)``, or ``(True, None)`` at the end; raises its error."""
        assert self._asks is not None  # noqa: S101  (run() has started)
        assert self._answers is not None  # noqa: S101
        try:
            await self._asks.send(None)
            answer = await self._answers.receive()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            # The pump is gone: its iterator was dropped or its client closed.
            return True, None  # type: ignore[return-value]
        done, value = answer
        if done and value is not None:
            raise value
        return answer


# -- forwarders ------------------------------------------------------------------------------


class SyncTwin(Generic[_A]):
    """The base of a blocking class: the async object it drives, and the portal it drives it in.

    Args:
        twin: The async object.
        peer: A blocking object (its client) whose portal this one shares.
    """

    __slots__ = ("_async", "_bridge", "_owner")

    _async: _A
    _bridge: Portal

    def __init__(self, twin: _A, peer: SyncTwin[Any]) -> None:
        self._async = twin
        self._bridge = peer._bridge
        self._owner = peer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A forwarder is made before its class exists: name it after its place, so reprs,
        # help() and the docs say SyncFiles.iter_bytes, not AsyncFiles.aiter_bytes.
        for name, value in vars(cls).items():
            if getattr(value, "__forwarder__", False):
                value.__name__ = name
                value.__qualname__ = f"{cls.__qualname__}.{name}"
                value.__module__ = cls.__module__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._owner!r}>"

    @staticmethod
    def _twin_of(value: SyncTwin[_T]) -> _T:
        """The async object behind *value*."""
        return value._async


def made_from(
    func: Callable[..., object], method: Callable[..., _R], *, returns: object = _SAME
) -> Callable[..., _R]:
    """*method* as the forwarder of *func*: its docstring and parameters, named by its class."""
    functools.update_wrapper(method, func, assigned=("__name__", "__doc__"))
    if returns is not _SAME:
        signature = inspect.signature(func).replace(return_annotation=returns)
        vars(method)["__signature__"] = signature
    vars(method)["__forwarder__"] = True
    return method


def forward(
    func: Callable[Concatenate[_A, _P], Awaitable[_R]],
) -> Callable[Concatenate[SyncTwin[_A], _P], _R]:
    """A blocking method that awaits the async method *func* in the portal.

    ``get = forward(AsyncPredictions.get)`` in a ``SyncTwin[AsyncPredictions]`` takes what
    ``AsyncPredictions.get`` takes and returns what it returns, without ``await``.
    """

    def method(self: SyncTwin[_A], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self._bridge.call(func, self._async, *args, **kwargs)

    return made_from(func, method)


def forward_iter(
    func: Callable[Concatenate[_A, _P], AsyncIterator[_R]],
) -> Callable[Concatenate[SyncTwin[_A], _P], Iterator[_R]]:
    """A blocking method returning a lazy iterator over what the async method *func* yields."""

    def method(self: SyncTwin[_A], /, *args: _P.args, **kwargs: _P.kwargs) -> Iterator[_R]:
        return self._bridge.iterate(lambda: func(self._async, *args, **kwargs))

    # "AsyncIterator[File]" -> "Iterator[File]" (annotations are strings here): only
    # inspect.signature, help() and the docs read it, and they should not say async.
    returns = inspect.signature(func).return_annotation
    if isinstance(returns, str) and returns.startswith("AsyncIterator["):
        returns = returns.removeprefix("Async")
    return made_from(func, method, returns=returns)


def shaped_like(
    twin: Callable[Concatenate[Any, _P], object],
) -> Callable[[Callable[Concatenate[_S, ...], _R]], Callable[Concatenate[_S, _P], _R]]:
    """Give a hand-written ``(self, *args, **kwargs)`` wrapper the parameters of *twin*.

    For the methods whose result differs from their async twin's (``run`` returns
    SyncFileOutput objects, ``as_completed`` an iterator): type checkers see *twin*'s
    parameters with the wrapper's own return type, ``inspect.signature`` shows the same, and
    the docstring is *twin*'s as it is, so no long option list is written twice.
    """

    def decorate(func: Callable[Concatenate[_S, ...], _R]) -> Callable[Concatenate[_S, _P], _R]:
        functools.update_wrapper(func, twin, assigned=("__doc__",), updated=())
        returns = func.__annotations__.get("return", inspect.Signature.empty)
        vars(func)["__signature__"] = inspect.signature(twin).replace(return_annotation=returns)
        return func

    return decorate
