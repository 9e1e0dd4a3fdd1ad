"""Role rules as the LMS's own: limited staff, library keys, case-sensitive orgs; overrides read in bulk."""
from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import (
    CourseAccessRole,
    CourseOverview,
    WaffleFlagCourseOverrideModel,
    WaffleFlagOrgOverrideModel,
)
from openedx_analytics import access
from openedx_analytics.lms import flags, roles, rollout
from openedx_analytics.models import CourseAnalyticsOverride
from tests.support.api import BASE, COURSE, OTHER, SISTER, clear_caches, client_for

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]
LIBRARY = "library-v1:Org+Lib1"


def _user(name: str):
    return get_user_model().objects.create_user(name, f"{name}@example.com")


def _role(user, role: str, course: str = "", org: str | None = None) -> None:
    key = CourseKey.from_string(course) if course else None
    CourseAccessRole.objects.create(user=user, role=role, course_id=key or "",
                                    org=org if org is not None else (key.org if key else ""))


def _status(user, course: str) -> int:
    clear_caches()
    return client_for(user).get(f"{BASE}courses/{course}/summary/").status_code


def _listed(user) -> list[str]:
    clear_caches()
    response = client_for(user).get(f"{BASE}courses/")
    assert response.status_code == 200, response.content
    return [row["course_id"] for row in response.json()["results"]]


def test_limited_staff_see_analytics_like_staff(courses, analytics_on):
    limited = _user("limited")
    _role(limited, "limited_staff", COURSE)
    assert _status(limited, COURSE) == 200
    assert _status(limited, OTHER) == 403
    assert _listed(limited) == [COURSE]


def test_library_roles_stay_out_of_the_course_list(courses, analytics_on):
    author = _user("author")
    _role(author, "staff", LIBRARY)
    _role(author, "instructor", COURSE)
    assert roles.courses_for_user(author) == [COURSE]
    assert _listed(author) == [COURSE]
    assert roles.user_course_roles(author, LIBRARY) == set()


@pytest.mark.parametrize("row_org, allowed", [("Org", True), ("org", False), ("ORG", False)])
def test_org_wide_roles_compare_the_org_case_sensitively(courses, analytics_on, row_org, allowed):
    """``course-v1:Org+...`` courses: an org-wide role of "org" is not one of "Org" (MySQL would say it is)."""
    manager = _user("manager")
    _role(manager, "staff", org=row_org)
    assert _status(manager, COURSE) == (200 if allowed else 403)
    assert _listed(manager) == ([COURSE, SISTER] if allowed else [])


@pytest.mark.parametrize("row_org", ["Other", "org", ""])
def test_a_course_row_counts_only_with_the_course_org(courses, analytics_on, row_org):
    """As the LMS's RoleCache: a course-level row must carry the course's own org too."""
    odd = _user("odd")
    _role(odd, "staff", COURSE, org=row_org)
    assert _status(odd, COURSE) == 403
    assert _listed(odd) == []


def test_a_course_id_differing_in_case_is_another_course(courses, analytics_on):
    other_case = _user("othercase")
    _role(other_case, "staff", COURSE.replace("Api", "API"))
    assert _status(other_case, COURSE) == 403


# ---------------------------------------------------------------- LMS flag overrides, in bulk


def _lms_course_override(course: str, choice: str, enabled: bool = True) -> None:
    WaffleFlagCourseOverrideModel.objects.create(waffle_flag=rollout.FLAG_NAME, course_id=CourseKey.from_string(course),
                                                 override_choice=choice, enabled=enabled)


def _lms_org_override(org: str, choice: str, enabled: bool = True) -> None:
    WaffleFlagOrgOverrideModel.objects.create(waffle_flag=rollout.FLAG_NAME, org=org, override_choice=choice,
                                              enabled=enabled)


def test_bulk_overrides_follow_the_lms_rules(courses):
    _lms_org_override("Org", "on")
    _lms_course_override(SISTER, "off")
    _lms_course_override(OTHER, "on")
    _lms_course_override(OTHER, "off", enabled=False)      # the newest row, disabled: no override
    WaffleFlagCourseOverrideModel.objects.create(waffle_flag="another.flag", course_id=CourseKey.from_string(COURSE),
                                                 override_choice="off", enabled=True)
    got = flags.course_flag_overrides(rollout.FLAG_NAME, [COURSE, SISTER, OTHER, "not a key"])
    assert got == {COURSE: True, SISTER: False, OTHER: None, "not a key": None}
    assert flags.course_flag_override(rollout.FLAG_NAME, SISTER) is False


def test_lms_overrides_decide_the_course_list(courses):
    staff = get_user_model().objects.create_user("gs", "gs@example.com", is_staff=True)
    _lms_org_override("Org", "on")
    _lms_course_override(SISTER, "off")
    CourseAnalyticsOverride.objects.create(course_id=OTHER, override_choice=CourseAnalyticsOverride.ON, enabled=True)
    from unittest import mock
    with mock.patch("openedx_analytics.api.known_course_ids", return_value=[COURSE, SISTER, OTHER]):
        assert _listed(staff) == [COURSE, OTHER]


MANY = 5000


def test_a_5000_course_staff_user_with_overrides_costs_a_few_queries(django_assert_max_num_queries, analytics_on):
    """The rollout check of the course list reads overrides per chunk of courses, not per course."""
    keys = [CourseKey.from_string(f"course-v1:Big{i % 7}+C{i}+2026") for i in range(MANY)]
    CourseOverview.objects.bulk_create(CourseOverview(id=k, display_name=str(k), org=k.org) for k in keys)
    staff = _user("bigstaff")
    CourseAccessRole.objects.bulk_create(
        CourseAccessRole(user=staff, org=k.org, course_id=k, role="staff") for k in keys)
    WaffleFlagCourseOverrideModel.objects.bulk_create(
        WaffleFlagCourseOverrideModel(waffle_flag=rollout.FLAG_NAME, course_id=k, override_choice="off", enabled=True)
        for k in keys[::3])
    _lms_org_override("Big1", "off")
    for k in keys[1::50]:
        CourseAnalyticsOverride.objects.create(course_id=str(k), override_choice=CourseAnalyticsOverride.OFF,
                                               enabled=True)
    visible = access.readable_courses(staff)
    assert len(visible) == MANY
    with django_assert_max_num_queries(4):
        started = time.perf_counter()
        enabled = rollout.enabled_courses(visible)
        elapsed = time.perf_counter() - started
    expected = {str(k) for i, k in enumerate(keys) if i % 3 and k.org != "Big1" and (i - 1) % 50}
    assert set(enabled) == expected
    assert elapsed < 0.5, f"the rollout check of {MANY} courses took {elapsed:.2f}s"
