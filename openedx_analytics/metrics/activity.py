"""Engagement: distinct active learners of a course per day and per ISO week, by kind."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count

from openedx_analytics.models import ActivityDay, ActivityFact, ActivityWeek

#: fact kind -> aggregate column
COLUMNS = {
    ActivityFact.ANY: "any",
    ActivityFact.PROBLEM: "attempted_problem",
    ActivityFact.VIDEO: "played_video",
    ActivityFact.FORUM: "posted_forum",
}


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def _counts(queryset) -> dict[str, int]:
    found = dict(queryset.values_list("kind").annotate(n=Count("user_id", distinct=True)).order_by())
    return {column: found.get(kind, 0) for kind, column in COLUMNS.items()}


def recompute(course_id: str, key: str, now: dt.datetime, using: str) -> None:
    """Recount the day named by ``key`` and its ISO week."""
    day = dt.date.fromisoformat(key)
    facts = ActivityFact.objects.using(using).filter(course_id=course_id)
    ActivityDay.objects.using(using).update_or_create(
        course_id=course_id, date=day,
        defaults={**_counts(facts.filter(day=day)), "last_updated": now},
    )
    monday = week_start(day)
    week = facts.filter(day__gte=monday, day__lt=monday + dt.timedelta(days=7))
    ActivityWeek.objects.using(using).update_or_create(
        course_id=course_id, interval_start=monday,
        defaults={**_counts(week), "last_updated": now},
    )
