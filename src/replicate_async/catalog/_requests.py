# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The typed requests: one frozen attrs class per modality, independent of any model.

A request says what you want ("a 5-second 16:9 video from this first frame"); a catalogue
entry maps it to one model family's real input fields. Every field but the prompt is
optional: None means "the model's default", and a field a model cannot honour is either
refused (a duration or aspect ratio it does not make, an image role it cannot take) or
dropped and reported (a seed it has no field for). ``extra`` carries model-specific fields
as they are, checked against the model's schema where the catalogue has it.

A file source (an image, a video, an audio clip) may be an ``https://`` or ``data:`` URL, a
:class:`~pathlib.Path`, ``bytes`` or a binary file object: the client uploads it (or inlines
it) as it does for any ``input``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping  # noqa: TC003 - attrs reads the annotations
from typing import Any, Literal

import attrs

__all__ = [
    "IMAGE_ROLES",
    "AvatarRequest",
    "ChatMessage",
    "ChatRequest",
    "GenerationRequest",
    "ImageInput",
    "ImageRequest",
    "ImageRole",
    "LipSyncRequest",
    "MusicRequest",
    "VideoRequest",
]

ImageRole = Literal["first_frame", "last_frame", "reference"]
"""What an image is for in a video: its first frame, its last frame, or a reference (a
subject or style to keep), for the models that take one."""

IMAGE_ROLES: tuple[ImageRole, ...] = ("first_frame", "last_frame", "reference")
"""Every :data:`ImageRole`."""


def _images(value: Iterable[ImageInput]) -> tuple[ImageInput, ...]:
    return tuple(value)


