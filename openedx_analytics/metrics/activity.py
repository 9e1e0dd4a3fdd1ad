"""Engagement: distinct active learners of a course per day and per ISO week, by kind.

The steps of an engine (``metrics.engine``): each learner's activity facts give, per ISO
week and kind, a bit per active day (``contributions``; stored as ``ActivityLearnerWeek``
rows); the tally counts, per day and per week, the learners with a bit set, and
``compute`` turns it into the stored columns. ``recompute`` (what the drain calls)
rebuilds only the learner-weeks named by its markers: it reads those learners' facts of
that week, compares the new day bits with the stored row and adds the difference to the
stored day and week counts, so a new event costs the same in a course of any size. A
whole rebuild (``ALL_KEYS``) builds every row afresh; a marker that names only a day
(written before markers named learners) rebuilds that whole week.

The site's and orgs' distinct learners per week (``metrics.site_activity``) are counted
from these learner-weeks: whenever a learner-week of kind ``any`` appears or goes, the
week is marked dirty for the site engine in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from openedx_analytics.db.bulk import insert_ignore, upsert
from openedx_analytics.metrics import site_activity
from openedx_analytics.metrics.engine import Expected, Table
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import ActivityDay, ActivityFact, ActivityLearnerWeek, ActivityWeek, DirtyScope
from openedx_analytics.pipeline.markers import ALL_KEYS, mark_dirty, split_learner_days

#: fact kind -> aggregate column
COLUMNS = {
    ActivityFact.ANY: "any",
    ActivityFact.PROBLEM: "attempted_problem",
    ActivityFact.VIDEO: "played_video",
    ActivityFact.FORUM: "posted_forum",
}
WEEK = dt.timedelta(days=7)
#: An activity fact: (day, kind, user_id).
FactRow = tuple[dt.date, str, int]
#: A learner-week: (Monday of the ISO week, user_id, kind); its contribution is a bit per active day.
LearnerWeek = tuple[dt.date, int, str]

KIND = DirtyScope.ACTIVITY
DAYS = Table("activity day", ActivityDay, ("date",), tuple(COLUMNS.values()))
WEEKS = Table("activity week", ActivityWeek, ("interval_start",), tuple(COLUMNS.values()))
LEARNERS = Table("activity learner week", ActivityLearnerWeek, ("week", "user_id", "kind"), ("days",))
TABLES = (DAYS, WEEKS, LEARNERS)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_days(monday: dt.date) -> list[dt.date]:
    """The seven days of the ISO week starting ``monday``."""
    return [monday + dt.timedelta(days=n) for n in range(7)]


def load(course_id: str, using: str, week: dt.date | None = None) -> Iterator[FactRow]:
    """The course's activity facts (of the ISO week starting ``week`` only, if given)."""
    facts = ActivityFact.objects.using(using).filter(course_id=course_id)
    if week is not None:
        facts = facts.filter(day__gte=week, day__lt=week + WEEK)
    return facts.values_list("day", "kind", "user_id").iterator(chunk_size=5000)


def contributions(facts: Iterable[FactRow]) -> Iterator[tuple[LearnerWeek, int]]:
    """Each learner's day bits per ISO week and counted kind (bit ``n``: active on the week's ``n``-th day)."""
    bits: dict[LearnerWeek, int] = defaultdict(int)
    for day, kind, user_id in facts:
        if kind in COLUMNS:
            bits[(week_start(day), user_id, kind)] |= 1 << day.weekday()
    yield from bits.items()


@dataclass
class Tally:
    """Learners per kind on each day and in each ISO week (named by its Monday)."""

    days: dict[dt.date, Counter] = field(default_factory=lambda: defaultdict(Counter))
    weeks: dict[dt.date, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, learner_week: LearnerWeek, bits: int, sign: int = 1) -> None:
        """Add (``sign`` 1) or subtract (-1) one learner-week's day bits."""
        if not bits:
            return
        monday, _user, kind = learner_week
        self.weeks[monday][kind] += sign
        for n in range(7):
            if bits >> n & 1:
                self.days[monday + dt.timedelta(days=n)][kind] += sign


def tally(learner_weeks: Iterable[tuple[LearnerWeek, int]]) -> Tally:
    """The day and week counts of ``learner_weeks``."""
    sums = Tally()
    for learner_week, bits in learner_weeks:
        sums.add(learner_week, bits)
    return sums


