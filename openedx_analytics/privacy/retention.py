"""Retention: after a set number of days, learner-level facts stop naming the learner.

Why de-identify instead of delete: every aggregate is recomputed from facts (a day's
enrollment from every enrollment fact before it, a video's timeline from every viewer,
a problem's figures from every submission). Deleting old facts would make the next
recompute of a course (a new event, a backfill) lower historic rows and current counts.
So when a learner has had no fact in a course for ``OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS``
days, their facts in that course are kept but cut from them: the LMS user id is replaced
by a random negative id, one per learner and course, stored nowhere else, and each
fingerprint (a hash over the user id) by a hash salted with a secret thrown away after
the run. Every recompute then gives exactly the same numbers, and nothing links the rows
back to the learner, nor the same learner across courses. Rejected-event samples (raw
events) older than the window are deleted.

The pruning runs by itself at most once per ``PRUNE_INTERVAL`` (the first event batch a
worker handles after the interval sends the ``prune_learner_data`` task: see
``worker.tasks.prune_when_due``) and on demand with ``manage.py lms prune_analytics``.
Nothing here sends a task: this module only reads and rewrites stored rows.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models.functions import SHA1, Concat
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.models import RejectedEventSample
from openedx_analytics.pipeline.kinds import KINDS, LEARNER_TABLES

log = logging.getLogger(__name__)

SETTING = "OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS"
#: How often the automatic pruning runs (through the Django cache, at most once per interval).
PRUNE_INTERVAL = dt.timedelta(days=1)
#: Learners de-identified per transaction.
CHUNK = 500

#: Fact tables -> the column that dates their rows (a learner is stale when every row is older than the cutoff).
DATED: dict[type[models.Model], str] = {kind.model: kind.dated_by for kind in KINDS.values() if kind.names_learner}
#: Fact tables whose rows carry a fingerprint (a hash over the user id, rewritten with it).
FINGERPRINTED: frozenset[type[models.Model]] = frozenset(kind.model for kind in KINDS.values()
                                                         if kind.fingerprinted and kind.names_learner)


@dataclass
class PruneReport:
    """What one pruning did."""

    cutoff: dt.datetime | None = None
    learners: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    samples_deleted: int = 0


def retention_days() -> int | None:
    """The configured retention in days (None: keep learner-level facts as they are)."""
    value = conf.get(SETTING)
    if value is None:
        return None
    days = int(value)
    if days < 1:
        raise ValueError(f"{SETTING} must be a positive number of days or None, not {value!r}")
    return days


def cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    """The time before which learner-level facts no longer name a learner (None: retention is off)."""
    days = retention_days()
    if days is None:
        return None
    return (now or timezone.now()) - dt.timedelta(days=days)


def _bound(model: type[models.Model], column: str, before: dt.datetime) -> dt.datetime | dt.date:
    """``before`` as the dating column of ``model`` compares it: a day column takes its date."""
    return before if isinstance(model._meta.get_field(column), models.DateTimeField) else before.date()


def stale_learners(course_id: str, before: dt.datetime, using: str) -> set[int]:
    """Learners of the course whose every fact is older than ``before`` (de-identified ones excluded)."""
    old: set[int] = set()
    recent: set[int] = set()
    for model, column in DATED.items():
        bound = _bound(model, column, before)
        rows = model.objects.using(using).filter(course_id=course_id, user_id__gt=0)
        old.update(rows.filter(**{f"{column}__lt": bound}).values_list("user_id", flat=True).distinct())
        recent.update(rows.filter(**{f"{column}__gte": bound}).values_list("user_id", flat=True).distinct())
    return old - recent


def _courses(using: str) -> set[str]:
    courses: set[str] = set()
    for model in DATED:
        courses.update(model.objects.using(using).values_list("course_id", flat=True).distinct().order_by())
    return courses


def _pseudonym() -> int:
    return -(secrets.randbelow(2**62) + 1)


def deidentify(course_id: str, user_ids: Iterable[int], using: str) -> dict[str, int]:
    """Replace the learners' user ids (one random negative id each) and fingerprints in the course's facts."""
    ids = sorted(set(user_ids))
    counts: dict[str, int] = {}
    if not ids:
        return counts
    pseudonyms = {user_id: _pseudonym() for user_id in ids}
    new_id = models.Case(*[models.When(user_id=u, then=models.Value(p)) for u, p in pseudonyms.items()],
                         output_field=models.BigIntegerField())
    salt = models.Value(secrets.token_hex(20))
    with transaction.atomic(using=using):
        for model in LEARNER_TABLES:  # every table naming a learner: facts and the engines' per-learner rows
            rows = model.objects.using(using).filter(course_id=course_id, user_id__in=ids)
            changes: dict[str, object] = {"user_id": new_id}
            if model in FINGERPRINTED:
                changes["fingerprint"] = SHA1(Concat("fingerprint", salt, output_field=models.CharField()))
            counts[model.__name__] = rows.update(**changes)
    return counts


def prune(now: dt.datetime | None = None, *, using: str | None = None) -> PruneReport:
    """De-identify the facts of learners absent from a course for the retention window; drop old samples."""
    report = PruneReport(cutoff=cutoff(now))
    if report.cutoff is None:
        return report
    using = using or conf.analytics_db()
    for course_id in sorted(_courses(using)):
        stale = sorted(stale_learners(course_id, report.cutoff, using))
        for start in range(0, len(stale), CHUNK):
            for table, count in deidentify(course_id, stale[start:start + CHUNK], using).items():
                report.rows[table] = report.rows.get(table, 0) + count
        report.learners += len(stale)
    report.samples_deleted = RejectedEventSample.objects.using(using).filter(created__lt=report.cutoff).delete()[0]
    log.info("openedx_analytics: retention (%s days): de-identified %s learner-course pairs (%s), deleted %s "
             "rejected-event samples", retention_days(), report.learners, report.rows, report.samples_deleted)
    return report
