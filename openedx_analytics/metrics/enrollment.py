"""Daily enrollment of a course: counts, cumulative counts and modes, from enrollment facts.

``compute`` is pure (fact rows in, daily figures out); ``write`` stores them;
``recompute`` (what the drain calls) starts from the first changed day: the stored
figures of the day before are the base, and only the learners with an event since then
are replayed, so one new enrollment costs the same in a course of any size.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from openedx_analytics.metrics.store import chunks, sync_rows
from openedx_analytics.models import EnrollmentDay, EnrollmentFact
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
class _Delta:
    count: int = 0
    cumulative: int = 0
    enrollments: int = 0
    unenrollments: int = 0
    mode_count: Counter = field(default_factory=Counter)
    mode_cumulative: Counter = field(default_factory=Counter)


def learner_end_states(rows: Iterable[FactRow]) -> dict[int, list[tuple[dt.date, bool, str, int, int]]]:
    """Per learner: each day they changed, their (active, mode) at day end and the day's activations and deactivations.

    Events are replayed in time order (ties broken by fingerprint, so delivery order never
    matters). A mode change (``is_active`` None) keeps the active state; on a learner's
    first event it means enrolled.
    """
    by_user: dict[int, list[FactRow]] = defaultdict(list)
    for row in rows:
        by_user[row[0]].append(row)
    result: dict[int, list[tuple[dt.date, bool, str, int, int]]] = {}
    for user_id, events in by_user.items():
        events.sort(key=lambda r: (r[1], r[4]))
        days: list[tuple[dt.date, bool, str, int, int]] = []
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


def compute(rows: Iterable[FactRow], until: dt.date, *, base: DayFigures | None = None) -> list[DayFigures]:
    """Daily figures from ``rows`` up to ``until`` (or the last event day, if later).

    Without ``base``: from the course's first enrollment day, over all its facts. With
    ``base`` (the stored figures of a day): from the day after it, where ``rows`` must hold
    every fact of every learner with an event since then (their earlier facts give their
    state before); the other learners' state is in ``base``.
    """
    start = base.date + dt.timedelta(days=1) if base is not None else None
    deltas: dict[dt.date, _Delta] = defaultdict(_Delta)
    for days in learner_end_states(rows).values():
        was_active, prev_mode = False, None
        for day, active, mode, activations, deactivations in days:
            if start is None or day >= start:
                delta = deltas[day]
                delta.enrollments += activations
                delta.unenrollments += deactivations
                delta.count += int(active) - int(was_active)
                if was_active:
                    delta.mode_count[prev_mode] -= 1
                if active:
                    delta.mode_count[mode] += 1
                if prev_mode is None:
                    delta.cumulative += 1
                else:
                    delta.mode_cumulative[prev_mode] -= 1
                delta.mode_cumulative[mode] += 1
            was_active, prev_mode = active, mode
    count = cumulative = 0
    mode_count: Counter = Counter()
    mode_cumulative: Counter = Counter()
    if base is not None:
        first = start
        count, cumulative = base.count, base.cumulative_count
        for mode, values in base.modes.items():
            mode_count[mode] = values["count"]
            mode_cumulative[mode] = values["cumulative_count"]
    elif deltas:
        first = min(deltas)
    else:
        return []
    last = max(max(deltas, default=first), until)
    series: list[DayFigures] = []
    day = first
    while day <= last:
        delta = deltas.get(day)
        figures = DayFigures(date=day)
        if delta is not None:
            count += delta.count
            cumulative += delta.cumulative
            mode_count.update(delta.mode_count)
            mode_cumulative.update(delta.mode_cumulative)
            figures.enrollments, figures.unenrollments = delta.enrollments, delta.unenrollments
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
_FACT_COLUMNS = ("user_id", "time", "is_active", "mode", "fingerprint")


def load_facts(course_id: str, using: str, user_ids: Iterable[int] | None = None) -> Iterable[FactRow]:
    """The course's enrollment facts as ``FactRow`` tuples (of ``user_ids`` only, if given)."""
    facts = EnrollmentFact.objects.using(using).filter(course_id=course_id)
    if user_ids is None:
        yield from facts.values_list(*_FACT_COLUMNS).iterator(chunk_size=5000)
        return
    for chunk in chunks(sorted(user_ids)):
        yield from facts.filter(user_id__in=chunk).values_list(*_FACT_COLUMNS)


def stored(course_id: str, using: str) -> dict[dt.date, tuple]:
    """The stored daily rows of a course: date -> ``VALUE_FIELDS`` values."""
    return {
        row[0]: tuple(row[1:])
        for row in EnrollmentDay.objects.using(using).filter(course_id=course_id).values_list("date", *VALUE_FIELDS)
    }


def as_rows(series: Iterable[DayFigures]) -> dict[dt.date, tuple]:
    """``compute``'s figures in the shape ``stored`` reads."""
    return {f.date: (f.count, f.cumulative_count, f.enrollments, f.unenrollments, f.modes) for f in series}


def write(course_id: str, series: list[DayFigures], now: dt.datetime, using: str,
          *, since: dt.date | None = None) -> None:
    """Store ``series`` as the course's daily rows (from ``since`` on, when given; earlier rows stay)."""
    wanted = {(f.date,): (*as_rows([f])[f.date], now) for f in series}
    sync_rows(EnrollmentDay, {"course_id": course_id}, ("date",), (*VALUE_FIELDS, "last_updated"), wanted, using,
              within={"date__gte": since} if since is not None else None)


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the course's daily rows up to date from the first day named by ``keys`` (ISO dates).

    ``ALL_KEYS`` (or a course without stored rows before that day) rebuilds every day.
    """
    first = first_day(keys)
    base_row = None
    if first is not None:
        base_row = (EnrollmentDay.objects.using(using).filter(course_id=course_id, date__lt=first)
                    .order_by("-date").first())
    if base_row is None:
        write(course_id, compute(load_facts(course_id, using), now.date()), now, using)
        return
    base = DayFigures(date=base_row.date, count=base_row.count, cumulative_count=base_row.cumulative_count,
                      modes=base_row.modes)
    since = base_row.date + dt.timedelta(days=1)
    changed = set(
        EnrollmentFact.objects.using(using)
        .filter(course_id=course_id, time__gte=dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc))
        .values_list("user_id", flat=True).order_by()  # no DISTINCT: it would steer the planner off the time index
    )
    series = compute(load_facts(course_id, using, changed), now.date(), base=base)
    write(course_id, series, now, using, since=since)
