# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The Files API's store: the uploaded files of one state, their expiry and signed download URLs.

Uploads stream to disk, into a temporary directory the state owns (removed when the app shuts
down, when the state is garbage-collected, or file by file on delete, expiry and reset), so the
emulator's memory stays flat whatever is uploaded. An upload of `max_size` bytes or more
(`RequestLimits.file_bytes`, 100 MiB, unless switched, see `FileStore.max_size`) is refused with
the real 413 body, without storing it; one declaring a larger body, before a byte is read.

Files expire 24 h (emulated clock, `travel()`) after upload. `GET /v1/files/{id}/download` needs
no token but a signature: `owner`, `expiry` (Unix seconds) and `signature`, the base64
HMAC-SHA256 of `"{owner} {id} {expiry}"` under a per-state key. How clients get such a URL is
not documented for the real API; the emulator hands them out at
`GET /_emulator/files/{id}/download-url` (and `FileStore.download_url()`). A bad or missing
signature answers 403 `{"detail": "Invalid signature"}`, an expired one 403
`{"detail": "Signature expired"}` (checked before the file is looked up), an unknown file 404.

The endpoints are in `_files_routes`, the streaming multipart parser in `_multipart`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import attrs

from replicate_async.emulator._util import iso

if TYPE_CHECKING:
    from replicate_async.emulator._multipart import Upload
    from replicate_async.emulator._state import EmulatorState

#: Uploads of this many bytes or more are refused (413), as by the real API ("less than 100MB").
MAX_SIZE = 100 * 1024 * 1024
#: Files expire this many seconds after upload.
LIFETIME = 24 * 3600.0
#: The account that owns every file (what signed download URLs name as `owner`).
OWNER = "emulator"
#: Files per page of `GET /v1/files`.
PAGE_SIZE = 100

FILE_NOT_FOUND: dict[str, Any] = {"detail": "File not found", "status": 404}
TOO_LARGE: dict[str, Any] = {"detail": "Files must be less than 100MB in size", "status": 413}
INVALID_SIGNATURE: dict[str, Any] = {"detail": "Invalid signature", "status": 403}
SIGNATURE_EXPIRED: dict[str, Any] = {"detail": "Signature expired", "status": 403}


def bad_request(detail: str) -> dict[str, Any]:
    """A 400 problem body."""
    return {"title": "Bad request", "detail": detail, "status": 400}


