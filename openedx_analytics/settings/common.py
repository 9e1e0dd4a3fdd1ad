"""Settings every LMS environment gets from openedx-analytics.

``plugin_settings`` only fills in what the operator has not set, and appends to
shared structures (database routers, tracking backends) instead of replacing them.
"""
from __future__ import annotations

from typing import Any

ROUTER_PATH = "openedx_analytics.router.AnalyticsRouter"
TRACKING_BACKEND_KEY = "openedx_analytics"

DEFAULTS: dict[str, Any] = {
    # .. setting_name: OPENEDX_ANALYTICS_DATABASE
    # .. setting_default: "analytics"
    # .. setting_description: Alias in DATABASES that holds the analytics facts, dirty scopes and
    #   aggregates. When the alias is not in DATABASES, everything falls back to "default".
    "OPENEDX_ANALYTICS_DATABASE": "analytics",
    # .. setting_name: OPENEDX_ANALYTICS_CELERY_QUEUE
    # .. setting_default: None
    # .. setting_description: Celery queue that receives event batches and recompute tasks. None
    #   uses the Celery app's default queue (in the LMS, set it to a queue your workers consume).
    "OPENEDX_ANALYTICS_CELERY_QUEUE": None,
    # .. setting_name: OPENEDX_ANALYTICS_MAX_BATCH_SIZE
    # .. setting_default: 500
    # .. setting_description: Most events one Celery message carries. A request that emits more
    #   sends several messages; memory held per request stays bounded.
    "OPENEDX_ANALYTICS_MAX_BATCH_SIZE": 500,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_RETRIES
    # .. setting_default: 1
    # .. setting_description: How many times handing a batch to the broker is retried before the
    #   batch is logged as lost (with the course ids and time window to backfill). Kept low so a
    #   broker outage does not slow LMS requests.
    "OPENEDX_ANALYTICS_PUBLISH_RETRIES": 1,
    # .. setting_name: OPENEDX_ANALYTICS_REJECTED_SAMPLE_SIZE
    # .. setting_default: 100
    # .. setting_description: Rejected events kept per rejection reason for operators to inspect
    #   (oldest dropped first). Counts by reason are kept whatever this is.
    "OPENEDX_ANALYTICS_REJECTED_SAMPLE_SIZE": 100,
    # .. setting_name: OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO
    # .. setting_default: 0.05
    # .. setting_description: When no event reports a video's duration, the timeline ends at the
    #   last segment (walking back from the last one watched) whose viewers are at least this
    #   fraction of the video's peak viewers (those of its most-watched segment).
    "OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO": 0.05,
    # .. setting_name: OPENEDX_ANALYTICS_BUSY_RETRY_SECONDS
    # .. setting_default: 2
    # .. setting_description: A worker that finds a course's aggregates being recomputed by
    #   another worker does not wait for it: it schedules one follow-up recompute of that course
    #   this many seconds later (at most one pending per course, through the Django cache).
    "OPENEDX_ANALYTICS_BUSY_RETRY_SECONDS": 2,
    # .. setting_name: OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS
    # .. setting_default: 3
    # .. setting_description: How many times the recompute of one scope (a course's enrollment,
    #   a problem, a video...) may fail with an error other than an unavailable database before
    #   the scope is quarantined: its markers are removed so it stops costing its course, it is
    #   logged at ERROR and listed in the admin ("Scope failures"), where an operator retries it.
    "OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS": 3,
    # .. setting_name: OPENEDX_ANALYTICS_SWEEP_SECONDS
    # .. setting_default: 600
    # .. setting_description: Dirty scopes older than this are recomputed by the next task any
    #   worker runs (at most one such sweep per interval, through the Django cache): what a
    #   crashed worker, a failed attempt or a long database outage left dirty is picked up
    #   without an operator scheduling anything.
    "OPENEDX_ANALYTICS_SWEEP_SECONDS": 600,
    # .. setting_name: OPENEDX_ANALYTICS_API_THROTTLE_RATE
    # .. setting_default: "120/minute"
    # .. setting_description: Requests per user to the analytics REST API ("<n>/<second|minute|hour|
    #   day>"; None turns throttling off). An enabled ``AnalyticsConfiguration`` row's
    #   ``api_throttle_rate`` wins over this, so operators can change it without a deploy.
    "OPENEDX_ANALYTICS_API_THROTTLE_RATE": "120/minute",
    # .. setting_name: OPENEDX_ANALYTICS_API_PAGE_SIZE
    # .. setting_default: 100
    # .. setting_description: Courses per page of the REST API's ``courses/`` list (callers may ask
    #   for up to ``OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE`` with ``?page_size=``).
    "OPENEDX_ANALYTICS_API_PAGE_SIZE": 100,
    # .. setting_name: OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE
    # .. setting_default: 1000
    # .. setting_description: Largest ``?page_size=`` the ``courses/`` list accepts.
    "OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE": 1000,
}


def plugin_settings(settings: Any) -> None:
    """Fill in our defaults, add our database router and our event-tracking backend."""
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)

    routers = list(getattr(settings, "DATABASE_ROUTERS", []) or [])
    if ROUTER_PATH not in routers:
        routers.append(ROUTER_PATH)
    settings.DATABASE_ROUTERS = routers

    backends = dict(getattr(settings, "EVENT_TRACKING_BACKENDS", {}) or {})
    backends.setdefault(
        TRACKING_BACKEND_KEY,
        {
            "ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {
                "backends": {
                    "analytics": {"ENGINE": "openedx_analytics.tracking.AnalyticsTrackingBackend"},
                },
            },
        },
    )
    settings.EVENT_TRACKING_BACKENDS = backends
