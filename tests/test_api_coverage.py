"""Every operation of Replicate's OpenAPI document has a client method, async and blocking.

`OPERATIONS` maps each operation id of tests/fixtures/replicate-openapi.json (an unchanged copy
of the document served at https://api.replicate.com/openapi.json) to the dotted path of its
method on a client. A new operation in the document fails `test_table_matches_the_spec` until
it is mapped here; docs/api-coverage.md shows the same table against the official clients.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any, get_origin

import pytest

from replicate_async import AsyncClient, Client
from replicate_async._paging import AsyncPages

SPEC = Path(__file__).parent / "fixtures" / "replicate-openapi.json"

#: Operation id of the OpenAPI document -> the method on `AsyncClient` and `Client`.
OPERATIONS = {
    "account.get": "account.get",
    "collections.get": "collections.get",
    "collections.list": "collections.list",
    "deployments.create": "deployments.create",
    "deployments.delete": "deployments.delete",
    "deployments.get": "deployments.get",
    "deployments.list": "deployments.list",
    "deployments.predictions.create": "deployments.predictions.create",
    "deployments.update": "deployments.update",
    "files.create": "files.create",
    "files.delete": "files.delete",
    "files.download": "files.read",  # also files.save and files.aiter_bytes
    "files.get": "files.get",
    "files.list": "files.list",
    "hardware.list": "hardware.list",
    "models.create": "models.create",
    "models.delete": "models.delete",
    "models.examples.list": "models.examples",
    "models.get": "models.get",
    "models.list": "models.list",
    "models.predictions.create": "models.predictions.create",
    "models.readme.get": "models.readme",
    "models.search": "models.search",
    "models.update": "models.update",
    "models.versions.delete": "models.versions.delete",
    "models.versions.get": "models.versions.get",
    "models.versions.list": "models.versions.list",
    "predictions.cancel": "predictions.cancel",
    "predictions.create": "predictions.create",
    "predictions.get": "predictions.get",
    "predictions.list": "predictions.list",
    "search": "search",
    "trainings.cancel": "trainings.cancel",
    "trainings.create": "trainings.create",
    "trainings.get": "trainings.get",
    "trainings.list": "trainings.list",
    "webhooks.default.secret.get": "webhooks.default_secret",
}

#: Arguments that make a client without touching the network (port 9 is discard).
CLIENT_ARGS = {"api_token": "r8_" + "x" * 37, "base_url": "http://127.0.0.1:9"}

_ASYNC_RESULT = re.compile(
    r"(?:[\w.]+\.)?(?:AsyncPages|AsyncIterator|AsyncGenerator|AsyncIterable)\b"
)


def spec_operation_ids() -> set[str]:
    """The operation ids of the OpenAPI document."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return {
        operation["operationId"]
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def resolve(client: Any, dotted: str) -> Any:
    """The attribute at dotted on client; a failed assertion naming the missing part if absent."""
    try:
        return functools.reduce(getattr, dotted.split("."), client)
    except AttributeError as exc:
        pytest.fail(f"{type(client).__name__} has no {dotted}: {exc}")


def returns_async_iterable(method: Any) -> bool:
    """Whether method's return annotation is an AsyncPages or an async iterator/iterable."""
    returns = inspect.signature(method).return_annotation
    if isinstance(returns, str):  # `from __future__ import annotations` in the module
        return bool(_ASYNC_RESULT.match(returns))
    origin = get_origin(returns) or returns
    return isinstance(origin, type) and issubclass(origin, AsyncPages | AsyncIterable)


def is_async_api(method: Any) -> bool:
    """A coroutine function, an async generator function, or a method returning async pages."""
    return (
        inspect.iscoroutinefunction(method)
        or inspect.isasyncgenfunction(method)
        or returns_async_iterable(method)
    )


def test_table_matches_the_spec():
    """The table maps exactly the document's operation ids, no more, no fewer."""
    ids = spec_operation_ids()
    assert not ids - OPERATIONS.keys(), "operations without a client method in OPERATIONS"
    assert not OPERATIONS.keys() - ids, "OPERATIONS entries the document no longer has"


@pytest.fixture(scope="module")
def sync_client():
    """One blocking client for the module, closed after."""
    client = Client(**CLIENT_ARGS)
    yield client
    client.close()


@pytest.mark.anyio
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
async def test_async_client_has_the_method(operation_id):
    """AsyncClient has the operation's method, as a coroutine or a lazy async list."""
    async with AsyncClient(**CLIENT_ARGS) as client:
        method = resolve(client, OPERATIONS[operation_id])
        assert callable(method)
        assert is_async_api(method), f"{OPERATIONS[operation_id]} is not async"


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_sync_client_has_the_method(sync_client, operation_id):
    """The blocking Client has the operation's method as a plain (not async) callable."""
    method = resolve(sync_client, OPERATIONS[operation_id])
    assert callable(method)
    assert not is_async_api(method), f"{OPERATIONS[operation_id]} is async on Client"
