# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What callers pass as ``input`` made into the input sent: typed requests mapped, inputs checked.

Every create (``run``, ``predictions.create``, batch jobs, ``stream``, ``generate``, the
deployment and official-model creates) goes through :meth:`InputChecks.prepare`, which the
client hands to the run engine:

- a typed request (``VideoRequest``, ...) is mapped by the client's catalogue, which checks
  what it knows offline (the entry's rules and the model's shipped schema);
- with ``validate=True`` (per call, or client-wide) an input the catalogue did not check is
  checked against the model version's own ``openapi_schema``, fetched once per model (or
  version, or deployment) and cached, so an invalid input fails before a paid prediction.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import anyio

from replicate_async import _sansio, _schemas
from replicate_async._api_objects import DeploymentInfo, Model, ModelVersion
from replicate_async._sansio import Request
from replicate_async.catalog._builder import BuiltInput, with_placeholders
from replicate_async.catalog._catalog import is_request

if TYPE_CHECKING:
    from replicate_async._models import Deployment
    from replicate_async._session import Session
    from replicate_async.catalog import Catalog

__all__ = ["MAX_CACHED_SCHEMAS", "InputChecks"]

logger = logging.getLogger("replicate_async")

MAX_CACHED_SCHEMAS: Final = 256
"""Model schemas a client keeps for ``validate=True`` (the least recently used go first)."""


class InputChecks:
    """Maps typed requests and checks inputs before a create.

    Args:
        session: Fetches model schemas for ``validate=True``.
        catalog: Maps typed requests.
        validate: The client-wide default for ``validate``.
    """

    def __init__(self, session: Session, catalog: Catalog, *, validate: bool) -> None:
        self._session = session
        self.catalog = catalog
        self.validate = validate
        self._records: collections.OrderedDict[str, Mapping[str, Any] | None] = (
            collections.OrderedDict()
        )
        self._locks: dict[str, anyio.Lock] = {}

    def __repr__(self) -> str:
        return f"<InputChecks validate={self.validate}>"

    def plan(self, ref: str | Deployment, input: Any) -> BuiltInput:  # noqa: A002 - the API's name
        """*input* as sent to *ref*: a typed request mapped (checked offline), a dict as it is."""
        if is_request(input):
            return self.catalog.plan(ref, input)
        label = ref if isinstance(ref, str) else str(ref)
        return BuiltInput(model=label, input={} if input is None else input)

    async def prepare(
        self,
        ref: str | Deployment,
        input: Any,  # noqa: A002 - the API's name
        *,
        validate: bool | None = None,
    ) -> BuiltInput:
        """:meth:`plan`, then the remote schema check when asked and not done offline."""
        built = self.plan(ref, input)
        checked_offline = built.entry is not None and built.entry.schema is not None
        if (self.validate if validate is None else validate) and not checked_offline:
            await self.check_remote(ref, built.input)
        return built

    async def input_for(
        self,
        ref: str | Deployment,
        input: Any,  # noqa: A002 - the API's name
        validate: bool | None,  # noqa: FBT001 - the run engine calls prepare(ref, input, validate)
    ) -> Mapping[str, Any]:
        """The input to send for *input* (the run engine's ``prepare``)."""
        if not is_request(input) and not (self.validate if validate is None else validate):
            return {} if input is None else input  # a dict goes as it is: nothing to map or check
        return (await self.prepare(ref, input, validate=validate)).input

    async def check_remote(self, ref: str | Deployment, value: Mapping[str, Any]) -> None:
        """Check *value* against the model version's ``openapi_schema`` (fetched once, cached).

        A model reference whose schema cannot be looked up (a bare version id: the API has no
        route for a version without its model) is let through with a DEBUG line.
        """
        parsed = _sansio.parse_ref(ref)
        record = await self._record(parsed)
        if record is None:
            logger.debug("no schema to validate the input of %s against", parsed)
            return
        _schemas.check_input(record, str(parsed), with_placeholders(value))

    async def _record(self, parsed: _sansio.ModelRef) -> Mapping[str, Any] | None:
        key = str(parsed)
        if key in self._records:
            self._records.move_to_end(key)
            return self._records[key]
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            if key not in self._records:
                self._records[key] = await self._fetch(parsed)
                if len(self._records) > MAX_CACHED_SCHEMAS:
                    self._records.popitem(last=False)
        self._locks.pop(key, None)
        return self._records.get(key)

    async def _fetch(self, parsed: _sansio.ModelRef) -> Mapping[str, Any] | None:
        """The input schema record of the version *parsed* runs, or None when it has none."""
        send = self._session.send_json
        version: ModelVersion | None
        if parsed.kind == "deployment":
            path = f"/v1/deployments/{parsed.owner}/{parsed.name}"
            release = (await send(Request(method="GET", path=path), DeploymentInfo)).current_release
            if release is None or not release.model or not release.version:
                return None
            path = f"/v1/models/{release.model}/versions/{release.version}"
            version = await send(Request(method="GET", path=path), ModelVersion)
        elif parsed.owner is None:
            return None
        elif parsed.version is None:
            path = f"/v1/models/{parsed.owner}/{parsed.name}"
            version = (await send(Request(method="GET", path=path), Model)).latest_version
        else:
            path = f"/v1/models/{parsed.owner}/{parsed.name}/versions/{parsed.version}"
            version = await send(Request(method="GET", path=path), ModelVersion)
        return _input_record(version)


def _input_record(version: ModelVersion | None) -> Mapping[str, Any] | None:
    """A ``_schemas`` record (``input`` and ``components``) from a version's OpenAPI document."""
    if version is None or not isinstance(version.openapi_schema, Mapping):
        return None
    schemas = version.openapi_schema.get("components", {}).get("schemas", {})
    found = schemas.get("Input") if isinstance(schemas, Mapping) else None
    if not isinstance(found, Mapping):
        return None
    return {"input": found, "components": schemas}
