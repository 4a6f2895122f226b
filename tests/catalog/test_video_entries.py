"""The video entries of the catalogue: exact inputs, schema-valid, and every refusal (no HTTP)."""

from __future__ import annotations

import attrs
import pytest

from replicate_async import _schemas
from replicate_async.catalog import Catalog, ImageInput, VideoRequest
from replicate_async.catalog._video import ENTRIES
from replicate_async.exceptions import ValidationError

FIRST = "https://example.com/first.png"
LAST = "https://example.com/last.png"
REF1 = "https://example.com/ref1.png"
REF2 = "https://example.com/ref2.png"

STEMS = {
    "kwaivgi/kling-v1.6-standard": "kwaivgi__kling-v1.6-standard",
    "kwaivgi/kling-v2.1": "kwaivgi__kling-v2.1",
    "luma/ray": "luma__ray",
    "minimax/video-01": "minimax__video-01",
    "minimax/hailuo-02": "minimax__hailuo-02",
    "wan-video/wan-2.1-1.3b": "wan-video__wan-2.1-1.3b",
    "wan-video/wan-2.2-i2v-fast": "wan-video__wan-2.2-i2v-fast",
    "wavespeedai/wan-2.1-i2v-480p": "wavespeedai__wan-2.1-i2v-480p",
    "google/veo-3": "google__veo-3",
}

# The least request each model takes (the image-to-video models need a first frame).
MINIMAL = {
    model: VideoRequest("a fox in the snow", images=[ImageInput(FIRST)])
    if model in ("kwaivgi/kling-v2.1", "wan-video/wan-2.2-i2v-fast", "wavespeedai/wan-2.1-i2v-480p")
    else VideoRequest("a fox in the snow")
    for model in STEMS
}


@pytest.fixture
def video_catalog():
    """The built-in catalogue."""
    return Catalog()


def _typed(mapping):
    """Each value with its type, so 5 and 5.0 (or True and 1) differ."""
    return {key: (type(value), value) for key, value in mapping.items()}


# -- 1. the table: request in, exact input out, valid against the shipped schema -------------------

