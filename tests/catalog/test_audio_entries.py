# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The audio and talking-video entries: MusicGen, MuseTalk, Kling lip sync (issue 13)."""

from __future__ import annotations

import pytest

from replicate_async._schemas import input_errors
from replicate_async.catalog import (
    AvatarRequest,
    Catalog,
    LipSyncRequest,
    MusicRequest,
)
from replicate_async.exceptions import ValidationError

MUSICGEN = "meta/musicgen"
MUSETALK = "douwantech/musetalk"
LIPSYNC = "kwaivgi/kling-lip-sync"
STEMS = {
    MUSICGEN: "meta__musicgen",
    MUSETALK: "douwantech__musetalk",
    LIPSYNC: "kwaivgi__kling-lip-sync",
}
CLIP = "https://example.com/clip.wav"
VIDEO = "https://example.com/face.mp4"
PORTRAIT = "https://example.com/face.png"

TABLE = [
    pytest.param(
        MUSICGEN,
        MusicRequest("lofi piano", duration=12, output_format="mp3", seed=4),
        {"prompt": "lofi piano", "duration": 12, "output_format": "mp3", "seed": 4},
        (),
        "audio",
        id="musicgen-prompt",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("in jazz", duration=8.0, reference_audio=CLIP),
        {"prompt": "in jazz", "duration": 8, "input_audio": CLIP},
        (),
        "audio",
        id="musicgen-melody",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest(
            "go on",
            reference_audio=CLIP,
            extra={"continuation": True, "model_version": "stereo-large", "continuation_end": 5},
        ),
        {
            "prompt": "go on",
            "input_audio": CLIP,
            "continuation": True,
            "model_version": "stereo-large",
            "continuation_end": 5,
        },
        (),
        "audio",
        id="musicgen-continuation",
    ),
    pytest.param(
        MUSETALK,
        AvatarRequest(video=VIDEO, audio=CLIP, extra={"fps": 25, "bbox_shift": 0}),
        {"video_input": VIDEO, "audio_input": CLIP, "fps": 25, "bbox_shift": 0},
        (),
        "video",
        id="musetalk",
    ),
    pytest.param(
        MUSETALK,
        AvatarRequest(video=VIDEO, audio=CLIP, prompt="smile"),
        {"video_input": VIDEO, "audio_input": CLIP},
        ("prompt",),
        "video",
        id="musetalk-prompt-dropped",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, audio=CLIP),
        {"video_url": VIDEO, "audio_file": CLIP},
        (),
        "video",
        id="lipsync-video-audio",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(
            video_id="vid-123", text="Hello there", voice_id="en_uk_man2", voice_speed=1.5
        ),
        {
            "video_id": "vid-123",
            "text": "Hello there",
            "voice_id": "en_uk_man2",
            "voice_speed": 1.5,
        },
        (),
        "video",
        id="lipsync-id-text",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, text="Hi"),
        {"video_url": VIDEO, "text": "Hi"},
        (),
        "video",
        id="lipsync-text-defaults",
    ),
]


@pytest.mark.parametrize(("model", "request_", "expected", "dropped", "output"), TABLE)
def test_table(model, request_, expected, dropped, output):
    """The request maps to exactly this input, valid against the model's shipped schema."""
    built = Catalog().plan(model, request_)
    assert dict(built.input) == expected
    assert built.dropped == dropped
    assert built.entry is not None
    assert built.entry.output == output
    assert built.entry.schema == STEMS[model]
    assert f"{STEMS[model]}.json" in built.entry.source
    assert input_errors(STEMS[model], built.input) == []


def test_musetalk_summary_says_partial():
    """MuseTalk's schema is field names only, and its catalogue line says so."""
    entry = Catalog().find(MUSETALK, AvatarRequest)
    assert entry is not None
    assert "partial schema" in entry.summary


def test_file_objects_kept_for_upload(tmp_path):
    """Path and bytes sources reach the input as given and pass the offline schema check."""
    face = tmp_path / "face.mp4"
    face.write_bytes(b"\x00")
    built = Catalog().build(MUSETALK, AvatarRequest(video=face, audio=b"RIFF"))
    assert built == {"video_input": face, "audio_input": b"RIFF"}


# -- NeuroLink's mistakes (issue 13) ---------------------------------------------------------


def test_musetalk_takes_video_input_and_audio_input():
    """MuseTalk gets `video_input`/`audio_input` (NeuroLink sent `image`/`audio`)."""
    built = Catalog().build(MUSETALK, AvatarRequest(video=VIDEO, audio=CLIP))
    assert set(built) == {"video_input", "audio_input"}
    assert "image" not in built
    assert "audio" not in built


