"""The Files API: multipart upload, get, list, delete, signed download, 413, expiry."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from replicate_async.emulator import _files_api
from replicate_async.emulator._files_api import LIFETIME, file_store, new_file_id

DATA = b"hello, files\n" * 10


async def upload(client, data=DATA, name="a.txt", content_type="text/plain", **fields):
    """Upload through the multipart form and return the response."""
    form = {k: (json.dumps(v) if k == "metadata" else v) for k, v in fields.items()}
    return await client.post("/v1/files", files={"content": (name, data, content_type)}, data=form)


async def raw_upload(client, body, boundary="b0undary"):
    """POST a hand-made multipart body."""
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return await client.post("/v1/files", content=body, headers=headers)


def part(name, value, filename=None, content_type=None):
    """One hand-made multipart part (boundary `b0undary`)."""
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--b0undary\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


END = b"--b0undary--\r\n"


@pytest.fixture
async def anon(app):
    """An in-process client without a token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://emu") as c:
        yield c


# -- upload and the file object --------------------------------------------------------------


@pytest.mark.anyio
async def test_upload_answers_201_with_file_object(client):
    """An upload answers 201 with name, type, size, etag, checksums, metadata, times and urls.get."""
    response = await upload(client, metadata={"k": "v"})
    body = response.json()
    assert response.status_code == 201
    assert (body["name"], body["content_type"], body["size"]) == ("a.txt", "text/plain", len(DATA))
    assert body["etag"] == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    assert body["checksums"] == {"sha256": hashlib.sha256(DATA).hexdigest(), "md5": body["etag"]}
    assert body["metadata"] == {"k": "v"}
    assert body["urls"] == {"get": f"http://emu/v1/files/{body['id']}"}


@pytest.mark.anyio
async def test_file_object_keys_match_the_real_ones(client):
    """The file object has exactly the real response's keys."""
    body = (await upload(client)).json()
    assert set(body) == {
        "id",
        "name",
        "content_type",
        "size",
        "etag",
        "checksums",
        "metadata",
        "created_at",
        "expires_at",
        "urls",
    }


