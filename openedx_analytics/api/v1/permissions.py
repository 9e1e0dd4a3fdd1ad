"""Who may read a course's analytics: global staff, and the course's staff (limited staff included),
instructors and data researchers.

Roles come from the LMS through ``openedx_analytics.lms``; nothing here knows whether it runs inside the
LMS. The order of checks keeps the existence of a course private to the people allowed
to see it: a learner gets 403 whether or not the course exists.
"""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, PermissionDenied

from openedx_analytics import api
from openedx_analytics.api.v1 import params
from openedx_analytics.lms import courses, roles, rollout

#: Course roles that may read the course's analytics.
ROLES: tuple[str, ...] = roles.ANALYTICS_ROLES


def is_global_staff(user: Any) -> bool:
    """Global staff see every course (the LMS's ``is_staff``)."""
    return bool(getattr(user, "is_staff", False) and user.is_active)


def can_view(user: Any, course_id: str) -> bool:
    """Whether ``user`` holds a role that may read ``course_id``'s analytics."""
    if is_global_staff(user):
        return True
    return bool(set(roles.user_course_roles(user, course_id)) & set(ROLES))


def visible_courses(user: Any) -> list[str]:
    """Every course ``user`` may read (sorted, canonical ids), before the rollout gate.

    Global staff may read any course; their list holds the courses that have analytics
    (a site has many courses without any), plus any they hold a role in.
    """
    courses = {params.course_id(str(c)) for c in roles.courses_for_user(user, roles=ROLES)}
    if is_global_staff(user):
        courses.update(api.known_course_ids())
    return sorted(courses)


def course_for(user: Any, raw_course_id: str) -> str:
    """Check ``user`` may read the course named in the URL; return its canonical id.

    400 for a malformed id, 403 without a role, 404 for an unknown course or one whose
    analytics are turned off (rollout gate).
    """
    course = params.course_id(raw_course_id)
    if not can_view(user, course):
        raise PermissionDenied("You do not have access to this course's analytics.")
    if not courses.course_exists(course) or not rollout.is_enabled(course):
        raise NotFound("No analytics for this course.")
    return course
