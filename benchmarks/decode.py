# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Microseconds per decoded prediction reply: ``decode_prediction`` of (status, headers, body).

    python benchmarks/decode.py [-n 20000]

Decodes the two replies of ``benchmarks/layers.py`` (a ``processing`` create reply and the
``succeeded`` GET reply; two per prediction of a batch) and one recorded prediction from
``tests/fixtures/cassettes`` (a real ``succeeded`` reply with long logs). Prints the best of 5
``timeit`` runs of ``-n`` decodes each, plus ``json.loads`` of the same body for scale. Then the
output of ``run`` made of such replies: ``to_file_outputs`` (every file URL becomes a
``FileOutput``) of a real image output (one URL of the cassette), of four of them and of a text
model's 200 tokens, and whether that loaded httpx (it must not on asyncio). Prints, never
asserts: compare runs on the same machine (to see an older commit's numbers, put its ``src``
first on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import layers
from replicate_async._file_output import to_file_outputs
from replicate_async._sansio.responses import decode_prediction

CASSETTE = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "fixtures"
    / "cassettes"
    / "predictions-get.yaml"
)
HEADERS = {"Content-Type": "application/json"}
#: A real output file URL (tests/fixtures/cassettes/predictions-get.yaml).
IMAGE = (
    "https://replicate.delivery/pbxt/E6Ftpfi0dF1SOi4b6ltUwsfdxUf7zTQSfdhmJfRcfGTdZ88UE/out-0.png"
)


def recorded() -> bytes:
    """The first recorded ``GET /v1/predictions/{id}`` reply body of the cassette."""
    data = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))
    content = data["interactions"][0]["response"]["content"]
    return str(content).encode()


def best_us(stmt: object, number: int) -> float:
    """Best of 5 ``timeit`` runs of *number* calls, in microseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    """Time each payload and print one line per payload."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="decodes per timeit run")
    args = parser.parse_args()
    payloads = {
        "layers.PROCESSING": layers.PROCESSING,
        "layers.SUCCEEDED": layers.SUCCEEDED,
        f"cassette {CASSETTE.name}#0": recorded(),
    }
    print(f"decode_prediction, us per reply (best of 5 x {args.n}); json.loads alone for scale")
    for name, body in payloads.items():
        decode_prediction(200, HEADERS, body)  # builds the converter and its hooks first

        def decode(body: bytes = body) -> None:
            decode_prediction(200, HEADERS, body)

        def parse(body: bytes = body) -> None:
            json.loads(body)

        print(
            f"  {name:<36} {len(body):>6} bytes  decode {best_us(decode, args.n):6.2f} us"
            f"  (json.loads {best_us(parse, args.n):5.2f} us)"
        )
    outputs: dict[str, object] = {
        "one image URL": [IMAGE],
        "four image URLs": [IMAGE.replace("out-0", f"out-{i}") for i in range(4)],
        "200 text tokens": [f" token{i}" for i in range(200)],
    }
    print(f"to_file_outputs, us per output (best of 5 x {args.n // 10})")
    for name, output in outputs.items():

        def convert(output: object = output) -> None:
            to_file_outputs(output, lambda: None)  # type: ignore[arg-type, return-value]

        print(f"  {name:<36} {best_us(convert, args.n // 10):6.2f} us")
    print(f"httpx loaded: {'httpx' in sys.modules}")


if __name__ == "__main__":
    main()
