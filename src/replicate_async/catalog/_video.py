# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Catalogue entries for video models: a :class:`VideoRequest` mapped to each model's real inputs.

Every entry is written from the model's shipped schema (``replicate_async/_schemas``, copied
from ``shared/reference/model-schemas``) and cites it. The rules all entries follow:

- A field the schema has is sent under the schema's name and checked against its enum or range.
- A value the model cannot honour is refused before any request: a duration it does not make,
  an aspect ratio it does not have (or would ignore because a start image sets it), an image
  role it has no input for, a resolution or mode it does not offer, ``generate_audio=True`` on
  a silent model.
- A hint it has no input for (a seed, a negative prompt, prompt enhancement) is dropped and
  reported.
- Entries are exact model names: the Kling, Luma and Wan families change fields between
  versions (v1.6 takes text-to-video, v2.1 needs a start image; ray-2 has a duration, ray has
  none), so no prefix would map them all right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicate_async.catalog._builder import CatalogEntry
from replicate_async.catalog._requests import VideoRequest

if TYPE_CHECKING:
    from replicate_async.catalog._builder import Builder

__all__ = ["ENTRIES", "WAN_FPS"]

WAN_FPS = 16
"""The frame rate Wan frame counts are made at: wan-2.1-1.3b's ``frame_num`` is "based on
standard 16fps playback", and 16 is wan-2.2-i2v-fast's ``frames_per_second`` default."""

_WAN_13B_FRAMES = {1: 17, 2: 33, 3: 49, 4: 65, 5: 81}
"""wan-2.1-1.3b: seconds -> its ``frame_num`` enum (seconds x 16 + 1: 81 frames is ~5 s)."""

_WAN_22_FRAMES = (81, 121)
"""wan-2.2-i2v-fast: the least and most ``num_frames``."""


# -- shared steps ----------------------------------------------------------------------------------


def _prompt(b: Builder, request: VideoRequest) -> None:
    """Send the prompt, which every video model here requires."""
    b.set("prompt", b.require("prompt", request.prompt, "a prompt is required"))


def _unset(b: Builder, field: str, value: Any, allowed: str) -> None:
    """Refuse *value* unless it is None: the model has no input for it and would not honour it."""
    if value is not None:
        b.fail(field, value, allowed)


def _silent(b: Builder, request: VideoRequest) -> None:
    """A model without sound: refuse ``generate_audio=True``; a False is not sent (reported)."""
    if request.generate_audio:
        b.fail(
            "generate_audio",
            request.generate_audio,
            f"{b.model} makes silent video (no audio input)",
        )
    b.drop("generate_audio", request.generate_audio)


def _aspect_ratio(
    b: Builder, request: VideoRequest, allowed: tuple[str, ...], *, ignored_with: str = ""
) -> None:
    """Send a listed aspect ratio; refuse one the model would ignore (given *ignored_with*)."""
    if ignored_with and request.aspect_ratio is not None:
        b.fail(
            "aspect_ratio",
            request.aspect_ratio,
            f"none with {ignored_with}: the model ignores aspect_ratio then",
        )
    b.set("aspect_ratio", b.choice("aspect_ratio", request.aspect_ratio, allowed))


def _extra(b: Builder, extra: Any) -> None:
    """Send the request's ``extra`` as it is; the schema check refuses a key the model lacks."""
    b.extra(extra)  # noqa: S610 - not Django


def _roles(request: VideoRequest) -> set[str]:
    return {image.role for image in request.images}


# -- Kling ------------------------------------------------------------------------------------------


def _kling_v16_standard(request: VideoRequest, b: Builder) -> None:
    """kwaivgi/kling-v1.6-standard: text- or image-to-video, references, no seed, no end image."""
    _prompt(b, request)
    b.images(
        request.images,
        {"first_frame": "start_image", "reference": "reference_images"},
        many=("reference",),
        most={"reference": 4},
    )
    b.set("duration", b.choice("duration", request.duration, (5, 10), " s"))
    _aspect_ratio(
        b,
        request,
        ("16:9", "9:16", "1:1"),
        ignored_with="a first_frame image" if "first_frame" in _roles(request) else "",
    )
    b.choice("mode", request.mode, ("standard",), " (kwaivgi/kling-v1.6-pro is the pro model)")
    _unset(b, "resolution", request.resolution, f"{b.model} has no resolution input")
    b.set("negative_prompt", request.negative_prompt)
    b.drop("seed", request.seed)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    _extra(b, request.extra)


