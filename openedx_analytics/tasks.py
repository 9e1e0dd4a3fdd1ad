"""Celery tasks: take event batches into facts and keep aggregates current.

Tasks are idempotent (facts de-duplicate, aggregates are recomputed), so they are
acknowledged late and retried on database errors: a worker killed mid-task loses nothing.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import OperationalError

from openedx_analytics import conf
from openedx_analytics.drain import drain
from openedx_analytics.pipeline.ingest import ingest

log = logging.getLogger(__name__)

#: Options of every task here: each is idempotent, so it is acknowledged only once done
#: (a killed worker's task is redelivered) and retried on database errors such as deadlocks.
IDEMPOTENT_TASK: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="openedx_analytics.process_event_batch", **IDEMPOTENT_TASK)
def process_event_batch(events: list[dict[str, Any]], source: str = "live") -> dict[str, Any]:
    """Store one batch of raw events as facts, then recompute the courses it touched."""
    result = ingest(events, source=source)
    report = drain(courses=result.courses, wait=False)
    follow_up(report.busy)
    return {"accepted": result.accepted, "rejected": dict(result.rejected), "recomputed": report.total}


def _follow_up_key(course_id: str) -> str:
    return f"openedx_analytics.follow_up.{course_id}"


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


@shared_task(name="openedx_analytics.recompute_dirty_scopes", **IDEMPOTENT_TASK)
def recompute_dirty_scopes(course_ids: list[str] | None = None, is_follow_up: bool = False, wait: bool = False) -> int:
    """Drain every dirty scope (or those of ``course_ids``): the periodic sweep, follow-ups, a backfill's last step.

    ``wait`` waits for courses another worker is recomputing (a backfill's last step must
    not return before its courses are done); otherwise they get a follow-up.
    """
    if is_follow_up:
        for course_id in course_ids or ():
            try:
                cache.delete(_follow_up_key(course_id))
            except Exception:  # noqa: BLE001
                log.warning("openedx_analytics: could not clear the follow-up mark of %s", course_id)
    report = drain(courses=course_ids, wait=wait)
    follow_up(report.busy)
    if report.failed:
        log.warning("openedx_analytics: %s scopes failed to recompute and stay dirty", len(report.failed))
    return report.total


@shared_task(name="openedx_analytics.backfill_chunk", **IDEMPOTENT_TASK)
def backfill_chunk(arguments: dict[str, Any], spec: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Backfill one chunk of a split run (a line range of a log, or one LMS source); return its summary.

    The chunk resumes from the run's checkpoint, so a retried or redelivered chunk only
    redoes its last unfinished batch. The command recomputes aggregates once all chunks are done.
    """
    from openedx_analytics.backfill.runner import run_spec

    return run_spec(arguments, spec, options)
