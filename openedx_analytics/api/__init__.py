"""Public Python API of openedx-analytics: read a course's aggregates.

The REST API and the instructor-dashboard tab build on these functions only. Every
function takes a course id (string or CourseKey) and optional ``start``/``end`` dates
(``start`` inclusive, ``end`` exclusive) and returns plain dicts whose keys are the
field names of the metric contract. Nothing here writes.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Max, QuerySet, Sum

from openedx_analytics import conf
from openedx_analytics.api.content import get_engagement_by_content
from openedx_analytics.metrics import dated_blocks
from openedx_analytics.metrics.activity import week_start
from openedx_analytics.metrics.enrollment import WEEK
from openedx_analytics.metrics.store import chunks
from openedx_analytics.metrics.video_replay import end_segment
from openedx_analytics.models import (
    ActivityDay,
    ActivityWeek,
    CourseGrades,
    EnrollmentDay,
    EnrollmentSummary,
    ProblemAnswer,
    ProblemSummary,
    VideoSegment,
    VideoSummary,
)
from openedx_analytics.pipeline.envelope import parse_course_id

__all__ = [
    "ANSWER_CHUNK_ROWS",
    "ANSWER_FIELDS",
    "answer_rows",
    "enrolled_on",
    "finished_segment",
    "get_activity",
    "get_answer_distribution",
    "get_answer_parts",
    "get_course_summaries",
    "get_course_summary",
    "get_engagement_by_content",
    "get_enrollment",
    "get_grades",
    "get_problem",
    "get_problems",
    "get_video",
    "get_video_timeline",
    "get_videos",
    "iter_answer_distribution",
    "known_course_ids",
    "period_last_day",
]


#: Courses read per query by ``get_course_summaries`` (an ``IN`` list MariaDB keeps as index ranges).
SUMMARY_CHUNK = 900


def _course(course_id: Any) -> str:
    return parse_course_id(str(course_id))


def _between(queryset: QuerySet, field: str, start: dt.date | None, end: dt.date | None) -> QuerySet:
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def _db() -> str:
    return conf.analytics_db()


def get_enrollment(course_id: Any, start: dt.date | None = None, end: dt.date | None = None) -> list[dict[str, Any]]:
    """Daily enrollment rows: date, count, cumulative_count, enrollments, unenrollments, modes, last_updated."""
    rows = _between(EnrollmentDay.objects.using(_db()).filter(course_id=_course(course_id)), "date", start, end)
    today = dt.datetime.now(dt.timezone.utc).date()
    return [
        {
            "date": row.date,
            "count": row.count,
            "cumulative_count": row.cumulative_count,
            "enrollments": row.enrollments,
            "unenrollments": row.unenrollments,
            "modes": row.modes,
            "partial": row.date >= today,
            "last_updated": row.last_updated,
        }
        for row in rows.order_by("date")
    ]


def enrolled_on(course_id: Any, days: Iterable[dt.date]) -> dict[dt.date, int]:
    """Learners enrolled at the end of each of ``days``: the divisor of a period's share of enrollment.

    A share of a past week divides by the learners enrolled then (the period's last day),
    not by today's enrollment. A day without its own row carries the latest earlier one
    forward (days without changes are the day before's; today's may not be stored yet);
    a day before the course's first enrollment has 0, which the callers show as no share.
    One query, whatever the number of days.
    """
    wanted = sorted(set(days))
    if not wanted:
        return {}
    rows = list(EnrollmentDay.objects.using(_db()).filter(course_id=_course(course_id), date__lte=wanted[-1])
                .order_by("date").values_list("date", "count"))
    dates = [date for date, _count in rows]
    out = {}
    for day in wanted:
        at = bisect_right(dates, day)
        out[day] = rows[at - 1][1] if at else 0
    return out


def period_last_day(row: dict[str, Any]) -> dt.date:
    """The last day of an activity row's period: the Sunday of a week (``interval_end`` - 1), or the day itself."""
    if "interval_end" in row:
        return row["interval_end"] - dt.timedelta(days=1)
    return row["date"]


def get_activity(
    course_id: Any, start: dt.date | None = None, end: dt.date | None = None, granularity: str = "week"
) -> list[dict[str, Any]]:
    """Engagement rows, weekly (``interval_start``/``interval_end``) or daily (``date``)."""
    course = _course(course_id)
    today = dt.datetime.now(dt.timezone.utc).date()
    columns = ("any", "attempted_problem", "played_video", "posted_forum")
    if granularity == "day":
        rows = _between(ActivityDay.objects.using(_db()).filter(course_id=course), "date", start, end)
        return [
            {"date": r.date, **{c: getattr(r, c) for c in columns}, "partial": r.date >= today,
             "last_updated": r.last_updated}
            for r in rows.order_by("date")
        ]
    if granularity != "week":
        raise ValueError(f"granularity must be 'day' or 'week', not {granularity!r}")
    weeks = ActivityWeek.objects.using(_db()).filter(course_id=course)
    weeks = _between(weeks, "interval_start", week_start(start) if start else None, end)
    return [
        {
            "interval_start": r.interval_start,
            "interval_end": r.interval_start + dt.timedelta(days=7),
            **{c: getattr(r, c) for c in columns},
            "partial": r.interval_start + dt.timedelta(days=7) > today,
            "last_updated": r.last_updated,
        }
        for r in weeks.order_by("interval_start")
    ]


def get_videos(course_id: Any, start: dt.date | None = None, end: dt.date | None = None) -> list[dict[str, Any]]:
    """Per-video rows: video_id, duration, segment_length, users_at_start, users_at_end, views.

    Without dates, the stored figures of the course's whole history; with ``start`` and/or
    ``end``, those of the viewings in the range, computed now (``metrics.dated_blocks``;
    ``last_updated`` is then the time they were computed).
    """
    if start is not None or end is not None:
        now = dt.datetime.now(dt.timezone.utc)
        return [{"video_id": video_id, **summary, "last_updated": now} for video_id, summary in
                dated_blocks.video_summaries(_course(course_id), start, end, _db()).items()]
    rows = VideoSummary.objects.using(_db()).filter(course_id=_course(course_id)).order_by("video_id")
    return [_video_row(r) for r in rows]


def _video_row(r: VideoSummary) -> dict[str, Any]:
    return {
        "video_id": r.video_id, "duration": r.duration, "duration_inferred": r.duration_inferred,
        "segment_length": r.segment_length, "users_at_start": r.users_at_start,
        "users_at_end": r.users_at_end, "views": r.views, "last_updated": r.last_updated,
    }


def finished_segment(video: dict[str, Any]) -> int:
    """The timeline segment whose viewers a video's ``users_at_end`` ("Finished") counts.

    The segment of max(duration - 30 s, 0.95 x duration), Insights' rule: pages mark it so
    that "Finished" can be read against the timeline it is taken from.
    """
    return end_segment(video["duration"])


def get_video(course_id: Any, video_id: str) -> dict[str, Any] | None:
    """One video's row of ``get_videos`` (None when the video has no figures yet)."""
    row = VideoSummary.objects.using(_db()).filter(course_id=_course(course_id), video_id=video_id).first()
    return None if row is None else _video_row(row)


def get_video_timeline(course_id: Any, video_id: str) -> list[dict[str, Any]]:
    """Per-segment rows of one video: segment, num_users, num_views."""
    rows = VideoSegment.objects.using(_db()).filter(course_id=_course(course_id), video_id=video_id)
    return [
        {"segment": r.segment, "num_users": r.num_users, "num_views": r.num_views}
        for r in rows.order_by("segment")
    ]


def get_problems(course_id: Any, start: dt.date | None = None, end: dt.date | None = None) -> list[dict[str, Any]]:
    """Per-problem rows: problem_id, part_ids, users_attempted, submissions and correctness.

    Without dates, the stored figures of the course's whole history; with ``start`` and/or
    ``end``, those of the submissions made in the range (each learner's last one in it
    counts), computed now (``metrics.dated_blocks``; ``last_updated`` is then that time).
    """
    if start is not None or end is not None:
        now = dt.datetime.now(dt.timezone.utc)
        return [{"problem_id": problem_id, **summary, "last_updated": now} for problem_id, summary in
                dated_blocks.problem_summaries(_course(course_id), start, end, _db()).items()]
    rows = ProblemSummary.objects.using(_db()).filter(course_id=_course(course_id)).order_by("problem_id")
    return [_problem_row(r) for r in rows]


def _problem_row(r: ProblemSummary) -> dict[str, Any]:
    return {
        "problem_id": r.problem_id, "part_ids": r.part_ids, "users_attempted": r.users_attempted,
        "total_submissions": r.total_submissions, "correct_submissions": r.correct_submissions,
        "first_attempt_correct": r.first_attempt_correct, "attempts_mean": r.attempts_mean,
        "last_updated": r.last_updated,
    }


def get_problem(course_id: Any, problem_id: str) -> dict[str, Any] | None:
    """One problem's row of ``get_problems`` (None when the problem has no figures yet)."""
    row = ProblemSummary.objects.using(_db()).filter(course_id=_course(course_id), problem_id=problem_id).first()
    return None if row is None else _problem_row(row)


#: The fields of an answer row, in the order the REST API and its CSV give them.
ANSWER_FIELDS = ("part_id", "answer_value", "correct", "count", "variant")
#: Parts first, then the most given answers; ``pk`` last so that equal rows keep one order across pages.
ANSWER_ORDER = ("part_id", "-count", "answer_value", "variant", "pk")
#: Rows the driver hands over at a time when every answer of a problem is read (the CSV).
ANSWER_CHUNK_ROWS = 2000


def answer_rows(course_id: Any, problem_id: str, part_id: str | None = None) -> QuerySet:
    """The answer rows of one problem (or of one part), ordered, as a lazy query of dicts.

    A problem can hold tens of thousands of distinct answers (free text), so callers slice
    this query (a page, the top answers) and the database returns only that slice.
    """
    rows = ProblemAnswer.objects.using(_db()).filter(course_id=_course(course_id), problem_id=problem_id)
    if part_id is not None:
        rows = rows.filter(part_id=part_id)
    return rows.order_by(*ANSWER_ORDER).values(*ANSWER_FIELDS)


def get_answer_parts(course_id: Any, problem_id: str) -> list[dict[str, Any]]:
    """Each answered part of a problem: part_id, answers (distinct rows) and learners (their counts summed).

    What a page needs to summarize the answers it does not list, in one query.
    """
    rows = (ProblemAnswer.objects.using(_db()).filter(course_id=_course(course_id), problem_id=problem_id)
            .values("part_id").annotate(answers=Count("pk"), learners=Sum("count")).order_by("part_id"))
    return [{"part_id": r["part_id"], "answers": r["answers"], "learners": r["learners"] or 0} for r in rows]


def iter_answer_distribution(course_id: Any, problem_id: str,
                             chunk_size: int = ANSWER_CHUNK_ROWS) -> Iterator[dict[str, Any]]:
    """Every answer row of one problem, in ``get_answer_distribution`` order, fetched ``chunk_size`` at a time.

    One query read through ``QuerySet.iterator``: Python holds one chunk of rows, never the
    whole distribution (a streamed CSV of 20,000 answers stays a few kilobytes of Python
    objects). MySQL's client library keeps the raw result set until it is read, as with
    any query there; Python objects are still made one chunk at a time.
    """
    yield from answer_rows(course_id, problem_id).iterator(chunk_size=chunk_size)


def get_answer_distribution(course_id: Any, problem_id: str) -> list[dict[str, Any]]:
    """Answer rows of one problem: part_id, answer_value, correct, count, variant (every row, as a list).

    For a problem with many answers, page ``answer_rows`` or stream ``iter_answer_distribution``.
    """
    return list(iter_answer_distribution(course_id, problem_id))


def get_grades(course_id: Any) -> dict[str, Any]:
    """Grade buckets, enrolled learners not graded yet, passing learners and certificates by mode.

    ``buckets`` counts enrolled learners with a grade; ``not_graded`` the enrolled learners the
    LMS has not graded yet (in no bucket); ``passing_users`` every learner ever enrolled whose
    status is passing, those who left included. Zeros when nothing is known.
    """
    row = CourseGrades.objects.using(_db()).filter(course_id=_course(course_id)).first()
    if row is None:
        return {"buckets": [], "not_graded": 0, "passing_users": 0, "certificates": {}, "last_updated": None}
    return {"buckets": row.buckets, "not_graded": row.not_graded, "passing_users": row.passing_users,
            "certificates": row.certificates, "last_updated": row.last_updated}


def get_course_summaries(course_ids: Iterable[Any]) -> list[dict[str, Any]]:
    """Summary figures of many courses in a fixed number of queries per ``SUMMARY_CHUNK`` courses (for course lists).

    The enrollment figures come from each course's ``EnrollmentSummary`` row (one query per
    slice), which the enrollment engine recomputes whenever it writes the course's days. A
    course with stored days but no summary row (days written by something other than the
    engine) is read the long way, from its latest day and the day a week before. The
    courses are read ``SUMMARY_CHUNK`` at a time: a short ``IN`` list is a few index
    ranges, where MariaDB turns a list of thousands of ids into a subquery and reads a site
    of 5,000 courses in seconds.
    """
    courses = sorted({_course(c) for c in course_ids})
    using = _db()
    this_week = week_start(dt.datetime.now(dt.timezone.utc).date())
    enrolled: dict[str, Any] = {}
    grades: dict[str, CourseGrades] = {}
    last_week: dict[str, ActivityWeek] = {}
    for chunk in chunks(courses, SUMMARY_CHUNK):
        ids = list(chunk)
        found = {r.course_id: r for r in EnrollmentSummary.objects.using(using).filter(course_id__in=ids)}
        enrolled.update(found)
        missing = [c for c in ids if c not in found]
        if missing:
            enrolled.update(_summaries_from_days(missing, using))
        grades.update((r.course_id, r) for r in CourseGrades.objects.using(using).filter(course_id__in=ids))
        last_week.update(
            (r.course_id, r) for r in ActivityWeek.objects.using(using).filter(
                course_id__in=ids, interval_start=this_week - dt.timedelta(days=7))
        )
    summaries = []
    for course in courses:
        current = enrolled.get(course)
        grade = grades.get(course)
        activity = last_week.get(course)
        stamps = [x.last_updated for x in (current, grade, activity) if x is not None]
        summaries.append(
            {
                "course_id": course,
                "count": current.count if current else 0,
                "cumulative_count": current.cumulative_count if current else 0,
                "count_change_7_days": (current.count - current.count_week_before) if current else 0,
                "enrollment_modes": current.modes if current else {},
                "passing_users": grade.passing_users if grade else 0,
                "certificates": sum(grade.certificates.values()) if grade else 0,
                "active_last_week": activity.any if activity else 0,
                "last_updated": max(stamps) if stamps else None,
            }
        )
    return summaries


def _summaries_from_days(course_ids: list[str], using: str) -> dict[str, EnrollmentSummary]:
    """Unsaved ``EnrollmentSummary`` rows of ``course_ids`` (at most ``SUMMARY_CHUNK``) from their stored days:
    the latest day and the day a week before (what ``metrics.enrollment.write_summary`` stores)."""
    latest = dict(EnrollmentDay.objects.using(using).filter(course_id__in=course_ids)
                  .values_list("course_id").annotate(last=Max("date")).order_by())
    if not latest:
        return {}
    wanted = set(latest.items()) | {(c, d - WEEK) for c, d in latest.items()}
    days = {
        (r.course_id, r.date): r
        for r in EnrollmentDay.objects.using(using).filter(course_id__in=list(latest),
                                                           date__in={d for _c, d in wanted})
        if (r.course_id, r.date) in wanted
    }
    summaries = {}
    for course, last_day in latest.items():
        current = days.get((course, last_day))
        if current is None:
            continue
        week_ago = days.get((course, last_day - WEEK))
        summaries[course] = EnrollmentSummary(
            course_id=course, date=last_day, count=current.count, cumulative_count=current.cumulative_count,
            count_week_before=week_ago.count if week_ago else 0, modes=current.modes,
            last_updated=current.last_updated)
    return summaries


def get_course_summary(course_id: Any) -> dict[str, Any]:
    """Summary figures of one course (see ``get_course_summaries``)."""
    return get_course_summaries([course_id])[0]


def known_course_ids() -> list[str]:
    """Every course that has enrollment aggregates."""
    return list(
        EnrollmentDay.objects.using(_db()).values_list("course_id", flat=True).distinct().order_by("course_id")
    )
