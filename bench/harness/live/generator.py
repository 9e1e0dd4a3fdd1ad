"""A load generator of ``bench.live``: simulated LMS requests at the rate its control file asks, until told to stop.

``bench.live`` starts one per ``--generators`` (``python -m bench.harness.live.generator``,
through ``processes.Generators``) on the run's live databases. Each plays one shard of the
learners (``SimulatedLms``: the plugin reached only through its real doors), reads its
target rate (events/s, ``max`` or 0) and the stop order from the control file every 0.2 s,
writes its counts of events and requests to its stats file, and logs every tracking event
to its tracking log (the backfill input of the soak's comparison).
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from bench.harness.live.databases import setup_django
from bench.harness.live.processes import read_json, write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The generator's files, its shard of the learners, its seed and its longest life."""
    parser = argparse.ArgumentParser(prog="python -m bench.harness.live.generator", description=__doc__.splitlines()[0])
    for name in ("--control", "--stats", "--log"):
        parser.add_argument(name, required=True)
    for name in ("--shard", "--shards", "--learners", "--seed"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Emit at the control file's rate until told to stop (or ``--max-seconds``); report the counts."""
    args = parse_args(argv)
    setup_django()
    from bench.harness.live.lms import SimulatedLms, log_tracking_events_to

    handler = log_tracking_events_to(Path(args.log))
    lms = SimulatedLms(args.seed, args.learners, args.shard, args.shards)
    control, stats = Path(args.control), Path(args.stats)
    events = requests = 0
    rate: float = 0.0
    due = time.monotonic()
    deadline = time.monotonic() + args.max_seconds
    checked = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now - checked >= 0.2:
            checked = now
            wanted = read_json(control) or {"rate": 0, "stop": False}
            write_json(stats, {"events": events, "requests": requests})
            if wanted.get("stop"):
                break
            new_rate = math.inf if wanted["rate"] == "max" else float(wanted["rate"])
            if new_rate != rate:
                rate, due = new_rate, now
        if rate <= 0:
            time.sleep(0.05)
            continue
        if now < due:
            time.sleep(min(due - now, 0.05))
            continue
        emitted = lms.request()
        events += emitted
        requests += 1
        if not math.isinf(rate):
            due = max(due, now - 1.0) + emitted / rate  # at most one second of catching up
    handler.flush()
    write_json(stats, {"events": events, "requests": requests})


if __name__ == "__main__":
    main()
