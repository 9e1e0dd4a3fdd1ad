"""Engagement: distinct active learners of a course per day and per ISO week, by kind.

``compute`` is pure (fact rows in, counts out); ``recompute`` (what the drain calls)
has the database count the days it is given and the ISO weeks they fall in, one grouped
query per chunk of days and per week, and ``write`` stores the counts.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

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


@dataclass
class ActivityFigures:
    """Counts per column for each day and each ISO week (named by its Monday)."""

    days: dict[dt.date, dict[str, int]] = field(default_factory=dict)
    weeks: dict[dt.date, dict[str, int]] = field(default_factory=dict)


def compute(rows: Iterable[tuple[dt.date, str, int]]) -> ActivityFigures:
    """Distinct learners per kind on each day and in each ISO week, from (day, kind, user_id) fact rows."""
    days: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    weeks: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for day, kind, user_id in rows:
        days[day][kind].add(user_id)
        weeks[week_start(day)][kind].add(user_id)

    def counts(periods: dict[dt.date, dict[str, set[int]]]) -> dict[dt.date, dict[str, int]]:
        return {period: _columns({kind: len(users) for kind, users in by_kind.items()})
                for period, by_kind in periods.items()}

    return ActivityFigures(days=counts(days), weeks=counts(weeks))


def load_facts(course_id: str, using: str) -> Iterable[tuple[dt.date, str, int]]:
    """Every activity fact of the course as (day, kind, user_id)."""
    return ActivityFact.objects.using(using).filter(course_id=course_id).values_list(
        "day", "kind", "user_id").iterator(chunk_size=5000)


def stored(course_id: str, using: str) -> ActivityFigures:
    """The course's stored day and week counts, in ``compute``'s shape."""
    columns = list(COLUMNS.values())

    def read(model: type, period: str) -> dict[dt.date, dict[str, int]]:
        rows = model.objects.using(using).filter(course_id=course_id).values_list(period, *columns)
        return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}

    return ActivityFigures(days=read(ActivityDay, "date"), weeks=read(ActivityWeek, "interval_start"))


def write(course_id: str, figures: ActivityFigures, now: dt.datetime, using: str) -> None:
    """Store the day and week counts of ``figures`` (other periods keep their rows)."""
    columns = list(COLUMNS.values())
    upsert(
        ActivityDay,
        [ActivityDay(course_id=course_id, date=day, last_updated=now, **counts)
         for day, counts in sorted(figures.days.items())],
        ["course_id", "date"], [*columns, "last_updated"], using,
    )
    upsert(
        ActivityWeek,
        [ActivityWeek(course_id=course_id, interval_start=monday, last_updated=now, **counts)
         for monday, counts in sorted(figures.weeks.items())],
        ["course_id", "interval_start"], [*columns, "last_updated"], using,
    )


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
    write(course_id, ActivityFigures(
        days=day_counts(course_id, days, using),
        weeks={monday: week_counts(course_id, monday, using) for monday in sorted({week_start(d) for d in days})},
    ), now, using)
