"""Engagement: distinct active learners of a course per day and per ISO week, by kind.

``compute`` is pure (fact rows in, counts out). The stored counts are kept equal to sums
over ``ActivityLearnerWeek`` rows (one per learner, ISO week and kind, with a bit per
active day): a week counts its rows, a day the rows with its bit set. ``recompute``
(what the drain calls) rebuilds only the learner-weeks named by its markers: it reads
those learners' facts of that week, compares the new day bits with the stored row and
adds the difference to the day and week counts, so a new event costs the same in a
course of any size. A whole rebuild (``ALL_KEYS``) builds every row afresh; a marker
that names only a day (written before markers named learners) rebuilds that whole week.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from openedx_analytics.db.bulk import insert_ignore, upsert
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import ActivityDay, ActivityFact, ActivityLearnerWeek, ActivityWeek
from openedx_analytics.pipeline.markers import ALL_KEYS, split_learner_days

#: fact kind -> aggregate column
COLUMNS = {
    ActivityFact.ANY: "any",
    ActivityFact.PROBLEM: "attempted_problem",
    ActivityFact.VIDEO: "played_video",
    ActivityFact.FORUM: "posted_forum",
}
WEEK = dt.timedelta(days=7)
#: (user_id, kind) -> day bits of one week
Bits = dict[tuple[int, str], int]


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_days(monday: dt.date) -> list[dt.date]:
    """The seven days of the ISO week starting ``monday``."""
    return [monday + dt.timedelta(days=n) for n in range(7)]


def _columns(found: Mapping[str, int]) -> dict[str, int]:
    return {column: found.get(kind, 0) for kind, column in COLUMNS.items()}


@dataclass
class ActivityFigures:
    """Counts per column for each day and each ISO week (named by its Monday)."""

    days: dict[dt.date, dict[str, int]] = field(default_factory=dict)
    weeks: dict[dt.date, dict[str, int]] = field(default_factory=dict)


def compute(rows: Iterable[tuple[dt.date, str, int]]) -> ActivityFigures:
    """Distinct learners per counted kind on each day and in each ISO week, from (day, kind, user_id) fact rows."""
    days: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    weeks: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for day, kind, user_id in rows:
        if kind in COLUMNS:
            days[day][kind].add(user_id)
            weeks[week_start(day)][kind].add(user_id)

    def counts(periods: dict[dt.date, dict[str, set[int]]]) -> dict[dt.date, dict[str, int]]:
        return {period: _columns({kind: len(users) for kind, users in by_kind.items()})
                for period, by_kind in periods.items()}

    return ActivityFigures(days=counts(days), weeks=counts(weeks))


def learner_weeks(rows: Iterable[tuple[dt.date, str, int]]) -> dict[dt.date, Bits]:
    """Each learner's day bits per ISO week and kind, from (day, kind, user_id) fact rows of counted kinds."""
    weeks: dict[dt.date, Bits] = defaultdict(lambda: defaultdict(int))
    for day, kind, user_id in rows:
        if kind in COLUMNS:
            weeks[week_start(day)][(user_id, kind)] |= 1 << day.weekday()
    return weeks


def figures_of(weeks: Mapping[dt.date, Bits]) -> ActivityFigures:
    """The day and week counts that learner-week bits add up to (equal to ``compute`` over the same facts)."""
    figures = ActivityFigures()
    for monday, bits in weeks.items():
        week: Counter = Counter()
        days: dict[int, Counter] = defaultdict(Counter)
        for (_user, kind), mask in bits.items():
            if not mask:
                continue
            week[kind] += 1
            for n in range(7):
                if mask >> n & 1:
                    days[n][kind] += 1
        if week:
            figures.weeks[monday] = _columns(week)
        for n, counts in days.items():
            figures.days[monday + dt.timedelta(days=n)] = _columns(counts)
    return figures


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


def stored_learners(course_id: str, using: str) -> dict[tuple[dt.date, int, str], int]:
    """The course's learner-week rows: (week, user_id, kind) -> day bits."""
    rows = ActivityLearnerWeek.objects.using(using).filter(course_id=course_id)
    return {(week, user, kind): days for week, user, kind, days in
            rows.values_list("week", "user_id", "kind", "days").iterator(chunk_size=5000)}


def write(course_id: str, figures: ActivityFigures, now: dt.datetime, using: str,
          *, within: tuple[dt.date, dt.date] | None = None) -> None:
    """Store the day and week counts of ``figures``; periods in ``within`` (first day, day after; None:
    every period of the course) that ``figures`` lacks lose their rows. Other periods keep theirs."""
    columns = list(COLUMNS.values())
    for model, period, counts in ((ActivityDay, "date", figures.days), (ActivityWeek, "interval_start", figures.weeks)):
        upsert(
            model,
            [model(course_id=course_id, last_updated=now, **{period: key}, **values)
             for key, values in sorted(counts.items())],
            ["course_id", period], [*columns, "last_updated"], using,
        )
        rows = model.objects.using(using).filter(course_id=course_id)
        if within is not None:
            rows = rows.filter(**{f"{period}__gte": within[0], f"{period}__lt": within[1]})
        stale = [pk for pk, key in rows.values_list("pk", period) if key not in counts]
        for ids in chunks(stale):
            model.objects.using(using).filter(pk__in=ids).delete()


