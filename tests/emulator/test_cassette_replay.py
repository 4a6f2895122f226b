# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Replay the real recorded Replicate traffic against the emulator and compare the shapes.

Every interaction of tests/fixtures/cassettes that records a prediction exchange
(`/v1/predictions...`, `/v1/models/{o}/{n}/predictions`), a training exchange (`/v1/trainings...`,
`/v1/models/{o}/{n}/versions/{id}/trainings`), a file exchange (`/v1/files...`) or an error (any
status >= 400) is sent to the emulator (in process, `httpx.ASGITransport`), each
cassette in its own fresh emulator and in its recorded order. The emulator's answer must have the
recorded status and the recorded set of top-level keys; values are not compared (ids, times and
generated outputs differ by nature).

Nothing of that is left out (`test_every_training_exchange_is_replayed` guards the last part
added, trainings, including the recorded 404 for an invalid destination).

How the replay reproduces the recorded situation:

- The emulator's configuration is built from the cassette itself: one permissive `FakeModel` per
  model (official creates) or per recorded prediction (version creates), owner/name taken from the
  cassette's own `/v1/models/{o}/{n}/versions/{id}` requests or the recorded `model` field; a
  training's destination (and the trained model of a create that the recording saw refused) gets
  a model too, plus `cassette/destination` for trainings fetched but never created.
- Recorded ids are mapped to the ids the emulator gave: a create's recorded id maps to the
  emulator's, a file upload's likewise; a prediction fetched but never created in the cassette is
  created first (from its recorded model, version and input; a training with destination
  `cassette/destination`) so there is something to fetch.
- Time: the emulated clock moves 10 s before every interaction, and each prediction's queue and
  run times are chosen from the cassette so that it is `starting`, `processing` or finished at
  exactly the interactions where the recording saw it so (a recorded `Prefer: wait` create that
  answered with its output runs in zero time). A version shared by predictions that need other
  timings is substituted like an id.

Where a key set differs because the API changed since the recording, the comparison uses the
documented newer shape; every such exception is in `EXCEPTIONS`, with its reason.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
import yaml

from _cassettes import CASSETTES, Interaction, all_interactions
from replicate_async.emulator import (
    DEFAULT_TOKEN,
    EmulatorConfig,
    FakeModel,
    RateLimits,
    create_app,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from replicate_async.emulator import EmulatorState

_PREDICTIONS = re.compile(r"/v1/predictions(/.*)?|/v1/models/[^/]+/[^/]+/predictions")
_FILES = re.compile(r"/v1/files(/.*)?")
_TRAININGS = re.compile(r"/v1/trainings(/.*)?|/v1/models/[^/]+/[^/]+/versions/[^/]+/trainings")
_TRAINING_CREATE = re.compile(r"/v1/models/([^/]+)/([^/]+)/versions/([0-9a-f]{64})/trainings")
#: Trainings share the prediction id space (reference section 3).
_PREDICTION_ID = re.compile(r"/v1/(?:predictions|trainings)/([^/]+)(/cancel)?")
_FILE_ID = re.compile(r"/v1/files/([^/]+)")
_OFFICIAL_CREATE = re.compile(r"/v1/models/([^/]+)/([^/]+)/predictions")
_VERSION_PATH = re.compile(r"/v1/models/([^/]+)/([^/]+)/versions/([0-9a-f]{64})")

#: Emulated seconds the clock moves before each replayed interaction.
TICK = 10.0
#: Queue or run time of a prediction the recording never saw start or finish.
NEVER = 1e6
#: Request headers not replayed (connection-level, or replaced: the token was filtered out).
_DROPPED_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "authorization"}
)
_GZIP_MAGIC = b"\x1f\x8b"
_DONE = frozenset({"succeeded", "failed"})
#: A token the emulator refuses (the recorded 401 was a real request with a wrong token).
_WRONG_TOKEN = "r8_wrong00000000000000000000000000000000"

_PERMISSIVE_INPUT: dict[str, Any] = {"type": "object", "title": "Input", "properties": {}}
#: The destination of the trainings a cassette fetches without having created them.
_DESTINATION = FakeModel(
    owner="cassette", name="destination", kind="text", input_schema=_PERMISSIVE_INPUT
)


