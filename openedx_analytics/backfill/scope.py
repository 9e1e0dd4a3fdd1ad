"""Which events a scoped backfill keeps: by course, organization and time window.

Filtering happens after normalization, on the course id and time the normalizer read
(course ids taken from page URLs and old ``Org/Num/Run`` ids included), so a scoped run
keeps exactly the events an unscoped run would have stored for that scope.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics.pipeline.envelope import parse_course_id, parse_time
from openedx_analytics.pipeline.rejected import Rejected


@lru_cache(maxsize=4096)
def org_of(course_id: str) -> str:
    """The organization of a canonical course id ('' when it does not parse)."""
    try:
        return CourseKey.from_string(course_id).org
    except InvalidKeyError:
        return ""


def parse_bound(text: str | None) -> dt.datetime | None:
    """A ``--since``/``--until`` value: a date (midnight UTC) or an ISO-8601 time.

    Anything else, out-of-range zones and times with no UTC equivalent included, is a
    ``ValueError`` the command shows as its error (never a traceback).
    """
    if not text:
        return None
    try:
        return parse_time(text)
    except Rejected as rejection:
        raise ValueError(f"not a date or time: {text!r} ({rejection.detail or rejection.reason})") from None


@dataclass(frozen=True)
class BackfillScope:
    """Courses, orgs and the time window [since, until) a run is limited to (empty: everything)."""

    courses: frozenset[str] = field(default_factory=frozenset)
    orgs: frozenset[str] = field(default_factory=frozenset)
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def build(cls, courses: list[str] | None = None, orgs: list[str] | None = None,
              since: str | None = None, until: str | None = None) -> BackfillScope:
        """A scope from command-line values (course ids validated and made canonical)."""
        canonical = set()
        for course in courses or []:
            try:
                canonical.add(parse_course_id(course))
            except Rejected as exc:
                raise ValueError(f"not a course id: {course!r}") from exc
        return cls(frozenset(canonical), frozenset(orgs or []), parse_bound(since), parse_bound(until))

    @property
    def unscoped(self) -> bool:
        """Whether no course or org limit is set (the time window alone does not scope LMS tables)."""
        return not self.courses and not self.orgs

    @property
    def everything(self) -> bool:
        """Whether nothing at all is filtered."""
        return self.unscoped and self.since is None and self.until is None

    def admits_course(self, course_id: str) -> bool:
        """Whether events of ``course_id`` are in scope."""
        if self.courses and course_id not in self.courses:
            return False
        return not self.orgs or org_of(course_id) in self.orgs

    def admits_time(self, time: dt.datetime | None) -> bool:
        """Whether an event at ``time`` is in the window (unknown times are let through)."""
        if time is None:
            return True
        if self.since is not None and time < self.since:
            return False
        return self.until is None or time < self.until

    def admits(self, course_id: str | None, time: dt.datetime | None) -> bool:
        """Whether an event of ``course_id`` at ``time`` is in scope."""
        return (course_id is None or self.admits_course(course_id)) and self.admits_time(time)

    def admits_rejected(self, raw: Any, time: dt.datetime | None) -> bool:
        """Whether a rejected event may belong to the scope (so its rejection is reported).

        Only fields that parse are used: an event whose course or time cannot be read is
        reported, since nobody can say it is out of scope.
        """
        if self.everything:
            return True
        course_id = None
        if not self.unscoped and isinstance(raw, dict):
            for holder in (raw.get("context"), raw.get("data"), raw.get("event")):
                if isinstance(holder, dict) and isinstance(holder.get("course_id"), str):
                    try:
                        course_id = parse_course_id(holder["course_id"])
                    except Rejected:
                        continue
                    break
        return self.admits(course_id, time)

    def describe(self) -> dict[str, Any]:
        """The scope as JSON-able arguments (part of a run's identity)."""
        return {
            "courses": sorted(self.courses),
            "orgs": sorted(self.orgs),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
