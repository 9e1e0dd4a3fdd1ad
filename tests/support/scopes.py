"""Dirty scopes and what a course's figures should be: shared by the failure and lock-race tests."""
from __future__ import annotations

import datetime as dt

from openedx_analytics import api, conf
from openedx_analytics.models import DirtyScope
from tests.support.logs import SampleLog


def markers(**filters) -> list[tuple[str, str, str]]:
    """The dirty markers (kind, course, key) that ``filters`` select."""
    return list(DirtyScope.objects.using(conf.analytics_db()).filter(**filters).values_list("kind", "course_id", "key"))


def course_events(log: SampleLog, course: str) -> list[dict]:
    """The sample log's events of ``course``."""
    return [event for event in log.events if course in str(event.get("context")) or course in str(event)]


def enrollment_today(course: str) -> dict[dt.date, int]:
    """The course's daily enrollment counts as the API serves them."""
    return {dt.date.fromisoformat(str(row["date"])): row["count"] for row in api.get_enrollment(course)}


def enrollment_right(log: SampleLog, course: str) -> bool:
    """The course's daily enrollment counts served by the API are those counted from the log."""
    expected = log.enrollment_counts(course)
    served = enrollment_today(course)
    return bool(expected) and {day: served.get(day, 0) for day in expected} == expected
