"""The Catalog itself: lookup, the generic fallback, registration and the schema check (no HTTP)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from replicate_async import Deployment
from replicate_async.catalog import (
    GENERIC_FIELDS,
    AvatarRequest,
    BuiltInput,
    Catalog,
    CatalogEntry,
    ChatMessage,
    ChatRequest,
    ImageInput,
    ImageRequest,
    LipSyncRequest,
    MusicRequest,
    VideoRequest,
)
from replicate_async.exceptions import ValidationError

VERSION = "daad218feb714b03e2a1ac445986aebb9d05243cd00da2af17be2e4049f48f69"
FIRST = "https://example.com/first.png"
KLING = "kwaivgi/kling-v2.1"
UNKNOWN = "acme/unknown-model"


def _entry(model, request=VideoRequest, *, prefix=False, tag=None, schema=None, build=None):
    """An entry whose build writes the prompt and a ``tag`` naming the entry."""

    def write(req, b):
        b.set("prompt", req.prompt)
        b.set("tag", tag or model)

    return CatalogEntry(
        model=model, request=request, build=build or write, prefix=prefix, schema=schema
    )


# -- version stripping ------------------------------------------------------------------------------


def test_a_version_is_stripped_for_lookup():
    """``owner/name:<version>`` finds the entry of ``owner/name``."""
    catalog = Catalog()
    assert catalog.find(f"{KLING}:{VERSION}", VideoRequest) is catalog.find(KLING, VideoRequest)
    assert catalog.find(f"{KLING}:{VERSION}", VideoRequest).model == KLING


def test_the_plan_keeps_the_version_for_the_call():
    """The result's ``model`` is the reference as given, its version kept."""
    request = VideoRequest("a kite", images=[ImageInput(FIRST)])
    built = Catalog().plan(f"{KLING}:{VERSION}", request)
    assert built.model == f"{KLING}:{VERSION}"
    assert built.entry.model == KLING
    assert built.input == Catalog().plan(KLING, request).input


def test_a_versioned_reference_is_checked_by_its_entry():
    """The entry's refusals hold with a version too (Kling v2.1 needs a first frame)."""
    with pytest.raises(ValidationError, match="first_frame image is required"):
        Catalog().plan(f"{KLING}:{VERSION}", VideoRequest("a kite"))


# -- exact over prefix, longest prefix --------------------------------------------------------------


@pytest.mark.parametrize("exact_first", [True, False])
def test_an_exact_name_beats_a_prefix(exact_first):
    """An exact entry wins over a prefix covering the same name, whatever the order registered."""
    exact = _entry("acme/vid-2", tag="exact")
    prefix = _entry("acme/vid", prefix=True, tag="prefix")
    catalog = Catalog(entries=[exact, prefix] if exact_first else [prefix, exact])
    assert catalog.find("acme/vid-2", VideoRequest) is exact
    assert catalog.find("acme/vid-3", VideoRequest) is prefix
    assert catalog.build("acme/vid-2", VideoRequest("x"))["tag"] == "exact"


@pytest.mark.parametrize("short_first", [True, False])
def test_the_longest_prefix_wins(short_first):
    """Of two prefixes covering a name, the longer one maps it, whatever the order registered."""
    short = _entry("acme/", prefix=True, tag="short")
    long = _entry("acme/vid", prefix=True, tag="long")
    catalog = Catalog(entries=[short, long] if short_first else [long, short])
    assert catalog.find("acme/vid-9", VideoRequest) is long
    assert catalog.find("acme/other", VideoRequest) is short
    assert catalog.build(f"acme/vid-9:{VERSION}", VideoRequest("x"))["tag"] == "long"


def test_a_prefix_matches_names_after_the_version_is_stripped():
    """A prefix entry covers ``owner/name:<version>`` of a name it starts."""
    prefix = _entry("acme/vid", prefix=True)
    catalog = Catalog(entries=[prefix])
    assert catalog.find(f"acme/vid-7:{VERSION}", VideoRequest) is prefix


def test_a_prefix_for_another_request_class_is_not_used():
    """A longer prefix for ChatRequest does not shadow a shorter VideoRequest prefix."""
    video = _entry("acme/", prefix=True)
    chat = _entry("acme/vid", ChatRequest, prefix=True)
    catalog = Catalog(entries=[video, chat])
    assert catalog.find("acme/vid-1", VideoRequest) is video
    assert catalog.find("acme/vid-1", ChatRequest) is chat


