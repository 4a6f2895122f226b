"""Discovery: hardware, account, models list and search, collections, search, readme.

Enough for clients to find the fake models: `GET /v1/models` (paginated, `sort_by`,
`sort_direction`), `QUERY /v1/models` (a `text/plain` search string), `GET /v1/search`
(no auth), `GET /v1/collections[/{slug}]` (collections made from the catalogue by output kind),
`GET /v1/models/{owner}/{name}/readme` (`text/plain`), `GET /v1/hardware` (a bare array) and
`GET /v1/account`. Models are the registry's (`_registry`): the fake models with any changed
metadata, and the models created through the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._models_api import model_object
from replicate_async.emulator._pages import sequence_page
from replicate_async.emulator._registry import ACCOUNT, HARDWARE
from replicate_async.emulator._util import NOT_FOUND

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._fake_models import FakeModel
    from replicate_async.emulator._registry import ModelEntry
    from replicate_async.emulator._state import EmulatorState

#: Models per page of `GET /v1/models` and `QUERY /v1/models`.
PAGE_SIZE = 25
#: Collections: slug, name, description, and the output kinds (or owner) they gather.
COLLECTIONS: Sequence[tuple[str, str, str, frozenset[str]]] = (
    (
        "text-to-image",
        "Text to image",
        "Models that generate images from text prompts",
        frozenset({"image"}),
    ),
    (
        "language-models",
        "Language models",
        "Models that can understand and generate text",
        frozenset({"tokens"}),
    ),
    ("text-to-video", "Videos", "Models that create and edit videos", frozenset({"video"})),
    (
        "audio-generation",
        "Audio generation",
        "Models to generate and modify audio",
        frozenset({"audio"}),
    ),
    (
        "emulator",
        "Emulator test models",
        "Small, fast models for testing clients against the emulator",
        frozenset({"owner:emulator"}),
    ),
)
_SORT_BY = ("latest_version_created_at", "model_created_at")
_SORT_DIRECTION = ("desc", "asc")
_MAX_SEARCH_LIMIT = 50
QUERY_REQUIRED: dict[str, Any] = {"detail": 'Query parameter "query" is required'}


def _in_collection(entry: ModelEntry, kinds: frozenset[str]) -> bool:
    """Whether a model belongs to a collection (only fake models do: collections are curated)."""
    fake = entry.fake
    return fake is not None and (fake.kind in kinds or f"owner:{fake.owner}" in kinds)


def collections(state: EmulatorState) -> list[dict[str, Any]]:
    """The collections with at least one model: `{name, slug, description, models: [entry]}`."""
    found = []
    listed = state.registry.listed_models()
    for slug, name, description, kinds in COLLECTIONS:
        models = [m for m in listed if _in_collection(m, kinds)]
        if models:
            found.append({"name": name, "slug": slug, "description": description, "models": models})
    return found


def _matches(entry: ModelEntry, words: list[str]) -> bool:
    """Whether every word occurs in the model's name, owner or description."""
    text = f"{entry.ref} {entry.description or ''}".lower()
    return all(word in text for word in words)


def search_models(state: EmulatorState, query: str) -> list[ModelEntry]:
    """The models matching every word of `query` (case-insensitive), oldest first."""
    words = query.lower().split()
    return [m for m in state.registry.listed_models() if _matches(m, words)]


def readme(model: FakeModel) -> str:
    """A model's README (Markdown)."""
    kind = {"tokens": "a token stream", "text": "its input text"}.get(model.kind, model.kind)
    return (
        f"# {model.ref}\n\n{model.description}\n\n"
        f"An emulated model: it outputs {kind}. It runs on the replicate-async emulator.\n"
    )


