"""Our event-tracking backend: the door for the LMS's tracking events, in-process.

Registered by ``plugin_settings`` as its own top-level ``EVENT_TRACKING_BACKENDS`` entry.
It drops names we do not track, keeps only the fields the normalizer reads (the LMS context
also holds the username, email, IP, session, user agent and referrer: none of it leaves the
request), then stages the event for Celery; it never raises.
"""
from __future__ import annotations

import logging
from typing import Any

from openedx_analytics.live.dispatch import enqueue
from openedx_analytics.pipeline.events.registry import is_tracked
from openedx_analytics.pipeline.redaction import redact

log = logging.getLogger(__name__)


class AnalyticsTrackingBackend:
    """event-tracking backend (``send(event)``) feeding the analytics pipeline."""

    def __init__(self, **options: Any) -> None:
        """Accept and ignore OPTIONS, as event-tracking passes them as keyword arguments."""
        self.options = options

    def send(self, event: dict[str, Any]) -> None:
        """Stage a tracked event for Celery; drop the rest. Never raises into the LMS."""
        try:
            name = event.get("name") or event.get("event_type") or ""
            context = event.get("context") if isinstance(event.get("context"), dict) else {}
            if not isinstance(name, str) or not is_tracked(name, context):
                return
            enqueue(redact({
                "name": name,
                "timestamp": event.get("timestamp"),
                "data": event.get("data"),
                "context": context,
            }))
        except Exception:  # noqa: BLE001
            log.exception("openedx_analytics: tracking backend failed on an event; it is lost")