TABLE = [
    # Kling v1.6 standard: text-to-video works (no start image required).
    ("kwaivgi/kling-v1.6-standard", VideoRequest("a fox"), {"prompt": "a fox"}, ()),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest(
            "a fox",
            duration=10,
            aspect_ratio="1:1",
            negative_prompt="blur",
            seed=7,
            enhance_prompt=True,
            generate_audio=False,
            mode="standard",
            images=[ImageInput(REF1, "reference"), ImageInput(REF2, "reference")],
            extra={"cfg_scale": 0.8},
        ),
        {
            "prompt": "a fox",
            "duration": 10,
            "aspect_ratio": "1:1",
            "negative_prompt": "blur",
            "reference_images": [REF1, REF2],
            "cfg_scale": 0.8,
        },
        ("seed", "enhance_prompt", "generate_audio"),
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a fox", duration=5.0, images=[ImageInput(FIRST)]),
        {"prompt": "a fox", "duration": 5, "start_image": FIRST},
        (),
    ),
    # Kling v2.1: a start image; end image with mode pro; no aspect ratio, cfg_scale or seed.
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a fox", images=[ImageInput(FIRST)]),
        {"prompt": "a fox", "start_image": FIRST},
        (),
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest(
            "a fox",
            duration=10,
            mode="pro",
            negative_prompt="blur",
            seed=1,
            images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")],
        ),
        {
            "prompt": "a fox",
            "duration": 10,
            "mode": "pro",
            "negative_prompt": "blur",
            "start_image": FIRST,
            "end_image": LAST,
        },
        ("seed",),
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a fox", resolution="720p", images=[ImageInput(FIRST)]),
        {"prompt": "a fox", "mode": "standard", "start_image": FIRST},
        (),
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest(
            "a fox",
            resolution="1080p",
            images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")],
        ),
        {"prompt": "a fox", "mode": "pro", "start_image": FIRST, "end_image": LAST},
        (),
    ),
    # Luma Ray: start_image / end_image (not the deprecated *_url); no duration.
    (
        "luma/ray",
        VideoRequest("a fox", aspect_ratio="21:9", seed=3, negative_prompt="blur"),
        {"prompt": "a fox", "aspect_ratio": "21:9"},
        ("negative_prompt", "seed"),
    ),
    (
        "luma/ray",
        VideoRequest(
            "a fox",
            images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")],
            extra={"loop": True},
        ),
        {"prompt": "a fox", "start_image": FIRST, "end_image": LAST, "loop": True},
        (),
    ),
    # Minimax video-01: four inputs; 6 s is what it makes, so it is not sent.
    (
        "minimax/video-01",
        VideoRequest("a fox", duration=6, enhance_prompt=False),
        {"prompt": "a fox", "prompt_optimizer": False},
        (),
    ),
    (
        "minimax/video-01",
        VideoRequest(
            "a fox",
            seed=9,
            images=[ImageInput(FIRST), ImageInput(REF1, "reference")],
        ),
        {"prompt": "a fox", "first_frame_image": FIRST, "subject_reference": REF1},
        ("seed",),
    ),
    # Minimax Hailuo-02: integer 6/10 (10 at 768p), first/last frame images.
    (
        "minimax/hailuo-02",
        VideoRequest(
            "a fox",
            duration=10,
            resolution="768p",
            enhance_prompt=True,
            images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")],
        ),
        {
            "prompt": "a fox",
            "duration": 10,
            "resolution": "768p",
            "prompt_optimizer": True,
            "first_frame_image": FIRST,
            "last_frame_image": LAST,
        },
        (),
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a fox", duration=6, seed=1, negative_prompt="blur"),
        {"prompt": "a fox", "duration": 6},
        ("negative_prompt", "seed"),
    ),
    # Wan 2.1 1.3b: seconds -> frame_num at 16 fps; seed; no negative prompt.
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest(
            "a fox",
            duration=3,
            aspect_ratio="9:16",
            resolution="480p",
            seed=5,
            negative_prompt="blur",
            extra={"sample_steps": 40},
        ),
        {
            "prompt": "a fox",
            "frame_num": 49,
            "aspect_ratio": "9:16",
            "resolution": "480p",
            "seed": 5,
            "sample_steps": 40,
        },
        ("negative_prompt",),
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a fox", duration=5),
        {"prompt": "a fox", "frame_num": 81},
        (),
    ),
    # Wan 2.2 i2v fast: seconds -> num_frames (x fps + 1) with the fps sent.
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a fox", images=[ImageInput(FIRST)]),
        {"prompt": "a fox", "image": FIRST},
        (),
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest(
            "a fox",
            duration=5,
            resolution="720p",
            seed=2,
            images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")],
        ),
        {
            "prompt": "a fox",
            "image": FIRST,
            "last_image": LAST,
            "num_frames": 81,
            "frames_per_second": 16,
            "resolution": "720p",
            "seed": 2,
        },
        (),
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a fox", duration=7.5, images=[ImageInput(FIRST)]),
        {"prompt": "a fox", "image": FIRST, "num_frames": 121, "frames_per_second": 16},
        (),
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest(
            "a fox",
            duration=4,
            images=[ImageInput(FIRST)],
            extra={"frames_per_second": 24, "go_fast": False},
        ),
        {
            "prompt": "a fox",
            "image": FIRST,
            "num_frames": 97,
            "frames_per_second": 24,
            "go_fast": False,
        },
        (),
    ),
    # Wan 2.1 i2v 480p (wavespeedai): image, aspect ratio, negative prompt, seed; 480p only.
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest(
            "a fox",
            aspect_ratio="9:16",
            resolution="480p",
            negative_prompt="blur",
            seed=4,
            images=[ImageInput(FIRST)],
            extra={"fast_mode": "Fast"},
        ),
        {
            "prompt": "a fox",
            "image": FIRST,
            "aspect_ratio": "9:16",
            "negative_prompt": "blur",
            "seed": 4,
            "fast_mode": "Fast",
        },
        (),
    ),
    # Veo 3: its own eight fields (no veo-3.1 last_frame / reference_images).
    ("google/veo-3", VideoRequest("a fox"), {"prompt": "a fox"}, ()),
    (
        "google/veo-3",
        VideoRequest(
            "a fox",
            duration=4,
            aspect_ratio="9:16",
            resolution="720p",
            generate_audio=False,
            negative_prompt="blur",
            seed=8,
            enhance_prompt=True,
            images=[ImageInput(FIRST)],
        ),
        {
            "prompt": "a fox",
            "duration": 4,
            "aspect_ratio": "9:16",
            "resolution": "720p",
            "generate_audio": False,
            "negative_prompt": "blur",
            "seed": 8,
            "image": FIRST,
        },
        ("enhance_prompt",),
    ),
]


