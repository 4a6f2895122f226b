"""Load the real recorded Replicate traffic in tests/fixtures/cassettes (Apache-2.0).

The cassettes are verbatim copies of replicate/replicate-python's `tests/cassettes/` (provenance
in tests/fixtures/NOTICE.md), so the suite needs nothing beside the checkout; a missing folder is
an error, not a skip.

Both vcrpy YAML shapes occur there: the older one (`response.content`, `response.status_code`)
and the newer one (`response.body.string`, `response.status.code`). Newer cassettes keep some
bodies as recorded on the wire: gzip bytes (`!!binary`); `Interaction.payload` decodes them.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CASSETTES = Path(__file__).resolve().parent / "fixtures" / "cassettes"

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response."""

    cassette: str
    index: int
    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_body: str
    status: int
    response_headers: dict[str, list[str]]
    response_body: str
    response_bytes: bytes = b""

    @property
    def json(self) -> Any:
        """The response body parsed as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    @property
    def payload(self) -> Any:
        """The response body as JSON, gzip-encoded recordings decoded (None when empty)."""
        raw = self.response_bytes
        if raw.startswith(_GZIP_MAGIC):
            raw = gzip.decompress(raw)
        return json.loads(raw) if raw.strip() else None

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.cassette}#{self.index}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):  # newer shape: {"string": ...}
        return _text(value.get("string"))
    return str(value)


def _bytes(value: Any) -> bytes:
    if isinstance(value, dict):
        return _bytes(value.get("string"))
    if isinstance(value, bytes):
        return value
    return _text(value).encode()


def load(path: Path) -> list[Interaction]:
    """Parse one cassette file into interactions."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for i, item in enumerate(data.get("interactions", [])):
        req, resp = item["request"], item["response"]
        status = resp.get("status_code")
        if status is None:
            status = resp["status"]["code"]
        body = resp.get("content") if "content" in resp else resp.get("body")
        out.append(
            Interaction(
                cassette=path.name,
                index=i,
                method=req["method"],
                uri=req["uri"],
                request_headers=req.get("headers") or {},
                request_body=_text(req.get("body")),
                status=int(status),
                response_headers=resp.get("headers") or {},
                response_body=_text(body),
                response_bytes=_bytes(body),
            )
        )
    return out


def all_interactions() -> list[Interaction]:
    """Every interaction of every cassette; FileNotFoundError when the fixtures are missing."""
    paths = sorted(CASSETTES.glob("*.yaml"))
    if not paths:
        msg = f"no recorded cassettes in {CASSETTES}"
        raise FileNotFoundError(msg)
    return [i for p in paths for i in load(p)]
