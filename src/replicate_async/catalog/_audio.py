# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Audio and talking-video entries: MusicGen, MuseTalk and Kling lip sync.

- ``meta/musicgen`` makes music: ``duration`` is whole seconds, the reference clip is
  ``input_audio`` (its melody followed, or continued with ``extra={"continuation": True}``);
  it has no ``bpm`` input, so none is ever sent (an ``extra`` bpm is refused by the schema
  check). Following a melody needs a melody model; the default ``stereo-melody-large`` is one.
- ``douwantech/musetalk`` re-times the lips of a portrait *video* (``video_input``) to speech
  (``audio_input``); it does not animate a still image. Only its field names are known (no
  schema was found), so only ``fps`` and ``bbox_shift`` pass as ``extra``.
- ``kwaivgi/kling-lip-sync`` takes a video (``video_url``) or a Kling video's id
  (``video_id``), and speech as ``audio_file`` or as ``text`` with ``voice_id`` and
  ``voice_speed``.
"""

from __future__ import annotations

from replicate_async.catalog._builder import Builder, CatalogEntry
from replicate_async.catalog._checks import enum_of, file_source, long_choice, whole_at_least
from replicate_async.catalog._requests import AvatarRequest, LipSyncRequest, MusicRequest

__all__ = ["ENTRIES"]

_MUSICGEN = "meta__musicgen"
_MUSETALK = "douwantech__musetalk"
_KLING_LIP_SYNC = "kwaivgi__kling-lip-sync"

_MELODY_MODELS = ("stereo-melody-large", "melody-large")
"""MusicGen's model_version values that can follow a melody (the others only continue)."""


def _musicgen(request: MusicRequest, b: Builder) -> None:
    b.set("prompt", request.prompt)
    b.set("duration", whole_at_least(b, "duration", request.duration, 1))
    formats = enum_of(_MUSICGEN, "output_format")
    b.set("output_format", b.choice("output_format", request.output_format, formats))
    continuation = request.extra.get("continuation", False)
    if request.reference_audio is not None:
        b.set("input_audio", file_source(b, "reference_audio", request.reference_audio))
        version = request.extra.get("model_version")
        if continuation is not True and version is not None and version not in _MELODY_MODELS:
            b.fail(
                "extra['model_version']",
                version,
                f"{' or '.join(_MELODY_MODELS)} to follow reference_audio's melody "
                "(or extra={'continuation': True} to continue the clip)",
            )
    elif continuation is True:
        b.fail("extra['continuation']", continuation, "continuation only with reference_audio")
    b.set("seed", request.seed)
    b.extra(request.extra)  # noqa: S610 - not Django


def _musetalk(request: AvatarRequest, b: Builder) -> None:
    if request.image is not None:
        b.fail(
            "image",
            request.image,
            "a portrait video as video= (MuseTalk re-times a video's lips, not a still image)",
        )
    video = b.require("video", request.video, "a portrait video (MuseTalk lip-syncs a video)")
    audio = b.require("audio", request.audio, "the speech to lip-sync the video to")
    b.set("video_input", file_source(b, "video", video))
    b.set("audio_input", file_source(b, "audio", audio))
    b.drop("prompt", request.prompt)
    b.extra(request.extra)  # noqa: S610 - not Django


def _kling_lip_sync(request: LipSyncRequest, b: Builder) -> None:
    if (request.video is None) == (request.video_id is None):
        b.fail(
            "video/video_id",
            (request.video, request.video_id),
            "exactly one of video or video_id (the id of a video a Kling model made)",
        )
    if (request.audio is None) == (request.text is None):
        b.fail(
            "audio/text",
            (request.audio, request.text),
            "exactly one of audio or text (with voice_id and voice_speed)",
        )
    b.set("video_url", file_source(b, "video", request.video))
    if request.video_id is not None:
        b.set("video_id", b.require("video_id", request.video_id, "a Kling video's id"))
    if request.audio is not None:
        for field in ("voice_id", "voice_speed"):
            value = getattr(request, field)
            if value is not None:
                b.fail(field, value, f"{field} only with text (the audio is already spoken)")
        b.set("audio_file", file_source(b, "audio", request.audio))
    else:
        b.set("text", b.require("text", request.text, "the text to speak"))
        voices = enum_of(_KLING_LIP_SYNC, "voice_id")
        b.set("voice_id", long_choice(b, "voice_id", request.voice_id, voices))
        b.set("voice_speed", b.within("voice_speed", request.voice_speed, 0.8, 2.0))
    b.extra(request.extra)  # noqa: S610 - not Django


ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        model="meta/musicgen",
        request=MusicRequest,
        build=_musicgen,
        schema=_MUSICGEN,
        output="audio",
        source=(
            "src/replicate_async/_schemas/meta__musicgen.json: version "
            "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb (reconstructed; "
            "older versions name the clip melody and have other model_version values)"
        ),
        summary=(
            "prompt; duration in whole seconds; output_format wav or mp3; reference_audio as "
            "input_audio (melody, or continuation via extra); no bpm"
        ),
    ),
    CatalogEntry(
        model="douwantech/musetalk",
        request=AvatarRequest,
        build=_musetalk,
        schema=_MUSETALK,
        output="video",
        source=(
            "src/replicate_async/_schemas/douwantech__musetalk.json: version "
            "5501004e78525e4bbd9fa20d1e75ad51fddce5a274bec07b9b16d685e34eeaf8 (partial: field "
            "names from public client code; no schema found)"
        ),
        summary=(
            "a portrait video (video_input) and audio (audio_input), both required; no still "
            "image; partial schema: field names only, extra fps and bbox_shift"
        ),
    ),
    CatalogEntry(
        model="kwaivgi/kling-lip-sync",
        request=LipSyncRequest,
        build=_kling_lip_sync,
        schema=_KLING_LIP_SYNC,
        output="video",
        source=(
            "src/replicate_async/_schemas/kwaivgi__kling-lip-sync.json: version "
            "8311467f07043d4b3feb44584d2586bfa2fc70203eca612ed26f84d0b55df3ce (reconstructed "
            "from nodetool-replicate)"
        ),
        summary=(
            "video (video_url, 2-10 s, 720p-1080p) or a Kling video_id; audio (audio_file) or "
            "text with voice_id (46 voices) and voice_speed 0.8-2.0"
        ),
    ),
)
