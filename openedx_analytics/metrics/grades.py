"""Grades and certificates: passing learners, grade distribution of enrolled learners, certificates by mode.

Enrolled learners without a grade yet are counted apart (``not_graded``), not in the 0-9 bucket.

The steps of an engine (``metrics.engine``): each learner's facts make one ``Standing``
(passing or not, grade bucket if enrolled, mode of a downloadable certificate; stored as
a ``GradeLearner`` row), the tally sums the standings, and ``compute`` gives the course's
figures. ``recompute`` (what the drain calls) rebuilds only the learners touched: their
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
from openedx_analytics.metrics.engine import Expected, Table
from openedx_analytics.metrics.enrollment import learner_end_states
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import (
    CertificateFact,
    CourseGrades,
    DirtyScope,
    GradeFact,
    GradeLearner,
    PassingFact,
)
from openedx_analytics.pipeline.markers import user_ids_of

BUCKETS = [f"{low}-{low + 9}" if low < 90 else "90-100" for low in range(0, 100, 10)]
#: The bucket of an enrolled learner the LMS has not graded yet (no grade fact): apart from a graded 0-9.
NOT_GRADED = "none"
DOWNLOADABLE = "downloadable"


def bucket_of(percent: float) -> str:
    """The tenths bucket of a grade given as 0.0-1.0."""
    tenth = min(int(round(percent * 100, 6)) // 10, 9)
    return BUCKETS[max(tenth, 0)]


@dataclass(frozen=True)
class Standing:
    """What one learner adds to the course's grade figures."""

    passing: bool
    bucket: str  # "" when not currently enrolled; NOT_GRADED when enrolled without a grade yet
    certificate: str  # mode of a downloadable certificate, "" when none


def _latest(rows: Iterable[tuple[Any, ...]]) -> tuple[Any, ...] | None:
    """The newest of one learner's rows (user_id, time, fingerprint, *values)."""
    return max(rows, key=lambda row: (row[1], row[2]), default=None)


