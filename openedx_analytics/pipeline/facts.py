"""Write normalized records as facts, idempotently, and mark the scopes they change dirty.

Facts and their dirty-scope markers are written in one transaction on the analytics
alias. Duplicates are dropped by the unique constraints (``ignore_conflicts``), so the
same event delivered twice stores one fact. What each record kind writes and marks is
read from the registry (``kinds``). Each fact with a fingerprint keeps the door (or the
sending service) it first came through as its ``source``.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from openedx_analytics import conf
from openedx_analytics.db.bulk import insert_ignore
from openedx_analytics.models.facts import SOURCE_LENGTH
from openedx_analytics.pipeline.kinds import KINDS, RecordKind
from openedx_analytics.pipeline.markers import Scope, mark_dirty
from openedx_analytics.pipeline.records import Record


def write_facts(records: Iterable[Record], *, whole_courses: bool = False, source: str = "") -> set[Scope]:
    """Store the records' facts (duplicates ignored) and mark their scopes dirty; return the scopes.

    With ``whole_courses`` (bulk writers: backfills) the markers ask for a whole rebuild of
    each kind and course touched (``ALL_KEYS``) instead of one marker per day, learner and
    video: a handful of markers per batch, and one rebuild per course at the end.
    ``source`` is kept on the fingerprinted facts written (a fact stored before keeps its own).
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
                if kind.fingerprinted:
                    tag = (source[:SOURCE_LENGTH],)
                    insert_ignore(kind.model, kind.stored_columns, [row + tag for row in table.values()], using)
                else:
                    insert_ignore(kind.model, kind.columns, sorted(table), using)
        mark_dirty(scopes, using=using)
    return scopes