def _path(interaction: Interaction) -> str:
    """The URI path of a recorded request."""
    return urlsplit(interaction.uri).path


def _is_training(interaction: Interaction) -> bool:
    """Whether an interaction is a training exchange."""
    return bool(_TRAININGS.fullmatch(_path(interaction)))


def _selected(interaction: Interaction) -> bool:
    """Whether an interaction is replayed (a prediction, training, file or error exchange)."""
    path = _path(interaction)
    return bool(
        _PREDICTIONS.fullmatch(path)
        or _is_training(interaction)
        or _FILES.fullmatch(path)
        or interaction.status >= 400
    )


def _is_prediction(body: Any) -> bool:
    """Whether a JSON body is a prediction object."""
    return isinstance(body, dict) and "status" in body and "urls" in body and "id" in body


@dataclass(frozen=True)
class KeyException:
    """One documented difference between a recorded key set and the emulator's."""

    key: str
    emulator_has_it: bool
    applies: Callable[[Any], bool]
    reason: str
    #: Whether it also applies to training objects (whose schema differs, reference section 3).
    trainings: bool = True

    def covers(self, interaction: Interaction) -> bool:
        """Whether this exception applies to a recorded interaction."""
        if not self.trainings and _is_training(interaction):
            return False
        return self.applies(recorded_body(interaction))


def _recorded_prediction_without(key: str) -> Callable[[Any], bool]:
    """A predicate: the recorded body is a prediction object lacking `key`."""
    return lambda body: _is_prediction(body) and key not in body


def _recorded_prediction_with(key: str) -> Callable[[Any], bool]:
    """A predicate: the recorded body is a prediction object carrying `key`."""
    return lambda body: _is_prediction(body) and key in body


#: Each documented difference, in the direction the emulator differs. No other differences pass.
EXCEPTIONS: tuple[KeyException, ...] = (
    KeyException(
        "output",
        emulator_has_it=True,
        applies=_recorded_prediction_without("output"),
        reason="2023 responses omitted `output` while a prediction or training was unfinished; "
        "the spec requires it on every prediction object and has it in the training schema "
        "(reference §3), and the emulator emits it",
    ),
    KeyException(
        "data_removed",
        emulator_has_it=True,
        applies=_recorded_prediction_without("data_removed"),
        reason="2023 to mid-2024 responses had no `data_removed`; the spec requires it "
        "(reference §3), and 2024-10 recordings carry it. Not for trainings: the spec's "
        "training schema has no `data_removed`, and the emulator's trainings have none",
        trainings=False,
    ),
    KeyException(
        "source",
        emulator_has_it=True,
        applies=_recorded_prediction_without("source"),
        reason="`source` (`api`/`web`) is in the spec's prediction and training schemas and its "
        "predictions.get example (the documented newer shape); no recording (2023-08 to "
        "2024-10) carries it",
    ),
    KeyException(
        "model",
        emulator_has_it=True,
        applies=_recorded_prediction_without("model"),
        reason="one 2023 GET response (predictions-get.yaml#1) lacks `model`, which the spec "
        "requires on every prediction object",
    ),
    KeyException(
        "webhook_completed",
        emulator_has_it=False,
        applies=_recorded_prediction_with("webhook_completed"),
        reason="a legacy field of 2023-2024 responses (always null, on predictions and "
        "trainings), in neither the spec's prediction nor its training schema (reference §3)",
    ),
    KeyException(
        "stream",
        emulator_has_it=False,
        applies=_recorded_prediction_with("stream"),
        reason="2023 create responses echoed the request's `stream: true`; the field is "
        "deprecated and the spec's prediction schema has no `stream` (reference §3, §6)",
    ),
)


@functools.cache
def _bodies(cassette: str) -> list[Any]:
    """The recorded response bodies of a cassette as JSON (gzip-encoded ones decoded)."""
    data = yaml.safe_load((CASSETTES / cassette).read_text(encoding="utf-8"))
    out: list[Any] = []
    for item in data.get("interactions", []):
        response = item["response"]
        body = response.get("content") if "content" in response else response.get("body")
        if isinstance(body, dict):
            body = body.get("string")
        if isinstance(body, str):
            body = body.encode()
        if body and body.startswith(_GZIP_MAGIC):  # recorded before decoding
            body = gzip.decompress(body)
        out.append(json.loads(body) if body else None)
    return out


