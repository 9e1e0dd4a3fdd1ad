"""What an operator needs to recover events that never reached Celery: their courses and time window.

Every place that gives up on events (a broker that is down or hung, a full publishing
buffer, a batch the worker could not store) logs this hint, so the gap can be filled with
``backfill_analytics``. ``LossTally`` keeps the hint of many lost events in bounded memory
(a count, the course ids, the first and last time), for losses reported later in one line.

The events are whatever a browser sent, so nothing of theirs reaches the log unchecked:
a course id is printed only once it parses as a course key (``pipeline.envelope``), and
an invalid one is counted, never printed; times are re-written as ISO-8601 UTC; every
argument is shell-quoted, so the command can be pasted as it stands. The line is bounded:
at most ``PRINTED_COURSES`` courses go on the command line, the rest are counted there
and listed at DEBUG (logger ``openedx_analytics.worker.losses``, ``DEBUG_COURSES_PER_LINE``
a line). The ERROR line says so, and also that dropping the ``--course`` options
recovers every course of the window (the backfill counts each event once), which needs
no DEBUG log at all.
"""
from __future__ import annotations

import datetime as dt
import logging
import shlex
from collections.abc import Iterable
from typing import Any

from openedx_analytics.pipeline.envelope import parse_course_id, parse_time
from openedx_analytics.pipeline.rejected import Rejected

log = logging.getLogger(__name__)

#: Most courses printed on the recovery command line (the rest are counted there, listed at DEBUG).
PRINTED_COURSES = 10
#: Most distinct courses one tally remembers (a flood of invented course keys stays bounded).
KEPT_COURSES = 1000
#: Courses per DEBUG line of the full list.
DEBUG_COURSES_PER_LINE = 50
#: Longest course id printed (an LMS course id fits in 255 characters); longer ones are invalid.
LONGEST_COURSE_ID = 255
#: Stands for the tracking-log files the operator names.
LOG_FILES = "<log files>"


class LossTally:
    """Running count, valid courses and time window of lost events, in bounded memory."""

    __slots__ = ("count", "courses", "courses_not_kept", "invalid_courses", "first", "last")

    def __init__(self) -> None:
        """An empty tally."""
        self.count = 0
        self.courses: set[str] = set()
        self.courses_not_kept = 0  # events of a valid course past KEPT_COURSES
        self.invalid_courses = 0  # events whose course id is not a course key
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    def add(self, events: Iterable[Any]) -> None:
        """Count ``events`` (raw event dicts; anything else counts without course or time)."""
        for event in events:
            self.count += 1
            if not isinstance(event, dict):
                continue
            context = event.get("context") if isinstance(event.get("context"), dict) else {}
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            self._add_course(context.get("course_id") or data.get("course_id"))
            self._add_time(event.get("timestamp") or event.get("time"))

    def _add_course(self, raw: Any) -> None:
        if not raw:
            return
        course = valid_course_id(raw)
        if course is None:
            self.invalid_courses += 1
        elif course in self.courses or len(self.courses) < KEPT_COURSES:
            self.courses.add(course)
        else:
            self.courses_not_kept += 1

    def _add_time(self, raw: Any) -> None:
        if not raw:
            return
        try:
            when = parse_time(raw)
        except Rejected:
            return
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when

    def command(self) -> str:
        """The shell-quoted ``backfill_analytics`` command recovering the printed courses in the window."""
        words = ["backfill_analytics"]
        for course in sorted(self.courses)[:PRINTED_COURSES]:
            words += ["--course", course]
        if self.first is not None and self.last is not None:
            until = self.last.replace(microsecond=0) + dt.timedelta(seconds=1)  # --until is exclusive
            words += ["--since", self.first.isoformat(), "--until", until.isoformat()]
        return " ".join(shlex.quote(word) for word in words) + f" --tracking-logs {LOG_FILES}"

    def notes(self) -> list[str]:
        """What the command leaves out, in words (empty when it covers every lost event)."""
        notes = []
        left_out = max(0, len(self.courses) - PRINTED_COURSES)
        if left_out or self.courses_not_kept:
            more = f"{left_out} more courses" if left_out else "more courses"
            notes.append(
                f"{more} are not on the command line"
                + (f" ({self.courses_not_kept} events of courses past the first {KEPT_COURSES} not kept)"
                   if self.courses_not_kept else "")
                + f"; the courses kept are listed at DEBUG by {log.name}, and without --course "
                  "the command recovers every course of the window (each event counts once)")
        if self.invalid_courses:
            notes.append(f"{self.invalid_courses} events had a course id that is not a course key (not printed)")
        if not self.courses and not self.courses_not_kept:
            notes.append("no valid course id: the command covers every course")
        if self.first is None:
            notes.append("time unknown: the command covers the whole log")
        return notes

    def hint(self) -> str:
        """What the operator reads: notes on what is left out, then ``Recover with:`` and the command."""
        self.log_courses()
        notes = self.notes()
        prefix = "; ".join(notes) + ". " if notes else ""
        return f"{prefix}Recover with: {self.command()}"

    def log_courses(self) -> None:
        """List every kept course at DEBUG, ``DEBUG_COURSES_PER_LINE`` a line, when the command leaves some out."""
        if len(self.courses) <= PRINTED_COURSES or not log.isEnabledFor(logging.DEBUG):
            return
        courses = sorted(self.courses)
        for start in range(0, len(courses), DEBUG_COURSES_PER_LINE):
            chunk = courses[start:start + DEBUG_COURSES_PER_LINE]
            log.debug("openedx_analytics: lost events' courses %s-%s of %s: %s", start + 1, start + len(chunk),
                      len(courses), " ".join(f"--course {shlex.quote(course)}" for course in chunk))


def valid_course_id(raw: Any) -> str | None:
    """The canonical text of a course id that parses as a course key and fits an LMS column; else None."""
    if not isinstance(raw, str) or len(raw) > LONGEST_COURSE_ID:
        return None
    try:
        course = parse_course_id(raw)
    except Rejected:
        return None
    return course if len(course) <= LONGEST_COURSE_ID else None


def backfill_hint(events: Iterable[Any]) -> str:
    """What an operator needs to recover ``events``: their courses and time window."""
    tally = LossTally()
    tally.add(events)
    return tally.hint()
