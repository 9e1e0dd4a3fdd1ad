"""Settings of the demo: the test host's settings on SQLite, with Celery tasks run in-process.

``demo.sh`` uses these. The SQLite files live in ``OA_SQLITE_DIR`` (default ``.data/``).
"""
import os
from pathlib import Path

os.environ["OA_TEST_DB"] = "sqlite"

from test_settings import *  # noqa: E402,F403
from test_settings import BASE_DIR, jwt_auth, new_test_only_signing_jwk  # noqa: E402

# Off, as in production: visitors get the host's error pages (lms_host.errors), never Django's
# debug pages; demo.sh serves the static files with runserver --insecure.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

_dir = Path(os.environ.get("OA_SQLITE_DIR", BASE_DIR / ".data"))
_dir.mkdir(parents=True, exist_ok=True)
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

# JWTs signed with a TEST-ONLY key pair kept beside the demo's databases (made on first use,
# readable by its owner only), so a token minted in one command (docs/rest_api.md) works
# against the running server; verification is the test host's: RS512 against the public key.
_jwk_file = _dir / "jwt-signing-key.test-only.json"
if not _jwk_file.exists():
    with os.fdopen(os.open(_jwk_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as _out:
        _out.write(new_test_only_signing_jwk())
JWT_AUTH = jwt_auth(_jwk_file.read_text())
