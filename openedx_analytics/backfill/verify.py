"""Verify a course: recompute its aggregates from facts in memory and compare them with what is stored.

This is how an operator proves the dashboard right after a backfill or an outage. The
expected figures come from the metric engines' own pure functions, fed with the facts;
nothing is written. Inside the LMS (or with the stub LMS app) the current enrollment
counts are also compared with the LMS's enrollment table.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.metrics import enrollment, grades, problems, video
from openedx_analytics.metrics.activity import COLUMNS, week_start
from openedx_analytics.models import (
    ActivityDay,
    ActivityFact,
    ActivityWeek,
    CertificateFact,
    CourseGrades,
    EnrollmentDay,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    ProblemAnswer,
    ProblemSubmissionFact,
    ProblemSummary,
    VideoEventFact,
    VideoSegment,
    VideoSummary,
)
from openedx_analytics.pipeline.normalizer import _MODE_ALIASES

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


def _compare(area: str, stored: dict[Any, Any], expected: dict[Any, Any]) -> list[Difference]:
    differences = []
    for key in sorted(set(stored) | set(expected), key=str):
        have, want = stored.get(key), expected.get(key)
        if isinstance(have, float) and isinstance(want, float) and abs(have - want) <= FLOAT_TOLERANCE:
            continue
        if have != want:
            differences.append(Difference(area, str(key), have, want))
    return differences


def verify_course(course_id: str) -> list[Difference]:
    """Every difference between the course's stored aggregates and those its facts give."""
    using = conf.analytics_db()
    return [
        *_enrollment(course_id, using),
        *_activity(course_id, using),
        *_videos(course_id, using),
        *_problems(course_id, using),
        *_grades(course_id, using),
    ]


def _enrollment(course_id: str, using: str) -> list[Difference]:
    stored_rows = EnrollmentDay.objects.using(using).filter(course_id=course_id)
    stored = {
        r.date: (r.count, r.cumulative_count, r.enrollments, r.unenrollments, r.modes) for r in stored_rows
    }
    until = max(stored) if stored else timezone.now().date()
    rows = EnrollmentFact.objects.using(using).filter(course_id=course_id).values_list(
        "user_id", "time", "is_active", "mode", "fingerprint"
    )
    expected = {
        f.date: (f.count, f.cumulative_count, f.enrollments, f.unenrollments, f.modes)
        for f in enrollment.enrollment_series(rows.iterator(chunk_size=5000), until)
    }
    return _compare("enrollment", stored, expected)


def _activity(course_id: str, using: str) -> list[Difference]:
    days: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    weeks: dict[dt.date, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    facts = ActivityFact.objects.using(using).filter(course_id=course_id).values_list("day", "kind", "user_id")
    for day, kind, user_id in facts.iterator(chunk_size=5000):
        days[day][kind].add(user_id)
        weeks[week_start(day)][kind].add(user_id)

    def counts(users: dict[str, set[int]]) -> tuple[int, ...]:
        return tuple(len(users.get(kind, ())) for kind in COLUMNS)

    columns = list(COLUMNS.values())
    stored_days = {
        r[0]: tuple(r[1:])
        for r in ActivityDay.objects.using(using).filter(course_id=course_id).values_list("date", *columns)
    }
    stored_weeks = {
        r[0]: tuple(r[1:])
        for r in ActivityWeek.objects.using(using).filter(course_id=course_id).values_list(
            "interval_start", *columns
        )
    }
    return [
        *_compare("activity day", stored_days, {d: counts(u) for d, u in days.items()}),
        *_compare("activity week", stored_weeks, {w: counts(u) for w, u in weeks.items()}),
    ]


def _videos(course_id: str, using: str) -> list[Difference]:
    ratio = float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO"))
    per_video: dict[str, dict[str, Any]] = {}
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id).order_by(
        "video_id", "user_id", *video.REPLAY_ORDER
    )
    current: tuple[str, int] | None = None
    rows: list[tuple] = []

    def close() -> None:
        if current is None:
            return
        segments, viewings, duration = video.viewer_figures(rows)
        state = per_video.setdefault(current[0], {"users": defaultdict(int), "views": defaultdict(int),
                                                  "viewings": 0, "duration": None})
        for segment, views in segments.items():
            state["users"][segment] += 1
            state["views"][segment] += views
        state["viewings"] += viewings
        if duration and (state["duration"] is None or duration > state["duration"]):
            state["duration"] = duration

    for row in facts.values_list("video_id", "user_id", "action", "position", "old_time", "new_time",
                                 "duration").iterator(chunk_size=5000):
        if (row[0], row[1]) != current:
            close()
            current, rows = (row[0], row[1]), []
        rows.append(row[2:])
    close()
    expected_timeline: dict[tuple[str, int], tuple[int, int]] = {}
    expected_summary: dict[tuple[str, str], Any] = {}
    for video_id, state in per_video.items():
        figures = video.video_figures(dict(state["users"]), dict(state["views"]), state["viewings"],
                                      state["duration"], ratio)
        if figures is None:
            continue
        expected_timeline.update({(video_id, s): value for s, value in figures.timeline.items()})
        expected_summary.update({(video_id, name): value for name, value in figures.summary.items()})
    stored_timeline = {
        (v, s): (n, m)
        for v, s, n, m in VideoSegment.objects.using(using).filter(course_id=course_id).values_list(
            "video_id", "segment", "num_users", "num_views"
        )
    }
    fields = ("duration", "duration_inferred", "segment_length", "users_at_start", "users_at_end", "views")
    stored_summary = {
        (row[0], name): value
        for row in VideoSummary.objects.using(using).filter(course_id=course_id).values_list("video_id", *fields)
        for name, value in zip(fields, row[1:], strict=True)
    }
    return [
        *_compare("video segment", stored_timeline, expected_timeline),
        *_compare("video", stored_summary, expected_summary),
    ]


