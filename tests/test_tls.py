# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""https on the asyncio backend, against a real TLS server on loopback (certificates from
trustme): certifi's CA bundle is what is trusted (a certificate it does not know is refused
before anything is sent), ``SSL_CERT_FILE`` replaces it, and the TLS context is made with the
first https request only."""

from __future__ import annotations

import json
import ssl
from typing import TYPE_CHECKING

import pytest
import trustme

from _tiny_server import serving
from replicate_async import AsyncClient
from replicate_async._backend import LazyBackend
from replicate_async._backend_aiohttp import AiohttpBackend
from replicate_async.exceptions import TransportError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

# The aiohttp backend: asyncio only (trio runs httpx, whose TLS is its own).
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

TOKEN = "r8_" + "t" * 37
PREDICTION = {"id": "tlsprediction0000000000001", "status": "succeeded", "output": "over TLS"}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[str]:
    """An https server on 127.0.0.1 with a certificate of *ca*, answering one prediction."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    async with serving(PREDICTION, tls=context) as url:
        yield url


def _tls_of(client: AsyncClient) -> object:
    backend = client._session.backend
    assert isinstance(backend, LazyBackend)
    inner = backend._inner
    assert isinstance(inner, AiohttpBackend)
    return inner._tls


async def test_a_certificate_certifi_does_not_know_is_refused(
    https_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default trust is certifi's bundle: a private CA's certificate fails the handshake,
    a TransportError saying the request was never sent."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with AsyncClient(api_token=TOKEN, base_url=https_url) as client:
        with pytest.raises(TransportError) as info:
            await client.predictions.get(PREDICTION["id"])
        assert info.value.request_sent is False
        assert "certificate" in str(info.value).lower()


async def test_ssl_cert_file_is_trusted_instead(
    https_url: str, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE names the CA bundle to trust (as for httpx): the request goes through."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    async with AsyncClient(api_token=TOKEN, base_url=https_url) as client:
        prediction = await client.predictions.get(PREDICTION["id"])
        assert prediction.output == "over TLS"
        assert isinstance(_tls_of(client), ssl.SSLContext)
        assert json.loads(prediction.to_json())["id"] == PREDICTION["id"]


async def test_plain_http_makes_no_tls_context() -> None:
    """A client of a plain-http loopback server (the emulator) never builds a TLS context."""
    async with serving(PREDICTION) as url, AsyncClient(api_token=TOKEN, base_url=url) as client:
        await client.predictions.get(PREDICTION["id"])
        assert _tls_of(client) is None
