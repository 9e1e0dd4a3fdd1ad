"""The one module that touches edx-platform: courses, roles, flag overrides and LMS history.

Inside the LMS every function reads the real edx-platform models. In a host without
them (tests, the demo) it reads the stub app ``lms_host.stub`` when that app is
installed, whose models carry the same names and fields, so the queries are the same.
Anywhere else it raises ``NotAvailable``; ``course_flag_override`` returns None instead.

The ``iter_*_events`` functions turn LMS tables into raw events of the shapes the
normalizer accepts, so a backfill takes them in exactly like live events. They stream in
keyset order (batches of ``BATCH_SIZE`` after the last key seen, never OFFSET pages) and
filter by course ids, orgs and a time window; course ids and orgs both narrow the set.
Orgs are matched through the LMS's course overviews, so history of a course the LMS no
longer knows is reached by its course id only.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from opaque_keys import InvalidKeyError
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

log = logging.getLogger(__name__)

#: The course roles that may read a course's analytics.
ANALYTICS_ROLES = ("staff", "instructor", "data_researcher")
#: Rows read per query by the history iterators.
BATCH_SIZE = 1000
#: ``event_source`` of the events built from LMS tables.
EVENT_SOURCE = "lms_table"

_LMS_APP = "common.djangoapps.student"
_STUB_APP = "lms_host.stub"

ENROLLMENT_CHANGED = "org.openedx.learning.course.enrollment.changed.v1"
GRADE_CHANGED = "org.openedx.learning.course.persistent_grade_summary.changed.v1"
CERTIFICATE_CHANGED = "org.openedx.learning.certificate.changed.v1"


class NotAvailable(Exception):
    """Raised when LMS data is asked for in a process that has neither the LMS nor the stub app."""


def lms_available() -> bool:
    """True inside the LMS (its student app is installed), whatever else is installed."""
    return apps.is_installed(_LMS_APP)


def _models() -> SimpleNamespace:
    """The model classes compat reads: the LMS's, else the stub's; else ``NotAvailable``."""
    if lms_available():
        from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment
        from lms.djangoapps.certificates.models import GeneratedCertificate
        from lms.djangoapps.courseware.models import StudentModule
        from lms.djangoapps.grades.models import PersistentCourseGrade
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        return SimpleNamespace(
            CourseOverview=CourseOverview, CourseEnrollment=CourseEnrollment,
            HistoricalCourseEnrollment=CourseEnrollment.history.model, CourseAccessRole=CourseAccessRole,
            PersistentCourseGrade=PersistentCourseGrade, GeneratedCertificate=GeneratedCertificate,
            StudentModule=StudentModule,
        )
    if apps.is_installed(_STUB_APP):
        from lms_host.stub import models

        return SimpleNamespace(**{
            name: getattr(models, name)
            for name in ("CourseOverview", "CourseEnrollment", "HistoricalCourseEnrollment", "CourseAccessRole",
                         "PersistentCourseGrade", "GeneratedCertificate", "StudentModule")
        })
    raise NotAvailable("LMS data is not available outside the LMS (and no stub LMS app is installed)")


def _key(course_key: Any) -> CourseKey:
    if isinstance(course_key, CourseKey):
        return course_key
    try:
        return CourseKey.from_string(str(course_key))
    except InvalidKeyError:
        raise ValueError(f"not a course key: {str(course_key)[:100]!r}") from None


# ---------------------------------------------------------------- courses


def course_exists(course_key: Any) -> bool:
    """Whether the LMS knows this course (it has a course overview)."""
    return _models().CourseOverview.objects.filter(id=_key(course_key)).exists()


def course_display_name(course_key: Any) -> str:
    """The course's display name for headings; its id when the LMS has no name for it."""
    key = _key(course_key)
    name = _models().CourseOverview.objects.filter(id=key).values_list("display_name", flat=True).first()
    return name or str(key)


# ---------------------------------------------------------------- roles