def _problems(course_id: str, using: str) -> list[Difference]:
    by_problem: dict[str, list[tuple]] = defaultdict(list)
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id).values_list(
        "problem_id", "user_id", "attempt", "time", "correct", "answers", "fingerprint"
    )
    for row in facts.iterator(chunk_size=5000):
        by_problem[row[0]].append(row[1:])
    fields = ("part_ids", "users_attempted", "total_submissions", "correct_submissions", "first_attempt_correct",
              "attempts_mean")
    expected_summary: dict[tuple[str, str], Any] = {}
    expected_answers: dict[tuple, int] = {}
    for problem_id, rows in by_problem.items():
        figures = problems.problem_figures(rows)
        if not figures.users_attempted:
            continue
        expected_summary.update({(problem_id, name): getattr(figures, name) for name in fields})
        expected_answers.update({(problem_id, *key): count for key, count in figures.answers.items()})
    stored_summary = {
        (row[0], name): value
        for row in ProblemSummary.objects.using(using).filter(course_id=course_id).values_list(
            "problem_id", *fields
        )
        for name, value in zip(fields, row[1:], strict=True)
    }
    stored_answers = {
        row[:5]: row[5]
        for row in ProblemAnswer.objects.using(using).filter(course_id=course_id).values_list(
            "problem_id", "part_id", "answer_value", "correct", "variant", "count"
        )
    }
    return [
        *_compare("problem", stored_summary, expected_summary),
        *_compare("answer", stored_answers, expected_answers),
    ]


def _grades(course_id: str, using: str) -> list[Difference]:
    def rows(model, *fields):
        return model.objects.using(using).filter(course_id=course_id).values_list(
            "user_id", "time", "fingerprint", *fields
        )

    enrollment_rows = EnrollmentFact.objects.using(using).filter(course_id=course_id).values_list(
        "user_id", "time", "is_active", "mode", "fingerprint"
    )
    has_facts = any(model.objects.using(using).filter(course_id=course_id).exists()
                    for model in (EnrollmentFact, GradeFact, PassingFact, CertificateFact))
    expected = grades.grade_figures(rows(PassingFact, "is_passing"), rows(GradeFact, "percent"),
                                    rows(CertificateFact, "status", "mode"), enrollment_rows) if has_facts else {}
    row = CourseGrades.objects.using(using).filter(course_id=course_id).first()
    stored = {name: getattr(row, name) for name in ("passing_users", "buckets", "certificates")} if row else {}
    return _compare("grades", stored, expected)


def verify_against_lms(course_id: str) -> list[Difference]:
    """Compare the course's current enrollment (latest day) with the LMS's enrollment table, per mode."""
    from openedx_analytics import compat

    lms: dict[str, int] = defaultdict(int)
    for mode, count in compat.current_enrollment_counts(course_id).items():
        lms[_MODE_ALIASES.get(mode, mode)] += count
    latest = EnrollmentDay.objects.using(conf.analytics_db()).filter(course_id=course_id).order_by("-date").first()
    stored: dict[str, int] = {"total": latest.count if latest else 0}
    if latest:
        stored.update({mode: v["count"] for mode, v in latest.modes.items() if v["count"]})
    expected = {"total": sum(lms.values()), **{mode: n for mode, n in lms.items() if n}}
    return _compare("LMS enrollment", stored, expected)