@pytest.mark.parametrize(
    ("model", "request_", "expected", "dropped"),
    TABLE,
    ids=[f"{row[0]}-{n}" for n, row in enumerate(TABLE)],
)
def test_table(video_catalog, model, request_, expected, dropped):
    """The request maps to exactly this input, with these fields dropped."""
    plan = video_catalog.plan(model, request_)
    assert _typed(plan.input) == _typed(expected)
    assert sorted(plan.dropped) == sorted(dropped)
    assert plan.entry is not None
    assert plan.entry.model == model


@pytest.mark.parametrize(
    ("model", "expected"),
    [(row[0], row[2]) for row in TABLE],
    ids=[f"{row[0]}-{n}" for n, row in enumerate(TABLE)],
)
def test_table_input_fits_the_shipped_schema(model, expected):
    """Each expected input of the table is valid against the model's real schema."""
    assert _schemas.input_errors(STEMS[model], expected) == []


def test_table_covers_every_video_entry():
    """Every video entry has rows in the table, and every table model is an entry."""
    assert {row[0] for row in TABLE} == {entry.model for entry in ENTRIES} == set(STEMS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.model)
def test_entry_cites_its_shipped_schema(entry):
    """An entry checks against its model's shipped schema and cites the file and its version."""
    assert entry.schema == STEMS[entry.model]
    assert not entry.prefix
    assert entry.request is VideoRequest
    assert entry.output == "video"
    assert entry.summary
    record = _schemas.load(entry.schema)
    assert record["model"] == entry.model
    assert f"{entry.schema}.json" in entry.source
    if record.get("version"):
        assert record["version"].split()[0] in entry.source


@pytest.mark.parametrize("model", list(STEMS))
@pytest.mark.parametrize(
    ("field", "value"), [("seed", 11), ("negative_prompt", "blur"), ("enhance_prompt", True)]
)
def test_hints_are_sent_or_reported(video_catalog, model, field, value):
    """A seed, negative prompt or enhancement is either sent (one more key) or reported dropped."""
    base = video_catalog.plan(model, MINIMAL[model])
    plan = video_catalog.plan(model, attrs.evolve(MINIMAL[model], **{field: value}))
    sent = len(plan.input) == len(base.input) + 1 and value in plan.input.values()
    assert sent != (field in plan.dropped)


def test_a_path_source_passes_through_for_the_upload(video_catalog, tmp_path):
    """A Path image is put in the input as it is (the client uploads it); the check still runs."""
    image = tmp_path / "first.png"
    image.write_bytes(b"\x89PNG")
    request = VideoRequest("a fox", images=[ImageInput(image)])
    built = video_catalog.build("kwaivgi/kling-v2.1", request)
    assert built == {"prompt": "a fox", "start_image": image}


