"""Every number the API serves for some courses, without update times: what two runs must agree on.

``snapshot`` is the backfill tests' view (per course: enrollment, weeks, days, videos and
their timelines, problems and their answers, grades); ``api_snapshot`` adds the course
summary and weekly activity by name. ``assert_matches_log`` holds the API to a ``SampleLog``.
"""
from __future__ import annotations

from typing import Any

from openedx_analytics import api
from tests.support.logs import COURSES, SampleLog


def snapshot(courses=COURSES) -> dict:
    """Every number the API serves for the courses, without timestamps."""
    def clean(rows):
        return [{k: v for k, v in row.items() if k not in ("last_updated", "partial")} for row in rows]

    result = {}
    for course in courses:
        videos = clean(api.get_videos(course))
        problems = clean(api.get_problems(course))
        result[course] = {
            "enrollment": clean(api.get_enrollment(course)),
            "weeks": clean(api.get_activity(course)),
            "days": clean(api.get_activity(course, granularity="day")),
            "videos": videos,
            "timelines": {v["video_id"]: api.get_video_timeline(course, v["video_id"]) for v in videos},
            "problems": problems,
            "answers": {p["problem_id"]: api.get_answer_distribution(course, p["problem_id"]) for p in problems},
            "grades": {k: v for k, v in api.get_grades(course).items() if k != "last_updated"},
        }
    return result


def _without_stamps(value: Any) -> Any:
    """``value`` with every ``last_updated`` and ``partial`` left out, however deep."""
    if isinstance(value, dict):
        return {k: _without_stamps(v) for k, v in value.items() if k not in ("last_updated", "partial")}
    if isinstance(value, list):
        return [_without_stamps(v) for v in value]
    return value


def api_snapshot(course: str) -> dict[str, Any]:
    """Every figure the Python API gives for ``course`` (update times left out)."""
    videos = api.get_videos(course)
    problems = api.get_problems(course)
    return _without_stamps({
        "enrollment": api.get_enrollment(course),
        "activity_day": api.get_activity(course, granularity="day"),
        "activity_week": api.get_activity(course, granularity="week"),
        "videos": videos,
        "timelines": {v["video_id"]: api.get_video_timeline(course, v["video_id"]) for v in videos},
        "problems": problems,
        "answers": {p["problem_id"]: api.get_answer_distribution(course, p["problem_id"]) for p in problems},
        "grades": api.get_grades(course),
        "summary": api.get_course_summary(course),
    })


def assert_matches_log(log: SampleLog, courses=COURSES) -> None:
    """What the API serves for ``courses`` equals what ``log`` states, counted directly."""
    for course in courses:
        enrollment = {row["date"]: row["count"] for row in api.get_enrollment(course)}
        for day, count in log.enrollment_counts(course).items():
            if count or day in enrollment:
                assert enrollment.get(day) == count, (course, day)
        weeks = {row["interval_start"]: {k: row[k] for k in ("any", "played_video", "attempted_problem",
                                                               "posted_forum")}
                 for row in api.get_activity(course)}
        assert weeks == log.weekly_activity(course), course
        for video, segments in log.video_users(course).items():
            timeline = {row["segment"]: row["num_users"] for row in api.get_video_timeline(course, video)}
            assert {s: n for s, n in timeline.items() if n} == segments, (course, video)
        problems = {row["problem_id"]: {k: row[k] for k in ("users_attempted", "total_submissions",
                                                             "correct_submissions")}
                    for row in api.get_problems(course)}
        assert problems == log.problems(course), course
