"""Drain dirty scopes: recompute aggregates from facts, one (kind, course) unit per transaction.

The markers read in one round are grouped by kind and course; each group is a unit that
its engine recomputes in one go for all the keys (days, problems, videos, viewers) that
were marked. Correct with many workers at once:

- a unit runs under a row lock (``ScopeLock`` for its kind and course, SELECT ... FOR
  UPDATE), so two recomputes of the same aggregates never interleave and the last writer
  read the newest facts (video viewers and video timelines share one lock: both write a
  video's timeline);
- only the markers read *before* the recompute are deleted (by id), so a fact that lands
  mid-recompute leaves its marker for the next drain; markers another worker already
  handled while this one waited for the lock are skipped, so a busy course is recomputed
  once, not once per waiting worker.

Failures get one of the three verdicts of ``db.errors.classify``:

- a lost lock race (deadlock victim, lock wait timeout): the unit's transaction was rolled
  back and is rerun at once, a bounded number of times with short waits (``db.retry``);
  only a unit that keeps losing is handled as below, like an unavailable database;
- the analytics database is unavailable (connection lost, server gone, tables not
  migrated): the error propagates, so the calling task's retry policy (bounded, with
  backoff) runs the drain again later; every marker not yet recomputed is still there;
- anything else: the unit is retried key by key, so one bad problem or video never blocks
  the rest of its course. A key that still fails is recorded (``ScopeFailure``) and stays
  dirty for a later attempt; at its ``OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS``-th failure it
  is quarantined: its markers go, an ERROR is logged, and the admin lists it for a retry.
"""
from __future__ import annotations

import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.utils import timezone

from openedx_analytics import conf, metrics
from openedx_analytics.db.errors import retry_later
from openedx_analytics.db.retry import retry_lock_races
from openedx_analytics.models import DirtyScope, ScopeLock
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.markers import SITE, Scope, mark_dirty

log = logging.getLogger(__name__)

#: kind -> its engine's recompute(course_id, keys, now, using)
ENGINES: dict[str, Callable] = {engine.KIND: engine.recompute for engine in (*metrics.ENGINES, *metrics.SITE_ENGINES)}
ID_CHUNK = 900
#: Characters of an error kept with a failed scope.
ERROR_CHARS = 4000


class UnitBusy(Exception):
    """Another worker holds the unit's lock (raised only when not waiting for it)."""


@dataclass
class DrainReport:
    """What a drain did: keys recomputed per kind, scopes that failed (left dirty for another
    attempt), scopes quarantined, and courses with a unit another worker was recomputing
    (left for a follow-up)."""

    recomputed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: list[Scope] = field(default_factory=list)
    quarantined: list[Scope] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        """Scopes (kind, course, key) recomputed in all."""
        return sum(self.recomputed.values())


def _existing(ids: list[int], using: str) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        found.update(DirtyScope.objects.using(using).filter(id__in=chunk).values_list("id", flat=True))
    return found


def _delete(ids: Iterable[int], using: str) -> None:
    ids = sorted(ids)
    for start in range(0, len(ids), ID_CHUNK):
        DirtyScope.objects.using(using).filter(id__in=ids[start:start + ID_CHUNK]).delete()


#: (kind, course) units whose lock row this process has seen: locked with one query from then on.
_known_locks: set[tuple[str, str]] = set()


def _lock(kind: str, course_id: str, using: str, skip_locked: bool) -> ScopeLock:
    """Lock the unit's row (SELECT ... FOR UPDATE), creating it the first time; ``UnitBusy`` if skipped.

    A row this process has seen is locked by its natural key in one query; otherwise it is
    created (or found) first, so a missing row never takes a gap lock two workers could
    deadlock on.
    """
    rows = ScopeLock.objects.using(using).select_for_update(skip_locked=skip_locked)
    if (kind, course_id) in _known_locks:
        held = rows.filter(kind=kind, course_id=course_id, key="").first()
        if held is not None:
            return held
    lock, _ = ScopeLock.objects.using(using).get_or_create(kind=kind, course_id=course_id, key="")
    held = rows.filter(pk=lock.pk).first()
    if held is None:
        raise UnitBusy(f"{kind} of {course_id}")
    _known_locks.add((kind, course_id))
    return held