def test_a_version_is_ignored_for_lookup(video_catalog):
    """A pinned version finds the same entry and maps the same input."""
    model = "kwaivgi/kling-v1.6-standard:e6f571e8d6990da3c96abf8d3082894024d652822f0ca3cd244acece84a1cc3e"
    plan = video_catalog.plan(model, VideoRequest("a fox", duration=5))
    assert plan.model == model
    assert plan.input == {"prompt": "a fox", "duration": 5}


# -- 2. the gateways' mistakes, each shown not made ------------------------------------------------


def test_kling_v21_is_not_sent_aspect_ratio(video_catalog):
    """Tarash sends aspect_ratio to Kling v2.1, which has none: refused, not sent."""
    request = VideoRequest("a fox", aspect_ratio="16:9", images=[ImageInput(FIRST)])
    with pytest.raises(ValidationError, match=r"kling-v2\.1: aspect_ratio='16:9'.*no aspect_ratio"):
        video_catalog.build("kwaivgi/kling-v2.1", request)


def test_kling_v21_is_not_sent_a_seed(video_catalog):
    """Tarash sends seed to Kling v2.1, which has none: left out and reported."""
    plan = video_catalog.plan(
        "kwaivgi/kling-v2.1", VideoRequest("a fox", seed=3, images=[ImageInput(FIRST)])
    )
    assert "seed" not in plan.input
    assert plan.dropped == ("seed",)


def test_kling_v21_cfg_scale_in_extra_is_refused(video_catalog):
    """Tarash forwards cfg_scale to Kling v2.1: the schema check refuses the unknown key."""
    request = VideoRequest("a fox", images=[ImageInput(FIRST)], extra={"cfg_scale": 0.5})
    with pytest.raises(
        ValidationError, match=r"kling-v2\.1.*input\.cfg_scale.*no input 'cfg_scale'"
    ):
        video_catalog.build("kwaivgi/kling-v2.1", request)


def test_kling_v21_gets_mode_and_end_image(video_catalog):
    """Tarash never sends mode/end_image: a last frame in pro mode maps to both."""
    request = VideoRequest(
        "a fox", mode="pro", images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")]
    )
    built = video_catalog.build("kwaivgi/kling-v2.1", request)
    assert built["mode"] == "pro"
    assert built["end_image"] == LAST


def test_kling_v16_text_to_video_is_not_refused(video_catalog):
    """Tarash's kwaivgi/kling prefix forced v2.1's start image on v1.6: v1.6 takes text alone."""
    built = video_catalog.build("kwaivgi/kling-v1.6-standard", VideoRequest("a fox", duration=5))
    assert built == {"prompt": "a fox", "duration": 5}


def test_no_kling_prefix_forces_an_image_on_other_kling_models(video_catalog):
    """Kling entries are exact: another Kling model falls to the generic mapping, image-free."""
    assert video_catalog.find("kwaivgi/kling-v1.6-pro", VideoRequest) is None
    assert video_catalog.find("kwaivgi/kling-v2.0", VideoRequest) is None
    plan = video_catalog.plan("kwaivgi/kling-v1.6-pro", VideoRequest("a fox"))
    assert plan.entry is None
    assert plan.input == {"prompt": "a fox"}


def test_kling_v16_is_not_sent_a_seed(video_catalog):
    """Tarash sends seed to Kling v1.6, which has none: left out and reported."""
    plan = video_catalog.plan("kwaivgi/kling-v1.6-standard", VideoRequest("a fox", seed=3))
    assert plan.input == {"prompt": "a fox"}
    assert plan.dropped == ("seed",)


def test_hailuo_duration_is_an_integer_not_6s(video_catalog):
    """Tarash sends Hailuo duration "6s": we send the integer 6."""
    built = video_catalog.build("minimax/hailuo-02", VideoRequest("a fox", duration=6))
    assert _typed(built) == _typed({"prompt": "a fox", "duration": 6})


