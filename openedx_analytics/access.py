"""Who may see a course's analytics: one set of rules for the REST API, the page, the section and the tab.

Global staff, and the course's staff (limited staff included), instructors and data
researchers (``lms.roles``) may read a course's analytics, once the course exists
(``lms.courses``) and the rollout gate has opened it (``lms.rollout``). Every face asks
here, so they can never disagree; a refusal is a ``Refused`` carrying the HTTP status
both faces answer with. The checks run in the order that keeps the existence of a course
private to the people allowed to see it: 400 for a malformed id, then 403 without a role,
then 404 for an unknown course or one the gate keeps closed, so a learner gets 403
whether or not the course exists.

A course is named by the LMS's own id, byte for byte: ``course-v1:org+X+1`` is no course
when the LMS has ``course-v1:Org+X+1``, even though MySQL's collations would find it. It is
not canonicalized to the course it resembles: the role check must see the id the request
named, and a canonicalized id would answer 403 where an unknown one answers 404, telling a
holder of a role on ``org`` which ``Org`` courses exist. So the roles (compared
case-sensitively, as the LMS does), the existence check and the reads (whose id columns
compare case-sensitively) all agree on one id.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openedx_analytics import api
from openedx_analytics.api import params
from openedx_analytics.lms import courses, roles, rollout

#: Course roles that may read the course's analytics.
ROLES: tuple[str, ...] = roles.ANALYTICS_ROLES
#: What each refusal tells the person refused.
NO_ROLE = "You do not have access to this course's analytics."
NO_ANALYTICS = "No analytics for this course."


class Refused(Exception):
    """The user may not see the course's analytics; ``status`` is the HTTP status to answer (400, 403, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_global_staff(user: Any) -> bool:
    """Global staff see every course (the LMS's ``is_staff``, active users only)."""
    return bool(getattr(user, "is_staff", False) and user.is_active)


def can_view(user: Any, course_id: str) -> bool:
    """Whether ``user`` holds a role that may read ``course_id``'s analytics (course existence and gate aside)."""
    if is_global_staff(user):
        return True
    return bool(set(roles.user_course_roles(user, course_id)) & set(ROLES))


def course_for(user: Any, raw_course_id: str) -> str:
    """The canonical id of the course named ``raw_course_id`` if ``user`` may see its analytics; else ``Refused``.

    400 for a malformed id, 403 without a role, 404 for an unknown course (one the LMS has
    only under an id differing in case included) or one whose analytics are turned off
    (rollout gate).
    """
    try:
        course = params.course_id(raw_course_id)
    except params.InvalidParameter as invalid:
        raise Refused(400, invalid.message) from None
    if not can_view(user, course):
        raise Refused(403, NO_ROLE)
    if not courses.course_exists(course) or not rollout.is_enabled(course):
        raise Refused(404, NO_ANALYTICS)
    return course


