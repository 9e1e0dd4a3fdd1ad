"""Daily enrollment of a course: counts, cumulative counts and modes, from enrollment facts."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from openedx_analytics.models import EnrollmentDay, EnrollmentFact

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


def enrollment_series(rows: Iterable[FactRow], until: dt.date) -> list[DayFigures]:
    """Daily figures from the first enrollment day to ``until`` (or the last event day, if later)."""
    deltas: dict[dt.date, _Delta] = defaultdict(_Delta)
    for days in learner_end_states(rows).values():
        was_active, prev_mode = False, None
        for day, active, mode, activations, deactivations in days:
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
    if not deltas:
        return []
    first, last = min(deltas), max(max(deltas), until)
    series: list[DayFigures] = []
    count = cumulative = 0
    mode_count: Counter = Counter()
    mode_cumulative: Counter = Counter()
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


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Rebuild the course's daily enrollment rows from all its enrollment facts (``keys`` are unused)."""
    rows = EnrollmentFact.objects.using(using).filter(course_id=course_id).values_list(
        "user_id", "time", "is_active", "mode", "fingerprint"
    )
    series = enrollment_series(rows.iterator(chunk_size=5000), now.date())
    EnrollmentDay.objects.using(using).filter(course_id=course_id).delete()
    EnrollmentDay.objects.using(using).bulk_create(
        [
            EnrollmentDay(
                course_id=course_id, date=f.date, count=f.count, cumulative_count=f.cumulative_count,
                enrollments=f.enrollments, unenrollments=f.unenrollments, modes=f.modes, last_updated=now,
            )
            for f in series
        ],
        batch_size=1000,
    )
