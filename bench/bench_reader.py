"""Cost of the privacy allow-list in the log reader: decode + normalize, with and without ``redact``.

Usage: python bench/bench_reader.py LOG [--repeat R]

Reads the log once into memory, then times, in the same process and on the same lines,
(a) orjson decoding and normalizing the full event (the floor: what the reader did without
the allow-list) and (b) ``readers.parse_line`` (decoding plus ``redact``) and normalizing
the redacted event. Best of R runs each. No database is touched.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")

import django  # noqa: E402

django.setup()

from openedx_analytics.backfill.readers import _decode_line, parse_line  # noqa: E402
from openedx_analytics.pipeline.normalizer import normalize  # noqa: E402


def run(lines: list[bytes], decode) -> float:
    started = time.perf_counter()
    for line in lines:
        event, reason, _detail = decode(line)
        if reason is None:
            normalize(event)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with open(args.log, "rb") as handle:
        lines = handle.readlines()
    floor = min(run(lines, _decode_line) for _ in range(args.repeat))
    redacted = min(run(lines, parse_line) for _ in range(args.repeat))
    print(f"{len(lines)} lines: without allow-list {len(lines) / floor:,.0f} lines/s, "
          f"with allow-list {len(lines) / redacted:,.0f} lines/s ({(redacted / floor - 1) * 100:+.1f}% time)")


if __name__ == "__main__":
    main()