@dataclass
class ActivityFigures:
    """Counts per column for each day and each ISO week with a learner."""

    days: dict[dt.date, dict[str, int]] = field(default_factory=dict)
    weeks: dict[dt.date, dict[str, int]] = field(default_factory=dict)


def compute(sums: Tally) -> ActivityFigures:
    """The stored columns of each day and week the tally counts a learner in (periods left with none are left out)."""
    def columns(periods: Mapping[dt.date, Counter]) -> dict[dt.date, dict[str, int]]:
        return {period: {column: counts.get(kind, 0) for kind, column in COLUMNS.items()}
                for period, counts in periods.items() if any(counts.values())}

    return ActivityFigures(days=columns(sums.days), weeks=columns(sums.weeks))


def write(course_id: str, sums: Tally, now: dt.datetime, using: str,
          *, within: tuple[dt.date, dt.date] | None = None, held_only: bool = False) -> None:
    """Store the day and week counts of ``sums``; a period it holds with no learner loses its row.

    So do the course's other rows (those from ``within[0]`` to before ``within[1]``, when
    given), unless ``held_only``: the tally of an incremental update holds only the periods
    it changed, and the others stay.
    """
    figures = compute(sums)
    columns = list(COLUMNS.values())
    for model, period, held, counts in ((ActivityDay, "date", sums.days, figures.days),
                                        (ActivityWeek, "interval_start", sums.weeks, figures.weeks)):
        upsert(
            model,
            [model(course_id=course_id, last_updated=now, **{period: key}, **values)
             for key, values in sorted(counts.items())],
            ["course_id", period], [*columns, "last_updated"], using,
        )
        rows = model.objects.using(using).filter(course_id=course_id)
        if held_only:
            emptied = sorted(key for key in held if key not in counts)
            if emptied:
                rows.filter(**{f"{period}__in": emptied}).delete()
            continue
        if within is not None:
            rows = rows.filter(**{f"{period}__gte": within[0], f"{period}__lt": within[1]})
        rows.exclude(**{f"{period}__in": sorted(counts)}).delete()


_LEARNER_COLUMNS = ("course_id", "week", "kind", "user_id", "days")


def _store_learners(course_id: str, learner_weeks: Mapping[LearnerWeek, int], using: str) -> None:
    """Insert the learner-week rows of ``learner_weeks`` (the rows they replace are deleted already)."""
    rows = [(course_id, monday, kind, user, bits) for (monday, user, kind), bits in sorted(learner_weeks.items())
            if bits]
    insert_ignore(ActivityLearnerWeek, _LEARNER_COLUMNS, rows, using, ignore_conflicts=False)