_LEARNER_COLUMNS = ("course_id", "week", "kind", "user_id", "days")


def _store_learners(course_id: str, weeks: Mapping[dt.date, Bits], using: str) -> None:
    rows = [(course_id, monday, kind, user, mask) for monday, bits in sorted(weeks.items())
            for (user, kind), mask in sorted(bits.items()) if mask]
    insert_ignore(ActivityLearnerWeek, _LEARNER_COLUMNS, rows, using, ignore_conflicts=False)


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
        _rebuild_week(course_id, monday, now, using)
    if learners:
        _update(course_id, learners, now, using)


def _rebuild(course_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild every learner-week row of the course and its counts from all its facts."""
    ActivityLearnerWeek.objects.using(using).filter(course_id=course_id).delete()
    weeks = learner_weeks(load_facts(course_id, using))
    _store_learners(course_id, weeks, using)
    write(course_id, figures_of(weeks), now, using)


def _rebuild_week(course_id: str, monday: dt.date, now: dt.datetime, using: str) -> None:
    """Rebuild one ISO week's learner-week rows and its day and week counts from the week's facts."""
    ActivityLearnerWeek.objects.using(using).filter(course_id=course_id, week=monday).delete()
    facts = ActivityFact.objects.using(using).filter(course_id=course_id, day__gte=monday, day__lt=monday + WEEK)
    weeks = learner_weeks(facts.values_list("day", "kind", "user_id").iterator(chunk_size=5000))
    _store_learners(course_id, weeks, using)
    write(course_id, figures_of(weeks), now, using, within=(monday, monday + WEEK))


def _update(course_id: str, learners: Mapping[dt.date, set[int]], now: dt.datetime, using: str) -> None:
    """Replace the named learners' rows of each week, adding the difference in day bits to the stored counts."""
    day_delta: dict[dt.date, Counter] = defaultdict(Counter)
    week_delta: dict[dt.date, Counter] = defaultdict(Counter)
    stale: list[int] = []
    fresh: dict[dt.date, Bits] = defaultdict(dict)
    for monday, users in sorted(learners.items()):
        for ids in chunks(sorted(users)):
            # Every column of the facts' unique index is named, so this reads the learners' rows only.
            facts = ActivityFact.objects.using(using).filter(
                course_id=course_id, day__in=week_days(monday), kind__in=list(COLUMNS), user_id__in=ids)
            new = learner_weeks(facts.values_list("day", "kind", "user_id")).get(monday, {})
            old: dict[tuple[int, str], tuple[int, int]] = {
                (user, kind): (pk, mask) for pk, user, kind, mask in ActivityLearnerWeek.objects.using(using)
                .filter(course_id=course_id, week=monday, user_id__in=ids).values_list("pk", "user_id", "kind", "days")
            }
            for learner in set(new) | set(old):
                before = old.get(learner, (None, 0))[1]
                after = new.get(learner, 0)
                if before == after:
                    continue
                if learner in old:
                    stale.append(old[learner][0])
                if after:
                    fresh[monday][learner] = after
                kind = learner[1]
                week_delta[monday][kind] += bool(after) - bool(before)
                for n in range(7):
                    change = (after >> n & 1) - (before >> n & 1)
                    if change:
                        day_delta[monday + dt.timedelta(days=n)][kind] += change
    for ids in chunks(sorted(stale)):
        ActivityLearnerWeek.objects.using(using).filter(pk__in=ids).delete()
    _store_learners(course_id, fresh, using)
    _apply(course_id, ActivityDay, "date", day_delta, now, using)
    _apply(course_id, ActivityWeek, "interval_start", week_delta, now, using)


def _apply(course_id: str, model: type[ActivityDay | ActivityWeek], period: str,
           deltas: Mapping[dt.date, Counter], now: dt.datetime, using: str) -> None:
    """Add ``deltas`` (period -> kind -> change) to the stored counts; a period left with no learner loses its row."""
    deltas = {key: delta for key, delta in deltas.items() if any(delta.values())}
    if not deltas:
        return
    columns = list(COLUMNS.values())
    current = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in model.objects.using(using)
               .filter(course_id=course_id, **{f"{period}__in": sorted(deltas)}).values_list(period, *columns)}
    kept, emptied = [], []
    for key, delta in sorted(deltas.items()):
        values = current.get(key, dict.fromkeys(columns, 0))
        values = {column: values[column] + delta.get(kind, 0) for kind, column in COLUMNS.items()}
        if any(values.values()):
            kept.append(model(course_id=course_id, last_updated=now, **{period: key}, **values))
        else:
            emptied.append(key)
    upsert(model, kept, ["course_id", period], [*columns, "last_updated"], using)
    if emptied:
        model.objects.using(using).filter(course_id=course_id, **{f"{period}__in": emptied}).delete()
