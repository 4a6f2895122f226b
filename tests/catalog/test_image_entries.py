# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The image entries: FLUX 1.1 [pro], FLUX schnell, SD 3.5 Large, Ideogram v3 (issue 13)."""

from __future__ import annotations

import pytest

from replicate_async._schemas import input_errors
from replicate_async.catalog import Catalog, ImageRequest
from replicate_async.exceptions import ValidationError

PRO = "black-forest-labs/flux-1.1-pro"
SCHNELL = "black-forest-labs/flux-schnell"
SD35 = "stability-ai/stable-diffusion-3.5-large"
IDEOGRAM = "ideogram-ai/ideogram-v3-turbo"
IMG = "https://example.com/in.png"
MASK = "https://example.com/mask.png"

STEMS = {
    PRO: "black-forest-labs__flux-1.1-pro",
    SCHNELL: "black-forest-labs__flux-schnell",
    SD35: "stability-ai__stable-diffusion-3.5-large",
    IDEOGRAM: "ideogram-ai__ideogram-v3-turbo",
    "ideogram-ai/ideogram-v3-balanced": "ideogram-ai__ideogram-v3-turbo",
    "ideogram-ai/ideogram-v3-quality": "ideogram-ai__ideogram-v3-turbo",
}

TABLE = [
    pytest.param(PRO, ImageRequest("a fox"), {"prompt": "a fox"}, (), id="pro-prompt"),
    pytest.param(
        PRO,
        ImageRequest(
            "a fox", aspect_ratio="16:9", seed=7, output_format="png", extra={"safety_tolerance": 5}
        ),
        {
            "prompt": "a fox",
            "aspect_ratio": "16:9",
            "seed": 7,
            "output_format": "png",
            "safety_tolerance": 5,
        },
        (),
        id="pro-ratio",
    ),
    pytest.param(
        PRO,
        ImageRequest("a fox", width=1440, height=256, num_outputs=1),
        {"prompt": "a fox", "aspect_ratio": "custom", "width": 1440, "height": 256},
        (),
        id="pro-custom-size",
    ),
    pytest.param(
        PRO,
        ImageRequest("a fox", aspect_ratio="custom", width=512, height=768, image=IMG),
        {
            "prompt": "a fox",
            "aspect_ratio": "custom",
            "width": 512,
            "height": 768,
            "image_prompt": IMG,
        },
        (),
        id="pro-redux",
    ),
    pytest.param(
        PRO,
        ImageRequest("a fox", negative_prompt="blur", steps=20, guidance=3.5, strength=0.5),
        {"prompt": "a fox"},
        ("strength", "negative_prompt", "steps", "guidance"),
        id="pro-dropped",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest(
            "a fox",
            aspect_ratio="21:9",
            num_outputs=4,
            steps=2,
            seed=1,
            output_format="jpg",
            extra={"megapixels": "0.25", "go_fast": False},
        ),
        {
            "prompt": "a fox",
            "aspect_ratio": "21:9",
            "num_outputs": 4,
            "num_inference_steps": 2,
            "seed": 1,
            "output_format": "jpg",
            "megapixels": "0.25",
            "go_fast": False,
        },
        (),
        id="schnell-all",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a fox", negative_prompt="blur", guidance=3.0, strength=0.2),
        {"prompt": "a fox"},
        ("strength", "negative_prompt", "guidance"),
        id="schnell-dropped",
    ),
    pytest.param(
        SD35,
        ImageRequest(
            "a fox",
            aspect_ratio="9:21",
            guidance=4.5,
            negative_prompt="blur",
            seed=3,
            output_format="webp",
        ),
        {
            "prompt": "a fox",
            "aspect_ratio": "9:21",
            "cfg": 4.5,
            "negative_prompt": "blur",
            "seed": 3,
            "output_format": "webp",
        },
        (),
        id="sd35-text",
    ),
    pytest.param(
        SD35,
        ImageRequest("a fox", image=IMG, strength=0.6, guidance=1, steps=28),
        {"prompt": "a fox", "image": IMG, "prompt_strength": 0.6, "cfg": 1},
        ("steps",),
        id="sd35-img2img",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a fox", aspect_ratio="10:16", seed=2147483647),
        {"prompt": "a fox", "aspect_ratio": "10:16", "seed": 2147483647},
        (),
        id="ideogram-ratio",
    ),
    pytest.param(
        "ideogram-ai/ideogram-v3-balanced",
        ImageRequest("a fox", width=1536, height=640, extra={"magic_prompt_option": "Off"}),
        {"prompt": "a fox", "resolution": "1536x640", "magic_prompt_option": "Off"},
        (),
        id="ideogram-size",
    ),
    pytest.param(
        "ideogram-ai/ideogram-v3-quality",
        ImageRequest("a fox hat", image=IMG, extra={"mask": MASK}),
        {"prompt": "a fox hat", "image": IMG, "mask": MASK},
        (),
        id="ideogram-inpaint",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest(
            "a fox", negative_prompt="blur", steps=9, guidance=2, output_format="png", strength=1
        ),
        {"prompt": "a fox"},
        ("strength", "negative_prompt", "steps", "guidance", "output_format"),
        id="ideogram-dropped",
    ),
]


