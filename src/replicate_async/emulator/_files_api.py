"""The Files API: `POST /v1/files` (multipart), list, get, delete, and signed downloads.

Uploads stream to disk, into a temporary directory the state owns (removed when the app shuts
down, when the state is garbage-collected, or file by file on delete, expiry and reset), so the
emulator's memory stays flat whatever is uploaded. An upload of `max_size` bytes or more (100 MiB
unless switched, see `FileStore.max_size`) is refused with the real 413 body, without storing it.

Files expire 24 h (emulated clock, `travel()`) after upload. `GET /v1/files/{id}/download` needs
no token but a signature: `owner`, `expiry` (Unix seconds) and `signature`, the base64
HMAC-SHA256 of `"{owner} {id} {expiry}"` under a per-state key. How clients get such a URL is
not documented for the real API; the emulator hands them out at
`GET /_emulator/files/{id}/download-url` (and `FileStore.download_url()`). A bad or missing
signature answers 403 `{"detail": "Invalid signature"}`, an expired one 403
`{"detail": "Signature expired"}` (checked before the file is looked up), an unknown file 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import shutil
import tempfile
import uuid
import weakref
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, urlsplit

import anyio
import attrs
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.responses import FileResponse, Response

from replicate_async.emulator._http import api_route, base_url, json_response, problem
from replicate_async.emulator._predictions import INVALID_CURSOR, decode_cursor, encode_cursor
from replicate_async.emulator._util import iso

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from replicate_async.emulator._state import EmulatorState

#: Uploads of this many bytes or more are refused (413), as by the real API ("less than 100MB").
MAX_SIZE = 100 * 1024 * 1024
#: Files expire this many seconds after upload.
LIFETIME = 24 * 3600.0
#: The account that owns every file (what signed download URLs name as `owner`).
OWNER = "emulator"
PAGE_SIZE = 100
MAX_FILENAME_BYTES = 255
_MAX_FIELD_BYTES = 1024 * 1024
_MAX_SIGNED_TTL = 7 * 24 * 3600

FILE_NOT_FOUND: dict[str, Any] = {"detail": "File not found", "status": 404}
TOO_LARGE: dict[str, Any] = {"detail": "Files must be less than 100MB in size", "status": 413}
INVALID_SIGNATURE: dict[str, Any] = {"detail": "Invalid signature", "status": 403}
SIGNATURE_EXPIRED: dict[str, Any] = {"detail": "Signature expired", "status": 403}


def _bad_request(detail: str) -> dict[str, Any]:
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


class UploadError(Exception):
    """An upload refused: carries the problem body to answer."""

    def __init__(self, body: dict[str, Any]) -> None:
        """Remember the body."""
        super().__init__(body["detail"])
        self.body = body


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
        self.max_size = MAX_SIZE
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


class Upload:
    """A streaming `multipart/form-data` upload: the `content` part goes to disk as it arrives."""

    def __init__(self, boundary: bytes, directory: Path, max_size: int) -> None:
        """Prepare a parser writing the content part to a new file in `directory`."""
        self.file_id = new_file_id()
        self.path = directory / self.file_id
        self.max_size = max_size
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
            self._field = self.fields.setdefault(name, bytearray())
            return
        if self.has_content:
            raise UploadError(_bad_request("Only one content part is allowed"))
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
            self._field.extend(chunk)
            if len(self._field) > _MAX_FIELD_BYTES:
                raise UploadError(_bad_request("Form fields must be at most 1 MB"))

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
        text = self._text("metadata")
        return {} if text is None else json.loads(text)

    def validate(self) -> None:
        """Refuse an upload without content or with bad fields (UploadError)."""
        if not self.has_content:
            raise UploadError(_bad_request("The content part is required"))
        if len(self.name().encode()) > MAX_FILENAME_BYTES:
            raise UploadError(_bad_request("filename must be at most 255 bytes"))
        try:
            metadata = self.metadata()
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            raise UploadError(_bad_request("metadata must be a JSON object"))


async def _receive(upload: Upload, stream: AsyncIterator[bytes]) -> dict[str, Any] | None:
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
        return _bad_request("Malformed multipart body")
    return None


def _boundary(content_type: str) -> bytes | None:
    """The boundary of a `multipart/form-data` content type (None otherwise)."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None