@pytest.mark.anyio
async def test_file_expires_24_hours_after_upload(client):
    """`expires_at` is 24 h after `created_at`, with millisecond timestamps."""
    body = (await upload(client)).json()
    created, expires = (datetime.fromisoformat(body[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(hours=24)
    assert len(body["created_at"].split(".")[1]) == len("123Z")


@pytest.mark.anyio
async def test_metadata_defaults_to_empty_object(client):
    """Without a metadata part, metadata is `{}`."""
    assert (await upload(client)).json()["metadata"] == {}


@pytest.mark.anyio
async def test_type_and_filename_fields_override_the_part(client):
    """The `type` and `filename` form fields win over the content part's own."""
    body = (await upload(client, type="application/json", filename="b.json")).json()
    assert (body["name"], body["content_type"]) == ("b.json", "application/json")


@pytest.mark.anyio
async def test_part_without_filename_or_type_gets_defaults(client):
    """A bare content part is named `file` and typed application/octet-stream."""
    response = await raw_upload(client, part("content", b"xyz") + END)
    body = response.json()
    assert (response.status_code, body["name"], body["content_type"]) == (
        201,
        "file",
        "application/octet-stream",
    )


@pytest.mark.anyio
async def test_empty_file_has_empty_checksums(client):
    """An empty upload has size 0 and the empty md5 (as in the recorded real exchange)."""
    body = (await upload(client, data=b"")).json()
    assert (body["size"], body["etag"]) == (0, "d41d8cd98f00b204e9800998ecf8427e")


@pytest.mark.anyio
async def test_large_upload_arrives_intact(client, state):
    """A multi-megabyte upload, streamed in chunks, is stored byte for byte."""
    data = bytes(range(256)) * 12_000
    body = (await upload(client, data=data, content_type="application/octet-stream")).json()
    assert body["checksums"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert file_store(state).read(body["id"]) == data


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_upload_at_max_size_is_413(client, state):
    """An upload of `max_size` bytes or more gets the real 413 problem body, and is not stored."""
    file_store(state).max_size = 10
    response = await upload(client, data=b"x" * 10)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"detail": "Files must be less than 100MB in size", "status": 413}
    assert file_store(state).stats()["stored"] == 0


@pytest.mark.anyio
async def test_upload_under_max_size_is_accepted(client, state):
    """An upload one byte under `max_size` is accepted."""
    file_store(state).max_size = 10
    assert (await upload(client, data=b"x" * 9)).status_code == 201


@pytest.mark.anyio
async def test_max_size_switch_through_control_route(anon, client, state):
    """`POST /_emulator/files/settings` sets max_size (no auth); a bad body is a 422."""
    answer = await anon.post("/_emulator/files/settings", json={"max_size": 5})
    bad = await anon.post("/_emulator/files/settings", json={"max_size": 0})
    unknown = await anon.post("/_emulator/files/settings", json={"other": 1})
    garbage = await anon.post("/_emulator/files/settings", content=b"{")
    assert (answer.json(), (await upload(client, data=b"12345")).status_code) == (
        {"max_size": 5},
        413,
    )
    assert (bad.status_code, unknown.status_code, garbage.status_code) == (422, 422, 422)


@pytest.mark.anyio
async def test_settings_without_body_reports_max_size(anon):
    """An empty settings request answers the current max_size."""
    assert (await anon.post("/_emulator/files/settings")).json() == {
        "max_size": _files_api.MAX_SIZE
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (part("metadata", b"{}") + END, "The content part is required"),
        (
            part("content", b"x", "a") + part("metadata", b"[1]") + END,
            "metadata must be a JSON object",
        ),
        (
            part("content", b"x", "a") + part("metadata", b"{bad") + END,
            "metadata must be a JSON object",
        ),
        (
            part("content", b"x", "a") + part("filename", b"n" * 256) + END,
            "filename must be at most 255 bytes",
        ),
        (
            part("content", b"x", "a") + part("content", b"y", "b") + END,
            "Only one content part is allowed",
        ),
        (b"--b0undary\r\nbroken header line\r\n\r\nx\r\n" + END, "Malformed multipart body"),
    ],
)
async def test_bad_uploads_are_400(client, body, detail):
    """A malformed or incomplete upload is a 400 problem saying what is wrong."""
    response = await raw_upload(client, body)
    assert (response.status_code, response.json()["detail"]) == (400, detail)


@pytest.mark.anyio
async def test_non_multipart_upload_is_400(client):
    """A JSON body is refused with a 400."""
    response = await client.post("/v1/files", json={"content": "x"})
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "Expected a multipart/form-data body",
    )


@pytest.mark.anyio
async def test_upload_needs_a_token(anon):
    """POST /v1/files without a token is a 401."""
    response = await anon.post("/v1/files", files={"content": ("a", b"x")})
    assert response.status_code == 401


# -- get, list, delete ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_answers_the_same_object(client):
    """GET /v1/files/{id} answers the object the upload answered."""
    created = (await upload(client)).json()
    assert (await client.get(f"/v1/files/{created['id']}")).json() == created


@pytest.mark.anyio
async def test_get_unknown_file_is_404(client):
    """An unknown file is a 404 `File not found` problem."""
    response = await client.get("/v1/files/nope")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "File not found", "status": 404},
    )


@pytest.mark.anyio
async def test_list_is_newest_first(client):
    """GET /v1/files lists files newest first, in the pagination envelope."""
    ids = [(await upload(client, name=f"{i}.txt")).json()["id"] for i in range(3)]
    body = (await client.get("/v1/files")).json()
    assert [f["id"] for f in body["results"]] == ids[::-1]
    assert (body["next"], body["previous"]) == (None, None)


@pytest.mark.anyio
async def test_list_pages_with_absolute_next(client, monkeypatch):
    """A long list pages with an absolute `next` URL, and following it gives the rest."""
    monkeypatch.setattr(_files_api, "PAGE_SIZE", 2)
    ids = [(await upload(client, name=f"{i}.txt")).json()["id"] for i in range(3)]
    first = (await client.get("/v1/files")).json()
    second = (await client.get(first["next"])).json()
    assert first["next"].startswith("http://emu/v1/files?cursor=")
    assert [f["id"] for f in first["results"] + second["results"]] == ids[::-1]
    assert second["next"] is None


@pytest.mark.anyio
async def test_list_with_bad_cursor_is_404(client):
    """A malformed cursor is refused."""
    assert (await client.get("/v1/files?cursor=%%%")).status_code == 404


