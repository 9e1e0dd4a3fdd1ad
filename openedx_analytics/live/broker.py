"""Hand one batch of events to Celery on a time-bounded broker connection (``broker_connection``).

The publisher thread of each process sends its batches here: a broker that is down or hung
costs that thread at most the connect and send timeouts, never an LMS request.
"""
from __future__ import annotations

from typing import Any

from openedx_analytics import broker_connection, conf


def publish(events: list[dict[str, Any]]) -> None:
    """Send ``events`` as one ``process_event_batch`` message (raises when the broker does not take it)."""
    from openedx_analytics.worker.tasks import process_event_batch

    retries = int(conf.get("OPENEDX_ANALYTICS_PUBLISH_RETRIES"))
    broker_connection.send(
        process_event_batch, args=[events, "live"], queue=conf.celery_queue(), retry=retries > 0,
        retry_policy={"max_retries": retries, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5})