def test_musetalk_refuses_a_still_image():
    """A portrait image is refused: MuseTalk re-times a video, it has no image input."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(MUSETALK, AvatarRequest(image=PORTRAIT, audio=CLIP))
    assert str(info.value) == (
        f"{MUSETALK}: image={PORTRAIT!r} is not accepted: a portrait video as video= "
        "(MuseTalk re-times a video's lips, not a still image)"
    )


def test_musicgen_never_gets_bpm():
    """MusicGen has no bpm: the request has no such field, and an `extra` bpm is refused."""
    built = Catalog().build(MUSICGEN, MusicRequest("techno", duration=10))
    assert "bpm" not in built
    with pytest.raises(ValidationError) as info:
        Catalog().build(MUSICGEN, MusicRequest("techno", extra={"bpm": 128}))
    assert str(info.value).startswith(f"{MUSICGEN}: the input does not fit the model's schema: ")
    assert "input.bpm: the model has no input 'bpm'" in str(info.value)


def test_musetalk_extra_beyond_known_fields_refused():
    """Only MuseTalk's known fields pass as `extra` (its schema is partial)."""
    with pytest.raises(ValidationError, match=r"input\.batch_size: the model has no input"):
        Catalog().build(MUSETALK, AvatarRequest(video=VIDEO, audio=CLIP, extra={"batch_size": 4}))


# -- refusals --------------------------------------------------------------------------------

REFUSALS = [
    pytest.param(
        MUSICGEN,
        MusicRequest("a", duration=7.5),
        "duration=7.5",
        "a whole number of at least 1",
        id="musicgen-fraction",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("a", duration=0),
        "duration=0",
        "a whole number of at least 1",
        id="musicgen-zero",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("a", output_format="flac"),
        "output_format='flac'",
        "one of wav, mp3",
        id="musicgen-format",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("a", reference_audio=CLIP, extra={"model_version": "large"}),
        "extra['model_version']='large'",
        "stereo-melody-large or melody-large to follow reference_audio's melody",
        id="musicgen-melody-model",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("a", extra={"continuation": True}),
        "extra['continuation']=True",
        "continuation only with reference_audio",
        id="musicgen-continuation-alone",
    ),
    pytest.param(
        MUSICGEN,
        MusicRequest("a", reference_audio="song.mp3"),
        "reference_audio='song.mp3'",
        "a URL (https:// or data:), a Path, bytes or a binary file",
        id="musicgen-path-string",
    ),
    pytest.param(
        MUSETALK,
        AvatarRequest(audio=CLIP),
        "video=None",
        "a portrait video (MuseTalk lip-syncs a video)",
        id="musetalk-no-video",
    ),
    pytest.param(
        MUSETALK,
        AvatarRequest(video=VIDEO),
        "audio=None",
        "the speech to lip-sync the video to",
        id="musetalk-no-audio",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, video_id="vid-1", audio=CLIP),
        f"video/video_id=({VIDEO!r}, 'vid-1')",
        "exactly one of video or video_id",
        id="lipsync-both-videos",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(audio=CLIP),
        "video/video_id=(None, None)",
        "exactly one of video or video_id",
        id="lipsync-no-video",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, audio=CLIP, text="Hi"),
        f"audio/text=({CLIP!r}, 'Hi')",
        "exactly one of audio or text (with voice_id and voice_speed)",
        id="lipsync-audio-and-text",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO),
        "audio/text=(None, None)",
        "exactly one of audio or text",
        id="lipsync-no-speech",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, text="Hi", voice_id="en_robot"),
        "voice_id='en_robot'",
        "one of 46 values: en_AOT, en_oversea_male1,",
        id="lipsync-voice",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, text="Hi", voice_speed=2.5),
        "voice_speed=2.5",
        "a number from 0.8 to 2",
        id="lipsync-speed",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, audio=CLIP, voice_id="en_AOT"),
        "voice_id='en_AOT'",
        "voice_id only with text",
        id="lipsync-voice-with-audio",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video_id="", text="Hi"),
        "video_id=''",
        "a Kling video's id",
        id="lipsync-empty-id",
    ),
    pytest.param(
        LIPSYNC,
        LipSyncRequest(video=VIDEO, text=""),
        "text=''",
        "the text to speak",
        id="lipsync-empty-text",
    ),
]


@pytest.mark.parametrize(("model", "request_", "shown", "allowed"), REFUSALS)
def test_refusal(model, request_, shown, allowed):
    """A request the model cannot take is refused, naming the model, field, value and rule."""
    with pytest.raises(ValidationError) as info:
        Catalog().plan(model, request_)
    message = str(info.value)
    assert message.startswith(f"{model}: {shown} is not accepted: ")
    assert allowed in message
    assert info.value.status_code is None


def test_voice_refusal_lists_every_voice():
    """The voice refusal names the first voices and the count; invalid_fields lists all 46."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(LIPSYNC, LipSyncRequest(video=VIDEO, text="Hi", voice_id="x"))
    assert str(info.value) == (
        f"{LIPSYNC}: voice_id='x' is not accepted: one of 46 values: en_AOT, en_oversea_male1, "
        "en_girlfriend_4_speech02, en_chat_0407_5-1, en_uk_boy1, en_PeppaPig_platform, ... "
        "(all in invalid_fields)"
    )
    (every,) = info.value.invalid_fields
    assert every.field == "voice_id"
    listed = every.description.removeprefix("one of ").split(", ")
    assert len(listed) == 46
    assert listed[0] == "en_AOT"
    assert listed[-1] == "zh_mengwa-v1"
