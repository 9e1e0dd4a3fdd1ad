"""Write normalized records as facts, idempotently, and mark the scopes they change dirty.

Facts and their dirty-scope markers are written in one transaction on the analytics
alias. Duplicates are dropped by the unique constraints (``ignore_conflicts``), so the
same event delivered twice stores one fact.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from openedx_analytics import conf
from openedx_analytics.models import (
    ActivityFact,
    CertificateFact,
    DirtyScope,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    ProblemSubmissionFact,
    VideoEventFact,
)
from openedx_analytics.pipeline.records import (
    Activity,
    CertificateChange,
    EnrollmentChange,
    GradeChange,
    PassingChange,
    ProblemSubmission,
    Record,
    VideoEvent,
)

Scope = tuple[str, str, str]  # (kind, course_id, key)
WRITE_BATCH = 1000


def _fact_row(record: Record) -> tuple[type, object]:
    """The unsaved fact model instance for a record (``Activity`` expands to several rows elsewhere)."""
    if isinstance(record, EnrollmentChange):
        return EnrollmentFact, EnrollmentFact(
            course_id=record.course_id, user_id=record.user_id, time=record.time,
            is_active=record.is_active, mode=record.mode, fingerprint=record.fingerprint(),
        )
    if isinstance(record, VideoEvent):
        return VideoEventFact, VideoEventFact(
            course_id=record.course_id, video_id=record.video_id, user_id=record.user_id, time=record.time,
            action=record.action, position=record.position, old_time=record.old_time,
            new_time=record.new_time, duration=record.duration, fingerprint=record.fingerprint(),
        )
    if isinstance(record, ProblemSubmission):
        return ProblemSubmissionFact, ProblemSubmissionFact(
            course_id=record.course_id, problem_id=record.problem_id, user_id=record.user_id,
            time=record.time, attempt=record.attempt, correct=record.correct,
            answers=record.answers_json(), fingerprint=record.fingerprint(),
        )
    if isinstance(record, GradeChange):
        return GradeFact, GradeFact(
            course_id=record.course_id, user_id=record.user_id, time=record.time,
            percent=record.percent, fingerprint=record.fingerprint(),
        )
    if isinstance(record, PassingChange):
        return PassingFact, PassingFact(
            course_id=record.course_id, user_id=record.user_id, time=record.time,
            is_passing=record.is_passing, fingerprint=record.fingerprint(),
        )
    if isinstance(record, CertificateChange):
        return CertificateFact, CertificateFact(
            course_id=record.course_id, user_id=record.user_id, time=record.time,
            mode=record.mode, status=record.status, fingerprint=record.fingerprint(),
        )
    raise TypeError(f"no fact table for {type(record).__name__}")


def scopes_of(record: Record) -> list[Scope]:
    """The aggregate scopes a record can change."""
    course = record.course_id
    if isinstance(record, EnrollmentChange):
        return [(DirtyScope.ENROLLMENT, course, ""), (DirtyScope.GRADES, course, "")]
    if isinstance(record, Activity):
        return [(DirtyScope.ACTIVITY, course, record.day.isoformat())]
    if isinstance(record, VideoEvent):
        return [(DirtyScope.VIDEO_USER, course, f"{record.user_id} {record.video_id}")]
    if isinstance(record, ProblemSubmission):
        return [(DirtyScope.PROBLEM, course, record.problem_id)]
    return [(DirtyScope.GRADES, course, "")]


def write_facts(records: Iterable[Record]) -> set[Scope]:
    """Store the records' facts (duplicates ignored) and mark their scopes dirty; return the scopes."""
    rows: dict[type, dict[str, object]] = defaultdict(dict)
    activity: set[tuple[str, object, str, int]] = set()
    scopes: set[Scope] = set()
    for record in records:
        scopes.update(scopes_of(record))
        if isinstance(record, Activity):
            for kind in record.kinds:
                activity.add((record.course_id, record.day, kind, record.user_id))
            continue
        model, row = _fact_row(record)
        rows[model][row.fingerprint] = row  # de-duplicate within the batch too
    if not scopes:
        return scopes
    using = conf.analytics_db()
    with transaction.atomic(using=using):
        for model, by_fingerprint in rows.items():
            model.objects.using(using).bulk_create(
                list(by_fingerprint.values()), batch_size=WRITE_BATCH, ignore_conflicts=True
            )
        if activity:
            ActivityFact.objects.using(using).bulk_create(
                [ActivityFact(course_id=c, day=d, kind=k, user_id=u) for c, d, k, u in sorted(activity, key=str)],
                batch_size=WRITE_BATCH,
                ignore_conflicts=True,
            )
        mark_dirty(scopes, using=using)
    return scopes


def mark_dirty(scopes: Iterable[Scope], *, using: str | None = None) -> None:
    """Append dirty markers for ``scopes`` (callers on the analytics alias pass ``using``)."""
    DirtyScope.objects.using(using or conf.analytics_db()).bulk_create(
        [DirtyScope(kind=kind, course_id=course, key=key) for kind, course, key in sorted(scopes)],
        batch_size=WRITE_BATCH,
    )
