"""The event streams of ``bench.worker``: a course history, live events as the doors send them, and probes.

The history and the live events are the lines of one generated tracking log
(``bench.harness.tracking_log``: five courses, video events the most numerous); the live part
is passed through the tracking door's filter and allow-list, so a worker receives what the
doors would hand it. A probe is a new learner playing a video no one else watches, whose
``users_at_start`` shows when the probe's batch is in the aggregates.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from bench.harness.tracking_log import Generator

#: The probe video, and the first probe learner's id (far above the generated learners').
PROBE_VIDEO = "bench-probe-video"
PROBE_USER_BASE = 50_000_000


def door_events(lines: list[str]) -> list[dict[str, Any]]:
    """What the tracking door would send for these log lines (tracked names only, allow-listed fields)."""
    from openedx_analytics.pipeline.events.registry import is_tracked
    from openedx_analytics.pipeline.redaction import redact

    events = []
    for line in lines:
        try:
            raw = json.loads(line)
        except ValueError:
            continue  # garbage and syslog-prefixed lines never reach a door
        if not isinstance(raw, dict):
            continue
        name = raw.get("event_type") or ""
        context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
        if isinstance(name, str) and is_tracked(name, context):
            events.append(redact(raw))
    return events


def make_streams(history_lines: int, live_lines: int, learners: int, freshness_seconds: float,
                 now: dt.datetime) -> tuple[list[str], list[dict], list[dict]]:
    """History log lines (30 days), then live door events (the last hour), then events for the freshness phase.

    ``history_lines`` and ``live_lines`` lines of one generated log (seed 42, ``learners``
    learners); the freshness phase gets about 4,000 lines per second of ``freshness_seconds``.
    """
    extra = max(int(freshness_seconds * 4000), 1)
    generator = Generator(history_lines, 42, learners, 30)
    generator.now = now - dt.timedelta(days=31)
    history = io.StringIO()
    generator.run(history)
    generator.lines = history_lines + live_lines + extra
    generator.step = dt.timedelta(hours=1) / (live_lines + extra)
    generator.now = now - dt.timedelta(hours=1, minutes=5)
    live = io.StringIO()
    generator.run(live)
    events = door_events(live.getvalue().splitlines())
    cut = len(door_events(live.getvalue().splitlines()[:live_lines]))
    return history.getvalue().splitlines(), events[:cut], events[cut:]


def batches(events: list[dict], size: int) -> list[list[dict]]:
    """``events`` in batches of ``size``, as the doors hand them to Celery."""
    return [events[start:start + size] for start in range(0, len(events), size)]


def probe_events(number: int, course: str, now: dt.datetime) -> list[dict]:
    """A new learner plays the probe video from 0 s to 10 s (two browser events)."""
    context = {"course_id": course, "user_id": PROBE_USER_BASE + number}
    data = {"id": PROBE_VIDEO, "code": "html5", "duration": 60.0}
    return [
        {"name": name, "time": (now + dt.timedelta(seconds=offset)).isoformat(), "event_source": "browser",
         "context": context, "data": {**data, "currentTime": position}}
        for name, offset, position in (("play_video", 0, 0.0), ("pause_video", 10, 10.0))
    ]