@pytest.mark.parametrize(("model", "request_", "expected", "dropped"), TABLE)
def test_table(model, request_, expected, dropped):
    """The request maps to exactly this input, valid against the model's shipped schema."""
    built = Catalog().plan(model, request_)
    assert dict(built.input) == expected
    assert built.dropped == dropped
    assert built.entry is not None
    assert built.entry.output == "image"
    assert input_errors(STEMS[model], built.input) == []


@pytest.mark.parametrize("model", list(STEMS))
def test_entry_names_its_schema(model):
    """Each image model has its own exact entry, checked against the shipped schema it cites."""
    entry = Catalog().find(model, ImageRequest)
    assert entry is not None
    assert entry.model == model
    assert not entry.prefix
    assert entry.schema == STEMS[model]
    assert f"{STEMS[model]}.json" in entry.source
    assert entry.summary


def test_ideogram_prefix_not_claimed():
    """An Ideogram v3 variant with unknown fields gets the generic mapping, not the v3 entry."""
    built = Catalog().plan("ideogram-ai/ideogram-v3-character", ImageRequest("a fox", steps=3))
    assert built.entry is None
    assert dict(built.input) == {"prompt": "a fox"}


def test_file_sources_pass_the_schema_check(tmp_path):
    """A Path or bytes image is kept for the upload path and passes the offline schema check."""
    picture = tmp_path / "in.png"
    picture.write_bytes(b"\x89PNG")
    built = Catalog().build(SD35, ImageRequest("a fox", image=picture, strength=0.3))
    assert built == {"prompt": "a fox", "image": picture, "prompt_strength": 0.3}
    assert Catalog().build(PRO, ImageRequest("a fox", image=b"\x89PNG"))["image_prompt"] == (
        b"\x89PNG"
    )


# -- the gateways' mistakes (issue 13) -------------------------------------------------------


def test_sd35_guidance_is_cfg_not_cfg_scale():
    """SD 3.5's guidance goes to `cfg` (Tarash sent `cfg_scale`)."""
    built = Catalog().build(SD35, ImageRequest("a fox", guidance=7))
    assert built == {"prompt": "a fox", "cfg": 7}
    assert "cfg_scale" not in built


def test_sd35_steps_are_not_sent():
    """This SD 3.5 version has no steps field: no `num_inference_steps`, and steps is reported."""
    built = Catalog().plan(SD35, ImageRequest("a fox", steps=30))
    assert "num_inference_steps" not in built.input
    assert "steps" not in built.input
    assert built.dropped == ("steps",)


