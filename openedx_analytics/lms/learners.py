"""Learners as the LMS knows them now: usernames and problem scores, read a chunk of user ids at a time.

We keep LMS user ids only; a report that names learners looks their usernames up at
download time, one query per chunk of ids, so a course of any size costs a bounded
amount of memory. A learner the LMS no longer has, or has retired (the LMS renames a
retired account to ``RETIRED_USERNAME_PREFIX`` followed by a hash), is left out: no
username is given for them and callers skip their rows. Scores are the LMS's own
current grade of a learner's problem state (``courseware_studentmodule``), the score of
their last submission.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import UsageKey

from openedx_analytics.lms.host import as_course_key, lms_models

#: The prefix the LMS gives a retired learner's username (its ``RETIRED_USERNAME_PREFIX`` setting).
DEFAULT_RETIRED_PREFIX = "retired__user_"


def retired_prefix() -> str:
    """The username prefix of retired accounts, as the LMS configures it."""
    return str(getattr(settings, "RETIRED_USERNAME_PREFIX", DEFAULT_RETIRED_PREFIX) or DEFAULT_RETIRED_PREFIX)


def usernames(user_ids: Iterable[int]) -> dict[int, str]:
    """The username of each of ``user_ids`` the LMS still has and has not retired (one query)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    prefix = retired_prefix()
    rows = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    return {pk: name for pk, name in rows if not name.startswith(prefix)}


def problem_scores(course_id: Any, problem_id: str, user_ids: Iterable[int]
                   ) -> dict[int, tuple[float | None, float | None]]:
    """``(grade, max_grade)`` of each of ``user_ids``' state of problem ``problem_id`` (one query; a learner
    without a state, or a problem id that is no usage key, gives nothing)."""
    ids = sorted(set(user_ids))
    try:
        usage_key = UsageKey.from_string(problem_id)
    except InvalidKeyError:
        return {}
    if not ids:
        return {}
    modules = lms_models().StudentModule.objects.filter(
        course_id=as_course_key(course_id), module_state_key=usage_key, student_id__in=ids)
    return {student: (grade, max_grade)
            for student, grade, max_grade in modules.values_list("student_id", "grade", "max_grade")}
