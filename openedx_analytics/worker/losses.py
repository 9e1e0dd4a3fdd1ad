"""What an operator needs to recover events that never reached Celery: their courses and time window.

Every place that gives up on events (a broker that is down or hung, a full publishing
buffer, a batch the worker could not store) logs this hint, so the gap can be filled with
``backfill_analytics``. ``LossTally`` keeps the hint of many lost events in bounded memory
(a count, the course ids, the first and last time), for losses reported later in one line.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class LossTally:
    """Running count, courses and time window of lost events."""

    __slots__ = ("count", "courses", "first", "last")

    def __init__(self) -> None:
        """An empty tally."""
        self.count = 0
        self.courses: set[str] = set()
        self.first: str | None = None
        self.last: str | None = None

    def add(self, events: Iterable[Any]) -> None:
        """Count ``events`` (raw event dicts; anything else counts without course or time)."""
        for event in events:
            self.count += 1
            if not isinstance(event, dict):
                continue
            context = event.get("context") if isinstance(event.get("context"), dict) else {}
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            course = context.get("course_id") or data.get("course_id")
            if course:
                self.courses.add(str(course))
            when = event.get("timestamp") or event.get("time")
            if when:
                when = str(when)
                if self.first is None or when < self.first:
                    self.first = when
                if self.last is None or when > self.last:
                    self.last = when

    def hint(self) -> str:
        """The ``backfill_analytics`` command line that recovers the counted events."""
        window = f"--since {self.first} --until {self.last}" if self.first else "(time unknown)"
        course_args = " ".join(f"--course {c}" for c in sorted(self.courses)) or "(no course id)"
        return f"Recover with: backfill_analytics {course_args} {window} --tracking-logs <log files>"


def backfill_hint(events: Iterable[Any]) -> str:
    """What an operator needs to recover ``events``: their courses and time window."""
    tally = LossTally()
    tally.add(events)
    return tally.hint()