def test_on_the_builtin_catalogue_exact_entries_beat_a_registered_prefix():
    """A user prefix over a built-in family maps only the names no exact entry has."""
    catalog = Catalog()
    builtin = catalog.find(KLING, VideoRequest)
    mine = _entry("kwaivgi/kling-v2", prefix=True, tag="mine")
    catalog.register(mine)
    assert catalog.find(KLING, VideoRequest) is builtin
    assert catalog.find("kwaivgi/kling-v2.5-turbo-pro", VideoRequest) is mine
    assert catalog.build("kwaivgi/kling-v2.5-turbo-pro", VideoRequest("x")) == {
        "prompt": "x",
        "tag": "mine",
    }


def test_on_the_builtin_catalogue_a_longer_registered_prefix_wins():
    """Two user prefixes on the built-in catalogue: the longest covers the name."""
    catalog = Catalog()
    catalog.register(_entry("kwaivgi/", prefix=True, tag="short"))
    catalog.register(_entry("kwaivgi/kling-v3", prefix=True, tag="long"))
    assert catalog.build("kwaivgi/kling-v3-pro", VideoRequest("x"))["tag"] == "long"
    assert catalog.build("kwaivgi/other", VideoRequest("x"))["tag"] == "short"


# -- the generic fallback ---------------------------------------------------------------------------

EVERY_FIELD = [
    pytest.param(
        VideoRequest(
            "a fox",
            duration=5,
            aspect_ratio="16:9",
            images=[ImageInput(FIRST)],
            negative_prompt="blur",
            seed=7,
            enhance_prompt=True,
            generate_audio=False,
            resolution="720p",
            mode="pro",
            extra={"fps": 24},
        ),
        {
            "prompt": "a fox",
            "aspect_ratio": "16:9",
            "negative_prompt": "blur",
            "seed": 7,
            "fps": 24,
        },
        ("duration", "images", "enhance_prompt", "generate_audio", "resolution", "mode"),
        id="video",
    ),
    pytest.param(
        ImageRequest(
            "a fox",
            aspect_ratio="1:1",
            width=512,
            height=512,
            num_outputs=2,
            seed=7,
            guidance=3.5,
            steps=20,
            negative_prompt="blur",
            output_format="png",
            image=FIRST,
            strength=0.5,
            extra={"lora": "x"},
        ),
        {
            "prompt": "a fox",
            "aspect_ratio": "1:1",
            "seed": 7,
            "negative_prompt": "blur",
            "lora": "x",
        },
        (
            "width",
            "height",
            "num_outputs",
            "guidance",
            "steps",
            "output_format",
            "image",
            "strength",
        ),
        id="image",
    ),
    pytest.param(
        ChatRequest(
            "hi",
            messages=[ChatMessage("user", "hello")],
            system_prompt="be brief",
            max_tokens=10,
            temperature=0.1,
            top_p=0.9,
            stop=["\n"],
            extra={"min_tokens": 1},
        ),
        {"prompt": "hi", "min_tokens": 1},
        ("messages", "system_prompt", "max_tokens", "temperature", "top_p", "stop"),
        id="chat",
    ),
    pytest.param(
        AvatarRequest(image=FIRST, video=FIRST, audio=FIRST, prompt="smile", extra={"fps": 25}),
        {"prompt": "smile", "fps": 25},
        ("image", "video", "audio"),
        id="avatar",
    ),
    pytest.param(
        MusicRequest(
            "techno",
            duration=8,
            output_format="mp3",
            reference_audio=FIRST,
            seed=3,
            extra={"top_k": 250},
        ),
        {"prompt": "techno", "seed": 3, "top_k": 250},
        ("duration", "output_format", "reference_audio"),
        id="music",
    ),
    pytest.param(
        LipSyncRequest(
            video=FIRST,
            video_id="v1",
            audio=FIRST,
            text="hello",
            voice_id="en_AOT",
            voice_speed=1.0,
            extra={"x": 1},
        ),
        {"x": 1},
        ("video", "video_id", "audio", "text", "voice_id", "voice_speed"),
        id="lip-sync",
    ),
]