def expected(course_id: str, using: str) -> Iterator[Expected]:
    """The learner-week rows and the day and week counts a whole rebuild gives."""
    learner_weeks = dict(contributions(load(course_id, using)))
    figures = compute(tally(learner_weeks.items()))
    part = Expected(TABLES)
    for (monday, user_id, kind), bits in learner_weeks.items():
        part.add(LEARNERS, (monday, user_id, kind), (bits,))
    for table, periods in ((DAYS, figures.days), (WEEKS, figures.weeks)):
        for period, values in periods.items():
            part.add(table, (period,), tuple(values[column] for column in table.value_fields))
    yield part


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the course's day and week counts up to date for ``keys``.

    ``"<user_id> <ISO date>"`` updates that learner's week; a bare ISO date (a marker from
    before markers named learners) rebuilds that day's whole week; ``ALL_KEYS`` the course.
    """
    if ALL_KEYS in keys:
        _rebuild(course_id, now, using)
        return
    whole_days, learners_by_day = split_learner_days(keys)
    whole_weeks = {week_start(day) for day in whole_days}
    learners: dict[dt.date, set[int]] = defaultdict(set)
    for day, users in learners_by_day.items():
        monday = week_start(day)
        if monday not in whole_weeks:
            learners[monday].update(users)
    for monday in sorted(whole_weeks):
        _rebuild(course_id, now, using, week=monday)
    if learners:
        _update(course_id, learners, now, using)


def _rebuild(course_id: str, now: dt.datetime, using: str, week: dt.date | None = None) -> None:
    """Rebuild the learner-week rows and the counts of the course (of the ISO week starting ``week``, if given)
    from its facts."""
    old = ActivityLearnerWeek.objects.using(using).filter(course_id=course_id)
    if week is not None:
        old = old.filter(week=week)
    counted = set(old.filter(kind=site_activity.COUNTED).values_list("week", flat=True).distinct().order_by())
    old.delete()
    learner_weeks = dict(contributions(load(course_id, using, week)))
    _store_learners(course_id, learner_weeks, using)
    counted.update(monday for monday, _user, kind in learner_weeks if kind == site_activity.COUNTED)
    _mark_site_weeks(course_id, counted, using)
    write(course_id, tally(learner_weeks.items()), now, using, within=None if week is None else (week, week + WEEK))


def _update(course_id: str, learners: Mapping[dt.date, set[int]], now: dt.datetime, using: str) -> None:
    """Replace the named learners' rows of each week, adding the difference in day bits to the stored counts."""
    changes = Tally()
    stale: list[int] = []
    fresh: dict[LearnerWeek, int] = {}
    site_weeks: set[dt.date] = set()
    for monday, users in sorted(learners.items()):
        for ids in chunks(sorted(users)):
            old = _stored_learner_weeks(course_id, monday, ids, using)
            new = dict(contributions(_learner_facts(course_id, monday, ids, using)))
            for learner_week in set(new) | set(old):
                pk, before = old.get(learner_week, (None, 0))
                after = new.get(learner_week, 0)
                if before == after:
                    continue
                if pk is not None:
                    stale.append(pk)
                if learner_week[2] == site_activity.COUNTED and bool(before) != bool(after):
                    site_weeks.add(monday)
                fresh[learner_week] = after
                changes.add(learner_week, before, -1)
                changes.add(learner_week, after)
    for ids in chunks(sorted(stale)):
        ActivityLearnerWeek.objects.using(using).filter(pk__in=ids).delete()
    _store_learners(course_id, fresh, using)
    _mark_site_weeks(course_id, site_weeks, using)
    days = sorted(day for day, counts in changes.days.items() if any(counts.values()))
    weeks = sorted(monday for monday, counts in changes.weeks.items() if any(counts.values()))
    if days or weeks:
        sums = _stored_counts(course_id, days, weeks, using)
        for period_sums, period_changes in ((sums.days, changes.days), (sums.weeks, changes.weeks)):
            for period in period_sums:
                period_sums[period].update(period_changes[period])
        write(course_id, sums, now, using, held_only=True)


def _mark_site_weeks(course_id: str, mondays: set[dt.date], using: str) -> None:
    """Have the site's and the course's org's distinct learners of ``mondays`` recounted (a learner-week of kind
    ``any`` appeared or went in each)."""
    if mondays:
        mark_dirty(site_activity.week_scopes(course_id, mondays), using=using)


def _learner_facts(course_id: str, monday: dt.date, user_ids: Iterable[int], using: str) -> Iterator[FactRow]:
    """The facts of counted kinds of ``user_ids`` in the ISO week starting ``monday``."""
    # Every column of the facts' unique index is named, so this reads the learners' rows only.
    facts = ActivityFact.objects.using(using).filter(
        course_id=course_id, day__in=week_days(monday), kind__in=list(COLUMNS), user_id__in=list(user_ids))
    return iter(facts.values_list("day", "kind", "user_id"))


def _stored_learner_weeks(course_id: str, monday: dt.date, user_ids: Iterable[int],
                          using: str) -> dict[LearnerWeek, tuple[int, int]]:
    """The stored rows of ``user_ids`` in the ISO week starting ``monday``: learner-week -> (pk, day bits)."""
    rows = ActivityLearnerWeek.objects.using(using).filter(course_id=course_id, week=monday, user_id__in=list(user_ids))
    return {(monday, user, kind): (pk, bits) for pk, user, kind, bits in
            rows.values_list("pk", "user_id", "kind", "days")}


def _stored_counts(course_id: str, days: list[dt.date], weeks: list[dt.date], using: str) -> Tally:
    """The stored counts of ``days`` and ``weeks`` (zero where a period has no row), as a tally."""
    sums = Tally()
    for model, period, keys, into in ((ActivityDay, "date", days, sums.days),
                                      (ActivityWeek, "interval_start", weeks, sums.weeks)):
        for key in keys:
            into[key] = Counter()
        stored = model.objects.using(using).filter(course_id=course_id, **{f"{period}__in": keys})
        for key, *values in stored.values_list(period, *COLUMNS.values()):
            into[key] = Counter(dict(zip(COLUMNS, values, strict=True)))
    return sums
