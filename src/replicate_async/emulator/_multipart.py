# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""A streaming `multipart/form-data` upload (`POST /v1/files`): the content part goes to disk.

The `content` part is written, hashed and counted as it arrives, so memory stays flat whatever
the size; the other parts (`filename`, `type`, `metadata`) are small fields kept in memory, so
their number and size are capped (`RequestLimits.form_fields`, `form_field_bytes`): more fields
are a 400, a larger one a 413. python-multipart itself caps each part's headers (8 lines of at
most 4 KiB), and `Guarded` the whole body.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from replicate_async.emulator._bodies import parse_json
from replicate_async.emulator._files_api import TOO_LARGE, bad_request, new_file_id

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from replicate_async.emulator._config import RequestLimits

MAX_FILENAME_BYTES = 255


class UploadError(Exception):
    """An upload refused: carries the problem body to answer."""

    def __init__(self, body: dict[str, Any]) -> None:
        """Remember the body."""
        super().__init__(body["detail"])
        self.body = body


class Upload:
    """A streaming `multipart/form-data` upload: the `content` part goes to disk as it arrives."""

    def __init__(
        self, boundary: bytes, directory: Path, max_size: int, limits: RequestLimits
    ) -> None:
        """Prepare a parser writing the content part to a new file in `directory`."""
        self.file_id = new_file_id()
        self.path = directory / self.file_id
        self.max_size = max_size
        self.limits = limits
        self.field_count = 0
        self._field_name = ""
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.fields: dict[str, bytearray] = {}
        self.part_filename: str | None = None
        self.part_type: str | None = None
        self.has_content = False
        self._sink: BinaryIO | None = None
        self._field = bytearray()  # where the current non-content part's data go
        self._headers: dict[bytes, bytes] = {}
        self._name = bytearray()
        self._value = bytearray()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": lambda d, s, e: self._name.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._value.extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )

    def _header_end(self) -> None:
        """One part header complete."""
        self._headers[bytes(self._name).lower()] = bytes(self._value)
        self._name.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        """A part's headers complete: open where its data go."""
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != "content":
            self.field_count += 1
            if self.field_count > self.limits.form_fields:
                detail = (
                    f"At most {self.limits.form_fields} form fields besides content are allowed"
                )
                raise UploadError(bad_request(detail))
            self._field_name = name
            self._field = self.fields.setdefault(name, bytearray())
            return
        if self.has_content:
            raise UploadError(bad_request("Only one content part is allowed"))
        self.has_content = True
        filename = options.get(b"filename")
        self.part_filename = filename.decode("utf-8", "replace") if filename else None
        part_type = self._headers.get(b"content-type")
        self.part_type = part_type.decode("latin-1").strip() if part_type else None
        self._sink = self.path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        """Part data: to the file (hashed, counted) or to a small field buffer."""
        chunk = data[start:end]
        if self._sink is not None:
            self.size += len(chunk)
            if self.size >= self.max_size:
                raise UploadError(TOO_LARGE)
            self._sink.write(chunk)
            self.md5.update(chunk)
            self.sha256.update(chunk)
        else:
            limit = self.limits.form_field_bytes
            if len(self._field) + len(chunk) > limit:  # checked before it is kept
                raise UploadError(
                    {
                        "title": "Form field too large",
                        "detail": f"Form field {self._field_name!r} must be at most {limit} bytes",
                        "status": 413,
                    }
                )
            self._field.extend(chunk)

    def _part_end(self) -> None:
        """A part complete."""
        self.close()
        self._field = bytearray()

    def close(self) -> None:
        """Close the content file, if open."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def discard(self) -> None:
        """Close and delete what was written."""
        self.close()
        self.path.unlink(missing_ok=True)

    def _text(self, name: str) -> str | None:
        """A form field as text (None when absent or empty)."""
        value = self.fields.get(name)
        return value.decode("utf-8", "replace") if value else None

    def name(self) -> str:
        """The file name: the `filename` field, else the part's filename."""
        return self._text("filename") or self.part_filename or "file"

    def content_type(self) -> str:
        """The content type: the `type` field, else the part's, else octet-stream."""
        return self._text("type") or self.part_type or "application/octet-stream"

    def metadata(self) -> Any:
        """The `metadata` field, parsed (`{}` when absent)."""
        value = self.fields.get("metadata")
        return parse_json(bytes(value), self.limits.json_depth) if value else {}

    def validate(self) -> None:
        """Refuse an upload without content or with bad fields (UploadError)."""
        if not self.has_content:
            raise UploadError(bad_request("The content part is required"))
        if len(self.name().encode()) > MAX_FILENAME_BYTES:
            raise UploadError(bad_request("filename must be at most 255 bytes"))
        try:
            metadata = self.metadata()
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            raise UploadError(bad_request("metadata must be a JSON object"))


async def receive(upload: Upload, stream: AsyncIterator[bytes]) -> dict[str, Any] | None:
    """Feed the body to the upload's parser; the problem body refusing it, if any."""
    try:
        async for chunk in stream:
            upload.parser.write(chunk)
        upload.parser.finalize()
        upload.close()
        upload.validate()
    except UploadError as exc:
        return exc.body
    except ValueError:  # python-multipart's MultipartParseError
        return bad_request("Malformed multipart body")
    return None


def boundary(content_type: str) -> bytes | None:
    """The boundary of a `multipart/form-data` content type (None otherwise)."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None
