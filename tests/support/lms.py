"""Rows in the stand-in LMS tables (``lms_host.stub``), as the LMS writes them, for ``backfill_analytics --from-lms``.

The ``lms_data`` fixture (``tests/conftest.py``) fills them for ``ALPHA`` and ``BETA``.
"""
from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms

ALPHA = "course-v1:Alpha+A1+2026"
BETA = "course-v1:Beta+B1+2026"
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def day(n: int) -> dt.datetime:
    """``n`` days after ``T0``."""
    return T0 + dt.timedelta(days=n)


def enroll(user: User, course: str, mode: str, when: int) -> lms.CourseEnrollment:
    """An LMS enrollment made on ``day(when)``, its history row dated the same."""
    enrollment = lms.CourseEnrollment(user=user, course_id=CourseKey.from_string(course), mode=mode,
                                      created=day(when))
    enrollment._history_date = day(when)
    enrollment.save()
    return enrollment


def lms_knows(*course_ids: str) -> None:
    """Course overviews for ``course_ids`` (kept when there already), as the LMS has for every real course.

    The ingest stores events only of courses the LMS knows, so a test that sends events
    first makes its courses known, as creating them in Studio would.
    """
    for course_id in course_ids:
        key = CourseKey.from_string(course_id)
        lms.CourseOverview.objects.get_or_create(id=key, defaults={"display_name": course_id, "org": key.org})
