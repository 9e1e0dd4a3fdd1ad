"""LMS history as raw events: enrollments, grades, certificates and problem states, for backfills.

The ``iter_*_events`` functions turn LMS tables into raw events of the shapes the
normalizer accepts, so a backfill takes them in exactly like live events. They stream in
keyset order (batches of ``BATCH_SIZE`` after the last key seen, never OFFSET pages) and
filter by course ids, orgs and a time window; course ids and orgs both narrow the set.
Given a ``Cursor``, they start after the last key it holds and record each key they read.
Orgs are matched through the LMS's course overviews, so history of a course the LMS no
longer knows is reached by its course id only.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from opaque_keys.edx.keys import CourseKey

from openedx_analytics.lms.host import as_course_key, lms_models

#: Rows read per query by the history iterators.
BATCH_SIZE = 1000
#: ``event_source`` of the events built from LMS tables.
EVENT_SOURCE = "lms_table"

ENROLLMENT_CHANGED = "org.openedx.learning.course.enrollment.changed.v1"
GRADE_CHANGED = "org.openedx.learning.course.persistent_grade_summary.changed.v1"
CERTIFICATE_CHANGED = "org.openedx.learning.certificate.changed.v1"


def _course_scope(models: SimpleNamespace, course_ids: Iterable[Any] | None, orgs: Iterable[str] | None
                  ) -> list[CourseKey] | None:
    """The course keys to read (None: every course), from course ids and orgs (both narrow)."""
    keys: set[CourseKey] | None = None
    if course_ids is not None:
        keys = {as_course_key(c) for c in course_ids}
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


class Cursor:
    """Where a history iterator stands: per phase, the key of the last row it read (JSON-able).

    Pass one to an ``iter_*_events`` function: it starts each phase after the key saved
    there (from the beginning when none) and records the key of every row it reads, so a
    backfill checkpoints ``cursor.key`` and a resumed run neither skips nor repeats rows
    when rows were added to or removed from the LMS tables meanwhile.
    """

    def __init__(self, key: dict[str, list[Any]] | None = None) -> None:
        self.key: dict[str, list[Any]] = dict(key or {})

    def after(self, phase: str) -> list[Any] | None:
        """The saved key of ``phase``, if any."""
        return self.key.get(phase)

    def read(self, phase: str, row: Any, keys: tuple[str, ...]) -> None:
        """Record ``row`` as the last row read in ``phase``."""
        self.key[phase] = [_json_key(getattr(row, name)) for name in keys]


def _json_key(value: Any) -> Any:
    if isinstance(value, int | str) or value is None:
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)  # UUIDs, course keys


def _rows(queryset: QuerySet, keys: tuple[str, ...], cursor: Cursor | None, phase: str) -> Iterator[Any]:
    """``_keyset`` from the cursor's saved key of ``phase``, recording each row read in the cursor."""
    if cursor is None:
        yield from _keyset(queryset, keys)
        return
    for row in _keyset(queryset, keys, after=cursor.after(phase)):
        cursor.read(phase, row, keys)
        yield row


def _keyset(queryset: QuerySet, keys: tuple[str, ...], after: Sequence[Any] | None = None) -> Iterator[Any]:
    """Every row of ``queryset`` in ``keys`` order (after the key ``after``), a batch at a time, each batch
    after the last row seen."""
    last: tuple[Any, ...] | None = tuple(after) if after else None
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
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One enrollment-changed event per enrollment history row (a deleted row reads as inactive),
    then one per enrollment that has no history at all (dated by its creation)."""
    models = lms_models()
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
    for row in _rows(history, ("history_date", "history_id"), cursor, "history"):
        yield _signal_shape(ENROLLMENT_CHANGED, row.history_date, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active) and row.history_type != "-")
    for row in _rows(enrollments, ("pk",), cursor, "enrollment"):
        yield _signal_shape(ENROLLMENT_CHANGED, row.created, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active))


def iter_grade_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One grade-changed event per persistent course grade (its last state, dated by ``modified``)."""
    models = lms_models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    grades = _scoped(models.PersistentCourseGrade.objects.all(), "modified", scope, since, until)
    for row in _rows(grades, ("pk",), cursor, "grade"):
        yield _signal_shape(GRADE_CHANGED, row.modified, row.course_id, row.user_id,
                            percent_grade=row.percent_grade, passed_timestamp=_iso(row.passed_timestamp))


def iter_certificate_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One certificate-changed event per certificate (its current status, dated by ``modified_date``)."""
    models = lms_models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    certificates = _scoped(models.GeneratedCertificate.objects.all(), "modified_date", scope, since, until)
    for row in _rows(certificates, ("pk",), cursor, "certificate"):
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
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """A server ``problem_check`` per graded problem state with attempts (only the last submission is kept)."""
    models = lms_models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    modules = _scoped(models.StudentModule.objects.filter(module_type="problem", grade__isnull=False), "modified",
                      scope, since, until)
    for row in _rows(modules, ("pk",), cursor, "problem"):
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