def _messages(value: Iterable[ChatMessage]) -> tuple[ChatMessage, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class ImageInput:
    """An image given to a video model, and what it is for.

    Args:
        source: A URL (``https://`` or ``data:``), a ``Path``, ``bytes`` or a binary file.
        role: ``"first_frame"`` (image-to-video), ``"last_frame"`` (the frame to end on) or
            ``"reference"`` (a subject or style to keep).

    .. versionadded:: 0.1.0
    """

    source: Any
    role: ImageRole = "first_frame"


@attrs.frozen
class VideoRequest:
    """A video: text-to-video, or image-to-video with :class:`ImageInput` images.

    Args:
        prompt: What happens in the video.
        duration: Its length in seconds (the model's durations are checked).
        aspect_ratio: ``"16:9"``, ``"9:16"``, ``"1:1"``, ... (checked against the model's).
        images: Images with their roles (first frame, last frame, references).
        negative_prompt: What to avoid.
        seed: A seed for repeatable results.
        enhance_prompt: Let the model rewrite the prompt (Minimax's ``prompt_optimizer``).
        generate_audio: Generate a soundtrack, for models that can.
        resolution: ``"480p"``, ``"720p"``, ``"1080p"``, ... where the model has a choice.
        mode: A quality mode (Kling's ``"standard"`` / ``"pro"``) where the model has one.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    prompt: str | None = None
    duration: float | None = attrs.field(default=None, kw_only=True)
    aspect_ratio: str | None = attrs.field(default=None, kw_only=True)
    images: tuple[ImageInput, ...] = attrs.field(factory=tuple, converter=_images, kw_only=True)
    negative_prompt: str | None = attrs.field(default=None, kw_only=True)
    seed: int | None = attrs.field(default=None, kw_only=True)
    enhance_prompt: bool | None = attrs.field(default=None, kw_only=True)
    generate_audio: bool | None = attrs.field(default=None, kw_only=True)
    resolution: str | None = attrs.field(default=None, kw_only=True)
    mode: str | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


@attrs.frozen
class ImageRequest:
    """An image: text-to-image, or image-to-image with ``image``.

    Args:
        prompt: What the image shows.
        aspect_ratio: ``"1:1"``, ``"16:9"``, ... (checked against the model's).
        width: Width in pixels, for models that take a size instead of (or besides) a ratio.
        height: Height in pixels.
        num_outputs: How many images.
        seed: A seed for repeatable results.
        guidance: How closely to follow the prompt (``guidance_scale``, ``cfg``, ...).
        steps: Denoising steps (``num_inference_steps``, ...).
        negative_prompt: What to avoid.
        output_format: ``"webp"``, ``"png"``, ``"jpg"``, ... (checked against the model's).
        image: An input image, for image-to-image.
        strength: How much the input image may change (0 to 1), for image-to-image.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    prompt: str | None = None
    aspect_ratio: str | None = attrs.field(default=None, kw_only=True)
    width: int | None = attrs.field(default=None, kw_only=True)
    height: int | None = attrs.field(default=None, kw_only=True)
    num_outputs: int | None = attrs.field(default=None, kw_only=True)
    seed: int | None = attrs.field(default=None, kw_only=True)
    guidance: float | None = attrs.field(default=None, kw_only=True)
    steps: int | None = attrs.field(default=None, kw_only=True)
    negative_prompt: str | None = attrs.field(default=None, kw_only=True)
    output_format: str | None = attrs.field(default=None, kw_only=True)
    image: Any = attrs.field(default=None, kw_only=True)
    strength: float | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


@attrs.frozen
class ChatMessage:
    """One message of a conversation.

    Args:
        role: ``"user"``, ``"assistant"`` or ``"system"``.
        content: Its text.

    .. versionadded:: 0.1.0
    """

    role: Literal["system", "user", "assistant"]
    content: str


@attrs.frozen
class ChatRequest:
    """Text from a language model: a prompt, or a conversation of :class:`ChatMessage`.

    Args:
        prompt: The user's message (or use ``messages``).
        messages: The conversation so far, oldest first, ending with the user's turn.
        system_prompt: How the model should behave.
        max_tokens: Most tokens to generate.
        temperature: Sampling temperature.
        top_p: Nucleus sampling; the model's default when None (never forced).
        stop: Sequences that end the reply.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    prompt: str | None = None
    messages: tuple[ChatMessage, ...] = attrs.field(
        factory=tuple, converter=_messages, kw_only=True
    )
    system_prompt: str | None = attrs.field(default=None, kw_only=True)
    max_tokens: int | None = attrs.field(default=None, kw_only=True)
    temperature: float | None = attrs.field(default=None, kw_only=True)
    top_p: float | None = attrs.field(default=None, kw_only=True)
    stop: tuple[str, ...] = attrs.field(factory=tuple, converter=_strings, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


@attrs.frozen
class AvatarRequest:
    """A talking avatar: a portrait (image or video) speaking an audio clip.

    Args:
        image: A portrait image (for models that animate a still).
        video: A portrait video (for models that re-time a video, like MuseTalk).
        audio: The speech to say.
        prompt: Guidance text, for models that take it.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    image: Any = attrs.field(default=None, kw_only=True)
    video: Any = attrs.field(default=None, kw_only=True)
    audio: Any = attrs.field(default=None, kw_only=True)
    prompt: str | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


@attrs.frozen
class MusicRequest:
    """Music from a description, optionally continuing or following a reference clip.

    Args:
        prompt: What the music sounds like.
        duration: Its length in seconds.
        output_format: ``"wav"``, ``"mp3"``, ... (checked against the model's).
        reference_audio: A clip to follow (melody) or continue.
        seed: A seed for repeatable results.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    prompt: str | None = None
    duration: float | None = attrs.field(default=None, kw_only=True)
    output_format: str | None = attrs.field(default=None, kw_only=True)
    reference_audio: Any = attrs.field(default=None, kw_only=True)
    seed: int | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


@attrs.frozen
class LipSyncRequest:
    """A video's lips moved to speech: from an audio clip, or from text with a voice.

    Give ``video`` or ``video_id`` (a Kling video's id), and ``audio`` or ``text``.

    Args:
        video: The video whose speaker should talk.
        video_id: The id of a video a Kling model made, instead of ``video``.
        audio: The speech.
        text: Text to speak instead of ``audio``, with ``voice_id`` and ``voice_speed``.
        voice_id: The voice for ``text``.
        voice_speed: The speaking speed for ``text``.
        extra: Model-specific inputs, sent as they are (checked against the model's schema).

    .. versionadded:: 0.1.0
    """

    video: Any = attrs.field(default=None, kw_only=True)
    video_id: str | None = attrs.field(default=None, kw_only=True)
    audio: Any = attrs.field(default=None, kw_only=True)
    text: str | None = attrs.field(default=None, kw_only=True)
    voice_id: str | None = attrs.field(default=None, kw_only=True)
    voice_speed: float | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, kw_only=True)


GenerationRequest = (
    VideoRequest | ImageRequest | ChatRequest | AvatarRequest | MusicRequest | LipSyncRequest
)
"""Any typed request."""
