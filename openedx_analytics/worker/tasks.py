"""Celery tasks: take event batches into facts and keep aggregates current.

Tasks are idempotent (facts de-duplicate, aggregates are recomputed), so they are
acknowledged late: a worker killed mid-task loses nothing. They store no result (nobody
reads one; in an LMS that would be a write per task into the result backend).

A write that lost a lock race (a deadlock victim, a lock wait timeout) is rerun at once
(``db.retry``: the drain reruns its unit, a batch's ingest is sent through again). When
the analytics database is unavailable (down, restarting, or its tables not migrated
yet), or a write keeps losing its lock races, the error reaches the task's retry policy
(``db.errors.retry_later``): the task is retried with exponential backoff, a bounded
number of times, and keeps its batch meanwhile. A batch
that still cannot be stored is logged at ERROR with the ``backfill_analytics`` arguments
that recover it. Recomputes that could not run stay as dirty markers in the database:
each task run also sweeps markers older than ``OPENEDX_ANALYTICS_SWEEP_SECONDS``, so
nothing waits for an operator to schedule anything.

A batch's task stores it; the courses it touched are recomputed by one delayed task per
course and window of ``OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS`` (``coalesce``), which
takes every batch stored meanwhile: a course receiving many batches a second is
recomputed once a window instead of once per batch. A course that was not busy is also
recomputed at once by the batch that opens its window: on a quiet site an event shows
within a second, not after a window it shares with nobody.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from celery import Task, current_app, shared_task
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from openedx_analytics import conf, course_cache
from openedx_analytics.db.errors import AnalyticsDatabaseUnavailable, retry_later
from openedx_analytics.db.retry import retry_lock_races
from openedx_analytics.models import DirtyScope
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.privacy import retention
from openedx_analytics.worker import windows
from openedx_analytics.worker.drain import DrainReport, drain
from openedx_analytics.worker.losses import backfill_hint

log = logging.getLogger(__name__)

#: Retries of a task that met an unavailable database: with exponential backoff capped at
#: ``RETRY_BACKOFF_MAX`` seconds (and full jitter) they span about half an hour.
MAX_RETRIES = 12
RETRY_BACKOFF_MAX = 300
#: Delay before the first retry of a scope whose recompute failed (then x4 per attempt).
FAILED_SCOPE_RETRY_SECONDS = 15
_SWEEP_KEY = "openedx_analytics.sweep"


class AnalyticsTask(Task):
    """Our tasks' base: no result stored unless a caller waits for it; a batch lost after its retries is logged.

    ``result_awaited(args, kwargs)`` (a task option) says whether a call's caller waits for
    its result (a backfill's chunks and its final recompute); every other call is sent
    with ``ignore_result``, so the result backend gets no write.
    """

    result_awaited: Callable[[Any, Any], bool] = staticmethod(lambda args, kwargs: False)

    def apply_async(self, args: Any = None, kwargs: Any = None, *positional: Any, **options: Any) -> Any:
        """Send the task; its result is stored only for a caller that waits for it."""
        options.setdefault("ignore_result", not self.result_awaited(args or (), kwargs or {}))
        return super().apply_async(args, kwargs, *positional, **options)

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """The last retry failed: say what is lost and how to get it back."""
        if self.name == process_event_batch.name:
            events = (args[0] if args else kwargs.get("events")) or []
            log.error("openedx_analytics: a batch of %s events could not be stored after %s retries (%s). %s",
                      len(events), self.max_retries, exc, backfill_hint(events))
        else:
            log.error("openedx_analytics: %s failed after %s retries (%s); its dirty scopes stay marked and the "
                      "sweep recomputes them", self.name, self.max_retries, exc)


#: Options of every task here: each is idempotent, so it is acknowledged only once done
#: (a killed worker's task is redelivered), and it is retried while the analytics
#: database is unavailable.
IDEMPOTENT_TASK: dict[str, Any] = {
    "base": AnalyticsTask,
    "acks_late": True,
    "autoretry_for": (AnalyticsDatabaseUnavailable,),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "max_retries": MAX_RETRIES,
}


def unavailable_database_retries(function: Callable) -> Callable:
    """Turn the database errors worth a later retry (``db.errors.retry_later``: the database is
    unavailable, or a write kept losing lock races) into the task's retry."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (DatabaseError, InterfaceError) as exc:
            if retry_later(exc):
                log.warning("openedx_analytics: the analytics database is unavailable or busy (%s); %s will retry",
                            exc, function.__name__)
                raise AnalyticsDatabaseUnavailable(str(exc)) from exc
            raise

    return wrapper


@shared_task(name="openedx_analytics.process_event_batch", ignore_result=True, **IDEMPOTENT_TASK)
@unavailable_database_retries
def process_event_batch(events: list[dict[str, Any]], source: str = "live") -> dict[str, Any]:
    """Store one batch of raw events as facts, then have the courses it touched recomputed.

    Recomputes are coalesced (``coalesce``): one delayed task per course and window takes
    every batch stored meanwhile; the batch that opens the window of a course that was not
    busy recomputes it here too. Without a delay (eager Celery, or a delay of 0) the
    courses are recomputed here. Once the facts are stored the batch is safe; a recompute that then meets an unavailable
    database is handed to ``recompute_dirty_scopes`` (with its own retries) rather than
    retrying this task, which would store the batch's rejections twice.
    """
    # A deadlocked write rolled back its own transaction only; the facts and markers already
    # stored are no-ops the second time, so the batch is sent through again at once.
    result = retry_lock_races(lambda: ingest(events, source=source), what="a batch's ingest")
    courses = coalesce(sorted(result.courses))
    if not courses:
        sweep()
        prune_when_due()
        return {"accepted": result.accepted, "rejected": dict(result.rejected), "recomputed": 0}
    try:
        report = drain(courses=courses, wait=False)
    except (DatabaseError, InterfaceError) as exc:
        if not retry_later(exc):
            raise
        log.warning("openedx_analytics: recomputing %s postponed, the analytics database is unavailable or "
                    "busy (%s)", courses, exc)
        try:
            recompute_dirty_scopes.apply_async(args=[courses], countdown=1, queue=conf.celery_queue())
        except Exception:  # noqa: BLE001 - the batch is stored and its markers too: the sweep recomputes them
            log.warning("openedx_analytics: could not schedule the recompute of %s; the sweep will", courses,
                        exc_info=True)
        return {"accepted": result.accepted, "rejected": dict(result.rejected), "recomputed": 0}
    after_drain(report)
    sweep()
    prune_when_due()
    return {"accepted": result.accepted, "rejected": dict(result.rejected), "recomputed": report.total}


def coalesce(courses: list[str]) -> list[str]:
    """Leave the recompute of ``courses`` to one delayed task per course and window; returns those to recompute now.

    The first batch of a course in a window (``windows.join_or_open``: a cache key that lives
    that long, holding when it closes) opens it; the course's later batches of the window find
    the key (or this process's note of it) and mark the course busy
    (``windows.busy_cache_key``). A course that was not busy in its last window (a quiet site:
    one enrollment now and then) is recomputed at once by the batch that opens the window, and
    nothing is scheduled: a lone event waits for no window, and no delayed task is left behind
    it. The window's own recompute, ``recompute_dirty_scopes`` due
    ``windows.WINDOW_MARGIN_SECONDS`` after the window closes, is scheduled by one batch
    (``windows.claim_recompute``): the opener when the course is busy, otherwise the first
    batch that joins the window. It starts after the window is over, so it reads every marker
    stored during it; a batch stored after that finds no open window and opens the next one.
    No key ever has to be cleared, so this holds with any cache, shared or per process (a
    per-process cache only schedules one task per process and window); a cache or a broker
    that fails means one more task, or a recompute at once. Nothing is delayed when Celery
    runs eagerly or the delay is 0.

    Why no delayed task for a quiet window: a worker reserving one message at a time (the
    LMS's ``--prefetch-multiplier=1`` with late acknowledgement) holds each delayed task
    until it is due and runs it in the slot the next batch needs, so a quiet site's batches
    could wait behind recomputes that had nothing left to do.
    """
    if int(conf.get("OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS") or 0) <= 0 or current_app.conf.task_always_eager:
        return list(courses)
    now_courses = []
    for course_id in courses:
        seconds = windows.join_or_open(course_id)
        if seconds is not None and not windows.was_busy(course_id):
            now_courses.append(course_id)  # a quiet course: at once; a batch joining the window schedules its task
            continue
        due = windows.claim_recompute(course_id)
        if due is None:  # the window's recompute is scheduled already: it takes this batch
            continue
        try:
            recompute_dirty_scopes.apply_async(args=[[course_id]],
                                               countdown=math.ceil(due) + windows.WINDOW_MARGIN_SECONDS,
                                               queue=conf.celery_queue())
        except Exception:  # noqa: BLE001 - the markers are stored; recompute here instead of waiting for the sweep
            log.warning("openedx_analytics: could not schedule the recompute of %s; recomputing it now", course_id,
                        exc_info=True)
            windows.forget_window(course_id)
            now_courses.append(course_id)
    return now_courses


def _follow_up_key(course_id: str) -> str:
    return f"openedx_analytics.follow_up.{course_id}"


def after_drain(report: DrainReport) -> None:
    """Schedule what a drain left: follow-ups of busy courses, and later attempts of failed scopes."""
    follow_up(report.busy)
    if report.failed and not current_app.conf.task_always_eager:
        using = conf.analytics_db()
        for course_id in sorted({course for _kind, course, _key in report.failed}):
            attempts = max(ScopeFailure.objects.using(using).filter(course_id=course_id, quarantined_at__isnull=True)
                           .values_list("attempts", flat=True), default=1)
            countdown = min(FAILED_SCOPE_RETRY_SECONDS * 4 ** max(attempts - 1, 0), RETRY_BACKOFF_MAX)
            try:
                recompute_dirty_scopes.apply_async(args=[[course_id]], countdown=countdown, queue=conf.celery_queue())
            except Exception:  # noqa: BLE001 - the markers are stored: the sweep retries them
                log.warning("openedx_analytics: could not schedule the retry of %s; the sweep will", course_id,
                            exc_info=True)


def follow_up(courses: set[str]) -> None:
    """Schedule one delayed recompute per busy course (another worker was recomputing it).

    At most one follow-up is pending per course: the cache key is set here and cleared when
    the follow-up starts, before it reads any marker, so markers written meanwhile are
    always seen by some follow-up.
    """
    if not courses:
        return
    if current_app.conf.task_always_eager:  # no delay possible in-process: wait for the other worker
        drain(courses=sorted(courses), wait=True)
        return
    delay = int(conf.get("OPENEDX_ANALYTICS_BUSY_RETRY_SECONDS"))
    for course_id in sorted(courses):
        try:
            scheduled_already = not cache.add(_follow_up_key(course_id), True, timeout=max(delay * 30, 60))
        except Exception:  # noqa: BLE001 - no cache: schedule anyway (duplicates are cheap no-ops)
            scheduled_already = False
        if not scheduled_already:
            recompute_dirty_scopes.apply_async(args=[[course_id], True], countdown=delay, queue=conf.celery_queue())


def stale_courses(now: dt.datetime | None = None) -> list[str]:
    """Courses with a dirty marker older than the sweep interval (left by a crash, a failure or an outage)."""
    seconds = int(conf.get("OPENEDX_ANALYTICS_SWEEP_SECONDS"))
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=seconds)
    return sorted(set(
        DirtyScope.objects.using(conf.analytics_db()).filter(created__lt=cutoff)
        .values_list("course_id", flat=True).distinct().order_by()
    ))