def visible(user: Any, course_id: Any) -> str | None:
    """The canonical course id when ``user`` sees the section/tab for it; None when the rules keep them out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return course_for(user, str(course_id))
    except Refused:
        return None


def readable_courses(user: Any) -> list[str]:
    """Every course ``user`` may read (sorted, canonical ids), before the rollout gate.

    Global staff may read any course; their list holds the courses that have analytics
    (a site has many courses without any), plus any they hold a role in.
    """
    found = {params.course_id(str(course)) for course in roles.courses_for_user(user, roles=ROLES)}
    if is_global_staff(user):
        found.update(api.known_course_ids())
    return sorted(found)


def visible_courses(user: Any, wanted: Iterable[str] | None = None, search: str = "") -> list[str]:
    """The courses a course list shows ``user``: those readable, among ``wanted`` (all when None), whose id
    contains ``search`` (lower case), and that the rollout gate has opened; sorted.

    The gate is asked last, for the narrowed list only: it reads overrides per course.
    """
    found = readable_courses(user)
    if wanted is not None:
        chosen = set(wanted)
        found = [course for course in found if course in chosen]
    if search:
        found = [course for course in found if search in course.lower()]
    return rollout.enabled_courses(found)


#: What the site overview tells a person without a site-wide or org-wide role.
NO_SITE_ROLE = "Only global staff and staff of a whole organization can see the site overview."


def site_orgs(user: Any) -> set[str] | None:
    """The orgs whose courses ``user`` sees in the site overview: None for every org (global staff),
    the orgs of their org-wide analytics roles otherwise (empty: no overview; a role in single
    courses opens those courses' pages, not an overview)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if is_global_staff(user):
        return None
    return roles.orgs_for_user(user, ROLES)


def site_courses(user: Any) -> list[str]:
    """The courses of the site overview for ``user`` (sorted, rollout gate applied); ``Refused`` (403)
    for a user who is neither global staff nor holds an org-wide role.

    Global staff oversee every course of the site as the LMS lists them (its course
    overviews), as an org-wide role oversees every course of its orgs: a course without
    figures yet shows zeros. Read from the overview table, not as the distinct course ids
    of our enrollment aggregates (a scan of millions of rows).
    """
    orgs = site_orgs(user)
    if orgs is not None and not orgs:
        raise Refused(403, NO_SITE_ROLE)
    if orgs is None:
        found = set(courses.all_course_ids())
    else:
        found = set(roles.courses_for_user(user, roles=ROLES))
        found = {course for course in found if roles.course_org(course) in orgs}
    return rollout.enabled_courses(sorted(found))


#: The course role that may download a course's research export (besides global staff): the LMS's
#: data researchers, of the course or org-wide. Course staff and instructors read the course's
#: analytics, and the problem response report, but handing learner-level data to research is not
#: their role.
RESEARCH_ROLE = "data_researcher"
NO_RESEARCH_ROLE = "Only data researchers of this course or its organization, and global staff, can download " \
                   "its research export."
NO_ORG_RESEARCH_ROLE = "Only data researchers of this whole organization, and global staff, can download its " \
                       "research export."
NO_ORG_ANALYTICS = "No analytics for this organization."


def research_course_for(user: Any, raw_course_id: str) -> str:
    """The canonical id of the course named ``raw_course_id`` if ``user`` may download its research export.

    As ``course_for`` (400 malformed, 403 no role, 404 unknown or turned off, in that order),
    the role being a data researcher of the course or its org, or global staff.
    """
    try:
        course = params.course_id(raw_course_id)
    except params.InvalidParameter as invalid:
        raise Refused(400, invalid.message) from None
    if not is_global_staff(user) and RESEARCH_ROLE not in roles.user_course_roles(user, course):
        raise Refused(403, NO_RESEARCH_ROLE)
    if not courses.course_exists(course) or not rollout.is_enabled(course):
        raise Refused(404, NO_ANALYTICS)
    return course


def research_org_courses(user: Any, org: str) -> list[str]:
    """The courses of ``org`` (exact, case-sensitive) in its research export, if ``user`` may download it.

    Global staff and org-wide data researchers of ``org`` may (403 for anyone else, a data
    researcher of some of its courses included, before anything about the org is told). The
    courses are those with analytics (``api.known_course_ids``) that the rollout gate has
    opened; 404 when there are none.
    """
    if not is_global_staff(user) and org not in roles.orgs_for_user(user, (RESEARCH_ROLE,)):
        raise Refused(403, NO_ORG_RESEARCH_ROLE)
    found = rollout.enabled_courses(sorted(c for c in api.known_course_ids() if roles.course_org(c) == org))
    if not found:
        raise Refused(404, NO_ORG_ANALYTICS)
    return found


def activity_courses(user: Any) -> list[str]:
    """The courses ``site/activity/`` counts for ``user``: for global staff the site overview's (every course the
    LMS lists, ``site_courses``), for anyone else those ``courses/`` lists (``visible_courses``).

    Global staff's courses come from the LMS's course overviews, a cheap read, where
    ``visible_courses`` finds every course with analytics by a scan of our enrollment
    aggregates; a course without analytics adds no learner, so the counts are the same.
    """
    if user is not None and getattr(user, "is_authenticated", False) and site_orgs(user) is None:
        return site_courses(user)
    return visible_courses(user)
