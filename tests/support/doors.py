"""Drive the real doors the way the LMS does: openedx-events signals and the event-tracking tracker.

Shared by the live-pipeline tests (eager Celery) and the real-worker tests: ``run_scenario``
sends every door's events, ``expected`` states its numbers, ``observed`` reads them back and
``assert_scenario_numbers`` compares; ``FakeRequest`` brackets the doors' work like an LMS request.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from eventtracking import tracker
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning import data as ev
from openedx_events.learning import signals

from tests.support.lms import lms_outline

COURSE = "course-v1:Demo+Live+2026"
VIDEO = "0b9e39477cf34507a7a48f74be381fdd"
PROBLEM = "block-v1:Demo+Live+2026+type@problem+block@p1"


class FakeRequest:
    """Brackets code like an LMS request does (request_started ... request_finished): one batch for Celery.

    Django's ``close_old_connections`` is kept off ``request_finished`` meanwhile, so the
    test's database connections stay open.
    """

    def __enter__(self):
        request_finished.disconnect(close_old_connections)
        request_started.send(sender=self.__class__)
        return self

    def __exit__(self, *exc):
        request_finished.send(sender=self.__class__)
        request_finished.connect(close_old_connections)


def now() -> dt.datetime:
    """The current time (UTC), as the doors stamp their events."""
    return dt.datetime.now(dt.timezone.utc)


def user(user_id: int) -> ev.UserData:
    return ev.UserData(id=user_id, is_active=True,
                       pii=ev.UserPersonalData(username=f"learner{user_id}", email=f"l{user_id}@example.com"))


def course(course_id: str = COURSE) -> ev.CourseData:
    return ev.CourseData(course_key=CourseKey.from_string(course_id), display_name="Demo")


def enroll(signal, user_id: int, mode: str, is_active: bool = True, course_id: str = COURSE) -> None:
    signal.send_event(enrollment=ev.CourseEnrollmentData(
        user=user(user_id), course=course(course_id), mode=mode, is_active=is_active, creation_date=now()))


def certificate(signal, user_id: int, mode: str, status: str) -> None:
    signal.send_event(certificate=ev.CertificateData(
        user=user(user_id), course=course(), mode=mode, grade="0.9", download_url="https://x/cert",
        name=f"Learner {user_id}", current_status=status))


def grade(user_id: int, percent: float, passed: bool) -> None:
    signals.PERSISTENT_GRADE_SUMMARY_CHANGED.send_event(grade=ev.PersistentCourseGradeData(
        user_id=user_id, course=course(), course_edited_timestamp=now(), course_version="v1",
        grading_policy_hash="h", percent_grade=percent, letter_grade="B" if passed else "",
        passed_timestamp=now() if passed else None))


def forum_signal(user_id: int) -> None:
    signals.FORUM_THREAD_CREATED.send_event(thread=ev.DiscussionThreadData(
        body="A question about week 1", commentable_id="c1", id="t1", truncated=False, url="https://x/t1",
        user=user(user_id), course_id=CourseKey.from_string(COURSE), anonymous=False, anonymous_to_peers=False,
        category_id="c1", category_name="Week 1", group_id=None, team_id=None, thread_type="question",
        title="Week 1", title_truncated=False))


def emit(name: str, data: dict[str, Any], user_id: int | None, course_id: str | None = COURSE,
         **context: Any) -> None:
    """Emit a tracking event inside the course context the LMS middleware would set."""
    ctx = {"user_id": user_id, "username": f"learner{user_id}", "course_id": course_id or "",
           "org_id": "Demo", "path": "/event", **context}
    with tracker.get_tracker().context("test.request", ctx):
        tracker.emit(name, data)


def problem_check(user_id: int, attempts: int, correct: bool, answer: str) -> None:
    part = "p1_2_1"
    emit("problem_check", {
        "problem_id": PROBLEM, "attempts": attempts, "grade": 1 if correct else 0, "max_grade": 1,
        "success": "correct" if correct else "incorrect",
        "answers": {part: answer}, "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
        "submission": {part: {"question": "Q?", "answer": answer, "correct": correct, "variant": "",
                              "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
    }, user_id, event_source="server", module={"usage_key": PROBLEM, "display_name": "P1"})


def run_scenario() -> None:
    """The scenario whose numbers ``EXPECTED`` states: every door, every tracked kind."""
    enroll(signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
    emit("edx.course.enrollment.activated", {"course_id": COURSE, "user_id": 1, "mode": "audit"}, 1)
    enroll(signals.COURSE_ENROLLMENT_CREATED, 2, "verified")
    enroll(signals.COURSE_ENROLLMENT_CREATED, 3, "audit")
    enroll(signals.COURSE_ENROLLMENT_CHANGED, 3, "verified")
    enroll(signals.COURSE_UNENROLLMENT_COMPLETED, 2, "verified", is_active=False)
    grade(1, 0.85, passed=True)
    grade(3, 0.42, passed=False)
    signals.COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=ev.CoursePassingStatusData(
        is_passing=True, course=course(), user=user(1)))
    certificate(signals.CERTIFICATE_CREATED, 1, "honor", "downloadable")
    certificate(signals.CERTIFICATE_CREATED, 3, "verified", "downloadable")
    certificate(signals.CERTIFICATE_REVOKED, 3, "verified", "notpassing")
    forum_signal(1)
    emit("edx.forum.response.created", {"id": "r1", "discussion": {"id": "t1"}}, 3)
    video = {"id": VIDEO, "code": "html5", "duration": 60}
    emit("play_video", {**video, "currentTime": 0}, 1, event_source="browser")
    emit("pause_video", {**video, "currentTime": 12}, 1, event_source="browser")
    emit("edx.video.played", {**video, "currentTime": 0}, 3, event_source="mobile")
    emit("seek_video", {**video, "old_time": 8, "new_time": 30, "type": "onSlideSeek"}, 3, event_source="browser")
    emit("play_video", {**video, "currentTime": 8}, 3, event_source="browser")
    emit("stop_video", {**video, "currentTime": 40}, 3, event_source="browser")
    problem_check(1, 1, False, "Paris")
    problem_check(1, 2, True, "Lyon")
    problem_check(3, 1, True, "Lyon")
    emit(f"/courses/{COURSE}/courseware/week1/", {}, 4, course_id=None, path=f"/courses/{COURSE}/courseware/week1/")
    emit("edx.ui.lms.link_clicked", {"target_url": "https://example.com"}, None)  # anonymous: counts for nobody


def expected(today: dt.date) -> dict[str, Any]:
    """The contract's numbers for ``run_scenario`` (worked out by hand from the spec)."""
    return {
        "enrollment": {"date": today, "count": 2, "cumulative_count": 3, "enrollments": 3, "unenrollments": 1,
                       "modes": {"audit": {"count": 1, "cumulative_count": 1},
                                 "verified": {"count": 1, "cumulative_count": 2}}},
        "activity": {"any": 3, "attempted_problem": 2, "played_video": 2, "posted_forum": 2},
        "timeline": [(0, 2, 2), (1, 2, 2), (2, 1, 1), (3, 0, 0), (4, 0, 0), (5, 0, 0), (6, 1, 1), (7, 1, 1),
                     (8, 1, 1), (9, 0, 0), (10, 0, 0), (11, 0, 0), (12, 0, 0)],
        "video": {"duration": 60, "segment_length": 5, "users_at_start": 2, "users_at_end": 0, "views": 3},
        "problem": {"users_attempted": 2, "total_submissions": 3, "correct_submissions": 2,
                    "first_attempt_correct": 1, "attempts_mean": 1.5, "part_ids": ["p1_2_1"]},
        "answers": [{"part_id": "p1_2_1", "answer_value": "Lyon", "correct": True, "count": 2, "variant": ""}],
        "grades": {"passing_users": 1, "certificates": {"honor": 1},
                   "buckets": {"40-49": 1, "80-89": 1}},
    }