def recorded_body(interaction: Interaction) -> Any:
    """The recorded response body as JSON (None when empty)."""
    return _bodies(interaction.cassette)[interaction.index]


def _keys(body: Any) -> frozenset[str] | None:
    """The top-level keys of a JSON body (None when not an object)."""
    return frozenset(body) if isinstance(body, dict) else None


def expected_keys(interaction: Interaction) -> frozenset[str] | None:
    """The recorded key set, adjusted by the exceptions that apply to it."""
    keys = _keys(recorded_body(interaction))
    if keys is None:
        return None
    for exception in EXCEPTIONS:
        if exception.covers(interaction):
            if exception.emulator_has_it:
                keys |= {exception.key}
            else:
                keys -= {exception.key}
    return keys


# -- building the emulator from a cassette ---------------------------------------------------


@dataclass
class _Timeline:
    """When the recording saw one prediction created, started and finished (interaction index)."""

    created: int
    started: int | None = None
    done: int | None = None
    blocking: bool = False


def _recorded_id(interaction: Interaction, body: Any) -> str | None:
    """The recorded prediction id an interaction is about (the path's, or a create's)."""
    match = _PREDICTION_ID.fullmatch(_path(interaction))
    if match:
        return match.group(1)
    if interaction.method == "POST" and _is_prediction(body):
        return str(body["id"])
    return None


def _timelines(cassette: list[Interaction]) -> dict[str, _Timeline]:
    """Each recorded prediction's timeline."""
    timelines: dict[str, _Timeline] = {}
    for interaction in cassette:
        body = recorded_body(interaction)
        pid = _recorded_id(interaction, body)
        if pid is None or not _is_prediction(body):
            continue
        timeline = timelines.setdefault(pid, _Timeline(created=interaction.index))
        headers = {k.lower() for k in interaction.request_headers}
        status = body["status"]
        if interaction.method == "POST" and "prefer" in headers and status != "starting":
            timeline.blocking = True
        began = body.get("started_at") is not None or status in ("processing", *_DONE)
        if began and timeline.started is None:
            timeline.started = interaction.index
        if body["status"] in _DONE and timeline.done is None:
            timeline.done = interaction.index
    return timelines


def _durations(timeline: _Timeline) -> tuple[float, float]:
    """Queue and run seconds that flip the phase between the recorded observations."""
    if timeline.blocking:
        return 0.0, 0.0
    started = timeline.started if timeline.started is not None else timeline.done
    if started is None:
        return NEVER, NEVER
    created = timeline.created * TICK
    start = max(created, started * TICK - TICK / 2)
    if timeline.done is None:
        return start - created, NEVER
    return start - created, max(start, timeline.done * TICK - TICK / 2) - start


def _kind(body: Any) -> dict[str, Any]:
    """FakeModel kind arguments matching a recorded output."""
    output = body.get("output") if isinstance(body, dict) else None
    if isinstance(output, list) and output and isinstance(output[0], str):
        if output[0].startswith(("https:", "data:")):
            return {"kind": "image", "files_as_list": True}
        return {"kind": "tokens"}
    return {"kind": "text"}


@dataclass
class _Setup:
    """The emulator configuration for one cassette and the version substitutions it needs."""

    config: EmulatorConfig
    #: recorded prediction id -> version id to send instead of the recorded one
    versions: dict[str, str]


def _owner_name(cassette: list[Interaction], version: str, body: Any) -> tuple[str, str]:
    """The owner/name a recorded version belongs to."""
    for interaction in cassette:
        match = _VERSION_PATH.fullmatch(_path(interaction))
        if match and match.group(3) == version:
            return match.group(1), match.group(2)
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str) and "/" in model:
        owner, _, name = model.partition("/")
        return owner, name
    return "cassette", version[:12]