def test_a_6s_string_duration_is_refused(video_catalog):
    """A "6s" duration is not a duration Hailuo-02 makes."""
    with pytest.raises(ValidationError, match=r"hailuo-02: duration='6s'.*one of 6, 10 s"):
        video_catalog.build("minimax/hailuo-02", VideoRequest("a fox", duration="6s"))


def test_minimax_image_is_first_frame_image_not_image_url(video_catalog):
    """Tarash sends the image as image_url: both Minimax models get first_frame_image."""
    request = VideoRequest("a fox", images=[ImageInput(FIRST)])
    for model in ("minimax/video-01", "minimax/hailuo-02"):
        built = video_catalog.build(model, request)
        assert built == {"prompt": "a fox", "first_frame_image": FIRST}


def test_video01_is_not_sent_a_duration(video_catalog):
    """video-01 has no duration input: a 6 s request sends none (Tarash sends "6s")."""
    built = video_catalog.build("minimax/video-01", VideoRequest("a fox", duration=6))
    assert "duration" not in built


def test_wan22_frames_are_not_seconds_times_24(video_catalog):
    """Tarash gives Wan num_frames = seconds x 24 (144 for 6 s): we send 6 x 16 + 1 at 16 fps."""
    built = video_catalog.build(
        "wan-video/wan-2.2-i2v-fast", VideoRequest("a fox", duration=6, images=[ImageInput(FIRST)])
    )
    assert built["num_frames"] == 97
    assert built["frames_per_second"] == 16


def test_wan22_duration_past_121_frames_is_refused(video_catalog):
    """8 s is 129 frames at 16 fps, past the model's 121: refused, not clipped."""
    request = VideoRequest("a fox", duration=8, images=[ImageInput(FIRST)])
    with pytest.raises(ValidationError, match=r"duration=8 .*from 5 to 7\.5 s at 16 fps"):
        video_catalog.build("wan-video/wan-2.2-i2v-fast", request)


def test_wan21_13b_length_is_frame_num(video_catalog):
    """Wan 2.1 1.3b takes frame_num from its enum, never num_frames."""
    built = video_catalog.build("wan-video/wan-2.1-1.3b", VideoRequest("a fox", duration=2))
    assert built == {"prompt": "a fox", "frame_num": 33}


@pytest.mark.parametrize("model", ["wan-video/wan-2.1-1.3b", "wan-video/wan-2.2-i2v-fast"])
def test_wan_is_not_sent_a_negative_prompt(video_catalog, model):
    """Tarash sends Wan a negative_prompt neither of these models has: dropped and reported."""
    request = VideoRequest(
        "a fox", negative_prompt="blur", images=[ImageInput(FIRST)] if "i2v" in model else []
    )
    plan = video_catalog.plan(model, request)
    assert "negative_prompt" not in plan.input
    assert plan.dropped == ("negative_prompt",)


@pytest.mark.parametrize("role", ["last_frame", "reference"])
def test_veo3_is_not_sent_veo31_fields(video_catalog, role):
    """Tarash sends Veo 3.1's last_frame/reference_images to Veo 3: refused by role."""
    request = VideoRequest("a fox", images=[ImageInput(FIRST), ImageInput(LAST, role)])
    with pytest.raises(ValidationError, match=rf"google/veo-3: images='{role}'.*veo-3\.1"):
        video_catalog.build("google/veo-3", request)


def test_veo3_input_keys_are_veo3s(video_catalog):
    """Every key sent to Veo 3 is one of its eight inputs."""
    request = VideoRequest(
        "a fox",
        duration=8,
        aspect_ratio="16:9",
        resolution="1080p",
        generate_audio=True,
        negative_prompt="blur",
        seed=1,
        images=[ImageInput(FIRST)],
    )
    built = video_catalog.build("google/veo-3", request)
    assert set(built) == set(_schemas.load("google__veo-3")["input"]["properties"])