@pytest.mark.anyio
async def test_delete_answers_204_text_plain_empty(client):
    """DELETE answers 204 with `text/plain; charset=UTF-8` and no body; the file then 404s."""
    created = (await upload(client)).json()
    response = await client.delete(f"/v1/files/{created['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["content-type"] == "text/plain; charset=UTF-8"
    assert (await client.get(f"/v1/files/{created['id']}")).status_code == 404


@pytest.mark.anyio
async def test_delete_unknown_file_is_404(client):
    """Deleting an unknown file is a 404."""
    assert (await client.delete("/v1/files/nope")).status_code == 404


# -- expiry --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_files_expire_after_24_hours(client, state):
    """After 24 h of emulated time a file is gone from get and list, and its bytes deleted."""
    created = (await upload(client)).json()
    path = file_store(state).files[created["id"]].path
    state.travel(LIFETIME + 1)
    assert (await client.get(f"/v1/files/{created['id']}")).status_code == 404
    assert (await client.get("/v1/files")).json()["results"] == []
    assert not path.exists()


@pytest.mark.anyio
async def test_files_live_until_expiry(client, state):
    """Just before 24 h the file is still there."""
    created = (await upload(client)).json()
    state.travel(LIFETIME - 60)
    assert (await client.get(f"/v1/files/{created['id']}")).status_code == 200


# -- signed download -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_download_is_byte_identical_without_auth(anon, client, state):
    """A signed download URL serves the exact bytes, without a token, and counts as a file request."""
    created = (await upload(client)).json()
    url = (await anon.get(f"/_emulator/files/{created['id']}/download-url")).json()["url"]
    response = await anon.get(url)
    assert (response.status_code, response.content) == (200, DATA)
    assert response.headers["content-type"] == "application/octet-stream"
    assert state.stats_snapshot()["file_requests"] == 1
    assert file_store(state).downloads == 1


@pytest.mark.anyio
async def test_download_url_names_owner_expiry_signature(client, state):
    """The signed URL carries owner, expiry and a base64 HMAC of `owner id expiry`."""
    created = (await upload(client)).json()
    url = file_store(state).download_url(created["id"], "http://emu", ttl=60)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["owner"] == _files_api.OWNER
    assert query["signature"] == file_store(state).sign(
        query["owner"], created["id"], int(query["expiry"])
    )


@pytest.mark.anyio
async def test_download_with_bad_signature_is_403(anon, client, state):
    """A tampered signature, a wrong owner or missing parameters are refused with 403."""
    created = (await upload(client)).json()
    url = file_store(state).download_url(created["id"], "http://emu")
    tampered = url.replace("signature=", "signature=A")
    other = url.replace("owner=emulator", "owner=someone")
    bare = f"/v1/files/{created['id']}/download"
    statuses = [
        (await anon.get(u)).status_code
        for u in (tampered, other, bare, bare + "?owner=x&expiry=x&signature=y")
    ]
    assert statuses == [403, 403, 403, 403]
    assert (await anon.get(tampered)).json()["detail"] == "Invalid signature"


@pytest.mark.anyio
async def test_download_with_expired_signature_is_403(anon, client, state):
    """A signature past its expiry is refused with 403 `Signature expired`."""
    created = (await upload(client)).json()
    url = file_store(state).download_url(created["id"], "http://emu", ttl=60)
    state.travel(61)
    response = await anon.get(url)
    assert (response.status_code, response.json()["detail"]) == (403, "Signature expired")


@pytest.mark.anyio
async def test_download_of_deleted_file_is_404(anon, client, state):
    """A good signature for a file that is gone answers 404."""
    created = (await upload(client)).json()
    url = file_store(state).download_url(created["id"], "http://emu")
    await client.delete(f"/v1/files/{created['id']}")
    assert (await anon.get(url)).status_code == 404


@pytest.mark.anyio
async def test_signed_url_route_for_unknown_file_is_404(anon):
    """No signed URL for a file that does not exist."""
    assert (await anon.get("/_emulator/files/nope/download-url")).status_code == 404


@pytest.mark.anyio
async def test_signed_url_route_honours_ttl(anon, client, state):
    """The control route's `ttl` sets the expiry (a non-number falls back to an hour)."""
    created = (await upload(client)).json()
    short = (await anon.get(f"/_emulator/files/{created['id']}/download-url?ttl=10")).json()["url"]
    default = (await anon.get(f"/_emulator/files/{created['id']}/download-url?ttl=soon")).json()[
        "url"
    ]
    expiry = [int(parse_qs(urlsplit(u).query)["expiry"][0]) for u in (short, default)]
    assert expiry[1] - expiry[0] == pytest.approx(3590, abs=2)


# -- resolving input URLs, stats, lifecycle --------------------------------------------------


@pytest.mark.anyio
async def test_input_file_url_resolves_to_bytes(client, state):
    """`resolve_url` turns a file's urls.get (any host) or download URL into its bytes."""
    created = (await upload(client)).json()
    store = file_store(state)
    download = store.download_url(created["id"], "http://emu")
    assert store.resolve_url(created["urls"]["get"]) == DATA
    assert store.resolve_url(f"https://api.replicate.com/v1/files/{created['id']}") == DATA
    assert store.resolve_url(download) == DATA
    assert store.resolve_url("http://emu/v1/predictions/x") is None
    assert store.resolve_url("http://emu/v1/files/nope") is None


@pytest.mark.anyio
async def test_stats_count_uploads_bytes_and_rejections(client, state):
    """`stats()["files"]` counts uploads, their bytes, 413 rejections and what is stored."""
    await upload(client)
    file_store(state).max_size = 5
    await upload(client)
    files = state.stats_snapshot()["files"]
    assert files == {
        "uploads": 1,
        "upload_bytes": len(DATA),
        "rejected": 1,
        "downloads": 0,
        "stored": 1,
        "stored_bytes": len(DATA),
    }


@pytest.mark.anyio
async def test_reset_deletes_files_and_restores_max_size(client, state):
    """`reset()` deletes every file from disk, zeroes counters and restores max_size."""
    created = (await upload(client)).json()
    store = file_store(state)
    path = store.files[created["id"]].path
    store.max_size = 1
    state.reset()
    assert (path.exists(), store.stats()["uploads"], store.max_size) == (
        False,
        0,
        _files_api.MAX_SIZE,
    )


@pytest.mark.anyio
async def test_close_removes_the_directory(client, state):
    """`close()` removes the store's directory; a later upload makes a new one."""
    await upload(client)
    store = file_store(state)
    directory = store.directory()
    store.close()
    assert not directory.exists()
    assert (await upload(client)).status_code == 201
    assert store.directory() != directory


@pytest.mark.anyio
async def test_lifespan_end_removes_the_directory(app, client, state):
    """Shutting the app down (its lifespan) removes the store's directory."""
    async with app.router.lifespan_context(app):
        await upload(client)
        directory = file_store(state).directory()
    assert not directory.exists()


def test_file_ids_look_like_real_ones():
    """File ids are 48-character base64 strings of a UUID, like the real ones."""
    assert len(new_file_id()) == 48


def test_close_without_directory_is_harmless(state):
    """Closing a store that never stored anything does nothing."""
    file_store(state).close()
    assert file_store(state).files == {}


def test_store_is_made_lazily(state):
    """`file_store` makes a store for a state that has none."""
    del state.extensions["files"]
    assert file_store(state).files == {}


# -- over loopback -------------------------------------------------------------------------


def test_round_trip_over_loopback(http, replicate_emulator):
    """Upload, get, list, signed download (no Authorization seen), delete, over real HTTP."""
    created = http.post(
        "/v1/files", files={"content": ("r.bin", DATA, "application/octet-stream")}
    ).json()
    listed = http.get("/v1/files").json()["results"]
    url = httpx.get(
        f"{replicate_emulator.base_url}/_emulator/files/{created['id']}/download-url"
    ).json()["url"]
    downloaded = httpx.get(url).content
    deleted = http.delete(f"/v1/files/{created['id']}")
    stats = replicate_emulator.stats()
    assert [f["id"] for f in listed] == [created["id"]]
    assert downloaded == DATA
    assert deleted.status_code == 204
    assert stats["authorization_seen_on_files"] is False
    assert (stats["files"]["uploads"], stats["files"]["upload_bytes"]) == (1, len(DATA))


def test_413_over_loopback(http, replicate_emulator):
    """Over real HTTP, a too-large upload gets its 413 answer (the rest of the body is drained)."""
    httpx.post(f"{replicate_emulator.base_url}/_emulator/files/settings", json={"max_size": 1000})
    response = http.post("/v1/files", files={"content": ("big.bin", b"x" * 200_000)})
    assert response.status_code == 413
    assert http.get("/v1/files").json()["results"] == []
