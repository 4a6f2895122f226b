# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Fixtures for driving official Replicate clients against the emulator over loopback TLS.

The emulator is served over HTTPS with a throw-away certificate authority (made with the
`openssl` command): the official Python client only turns `https:` output URLs into `FileOutput`
objects, exactly as against the real API, so plain HTTP would hide its file handling.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from typing import TYPE_CHECKING

import pytest

from replicate_async.emulator import EmulatorConfig, EmulatorServer, FakeModel, default_catalogue

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Extra models: zero-latency ones for quick runs and long lists, a queued one (0.1 s before it
#: starts) and a slow one to cancel.
PEER_MODELS = (
    FakeModel(owner="peers", name="instant", kind="text", official=True),
    FakeModel(owner="peers", name="queued", kind="text", official=True, queue=10.0),
    FakeModel(owner="peers", name="picture", kind="image", official=True),
    FakeModel(owner="peers", name="slow", kind="tokens", official=True, latency=10_000.0),
    FakeModel(owner="peers", name="pictures", kind="image", files_as_list=True),
    FakeModel(
        owner="peers",
        name="short",
        kind="text",
        official=True,
        input_schema={
            "type": "object",
            "title": "Input",
            "required": ["prompt"],
            "properties": {"prompt": {"type": "string", "title": "Prompt", "maxLength": 5}},
        },
    ),
)

_LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args: str) -> None:
    """Run one `openssl` command quietly."""
    subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: S607


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA and a certificate for 127.0.0.1 it signed (PEM files)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a loopback TLS certificate")
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.pem", "k.pem", "r.csr", "c.pem")
    )
    ext = folder / "leaf.cnf"
    ext.write_text(_LEAF_EXTENSIONS)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=replicate-async test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
    )  # fmt: skip
    return {"ca": ca, "cert": cert, "key": key}


@pytest.fixture(scope="session")
def trust(tls_files: dict[str, Path]) -> ssl.SSLContext:
    """An SSL context trusting the throw-away CA."""
    return ssl.create_default_context(cafile=str(tls_files["ca"]))


@pytest.fixture(scope="session")
def peer_server(tls_files: dict[str, Path]) -> Iterator[EmulatorServer]:
    """The emulator over TLS on loopback, models 100 times faster than the real ones."""
    config = EmulatorConfig(models=(*default_catalogue(), *PEER_MODELS), time_scale=0.01)
    server = EmulatorServer(
        config, ssl_certfile=str(tls_files["cert"]), ssl_keyfile=str(tls_files["key"])
    )
    with server:
        yield server


@pytest.fixture
def emulator(peer_server: EmulatorServer) -> EmulatorServer:
    """The TLS emulator, freshly reset for this test."""
    peer_server.reset()
    return peer_server
