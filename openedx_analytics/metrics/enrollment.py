"""Daily enrollment of a course: counts, cumulative counts and modes, from enrollment facts.

The steps of an engine (``metrics.engine``): each learner's facts give their days of
change (``contributions``), the tally is what each day changes, and ``compute`` carries
the figures forward day by day. ``recompute`` (what the drain calls) starts from the
first changed day: the stored figures of the day before are the tally's base, and only
the learners with an event since then are replayed, so one new enrollment costs the same
in a course of any size. Each write also recomputes the course's ``EnrollmentSummary`` (its
latest day and the count a week before), which course lists read instead of the days.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone

from openedx_analytics.metrics.engine import Expected, Table
from openedx_analytics.metrics.store import chunks, sync_rows
from openedx_analytics.models import DirtyScope, EnrollmentDay, EnrollmentFact, EnrollmentSummary
from openedx_analytics.pipeline.markers import first_day

FactRow = tuple[int, dt.datetime, bool | None, str, str]  # user, time, is_active, mode, fingerprint


@dataclass
class DayFigures:
    """Enrollment figures at the end of one day."""

    date: dt.date
    count: int = 0
    cumulative_count: int = 0
    enrollments: int = 0
    unenrollments: int = 0
    modes: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class DayChange:
    """What one day changes in the course's figures."""

    count: int = 0
    cumulative: int = 0
    enrollments: int = 0
    unenrollments: int = 0
    mode_count: Counter = field(default_factory=Counter)
    mode_cumulative: Counter = field(default_factory=Counter)


#: One day a learner changed: (day, active at its end, mode at its end, activations, deactivations).
LearnerDay = tuple[dt.date, bool, str, int, int]


def learner_end_states(rows: Iterable[FactRow]) -> dict[int, list[LearnerDay]]:
    """Per learner: each day they changed, their (active, mode) at day end and the day's activations and deactivations.

    Events are replayed in time order (ties broken by fingerprint, so delivery order never
    matters). A mode change (``is_active`` None) keeps the active state; on a learner's
    first event it means enrolled.
    """
    by_user: dict[int, list[FactRow]] = defaultdict(list)
    for row in rows:
        by_user[row[0]].append(row)
    result: dict[int, list[LearnerDay]] = {}
    for user_id, events in by_user.items():
        events.sort(key=lambda r: (r[1], r[4]))
        days: list[LearnerDay] = []
        active: bool | None = None
        mode = ""
        current_day = None
        activations = deactivations = 0
        for _user, time, is_active, event_mode, _fp in events:
            day = time.date()
            if current_day is not None and day != current_day:
                days.append((current_day, bool(active), mode, activations, deactivations))
                activations = deactivations = 0
            current_day = day
            new_active = (active if active is not None else True) if is_active is None else is_active
            if new_active and active is not True:
                activations += 1
            elif not new_active and active is not False:
                deactivations += 1
            active, mode = new_active, event_mode
        if current_day is not None:
            days.append((current_day, bool(active), mode, activations, deactivations))
        result[user_id] = days
    return result


def contributions(facts: Iterable[FactRow]) -> Iterator[tuple[int, list[LearnerDay]]]:
    """Each learner's days of change (``learner_end_states``): what they add to the course's daily figures."""
    yield from learner_end_states(facts).items()


@dataclass
class Tally:
    """The changes each day brings, from the day after ``base`` (the stored figures of a day; None: from the start)."""

    base: DayFigures | None = None
    days: dict[dt.date, DayChange] = field(default_factory=dict)


def tally(learners: Iterable[tuple[int, list[LearnerDay]]], *, base: DayFigures | None = None) -> Tally:
    """The daily changes of ``learners``' days, counted from the day after ``base`` (every day without it).

    With ``base``, ``learners`` must be every learner with an event since that day, with
    all their days (their earlier days give their state before); the other learners'
    state is in ``base``.
    """
    start = base.date + dt.timedelta(days=1) if base is not None else None
    changes: dict[dt.date, DayChange] = defaultdict(DayChange)
    for _user, days in learners:
        was_active, prev_mode = False, None
        for day, active, mode, activations, deactivations in days:
            if start is None or day >= start:
                change = changes[day]
                change.enrollments += activations
                change.unenrollments += deactivations
                change.count += int(active) - int(was_active)
                if was_active:
                    change.mode_count[prev_mode] -= 1
                if active:
                    change.mode_count[mode] += 1
                if prev_mode is None:
                    change.cumulative += 1
                else:
                    change.mode_cumulative[prev_mode] -= 1
                change.mode_cumulative[mode] += 1
            was_active, prev_mode = active, mode
    return Tally(base=base, days=dict(changes))


def compute(sums: Tally, until: dt.date) -> list[DayFigures]:
    """Daily figures up to ``until`` (or the last day of change, if later): from the course's first day of
    change, or from the day after the tally's base, carrying its figures forward."""
    count = cumulative = 0
    mode_count: Counter = Counter()
    mode_cumulative: Counter = Counter()
    if sums.base is not None:
        first = sums.base.date + dt.timedelta(days=1)
        count, cumulative = sums.base.count, sums.base.cumulative_count
        for mode, values in sums.base.modes.items():
            mode_count[mode] = values["count"]
            mode_cumulative[mode] = values["cumulative_count"]
    elif sums.days:
        first = min(sums.days)
    else:
        return []
    last = max(max(sums.days, default=first), until)
    series: list[DayFigures] = []
    day = first
    while day <= last:
        change = sums.days.get(day)
        figures = DayFigures(date=day)
        if change is not None:
            count += change.count
            cumulative += change.cumulative
            mode_count.update(change.mode_count)
            mode_cumulative.update(change.mode_cumulative)
            figures.enrollments, figures.unenrollments = change.enrollments, change.unenrollments
        figures.count, figures.cumulative_count = count, cumulative
        figures.modes = {
            mode: {"count": mode_count[mode], "cumulative_count": mode_cumulative[mode]}
            for mode in sorted(set(mode_count) | set(mode_cumulative))
        }
        series.append(figures)
        day += dt.timedelta(days=1)
    return series