def recompute_unit(kind: str, course_id: str, markers: dict[int, str] | None, using: str, *, wait: bool = True,
                   skip: Iterable[int] = ()) -> int:
    """Recompute the keys of one kind and course under its lock: those of ``markers`` (id -> key) still
    there, or (``markers`` None) of every marker of the unit but ``skip``, read once the lock is held.

    Returns how many keys were recomputed (0 when another worker handled every marker
    while this one waited for the lock). With ``wait=False`` a lock held by another worker
    raises ``UnitBusy`` at once (on databases that can skip locked rows), so a worker never
    sits idle behind a busy course.
    """
    skip_locked = not wait and connections[using].features.has_select_for_update_skip_locked
    with transaction.atomic(using=using):
        lock = _lock(kind, course_id, using, skip_locked)
        if markers is None:
            skipped = set(skip)
            alive = {
                marker_id: key for marker_id, key in DirtyScope.objects.using(using)
                .filter(kind=kind, course_id=course_id).values_list("id", "key").iterator(chunk_size=5000)
                if marker_id not in skipped
            }
        else:
            alive = {marker_id: markers[marker_id] for marker_id in _existing(list(markers), using)}
        if not alive:
            return 0
        keys = set(alive.values())
        now = timezone.now()
        ENGINES[kind](course_id, keys, now, using)
        ScopeLock.objects.using(using).filter(pk=lock.pk).update(computed_at=now)
        _delete(alive, using)
        _forget_failures(kind, course_id, keys, using)
    return len(keys)


def _forget_failures(kind: str, course_id: str, keys: set[str], using: str) -> None:
    """A scope that recomputed is healthy again: its failed attempts (and any quarantine) are forgotten."""
    failures = ScopeFailure.objects.using(using).filter(kind=kind, course_id=course_id)
    stale = [pk for pk, key in failures.values_list("pk", "key") if key in keys]
    if stale:
        ScopeFailure.objects.using(using).filter(pk__in=stale).delete()


def drain(courses: Iterable[str] | None = None, *, wait: bool = True, max_rounds: int = 1000,
          last_attempt: bool = False) -> DrainReport:
    """Recompute dirty scopes (of ``courses`` only, if given) until none is left; return a report.

    Each round lists the (kind, course) units that have markers and recomputes each unit
    once for all its markers, however many there are (a backfill leaves tens of thousands
    of viewer markers per course; each video is still replayed once). With ``wait=False``
    units another worker is recomputing are skipped and their courses reported as busy.
    With ``last_attempt`` (the calling task has no retry left) a scope that still meets a
    database error is quarantined like any failing scope, instead of failing the task
    again; if the database is really down, recording that fails too and every marker stays.
    """
    using = conf.analytics_db()
    # The site's markers (course id ``SITE``) come from the recomputes of any course: drained with every course.
    course_filter = sorted(set(courses) | {SITE}) if courses is not None else None
    report = DrainReport()
    failed_ids: set[int] = set()
    busy_units: set[tuple[str, str]] = set()
    order = {kind: index for index, kind in enumerate((*DirtyScope.ORDER, *DirtyScope.SITE_ORDER))}
    for _round in range(max_rounds):
        markers = DirtyScope.objects.using(using).exclude(id__in=sorted(failed_ids))
        if course_filter is not None:
            markers = markers.filter(course_id__in=course_filter)
        units = sorted(set(markers.values_list("kind", "course_id").distinct().order_by()) - busy_units,
                       key=lambda unit: (order.get(unit[0], 99), unit[1]))
        if not units:
            break
        for kind, course_id in units:
            try:  # the unit's markers are read under its lock (those another worker handled meanwhile are gone)
                report.recomputed[kind] += retry_lock_races(
                    lambda kind=kind, course_id=course_id: recompute_unit(
                        kind, course_id, None, using, wait=wait, skip=failed_ids),
                    what=f"the recompute of {kind} of {course_id}", using=using)
            except UnitBusy:
                busy_units.add((kind, course_id))
                report.busy.add(course_id)
            except Exception as exc:
                if retry_later(exc) and not last_attempt:
                    raise  # the task retries later; the markers are all still there
                log.warning("openedx_analytics: recomputing %s of %s failed; retrying key by key",
                            kind, course_id, exc_info=True)
                unit = {
                    marker_id: key
                    for marker_id, key in markers.filter(kind=kind, course_id=course_id).values_list("id", "key")
                    .iterator(chunk_size=5000)
                }
                _recompute_key_by_key(kind, course_id, unit, using, report, failed_ids, last_attempt)
    return report


