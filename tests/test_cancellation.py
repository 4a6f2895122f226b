"""Cancellation is recognised however the backend delivers it (trio wraps it in groups)."""

from __future__ import annotations

import contextlib

import anyio
import httpx
import pytest
import sniffio

from _client_support import reply
from replicate_async._cancellation import is_cancellation

pytestmark = pytest.mark.anyio


async def _caught_cancellation(nested: bool) -> BaseException:
    """The exception a cancelled task sees, raised through a task group when *nested*."""
    caught: list[BaseException] = []
    with anyio.CancelScope() as scope:
        try:
            if nested:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(anyio.sleep_forever)
                    scope.cancel()
                    await anyio.sleep_forever()
            else:
                scope.cancel()
                await anyio.sleep_forever()
        except BaseException as exc:
            caught.append(exc)
            raise
    return caught[0]


@pytest.mark.parametrize("nested", [False, True])
async def test_a_cancellation_is_recognised_bare_or_through_a_task_group(nested):
    """What a cancelled task catches counts as cancellation, even raised through a task group."""
    assert is_cancellation(await _caught_cancellation(nested))


async def test_a_group_holding_a_cancellation_counts():
    """An exception group with a cancellation among other errors is a cancellation."""
    cancelled = await _caught_cancellation(nested=False)
    group = BaseExceptionGroup("outer", [ValueError("x"), BaseExceptionGroup("inner", [cancelled])])
    assert is_cancellation(group)


async def test_other_errors_are_not_cancellation():
    """A plain error, or a group of plain errors, is not a cancellation."""
    assert not is_cancellation(ValueError("x"))
    assert not is_cancellation(ExceptionGroup("g", [ValueError("x"), KeyError("y")]))


@contextlib.asynccontextmanager
async def _native_task_group():
    """The backend's own task group (a strict trio nursery wraps what crosses it in a group)."""
    if sniffio.current_async_library() == "trio":
        import trio

        async with trio.open_nursery() as nursery:
            yield nursery.start_soon
    else:
        async with anyio.create_task_group() as tg:
            yield tg.start_soon


async def test_run_cancels_remotely_when_the_poll_is_cancelled_inside_a_task_group(
    api, make_client
):
    """A cancellation raised through a task group in the transport (trio wraps it) still
    sends the remote cancel (promise 4)."""
    polling = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # like trio.open_tcp_stream: a nursery around the wait
            async with _native_task_group() as start_soon:
                start_soon(anyio.sleep_forever)
                polling.set()
                await anyio.sleep_forever()
        return await api.async_handler(request)

    api.post("/v1/models/acme/painter/predictions").mock(return_value=reply("starting", 201))
    cancel = api.post("/v1/predictions/p1/cancel").mock(return_value=reply("canceled"))
    client = make_client(transport=httpx.MockTransport(handler))
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(client.run, "acme/painter")
        await polling.wait()
        tg.cancel_scope.cancel()
    assert cancel.call_count == 1