def test_luma_images_are_not_the_deprecated_url_fields(video_catalog):
    """Tarash sends Luma start_image_url/end_image_url: we send start_image/end_image."""
    request = VideoRequest("a fox", images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")])
    built = video_catalog.build("luma/ray", request)
    assert built == {"prompt": "a fox", "start_image": FIRST, "end_image": LAST}


def test_luma_deprecated_url_fields_in_extra_are_refused(video_catalog):
    """A deprecated start_image_url in extra is refused, pointing to the image role."""
    request = VideoRequest("a fox", extra={"start_image_url": FIRST})
    with pytest.raises(ValidationError, match=r"luma/ray: extra\['start_image_url'\].*deprecated"):
        video_catalog.build("luma/ray", request)


def test_luma_duration_is_refused_not_silently_dropped(video_catalog):
    """Tarash drops Luma's duration silently: a duration is refused, saying it takes none."""
    with pytest.raises(ValidationError, match=r"luma/ray: duration=5 .*no duration input"):
        video_catalog.build("luma/ray", VideoRequest("a fox", duration=5))


@pytest.mark.parametrize("model", list(STEMS))
def test_unknown_extra_keys_are_refused(video_catalog, model):
    """Tarash merges extra keys unchecked: one the model's schema lacks is refused."""
    request = MINIMAL[model]
    with pytest.raises(ValidationError, match=r"input\.not_a_field: the model has no input"):
        video_catalog.build(model, attrs.evolve(request, extra={"not_a_field": 1}))


@pytest.mark.parametrize("model", list(STEMS))
def test_extra_may_not_set_a_mapped_field_twice(video_catalog, model):
    """An extra key the request already set is refused (say it once)."""
    request = attrs.evolve(MINIMAL[model], extra={"prompt": "another"})
    with pytest.raises(ValidationError, match=r"extra\['prompt'\].*already set"):
        video_catalog.build(model, request)


# -- 3. refusals: model, field, value and what is allowed ------------------------------------------

IMAGE = [ImageInput(FIRST)]

REFUSALS = [
    # Durations.
    ("kwaivgi/kling-v1.6-standard", VideoRequest("a", duration=6), "duration=6", "one of 5, 10 s"),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", duration=7, images=IMAGE),
        "duration=7",
        "one of 5, 10 s",
    ),
    ("google/veo-3", VideoRequest("a", duration=5), "duration=5", "one of 4, 6, 8 s"),
    ("minimax/hailuo-02", VideoRequest("a", duration=5), "duration=5", "one of 6, 10 s"),
    (
        "minimax/hailuo-02",
        VideoRequest("a", duration=10),
        "duration=10",
        "10 s is made only at resolution='768p' (at the default 1080p: 6 s)",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", duration=10, resolution="512p"),
        "duration=10",
        "10 s is made only at resolution='768p' (at '512p': 6 s)",
    ),
    ("minimax/video-01", VideoRequest("a", duration=10), "duration=10", "6 s or unset"),
    ("luma/ray", VideoRequest("a", duration=5), "duration=5", "has no duration input"),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest("a", duration=5, images=IMAGE),
        "duration=5",
        "no duration or frame count input",
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a", duration=6),
        "duration=6",
        "one of 1, 2, 3, 4, 5 s (frame_num 17, 33, 49, 65, 81 at 16 fps)",
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a", duration=2.5),
        "duration=2.5",
        "one of 1, 2, 3, 4, 5 s",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a", duration=4, images=IMAGE),
        "duration=4",
        "from 5 to 7.5 s at 16 fps (num_frames 81 to 121, seconds x 16 + 1)",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a", duration=5, images=IMAGE, extra={"frames_per_second": 30}),
        "duration=5",
        "from 2.67 to 4 s at 30 fps",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a", duration=3, images=IMAGE, extra={"frames_per_second": 60}),
        "extra['frames_per_second']=60",
        "a whole number from 5 to 30",
    ),
    # Aspect ratios.
    (
        "google/veo-3",
        VideoRequest("a", aspect_ratio="1:1"),
        "aspect_ratio='1:1'",
        "one of 16:9, 9:16",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", aspect_ratio="4:3"),
        "aspect_ratio='4:3'",
        "one of 16:9, 9:16, 1:1",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", aspect_ratio="16:9", images=IMAGE),
        "aspect_ratio='16:9'",
        "none with a first_frame image: the model ignores aspect_ratio then",
    ),
    (
        "luma/ray",
        VideoRequest("a", aspect_ratio="2:1"),
        "aspect_ratio='2:1'",
        "one of 1:1, 3:4, 4:3, 9:16, 16:9, 9:21, 21:9",
    ),
    (
        "luma/ray",
        VideoRequest("a", aspect_ratio="16:9", extra={"start_video_id": "abc"}),
        "aspect_ratio='16:9'",
        "none with a start or end frame or video id",
    ),
    (
        "minimax/video-01",
        VideoRequest("a", aspect_ratio="16:9"),
        "aspect_ratio='16:9'",
        "has no aspect_ratio input",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", aspect_ratio="9:16"),
        "aspect_ratio='9:16'",
        "has no aspect_ratio input",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a", aspect_ratio="16:9", images=IMAGE),
        "aspect_ratio='16:9'",
        "has no aspect_ratio input",
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a", aspect_ratio="1:1"),
        "aspect_ratio='1:1'",
        "one of 16:9, 9:16",
    ),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest("a", aspect_ratio="1:1", images=IMAGE),
        "aspect_ratio='1:1'",
        "one of 16:9, 9:16",
    ),
    # Required images.
    ("kwaivgi/kling-v2.1", VideoRequest("a"), "images=()", "a first_frame image is required"),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", images=[ImageInput(LAST, "last_frame")], mode="pro"),
        "images=()",
        "a first_frame image is required",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a"),
        "images=()",
        "a first_frame image is required",
    ),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest("a"),
        "images=()",
        "a first_frame image is required",
    ),
    # Image roles a model cannot take.
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")]),
        "mode=None",
        "a last_frame image (end_image) needs mode='pro'",
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest(
            "a", mode="standard", images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")]
        ),
        "mode='standard'",
        "a last_frame image (end_image) needs mode='pro'",
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", images=[ImageInput(FIRST), ImageInput(REF1, "reference")]),
        "images=ImageInput(",
        "takes images as first_frame, last_frame",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", images=[ImageInput(LAST, "last_frame")]),
        "images=ImageInput(",
        "takes images as first_frame, reference",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", images=[ImageInput(REF1, "reference")] * 5),
        "images=5",
        "at most 4 reference image(s)",
    ),
    (
        "luma/ray",
        VideoRequest("a", images=[ImageInput(REF1, "reference")]),
        "images=ImageInput(",
        "takes images as first_frame, last_frame",
    ),
    (
        "minimax/video-01",
        VideoRequest("a", images=[ImageInput(LAST, "last_frame")]),
        "images=ImageInput(",
        "takes images as first_frame, reference",
    ),
    (
        "minimax/video-01",
        VideoRequest("a", images=[ImageInput(REF1, "reference"), ImageInput(REF2, "reference")]),
        "images=2",
        "at most 1 reference image(s)",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", images=[ImageInput(REF1, "reference")]),
        "images=ImageInput(",
        "takes images as first_frame, last_frame",
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a", images=IMAGE),
        "images=ImageInput(",
        "takes images as no images",
    ),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest("a", images=[ImageInput(FIRST), ImageInput(LAST, "last_frame")]),
        "images=ImageInput(",
        "takes images as first_frame",
    ),
    (
        "google/veo-3",
        VideoRequest("a", images=[ImageInput(FIRST), ImageInput(FIRST)]),
        "images=2",
        "at most 1 first_frame image(s)",
    ),
    # Resolution and mode enums.
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", mode="master", images=IMAGE),
        "mode='master'",
        "one of standard, pro",
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", resolution="480p", images=IMAGE),
        "resolution='480p'",
        "one of 720p, 1080p (mode standard makes 720p, pro 1080p)",
    ),
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", resolution="1080p", mode="standard", images=IMAGE),
        "resolution='1080p'",
        "mode 'standard' makes 720p",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", mode="pro"),
        "mode='pro'",
        "one of standard (kwaivgi/kling-v1.6-pro is the pro model)",
    ),
    (
        "kwaivgi/kling-v1.6-standard",
        VideoRequest("a", resolution="1080p"),
        "resolution='1080p'",
        "has no resolution input",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", resolution="720p"),
        "resolution='720p'",
        "one of 512p, 768p, 1080p",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", mode="pro"),
        "mode='pro'",
        "has no mode input (resolution 1080p is pro)",
    ),
    ("google/veo-3", VideoRequest("a", resolution="4k"), "resolution='4k'", "one of 720p, 1080p"),
    ("google/veo-3", VideoRequest("a", mode="fast"), "mode='fast'", "has no mode input"),
    ("luma/ray", VideoRequest("a", resolution="720p"), "resolution='720p'", "has no resolution"),
    (
        "minimax/video-01",
        VideoRequest("a", resolution="720p"),
        "resolution='720p'",
        "no resolution",
    ),
    (
        "wan-video/wan-2.1-1.3b",
        VideoRequest("a", resolution="720p"),
        "resolution='720p'",
        "one of 480p",
    ),
    (
        "wan-video/wan-2.2-i2v-fast",
        VideoRequest("a", resolution="1080p", images=IMAGE),
        "resolution='1080p'",
        "one of 480p, 720p",
    ),
    (
        "wavespeedai/wan-2.1-i2v-480p",
        VideoRequest("a", resolution="720p", images=IMAGE),
        "resolution='720p'",
        "one of 480p (wavespeedai/wan-2.1-i2v-720p makes 720p)",
    ),
    # Audio on a silent model; a missing prompt.
    (
        "kwaivgi/kling-v2.1",
        VideoRequest("a", generate_audio=True, images=IMAGE),
        "generate_audio=True",
        "makes silent video",
    ),
    (
        "minimax/hailuo-02",
        VideoRequest("a", generate_audio=True),
        "generate_audio=True",
        "makes silent video",
    ),
    ("google/veo-3", VideoRequest(), "prompt=None", "a prompt is required"),
    ("luma/ray", VideoRequest(""), "prompt=''", "a prompt is required"),
]


@pytest.mark.parametrize(
    ("model", "request_", "field_value", "allowed"),
    REFUSALS,
    ids=[f"{row[0]}-{row[2]}-{n}" for n, row in enumerate(REFUSALS)],
)
def test_refusal_names_model_field_value_and_allowed(
    video_catalog, model, request_, field_value, allowed
):
    """The refusal names the model, the field and value, and what is allowed."""
    with pytest.raises(ValidationError) as caught:
        video_catalog.build(model, request_)
    message = str(caught.value)
    assert message.startswith(f"{model}: {field_value}")
    assert allowed in message
    assert caught.value.status_code is None


def test_every_video_model_has_a_refusal():
    """The refusal table reaches every video entry."""
    assert {row[0] for row in REFUSALS} == set(STEMS)


def test_generate_audio_false_on_a_silent_model_is_reported(video_catalog):
    """generate_audio=False is what a silent model does: not sent, reported as dropped."""
    plan = video_catalog.plan("luma/ray", VideoRequest("a fox", generate_audio=False))
    assert plan.input == {"prompt": "a fox"}
    assert plan.dropped == ("generate_audio",)
