"""Verify a course: what its engines compute from its facts against what is stored, and its facts against the LMS.

This is how an operator proves the dashboard right after a backfill, an outage or an
upgrade. The expected figures come from each engine's own ``compute()`` over the
course's facts (a whole rebuild, in memory; nothing is written), so there is no second
implementation of any rule here; every stored row that differs is named, running
tallies included. Inside the LMS (or with the stub LMS app) the learners' current
enrollment by the facts is also compared with the LMS's enrollment table, read the way
a backfill reads it (through the normalizer).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.metrics import activity, enrollment, grades, problems, video
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import EnrollmentChange

FLOAT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Difference:
    """One number that differs: where, what is stored, what the facts say it should be."""

    area: str
    key: str
    stored: Any
    expected: Any

    def __str__(self) -> str:
        return f"{self.area} {self.key}: stored {self.stored!r}, expected {self.expected!r}"


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, float) and isinstance(want, float):
        return abs(have - want) <= FLOAT_TOLERANCE
    return have == want


def compare(area: str, stored: dict[Any, Any], expected: dict[Any, Any]) -> list[Difference]:
    """Every key whose stored value differs from the expected one (missing on either side included)."""
    return [
        Difference(area, str(key), stored.get(key), expected.get(key))
        for key in sorted(set(stored) | set(expected), key=str)
        if not _same(stored.get(key), expected.get(key))
    ]


def _merge(into: dict[str, dict[Any, Any]], rows: dict[str, dict[Any, Any]]) -> None:
    for area, values in rows.items():
        into.setdefault(area, {}).update(values)


def _compare_areas(stored: dict[str, dict[Any, Any]], expected: dict[str, dict[Any, Any]]) -> list[Difference]:
    return [
        difference
        for area in sorted(set(stored) | set(expected))
        for difference in compare(area, stored.get(area, {}), expected.get(area, {}))
    ]


def verify_course(course_id: str) -> list[Difference]:
    """Every difference between the course's stored aggregates and what the engines compute from its facts."""
    using = conf.analytics_db()
    return [
        *_enrollment(course_id, using),
        *_activity(course_id, using),
        *_videos(course_id, using),
        *_problems(course_id, using),
        *_grades(course_id, using),
    ]


def _enrollment(course_id: str, using: str) -> list[Difference]:
    stored = enrollment.stored(course_id, using)
    until = max(stored) if stored else timezone.now().date()
    expected = enrollment.as_rows(enrollment.compute(enrollment.load_facts(course_id, using), until))
    return compare("enrollment", stored, expected)


def _activity(course_id: str, using: str) -> list[Difference]:
    stored = activity.stored(course_id, using)
    expected = activity.compute(activity.load_facts(course_id, using))
    return [*compare("activity day", stored.days, expected.days),
            *compare("activity week", stored.weeks, expected.weeks)]


def _videos(course_id: str, using: str) -> list[Difference]:
    ratio = float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO"))
    expected: dict[str, dict[Any, Any]] = {}
    for video_id in video.video_ids(course_id, using):
        _merge(expected, video.as_rows(video_id, video.compute_video(video.load_viewers(course_id, video_id, using)),
                                       ratio))
    return _compare_areas(video.stored(course_id, using), expected)


def _problems(course_id: str, using: str) -> list[Difference]:
    expected: dict[str, dict[Any, Any]] = {}
    for problem_id in problems.problem_ids(course_id, using):
        tally = problems.compute_problem(problems.load_learners(course_id, problem_id, using))
        _merge(expected, problems.as_rows(problem_id, tally))
    return _compare_areas(problems.stored(course_id, using), expected)


def _grades(course_id: str, using: str) -> list[Difference]:
    standings = [standing for _user, standing in grades.load_standings(course_id, using)]
    expected = grades.compute(grades.compute_course(standings)) if standings else {}
    return compare("grades", grades.stored(course_id, using), expected)


def current_enrollment(rows: Iterable[enrollment.FactRow]) -> dict[str, int]:
    """Learners enrolled now, in all (``total``) and per mode, from enrollment fact rows."""
    counts: Counter = Counter()
    for days in enrollment.learner_end_states(rows).values():
        if days and days[-1][1]:
            counts["total"] += 1
            counts[days[-1][2]] += 1
    return dict(counts)


def _lms_rows(course_id: str) -> Iterable[enrollment.FactRow]:
    """The LMS's enrollment table and its history as fact rows, through the normalizer as a backfill reads them."""
    from openedx_analytics.lms import history

    for raw in history.iter_enrollment_events([course_id]):
        for record in normalize(raw).records:
            if isinstance(record, EnrollmentChange):
                yield (record.user_id, record.time, record.is_active, record.mode, record.fingerprint())


def verify_against_lms(course_id: str) -> list[Difference]:
    """Compare who is enrolled now, in all and per mode, by the course's facts and by the LMS's tables."""
    facts = current_enrollment(enrollment.load_facts(course_id, conf.analytics_db()))
    lms = current_enrollment(_lms_rows(course_id))
    return compare("LMS enrollment", facts, lms)

