"""A course history for the REST API and page tests: people with every role, events through the pipeline.

The history is sent as raw tracking and signal events through ``tasks.process_event_batch``
(eager Celery: normalize, write facts, recompute), the path live events take. The fixtures
that load it (``courses``, ``people``, ``history_loaded``, ``old_and_new``...) are in
``tests/conftest.py``.
"""
from __future__ import annotations

from typing import Any

from django.core.cache import cache
from edx_django_utils.cache import RequestCache, TieredCache
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_asymmetric_jwt_token,
    generate_latest_version_payload,
)
from rest_framework.test import APIClient

COURSE = "course-v1:Org+Api+2026"
SISTER = "course-v1:Org+Two+2026"  # same org as COURSE
OTHER = "course-v1:Other+X+2026"
VIDEO_BLOCK = "vid1"
PROBLEM = "block-v1:Org+Api+2026+type@problem+block@p1"
BASE = "/api/analytics/v1/"

ROLE_NAMES = ("anonymous", "learner", "other_staff", "course_staff", "instructor", "data_researcher", "global_staff")
ALLOWED = {"course_staff", "instructor", "data_researcher", "global_staff"}
#: Personal data the history carries somewhere (usernames, emails); no response may contain it.
SECRETS = ("learner1", "l1@example.com", "learner2", "l2@example.com", "pat_staff", "pat@example.com")


def clear_caches() -> None:
    """Empty every cache the API and the page use (Django's, the request cache, the tiered cache)."""
    cache.clear()
    RequestCache.clear_all_namespaces()
    TieredCache.dangerous_clear_all_tiers()


def client_for(user: Any, jwt: bool = False) -> APIClient:
    """A client logged in with a session (or carrying a JWT signed as the LMS signs them); anonymous for None."""
    client = APIClient(enforce_csrf_checks=True)
    if user is not None:
        if jwt:
            token = generate_asymmetric_jwt_token(generate_latest_version_payload(user))
            client.credentials(HTTP_AUTHORIZATION=f"JWT {token}")
        else:
            client.force_login(user)
    return client


def at(day: str, clock: str = "10:00:00") -> str:
    """An ISO timestamp (UTC) of ``day`` at ``clock``."""
    return f"{day}T{clock}+00:00"


def tracking_event(name: str, when: str, data: dict[str, Any], user_id: int | None, course: str = COURSE,
                   **context: Any) -> dict[str, Any]:
    """A tracking event as event-tracking hands it over in process."""
    return {"name": name, "timestamp": when, "data": data,
            "context": {"course_id": course, "user_id": user_id, "username": f"learner{user_id}",
                        "org_id": "Org", **context}}


def signal_event(kind: str, when: str, user_id: int, **data: Any) -> dict[str, Any]:
    """An openedx-events signal of ``COURSE`` as the signal door forwards it."""
    return {"name": f"org.openedx.learning.{kind}.v1", "time": when,
            "data": {"course_id": COURSE, "user_id": user_id, **data},
            "context": {"course_id": COURSE, "user_id": user_id}, "event_source": "signal"}


def enroll_event(name: str, day: str, user_id: int, mode: str) -> dict[str, Any]:
    """An ``edx.course.enrollment.<name>`` event of ``COURSE``."""
    return tracking_event(f"edx.course.enrollment.{name}", at(day),
                          {"course_id": COURSE, "user_id": user_id, "mode": mode}, user_id)


