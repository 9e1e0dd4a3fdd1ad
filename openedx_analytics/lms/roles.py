"""Course access roles: which analytics roles a user holds in a course, and which courses they may read."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.db.models import CharField, Q
from django.db.models.functions import Cast
from opaque_keys import InvalidKeyError
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.locator import CourseLocator, LibraryLocator

from openedx_analytics.lms.host import as_course_key, lms_models

#: The course roles that may read a course's analytics. ``limited_staff`` is course staff to the
#: LMS (``CourseLimitedStaffRole``'s base role is ``staff``): it sees analytics like staff.
ANALYTICS_ROLES = ("staff", "limited_staff", "instructor", "data_researcher")


def _can_hold_roles(user: Any) -> bool:
    # As the LMS's RoleBase.has_user: anonymous and deactivated users hold no role.
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


@lru_cache(maxsize=65536)
def course_org(course_id: str) -> str:
    """The org of a course id's text ("" when it is not a course run key).

    Matched with opaque-keys' own pattern, without building a key object: a course list of
    thousands would otherwise spend most of its time constructing keys. Library keys
    (``library-v1:``), which share the LMS's role table, are not courses: "". Remembered: a
    site has a bounded number of courses, and each list asks for each of them several times.
    """
    namespace, colon, rest = course_id.partition(":")
    try:
        if colon and namespace == CourseLocator.CANONICAL_NAMESPACE:
            return CourseLocator.parse_url(rest)["org"] or ""
        key = as_course_key(course_id)  # old-style Org/Num/Run keys, CCX keys: rare, parsed in full
    except (InvalidKeyError, ValueError):
        return ""
    return "" if isinstance(key, LibraryLocator) else (key.org or "")


def _role_rows(user: Any, roles: Sequence[str], where: Q | None = None) -> list[tuple[str, str, str]]:
    """The user's ``(course id text, org, role)`` rows among ``roles`` (narrowed by ``where``)."""
    rows = lms_models().CourseAccessRole.objects.filter(user_id=user.id, role__in=list(roles))
    if where is not None:
        rows = rows.filter(where)
    # The column's text, not parsed keys: parsing thousands of keys is what made long lists slow.
    return list(rows.annotate(course_text=Cast("course_id", CharField())).values_list("course_text", "org", "role"))


def user_course_roles(user: Any, course_key: Any) -> set[str]:
    """The analytics roles ``user`` holds in the course, directly or org-wide (empty course id).

    Compared as the LMS's ``RoleCache.has_role`` does, in Python and so case-sensitively
    whatever the database collation: a course row counts when its course id and its org both
    equal the course's; an org-wide row when its org equals the course's org.
    """
    key = as_course_key(course_key)
    if not _can_hold_roles(user) or isinstance(key, LibraryLocator):
        return set()
    held = set()
    # The database narrows (case-insensitively under MySQL collations); Python decides exactly.
    where = Q(course_id=key) | Q(course_id=CourseKeyField.Empty, org=key.org)
    for course_id, org, role in _role_rows(user, ANALYTICS_ROLES, where):
        if org == key.org and course_id in ("", str(key)):
            held.add(role)
    return held


def courses_for_user(user: Any, roles: Sequence[str] = ANALYTICS_ROLES) -> list[str]:
    """Ids of the courses where ``user`` holds one of ``roles``; an org-wide role brings all the org's courses.

    Library keys (``library-v1:``) held in the same table are left out, and orgs are compared
    case-sensitively (see ``user_course_roles``).
    """
    if not _can_hold_roles(user):
        return []
    courses: set[str] = set()
    orgs: set[str] = set()
    for course_id, org, _role in _role_rows(user, roles):
        if course_id:
            if org and course_org(course_id) == org:
                courses.add(course_id)
        elif org:
            orgs.add(org)
    if orgs:
        overviews = lms_models().CourseOverview.objects.filter(org__in=sorted(orgs)).annotate(
            course_text=Cast("id", CharField())).values_list("course_text", flat=True)
        courses.update(course for course in overviews if course_org(course) in orgs)
    return sorted(courses)


def orgs_for_user(user: Any, roles: Sequence[str] = ANALYTICS_ROLES) -> set[str]:
    """The orgs where ``user`` holds one of ``roles`` org-wide (a role row with an org and no course).

    These are the people who see an organization at a glance; a role in single courses
    brings no org.
    """
    if not _can_hold_roles(user):
        return set()
    return {org for course_id, org, _role in _role_rows(user, roles) if not course_id and org}