def _setup(cassette: list[Interaction]) -> _Setup:
    """Fake models for everything the cassette runs, with the recorded timings."""
    timelines = _timelines(cassette)
    official: dict[str, FakeModel] = {}
    by_version: dict[tuple[str, tuple[float, float]], FakeModel] = {}
    versions: dict[str, str] = {}
    for interaction in cassette:
        body = recorded_body(interaction)
        pid = _recorded_id(interaction, body)
        if pid is None or pid not in timelines or pid in versions or not _is_prediction(body):
            continue
        queue, latency = _durations(timelines[pid])
        kind = _kind(_final_body(cassette, pid))
        create = _OFFICIAL_CREATE.fullmatch(_path(interaction))
        if create and interaction.method == "POST":
            ref = f"{create.group(1)}/{create.group(2)}"
            model = FakeModel(
                owner=create.group(1),
                name=create.group(2),
                official=True,
                queue=queue,
                latency=latency,
                input_schema=_PERMISSIVE_INPUT,
                **kind,
            )
            assert official.setdefault(ref, model) == model, f"{ref}: timings differ"
            versions[pid] = ""
            continue
        recorded_version = _request_version(interaction) or str(body.get("version", ""))
        owner, name = _owner_name(cassette, recorded_version, body)
        key = (recorded_version, (queue, latency))
        if key not in by_version:
            taken = any(v == recorded_version for v, _ in by_version)
            version_id = (
                hashlib.sha256(f"{recorded_version}:{pid}".encode()).hexdigest()
                if taken
                else recorded_version
            )
            by_version[key] = FakeModel(
                owner=owner,
                name=name,
                version=version_id,
                queue=queue,
                latency=latency,
                input_schema=_PERMISSIVE_INPUT,
                **kind,
            )
        versions[pid] = by_version[key].version_id
    models = (*official.values(), *by_version.values())
    config = EmulatorConfig(
        models=(*models, *_training_models(cassette, models)),
        deployments=(),
        rate_limits=RateLimits.unlimited(),
        time_scale=1.0,
    )
    return _Setup(config, {k: v for k, v in versions.items() if v})


def _training_models(cassette: list[Interaction], models: tuple[FakeModel, ...]) -> list[FakeModel]:
    """The further models trainings need: destinations, a refused create's trained model."""
    refs = {model.ref for model in models}
    wanted: list[tuple[str, str, str | None]] = []
    if any(_is_training(interaction) for interaction in cassette):
        wanted.append((_DESTINATION.owner, _DESTINATION.name, None))
    for interaction in cassette:
        match = _TRAINING_CREATE.fullmatch(_path(interaction))
        if match is None or interaction.method != "POST":
            continue
        wanted.append((match.group(1), match.group(2), match.group(3)))
        owner, slash, name = str(json.loads(interaction.request_body)["destination"]).partition("/")
        if slash:  # "<invalid>" stays unknown: the recorded 404
            wanted.append((owner, name, None))
    out: list[FakeModel] = []
    for owner, name, version in wanted:
        if f"{owner}/{name}" not in refs:
            refs.add(f"{owner}/{name}")
            out.append(
                FakeModel(
                    owner=owner,
                    name=name,
                    version=version,
                    kind="text",
                    input_schema=_PERMISSIVE_INPUT,
                )
            )
    return out


def _final_body(cassette: list[Interaction], pid: str) -> Any:
    """The last recorded body of a prediction (the one with the most output)."""
    last = None
    for interaction in cassette:
        body = recorded_body(interaction)
        if _recorded_id(interaction, body) == pid and _is_prediction(body):
            last = body
    return last


def _request_version(interaction: Interaction) -> str | None:
    """The version id in a recorded create body (`owner/name:id` or bare)."""
    try:
        sent = json.loads(interaction.request_body)
    except ValueError:
        return None
    version = sent.get("version") if isinstance(sent, dict) else None
    if not isinstance(version, str):
        return None
    return version.rpartition(":")[2]


# -- replaying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replayed:
    """The emulator's answer to one replayed interaction."""

    status: int
    body: Any


