"""The rollout gate: is the new analytics on for this caller and course?

Operators roll analytics out gradually: first to chosen users or groups (or everyone)
through one waffle flag, then organization by organization or course by course through
overrides. The REST API and the instructor-dashboard tab both ask this module, so they
can never disagree about who sees what.

Precedence, for a course:

1. inside the LMS, its course waffle flag overrides of ``ENABLED`` (course, then org),
   read for all the courses at once through ``flags.course_flag_overrides``;
2. our own ``CourseAnalyticsOverride`` rows: a course row, then its organization's row;
3. the waffle flag itself, for the current request's user (users, groups, everyone).
"""
from __future__ import annotations

from collections.abc import Iterable

from edx_toggles.toggles import WaffleFlag

from openedx_analytics.lms.flags import course_flag_overrides
from openedx_analytics.lms.roles import course_org
from openedx_analytics.models import CourseAnalyticsOverride

FLAG_NAME = "openedx_analytics.enabled"

# .. toggle_name: openedx_analytics.enabled
# .. toggle_implementation: WaffleFlag
# .. toggle_default: False
# .. toggle_description: Turns the analytics REST API and the instructor-dashboard tab on. As a
#   waffle flag it targets chosen users, groups or everyone. Course- and organization-level
#   overrides win over it: inside the LMS the "Waffle flag course/org overrides" of this flag
#   name, outside it (and as a fallback) the ``CourseAnalyticsOverride`` configuration. Course
#   staff (limited staff included), instructors, data researchers and global staff are still
#   the only people who may see a course's figures; the flag only decides whether the feature
#   is on.
# .. toggle_use_cases: temporary, opt_in
# .. toggle_creation_date: 2026-11-21
# .. toggle_target_removal_date: 2027-12-31
# .. toggle_warning: Evaluated for the user of the current request (crum); outside a request it
#   reads as off unless the flag is on for everyone.
ENABLED = WaffleFlag(FLAG_NAME, __name__)


def overrides(course_ids: Iterable[str]) -> dict[str, bool | None]:
    """Per course: True/False when an override decides, None when the waffle flag decides.

    Reads the LMS overrides of all the courses in bulk (``lms.flags``) and all our override
    rows in one query (configuration models live in the default database), so a list of
    thousands of courses costs a handful of queries, as one course does.
    """
    courses = list(dict.fromkeys(str(c) for c in course_ids))
    by_course: dict[str, bool] = {}
    by_org: dict[str, bool] = {}
    rows = CourseAnalyticsOverride.objects.db_manager("default").current_set().filter(enabled=True).exclude(
        override_choice=CourseAnalyticsOverride.UNSET
    ).order_by("change_date", "id")
    for row in rows:  # later rows win
        value = row.override_choice == CourseAnalyticsOverride.ON
        if row.course_id:
            by_course[row.course_id] = value
        elif row.org:
            by_org[row.org.lower()] = value
    lms = course_flag_overrides(FLAG_NAME, courses)
    result: dict[str, bool | None] = {}
    for course in courses:
        if lms.get(course) is not None:
            result[course] = lms[course]
        elif course in by_course:
            result[course] = by_course[course]
        else:
            result[course] = by_org.get(course_org(course).lower())
    return result


def flag_is_on() -> bool:
    """The waffle flag for the current request's user (no course override considered)."""
    return bool(ENABLED.is_enabled())


def is_enabled(course_id: str) -> bool:
    """Whether analytics is on for ``course_id`` and the current request's user."""
    decided = overrides([course_id])[str(course_id)]
    return flag_is_on() if decided is None else decided


def enabled_courses(course_ids: Iterable[str]) -> list[str]:
    """The courses of ``course_ids`` (order kept) that analytics is on for, for the current user."""
    decided = overrides(course_ids)
    flag: bool | None = None
    enabled = []
    for course, value in decided.items():
        if value is None:
            if flag is None:
                flag = flag_is_on()
            value = flag
        if value:
            enabled.append(course)
    return enabled