def _can_hold_roles(user: Any) -> bool:
    # As the LMS's RoleBase.has_user: anonymous and deactivated users hold no role.
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def user_course_roles(user: Any, course_key: Any) -> set[str]:
    """The analytics roles ``user`` holds in the course, directly or org-wide (empty course id)."""
    key = _key(course_key)
    if not _can_hold_roles(user):
        return set()
    rows = _models().CourseAccessRole.objects.filter(user_id=user.id, role__in=ANALYTICS_ROLES).filter(
        Q(course_id=key) | Q(course_id=CourseKeyField.Empty, org=key.org)
    )
    return set(rows.values_list("role", flat=True))


def courses_for_user(user: Any, roles: Sequence[str] = ANALYTICS_ROLES) -> list[str]:
    """Ids of the courses where ``user`` holds one of ``roles``; an org-wide role brings all the org's courses."""
    if not _can_hold_roles(user):
        return []
    models = _models()
    courses: set[str] = set()
    orgs: set[str] = set()
    for course_id, org in models.CourseAccessRole.objects.filter(user_id=user.id, role__in=list(roles)).values_list(
        "course_id", "org"
    ):
        if course_id:
            courses.add(str(course_id))
        elif org:
            orgs.add(org)
    if orgs:
        courses.update(
            str(c) for c in models.CourseOverview.objects.filter(org__in=sorted(orgs)).values_list("id", flat=True)
        )
    return sorted(courses)


# ---------------------------------------------------------------- flags


def course_flag_override(flag_name: str, course_key: Any) -> bool | None:
    """The LMS's per-course, then per-org override of a waffle flag: True (on), False (off), None (unset).

    Outside the LMS the stub host's stand-ins answer, if installed; otherwise there are no
    overrides: None. Never raises into a request: a failure to read the overrides is logged
    and read as unset.
    """
    if not lms_available() and not apps.is_installed(_STUB_APP):
        return None
    key = _key(course_key)
    try:
        if lms_available():
            from openedx.core.djangoapps.waffle_utils.models import (
                WaffleFlagCourseOverrideModel,
                WaffleFlagOrgOverrideModel,
            )
        else:
            from lms_host.stub.models import WaffleFlagCourseOverrideModel, WaffleFlagOrgOverrideModel

        choice = WaffleFlagCourseOverrideModel.override_value(flag_name, key)
        if choice not in ("on", "off"):
            choice = WaffleFlagOrgOverrideModel.override_value(flag_name, key.org)
    except Exception:  # noqa: BLE001 - an override we cannot read must not break the page
        log.exception("openedx_analytics: could not read the overrides of %s for %s", flag_name, key)
        return None
    return {"on": True, "off": False}.get(choice)


# ---------------------------------------------------------------- history as raw events


def _course_scope(models: SimpleNamespace, course_ids: Iterable[Any] | None, orgs: Iterable[str] | None
                  ) -> list[CourseKey] | None:
    """The course keys to read (None: every course), from course ids and orgs (both narrow)."""
    keys: set[CourseKey] | None = None
    if course_ids is not None:
        keys = {_key(c) for c in course_ids}
    if orgs is not None:
        org_keys = set(models.CourseOverview.objects.filter(org__in=list(orgs)).values_list("id", flat=True))
        keys = org_keys if keys is None else keys & org_keys
    return None if keys is None else sorted(keys, key=str)


