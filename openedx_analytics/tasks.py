"""Celery tasks: take event batches into facts and keep aggregates current.

Tasks are idempotent (facts de-duplicate, aggregates are recomputed), so they are
acknowledged late and retried on database errors: a worker killed mid-task loses nothing.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

from openedx_analytics.pipeline.drain import drain
from openedx_analytics.pipeline.ingest import ingest

log = logging.getLogger(__name__)


@shared_task(
    name="openedx_analytics.process_event_batch",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def process_event_batch(events: list[dict[str, Any]], source: str = "live") -> dict[str, Any]:
    """Store one batch of raw events as facts, then recompute the courses it touched."""
    result = ingest(events, source=source)
    report = drain(courses=result.courses)
    return {"accepted": result.accepted, "rejected": dict(result.rejected), "recomputed": report.total}


@shared_task(
    name="openedx_analytics.recompute_dirty_scopes",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def recompute_dirty_scopes(course_ids: list[str] | None = None) -> int:
    """Drain every dirty scope (or those of ``course_ids``): the periodic sweep and the backfill's last step."""
    report = drain(courses=course_ids)
    if report.failed:
        log.warning("openedx_analytics: %s scopes failed to recompute and stay dirty", len(report.failed))
    return report.total


@shared_task(
    name="openedx_analytics.backfill_chunk",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def backfill_chunk(arguments: dict[str, Any], spec: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Backfill one chunk of a split run (a line range of a log, or one LMS source); return its summary.

    The chunk resumes from the run's checkpoint, so a retried or redelivered chunk only
    redoes its last unfinished batch. The command recomputes aggregates once all chunks are done.
    """
    from openedx_analytics.backfill.runner import run_spec

    return run_spec(arguments, spec, options)
