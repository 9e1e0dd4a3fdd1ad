"""Verify a course: what its engines compute from its facts against what is stored, and its facts against the LMS.

This is how an operator proves the dashboard right after a backfill, an outage or an
upgrade. For each engine of ``metrics.ENGINES``, every table it owns (its aggregates, its
running tallies and the per-learner rows its live recomputes subtract from) is compared
with what the engine's own steps give from the course's facts (a whole rebuild, in
memory; nothing is written), so there is no second implementation of any rule here;
every stored row that differs is named with its table and key. Inside the LMS (or with
the stub LMS app) the learners' current enrollment by the facts is also compared with
the LMS's enrollment table, read the way a backfill reads it (through the normalizer).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openedx_analytics import conf
from openedx_analytics.metrics import ENGINES, enrollment
from openedx_analytics.metrics.engine import Engine
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import EnrollmentChange

FLOAT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Difference:
    """One stored row (or number) that differs: its table, its key, what is stored, what the facts say it should be."""

    area: str
    key: str
    stored: Any
    expected: Any

    def __str__(self) -> str:
        return f"{self.area} {self.key}: stored {self.stored!r}, expected {self.expected!r}"


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, float) and isinstance(want, float):
        return abs(have - want) <= FLOAT_TOLERANCE
    return have == want


def compare(area: str, stored: dict[Any, Any], expected: dict[Any, Any]) -> list[Difference]:
    """Every key whose stored value differs from the expected one (missing on either side included)."""
    return [
        Difference(area, str(key), stored.get(key), expected.get(key))
        for key in sorted(set(stored) | set(expected), key=str)
        if not _same(stored.get(key), expected.get(key))
    ]


def verify_engine(engine: Engine, course_id: str, using: str) -> Iterator[Difference]:
    """Every difference between the tables ``engine`` owns and what a whole rebuild from the course's facts gives.

    The engine gives what it expects part by part (a few blocks at a time); each part is
    compared with the stored rows it covers, table by table, before the next is computed.
    """
    for part in engine.expected(course_id, using):
        for table in part.tables:
            yield from compare(table.label, table.stored(course_id, using, part.where), part.rows[table.label])


def verify_course(course_id: str) -> list[Difference]:
    """Every difference between the course's stored rows (aggregates, running tallies and per-learner rows)
    and what the engines compute from its facts."""
    using = conf.analytics_db()
    return [difference for engine in ENGINES for difference in verify_engine(engine, course_id, using)]


def current_enrollment(rows: Iterable[enrollment.FactRow]) -> dict[str, int]:
    """Learners enrolled now, in all (``total``) and per mode, from enrollment fact rows."""
    counts: Counter = Counter()
    for days in enrollment.learner_end_states(rows).values():
        if days and days[-1][1]:
            counts["total"] += 1
            counts[days[-1][2]] += 1
    return dict(counts)


def _lms_rows(course_id: str) -> Iterable[enrollment.FactRow]:
    """The LMS's enrollment table and its history as fact rows, through the normalizer as a backfill reads them."""
    from openedx_analytics.lms import history

    for raw in history.iter_enrollment_events([course_id]):
        for record in normalize(raw).records:
            if isinstance(record, EnrollmentChange):
                yield (record.user_id, record.time, record.is_active, record.mode, record.fingerprint())


def verify_against_lms(course_id: str) -> list[Difference]:
    """Compare who is enrolled now, in all and per mode, by the course's facts and by the LMS's tables."""
    facts = current_enrollment(enrollment.load(course_id, conf.analytics_db()))
    lms = current_enrollment(_lms_rows(course_id))
    return compare("LMS enrollment", facts, lms)

