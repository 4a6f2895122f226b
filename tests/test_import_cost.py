# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""`import replicate_async` loads no heavy dependency: each is imported where first needed.

aiohttp, httpx, cattrs, stamina and jsonschema together cost several times the package's own
modules (benchmarks/import_time.py measures it); they are loaded when a client sends its first
request, decodes its first reply, retries, or checks a schema. Counted, never timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "aiohttp",
    "httpx",
    "cattrs",
    "stamina",
    "jsonschema",
    "rich",
    "trio",
    "yaml",
    "redis",
    "psycopg",
)


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    loaded: list[str] = json.loads(out.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import replicate_async",
        "import replicate_async.catalog",
        "from replicate_async import AsyncClient, Client, Prediction, ReplicateError",
        "import replicate_async.webhooks",
    ],
)
def test_importing_the_package_loads_no_heavy_dependency(code: str) -> None:
    """The package's import leaves the heavy libraries for later."""
    assert _loaded_after(code) == []


def test_building_a_typed_input_needs_no_http_library() -> None:
    """catalog.build (no I/O) loads jsonschema for the schema check, and nothing of HTTP."""
    code = (
        "from replicate_async.catalog import Catalog, ImageRequest\n"
        "Catalog().build('black-forest-labs/flux-schnell', ImageRequest('a fox'))"
    )
    assert _loaded_after(code) == ["jsonschema"]


def test_the_first_request_loads_the_backend_it_needs() -> None:
    """They are loaded when used: an asyncio client's first request brings aiohttp."""
    code = (
        "import asyncio, replicate_async\n"
        "async def main():\n"
        "    once = replicate_async.RetryPolicy(attempts=1)\n"
        "    async with replicate_async.AsyncClient('r8_' + 'x' * 37, 'http://127.0.0.1:9',"
        " retry=once) as c:\n"
        "        try:\n"
        "            await c.predictions.get('abc')\n"
        "        except replicate_async.TransportError:\n"
        "            pass\n"
        "asyncio.run(main())"
    )
    assert "aiohttp" in _loaded_after(code)


def test_making_a_client_imports_no_http_library() -> None:
    """An AsyncClient (and its base URL check) is made without httpx or aiohttp: a client of the
    asyncio backend never loads httpx, and aiohttp comes with the first request."""
    code = (
        "import sys, replicate_async\n"
        "replicate_async.AsyncClient(api_token='r8_x', base_url='https://api.example.com')\n"
        "print(sorted(m for m in ('httpx', 'aiohttp') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


_ASYNCIO_RUN = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from _tiny_server import serving
import replicate_async

async def main():
    answer = {"id": "noimport00000000000000001", "status": "succeeded"}
    async with serving(answer) as url, replicate_async.AsyncClient(
        api_token="r8_x", base_url=url
    ) as client:
        await client.predictions.get(answer["id"])

asyncio.run(main())
print("httpx" in sys.modules)
"""


def test_the_asyncio_backend_never_imports_httpx() -> None:
    """A request on asyncio goes through aiohttp alone: httpx (50 ms to import, and a TLS
    context of its making) is not loaded by a client that does not use it."""
    done = subprocess.run(
        [sys.executable, "-c", _ASYNCIO_RUN, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


_OUTPUT_FILES = """
import sys
from replicate_async._file_output import to_file_outputs

output = to_file_outputs(
    ["https://replicate.delivery/pbxt/E6Ftpfi0dF1SOi4b6ltUwsfdxUf7zTQSfdhmJfRcfGTdZ88UE/out-0.png",
     "http://127.0.0.1:8000/x.png", "data:text/plain,hi", " a token"],
    lambda: None,
)
print(type(output[0]).__name__, type(output[1]).__name__, type(output[3]).__name__, "httpx" in sys.modules)
"""


def test_output_file_urls_are_checked_without_httpx() -> None:
    """Turning a run's output URLs into FileOutputs (every image a batch makes) needs no
    httpx on asyncio: plain host names and IPv4 addresses are checked by the standard library;
    httpx only sees unusual hosts (IDNA, IPv6 literals) that it must judge."""
    done = subprocess.run(
        [sys.executable, "-c", _OUTPUT_FILES], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["FileOutput", "FileOutput", "str", "False"]
