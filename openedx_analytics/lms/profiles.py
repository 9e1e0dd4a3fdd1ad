"""The profiles of a course's enrolled learners, counted in the LMS's own tables: never copied.

The learners breakdowns (age, education, gender, country) are read from the LMS's
``auth_userprofile`` joined to its active enrollments, where the LMS keeps them, on the
database the LMS reads reports from (its ``read_replica`` alias when it has one, as
edx-platform's ``read_replica_or_default``). Each query groups in SQL and returns one row
per value, so a course of 100,000 learners costs four small result sets, never 100,000
profiles in Python. Nothing read here is written anywhere: a learner who edits their
profile, or whom the LMS retires and scrubs, changes the figures at the next read.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db.models import Count

from openedx_analytics.lms.host import NotAvailable, as_course_key, lms_available, stand_in_models

#: The profile columns the breakdowns group by.
FIELDS = ("year_of_birth", "gender", "level_of_education", "country")
READ_REPLICA = "read_replica"


def _models() -> SimpleNamespace:
    """The LMS's ``UserProfile`` and ``CourseEnrollment`` (or the stand-in app's); ``NotAvailable`` without."""
    if lms_available():
        from common.djangoapps.student.models import CourseEnrollment, UserProfile

        return SimpleNamespace(UserProfile=UserProfile, CourseEnrollment=CourseEnrollment)
    models = stand_in_models("UserProfile", "CourseEnrollment")
    if models is None:
        raise NotAvailable("learner profiles are not available outside the LMS (and no stand-in LMS app is installed)")
    return models


def lms_read_database() -> str:
    """The alias the LMS reads reports from: its read replica when configured, else ``default``."""
    if lms_available():
        from common.djangoapps.util.query import read_replica_or_default

        return read_replica_or_default()
    return READ_REPLICA if READ_REPLICA in settings.DATABASES else "default"


def profile_counts(course_id: Any) -> dict[str, Any]:
    """Per profile column, learners actively enrolled in the course by value, and how many are enrolled.

    Returns ``enrolled`` and, for each of ``FIELDS``, a dict of value to learners (the value
    as stored: None and "" included; learners without a profile row are not in it, so
    ``enrolled`` minus the sum is who has none). ``ValueError`` for a malformed course id.
    """
    key = as_course_key(course_id)
    models = _models()
    database = lms_read_database()
    enrolled = models.CourseEnrollment.objects.using(database).filter(course_id=key, is_active=True)
    profiles = models.UserProfile.objects.using(database).filter(user_id__in=enrolled.values("user_id"))
    out: dict[str, Any] = {"enrolled": enrolled.count()}
    for field in FIELDS:
        rows = profiles.order_by().values(field).annotate(learners=Count("id"))
        out[field] = {row[field]: row["learners"] for row in rows}
    return out