@pytest.mark.parametrize(("request_", "expected", "dropped"), EVERY_FIELD)
def test_the_generic_fallback_sends_the_common_fields_and_drops_the_rest(
    request_, expected, dropped
):
    """An unknown model gets prompt, seed, negative prompt, aspect ratio and extra; the rest is dropped."""
    built = Catalog().plan(UNKNOWN, request_)
    assert built.input == expected
    assert built.dropped == dropped
    assert built.entry is None
    assert built.model == UNKNOWN


def test_the_generic_fields_are_the_four_named():
    """GENERIC_FIELDS is prompt, seed, negative prompt and aspect ratio."""
    assert set(GENERIC_FIELDS) == {"prompt", "seed", "negative_prompt", "aspect_ratio"}


@pytest.mark.parametrize(
    "request_",
    [
        VideoRequest("a fox"),
        ImageRequest("a fox"),
        ChatRequest("a fox"),
        AvatarRequest(prompt="a fox"),
        MusicRequest("a fox"),
    ],
    ids=lambda r: type(r).__name__,
)
def test_the_generic_fallback_drops_nothing_unset(request_):
    """Unset fields are neither sent nor reported as dropped."""
    built = Catalog().plan(UNKNOWN, request_)
    assert built.input == {"prompt": "a fox"}
    assert built.dropped == ()


def test_the_generic_fallback_refuses_an_extra_key_it_already_set():
    """``extra`` cannot set a field the mapping already sent (say it once)."""
    with pytest.raises(ValidationError, match="prompt is already set"):
        Catalog().plan(UNKNOWN, VideoRequest("a fox", extra={"prompt": "a cat"}))


def test_an_empty_catalogue_maps_every_model_generically():
    """``Catalog(entries=[])`` has no entries, so even Kling gets the generic mapping."""
    catalog = Catalog(entries=[])
    built = catalog.plan(KLING, VideoRequest("a fox", duration=5))
    assert catalog.entries == ()
    assert built.entry is None
    assert built.input == {"prompt": "a fox"}
    assert built.dropped == ("duration",)


def test_a_bare_version_id_gets_the_generic_mapping():
    """A 64-hex version id names no model: the generic mapping, the id kept as the model."""
    built = Catalog().plan(VERSION, VideoRequest("a fox", duration=5, seed=1))
    assert built.entry is None
    assert built.model == VERSION
    assert built.input == {"prompt": "a fox", "seed": 1}
    assert built.dropped == ("duration",)


def test_a_deployment_gets_the_generic_mapping():
    """A Deployment (even one named like a catalogued model) gets the generic mapping."""
    built = Catalog().plan(Deployment(KLING), VideoRequest("a fox", duration=5))
    assert built.entry is None
    assert built.input == {"prompt": "a fox"}
    assert built.dropped == ("duration",)
    assert Catalog().find(Deployment(KLING), VideoRequest) is None


# -- user-registered entries ------------------------------------------------------------------------


def test_a_registered_entry_replaces_the_builtin_one():
    """Registering an entry for a built-in model and request class replaces the built-in entry."""
    catalog = Catalog()
    count = len(catalog.entries)
    mine = _entry(KLING, tag="mine")
    catalog.register(mine)
    assert catalog.find(KLING, VideoRequest) is mine
    assert len(catalog.entries) == count
    built = catalog.plan(KLING, VideoRequest("a kite"))  # the built-in needed a first frame
    assert built.input == {"prompt": "a kite", "tag": "mine"}
    assert built.entry is mine


def test_a_registered_entry_for_another_request_class_adds_to_the_model():
    """An ImageRequest entry for a video model sits beside its VideoRequest entry."""
    catalog = Catalog()
    video = catalog.find(KLING, VideoRequest)
    image = _entry(KLING, ImageRequest)
    catalog.register(image)
    assert catalog.find(KLING, ImageRequest) is image
    assert catalog.find(KLING, VideoRequest) is video


def test_registering_on_one_catalogue_leaves_others_alone():
    """Each Catalog() has its own entries: a registration does not leak into a new one."""
    catalog = Catalog()
    catalog.register(_entry(UNKNOWN, tag="mine"))
    assert Catalog().find(UNKNOWN, VideoRequest) is None
    assert Catalog().build(UNKNOWN, VideoRequest("x")) == {"prompt": "x"}


def test_a_registered_entry_maps_an_unknown_model():
    """An entry for a model outside the built-in catalogue replaces the generic mapping."""
    catalog = Catalog()
    catalog.register(_entry(UNKNOWN, tag="mine"))
    built = catalog.plan(UNKNOWN, VideoRequest("x", duration=5))
    assert built.input == {"prompt": "x", "tag": "mine"}
    assert built.dropped == ()