#: The columns of an ``EnrollmentDay`` row that ``compute`` gives, after its date.
VALUE_FIELDS = ("count", "cumulative_count", "enrollments", "unenrollments", "modes")
KIND = DirtyScope.ENROLLMENT
DAYS = Table("enrollment", EnrollmentDay, ("date",), VALUE_FIELDS)
#: The columns of the course's ``EnrollmentSummary`` row that its days give.
SUMMARY_FIELDS = ("date", "count", "cumulative_count", "count_week_before", "modes")
SUMMARY = Table("enrollment summary", EnrollmentSummary, (), SUMMARY_FIELDS, per_field=True)
TABLES = (DAYS, SUMMARY)
#: How far back ``EnrollmentSummary.count_week_before`` looks from the latest day.
WEEK = dt.timedelta(days=7)
_FACT_COLUMNS = ("user_id", "time", "is_active", "mode", "fingerprint")


def load(course_id: str, using: str, user_ids: Iterable[int] | None = None) -> Iterator[FactRow]:
    """The course's enrollment facts as ``FactRow`` tuples (of ``user_ids`` only, if given)."""
    facts = EnrollmentFact.objects.using(using).filter(course_id=course_id)
    if user_ids is None:
        yield from facts.values_list(*_FACT_COLUMNS).iterator(chunk_size=5000)
        return
    for chunk in chunks(sorted(user_ids)):
        yield from facts.filter(user_id__in=chunk).values_list(*_FACT_COLUMNS)


def _values(figures: DayFigures) -> tuple:
    """A day's ``VALUE_FIELDS`` values."""
    return figures.count, figures.cumulative_count, figures.enrollments, figures.unenrollments, figures.modes


def write(course_id: str, sums: Tally, now: dt.datetime, using: str) -> None:
    """Store the daily figures of ``sums`` up to today: from the day after its base (earlier rows stay), or all."""
    since = sums.base.date + dt.timedelta(days=1) if sums.base is not None else None
    wanted = {(f.date,): (*_values(f), now) for f in compute(sums, now.date())}
    sync_rows(EnrollmentDay, {"course_id": course_id}, ("date",), (*VALUE_FIELDS, "last_updated"), wanted, using,
              within={"date__gte": since} if since is not None else None)
    write_summary(course_id, using)


def write_summary(course_id: str, using: str) -> None:
    """Recompute the course's ``EnrollmentSummary`` row from its stored days (delete it when none is stored).

    Read back from the days as stored, not from what was just computed, so the row is what
    a reader searching the latest day would find, whichever path wrote the days. Two
    index lookups: the latest day, and the day a week before it.
    """
    days = EnrollmentDay.objects.using(using).filter(course_id=course_id)
    latest = days.order_by("-date").values_list("date", "count", "cumulative_count", "modes", "last_updated").first()
    if latest is None:
        EnrollmentSummary.objects.using(using).filter(course_id=course_id).delete()
        return
    date, count, cumulative, modes, last_updated = latest
    before = days.filter(date=date - WEEK).values_list("count", flat=True).first()
    EnrollmentSummary.objects.using(using).update_or_create(course_id=course_id, defaults={
        "date": date, "count": count, "cumulative_count": cumulative, "count_week_before": before or 0,
        "modes": modes, "last_updated": last_updated,
    })


def expected(course_id: str, using: str) -> Iterator[Expected]:
    """The daily rows a whole rebuild gives, up to the last stored day (today, when none is stored), and the
    course's summary row they give."""
    last = EnrollmentDay.objects.using(using).filter(course_id=course_id).aggregate(last=Max("date"))["last"]
    part = Expected(TABLES)
    counts: dict[dt.date, int] = {}
    figures = None
    for figures in compute(tally(contributions(load(course_id, using))), last or timezone.now().date()):
        part.add(DAYS, (figures.date,), _values(figures))
        counts[figures.date] = figures.count
    if figures is not None:
        part.add(SUMMARY, (), (figures.date, figures.count, figures.cumulative_count,
                               counts.get(figures.date - WEEK, 0), figures.modes))
    yield part


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the course's daily rows up to date from the first day named by ``keys`` (ISO dates).

    The stored figures of the day before are the base, and only the learners with an event
    since then are replayed. ``ALL_KEYS`` (or a course without stored rows before that
    day) rebuilds every day.
    """
    first = first_day(keys)
    base_row = None
    if first is not None:
        base_row = (EnrollmentDay.objects.using(using).filter(course_id=course_id, date__lt=first)
                    .order_by("-date").first())
    if base_row is None:
        write(course_id, tally(contributions(load(course_id, using))), now, using)
        return
    base = DayFigures(date=base_row.date, count=base_row.count, cumulative_count=base_row.cumulative_count,
                      modes=base_row.modes)
    since = dt.datetime.combine(base_row.date + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    changed = set(
        EnrollmentFact.objects.using(using)
        .filter(course_id=course_id, time__gte=since)
        .values_list("user_id", flat=True).order_by()  # no DISTINCT: it would steer the planner off the time index
    )
    write(course_id, tally(contributions(load(course_id, using, changed)), base=base), now, using)
