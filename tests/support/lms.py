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


def block_key(course_id: str, block_type: str, block: str) -> str:
    """The usage key (as text) of block ``block`` of ``block_type`` in a ``course-v1`` course."""
    return f"block-v1:{course_id[len('course-v1:'):]}+type@{block_type}+block@{block}"


def lms_outline(course_id: str, sections: dict[str, dict[str, dict[str, list[tuple[str, str]]]]]) -> dict[str, str]:
    """Outline rows (``CourseBlock``) for a course: ``{section: {subsection: {unit: [(type, block)...]}}}``.

    Each name is both the block id and its display name; a leaf given as a full usage key
    is used as is. Returns name -> usage key of every section, subsection, unit and leaf.
    """
    key = CourseKey.from_string(course_id)
    root = block_key(course_id, "course", "course")
    lms.CourseBlock.objects.get_or_create(usage_key=root, defaults={
        "course_id": key, "block_type": "course", "display_name": course_id})
    keys: dict[str, str] = {}

    def add(block_type: str, name: str, parent: str, position: int) -> str:
        usage_key = name if name.startswith(("block-v1:", "i4x://")) else block_key(course_id, block_type, name)
        lms.CourseBlock.objects.update_or_create(usage_key=usage_key, defaults={
            "course_id": key, "block_type": block_type, "display_name": name, "parent": parent,
            "position": position})
        keys[name] = usage_key
        return usage_key

    for s, (section, subsections) in enumerate(sections.items()):
        section_key = add("chapter", section, root, s)
        for q, (subsection, units) in enumerate(subsections.items()):
            subsection_key = add("sequential", subsection, section_key, q)
            for u, (unit, leaves) in enumerate(units.items()):
                unit_key = add("vertical", unit, subsection_key, u)
                for n, (leaf_type, leaf) in enumerate(leaves):
                    add(leaf_type, leaf, unit_key, n)
    return keys