def _kling_v21(request: VideoRequest, b: Builder) -> None:
    """kwaivgi/kling-v2.1: image-to-video only; end image in pro mode; no aspect ratio, no seed."""
    _prompt(b, request)
    mode = b.choice("mode", request.mode, ("standard", "pro"))
    resolution = b.choice(
        "resolution",
        request.resolution,
        ("720p", "1080p"),
        " (mode standard makes 720p, pro 1080p)",
    )
    implied = {"720p": "standard", "1080p": "pro"}.get(resolution)
    if mode is not None and implied is not None and mode != implied:
        b.fail(
            "resolution", resolution, f"mode {mode!r} makes {'1080p' if mode == 'pro' else '720p'}"
        )
    mode = mode or implied
    if "last_frame" in _roles(request) and mode != "pro":
        b.fail(
            "mode",
            request.mode,
            "a last_frame image (end_image) needs mode='pro' (1080p) on this model",
        )
    b.images(
        request.images,
        {"first_frame": "start_image", "last_frame": "end_image"},
        required=("first_frame",),
    )
    b.set("mode", mode)
    b.set("duration", b.choice("duration", request.duration, (5, 10), " s"))
    _unset(
        b,
        "aspect_ratio",
        request.aspect_ratio,
        f"{b.model} has no aspect_ratio input (the video takes its start image's aspect ratio)",
    )
    b.set("negative_prompt", request.negative_prompt)
    b.drop("seed", request.seed)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    _extra(b, request.extra)


# -- Luma -------------------------------------------------------------------------------------------

_LUMA_DEPRECATED = ("start_image_url", "end_image_url")


def _luma_ray(request: VideoRequest, b: Builder) -> None:
    """luma/ray: text- or image-to-video with start/end frames; no duration, seed or negative."""
    _prompt(b, request)
    b.images(request.images, {"first_frame": "start_image", "last_frame": "end_image"})
    _unset(
        b,
        "duration",
        request.duration,
        f"{b.model} has no duration input (it sets the length itself): leave duration unset",
    )
    framed = bool(request.images) or any(
        key in request.extra for key in ("start_video_id", "end_video_id")
    )
    _aspect_ratio(
        b,
        request,
        ("1:1", "3:4", "4:3", "9:16", "16:9", "9:21", "21:9"),
        ignored_with="a start or end frame or video id" if framed else "",
    )
    _unset(b, "resolution", request.resolution, f"{b.model} has no resolution input")
    _unset(b, "mode", request.mode, f"{b.model} has no mode input")
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("seed", request.seed)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    for key in _LUMA_DEPRECATED:
        if key in request.extra:
            b.fail(
                f"extra[{key!r}]",
                request.extra[key],
                f"{key} is deprecated: pass ImageInput(source, role='first_frame' or 'last_frame')",
            )
    _extra(b, request.extra)


# -- Minimax ----------------------------------------------------------------------------------------


_VIDEO01_SECONDS = 6
"""minimax/video-01's one length ("output is always ~6 s", its schema file's notes)."""


