# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Every model of the typed catalogue runs on the emulator, over loopback, with its real schema.

Each fake model is checked twice: a minimal valid input succeeds with output of the model's kind
(video, image, text chunks, audio), and an input breaking its schema gets the real 422. The
emulator's schemas are the shipped `replicate_async._schemas` records, one copy.
"""

from __future__ import annotations

from importlib import resources

import httpx
import pytest

from replicate_async import _schemas
from replicate_async.emulator import default_catalogue

IMAGE = "https://example.com/frame.png"
VIDEO = "https://example.com/face.mp4"
AUDIO = "https://example.com/voice.wav"

#: The kind of output each kind of model gives: (extension, content type, leading bytes check).
FILES = {
    "video": (".mp4", "video/mp4", lambda b: b[4:8] == b"ftyp"),
    "image": (".png", "image/png", lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    "audio": (".wav", "audio/wav", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE"),
}

#: model, output shape (a kind; `images`: an array of images), a minimal valid input.
VALID = [
    ("kwaivgi/kling-v1.6-standard", "video", {"prompt": "a fox in snow"}),
    ("kwaivgi/kling-v2.1", "video", {"prompt": "a fox", "start_image": IMAGE}),
    ("kwaivgi/kling-lip-sync", "video", {"video_url": VIDEO, "audio_file": AUDIO}),
    ("luma/ray", "video", {"prompt": "a fox"}),
    ("minimax/video-01", "video", {"prompt": "a fox"}),
    ("minimax/hailuo-02", "video", {"prompt": "a fox", "duration": 6}),
    ("wan-video/wan-2.1-1.3b", "video", {"prompt": "a fox", "frame_num": 81}),
    ("wan-video/wan-2.2-i2v-fast", "video", {"prompt": "a fox", "image": IMAGE}),
    ("wavespeedai/wan-2.1-i2v-480p", "video", {"prompt": "a fox", "image": IMAGE}),
    ("google/veo-3", "video", {"prompt": "a fox", "duration": 8}),
    ("douwantech/musetalk", "video", {"video_input": VIDEO, "audio_input": AUDIO}),
    ("black-forest-labs/flux-1.1-pro", "image", {"prompt": "a fox"}),
    ("black-forest-labs/flux-schnell", "images", {"prompt": "a fox", "num_outputs": 2}),
    ("stability-ai/stable-diffusion-3.5-large", "image", {"prompt": "a fox", "cfg": 4.5}),
    ("ideogram-ai/ideogram-v3-turbo", "image", {"prompt": "a fox"}),
    ("meta/meta-llama-3-8b-instruct", "tokens", {"prompt": "say hi"}),
    ("meta/meta-llama-3-70b-instruct", "tokens", {"prompt": "say hi"}),
    ("meta/meta-llama-3.1-405b-instruct", "tokens", {"prompt": "say hi"}),
    ("meta/musicgen", "audio", {"prompt": "calm jazz", "duration": 2}),
]

#: model, an input breaking its schema, the (type, field) the 422 names.
INVALID = [
    ("kwaivgi/kling-v1.6-standard", {"prompt": "x", "duration": 6}, ("enum", "input.duration")),
    ("kwaivgi/kling-v2.1", {"prompt": "x"}, ("required", "input")),
    (
        "kwaivgi/kling-lip-sync",
        {"video_url": VIDEO, "text": "hi", "voice_speed": 3},
        ("number_lte", "input.voice_speed"),
    ),
    ("luma/ray", {"prompt": "x", "aspect_ratio": "2:1"}, ("enum", "input.aspect_ratio")),
    ("minimax/video-01", {"first_frame_image": IMAGE}, ("required", "input")),
    ("minimax/hailuo-02", {"prompt": "x", "duration": 8}, ("enum", "input.duration")),
    ("wan-video/wan-2.1-1.3b", {"prompt": "x", "frame_num": 144}, ("enum", "input.frame_num")),
    (
        "wan-video/wan-2.2-i2v-fast",
        {"prompt": "x", "image": IMAGE, "num_frames": 144},
        ("number_lte", "input.num_frames"),
    ),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        {"prompt": "x", "image": IMAGE, "fast_mode": "Turbo"},
        ("enum", "input.fast_mode"),
    ),
    ("google/veo-3", {"prompt": "x", "duration": 5}, ("enum", "input.duration")),
    (
        "douwantech/musetalk",
        {"video_input": VIDEO, "audio_input": AUDIO, "fps": "25"},
        ("invalid_type", "input.fps"),
    ),
    (
        "black-forest-labs/flux-1.1-pro",
        {"prompt": "x", "aspect_ratio": "5:4x"},
        ("enum", "input.aspect_ratio"),
    ),
    (
        "black-forest-labs/flux-schnell",
        {"prompt": "x", "num_outputs": 5},
        ("number_lte", "input.num_outputs"),
    ),
    (
        "stability-ai/stable-diffusion-3.5-large",
        {"prompt": "x", "cfg": 11},
        ("number_lte", "input.cfg"),
    ),
    (
        "ideogram-ai/ideogram-v3-turbo",
        {"prompt": "x", "style_type": "Photo"},
        ("enum", "input.style_type"),
    ),
    ("meta/meta-llama-3-8b-instruct", {"max_tokens": "many"}, ("invalid_type", "input.max_tokens")),
    (
        "meta/meta-llama-3-70b-instruct",
        {"temperature": "hot"},
        ("invalid_type", "input.temperature"),
    ),
    ("meta/meta-llama-3.1-405b-instruct", {"prompt": 5}, ("invalid_type", "input.prompt")),
    ("meta/musicgen", {"output_format": "flac"}, ("enum", "input.output_format")),
]

REAL = {m.ref: m for m in default_catalogue() if m.owner != "emulator"}


def create(http, replicate_emulator, ref, payload):
    """Create a prediction of `ref` (by version when it is not official)."""
    model = replicate_emulator.state.models[ref]
    if model.official:
        return http.post(f"/v1/models/{ref}/predictions", json={"input": payload})
    return http.post("/v1/predictions", json={"version": model.version_id, "input": payload})


def test_every_catalogue_model_is_emulated_and_tested():
    """The default catalogue has a fake model for each of the 19 shipped schemas, each tested."""
    stems = {ref.replace("/", "__") for ref in REAL}
    assert stems == set(_schemas.names())
    assert {row[0] for row in VALID} == set(REAL) == {row[0] for row in INVALID}


@pytest.mark.parametrize(("ref", "shape", "payload"), VALID, ids=[r[0] for r in VALID])
def test_a_valid_input_gives_output_of_the_models_kind(
    http, replicate_emulator, ref, shape, payload
):
    """A minimal valid input succeeds over loopback with output of the model's kind and shape."""
    created = create(http, replicate_emulator, ref, payload)
    assert created.status_code == 201, created.text
    replicate_emulator.travel(10)
    body = http.get(f"/v1/predictions/{created.json()['id']}").json()
    assert body["status"] == "succeeded"
    output = body["output"]
    if shape == "tokens":
        assert "stream" in body["urls"]
        assert isinstance(output, list)
        assert all(isinstance(chunk, str) for chunk in output)
        assert "say hi" in "".join(output)
        return
    urls = output if shape == "images" else [output]
    assert isinstance(urls, list)
    assert len(urls) == payload.get("num_outputs", 1)
    extension, content_type, looks_right = FILES[shape.removesuffix("s")]
    for url in urls:
        assert url.endswith(extension)
        fetched = httpx.get(url)
        assert fetched.headers["content-type"] == content_type
        assert looks_right(fetched.content)


