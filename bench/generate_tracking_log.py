"""Generate a realistic Open edX tracking log of N lines, for the backfill benchmarks.

Usage: python -m bench.generate_tracking_log N OUT [--seed S] [--learners L] [--days D]

OUT ending in .gz is gzip-compressed. What the log holds (courses, learners, every event
kind the plugin tracks in the LMS's shapes, duplicates and garbage) is described in
``bench.harness.tracking_log``, which writes it.
"""
from __future__ import annotations

import argparse
import gzip
import sys

from bench.harness.tracking_log import Generator


def main(argv: list[str] | None = None) -> None:
    """Write the log the command line asks for."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate_tracking_log", description=__doc__.splitlines()[0])
    parser.add_argument("lines", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args(argv)
    opener = gzip.open if args.out.endswith(".gz") else open
    with opener(args.out, "wt", encoding="utf-8", newline="\n") as out:
        Generator(args.lines, args.seed, args.learners, args.days).run(out)
    print(f"wrote {args.lines:,} lines to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