def problem_event(day: str, user_id: int, attempts: int, answer: str, correct: bool) -> dict[str, Any]:
    """A server ``problem_check`` of ``PROBLEM`` with one answered part."""
    part = "p1_2_1"
    return tracking_event("problem_check", at(day, "11:00:00"), {
        "problem_id": PROBLEM, "attempts": attempts, "grade": int(correct), "max_grade": 1,
        "success": "correct" if correct else "incorrect", "answers": {part: answer},
        "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
        "submission": {part: {"question": "Capital?", "answer": answer, "correct": correct, "variant": "",
                              "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
    }, user_id, event_source="server", module={"usage_key": PROBLEM, "display_name": "P1"})


def video_event(name: str, day: str, clock: str, user_id: int, **data: Any) -> dict[str, Any]:
    """A browser video event of ``VIDEO_BLOCK``."""
    return tracking_event(name, at(day, clock), {"id": VIDEO_BLOCK, "code": "html5", "duration": 60, **data},
                          user_id, event_source="browser")


def history() -> list[dict[str, Any]]:
    """Two weeks of a small course (numbers worked out in ``EXPECTED``)."""
    return [
        enroll_event("activated", "2026-01-05", 1, "audit"),
        enroll_event("activated", "2026-01-05", 2, "verified"),
        enroll_event("activated", "2026-01-05", 3, "audit"),
        enroll_event("mode_changed", "2026-01-06", 3, "verified"),
        enroll_event("deactivated", "2026-01-13", 2, "verified"),
        enroll_event("activated", "2026-01-13", 4, "executive-education"),
        video_event("play_video", "2026-01-05", "12:00:00", 1, currentTime=0),
        video_event("pause_video", "2026-01-05", "12:00:12", 1, currentTime=12),
        problem_event("2026-01-05", 2, 1, "Paris", True),
        problem_event("2026-01-13", 1, 1, "=HYPERLINK(\"x\")", False),
        problem_event("2026-01-13", 1, 2, "Paris", True),
        tracking_event("edx.forum.thread.created", at("2026-01-13", "09:00:00"), {"id": "t1", "title": "Hi"}, 3),
        signal_event("course.persistent_grade_summary.changed", at("2026-01-14"), 1, percent_grade=0.85,
                     passed_timestamp=at("2026-01-14")),
        signal_event("course.persistent_grade_summary.changed", at("2026-01-14"), 3, percent_grade=0.42,
                     passed_timestamp=None),
        signal_event("certificate.changed", at("2026-01-15"), 1, mode="honor", current_status="downloadable"),
    ]


EXPECTED = {
    "2026-01-05": {"count": 3, "cumulative_count": 3, "audit": 2, "verified": 1, "executive-education": 0,
                   "enrollments": 3, "unenrollments": 0},
    "2026-01-06": {"count": 3, "cumulative_count": 3, "audit": 1, "verified": 2, "enrollments": 0},
    "2026-01-13": {"count": 3, "cumulative_count": 4, "audit": 1, "verified": 1, "executive-education": 1,
                   "enrollments": 1, "unenrollments": 1},
    "weeks": {"2026-01-05": {"any": 2, "attempted_problem": 1, "played_video": 1, "posted_forum": 0},
              "2026-01-12": {"any": 2, "attempted_problem": 1, "played_video": 0, "posted_forum": 1}},
}


def body(response: Any) -> bytes:
    """The whole body of a response, streamed (a long CSV) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def endpoints() -> dict[str, str]:
    """Every endpoint of one course (and the list), by name."""
    course = f"{BASE}courses/{COURSE}/"
    video = f"block-v1:Org+Api+2026+type@video+block@{VIDEO_BLOCK}"
    return {
        "courses": f"{BASE}courses/",
        "summary": f"{course}summary/",
        "enrollment": f"{course}enrollment/",
        "activity": f"{course}activity/",
        "videos": f"{course}videos/",
        "timeline": f"{course}videos/{video}/timeline/",
        "problems": f"{course}problems/",
        "answers": f"{course}problems/{PROBLEM}/answers/",
        "grades": f"{course}grades/",
        "learners": f"{course}learners/",
    }


# ---------------------------------------------------------------- ids in the new form and the old one

OLD_COURSE = "Org/Old/2014"
NEW_PROBLEM = "block-v1:Org+Api+2026+type@problem+block@p1"
OLD_PROBLEM = "i4x://Org/Old/problem/p2"
#: What each course's lists must hold once ``old_and_new`` is loaded, and so what a walk must open.
EXPECTED_VIDEOS = {COURSE: ["block-v1:Org+Api+2026+type@video+block@vid1"], OLD_COURSE: ["i4x://Org/Old/video/vid2"]}
EXPECTED_PROBLEMS = {COURSE: [NEW_PROBLEM], OLD_COURSE: [OLD_PROBLEM]}


def course_events(course: str, video: str, problem: str) -> list[dict[str, Any]]:
    """Learner 7 in ``course``: enrolls, watches ``video`` for 10 s, answers ``problem`` right."""
    when = "2026-01-05T10:00:00+00:00"

    def event(name: str, clock: str, data: dict[str, Any], **context: Any) -> dict[str, Any]:
        return tracking_event(name, when.replace("10:00:00", clock), data, 7, course=course, **context)

    part = "p_2_1"
    return [
        event("edx.course.enrollment.activated", "10:00:00", {"course_id": course, "user_id": 7, "mode": "audit"},
              event_source="server"),
        event("play_video", "10:01:00", {"id": video, "code": "html5", "duration": 30, "currentTime": 0},
              event_source="browser"),
        event("pause_video", "10:01:10", {"id": video, "code": "html5", "duration": 30, "currentTime": 10},
              event_source="browser"),
        event("problem_check", "10:02:00", {
            "problem_id": problem, "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
            "answers": {part: "A"}, "correct_map": {part: {"correctness": "correct"}},
            "submission": {part: {"question": "Q", "answer": "A", "correct": True, "variant": "",
                                  "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
        }, event_source="server", module={"usage_key": problem, "display_name": "P"}),
    ]