def _is(value: Any, number: int) -> bool:
    """Whether *value* is the number *number* (``6.0`` is 6; ``True`` and ``"6s"`` are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == number


def _minimax_video01(request: VideoRequest, b: Builder) -> None:
    """minimax/video-01: prompt, prompt optimizer, first frame, subject reference; always 6 s."""
    _prompt(b, request)
    b.images(request.images, {"first_frame": "first_frame_image", "reference": "subject_reference"})
    if request.duration is not None and not _is(request.duration, _VIDEO01_SECONDS):
        b.fail(
            "duration",
            request.duration,
            f"{_VIDEO01_SECONDS} s or unset: it has no duration input and makes "
            f"{_VIDEO01_SECONDS} s videos",
        )
    _unset(
        b,
        "aspect_ratio",
        request.aspect_ratio,
        f"{b.model} has no aspect_ratio input (a video from a first frame takes its aspect ratio)",
    )
    _unset(b, "resolution", request.resolution, f"{b.model} has no resolution input")
    _unset(b, "mode", request.mode, f"{b.model} has no mode input")
    b.set("prompt_optimizer", request.enhance_prompt)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("seed", request.seed)
    _silent(b, request)
    _extra(b, request.extra)


def _minimax_hailuo02(request: VideoRequest, b: Builder) -> None:
    """minimax/hailuo-02: 6 or 10 s (10 only at 768p), three resolutions, first and last frame."""
    _prompt(b, request)
    b.images(request.images, {"first_frame": "first_frame_image", "last_frame": "last_frame_image"})
    duration = b.choice("duration", request.duration, (6, 10), " s")
    resolution = b.choice("resolution", request.resolution, ("512p", "768p", "1080p"))
    if duration == 10 and resolution != "768p":  # noqa: PLR2004 - the schema's 10 s
        at = repr(resolution) if resolution else "the default 1080p"
        b.fail(
            "duration", request.duration, f"10 s is made only at resolution='768p' (at {at}: 6 s)"
        )
    b.set("duration", duration)
    b.set("resolution", resolution)
    _unset(
        b,
        "aspect_ratio",
        request.aspect_ratio,
        f"{b.model} has no aspect_ratio input (a video from a first frame takes its aspect ratio)",
    )
    _unset(b, "mode", request.mode, f"{b.model} has no mode input (resolution 1080p is pro)")
    b.set("prompt_optimizer", request.enhance_prompt)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("seed", request.seed)
    _silent(b, request)
    _extra(b, request.extra)


# -- Wan --------------------------------------------------------------------------------------------


def _wan21_13b(request: VideoRequest, b: Builder) -> None:
    """wan-video/wan-2.1-1.3b: text-to-video; 1 to 5 s as frame_num 17..81 at 16 fps; 480p."""
    _prompt(b, request)
    b.images(request.images, {})
    seconds = b.choice(
        "duration",
        request.duration,
        tuple(_WAN_13B_FRAMES),
        f" s (frame_num {', '.join(map(str, _WAN_13B_FRAMES.values()))} at {WAN_FPS} fps)",
    )
    b.set("frame_num", None if seconds is None else _WAN_13B_FRAMES[seconds])
    _aspect_ratio(b, request, ("16:9", "9:16"))
    b.set("resolution", b.choice("resolution", request.resolution, ("480p",)))
    _unset(b, "mode", request.mode, f"{b.model} has no mode input")
    b.set("seed", request.seed)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    _extra(b, request.extra)


def _wan22_i2v_fast(request: VideoRequest, b: Builder) -> None:
    """wan-video/wan-2.2-i2v-fast: image-to-video; seconds -> num_frames 81..121 at its fps."""
    _prompt(b, request)
    b.images(
        request.images,
        {"first_frame": "image", "last_frame": "last_image"},
        required=("first_frame",),
    )
    extra = dict(request.extra)
    if request.duration is not None:
        # The duration is made at the request's frames_per_second (extra), else the schema's 16.
        given = extra.pop("frames_per_second", None)
        fps = (
            WAN_FPS
            if given is None
            else b.within("extra['frames_per_second']", given, 5, 30, integer=True)
        )
        b.set("num_frames", _wan_frames(b, request.duration, fps))
        b.set("frames_per_second", fps)
    _unset(
        b,
        "aspect_ratio",
        request.aspect_ratio,
        f"{b.model} has no aspect_ratio input (the video takes its image's aspect ratio)",
    )
    b.set("resolution", b.choice("resolution", request.resolution, ("480p", "720p")))
    _unset(b, "mode", request.mode, f"{b.model} has no mode input")
    b.set("seed", request.seed)
    b.drop("negative_prompt", request.negative_prompt)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    _extra(b, extra)


def _wan_frames(b: Builder, duration: Any, fps: int) -> int:
    """wan-2.2-i2v-fast's num_frames for *duration* seconds at *fps* (seconds x fps + 1)."""
    low, high = _WAN_22_FRAMES
    allowed = (
        f"from {_seconds((low - 1) / fps)} to {_seconds((high - 1) / fps)} s at {fps} fps "
        f"(num_frames {low} to {high}, seconds x {fps} + 1)"
    )
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        b.fail("duration", duration, allowed)
    frames = round(duration * fps) + 1
    if not low <= frames <= high:
        b.fail("duration", duration, allowed)
    return frames


