"""The backfill's Celery task: one chunk of a run split across workers (``backfill_analytics --workers``)."""
from __future__ import annotations

from typing import Any

from celery import shared_task

from openedx_analytics.backfill.heap import startup_objects_frozen
from openedx_analytics.backfill.runner import run_spec
from openedx_analytics.worker.tasks import IDEMPOTENT_TASK, unavailable_database_retries


@shared_task(name="openedx_analytics.backfill_chunk", result_awaited=staticmethod(lambda args, kwargs: True),
             **IDEMPOTENT_TASK)
@unavailable_database_retries
def backfill_chunk(arguments: dict[str, Any], spec: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Backfill one chunk of a split run (a line range of a log, or one LMS source); return its summary.

    The chunk resumes from the run's checkpoint, so a retried or redelivered chunk only
    redoes its last unfinished batch. The command recomputes aggregates once all chunks are done.
    """
    with startup_objects_frozen():
        return run_spec(arguments, spec, options)
