"""Who holds which role in the stand-in LMS: what its course list and instructor dashboard ask.

The LMS answers these questions with ``student.roles`` and ``has_access``; the host reads
the same ``CourseAccessRole`` rows (a role in one course, or in every course of an org when
the row names no course) and the user's enrollments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models

#: Roles that open the LMS's instructor dashboard (its ``VIEW_DASHBOARD`` permission, less
#: the forum roles the stub has no table for).
DASHBOARD_ROLES = frozenset({"staff", "instructor", "data_researcher"})


@dataclass
class CourseEntry:
    """One line of the course list: the course, the user's roles in it, and whether they are enrolled."""

    course: models.CourseOverview
    roles: set[str] = field(default_factory=set)
    enrolled: bool = False

    @property
    def course_id(self) -> str:
        """The course id as text (what URLs carry)."""
        return str(self.course.id)


def _course_roles(user: Any) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The user's roles: per course id, and per org (org-wide rows)."""
    per_course: dict[str, set[str]] = {}
    per_org: dict[str, set[str]] = {}
    for course_id, org, role in models.CourseAccessRole.objects.filter(user_id=user.pk).values_list(
            "course_id", "org", "role"):
        if course_id:
            per_course.setdefault(str(course_id), set()).add(role)
        elif org:
            per_org.setdefault(org, set()).add(role)
    return per_course, per_org


def roles_in(user: Any, course_key: CourseKey) -> set[str]:
    """The user's roles in one course: its own rows and its org's; ``global staff`` for site staff."""
    per_course, per_org = _course_roles(user)
    roles = per_course.get(str(course_key), set()) | per_org.get(course_key.org, set())
    if user.is_staff:
        roles = roles | {"global staff"}
    return roles


def may_open_dashboard(user: Any, course_key: CourseKey) -> bool:
    """Whether the LMS would open the instructor dashboard of the course to this user."""
    return user.is_authenticated and (user.is_staff or bool(roles_in(user, course_key) & DASHBOARD_ROLES))


def courses_of(user: Any) -> list[CourseEntry]:
    """The courses the user has anything to do with (all of them for global staff), by name."""
    per_course, per_org = _course_roles(user)
    enrolled = {str(key) for key in models.CourseEnrollment.objects.filter(
        user_id=user.pk, is_active=True).values_list("course_id", flat=True)}
    entries = []
    for course in models.CourseOverview.objects.all():
        course_id = str(course.id)
        roles = per_course.get(course_id, set()) | per_org.get(course.org, set())
        if user.is_staff:
            roles = roles | {"global staff"}
        if roles or course_id in enrolled:
            entries.append(CourseEntry(course=course, roles=roles, enrolled=course_id in enrolled))
    return sorted(entries, key=lambda entry: (entry.course.display_name or entry.course_id).lower())