@pytest.mark.parametrize(
    "thing",
    [
        "kwaivgi/kling-v2.1",
        {"model": UNKNOWN, "request": VideoRequest},
        None,
        BuiltInput(model=UNKNOWN, input={}),
    ],
    ids=["str", "dict", "None", "BuiltInput"],
)
def test_register_refuses_what_is_not_an_entry(thing):
    """Only a CatalogEntry can be registered."""
    catalog = Catalog(entries=[])
    with pytest.raises(TypeError, match="expected a CatalogEntry"):
        catalog.register(thing)
    assert catalog.entries == ()


@pytest.mark.parametrize("kind", [dict, str, object], ids=lambda k: k.__name__)
def test_register_refuses_an_entry_for_no_request_class(kind):
    """An entry's request must be one of the typed request classes."""
    catalog = Catalog(entries=[])
    with pytest.raises(TypeError, match="request classes"):
        catalog.register(_entry(UNKNOWN, kind))
    assert catalog.entries == ()


# -- a request class the model does not take ------------------------------------------------------


def test_a_request_class_the_model_does_not_take_is_refused_naming_both():
    """An ImageRequest for a video model raises ValidationError naming both classes and the model."""
    with pytest.raises(ValidationError) as info:
        Catalog().plan(KLING, ImageRequest("a kite"))
    message = str(info.value)
    assert KLING in message
    assert "VideoRequest" in message
    assert "ImageRequest" in message


def test_find_refuses_the_other_request_class_too():
    """``find`` itself refuses, with a version on the reference."""
    with pytest.raises(ValidationError, match=r"takes a VideoRequest, not a ChatRequest"):
        Catalog().find(f"{KLING}:{VERSION}", ChatRequest)


def test_a_prefix_for_another_request_class_refuses_too():
    """A model covered only by a prefix for ChatRequest refuses a VideoRequest."""
    catalog = Catalog(entries=[_entry("acme/llm", ChatRequest, prefix=True)])
    with pytest.raises(
        ValidationError, match=r"acme/llm-2 takes a ChatRequest, not a VideoRequest"
    ):
        catalog.plan("acme/llm-2", VideoRequest("x"))


def test_a_model_with_two_entries_names_both_in_the_refusal():
    """A model taking a VideoRequest or an ImageRequest names both when given a ChatRequest."""
    catalog = Catalog(entries=[_entry(UNKNOWN), _entry(UNKNOWN, ImageRequest)])
    with pytest.raises(ValidationError, match=r"takes a ImageRequest or a VideoRequest"):
        catalog.plan(UNKNOWN, ChatRequest("x"))


# -- build and plan -------------------------------------------------------------------------------


def test_build_is_a_plain_dict_equal_to_the_plans_input():
    """``build`` returns a dict equal to ``plan(...).input``."""
    request = VideoRequest("a kite", duration=10, images=[ImageInput(FIRST)])
    catalog = Catalog()
    built = catalog.build(KLING, request)
    assert type(built) is dict
    assert built == catalog.plan(KLING, request).input
    assert built == {"prompt": "a kite", "start_image": FIRST, "duration": 10}


def test_build_gives_a_fresh_dict_each_time():
    """Changing one built dict does not change the next."""
    catalog = Catalog()
    first = catalog.build(UNKNOWN, VideoRequest("a kite"))
    first["prompt"] = "changed"
    assert catalog.build(UNKNOWN, VideoRequest("a kite")) == {"prompt": "a kite"}


@pytest.mark.parametrize(
    "value", [{"prompt": "a kite"}, None, "a kite"], ids=["dict", "None", "str"]
)
@pytest.mark.parametrize("method", ["plan", "build"])
def test_plan_and_build_refuse_what_is_not_a_request(method, value):
    """A dict input (or anything not a typed request) raises TypeError."""
    with pytest.raises(TypeError, match="expected a typed request"):
        getattr(Catalog(), method)(KLING, value)


# -- an entry's schema record ---------------------------------------------------------------------

RECORD = {
    "input": {
        "type": "object",
        "title": "Input",
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string"},
            "format": {"allOf": [{"$ref": "#/components/schemas/format"}], "default": "png"},
            "image": {"type": "string", "format": "uri"},
            "references": {"type": "array", "items": {"type": "string", "format": "uri"}},
        },
    },
    "components": {"format": {"title": "format", "type": "string", "enum": ["png", "jpg"]}},
}