def sweep() -> None:
    """Recompute the courses whose markers are old; at most once per sweep interval across all workers."""
    seconds = int(conf.get("OPENEDX_ANALYTICS_SWEEP_SECONDS"))
    try:
        if not cache.add(_SWEEP_KEY, True, timeout=max(seconds, 1)):
            return
    except Exception:  # noqa: BLE001 - no cache: sweep (it is one indexed query when nothing is old)
        log.debug("openedx_analytics: no cache for the sweep's interval", exc_info=True)
    courses = stale_courses()
    if courses:
        log.info("openedx_analytics: sweeping %s courses with old dirty scopes", len(courses))
        after_drain(drain(courses=courses, wait=False))


def _waits(args: Any, kwargs: Any) -> bool:
    """A recompute's caller waits for it when it asks to wait for busy courses (a backfill's last step)."""
    return bool(kwargs.get("wait", args[2] if len(args) > 2 else False))


@shared_task(name="openedx_analytics.recompute_dirty_scopes", bind=True, result_awaited=staticmethod(_waits),
             **IDEMPOTENT_TASK)
@unavailable_database_retries
def recompute_dirty_scopes(self: Task, course_ids: list[str] | None = None, is_follow_up: bool = False,
                           wait: bool = False, clear_cached_content: bool = False) -> int:
    """Drain every dirty scope (or those of ``course_ids``): a window's recompute, follow-ups, retries, a
    backfill's last step.

    ``wait`` waits for courses another worker is recomputing (a backfill's last step must
    not return before its courses are done); otherwise they get a follow-up. On the last
    retry, a scope that still meets a database error is quarantined instead.
    ``clear_cached_content`` (after a retirement) clears the cached pages of ``course_ids``
    once their figures are recomputed.
    """
    if is_follow_up:
        for course_id in course_ids or ():
            try:
                cache.delete(_follow_up_key(course_id))
            except Exception:  # noqa: BLE001
                log.warning("openedx_analytics: could not clear the follow-up mark of %s", course_id)
    started = time.monotonic()
    report = drain(courses=course_ids, wait=wait, last_attempt=self.request.retries >= (self.max_retries or 0))
    if course_ids is not None and len(course_ids) == 1:  # what the course's next window is sized on
        windows.record_recompute_seconds(course_ids[0], time.monotonic() - started)
    after_drain(report)
    if clear_cached_content and course_ids:
        course_cache.clear(course_ids)
    if course_ids is not None:
        sweep()
    return report.total


#: Cache key that marks the retention pruning as done for ``retention.PRUNE_INTERVAL``.
PRUNED_CACHE_KEY = "openedx_analytics.retention.pruned"


def prune_when_due() -> None:
    """Send the pruning task if retention is on and it has not run within ``PRUNE_INTERVAL`` (never raises)."""
    try:
        if retention.retention_days() is None:
            return
        if not cache.add(PRUNED_CACHE_KEY, True, timeout=int(retention.PRUNE_INTERVAL.total_seconds())):
            return
        prune_learner_data.apply_async(queue=conf.celery_queue())
    except Exception:  # noqa: BLE001 - pruning is housekeeping; it must never fail the batch that triggered it
        log.exception("openedx_analytics: could not schedule the retention pruning")


@shared_task(name="openedx_analytics.prune_learner_data", **IDEMPOTENT_TASK)
def prune_learner_data() -> dict[str, Any]:
    """Apply the learner-data retention (``privacy.retention``); sent at most once a day by ``prune_when_due``."""
    report = retention.prune()
    return {"learners": report.learners, "rows": report.rows, "samples_deleted": report.samples_deleted}