def standing_of(passing: list[tuple], grades: list[tuple], certificates: list[tuple],
                enrollments: list[enrollment.FactRow]) -> Standing:
    """One learner's standing from their own fact rows.

    Passing counts by the latest passing status whether or not the learner is still
    enrolled; the grade bucket only for a learner enrolled now (no grade yet: ``NOT_GRADED``,
    counted apart from a grade of 0-9%);
    a certificate by the latest status, when it is downloadable.
    """
    status = _latest(passing)
    grade = _latest(grades)
    certificate = _latest(certificates)
    days = next(iter(learner_end_states(enrollments).values()), [])
    enrolled = bool(days) and days[-1][1]
    return Standing(
        passing=bool(status and status[3]),
        bucket=(bucket_of(grade[3]) if grade else NOT_GRADED) if enrolled else "",
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


def compute(sums: Tally) -> dict[str, Any]:
    """The stored figures (passing learners, graded buckets, enrolled learners not graded yet, certificates
    by mode) of a tally."""
    return {
        "passing_users": sums.passing,
        "buckets": [{"bucket": name, "count": sums.buckets.get(name, 0)} for name in BUCKETS],
        "not_graded": sums.buckets.get(NOT_GRADED, 0),
        "certificates": {mode: n for mode, n in sorted(sums.certificates.items()) if n > 0},
    }


#: The facts a learner's standing is made of: passing, grade, certificate rows, then enrollment ``FactRow``s.
LearnerFacts = tuple[list[tuple], list[tuple], list[tuple], list[enrollment.FactRow]]
_KINDS = ((PassingFact, ("is_passing",)), (GradeFact, ("percent",)), (CertificateFact, ("status", "mode")))
FIELDS = ("passing_users", "buckets", "not_graded", "certificates")
KIND = DirtyScope.GRADES
FIGURES = Table("grades", CourseGrades, (), FIELDS, per_field=True)
LEARNERS = Table("grade learner", GradeLearner, ("user_id",), ("passing", "bucket", "certificate"))
TABLES = (FIGURES, LEARNERS)


def load(course_id: str, using: str, user_ids: Iterable[int] | None = None) -> Iterator[tuple[int, LearnerFacts]]:
    """Each learner's facts (of ``user_ids`` only, if given; else of every learner with a fact), by user id."""
    groups = [None] if user_ids is None else list(chunks(sorted(user_ids)))
    for ids in groups:
        facts: dict[int, LearnerFacts] = defaultdict(lambda: ([], [], [], []))
        for index, (model, fields) in enumerate(_KINDS):
            queryset = model.objects.using(using).filter(course_id=course_id)
            if ids is not None:
                queryset = queryset.filter(user_id__in=ids)
            for row in queryset.values_list("user_id", "time", "fingerprint", *fields).iterator(chunk_size=5000):
                facts[row[0]][index].append(row)
        for row in enrollment.load(course_id, using, ids):
            facts[row[0]][3].append(row)
        for user_id in sorted(facts):
            yield user_id, facts[user_id]


def contributions(facts: Iterable[tuple[int, LearnerFacts]]) -> Iterator[tuple[int, Standing]]:
    """Each learner's standing, from their own facts."""
    for user_id, learner_facts in facts:
        yield user_id, standing_of(*learner_facts)


def tally(standings: Iterable[tuple[int, Standing]]) -> Tally:
    """The course's tally of ``standings``."""
    sums = Tally()
    for _user, standing in standings:
        sums.add(standing)
    return sums


def write(course_id: str, sums: Tally | None, now: dt.datetime, using: str) -> None:
    """Store the course's figures from its tally (None: no learner has a fact here, so no figures, as for a
    course never seen)."""
    if sums is None:
        CourseGrades.objects.using(using).filter(course_id=course_id).delete()
        return
    CourseGrades.objects.using(using).update_or_create(
        course_id=course_id, defaults={**compute(sums), "last_updated": now},
    )


def _learner_values(standing: Standing) -> tuple[bool, str, str]:
    """A standing as the ``GradeLearner`` columns after the learner's id."""
    return standing.passing, standing.bucket, standing.certificate


def _store_learners(course_id: str, standings: Iterable[tuple[int, Standing]], using: str) -> None:
    """Insert the ``GradeLearner`` rows of ``standings`` (the rows they replace are deleted already)."""
    rows = [(course_id, user_id, *_learner_values(standing)) for user_id, standing in standings]
    insert_ignore(GradeLearner, ("course_id", "user_id", *LEARNERS.value_fields), rows, using, ignore_conflicts=False)


def expected(course_id: str, using: str) -> Iterator[Expected]:
    """Every learner's row and the course's figures, as a whole rebuild gives them (no figures without a learner)."""
    standings = list(contributions(load(course_id, using)))
    part = Expected(TABLES)
    for user_id, standing in standings:
        part.add(LEARNERS, (user_id,), _learner_values(standing))
    if standings:
        figures = compute(tally(standings))
        part.add(FIGURES, (), tuple(figures[name] for name in FIELDS))
    yield part


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the course's grade figures up to date for the learners named by ``keys`` (user ids).

    Their old standings are subtracted from the stored figures and their new ones added.
    ``ALL_KEYS`` (or a key that is not a user id, or a course without stored figures)
    rebuilds every learner's standing.
    """
    named = user_ids_of(keys)
    stored_row = None
    if named is not None:
        stored_row = CourseGrades.objects.using(using).filter(course_id=course_id).first()
    if stored_row is None:
        GradeLearner.objects.using(using).filter(course_id=course_id).delete()
        standings = list(contributions(load(course_id, using)))
        _store_learners(course_id, standings, using)
        write(course_id, tally(standings) if standings else None, now, using)
        return
    sums = Tally(passing=stored_row.passing_users,
                 buckets=Counter({**{row["bucket"]: row["count"] for row in stored_row.buckets},
                                  NOT_GRADED: stored_row.not_graded}),
                 certificates=Counter(stored_row.certificates))
    user_ids = sorted(named)
    for ids in chunks(user_ids):
        old = GradeLearner.objects.using(using).filter(course_id=course_id, user_id__in=ids)
        for passing, bucket, certificate in old.values_list(*LEARNERS.value_fields):
            sums.add(Standing(passing, bucket, certificate), -1)
        old.delete()
    standings = list(contributions(load(course_id, using, user_ids)))
    for _user, standing in standings:
        sums.add(standing)
    _store_learners(course_id, standings, using)
    write(course_id, sums, now, using)