class _Handlers:
    """The discovery endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def _page(self, request: Request, models: list[ModelEntry], kept: dict[str, str]) -> Response:
        """One page of models of `/v1/models`."""
        state = self.state
        state.settle_trainings()
        return sequence_page(
            state,
            request,
            models,
            lambda entry, base: model_object(state, entry, base),
            path="/v1/models",
            size=PAGE_SIZE,
            kept=kept,
        )

    async def hardware(self, _: Request) -> Response:
        """`GET /v1/hardware`: a bare array."""
        return json_response(HARDWARE)

    async def account(self, _: Request) -> Response:
        """`GET /v1/account`."""
        return json_response(ACCOUNT)

    async def list_models(self, request: Request) -> Response:
        """`GET /v1/models?sort_by=&sort_direction=`."""
        query = request.query_params
        sort_by = query.get("sort_by", _SORT_BY[0])
        direction = query.get("sort_direction", _SORT_DIRECTION[0])
        if sort_by not in _SORT_BY or direction not in _SORT_DIRECTION:
            detail = (
                f"sort_by must be one of {', '.join(_SORT_BY)}; "
                f"sort_direction one of {', '.join(_SORT_DIRECTION)}"
            )
            return problem({"detail": detail, "status": 400})
        # Every fake model was "created" at once; catalogue order breaks the tie (later: newer).
        # Models created through the API come after them.
        models = self.state.registry.listed_models()
        if direction == "desc":
            models.reverse()
        kept = {k: query[k] for k in ("sort_by", "sort_direction") if k in query}
        return self._page(request, models, kept)

    async def query_models(self, request: Request) -> Response:
        """`QUERY /v1/models` with a `text/plain` search string."""
        text = (await request.body()).decode("utf-8", "replace")
        return self._page(request, search_models(self.state, text), {})

    async def search(self, request: Request) -> Response:
        """`GET /v1/search?query=&limit=` (no auth; 400 without `query`)."""
        query = request.query_params.get("query", "").strip()
        if not query:
            return json_response(QUERY_REQUIRED, 400)
        limit_text = request.query_params.get("limit", "20")
        limit = int(limit_text) if limit_text.isdigit() else 0
        if not 1 <= limit <= _MAX_SEARCH_LIMIT:
            return json_response({"detail": "limit must be an integer from 1 to 50"}, 400)
        base = base_url(self.state, request.scope)
        models = search_models(self.state, query)[:limit]
        refs = {m.ref for m in models}
        found = [
            {
                "name": c["name"],
                "slug": c["slug"],
                "description": c["description"],
                "models": [m.ref for m in c["models"]],
            }
            for c in collections(self.state)
            if refs & {m.ref for m in c["models"]} or query.lower() in c["name"].lower()
        ]
        return json_response(
            {
                "query": query,
                "models": [
                    {
                        "model": model_object(self.state, m, base),
                        "metadata": {
                            "generated_description": m.description or "",
                            "tags": [m.fake.kind] if m.fake is not None else [],
                            "score": round(1.0 - i / (len(models) + 1), 3),
                        },
                    }
                    for i, m in enumerate(models)
                ],
                "collections": found,
                "pages": [],
            }
        )

    async def list_collections(self, _: Request) -> Response:
        """`GET /v1/collections`."""
        results = [
            {k: c[k] for k in ("name", "slug", "description")} for c in collections(self.state)
        ]
        return json_response({"next": None, "previous": None, "results": results})

    async def get_collection(self, request: Request) -> Response:
        """`GET /v1/collections/{slug}`."""
        slug = request.path_params["slug"]
        found = next((c for c in collections(self.state) if c["slug"] == slug), None)
        if found is None:
            return problem(NOT_FOUND)
        base = base_url(self.state, request.scope)
        return json_response(
            {
                "name": found["name"],
                "slug": found["slug"],
                "description": found["description"],
                "full_description": found["description"] + ".",
                "models": [model_object(self.state, m, base) for m in found["models"]],
            }
        )

    async def readme(self, request: Request) -> Response:
        """`GET /v1/models/{owner}/{name}/readme`: Markdown as `text/plain` (404 if none).

        A fake model's is generated unless an update set one; a created model has none until
        an update sets it.
        """
        params = request.path_params
        entry = self.state.registry.models.get(f"{params['owner']}/{params['name']}")
        text = None
        if entry is not None:
            text = entry.readme
            if text is None and entry.fake is not None:
                text = readme(entry.fake)
        if text is None:
            return problem(NOT_FOUND)
        return Response(text, 200, media_type="text/plain; charset=utf-8")


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The discovery routes."""
    h = _Handlers(state)
    return [
        api_route(state, "/v1/hardware", h.hardware, methods=["GET"]),
        api_route(state, "/v1/account", h.account, methods=["GET"]),
        api_route(state, "/v1/models", h.list_models, methods=["GET"]),
        api_route(state, "/v1/models", h.query_models, methods=["QUERY"]),
        api_route(state, "/v1/search", h.search, methods=["GET"], auth=False, bucket=None),
        api_route(state, "/v1/collections", h.list_collections, methods=["GET"]),
        api_route(state, "/v1/collections/{slug}", h.get_collection, methods=["GET"]),
        api_route(state, "/v1/models/{owner}/{name}/readme", h.readme, methods=["GET"]),
    ]
