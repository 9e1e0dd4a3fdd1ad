"""Write normalized records as facts, idempotently, and mark the scopes they change dirty.

Facts and their dirty-scope markers are written in one transaction on the analytics
alias. Duplicates are dropped by the unique constraints (``ignore_conflicts``), so the
same event delivered twice stores one fact. What each record kind writes and marks is
read from the registry (``kinds``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from openedx_analytics import conf
from openedx_analytics.db.bulk import insert_ignore
from openedx_analytics.pipeline.kinds import KINDS, RecordKind
from openedx_analytics.pipeline.markers import Scope, mark_dirty
from openedx_analytics.pipeline.records import Record


def write_facts(records: Iterable[Record], *, whole_courses: bool = False) -> set[Scope]:
    """Store the records' facts (duplicates ignored) and mark their scopes dirty; return the scopes.

    With ``whole_courses`` (bulk writers: backfills) the markers ask for a whole rebuild of
    each kind and course touched (``ALL_KEYS``) instead of one marker per day, learner and
    video: a handful of markers per batch, and one rebuild per course at the end.
    """
    # kind -> identity -> row: a fingerprinted row is identified by its fingerprint, any other by itself,
    # so a batch repeating a fact writes it once.
    rows: dict[RecordKind, dict[object, tuple]] = defaultdict(dict)
    scopes: set[Scope] = set()
    whole: set[tuple[RecordKind, str]] = set()
    for record in records:
        kind = KINDS[type(record)]
        if whole_courses:
            whole.add((kind, record.course_id))  # the keys are not needed: "*" replaces them
        else:
            scopes.update(kind.scopes(record))
        table = rows[kind]
        for row in kind.rows(record):
            table[row[-1] if kind.fingerprinted else row] = row
    if whole_courses:
        scopes = {scope for kind, course in whole for scope in kind.whole_course_scopes(course)}
    if not rows:
        return scopes
    using = conf.analytics_db()
    with transaction.atomic(using=using):
        for kind in KINDS.values():  # one order of tables (and of rows without a fingerprint) for every writer
            table = rows.get(kind)
            if table:
                values = list(table.values()) if kind.fingerprinted else sorted(table)
                insert_ignore(kind.model, kind.columns, values, using)
        mark_dirty(scopes, using=using)
    return scopes