def observed(course_id: str = COURSE) -> dict[str, Any]:
    """The same figures read back through the public Python API (timestamps left out)."""
    from openedx_analytics import api

    def strip(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("last_updated", "partial")}

    videos = api.get_videos(course_id)
    problems = api.get_problems(course_id)
    grades = api.get_grades(course_id)
    return {
        "enrollment": [strip(r) for r in api.get_enrollment(course_id)],
        "activity": [strip(r) for r in api.get_activity(course_id, granularity="day")],
        "weeks": [strip(r) for r in api.get_activity(course_id)],
        "videos": [strip(r) for r in videos],
        "timeline": [(r["segment"], r["num_users"], r["num_views"])
                     for v in videos for r in api.get_video_timeline(course_id, v["video_id"])],
        "problems": [strip(r) for r in problems],
        "answers": [strip(r) for p in problems for r in api.get_answer_distribution(course_id, p["problem_id"])],
        "grades": strip(grades),
    }


def assert_scenario_numbers(obs: dict, today: dt.date) -> None:
    """The figures ``observed`` read after ``run_scenario`` are the contract's (``expected``)."""
    exp = expected(today)
    assert obs["enrollment"] == [{**exp["enrollment"]}]
    assert obs["activity"] == [{"date": today, **exp["activity"]}]
    assert obs["timeline"] == exp["timeline"]
    (video,) = obs["videos"]
    assert video["video_id"] == f"block-v1:Demo+Live+2026+type@video+block@{VIDEO}"
    assert {k: video[k] for k in exp["video"]} == exp["video"]
    (problem,) = obs["problems"]
    assert {k: problem[k] for k in exp["problem"]} == exp["problem"]
    assert obs["answers"] == exp["answers"]
    grades = obs["grades"]
    assert grades["passing_users"] == exp["grades"]["passing_users"]
    assert grades["certificates"] == exp["grades"]["certificates"]
    assert {b["bucket"]: b["count"] for b in grades["buckets"] if b["count"]} == exp["grades"]["buckets"]


def scenario_outline() -> dict[str, str]:
    """The outline of ``COURSE`` as the LMS holds it: section ``week1`` > subsection ``s1`` > unit ``u1``
    holding the scenario's video and problem; ``week2`` > ``s2`` > ``u2`` holds a problem nobody tried."""
    return lms_outline(COURSE, {
        "week1": {"s1": {"u1": [("video", f"block-v1:Demo+Live+2026+type@video+block@{VIDEO}"),
                                ("problem", PROBLEM)]}},
        "week2": {"s2": {"u2": [("problem", "block-v1:Demo+Live+2026+type@problem+block@p2")]}},
    })
