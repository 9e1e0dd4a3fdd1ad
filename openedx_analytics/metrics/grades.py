"""Grades and certificates: passing learners, grade distribution of enrolled learners, certificates by mode.

Each learner's facts make one ``Standing`` (passing or not, grade bucket if enrolled,
mode of a downloadable certificate); the course's figures are the sum of its learners'
standings. ``recompute`` (what the drain calls) rebuilds only the learners touched: their
old standings are subtracted from the stored figures and the new ones added, so a grade
change costs the same in a course of any size. A whole rebuild sums every learner afresh.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openedx_analytics.db.bulk import insert_ignore
from openedx_analytics.metrics import enrollment
from openedx_analytics.metrics.enrollment import learner_end_states
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import (
    CertificateFact,
    CourseGrades,
    GradeFact,
    GradeLearner,
    PassingFact,
)
from openedx_analytics.pipeline.markers import user_ids_of

BUCKETS = [f"{low}-{low + 9}" if low < 90 else "90-100" for low in range(0, 100, 10)]
DOWNLOADABLE = "downloadable"


def bucket_of(percent: float) -> str:
    """The tenths bucket of a grade given as 0.0-1.0."""
    tenth = min(int(round(percent * 100, 6)) // 10, 9)
    return BUCKETS[max(tenth, 0)]


@dataclass(frozen=True)
class Standing:
    """What one learner adds to the course's grade figures."""

    passing: bool
    bucket: str  # "" when not currently enrolled
    certificate: str  # mode of a downloadable certificate, "" when none


def _latest(rows: Iterable[tuple[Any, ...]]) -> tuple[Any, ...] | None:
    """The newest of one learner's rows (user_id, time, fingerprint, *values)."""
    return max(rows, key=lambda row: (row[1], row[2]), default=None)


def standing_of(passing: list[tuple], grades: list[tuple], certificates: list[tuple],
                enrollments: list[enrollment.FactRow]) -> Standing:
    """One learner's standing from their own fact rows.

    Passing counts by the latest passing status whether or not the learner is still
    enrolled; the grade bucket only for a learner enrolled now (no grade yet: ``0-9``);
    a certificate by the latest status, when it is downloadable.
    """
    status = _latest(passing)
    grade = _latest(grades)
    certificate = _latest(certificates)
    days = next(iter(learner_end_states(enrollments).values()), [])
    enrolled = bool(days) and days[-1][1]
    return Standing(
        passing=bool(status and status[3]),
        bucket=(bucket_of(grade[3]) if grade else BUCKETS[0]) if enrolled else "",
        certificate=certificate[4] if certificate and certificate[3] == DOWNLOADABLE else "",
    )


@dataclass
class Tally:
    """The course's sums over its learners' standings."""

    passing: int = 0
    buckets: Counter = field(default_factory=Counter)
    certificates: Counter = field(default_factory=Counter)

    def add(self, standing: Standing, sign: int = 1) -> None:
        """Add (``sign`` 1) or subtract (-1) one learner's standing."""
        self.passing += sign * int(standing.passing)
        if standing.bucket:
            self.buckets[standing.bucket] += sign
        if standing.certificate:
            self.certificates[standing.certificate] += sign


def compute(tally: Tally) -> dict[str, Any]:
    """The stored figures (passing learners, buckets, certificates by mode) of a tally."""
    return {
        "passing_users": tally.passing,
        "buckets": [{"bucket": name, "count": tally.buckets.get(name, 0)} for name in BUCKETS],
        "certificates": {mode: n for mode, n in sorted(tally.certificates.items()) if n > 0},
    }


_KINDS = ((PassingFact, ("is_passing",)), (GradeFact, ("percent",)), (CertificateFact, ("status", "mode")))


def load_standings(course_id: str, using: str, user_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Standing]]:
    """Each learner's standing (of ``user_ids`` only, if given; else of every learner with a fact)."""
    groups = [None] if user_ids is None else list(chunks(sorted(user_ids)))
    for ids in groups:
        facts: dict[int, list[list]] = defaultdict(lambda: [[], [], [], []])
        for index, (model, fields) in enumerate(_KINDS):
            queryset = model.objects.using(using).filter(course_id=course_id)
            if ids is not None:
                queryset = queryset.filter(user_id__in=ids)
            for row in queryset.values_list("user_id", "time", "fingerprint", *fields).iterator(chunk_size=5000):
                facts[row[0]][index].append(row)
        for row in enrollment.load_facts(course_id, using, ids):
            facts[row[0]][3].append(row)
        for user_id in sorted(facts):
            yield user_id, standing_of(*facts[user_id])


def compute_course(standings: Iterable[Standing]) -> Tally:
    """The course's tally from all its learners' standings."""
    tally = Tally()
    for standing in standings:
        tally.add(standing)
    return tally


FIELDS = ("passing_users", "buckets", "certificates")


def stored(course_id: str, using: str) -> dict[str, Any]:
    """The course's stored figures ({} when none)."""
    row = CourseGrades.objects.using(using).filter(course_id=course_id).values_list(*FIELDS).first()
    return dict(zip(FIELDS, row, strict=True)) if row else {}


def write(course_id: str, tally: Tally, now: dt.datetime, using: str) -> None:
    """Store the course's figures from its tally."""
    CourseGrades.objects.using(using).update_or_create(
        course_id=course_id, defaults={**compute(tally), "last_updated": now},
    )


_STANDING_COLUMNS = ("course_id", "user_id", "passing", "bucket", "certificate")


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the course's grade figures up to date for the learners named by ``keys`` (user ids).

    ``ALL_KEYS`` (or a key that is not a user id, or a course without stored figures)
    rebuilds every learner's standing.
    """
    named = user_ids_of(keys)
    stored_row = None
    if named is not None:
        stored_row = CourseGrades.objects.using(using).filter(course_id=course_id).first()
    if stored_row is None:
        GradeLearner.objects.using(using).filter(course_id=course_id).delete()
        tally = Tally()
        rows = []
        for user_id, standing in load_standings(course_id, using):
            tally.add(standing)
            rows.append((course_id, user_id, standing.passing, standing.bucket, standing.certificate))
        insert_ignore(GradeLearner, _STANDING_COLUMNS, rows, using, ignore_conflicts=False)
        if rows:
            write(course_id, tally, now, using)
        else:  # no learner has a fact here: no figures, as for a course never seen
            CourseGrades.objects.using(using).filter(course_id=course_id).delete()
        return
    tally = Tally(passing=stored_row.passing_users,
                  buckets=Counter({row["bucket"]: row["count"] for row in stored_row.buckets}),
                  certificates=Counter(stored_row.certificates))
    user_ids = sorted(named)
    for ids in chunks(user_ids):
        old = GradeLearner.objects.using(using).filter(course_id=course_id, user_id__in=ids)
        for passing, bucket, certificate in old.values_list("passing", "bucket", "certificate"):
            tally.add(Standing(passing, bucket, certificate), -1)
        old.delete()
    rows = []
    for user_id, standing in load_standings(course_id, using, user_ids):
        tally.add(standing)
        rows.append((course_id, user_id, standing.passing, standing.bucket, standing.certificate))
    insert_ignore(GradeLearner, _STANDING_COLUMNS, rows, using, ignore_conflicts=False)
    write(course_id, tally, now, using)