def _seconds(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _wan21_i2v_480p(request: VideoRequest, b: Builder) -> None:
    """wavespeedai/wan-2.1-i2v-480p: image-to-video at 480p; no duration or frame count input."""
    _prompt(b, request)
    b.images(request.images, {"first_frame": "image"}, required=("first_frame",))
    _unset(
        b,
        "duration",
        request.duration,
        f"{b.model} has no duration or frame count input: leave duration unset",
    )
    _aspect_ratio(b, request, ("16:9", "9:16"))
    b.choice(
        "resolution", request.resolution, ("480p",), " (wavespeedai/wan-2.1-i2v-720p makes 720p)"
    )
    _unset(b, "mode", request.mode, f"{b.model} has no mode input (fast_mode goes in extra)")
    b.set("negative_prompt", request.negative_prompt)
    b.set("seed", request.seed)
    b.drop("enhance_prompt", request.enhance_prompt)
    _silent(b, request)
    _extra(b, request.extra)


# -- Google -----------------------------------------------------------------------------------------


def _veo3(request: VideoRequest, b: Builder) -> None:
    """google/veo-3: 4, 6 or 8 s, 16:9 or 9:16, 720p or 1080p, audio; a start image only."""
    _prompt(b, request)
    for image in request.images:
        if image.role != "first_frame":
            b.fail(
                "images",
                image.role,
                f"{b.model} takes one first_frame image (its input image); last_frame and "
                "reference images are google/veo-3.1 inputs",
            )
    b.images(request.images, {"first_frame": "image"})
    b.set("duration", b.choice("duration", request.duration, (4, 6, 8), " s"))
    _aspect_ratio(b, request, ("16:9", "9:16"))
    b.set("resolution", b.choice("resolution", request.resolution, ("720p", "1080p")))
    _unset(b, "mode", request.mode, f"{b.model} has no mode input")
    b.set("generate_audio", request.generate_audio)
    b.set("negative_prompt", request.negative_prompt)
    b.set("seed", request.seed)
    b.drop("enhance_prompt", request.enhance_prompt)
    _extra(b, request.extra)


# -- the entries ------------------------------------------------------------------------------------

_SCHEMAS = "replicate_async/_schemas/"

ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        model="kwaivgi/kling-v1.6-standard",
        request=VideoRequest,
        build=_kling_v16_standard,
        schema="kwaivgi__kling-v1.6-standard",
        output="video",
        source=f"{_SCHEMAS}kwaivgi__kling-v1.6-standard.json (version e6f571e8d6990da3c96abf8d3082894024d652822f0ca3cd244acece84a1cc3e, reconstructed)",
        summary="text- or image-to-video; 5 or 10 s; 16:9, 9:16, 1:1 (text-to-video only); images: first_frame, up to 4 reference; negative prompt; cfg_scale in extra",
    ),
    CatalogEntry(
        model="kwaivgi/kling-v2.1",
        request=VideoRequest,
        build=_kling_v21,
        schema="kwaivgi__kling-v2.1",
        output="video",
        source=f"{_SCHEMAS}kwaivgi__kling-v2.1.json (version daad218feb714b03e2a1ac445986aebb9d05243cd00da2af17be2e4049f48f69, reconstructed)",
        summary="image-to-video (first_frame required); 5 or 10 s; no aspect ratio (the image's); mode standard (720p) or pro (1080p); images: first_frame, last_frame (pro only); negative prompt",
    ),
    CatalogEntry(
        model="luma/ray",
        request=VideoRequest,
        build=_luma_ray,
        schema="luma__ray",
        output="video",
        source=f"{_SCHEMAS}luma__ray.json (version ace5984f3394f17c2a712644b0eb9983c4baaf94c6c30a0f94692d2c37bd8964, verbatim)",
        summary="text- or image-to-video; no duration; 1:1, 3:4, 4:3, 9:16, 16:9, 9:21, 21:9 (without images); images: first_frame, last_frame; loop in extra",
    ),
    CatalogEntry(
        model="minimax/video-01",
        request=VideoRequest,
        build=_minimax_video01,
        schema="minimax__video-01",
        output="video",
        source=f"{_SCHEMAS}minimax__video-01.json (latest version as served 2026-02-26, verbatim; version page c8bcc4751328608bb75043b3af7bed4eabcf1a6c0a478d50a4cf57fa04bd5101 has the same fields)",
        summary="text- or image-to-video; 6 s only (no duration input); no aspect ratio; images: first_frame, one reference (subject); prompt optimizer",
    ),
    CatalogEntry(
        model="minimax/hailuo-02",
        request=VideoRequest,
        build=_minimax_hailuo02,
        schema="minimax__hailuo-02",
        output="video",
        source=f"{_SCHEMAS}minimax__hailuo-02.json (version baaadb886e09b1e711387e270d841930e8253f08775bc6cb176580658f0f2fd9, reconstructed)",
        summary="text- or image-to-video; 6 s, or 10 s at 768p; 512p, 768p, 1080p; no aspect ratio; images: first_frame, last_frame; prompt optimizer",
    ),
    CatalogEntry(
        model="wan-video/wan-2.1-1.3b",
        request=VideoRequest,
        build=_wan21_13b,
        schema="wan-video__wan-2.1-1.3b",
        output="video",
        source=f"{_SCHEMAS}wan-video__wan-2.1-1.3b.json (version 121bbb762bf449889f090d36e3598c72c50c7a8cc2ce250433bc521a562aae61, reconstructed)",
        summary="text-to-video; 1, 2, 3, 4 or 5 s (frame_num 17..81 at 16 fps); 16:9, 9:16; 480p; no images; seed",
    ),
    CatalogEntry(
        model="wan-video/wan-2.2-i2v-fast",
        request=VideoRequest,
        build=_wan22_i2v_fast,
        schema="wan-video__wan-2.2-i2v-fast",
        output="video",
        source=f"{_SCHEMAS}wan-video__wan-2.2-i2v-fast.json (version 4eaf2b01d3bf70d8a2e00b219efeb7cb415855ad18b7dacdc4cae664a73a6eea, reconstructed)",
        summary="image-to-video (first_frame required); 5 to 7.5 s at 16 fps (num_frames 81..121; frames_per_second in extra); no aspect ratio; 480p, 720p; images: first_frame, last_frame; seed",
    ),
    CatalogEntry(
        model="wavespeedai/wan-2.1-i2v-480p",
        request=VideoRequest,
        build=_wan21_i2v_480p,
        schema="wavespeedai__wan-2.1-i2v-480p",
        output="video",
        source=f"{_SCHEMAS}wavespeedai__wan-2.1-i2v-480p.json (version e2870aa4965fd9ddfd87c16a3c8ab952c18e745e63f3f3b123c2dc8b538ad2b5, reconstructed)",
        summary="image-to-video (first_frame required); no duration; 16:9, 9:16; 480p; images: first_frame; negative prompt, seed",
    ),
    CatalogEntry(
        model="google/veo-3",
        request=VideoRequest,
        build=_veo3,
        schema="google__veo-3",
        output="video",
        source=f"{_SCHEMAS}google__veo-3.json (version 5e80c73750ffc5dfbe5cee2d694c6ed3da7706660d9132613e6736443b365464, reconstructed)",
        summary="text- or image-to-video; 4, 6 or 8 s; 16:9, 9:16; 720p, 1080p; audio; images: first_frame; negative prompt, seed",
    ),
)
"""The video entries, one per model (exact names, no prefixes)."""
