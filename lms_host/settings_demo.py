"""Settings of the demo: the test host's settings on SQLite, with Celery tasks run in-process.

``demo.sh`` uses these. The SQLite files live in ``OA_SQLITE_DIR`` (default ``.data/``).
"""
import os
from pathlib import Path

os.environ["OA_TEST_DB"] = "sqlite"

from test_settings import *  # noqa: E402,F403
from test_settings import BASE_DIR  # noqa: E402

DEBUG = True

_dir = Path(os.environ.get("OA_SQLITE_DIR", BASE_DIR / ".data"))
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_dir / "lms.sqlite3")},
    "analytics": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_dir / "analytics.sqlite3")},
}

# No broker needed: every task runs in the process that sends it (Celery still builds a
# producer for eager tasks, so the broker is kombu's in-memory transport).
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
