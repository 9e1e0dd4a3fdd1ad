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
from openedx_analytics.db.bulk import insert_ignore
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
from openedx_analytics.pipeline.markers import (
    Scope,
    day_key,
    learner_day_key,
    learner_key,
    mark_dirty,
    user_key,
    whole_course,
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


def scopes_of(record: Record) -> list[Scope]:
    """The aggregate scopes a record can change, keyed as ``DirtyScope`` describes."""
    course = record.course_id
    if isinstance(record, EnrollmentChange):
        return [(DirtyScope.ENROLLMENT, course, day_key(record.time.date())),
                (DirtyScope.GRADES, course, user_key(record.user_id))]
    if isinstance(record, Activity):
        return [(DirtyScope.ACTIVITY, course, learner_day_key(record.user_id, record.day))]
    if isinstance(record, VideoEvent):
        return [(DirtyScope.VIDEO_USER, course, learner_key(record.user_id, record.video_id))]
    if isinstance(record, ProblemSubmission):
        return [(DirtyScope.PROBLEM, course, learner_key(record.user_id, record.problem_id))]
    return [(DirtyScope.GRADES, course, user_key(record.user_id))]


#: record type -> the kinds of the scopes ``scopes_of`` gives its records (whole-course markers need no more)
SCOPE_KINDS: dict[type, tuple[str, ...]] = {
    EnrollmentChange: (DirtyScope.ENROLLMENT, DirtyScope.GRADES),
    Activity: (DirtyScope.ACTIVITY,),
    VideoEvent: (DirtyScope.VIDEO_USER,),
    ProblemSubmission: (DirtyScope.PROBLEM,),
    GradeChange: (DirtyScope.GRADES,),
    PassingChange: (DirtyScope.GRADES,),
    CertificateChange: (DirtyScope.GRADES,),
}

#: model -> columns its ``_fact_values`` tuples fill, in order
FACT_COLUMNS: dict[type, tuple[str, ...]] = {
    EnrollmentFact: ("course_id", "user_id", "time", "is_active", "mode", "fingerprint"),
    VideoEventFact: ("course_id", "video_id", "user_id", "time", "action", "position", "old_time", "new_time",
                     "duration", "fingerprint"),
    ProblemSubmissionFact: ("course_id", "problem_id", "user_id", "time", "attempt", "correct", "answers",
                            "fingerprint"),
    GradeFact: ("course_id", "user_id", "time", "percent", "fingerprint"),
    PassingFact: ("course_id", "user_id", "time", "is_passing", "fingerprint"),
    CertificateFact: ("course_id", "user_id", "time", "mode", "status", "fingerprint"),
}


def _fact_values(record: Record) -> tuple[type, tuple]:
    """The fact table of a record and the row to insert (in ``FACT_COLUMNS`` order; fingerprint last)."""
    if isinstance(record, VideoEvent):
        return VideoEventFact, (
            record.course_id, record.video_id, record.user_id, record.time, record.action, record.position,
            record.old_time, record.new_time, record.duration, record.fingerprint(),
        )
    if isinstance(record, EnrollmentChange):
        return EnrollmentFact, (
            record.course_id, record.user_id, record.time, record.is_active, record.mode, record.fingerprint(),
        )
    if isinstance(record, ProblemSubmission):
        return ProblemSubmissionFact, (
            record.course_id, record.problem_id, record.user_id, record.time, record.attempt, record.correct,
            record.answers_json(), record.fingerprint(),
        )
    if isinstance(record, GradeChange):
        return GradeFact, (record.course_id, record.user_id, record.time, record.percent, record.fingerprint())
    if isinstance(record, PassingChange):
        return PassingFact, (record.course_id, record.user_id, record.time, record.is_passing, record.fingerprint())
    if isinstance(record, CertificateChange):
        return CertificateFact, (
            record.course_id, record.user_id, record.time, record.mode, record.status, record.fingerprint(),
        )
    raise TypeError(f"no fact table for {type(record).__name__}")


ACTIVITY_COLUMNS = ("course_id", "day", "kind", "user_id")


def write_facts(records: Iterable[Record], *, whole_courses: bool = False) -> set[Scope]:
    """Store the records' facts (duplicates ignored) and mark their scopes dirty; return the scopes.

    With ``whole_courses`` (bulk writers: backfills) the markers ask for a whole rebuild of
    each kind and course touched (``ALL_KEYS``) instead of one marker per day, learner and
    video: a handful of markers per batch, and one rebuild per course at the end.
    """
    rows: dict[type, dict[str, tuple]] = defaultdict(dict)
    activity: set[tuple[str, object, str, int]] = set()
    scopes: set[Scope] = set()
    whole: set[tuple[type, str]] = set()
    for record in records:
        if whole_courses:
            whole.add((type(record), record.course_id))  # the keys are not needed: "*" replaces them
        else:
            scopes.update(scopes_of(record))
        if type(record) is Activity:
            for kind in record.kinds:
                activity.add((record.course_id, record.day, kind, record.user_id))
            continue
        model, row = _fact_values(record)
        rows[model][row[-1]] = row  # de-duplicate within the batch too
    if whole_courses:
        scopes = {whole_course(kind, course) for record_type, course in whole for kind in SCOPE_KINDS[record_type]}
    if not scopes:
        return scopes
    using = conf.analytics_db()
    with transaction.atomic(using=using):
        for model, by_fingerprint in rows.items():
            insert_ignore(model, FACT_COLUMNS[model], list(by_fingerprint.values()), using)
        if activity:
            # One order for every writer (fewer lock waits between concurrent batches).
            insert_ignore(ActivityFact, ACTIVITY_COLUMNS, sorted(activity), using)
        mark_dirty(scopes, using=using)
    return scopes
