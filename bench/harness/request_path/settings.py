"""Settings of ``bench.request_path``'s servers: the test host, one variant of the plugin's doors each.

``OA_BENCH_DOORS`` picks the variant:

- ``off``: our doors removed (our tracking backend not configured; ``wsgi`` disconnects
  our receivers): the request as the LMS runs it without the plugin.
- ``background``: the plugin as shipped (events to the publisher thread).
- ``request_end``: the way before the publisher: our backend under a RoutingBackend of its own
  (as ``plugin_settings`` registered it) and each request's events published on its own thread
  at its end (``OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND = False``).

URLs come from ``bench.harness.request_path.urls`` (the bench view only), not from the product.
"""
import os

from openedx_analytics.settings.common import TRACKING_BACKEND_ENGINE, TRACKING_BACKEND_KEY
from test_settings import *  # noqa: F403

DOORS = os.environ.get("OA_BENCH_DOORS", "background")
ROOT_URLCONF = "bench.harness.request_path.urls"
OPENEDX_ANALYTICS_CELERY_QUEUE = os.environ.get("OA_BENCH_QUEUE", "oa-bench-request-path")

if DOORS == "off":
    EVENT_TRACKING_BACKENDS = {k: v for k, v in EVENT_TRACKING_BACKENDS.items()  # noqa: F405
                               if k != TRACKING_BACKEND_KEY}
elif DOORS == "request_end":
    OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND = False
    EVENT_TRACKING_BACKENDS = {
        **EVENT_TRACKING_BACKENDS,  # noqa: F405
        TRACKING_BACKEND_KEY: {"ENGINE": "eventtracking.backends.routing.RoutingBackend",
                               "OPTIONS": {"backends": {"analytics": {"ENGINE": TRACKING_BACKEND_ENGINE}}}},
    }
elif DOORS != "background":
    raise ValueError(f"OA_BENCH_DOORS={DOORS!r}: off, background or request_end")
