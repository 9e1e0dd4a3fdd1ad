"""The LMS's course and org overrides of a waffle flag, read for many courses at once."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from django.db.models import CharField
from django.db.models.functions import Cast

from openedx_analytics.lms.host import as_course_key, lms_available, stand_in_models
from openedx_analytics.lms.roles import course_org

log = logging.getLogger(__name__)

#: Up to this many courses, their flag overrides are looked up by course id; beyond, all the flag's.
FEW_COURSES = 100


def _overridelms_models() -> SimpleNamespace | None:
    """The LMS's waffle flag override models, else the stand-in app's, else None (no overrides anywhere)."""
    if lms_available():
        from openedx.core.djangoapps.waffle_utils.models import (
            WaffleFlagCourseOverrideModel,
            WaffleFlagOrgOverrideModel,
        )

        return SimpleNamespace(course=WaffleFlagCourseOverrideModel, org=WaffleFlagOrgOverrideModel)
    models = stand_in_models("WaffleFlagCourseOverrideModel", "WaffleFlagOrgOverrideModel")
    if models is None:
        return None
    return SimpleNamespace(course=models.WaffleFlagCourseOverrideModel, org=models.WaffleFlagOrgOverrideModel)


def _newest_choices(rows: Any, field: str) -> dict[str, bool]:
    """Per value of ``field`` (lowercased): True/False from its newest override row, when that row is enabled.

    The same rule as ``ConfigurationModel.current`` + ``override_value``: the newest row of a key
    decides; a disabled newest row (or ``unset``) means no override. Keys are matched the way the
    LMS's MySQL matches them (its collation ignores case), so they are compared lowercased.
    """
    choices: dict[str, bool | None] = {}
    rows = rows.annotate(key_text=Cast(field, CharField())).order_by("change_date", "id")
    for value, enabled, choice in rows.values_list("key_text", "enabled", "override_choice"):
        choices[value.lower()] = {"on": True, "off": False}.get(choice) if enabled else None
    return {value: choice for value, choice in choices.items() if choice is not None}


def course_flag_overrides(flag_name: str, course_ids: Iterable[Any]) -> dict[str, bool | None]:
    """Per course id: the LMS's course, then org override of a waffle flag (True/False), None when unset.

    Two queries for any number of courses, where the LMS's ``CourseWaffleFlag`` makes one or
    two per course: a list of a few courses reads their rows, a longer list every override of
    the flag (a handful of rows per course at most, read as text, never parsed). Outside the
    LMS (and without the stub app) there are no overrides: all None. Never raises into a
    request: a failure to read is logged and read as unset.
    """
    orgs = {str(course): course_org(str(course)) for course in course_ids}
    result: dict[str, bool | None] = dict.fromkeys(orgs)
    models = _overridelms_models() if orgs else None
    if models is None:
        return result
    try:
        course_rows = models.course.objects.filter(waffle_flag=flag_name)
        if len(orgs) <= FEW_COURSES:
            course_rows = course_rows.filter(course_id__in=[as_course_key(c) for c, org in orgs.items() if org])
        by_course = _newest_choices(course_rows, "course_id")
        by_org = _newest_choices(models.org.objects.filter(waffle_flag=flag_name,
                                                           org__in=sorted(set(orgs.values()) - {""})), "org")
    except Exception:  # noqa: BLE001 - an override we cannot read must not break the page
        log.exception("openedx_analytics: could not read the overrides of %s", flag_name)
        return result
    for course, org in orgs.items():
        if org:
            decided = by_course.get(course.lower())
            result[course] = decided if decided is not None else by_org.get(org.lower())
    return result


def course_flag_override(flag_name: str, course_key: Any) -> bool | None:
    """The LMS's per-course, then per-org override of a waffle flag: True (on), False (off), None (unset)."""
    return course_flag_overrides(flag_name, [course_key])[str(course_key)]