def _recompute_key_by_key(kind: str, course_id: str, unit: dict[int, str], using: str, report: DrainReport,
                          failed_ids: set[int], last_attempt: bool) -> None:
    by_key: dict[str, dict[int, str]] = defaultdict(dict)
    for marker_id, key in unit.items():
        by_key[key][marker_id] = key
    for key, markers in sorted(by_key.items()):
        try:
            report.recomputed[kind] += retry_lock_races(
                lambda markers=markers: recompute_unit(kind, course_id, markers, using),
                what=f"the recompute of {kind} of {course_id}, key {key}", using=using)
        except Exception as exc:
            passing = retry_later(exc)  # the database's trouble, not the scope's
            if passing and not last_attempt:
                raise
            scope = (kind, course_id, key)
            if record_failure(scope, list(markers), exc, using, retries_exhausted=passing):
                report.quarantined.append(scope)
            else:
                report.failed.append(scope)
            failed_ids.update(markers)


def record_failure(scope: Scope, marker_ids: list[int], exc: BaseException, using: str, *,
                   retries_exhausted: bool = False) -> bool:
    """Count a failed recompute of ``scope``; quarantine it (drop ``marker_ids``) at the last attempt.

    ``retries_exhausted``: the task's retries are spent already (on database errors), so
    the scope is quarantined at once. Returns whether the scope is now quarantined.
    """
    kind, course_id, key = scope
    limit = max(int(conf.get("OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS")), 1)
    error = "".join(traceback.format_exception(exc))[-ERROR_CHARS:]
    with transaction.atomic(using=using):
        failure, _ = ScopeFailure.objects.using(using).select_for_update().get_or_create(
            kind=kind, course_id=course_id, key=key)
        failure.attempts += 1
        failure.error = error
        quarantined = retries_exhausted or failure.attempts >= limit
        if quarantined:
            failure.quarantined_at = timezone.now()
            _delete(marker_ids, using)
        failure.save(using=using)
    if quarantined:
        log.error("openedx_analytics: quarantined %s after %s failed recomputes; it no longer blocks its "
                  "course. Fix the cause, then retry it in the admin (Scope failures). Last error: %s",
                  failure, failure.attempts, error.strip().splitlines()[-1] if error.strip() else "?")
    else:
        log.warning("openedx_analytics: recomputing %s failed (attempt %s of %s); it stays dirty for a retry",
                    failure, failure.attempts, limit, exc_info=exc)
    return quarantined


def retry_failed_scopes(failure_ids: list[int]) -> list[str]:
    """Mark the scopes of these ``ScopeFailure`` rows dirty again and forget their failures; return their courses.

    An operator's retry of quarantined scopes: the next drain of each course recomputes them
    (and counts their attempts afresh).
    """
    using = conf.analytics_db()
    with transaction.atomic(using=using):
        failures = list(ScopeFailure.objects.using(using).filter(pk__in=failure_ids)
                        .values_list("pk", "kind", "course_id", "key"))
        mark_dirty({(kind, course_id, key) for _pk, kind, course_id, key in failures}, using=using)
        ScopeFailure.objects.using(using).filter(pk__in=[pk for pk, *_scope in failures]).delete()
    return sorted({course_id for _pk, _kind, course_id, _key in failures})
