"""Cost of the privacy allow-list in the log reader: decode + normalize, with and without ``redact``.

Usage: python -m bench.reader LOG [--repeat R]

Reads the log once into memory, then times, in the same process and on the same lines,
(a) orjson decoding and normalizing the full event (the floor: what the reader did without
the allow-list) and (b) ``readers.parse_line`` (decoding plus ``redact``) and normalizing
the redacted event. Best of R runs each. No database is touched (the test host's settings
are loaded, ``test_settings`` unless ``DJANGO_SETTINGS_MODULE`` names others).
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any


def run(lines: list[bytes], decode: Callable[[bytes], tuple[Any, Any, Any]]) -> float:
    """Seconds to decode every line with ``decode`` and normalize each event it accepts."""
    from openedx_analytics.pipeline.normalizer import normalize

    started = time.perf_counter()
    for line in lines:
        event, reason, _detail = decode(line)
        if reason is None:
            normalize(event)
    return time.perf_counter() - started


def main() -> None:
    """Time the floor and the allow-listed reader on the log; print both rates and the time added."""
    parser = argparse.ArgumentParser(prog="python -m bench.reader", description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
    import django

    django.setup()
    from openedx_analytics.backfill.readers import _decode_line, parse_line

    with open(args.log, "rb") as handle:
        lines = handle.readlines()
    floor = min(run(lines, _decode_line) for _ in range(args.repeat))
    redacted = min(run(lines, parse_line) for _ in range(args.repeat))
    print(f"{len(lines)} lines: without allow-list {len(lines) / floor:,.0f} lines/s, "
          f"with allow-list {len(lines) / redacted:,.0f} lines/s ({(redacted / floor - 1) * 100:+.1f}% time)")


if __name__ == "__main__":
    main()
