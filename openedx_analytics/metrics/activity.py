"""Engagement: distinct active learners of a course per day and per ISO week, by kind."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count

from openedx_analytics.models import ActivityDay, ActivityFact, ActivityWeek
from openedx_analytics.pipeline.bulk import upsert
from openedx_analytics.pipeline.facts import expand_keys

#: fact kind -> aggregate column
COLUMNS = {
    ActivityFact.ANY: "any",
    ActivityFact.PROBLEM: "attempted_problem",
    ActivityFact.VIDEO: "played_video",
    ActivityFact.FORUM: "posted_forum",
}
DAY_CHUNK = 500


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def _columns(found: dict[str, int]) -> dict[str, int]:
    return {column: found.get(kind, 0) for kind, column in COLUMNS.items()}


def day_counts(course_id: str, days: list[dt.date], using: str) -> dict[dt.date, dict[str, int]]:
    """Active learners per kind on each of ``days`` (one grouped query per chunk of days)."""
    counts: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(days), DAY_CHUNK):
        rows = (
            ActivityFact.objects.using(using)
            .filter(course_id=course_id, day__in=days[start:start + DAY_CHUNK])
            .values_list("day", "kind").annotate(n=Count("user_id")).order_by()
        )
        for day, kind, n in rows:  # a learner has one row per course, day and kind
            counts[day][kind] = n
    return {day: _columns(counts.get(day, {})) for day in days}


def week_counts(course_id: str, monday: dt.date, using: str) -> dict[str, int]:
    """Distinct active learners per kind in the ISO week starting ``monday``."""
    rows = (
        ActivityFact.objects.using(using)
        .filter(course_id=course_id, day__gte=monday, day__lt=monday + dt.timedelta(days=7))
        .values_list("kind").annotate(n=Count("user_id", distinct=True)).order_by()
    )
    return _columns(dict(rows))


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Recount the days named by ``keys`` (ISO dates; ``ALL_KEYS``: every day) and the ISO weeks they fall in."""
    facts = ActivityFact.objects.using(using).filter(course_id=course_id)
    days = sorted({
        key if isinstance(key, dt.date) else dt.date.fromisoformat(key) for key in expand_keys(keys, facts, "day")
    })
    columns = list(COLUMNS.values())
    upsert(
        ActivityDay,
        [
            ActivityDay(course_id=course_id, date=day, last_updated=now, **counts)
            for day, counts in day_counts(course_id, days, using).items()
        ],
        ["course_id", "date"], [*columns, "last_updated"], using,
    )
    upsert(
        ActivityWeek,
        [
            ActivityWeek(course_id=course_id, interval_start=monday, last_updated=now,
                         **week_counts(course_id, monday, using))
            for monday in sorted({week_start(day) for day in days})
        ],
        ["course_id", "interval_start"], [*columns, "last_updated"], using,
    )