def _to_record(request, b):
    b.set("prompt", request.prompt)
    b.set("format", request.output_format)
    b.set("image", request.image)
    b.extra(request.extra)  # noqa: S610 - not Django


@pytest.fixture
def recorded():
    """A catalogue with one ImageRequest entry checked against the mapping RECORD."""
    entry = CatalogEntry(
        model="acme/painter", request=ImageRequest, build=_to_record, schema=RECORD
    )
    return Catalog(entries=[entry])


def test_an_input_that_fits_the_record_is_built(recorded):
    """A valid input passes the record's check."""
    built = recorded.build("acme/painter", ImageRequest("a cat", output_format="jpg"))
    assert built == {"prompt": "a cat", "format": "jpg"}


def test_a_key_the_record_lacks_is_refused(recorded):
    """An extra key the record does not name is refused, in ``invalid_fields``."""
    with pytest.raises(ValidationError) as info:
        recorded.build("acme/painter", ImageRequest("a cat", extra={"bpm": 120}))
    fields = {(f.field, f.type) for f in info.value.invalid_fields}
    assert fields == {("input.bpm", "additional_property_not_allowed")}
    assert "acme/painter" in str(info.value)


def test_an_enum_violation_is_refused(recorded):
    """A value outside the record's ``$ref`` enum is refused, naming what is allowed."""
    with pytest.raises(ValidationError) as info:
        recorded.build("acme/painter", ImageRequest("a cat", output_format="gif"))
    [problem] = info.value.invalid_fields
    assert (problem.field, problem.type) == ("input.format", "enum")
    assert '"png"' in problem.description
    assert '"jpg"' in problem.description


def test_a_type_violation_is_refused(recorded):
    """A value of the wrong type for the record is refused."""
    with pytest.raises(ValidationError) as info:
        recorded.build("acme/painter", ImageRequest("a cat", extra={"references": "x"}))
    assert [f.field for f in info.value.invalid_fields] == ["input.references"]


def test_a_missing_required_field_is_refused(recorded):
    """The record's required prompt, unset, is refused."""
    with pytest.raises(ValidationError) as info:
        recorded.build("acme/painter", ImageRequest())
    assert [f.type for f in info.value.invalid_fields] == ["required"]


def test_an_entry_without_schema_is_not_checked():
    """``schema=None`` sends whatever the entry writes."""
    entry = CatalogEntry(model="acme/painter", request=ImageRequest, build=_to_record)
    built = Catalog(entries=[entry]).build("acme/painter", ImageRequest("x", extra={"bpm": 1}))
    assert built == {"prompt": "x", "bpm": 1}


@pytest.mark.parametrize(
    "source",
    [Path("face.png"), b"\x89PNG\r\n", bytearray(b"\x89PNG"), io.BytesIO(b"\x89PNG")],
    ids=["Path", "bytes", "bytearray", "file"],
)
def test_a_file_source_passes_the_schema_check_and_stays_as_given(recorded, source):
    """A Path, bytes or file stands in as a URL for the check and is sent as given."""
    built = recorded.build("acme/painter", ImageRequest("a cat", image=source))
    assert built["image"] is source


def test_file_sources_in_a_list_pass_the_schema_check(recorded):
    """File sources inside a list stand in as URLs for the check and stay as given."""
    refs = [Path("a.png"), b"\x89PNG"]
    built = recorded.build("acme/painter", ImageRequest("a cat", extra={"references": refs}))
    assert built["references"] == refs
    assert built["references"][0] is refs[0]


def test_a_non_file_value_is_still_checked_where_a_file_goes(recorded):
    """A number where the record wants a URI string is refused (placeholders are for files only)."""
    with pytest.raises(ValidationError) as info:
        recorded.build("acme/painter", ImageRequest("a cat", image=42))
    assert [f.field for f in info.value.invalid_fields] == ["input.image"]


def test_a_builtin_entry_keeps_a_path_image_as_given(tmp_path):
    """Kling v2.1's shipped schema check passes a Path start image, which is sent as given."""
    image = tmp_path / "first.png"
    built = Catalog().build(KLING, VideoRequest("a kite", images=[ImageInput(image)]))
    assert built == {"prompt": "a kite", "start_image": image}
    assert built["start_image"] is image
