"""Grades and certificates: passing learners, grade distribution of enrolled learners, certificates by mode."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from openedx_analytics.metrics.enrollment import learner_end_states
from openedx_analytics.models import CertificateFact, CourseGrades, EnrollmentFact, GradeFact, PassingFact

BUCKETS = [f"{low}-{low + 9}" if low < 90 else "90-100" for low in range(0, 100, 10)]
DOWNLOADABLE = "downloadable"


def latest_by_user(rows: Iterable[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    """The newest row per learner; rows are (user_id, time, fingerprint, *values)."""
    latest: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        current = latest.get(row[0])
        if current is None or (row[1], row[2]) > (current[1], current[2]):
            latest[row[0]] = row
    return latest


def bucket_of(percent: float) -> str:
    """The tenths bucket of a grade given as 0.0-1.0."""
    tenth = min(int(round(percent * 100, 6)) // 10, 9)
    return BUCKETS[max(tenth, 0)]


def grade_figures(passing_rows: Iterable[tuple[Any, ...]], grade_rows: Iterable[tuple[Any, ...]],
                  certificate_rows: Iterable[tuple[Any, ...]], enrollment_rows: Iterable[tuple[Any, ...]]
                  ) -> dict[str, Any]:
    """Passing learners, grade buckets of enrolled learners and certificates by mode, from fact rows.

    Rows are (user_id, time, fingerprint, *values): passing (is_passing), grades (percent),
    certificates (status, mode); enrollment rows are the enrollment engine's ``FactRow``.
    """
    passing = latest_by_user(passing_rows)
    grades = latest_by_user(grade_rows)
    certificates = latest_by_user(certificate_rows)
    states = learner_end_states(enrollment_rows)
    enrolled = [user for user, days in states.items() if days and days[-1][1]]
    buckets = Counter(bucket_of(grades[user][3]) if user in grades else BUCKETS[0] for user in enrolled)
    certificate_modes = Counter(row[4] for row in certificates.values() if row[3] == DOWNLOADABLE)
    return {
        "passing_users": sum(1 for row in passing.values() if row[3]),
        "buckets": [{"bucket": name, "count": buckets.get(name, 0)} for name in BUCKETS],
        "certificates": dict(sorted(certificate_modes.items())),
    }


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Rebuild the course's grade summary (the scope is the whole course; ``keys`` are unused)."""
    def rows(model, *fields):
        return model.objects.using(using).filter(course_id=course_id).values_list(
            "user_id", "time", "fingerprint", *fields
        )

    figures = grade_figures(
        rows(PassingFact, "is_passing"), rows(GradeFact, "percent"), rows(CertificateFact, "status", "mode"),
        EnrollmentFact.objects.using(using).filter(course_id=course_id).values_list(
            "user_id", "time", "is_active", "mode", "fingerprint"
        ),
    )
    CourseGrades.objects.using(using).update_or_create(
        course_id=course_id, defaults={**figures, "last_updated": now},
    )
