"""Settings every LMS environment gets from openedx-analytics.

``plugin_settings`` only fills in what the operator has not set, and extends
shared structures (database routers, tracking backends) instead of replacing them. Our
router goes first: it answers only for our own models.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROUTER_PATH = "openedx_analytics.router.AnalyticsRouter"
TRACKING_BACKEND_KEY = "openedx_analytics"
TRACKING_BACKEND_ENGINE = "openedx_analytics.live.tracking.AnalyticsTrackingBackend"
#: openedx-filters steps we add, by filter type (appended to the operator's pipelines).
SECTION_FILTER = "org.openedx.learning.instructor.dashboard.render.started.v1"
SECTION_STEP = "openedx_analytics.dashboard.filters.AddAnalyticsSection"
TABS_FILTER = "org.openedx.learning.instructor.dashboard.tabs.requested.v1"
TABS_STEP = "openedx_analytics.dashboard.filters.AddAnalyticsTab"
#: Our Mako templates (``instructor_dashboard/openedx_analytics.html``), for the LMS's Mako lookup.
MAKO_TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

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
    # .. setting_description: Most events one Celery message carries. The publisher thread batches
    #   events of several requests up to this; a request or task holding this many events hands
    #   them over at once, so memory held per request stays bounded.
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
    # .. setting_name: OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS
    # .. setting_default: 1
    # .. setting_description: Whole seconds during which the event batches touching a course are
    #   recomputed together. The first batch of a course in such a window schedules one recompute
    #   of that course (through the Django cache, at most one per course and window), which runs
    #   one second after the window closes and takes every batch stored meanwhile: a worker
    #   recomputes a busy course once per window instead of once per batch, and an event's
    #   figures are current about this plus two seconds after it arrives. A course that was not
    #   busy (no two batches in its last window) is also recomputed at once by the batch that
    #   opens the window: on a quiet site an event shows within a second. 0 recomputes each
    #   batch's courses at once, in the task that stored it.
    "OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS": 1,
    # .. setting_name: OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS
    # .. setting_default: 2
    # .. setting_description: The longest a course's recompute window may grow. A course whose
    #   recompute takes longer gets a longer window (ten times its last recompute), so that
    #   recomputing one busy course takes at most about a tenth of a worker; past this cap,
    #   freshness wins: an event's figures stay current within about this plus two seconds,
    #   and a very costly course takes a larger share of the workers. Below
    #   ``OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS`` it has no effect.
    "OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS": 2,
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
    #   day>"; None turns throttling off), and separately to the analytics page; anonymous callers
    #   and bad credentials are counted per address, before any permission check. An enabled
    #   ``AnalyticsConfiguration`` row's ``api_throttle_rate`` wins over this, so operators can
    #   change it without a deploy.
    "OPENEDX_ANALYTICS_API_THROTTLE_RATE": "120/minute",
    # .. setting_name: OPENEDX_ANALYTICS_GATEWAY_THROTTLE_RATE
    # .. setting_default: "60/minute"
    # .. setting_description: Requests per sending service to the ingest gateway
    #   (``POST /api/analytics/v1/events/``), "<n>/<second|minute|hour|day>" (None: no limit). A
    #   gateway caller's own ``throttle_rate`` (admin) wins over this. Past it the gateway answers
    #   429 with ``Retry-After``.
    "OPENEDX_ANALYTICS_GATEWAY_THROTTLE_RATE": "60/minute",
    # .. setting_name: OPENEDX_ANALYTICS_GATEWAY_MAX_EVENTS
    # .. setting_default: 500
    # .. setting_description: Most events one request to the ingest gateway may carry; a larger
    #   batch is answered 413 with this limit, and nothing of it is read.
    "OPENEDX_ANALYTICS_GATEWAY_MAX_EVENTS": 500,
    # .. setting_name: OPENEDX_ANALYTICS_GATEWAY_MAX_BYTES
    # .. setting_default: 1000000
    # .. setting_description: Largest request body (bytes) the ingest gateway reads; a larger one
    #   is answered 413 with this limit before it is read.
    "OPENEDX_ANALYTICS_GATEWAY_MAX_BYTES": 1_000_000,
    # .. setting_name: OPENEDX_ANALYTICS_GATEWAY_DATABASE_SECONDS
    # .. setting_default: 10
    # .. setting_description: Most time the database work of one ingest gateway request (its reads
    #   and writes together) may take; the database stops a statement there (MariaDB
    #   max_statement_time; SQLite interrupts it), the batch's transaction is rolled back and the
    #   request is answered 503 with ``Retry-After``: send it again unchanged. 0 turns the bound off.
    "OPENEDX_ANALYTICS_GATEWAY_DATABASE_SECONDS": 10,
    # .. setting_name: OPENEDX_ANALYTICS_GATEWAY_RECEIPT_DAYS
    # .. setting_default: 7
    # .. setting_description: Days the ingest gateway remembers the items a sender had stored (a
    #   hash of each item's ``id``, or of its content), so that a batch sent again within them
    #   is answered "duplicate" item by item. Facts never count twice, whatever this is.
    "OPENEDX_ANALYTICS_GATEWAY_RECEIPT_DAYS": 7,
    # .. setting_name: OPENEDX_ANALYTICS_API_PAGE_SIZE
    # .. setting_default: 100
    # .. setting_description: Courses per page of the REST API's ``courses/`` list (callers may ask
    #   for up to ``OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE`` with ``?page_size=``).
    "OPENEDX_ANALYTICS_API_PAGE_SIZE": 100,
    # .. setting_name: OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE
    # .. setting_default: 1000
    # .. setting_description: Largest ``?page_size=`` the ``courses/`` list accepts.
    "OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE": 1000,
    # .. setting_name: OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS
    # .. setting_default: None
    # .. setting_description: Days a learner's facts in a course keep naming them after their last
    #   fact there. Past that, once a day (and with ``manage.py lms prune_analytics``), the facts are
    #   de-identified (random id, re-hashed fingerprints: aggregates and every later recompute stay
    #   the same), rejected-event samples older than the window are deleted, and backfills skip
    #   events older than the window. None keeps facts as they are. See docs/privacy.md.
    "OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS": None,
    # .. setting_name: OPENEDX_ANALYTICS_LMS_STAND_IN_APP
    # .. setting_default: None
    # .. setting_description: Outside the LMS only (test and demo hosts): the label of an installed
    #   Django app whose models stand in for the LMS tables the plugin reads (course overviews,
    #   enrollments and their history, course access roles, grades, certificates, problem states,
    #   waffle flag overrides, course blocks) with the LMS's model names and fields, and whose
    #   ``signals`` module holds stand-ins of the LMS's retirement signals. Inside the LMS it is
    #   ignored: the LMS's own models are read. None: outside the LMS there is no LMS data.
    "OPENEDX_ANALYTICS_LMS_STAND_IN_APP": None,
    # .. setting_name: OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS
    # .. setting_default: 86400
    # .. setting_description: Longest video, in seconds, the pipeline believes in. A player event
    #   whose position, seek times or reported duration lie outside [0, this] is rejected
    #   (``out_of_range``), so one learner cannot stretch a video's timeline.
    "OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS": 86400,
    # .. setting_name: OPENEDX_ANALYTICS_EARLIEST_EVENT_TIME
    # .. setting_default: "2012-01-01T00:00:00+00:00"
    # .. setting_description: Events (and LMS history rows) dated before this ISO-8601 time are
    #   rejected (``implausible_time``): a clock reset or a forged date must not create decades of
    #   daily rows.
    "OPENEDX_ANALYTICS_EARLIEST_EVENT_TIME": "2012-01-01T00:00:00+00:00",
    # .. setting_name: OPENEDX_ANALYTICS_MAX_FUTURE_SECONDS
    # .. setting_default: 86400
    # .. setting_description: Events dated more than this many seconds after the present are
    #   rejected (``implausible_time``): year 9999 would break the weekly and daily ranges.
    "OPENEDX_ANALYTICS_MAX_FUTURE_SECONDS": 86400,
    # .. setting_name: OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT
    # .. setting_default: 1.0
    # .. setting_description: Seconds the publisher waits to connect to the Celery broker when
    #   handing it a batch, per attempt. Past it the batch is logged as lost, with its backfill
    #   window. LMS requests never wait on it (only with OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND off).
    "OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT": 1.0,
    # .. setting_name: OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT
    # .. setting_default: 1.0
    # .. setting_description: Seconds the publisher waits for the Celery broker to take a batch once
    #   connected (socket read/write timeout), per attempt: a broker that accepts connections but
    #   never answers holds the publisher thread at most (1 + OPENEDX_ANALYTICS_PUBLISH_RETRIES) x
    #   (this + the connect timeout) per batch, while requests carry on and the buffer fills.
    "OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT": 1.0,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND
    # .. setting_default: True
    # .. setting_description: Whether events are handed to Celery by a background thread of each
    #   process (requests and tasks only put them in a bounded buffer, batched across requests).
    #   False publishes each request's or task's events at its end, on its own thread (the
    #   request then pays the broker round trip, and the broker timeouts when the broker hangs).
    #   Celery running eagerly (task_always_eager) always publishes at the end, on the thread.
    "OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND": True,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS
    # .. setting_default: 0.1
    # .. setting_description: Longest time an event waits in the publishing buffer for its batch
    #   to fill (OPENEDX_ANALYTICS_MAX_BATCH_SIZE events): a partly full batch is sent when its
    #   oldest event has waited this long. Longer means fewer, larger Celery messages.
    "OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS": 0.1,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE
    # .. setting_default: 10000
    # .. setting_description: Most events waiting to be published, per process. When the buffer
    #   is full (the broker down, hung or slower than events arrive), new events are dropped
    #   instead of holding the request, and one ERROR a minute gives their count and the
    #   backfill_analytics command that recovers them.
    "OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE": 10000,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES
    # .. setting_default: 16777216
    # .. setting_description: Most bytes of events waiting to be published, per process (their size
    #   as JSON, estimated without encoding them), beside the count of
    #   OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE: events a learner makes large cannot fill memory
    #   either. An event larger on its own than a sixty-fourth of this (256 KiB by default) is
    #   dropped at once, as are new events once the buffer is full, and counted in the same
    #   ERROR a minute with the backfill_analytics command that recovers them.
    "OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES": 16 * 1024 * 1024,
    # .. setting_name: OPENEDX_ANALYTICS_PUBLISH_EXIT_SECONDS
    # .. setting_default: 5.0
    # .. setting_description: At process exit (and when a Celery pool process shuts down), how long
    #   the publisher may take to send the events still in its buffer. Events not sent by then are
    #   logged at ERROR as lost, with the backfill_analytics command that recovers them.
    "OPENEDX_ANALYTICS_PUBLISH_EXIT_SECONDS": 5.0,
    # .. setting_name: OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS
    # .. setting_default: 20
    # .. setting_description: Most time the database reads of one answer may take together: the
    #   analytics page, the instructor-dashboard section (read inside the LMS's own request), the
    #   site overview and every REST API call. Each read gets what is left and the database stops
    #   it there (MariaDB max_statement_time, MySQL MAX_EXECUTION_TIME); the page then says the
    #   figures took too long and the API answers 503 with Retry-After. CSV reports streamed after
    #   the answer starts are not bounded. 0 turns the bound off.
    "OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS": 20,
    # .. setting_name: OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS
    # .. setting_default: 60
    # .. setting_description: How long the rendered content of a course's analytics page (and of
    #   the instructor-dashboard section, which embeds it) is kept in the Django cache, per course,
    #   parameters, language and day. Figures are recomputed in the background anyway; this only
    #   delays a new figure by as much, and the page states when its figures were last updated.
    #   0 renders every request afresh.
    "OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS": 60,
    # .. setting_name: OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT
    # .. setting_default: (2, 5)
    # .. setting_description: (connect, read) seconds for one read of the old Insights data API
    #   (``InsightsDataApiConfiguration``), which the analytics tab reads on the page request when
    #   someone asks for "Insights numbers". The reads of one page go out together, so a hung API
    #   delays a page by at most connect + read seconds; then the page says the API is down.
    "OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT": (2, 5),
    # .. setting_name: OPENEDX_ANALYTICS_INSIGHTS_API_CACHE_SECONDS
    # .. setting_default: 300
    # .. setting_description: How long an answer of the old Insights data API is kept in the Django
    #   cache (per URL and token). Its numbers change at most once a day while its pipeline runs,
    #   and never once it is switched off. 0 asks the API on every page.
    "OPENEDX_ANALYTICS_INSIGHTS_API_CACHE_SECONDS": 300,
    # .. setting_name: OPENEDX_ANALYTICS_NEW_DATA_DEFAULT
    # .. setting_default: False
    # .. setting_description: What the analytics tab shows, for people who see the "Insights numbers /
    #   live numbers" switch, when the URL does not say (``?new_data=true|false``): False shows
    #   Insights numbers first (as Insights' ``DATA_API_V1_ENABLED = False`` keeps its old API the
    #   default), True shows live numbers first. Once the new numbers are trusted, set it True and
    #   the switch becomes configuration; then disable ``InsightsDataApiConfiguration``.
    "OPENEDX_ANALYTICS_NEW_DATA_DEFAULT": False,
    # .. setting_name: OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS
    # .. setting_default: 3600
    # .. setting_description: How long a course's learners breakdowns (age, education, gender,
    #   country), counted in the LMS's own profile and enrollment tables, are kept in the Django
    #   cache. Only the counts are kept, never a profile: a learner's profile edit or retirement
    #   shows once they expire. 0 reads the LMS on every request.
    "OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS": 3600,
    # .. setting_name: OPENEDX_ANALYTICS_SITE_CACHE_SECONDS
    # .. setting_default: 300
    # .. setting_description: How long the site overview keeps the rows of one set of courses
    #   (their summary figures and names) and the distinct weekly active learners of a set of
    #   courses in the Django cache, so that searching, filtering, sorting and paging thousands of
    #   courses answer at once. A new figure shows that much later on the overview and in
    #   ``site/activity/`` (a course's own page stays live). 0 reads everything afresh.
    "OPENEDX_ANALYTICS_SITE_CACHE_SECONDS": 300,
    # .. setting_name: OPENEDX_ANALYTICS_MIN_CELL_SIZE
    # .. setting_default: 5
    # .. setting_description: Fewest learners a count of the learners breakdowns may show, on the
    #   page, in its CSVs and in the REST API. A smaller count is shown as "fewer than" this, and
    #   further counts are hidden where the total would give it back. 1 hides nothing.
    "OPENEDX_ANALYTICS_MIN_CELL_SIZE": 5,
    # .. setting_name: OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY
    # .. setting_default: ""
    # .. setting_description: Secret key (at least 32 characters) of the learner pseudonyms in the
    #   research export (``export_research_data``): HMAC-SHA256 of the organization and the LMS user
    #   id. Never exported; keep it as secret as SECRET_KEY, and keep it the same to keep pseudonyms
    #   stable across exports. Unset, the export refuses to run.
    "OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY": "",
    # .. setting_name: OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS
    # .. setting_default: 600
    # .. setting_description: Longest time (seconds) a research export downloaded through the REST API
    #   (``research_export/``) may take: past it the zip ends with ``EXPORT_INCOMPLETE.txt``. Keep it
    #   below the web server's own request timeout; larger exports belong to ``export_research_data``.
    "OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS": 600,
}


def routers_with_ours_first(routers: Any) -> list[Any]:
    """``routers`` with our router in first place, present once, the others in their order.

    The LMS (as Tutor renders its settings, and older releases' ``lms/envs/common.py``)
    lists ``edx_django_utils.db.read_replica.ReadReplicaRouter``, which answers ``default``
    for every model and allows every migration: a router after it is never asked. Ours
    answers only for our own models (``None`` for all others), so first place costs the
    other routers nothing.
    """
    others = [router for router in (routers or []) if router != ROUTER_PATH]
    return [ROUTER_PATH, *others]


def plugin_settings(settings: Any) -> None:
    """Fill in our defaults, put our router first, add our tracking backend and dashboard filter steps."""
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)

    settings.DATABASE_ROUTERS = routers_with_ours_first(getattr(settings, "DATABASE_ROUTERS", None))

    backends = dict(getattr(settings, "EVENT_TRACKING_BACKENDS", {}) or {})
    # Our backend directly, not under a RoutingBackend of its own: a RoutingBackend deep-copies
    # every event (the LMS's whole context) before its backends see it; ours copies only the
    # fields it keeps.
    backends.setdefault(TRACKING_BACKEND_KEY, {"ENGINE": TRACKING_BACKEND_ENGINE})
    settings.EVENT_TRACKING_BACKENDS = backends

    filters = dict(getattr(settings, "OPEN_EDX_FILTERS_CONFIG", {}) or {})
    filters[SECTION_FILTER] = with_step(filters.get(SECTION_FILTER), SECTION_STEP)
    if tabs_filter_available():
        filters[TABS_FILTER] = with_step(filters.get(TABS_FILTER), TABS_STEP)
    settings.OPEN_EDX_FILTERS_CONFIG = filters

    mako_dirs = getattr(settings, "MAKO_TEMPLATE_DIRS_BASE", None)
    if mako_dirs is not None and MAKO_TEMPLATES not in [str(d) for d in mako_dirs]:
        settings.MAKO_TEMPLATE_DIRS_BASE = [*mako_dirs, MAKO_TEMPLATES]


def with_step(config: Any, step: str) -> dict[str, Any]:
    """A filter's configuration with ``step`` appended to its pipeline (once), everything else kept.

    openedx-filters accepts a dict (``pipeline``, ``fail_silently``, extra keys), a list of
    step paths or one path; the operator's steps stay first and their ``fail_silently`` stays
    as they set it (absent means True, the library's default).
    """
    if isinstance(config, dict):
        result = dict(config)
        pipeline = result.get("pipeline") or []
    else:
        result = {}
        pipeline = config or []
    pipeline = [pipeline] if isinstance(pipeline, str) else list(pipeline)
    if step not in pipeline:
        pipeline.append(step)
    result["pipeline"] = pipeline
    return result


def tabs_filter_available() -> bool:
    """Whether the installed openedx-filters has the MFE's ``InstructorDashboardTabsRequested`` (3.4+)."""
    try:
        from openedx_filters.learning.filters import InstructorDashboardTabsRequested  # noqa: F401
    except ImportError:
        return False
    return True