@attrs.define
class StoredFile:
    """One uploaded file: its metadata, and where its bytes are on disk."""

    id: str
    seq: int
    name: str
    content_type: str
    size: int
    md5: str
    sha256: str
    metadata: Any
    created_at: float
    path: Path

    @property
    def expires_at(self) -> float:
        """When the file expires (emulated time)."""
        return self.created_at + LIFETIME

    def render(self, base: str) -> dict[str, Any]:
        """The file object as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "etag": self.md5,
            "checksums": {"sha256": self.sha256, "md5": self.md5},
            "metadata": self.metadata,
            "created_at": iso(self.created_at, 3),
            "expires_at": iso(self.expires_at, 3),
            "urls": {"get": f"{base}/v1/files/{self.id}"},
        }


class FileStore:
    """The uploaded files of one emulator state (`state.extensions["files"]`).

    Args:
        state: The emulator state.

    .. versionadded:: 0.1.0
    """

    def __init__(self, state: EmulatorState) -> None:
        """An empty store; its directory is made on the first upload."""
        self.state = state
        seed = state.config.seed
        self.signing_key = (
            secrets.token_bytes(32)
            if seed is None
            else hashlib.sha256(f"emulator-files:{seed}".encode()).digest()
        )
        self.files: dict[str, StoredFile] = {}
        self._dir: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._seq = 0
        self.reset()

    def reset(self) -> None:
        """Delete every file, zero the counters, restore `max_size`."""
        for stored in self.files.values():
            stored.path.unlink(missing_ok=True)
        self.files = {}
        #: Uploads of this many bytes or more get 413 (a switch: tests set it small).
        self.max_size = self.state.config.limits.file_bytes
        self.uploads = 0
        self.upload_bytes = 0
        self.rejected = 0
        self.downloads = 0

    def stats(self) -> dict[str, int]:
        """The counters as JSON-able data (`stats()["files"]`)."""
        self._sweep()
        return {
            "uploads": self.uploads,
            "upload_bytes": self.upload_bytes,
            "rejected": self.rejected,
            "downloads": self.downloads,
            "stored": len(self.files),
            "stored_bytes": sum(f.size for f in self.files.values()),
        }

    def directory(self) -> Path:
        """The store's temporary directory (made on first use)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="replicate-emulator-files-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        return self._dir

    def close(self) -> None:
        """Delete every file and the directory."""
        self.files = {}
        if self._finalizer is not None:
            self._finalizer()
        self._dir = None
        self._finalizer = None

    def _sweep(self) -> None:
        """Forget the files past their expiry (oldest first)."""
        now = self.state.now()
        while self.files:
            oldest = next(iter(self.files.values()))
            if oldest.expires_at > now:
                return
            self.remove(oldest.id)

    def get(self, file_id: str) -> StoredFile | None:
        """The unexpired file with this id.

        Args:
            file_id: Its id.

        .. versionadded:: 0.1.0
        """
        self._sweep()
        return self.files.get(file_id)

    def remove(self, file_id: str) -> bool:
        """Delete a file (False if there was none)."""
        stored = self.files.pop(file_id, None)
        if stored is None:
            return False
        stored.path.unlink(missing_ok=True)
        return True

    def newest_first(self) -> list[StoredFile]:
        """The unexpired files, newest first."""
        self._sweep()
        return list(reversed(self.files.values()))

    def read(self, file_id: str) -> bytes | None:
        """The bytes of an unexpired file (None if unknown).

        Args:
            file_id: Its id.

        .. versionadded:: 0.1.0
        """
        stored = self.get(file_id)
        return None if stored is None else stored.path.read_bytes()

    def resolve_url(self, url: str) -> bytes | None:
        """The bytes of a file named by a URL, as clients put into a prediction's input.

        Accepts `{base}/v1/files/{id}` (the file's `urls.get`) and its `/download` URL, on any
        host; anything else, or an unknown or expired file, gives None.

        Args:
            url: The URL.

        .. versionadded:: 0.1.0
        """
        parts = urlsplit(url).path.strip("/").split("/")
        if (
            len(parts) in (3, 4)
            and parts[:2] == ["v1", "files"]
            and parts[3:] in ([], ["download"])
        ):
            return self.read(parts[2])
        return None

    def sign(self, owner: str, file_id: str, expiry: int) -> str:
        """The download signature: base64 HMAC-SHA256 of `"{owner} {id} {expiry}"`."""
        message = f"{owner} {file_id} {expiry}".encode()
        return base64.b64encode(
            hmac.new(self.signing_key, message, hashlib.sha256).digest()
        ).decode()

    def download_url(self, file_id: str, base: str, ttl: float = 3600.0) -> str:
        """A signed download URL for a file, valid for `ttl` emulated seconds.

        Args:
            file_id: The file's id.
            base: Absolute URL base.
            ttl: Seconds until the signature expires.

        .. versionadded:: 0.1.0
        """
        expiry = int(self.state.now() + ttl)
        signature = quote(self.sign(OWNER, file_id, expiry), safe="")
        return f"{base}/v1/files/{file_id}/download?owner={OWNER}&expiry={expiry}&signature={signature}"

    def check_signature(self, file_id: str, query: Any) -> dict[str, Any] | None:
        """The problem body refusing a download (None when the signature is good and current)."""
        owner, expiry, signature = (query.get(k) for k in ("owner", "expiry", "signature"))
        if not owner or not signature or not expiry or not expiry.isdigit():
            return INVALID_SIGNATURE
        expected = self.sign(owner, file_id, int(expiry))
        if owner != OWNER or not hmac.compare_digest(expected.encode(), signature.encode()):
            return INVALID_SIGNATURE
        if int(expiry) < self.state.now():
            return SIGNATURE_EXPIRED
        return None

    def page(self, before: int | None) -> tuple[list[StoredFile], bool]:
        """One page of `GET /v1/files` (newest first, older than `before`) and whether more follow."""
        files = [f for f in self.newest_first() if before is None or f.seq < before]
        return files[:PAGE_SIZE], len(files) > PAGE_SIZE

    def add(self, upload: Upload) -> StoredFile:
        """Store a finished upload."""
        self._sweep()
        self._seq += 1
        stored = StoredFile(
            id=upload.file_id,
            seq=self._seq,
            name=upload.name(),
            content_type=upload.content_type(),
            size=upload.size,
            md5=upload.md5.hexdigest(),
            sha256=upload.sha256.hexdigest(),
            metadata=upload.metadata(),
            created_at=self.state.now(),
            path=upload.path,
        )
        self.files[stored.id] = stored
        self.uploads += 1
        self.upload_bytes += stored.size
        return stored


def file_store(state: EmulatorState) -> FileStore:
    """The file store of `state` (made on first use).

    Args:
        state: The emulator state.

    .. versionadded:: 0.1.0
    """
    found = state.extensions.get("files")
    if not isinstance(found, FileStore):
        found = state.extensions["files"] = FileStore(state)
    return found


def new_file_id() -> str:
    """An opaque file id like the real ones (base64 of a UUID, 48 characters)."""
    return base64.urlsafe_b64encode(str(uuid.uuid4()).encode()).decode()