class _Handlers:
    """The Files API endpoints, bound to one store."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.store = file_store(state)

    async def create(self, request: Request) -> Response:
        """`POST /v1/files`."""
        store = self.store
        boundary = _boundary(request.headers.get("content-type", ""))
        if boundary is None:
            return problem(_bad_request("Expected a multipart/form-data body"))
        upload = Upload(boundary, store.directory(), store.max_size)
        async with aclosing(request.stream()) as stream:
            refusal = await _receive(upload, stream)
            if refusal is not None:
                upload.discard()
                if refusal["status"] == TOO_LARGE["status"]:
                    store.rejected += 1
                async for _ in stream:  # read the rest, so the client gets the answer cleanly
                    pass
                return problem(refusal)
        stored = store.add(upload)
        return json_response(stored.render(base_url(self.state, request.scope)), 201)

    async def list(self, request: Request) -> Response:
        """`GET /v1/files`: newest first, 100 per page."""
        position: int | None = None
        cursor = request.query_params.get("cursor")
        if cursor is not None:
            position = decode_cursor(cursor)
            if position is None:
                return problem(INVALID_CURSOR)
        files = [f for f in self.store.newest_first() if position is None or f.seq < position]
        page = files[:PAGE_SIZE]
        base = base_url(self.state, request.scope)
        next_url = None
        if len(files) > PAGE_SIZE:
            next_url = f"{base}/v1/files?cursor={encode_cursor(page[-1].seq)}"
        results = [f.render(base) for f in page]
        return json_response({"next": next_url, "previous": None, "results": results})

    async def get(self, request: Request) -> Response:
        """`GET /v1/files/{id}`."""
        stored = self.store.get(request.path_params["id"])
        if stored is None:
            return problem(FILE_NOT_FOUND)
        return json_response(stored.render(base_url(self.state, request.scope)))

    async def delete(self, request: Request) -> Response:
        """`DELETE /v1/files/{id}`: 204, empty, `text/plain` (as the real one)."""
        self.store.get(request.path_params["id"])  # expire first
        if not self.store.remove(request.path_params["id"]):
            return problem(FILE_NOT_FOUND)
        return Response(b"", 204, media_type="text/plain; charset=UTF-8")

    async def download(self, request: Request) -> Response:
        """`GET /v1/files/{id}/download?owner=&expiry=&signature=` (no auth)."""
        file_id = request.path_params["id"]
        refused = self.store.check_signature(file_id, request.query_params)
        if refused is not None:
            return problem(refused)
        stored = self.store.get(file_id)
        if stored is None:
            return problem(FILE_NOT_FOUND)
        self.store.downloads += 1
        return FileResponse(
            stored.path, media_type="application/octet-stream", filename=stored.name
        )

    async def signed_url(self, request: Request) -> Response:
        """`GET /_emulator/files/{id}/download-url[?ttl=seconds]` (control, no auth)."""
        file_id = request.path_params["id"]
        if self.store.get(file_id) is None:
            return problem(FILE_NOT_FOUND)
        ttl_text = request.query_params.get("ttl", "3600")
        ttl = float(ttl_text) if ttl_text.isdigit() else 3600.0
        base = base_url(self.state, request.scope)
        return json_response(
            {"url": self.store.download_url(file_id, base, min(ttl, _MAX_SIGNED_TTL))}
        )

    async def settings(self, request: Request) -> Response:
        """`POST /_emulator/files/settings` `{"max_size": N}` (control, no auth)."""
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            data = None
        size = data.get("max_size") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or set(data) - {"max_size"}
            or (
                "max_size" in data
                and (not isinstance(size, int) or isinstance(size, bool) or size < 1)
            )
        ):
            return problem({"detail": 'expected {"max_size": N} with N >= 1', "status": 422})
        if size is not None:
            self.store.max_size = size
        return json_response({"max_size": self.store.max_size})


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The Files API routes and their control routes."""
    h = _Handlers(state)
    return [
        api_route(state, "/v1/files", h.create, methods=["POST"]),
        api_route(state, "/v1/files", h.list, methods=["GET"]),
        api_route(state, "/v1/files/{id}", h.get, methods=["GET"]),
        api_route(state, "/v1/files/{id}", h.delete, methods=["DELETE"]),
        api_route(
            state,
            "/v1/files/{id}/download",
            h.download,
            methods=["GET"],
            auth=False,
            bucket=None,
            file_route=True,
        ),
        api_route(
            state,
            "/_emulator/files/{id}/download-url",
            h.signed_url,
            methods=["GET"],
            auth=False,
            bucket=None,
        ),
        api_route(
            state,
            "/_emulator/files/settings",
            h.settings,
            methods=["POST"],
            auth=False,
            bucket=None,
        ),
    ]


async def background(state: EmulatorState) -> None:
    """Remove the store's directory when the app shuts down."""
    try:
        await anyio.sleep_forever()
    finally:
        file_store(state).close()