@pytest.mark.parametrize("model", [PRO, SCHNELL])
def test_flux_gets_no_negative_prompt(model):
    """FLUX has no negative prompt: it is left out and reported (Tarash sent it)."""
    built = Catalog().plan(model, ImageRequest("a fox", negative_prompt="blurry"))
    assert dict(built.input) == {"prompt": "a fox"}
    assert built.dropped == ("negative_prompt",)


@pytest.mark.parametrize(
    ("model", "extra", "key"),
    [
        (SD35, {"cfg_scale": 7}, "cfg_scale"),
        (SD35, {"num_inference_steps": 30}, "num_inference_steps"),
        (PRO, {"negative_prompt": "blurry"}, "negative_prompt"),
        (SCHNELL, {"guidance": 3.5}, "guidance"),
        (IDEOGRAM, {"output_format": "png"}, "output_format"),
    ],
)
def test_extra_keys_are_checked(model, extra, key):
    """An `extra` key the model's schema does not name is refused (Tarash merged them unchecked)."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(model, ImageRequest("a fox", extra=extra))
    assert str(info.value).startswith(f"{model}: ")
    assert f"input.{key}" in str(info.value)
    assert info.value.status_code is None


def test_extra_values_are_checked():
    """An `extra` value outside the schema's enum is refused too."""
    with pytest.raises(ValidationError, match=r"input\.megapixels: \"2\" is not one of"):
        Catalog().build(SCHNELL, ImageRequest("a fox", extra={"megapixels": "2"}))


def test_ideogram_none_is_a_string_value():
    """Ideogram's "None" is a real enum string: sent as given, and never made from Python None."""
    built = Catalog().build(
        IDEOGRAM, ImageRequest("a fox", extra={"style_type": "None", "style_preset": "None"})
    )
    assert built == {"prompt": "a fox", "style_type": "None", "style_preset": "None"}
    assert input_errors(STEMS[IDEOGRAM], built) == []
    assert Catalog().build(IDEOGRAM, ImageRequest("a fox")) == {"prompt": "a fox"}


# -- refusals: the model, the field, the value and what is allowed ---------------------------