def _window(field: str, since: dt.datetime | None, until: dt.datetime | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(**{f"{field}__gte": since})
    if until is not None:
        q &= Q(**{f"{field}__lt": until})
    return q


def _keyset(queryset: QuerySet, keys: tuple[str, ...]) -> Iterator[Any]:
    """Every row of ``queryset`` in ``keys`` order, a batch at a time, each batch after the last row seen."""
    last: tuple[Any, ...] | None = None
    while True:
        page = queryset.order_by(*keys)
        if last is not None:
            after = Q()
            for i, name in enumerate(keys):  # (a, b) > (x, y)  <=>  a > x or (a = x and b > y)
                equal = dict(zip(keys[:i], last[:i], strict=True))
                after |= Q(**equal, **{f"{name}__gt": last[i]})
            page = page.filter(after)
        count = 0
        for row in page[:BATCH_SIZE].iterator(chunk_size=BATCH_SIZE):
            count += 1
            yield row
        if count < BATCH_SIZE:
            return
        last = tuple(getattr(row, k) for k in keys)


def _scoped(queryset: Any, time_field: str, scope: list[str] | None, since: dt.datetime | None,
            until: dt.datetime | None) -> Any:
    """``queryset`` narrowed to the time window and, when a scope is given, to its courses."""
    queryset = queryset.filter(_window(time_field, since, until))
    return queryset if scope is None else queryset.filter(course_id__in=scope)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _signal_shape(name: str, time: dt.datetime, course_id: Any, user_id: int, **data: Any) -> dict[str, Any]:
    course = str(course_id)
    return {
        "name": name,
        "time": time.isoformat(),
        "data": {"course_id": course, "user_id": user_id, **data},
        "context": {"course_id": course, "user_id": user_id},
        "event_source": EVENT_SOURCE,
    }


def iter_enrollment_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One enrollment-changed event per enrollment history row (a deleted row reads as inactive),
    then one per enrollment that has no history at all (dated by its creation)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    history = _scoped(models.HistoricalCourseEnrollment.objects.all(), "history_date", scope, since, until)
    enrollments = _scoped(
        models.CourseEnrollment.objects.filter(
            ~Exists(models.HistoricalCourseEnrollment.objects.filter(id=OuterRef("pk")))
        ).exclude(created=None),
        "created", scope, since, until,
    )
    for row in _keyset(history, ("history_date", "history_id")):
        yield _signal_shape(ENROLLMENT_CHANGED, row.history_date, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active) and row.history_type != "-")
    for row in _keyset(enrollments, ("pk",)):
        yield _signal_shape(ENROLLMENT_CHANGED, row.created, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active))


def iter_grade_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One grade-changed event per persistent course grade (its last state, dated by ``modified``)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    grades = _scoped(models.PersistentCourseGrade.objects.all(), "modified", scope, since, until)
    for row in _keyset(grades, ("pk",)):
        yield _signal_shape(GRADE_CHANGED, row.modified, row.course_id, row.user_id,
                            percent_grade=row.percent_grade, passed_timestamp=_iso(row.passed_timestamp))


def iter_certificate_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One certificate-changed event per certificate (its current status, dated by ``modified_date``)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    certificates = _scoped(models.GeneratedCertificate.objects.all(), "modified_date", scope, since, until)
    for row in _keyset(certificates, ("pk",)):
        yield _signal_shape(CERTIFICATE_CHANGED, row.modified_date, row.course_id, row.user_id,
                            mode=row.mode, current_status=row.status)


def _problem_state(raw: str | None) -> dict[str, Any]:
    try:
        state = json.loads(raw or "{}")
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def iter_problem_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """A server ``problem_check`` per graded problem state with attempts (only the last submission is kept)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    modules = _scoped(models.StudentModule.objects.filter(module_type="problem", grade__isnull=False), "modified",
                      scope, since, until)
    for row in _keyset(modules, ("pk",)):
        state = _problem_state(row.state)
        attempts = state.get("attempts")
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts <= 0:
            continue
        course = str(row.course_id)
        yield {
            "name": "problem_check",
            "time": row.modified.isoformat(),
            "context": {"course_id": course, "user_id": row.student_id, "event_source": "server"},
            "event_source": "server",
            "data": {
                "problem_id": str(row.module_state_key),
                "attempts": attempts,
                "grade": row.grade,
                "max_grade": row.max_grade,
                "answers": state.get("student_answers") or {},
                "correct_map": state.get("correct_map") or {},
            },
        }


def current_enrollment_counts(course_key: Any) -> dict[str, int]:
    """Active enrollments of a course per mode, as the LMS's enrollment table says now (for verification)."""
    models = _models()
    rows = models.CourseEnrollment.objects.filter(course_id=_key(course_key), is_active=True)
    counts: dict[str, int] = {}
    for mode in rows.values_list("mode", flat=True).iterator():
        counts[mode] = counts.get(mode, 0) + 1
    return counts
