"""Django settings of ``bench.live``'s processes: the test host's, with the analytics tasks on a queue of their own.

Every process of a run (load generators, probe, Celery workers, gunicorn, the commands) uses
these settings, so they all open the same databases (``OA_TEST_DB``, ``OA_MYSQL_PREFIX`` or
``OA_SQLITE_DIR``, as ``test_settings`` reads them) and the same broker (``OA_BROKER_URL``).
``OA_LIVE_QUEUE`` names the queue (``OPENEDX_ANALYTICS_CELERY_QUEUE``) the doors send to and the
workers consume, as an operator routes the plugin's tasks to workers of their own.
``OA_BENCH_HEAP_DIR``, set for a soak's workers by ``--trace-python-heap``, makes them trace
their Python heap (``bench.harness.live.heap_probe``). ``OA_BENCH_PUBLISH_ON_THREAD`` (the floor
of ``bench.live quiet``) publishes each request's events on its own thread at its end, without
the publishing buffer.
"""
import os

from test_settings import *  # noqa: F401,F403  (the host's settings, built as the LMS builds its own)

OPENEDX_ANALYTICS_CELERY_QUEUE = os.environ.get("OA_LIVE_QUEUE", "openedx_analytics_bench")
CELERY_TASK_ALWAYS_EAGER = False
OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND = not os.environ.get("OA_BENCH_PUBLISH_ON_THREAD")

if os.environ.get("OA_BENCH_HEAP_DIR"):
    from bench.harness.live import heap_probe  # noqa: F401  (starts tracing this worker's Python heap)