@pytest.mark.parametrize(("ref", "payload", "problem"), INVALID, ids=[r[0] for r in INVALID])
def test_an_input_breaking_the_schema_is_the_real_422(
    http, replicate_emulator, ref, payload, problem
):
    """An input breaking the model's real schema is refused with `invalid_fields`, nothing created."""
    response = create(http, replicate_emulator, ref, payload)
    body = response.json()
    assert (response.status_code, body["title"]) == (422, "Input validation failed")
    assert problem in {(f["type"], f["field"]) for f in body["invalid_fields"]}
    assert replicate_emulator.stats()["creates"] == 0


@pytest.mark.parametrize("ref", sorted(REAL))
def test_the_emulator_uses_the_shipped_records(ref):
    """Each real fake model carries the `_schemas` record's own objects: one copy of each schema."""
    record = _schemas.load(ref)
    model = REAL[ref]
    assert model.input_schema is record["input"]
    assert model.components == (record.get("components") or {})
    if record["output"] is not None:
        assert model.output_json_schema() is record["output"]
    if isinstance(record["version"], str):
        assert record["version"].startswith(model.version_id)


def test_the_emulator_has_no_schema_files_of_its_own():
    """The emulator package ships no `schemas/` directory: the records live in `_schemas`."""
    assert not resources.files("replicate_async.emulator").joinpath("schemas").is_dir()


def test_output_shape_follows_the_records_output_schema():
    """Records whose output is an array give array outputs (files or chunks); the others one."""
    for ref, model in REAL.items():
        output = _schemas.load(ref)["output"]
        if output is not None:
            assert model.output_json_schema()["type"] == output["type"]
            assert model.files_as_list == (output["type"] == "array" and model.kind != "tokens")


def test_models_without_an_output_schema_get_one_of_their_kind():
    """Where no output schema was captured, the served one is the kind's: a URI or text chunks."""
    lip_sync = REAL["kwaivgi/kling-lip-sync"].output_json_schema()
    llama = REAL["meta/meta-llama-3-8b-instruct"].output_json_schema()
    assert (lip_sync["type"], lip_sync["format"]) == ("string", "uri")
    assert (llama["type"], llama["items"], llama["x-cog-array-type"]) == (
        "array",
        {"type": "string"},
        "iterator",
    )
