"""Fixtures and a course history for the REST API tests: people with every role, events through the pipeline.

The history is sent as raw tracking and signal events through ``tasks.process_event_batch``
(eager Celery: normalize, write facts, recompute), the path live events take.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from edx_django_utils.cache import RequestCache, TieredCache
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_asymmetric_jwt_token,
    generate_latest_version_payload,
)
from edx_toggles.toggles.testutils import override_waffle_flag
from opaque_keys.edx.keys import CourseKey
from rest_framework.test import APIClient

from lms_host.stub.models import CourseAccessRole, CourseOverview
from openedx_analytics.lms import rollout
from openedx_analytics.worker import tasks

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
    cache.clear()
    RequestCache.clear_all_namespaces()
    TieredCache.dangerous_clear_all_tiers()


@pytest.fixture(autouse=True)
def _clean_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def analytics_on():
    """The rollout flag on for everyone."""
    with override_waffle_flag(rollout.ENABLED, active=True):
        yield


@pytest.fixture
def courses(db):
    for course in (COURSE, SISTER, OTHER):
        key = CourseKey.from_string(course)
        CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    return (COURSE, SISTER, OTHER)


@pytest.fixture
def people(courses) -> dict[str, Any]:
    """A user per role name (None for anonymous)."""
    users: dict[str, Any] = {"anonymous": None}
    make = get_user_model().objects.create_user
    users["learner"] = make("learner1", "l1@example.com")
    users["other_staff"] = make("other_staff", "o@example.com")
    users["course_staff"] = make("pat_staff", "pat@example.com")
    users["instructor"] = make("instructor", "i@example.com")
    users["data_researcher"] = make("researcher", "r@example.com")
    users["global_staff"] = make("global", "g@example.com", is_staff=True)
    key, other = CourseKey.from_string(COURSE), CourseKey.from_string(OTHER)
    CourseAccessRole.objects.create(user=users["other_staff"], org=other.org, course_id=other, role="staff")
    CourseAccessRole.objects.create(user=users["course_staff"], org=key.org, course_id=key, role="staff")
    CourseAccessRole.objects.create(user=users["instructor"], org=key.org, course_id=key, role="instructor")
    CourseAccessRole.objects.create(user=users["data_researcher"], org=key.org, course_id=key, role="data_researcher")
    CourseAccessRole.objects.create(user=users["learner"], org=key.org, course_id=key, role="beta_testers")
    return users


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


def _at(day: str, clock: str = "10:00:00") -> str:
    return f"{day}T{clock}+00:00"


def _tracking(name: str, when: str, data: dict[str, Any], user_id: int | None, course: str = COURSE,
              **context: Any) -> dict[str, Any]:
    return {"name": name, "timestamp": when, "data": data,
            "context": {"course_id": course, "user_id": user_id, "username": f"learner{user_id}",
                        "org_id": "Org", **context}}


def _signal(kind: str, when: str, user_id: int, **data: Any) -> dict[str, Any]:
    return {"name": f"org.openedx.learning.{kind}.v1", "time": when,
            "data": {"course_id": COURSE, "user_id": user_id, **data},
            "context": {"course_id": COURSE, "user_id": user_id}, "event_source": "signal"}


def _enroll(name: str, day: str, user_id: int, mode: str) -> dict[str, Any]:
    return _tracking(f"edx.course.enrollment.{name}", _at(day),
                     {"course_id": COURSE, "user_id": user_id, "mode": mode}, user_id)


def _problem(day: str, user_id: int, attempts: int, answer: str, correct: bool) -> dict[str, Any]:
    part = "p1_2_1"
    return _tracking("problem_check", _at(day, "11:00:00"), {
        "problem_id": PROBLEM, "attempts": attempts, "grade": int(correct), "max_grade": 1,
        "success": "correct" if correct else "incorrect", "answers": {part: answer},
        "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
        "submission": {part: {"question": "Capital?", "answer": answer, "correct": correct, "variant": "",
                              "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
    }, user_id, event_source="server", module={"usage_key": PROBLEM, "display_name": "P1"})


def _video(name: str, day: str, clock: str, user_id: int, **data: Any) -> dict[str, Any]:
    return _tracking(name, _at(day, clock), {"id": VIDEO_BLOCK, "code": "html5", "duration": 60, **data},
                     user_id, event_source="browser")


def history() -> list[dict[str, Any]]:
    """Two weeks of a small course (numbers worked out in ``EXPECTED``)."""
    return [
        _enroll("activated", "2026-01-05", 1, "audit"),
        _enroll("activated", "2026-01-05", 2, "verified"),
        _enroll("activated", "2026-01-05", 3, "audit"),
        _enroll("mode_changed", "2026-01-06", 3, "verified"),
        _enroll("deactivated", "2026-01-13", 2, "verified"),
        _enroll("activated", "2026-01-13", 4, "executive-education"),
        _video("play_video", "2026-01-05", "12:00:00", 1, currentTime=0),
        _video("pause_video", "2026-01-05", "12:00:12", 1, currentTime=12),
        _problem("2026-01-05", 2, 1, "Paris", True),
        _problem("2026-01-13", 1, 1, "=HYPERLINK(\"x\")", False),
        _problem("2026-01-13", 1, 2, "Paris", True),
        _tracking("edx.forum.thread.created", _at("2026-01-13", "09:00:00"), {"id": "t1", "title": "Hi"}, 3),
        _signal("course.persistent_grade_summary.changed", _at("2026-01-14"), 1, percent_grade=0.85,
                passed_timestamp=_at("2026-01-14")),
        _signal("course.persistent_grade_summary.changed", _at("2026-01-14"), 3, percent_grade=0.42,
                passed_timestamp=None),
        _signal("certificate.changed", _at("2026-01-15"), 1, mode="honor", current_status="downloadable"),
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


@pytest.fixture
def history_loaded(courses) -> None:
    result = tasks.process_event_batch.apply(args=[history(), "live"]).get()
    assert result["rejected"] == {}, result


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
    }


def day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)
