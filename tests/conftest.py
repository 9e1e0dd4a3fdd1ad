"""Fixtures shared by the test modules of this folder: a course history behind the API, the batches
the doors send, the stand-in LMS's rows. They are asked for by name, never imported.

The live tests' fixtures (real Celery workers, dead brokers) are in ``integration/conftest.py``;
the code behind all of them is in ``tests.support``.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from edx_toggles.toggles.testutils import override_waffle_flag
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics.lms import rollout
from openedx_analytics.lms.courses import clear_known_courses
from openedx_analytics.lms.outline_places import forget_places
from openedx_analytics.worker import tasks
from tests.support import api as api_history
from tests.support.lms import ALPHA, BETA, day, enroll


@pytest.fixture(autouse=True)
def fresh_course_answers() -> Iterator[None]:
    """Every test starts with no cached answer about which courses the LMS knows, nor their outlines
    (their rows roll back)."""
    clear_known_courses()
    forget_places()
    yield
    clear_known_courses()
    forget_places()


@pytest.fixture
def captured_batches() -> Iterator[list[list[dict]]]:
    """Record every batch handed to Celery, and still run it (eager)."""
    batches: list[list[dict]] = []
    original = tasks.process_event_batch.apply_async

    def record(args=None, **kwargs):
        batches.append(args[0])
        return original(args=args, **kwargs)

    with mock.patch.object(tasks.process_event_batch, "apply_async", side_effect=record):
        yield batches


# ---------------------------------------------------------------- a course history behind the API


@pytest.fixture
def clean_caches() -> Iterator[None]:
    """Empty caches before and after the test (modules opt in with ``pytest.mark.usefixtures``)."""
    api_history.clear_caches()
    yield
    api_history.clear_caches()


@pytest.fixture
def analytics_on() -> Iterator[None]:
    """The rollout flag on for everyone."""
    with override_waffle_flag(rollout.ENABLED, active=True):
        yield


@pytest.fixture
def courses(db: None) -> tuple[str, str, str]:
    """The API history's courses in the LMS's course list."""
    for course in (api_history.COURSE, api_history.SISTER, api_history.OTHER):
        key = CourseKey.from_string(course)
        lms.CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    return (api_history.COURSE, api_history.SISTER, api_history.OTHER)


@pytest.fixture
def people(courses: tuple[str, str, str]) -> dict[str, Any]:
    """A user per role name (None for anonymous)."""
    users: dict[str, Any] = {"anonymous": None}
    make = get_user_model().objects.create_user
    users["learner"] = make("learner1", "l1@example.com")
    users["other_staff"] = make("other_staff", "o@example.com")
    users["course_staff"] = make("pat_staff", "pat@example.com")
    users["instructor"] = make("instructor", "i@example.com")
    users["data_researcher"] = make("researcher", "r@example.com")
    users["global_staff"] = make("global", "g@example.com", is_staff=True)
    key, other = CourseKey.from_string(api_history.COURSE), CourseKey.from_string(api_history.OTHER)
    role = lms.CourseAccessRole.objects.create
    role(user=users["other_staff"], org=other.org, course_id=other, role="staff")
    role(user=users["course_staff"], org=key.org, course_id=key, role="staff")
    role(user=users["instructor"], org=key.org, course_id=key, role="instructor")
    role(user=users["data_researcher"], org=key.org, course_id=key, role="data_researcher")
    role(user=users["learner"], org=key.org, course_id=key, role="beta_testers")
    return users


@pytest.fixture
def history_loaded(courses: tuple[str, str, str]) -> None:
    """The two weeks of ``tests.support.api.history`` sent through the live path."""
    result = tasks.process_event_batch.apply(args=[api_history.history(), "live"]).get()
    assert result["rejected"] == {}, result


@pytest.fixture
def old_and_new(courses: tuple[str, str, str], analytics_on: None) -> None:
    """A course, video and problem with ids in the new form, and an old-style course with old-style ids."""
    key = CourseKey.from_string(api_history.OLD_COURSE)
    lms.CourseOverview.objects.create(id=key, display_name=api_history.OLD_COURSE, org=key.org)
    batch = (api_history.course_events(api_history.COURSE, "vid1", api_history.NEW_PROBLEM)
             + api_history.course_events(api_history.OLD_COURSE, "i4x-Org-Old-video-vid2", api_history.OLD_PROBLEM))
    result = tasks.process_event_batch.apply(args=[batch, "live"]).get()
    assert result["rejected"] == {}, result


# ---------------------------------------------------------------- the stand-in LMS's tables


@pytest.fixture
def lms_data() -> list[User]:
    """Alpha: 4 learners (one upgrades, one leaves), grades, a certificate, a problem; Beta: 2 learners."""
    for course in (ALPHA, BETA):
        key = CourseKey.from_string(course)
        lms.CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    users = [User.objects.create(username=f"learner{i}") for i in range(6)]
    for i, user in enumerate(users[:4]):
        enroll(user, ALPHA, "audit", i)
    upgraded = lms.CourseEnrollment.objects.get(user=users[1], course_id=CourseKey.from_string(ALPHA))
    upgraded.mode, upgraded._history_date = "verified", day(5)
    upgraded.save()
    left = lms.CourseEnrollment.objects.get(user=users[2], course_id=CourseKey.from_string(ALPHA))
    left.is_active, left._history_date = False, day(6)
    left.save()
    for user in users[4:]:
        enroll(user, BETA, "honor", 2)
    alpha = CourseKey.from_string(ALPHA)
    lms.PersistentCourseGrade.objects.create(user_id=users[0].id, course_id=alpha, percent_grade=0.93,
                                             passed_timestamp=day(8), modified=day(8))
    lms.PersistentCourseGrade.objects.create(user_id=users[1].id, course_id=alpha, percent_grade=0.41,
                                             modified=day(8))
    lms.GeneratedCertificate.objects.create(user=users[0], course_id=alpha, status="downloadable", mode="audit",
                                            modified_date=day(9))
    part = "p1_2_1"
    for user, correct in ((users[0], True), (users[1], False)):
        lms.StudentModule.objects.create(
            module_type="problem", student=user, course_id=alpha,
            module_state_key=alpha.make_usage_key("problem", "p1"),
            state=json.dumps({"attempts": 2, "student_answers": {part: "choice_1" if correct else "choice_2"},
                              "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}}}),
            grade=1.0 if correct else 0.0, max_grade=1, modified=day(7))
    return users
