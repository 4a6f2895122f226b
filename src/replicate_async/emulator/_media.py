# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Small, valid media files generated on the fly: PNG images, WAV audio, MP4 video."""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

CONTENT_TYPES = {
    "png": "image/png",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "txt": "text/plain",
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(seed: str, size: int = 16) -> bytes:
    """A `size`x`size` RGB PNG whose two-colour gradient is derived from `seed`."""
    digest = hashlib.sha256(seed.encode()).digest()
    r0, g0, b0, r1, g1, b1 = digest[:6]
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            t = (x + y) / (2 * size - 2)
            rows += bytes(
                (
                    int(r0 + (r1 - r0) * t) & 0xFF,
                    int(g0 + (g1 - g0) * t) & 0xFF,
                    int(b0 + (b1 - b0) * t) & 0xFF,
                )
            )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )


def wav(seed: str, seconds: float = 0.25, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV: a sine tone whose pitch is derived from `seed`."""
    freq = 220 + hashlib.sha256(seed.encode()).digest()[0] * 2
    n = int(seconds * rate)
    data = struct.pack(
        f"<{n}h", *(int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n))
    )
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
    body += struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _box(kind: bytes, payload: bytes) -> bytes:
    """One ISO-BMFF box."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seed: str, seconds: int = 5) -> bytes:
    """A structurally valid ISO-BMFF/MP4 file (ftyp, moov/mvhd, mdat) that `file` recognises.

    It has no decodable track: enough for clients that store, hash or sniff the bytes.
    """
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    timescale = 1000
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, seconds * timescale)
        + struct.pack(">IH10x", 0x00010000, 0x0100)
        + struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
        + bytes(24)
        + struct.pack(">I", 1),
    )
    moov = _box(b"moov", mvhd)
    mdat = _box(b"mdat", hashlib.sha256(seed.encode()).digest())
    return ftyp + moov + mdat


def generate(extension: str, seed: str, seconds: float | None = None) -> bytes:
    """The bytes of a generated file of type `extension` (one of CONTENT_TYPES)."""
    if extension == "png":
        return png(seed)
    if extension == "wav":
        return wav(seed, seconds=min(seconds or 0.25, 1.0))
    if extension == "mp4":
        return mp4(seed, seconds=int(seconds or 5))
    return seed.encode()
