# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Image entries: FLUX 1.1 [pro], FLUX schnell, Stable Diffusion 3.5 Large, Ideogram v3.

Each is written from the model's shipped schema (``replicate_async/_schemas``). What the
models differ on, and the gateways got wrong: SD 3.5 names its guidance ``cfg`` (not
``cfg_scale``) and this version has no steps field; no FLUX model here takes a negative
prompt; FLUX 1.1 [pro] takes a pixel size only with ``aspect_ratio="custom"``; Ideogram v3
takes a size as one of its ``resolution`` values, and its ``"None"`` is a real string value
(reachable through ``extra``), never what a Python ``None`` becomes.

A size (``width``/``height``) a model cannot make is refused, not dropped: the picture
would come back another shape. A knob it has no input for (steps, guidance, a negative
prompt) is dropped and reported.
"""

from __future__ import annotations

from replicate_async.catalog._builder import Builder, CatalogEntry
from replicate_async.catalog._checks import enum_of, file_source, whole_at_least
from replicate_async.catalog._requests import ImageRequest

__all__ = ["ENTRIES"]

_FLUX_PRO = "black-forest-labs__flux-1.1-pro"
_FLUX_SCHNELL = "black-forest-labs__flux-schnell"
_SD35 = "stability-ai__stable-diffusion-3.5-large"
_IDEOGRAM = "ideogram-ai__ideogram-v3-turbo"

_FLUX_PRO_SIZE = (256, 1440, 32)
"""FLUX 1.1 [pro] width/height: from, to, multiple of (the schema's description)."""


def _prompt(request: ImageRequest, b: Builder) -> None:
    b.set("prompt", b.require("prompt", request.prompt, "a prompt (the model requires one)"))


def _one_image(request: ImageRequest, b: Builder) -> None:
    """Refuse more than one output: the model makes one image per prediction."""
    if request.num_outputs not in (None, 1):
        b.fail("num_outputs", request.num_outputs, "1 (the model makes one image per prediction)")


def _no_size(request: ImageRequest, b: Builder, instead: str) -> None:
    """Refuse a pixel size the model has no input for."""
    for field in ("width", "height"):
        value = getattr(request, field)
        if value is not None:
            b.fail(field, value, f"no pixel size: the model takes {instead}")


def _no_image(request: ImageRequest, b: Builder) -> None:
    """Refuse an input image on a text-to-image model (strength alone is dropped)."""
    if request.image is not None:
        b.fail("image", request.image, "no input image: the model is text-to-image only")
    b.drop("strength", request.strength)


def _flux_pro(request: ImageRequest, b: Builder) -> None:
    _prompt(request, b)
    ratio = b.choice("aspect_ratio", request.aspect_ratio, enum_of(_FLUX_PRO, "aspect_ratio"))
    low, high, step = _FLUX_PRO_SIZE
    sized = request.width is not None or request.height is not None
    if sized:
        if ratio not in (None, "custom"):
            b.fail(
                "aspect_ratio",
                ratio,
                "custom or None with width and height (the size is used only with custom)",
            )
        for field in ("width", "height"):
            value = b.require(field, getattr(request, field), "width and height together")
            b.within(field, value, low, high, integer=True)
            if int(value) % step:
                b.fail(field, value, f"a multiple of {step} from {low} to {high}")
            b.set(field, int(value))
        ratio = "custom"
    elif ratio == "custom":
        b.fail("aspect_ratio", ratio, f"custom needs width and height ({low} to {high})")
    b.set("aspect_ratio", ratio)
    _one_image(request, b)
    b.set("image_prompt", file_source(b, "image", request.image))
    b.drop("strength", request.strength)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("steps", request.steps)
    b.drop("guidance", request.guidance)
    b.set("seed", request.seed)
    b.set(
        "output_format",
        b.choice("output_format", request.output_format, enum_of(_FLUX_PRO, "output_format")),
    )
    b.extra(request.extra)  # noqa: S610 - not Django


def _flux_schnell(request: ImageRequest, b: Builder) -> None:
    _prompt(request, b)
    ratios = enum_of(_FLUX_SCHNELL, "aspect_ratio")
    b.set("aspect_ratio", b.choice("aspect_ratio", request.aspect_ratio, ratios))
    _no_size(request, b, "aspect_ratio and extra megapixels ('1' or '0.25')")
    b.set("num_outputs", b.within("num_outputs", request.num_outputs, 1, 4, integer=True))
    b.set("num_inference_steps", b.within("steps", request.steps, 1, 4, integer=True))
    _no_image(request, b)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("guidance", request.guidance)
    b.set("seed", request.seed)
    formats = enum_of(_FLUX_SCHNELL, "output_format")
    b.set("output_format", b.choice("output_format", request.output_format, formats))
    b.extra(request.extra)  # noqa: S610 - not Django


def _sd35(request: ImageRequest, b: Builder) -> None:
    _prompt(request, b)
    _no_size(request, b, "aspect_ratio")
    _one_image(request, b)
    ratio = b.choice("aspect_ratio", request.aspect_ratio, enum_of(_SD35, "aspect_ratio"))
    if request.image is not None:
        if ratio is not None:
            b.fail("aspect_ratio", ratio, "none with an input image (the output takes its shape)")
        b.set("image", file_source(b, "image", request.image))
        b.set("prompt_strength", b.within("strength", request.strength, 0, 1))
    elif request.strength is not None:
        b.fail("strength", request.strength, "a strength only with an input image (image=...)")
    b.set("aspect_ratio", ratio)
    b.set("cfg", b.within("guidance", request.guidance, 1, 10))
    b.drop("steps", request.steps)  # this version has no steps field
    b.set("negative_prompt", request.negative_prompt)
    b.set("seed", request.seed)
    formats = enum_of(_SD35, "output_format")
    b.set("output_format", b.choice("output_format", request.output_format, formats))
    b.extra(request.extra)  # noqa: S610 - not Django


def _ideogram_v3(request: ImageRequest, b: Builder) -> None:
    _prompt(request, b)
    _one_image(request, b)
    ratio = b.choice("aspect_ratio", request.aspect_ratio, enum_of(_IDEOGRAM, "aspect_ratio"))
    sized = request.width is not None or request.height is not None
    if request.image is not None:
        shape = "none with an inpainting image (the output takes its shape)"
        if ratio is not None:
            b.fail("aspect_ratio", ratio, shape)
        if sized:
            field = "width" if request.width is not None else "height"
            b.fail(field, getattr(request, field), shape)
        if "mask" not in request.extra:
            b.fail("image", request.image, "an inpainting image with a mask: extra={'mask': ...}")
        b.set("image", file_source(b, "image", request.image))
    elif "mask" in request.extra:
        b.fail("extra['mask']", request.extra["mask"], "a mask only with an inpainting image")
    if sized:
        if ratio is not None:
            b.fail("aspect_ratio", ratio, "either aspect_ratio or width and height, not both")
        b.set("resolution", _resolution(request, b))
    b.set("aspect_ratio", ratio)
    b.drop("strength", request.strength)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("steps", request.steps)
    b.drop("guidance", request.guidance)
    b.drop("output_format", request.output_format)
    b.set("seed", request.seed)
    b.extra(request.extra)  # noqa: S610 - not Django


def _resolution(request: ImageRequest, b: Builder) -> str:
    """Ideogram's ``resolution`` for the request's width and height, or a refusal."""
    width = b.require("width", request.width, "width and height together")
    height = b.require("height", request.height, "width and height together")
    sizes = [s for s in enum_of(_IDEOGRAM, "resolution") if s != "None"]
    size = f"{whole_at_least(b, 'width', width, 1)}x{whole_at_least(b, 'height', height, 1)}"
    if size not in sizes:
        b.fail("width x height", size, f"one of {', '.join(sizes)}")
    return size


_FLUX_PRO_SOURCE = (
    "src/replicate_async/_schemas/black-forest-labs__flux-1.1-pro.json: verbatim "
    "latest_version openapi_schema (genfeedai/genfeed schemas.json, fetched 2026-02-26; "
    "version id not recorded)"
)
_FLUX_SCHNELL_SOURCE = (
    "src/replicate_async/_schemas/black-forest-labs__flux-schnell.json: verbatim "
    "latest_version openapi_schema (genfeedai/genfeed, fetched 2026-02-26; same fields as "
    "version c846a69991daf4c0e5d016514849d14ee5b2e6846ce6b9d6f21369e564cfe51e)"
)
_SD35_SOURCE = (
    "src/replicate_async/_schemas/stability-ai__stable-diffusion-3.5-large.json: version "
    "2fdf9488b53c1e0fd3aef7b477def1c00d1856a38466733711f9c769942598f5 (reconstructed; the "
    "version page feb36d70 has the same fields; version 5f78b950 differs: steps, no image)"
)
_IDEOGRAM_SOURCE = (
    "src/replicate_async/_schemas/ideogram-ai__ideogram-v3-turbo.json: version "
    "d9b3748f95c0fe3e71f010f8cc5d80e8f5252acd0e74b1c294ee889eea52a47b (reconstructed); "
    "balanced and quality share the field set (v3-quality version 6dafa89a)"
)
_IDEOGRAM_SUMMARY = (
    "prompt; aspect_ratio (15) or width x height as one of its 69 resolutions; inpainting "
    "image with extra mask; one image; no negative prompt, steps, guidance or output format"
)

ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        model="black-forest-labs/flux-1.1-pro",
        request=ImageRequest,
        build=_flux_pro,
        schema=_FLUX_PRO,
        output="image",
        source=_FLUX_PRO_SOURCE,
        summary=(
            "prompt; aspect_ratio (9) or width/height 256-1440, multiples of 32 (custom); "
            "image as the Redux image_prompt; one image; no negative prompt, steps or guidance"
        ),
    ),
    CatalogEntry(
        model="black-forest-labs/flux-schnell",
        request=ImageRequest,
        build=_flux_schnell,
        schema=_FLUX_SCHNELL,
        output="image",
        source=_FLUX_SCHNELL_SOURCE,
        summary=(
            "prompt; aspect_ratio (11), no pixel size (extra megapixels); 1-4 images; "
            "steps 1-4; text-to-image only; no negative prompt or guidance"
        ),
    ),
    CatalogEntry(
        model="stability-ai/stable-diffusion-3.5-large",
        request=ImageRequest,
        build=_sd35,
        schema=_SD35,
        output="image",
        source=_SD35_SOURCE,
        summary=(
            "prompt, negative prompt; aspect_ratio (9); guidance as cfg 1-10; image-to-image "
            "with image and strength (prompt_strength 0-1); one image; no steps in this version"
        ),
    ),
    *(
        CatalogEntry(
            model=f"ideogram-ai/ideogram-v3-{variant}",
            request=ImageRequest,
            build=_ideogram_v3,
            schema=_IDEOGRAM,
            output="image",
            source=_IDEOGRAM_SOURCE,
            summary=_IDEOGRAM_SUMMARY,
        )
        for variant in ("turbo", "balanced", "quality")
    ),
)