REFUSALS = [
    pytest.param(PRO, ImageRequest(), "prompt=None", "a prompt", id="pro-no-prompt"),
    pytest.param(
        PRO,
        ImageRequest("a", aspect_ratio="21:9"),
        "aspect_ratio='21:9'",
        "one of custom, 1:1, 16:9, 3:2, 2:3, 4:5, 5:4, 9:16, 3:4, 4:3",
        id="pro-ratio",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", width=1000, height=512),
        "width=1000",
        "a multiple of 32 from 256 to 1440",
        id="pro-multiple",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", width=512, height=2048),
        "height=2048",
        "a whole number from 256 to 1440",
        id="pro-range",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", width=512),
        "height=None",
        "width and height together",
        id="pro-half-size",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", aspect_ratio="16:9", width=512, height=512),
        "aspect_ratio='16:9'",
        "custom or None with width and height",
        id="pro-ratio-and-size",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", aspect_ratio="custom"),
        "aspect_ratio='custom'",
        "custom needs width and height (256 to 1440)",
        id="pro-custom-no-size",
    ),
    pytest.param(
        PRO, ImageRequest("a", num_outputs=2), "num_outputs=2", "1 (the model", id="pro-outputs"
    ),
    pytest.param(
        PRO,
        ImageRequest("a", output_format="gif"),
        "output_format='gif'",
        "one of webp, jpg, png",
        id="pro-format",
    ),
    pytest.param(
        PRO,
        ImageRequest("a", image="photo.png"),
        "image='photo.png'",
        "a URL (https:// or data:), a Path, bytes or a binary file",
        id="pro-path-string",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a", num_outputs=5),
        "num_outputs=5",
        "a whole number from 1 to 4",
        id="schnell-outputs",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a", steps=8),
        "steps=8",
        "a whole number from 1 to 4",
        id="schnell-steps",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a", width=1024, height=1024),
        "width=1024",
        "no pixel size: the model takes aspect_ratio and extra megapixels",
        id="schnell-size",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a", image=IMG),
        f"image={IMG!r}",
        "text-to-image only",
        id="schnell-image",
    ),
    pytest.param(
        SCHNELL,
        ImageRequest("a", aspect_ratio="7:3"),
        "aspect_ratio='7:3'",
        "one of 1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21",
        id="schnell-ratio",
    ),
    pytest.param(
        SD35,
        ImageRequest("a", guidance=12),
        "guidance=12",
        "a number from 1 to 10",
        id="sd35-cfg",
    ),
    pytest.param(
        SD35,
        ImageRequest("a", strength=0.5),
        "strength=0.5",
        "only with an input image",
        id="sd35-strength-alone",
    ),
    pytest.param(
        SD35,
        ImageRequest("a", image=IMG, strength=1.5),
        "strength=1.5",
        "a number from 0 to 1",
        id="sd35-strength-range",
    ),
    pytest.param(
        SD35,
        ImageRequest("a", image=IMG, aspect_ratio="1:1"),
        "aspect_ratio='1:1'",
        "none with an input image",
        id="sd35-ratio-with-image",
    ),
    pytest.param(
        SD35,
        ImageRequest("a", aspect_ratio="4:3"),
        "aspect_ratio='4:3'",
        "one of 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21",
        id="sd35-ratio",
    ),
    pytest.param(
        SD35, ImageRequest("a", height=768), "height=768", "no pixel size", id="sd35-size"
    ),
    pytest.param(
        SD35, ImageRequest("a", num_outputs=4), "num_outputs=4", "1 (the model", id="sd35-outputs"
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", width=1000, height=1000),
        "width x height='1000x1000'",
        "one of 512x1536, 576x1408,",
        id="ideogram-size",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", aspect_ratio="1:1", width=1024, height=1024),
        "aspect_ratio='1:1'",
        "either aspect_ratio or width and height",
        id="ideogram-ratio-and-size",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", image=IMG),
        f"image={IMG!r}",
        "with a mask: extra={'mask': ...}",
        id="ideogram-no-mask",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", extra={"mask": MASK}),
        f"extra['mask']={MASK!r}",
        "a mask only with an inpainting image",
        id="ideogram-mask-alone",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", image=IMG, aspect_ratio="16:9", extra={"mask": MASK}),
        "aspect_ratio='16:9'",
        "none with an inpainting image",
        id="ideogram-ratio-with-image",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", image=IMG, height=1024, extra={"mask": MASK}),
        "height=1024",
        "none with an inpainting image",
        id="ideogram-size-with-image",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", aspect_ratio="5:3"),
        "aspect_ratio='5:3'",
        "one of 1:3, 3:1, 1:2,",
        id="ideogram-ratio",
    ),
    pytest.param(
        IDEOGRAM,
        ImageRequest("a", num_outputs=3),
        "num_outputs=3",
        "1 (the model",
        id="ideogram-outputs",
    ),
]


@pytest.mark.parametrize(("model", "request_", "shown", "allowed"), REFUSALS)
def test_refusal(model, request_, shown, allowed):
    """A request the model cannot honour is refused before any request, saying what is allowed."""
    with pytest.raises(ValidationError) as info:
        Catalog().plan(model, request_)
    message = str(info.value)
    assert message.startswith(f"{model}: {shown} is not accepted: ")
    assert allowed in message
    assert info.value.status_code is None


def test_ideogram_refusal_lists_every_resolution():
    """The size refusal lists all 69 resolutions of the schema, and not its "None"."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(IDEOGRAM, ImageRequest("a", width=1, height=1))
    listed = str(info.value).split("one of ", 1)[1].split(", ")
    assert len(listed) == 69
    assert "None" not in listed
    assert listed[-1] == "1536x640"