class _Replayer:
    """Replays one cassette against a fresh emulator, mapping ids as it goes."""

    def __init__(self, cassette: list[Interaction]) -> None:
        """A fresh emulator configured from the cassette."""
        self.cassette = cassette
        self.setup = _setup(cassette)
        self.app = create_app(self.setup.config)
        self.state: EmulatorState = self.app.state.emulator
        self.ids: dict[str, str] = {}
        self.results: dict[int, Replayed] = {}

    async def run(self) -> dict[int, Replayed]:
        """Replay every selected interaction in order."""
        transport = httpx.ASGITransport(self.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://emulator") as http:
            for interaction in self.cassette:
                self.state.travel(TICK)
                if _selected(interaction):
                    self.results[interaction.index] = await self._one(http, interaction)
        return self.results

    async def _one(self, http: httpx.AsyncClient, interaction: Interaction) -> Replayed:
        """Send one interaction (ids substituted) and record the answer."""
        recorded = recorded_body(interaction)
        path = _path(interaction)
        match = _PREDICTION_ID.fullmatch(path) or _FILE_ID.fullmatch(path)
        if match and match.group(1) not in self.ids and _is_prediction(recorded):
            await self._seed(http, match.group(1), recorded, training=_is_training(interaction))
        if match and match.group(1) in self.ids:
            path = path.replace(match.group(1), self.ids[match.group(1)], 1)
        headers = {
            k: v[0]
            for k, v in interaction.request_headers.items()
            if k.lower() not in _DROPPED_HEADERS and v
        }
        token = _WRONG_TOKEN if interaction.status == 401 else DEFAULT_TOKEN
        headers["Authorization"] = f"Bearer {token}"
        content = self._body(interaction, recorded)
        response = await http.request(interaction.method, path, headers=headers, content=content)
        body = response.json() if response.content else None
        created = interaction.method == "POST" and isinstance(body, dict) and "id" in body
        if created and isinstance(recorded, dict) and "id" in recorded:
            self.ids[str(recorded["id"])] = str(body["id"])
        return Replayed(response.status_code, body)

    def _body(self, interaction: Interaction, recorded: Any) -> bytes:
        """The request body, with a substituted version where the setup needs one."""
        content = interaction.request_body.encode()
        pid = str(recorded["id"]) if _is_prediction(recorded) else None
        replacement = self.setup.versions.get(pid or "")
        sent = _request_version(interaction)
        if replacement and sent and replacement != sent:
            content = content.replace(sent.encode(), replacement.encode())
        return content

    async def _seed(
        self, http: httpx.AsyncClient, pid: str, recorded: dict[str, Any], *, training: bool
    ) -> None:
        """Create the prediction (or training) a cassette fetches without having created it."""
        version = self.setup.versions[pid]
        body: dict[str, Any] = {"input": recorded.get("input") or {}}
        path = "/v1/predictions"
        if training:
            model = self.state.versions[version]
            path = f"/v1/models/{model.ref}/versions/{version}/trainings"
            body["destination"] = _DESTINATION.ref
        else:
            body["version"] = version
        response = await http.post(
            path, json=body, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        )
        assert response.status_code == 201, response.text
        self.ids[pid] = response.json()["id"]


@functools.cache
def replay(cassette: str) -> dict[int, Replayed]:
    """Replay one cassette (once per test session) and return the answers by index."""
    interactions = [i for i in INTERACTIONS if i.cassette == cassette]
    return anyio.run(_Replayer(interactions).run)


# -- the tests -------------------------------------------------------------------------------

INTERACTIONS = all_interactions()
CASES = [i for i in INTERACTIONS if _selected(i)]


@pytest.mark.parametrize("interaction", CASES, ids=[i.id for i in CASES])
def test_replayed_status_and_keys(interaction: Interaction) -> None:
    """The emulator answers the recorded status with the recorded top-level keys."""
    answer = replay(interaction.cassette)[interaction.index]
    assert (answer.status, _keys(answer.body)) == (interaction.status, expected_keys(interaction))


def test_every_training_exchange_is_replayed() -> None:
    """Nothing is left out: all five recorded training exchanges, the destination 404 too, replay."""
    trainings = {i.id for i in INTERACTIONS if _is_training(i)}
    assert trainings == {
        "trainings-cancel.yaml#0",
        "trainings-cancel.yaml#1",
        "trainings-create.yaml#0",
        "trainings-create__invalid-destination.yaml#0",
        "trainings-get.yaml#0",
    }
    assert trainings <= {i.id for i in CASES}


def test_every_exception_is_used() -> None:
    """Each listed exception applies to at least one replayed recording (none is stale)."""
    used = {
        exception.key
        for interaction in CASES
        for exception in EXCEPTIONS
        if exception.covers(interaction)
    }
    assert used == {exception.key for exception in EXCEPTIONS}
