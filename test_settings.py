"""Django settings of the test and demo host, built the way the LMS builds its own.

The plugin is found through its ``lms.djangoapp`` entry point and configured by its own
``plugin_settings`` hooks (``common`` then ``test``), as ``lms/envs`` does.

Environment:
- ``OA_TEST_DB``: ``sqlite`` (default) or ``mysql`` (two real MariaDB databases).
- ``OA_CELERY_EAGER``: ``1`` (default) runs tasks in-process; ``0`` sends them to the broker.
- ``OA_BROKER_URL``: the Celery broker (default ``redis://127.0.0.1:6379/15``).
- ``OA_MYSQL_PREFIX``: prefix of the MariaDB database names (default ``oa``: ``oa_lms``,
  ``oa_analytics``, test databases ``oa_test_lms``, ``oa_test_analytics``), so parallel runs
  do not share databases.
- ``OA_CACHE_URL``: a Redis URL makes the Django cache a shared Redis cache (as an LMS's
  memcached or Redis is shared by its workers); default: local memory, per process.
- ``OA_USE_TEST_DB_NAMES``: ``1`` makes ``NAME`` the ``TEST`` name: how a Celery worker started
  by the tests opens the very databases pytest-django created.
"""
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from edx_django_utils.plugins import add_plugins, get_plugin_apps
from jwt.algorithms import RSAAlgorithm

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "openedx-analytics-test-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "lms_host.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

_DB = os.environ.get("OA_TEST_DB", "sqlite")
if _DB == "mysql":
    _mysql = {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("OA_MYSQL_HOST", "127.0.0.1"),
        "PORT": os.environ.get("OA_MYSQL_PORT", "3306"),
        "USER": os.environ.get("OA_MYSQL_USER", "root"),
        "PASSWORD": os.environ.get("OA_MYSQL_PASSWORD", ""),
        "OPTIONS": {"charset": "utf8mb4"},
    }
    _prefix = os.environ.get("OA_MYSQL_PREFIX", "oa")
    DATABASES = {
        "default": {**_mysql, "NAME": f"{_prefix}_lms", "TEST": {"NAME": f"{_prefix}_test_lms"}},
        "analytics": {**_mysql, "NAME": f"{_prefix}_analytics", "TEST": {"NAME": f"{_prefix}_test_analytics"}},
    }
else:
    _dir = Path(os.environ.get("OA_SQLITE_DIR", BASE_DIR / ".data"))
    _dir.mkdir(parents=True, exist_ok=True)  # a plain `pytest` in a fresh clone works too
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_dir / "lms.sqlite3"),
                    "TEST": {"NAME": str(_dir / "test_lms.sqlite3")}},
        "analytics": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_dir / "analytics.sqlite3"),
                      "TEST": {"NAME": str(_dir / "test_analytics.sqlite3")}},
    }
    for _database in DATABASES.values():
        # The tests' Celery workers write to the same files: wait for a lock rather than fail.
        _database["OPTIONS"] = {"timeout": 20}
if os.environ.get("OA_USE_TEST_DB_NAMES") == "1":
    for _database in DATABASES.values():
        _database["NAME"] = _database["TEST"]["NAME"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "waffle",
    "config_models",
    "rest_framework",
    "eventtracking.django.apps.EventTrackingConfig",
    "lms_host.stub",  # stand-ins of the LMS tables the plugin reads (OPENEDX_ANALYTICS_LMS_STAND_IN_APP)
    "lms_host",  # the host's pages (login, course list, stand-in instructor dashboard) and seed_demo
]
# The plugins installed in this environment (our own included), as lms/envs/common.py adds them.
INSTALLED_APPS += [app for app in get_plugin_apps("lms.djangoapp") if app not in INSTALLED_APPS]
# The plugin reads the LMS tables from the stand-in app's models (by its label, never imported by name).
OPENEDX_ANALYTICS_LMS_STAND_IN_APP = "lms_stub"

MIDDLEWARE = [
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",  # as the LMS: request caches live one request
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crum.CurrentRequestUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
STATIC_URL = "/static/"
# Test and demo host only: a fast password hash for new passwords, so logging the demo's people
# in costs nothing (Django's default still checks passwords an older demo database holds).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                    "django.contrib.auth.hashers.PBKDF2PasswordHasher"]

# As Tutor renders the LMS settings: edx-django-utils' read-replica router comes first. It answers
# "default" for every model and allows every migration; the plugin must put its own router before it.
DATABASE_ROUTERS = ["edx_django_utils.db.read_replica.ReadReplicaRouter"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("OA_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["OA_CACHE_URL"], "KEY_PREFIX": "oa-cache"}}

# event-tracking, as the LMS configures it (the plugin appends its own backend).
EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_PROCESSORS = []
EVENT_TRACKING_BACKENDS = {
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {"backends": {"logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend",
                                             "OPTIONS": {"name": "tracking", "max_event_size": 50000}}}},
    },
}

CELERY_BROKER_URL = os.environ.get("OA_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_TASK_ALWAYS_EAGER = os.environ.get("OA_CELERY_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("OA_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"tracking": {"handlers": [], "level": "INFO", "propagate": False}},
}

# REST API: JWTs verified as the LMS verifies them. Signatures are asymmetric (RS512) and
# checked against a public key set, JWT_PUBLIC_SIGNING_JWK_SET, as edx-drf-extensions reads
# it; there is no shared secret, so no HS256 token (nor "alg: none") passes. As in the LMS,
# no user attribute is taken from a token's claims: an "administrator" claim does not make
# global staff. The key pair is TEST-ONLY and made afresh for each process: the tests sign
# with JWT_PRIVATE_SIGNING_JWK, the way the LMS signs its own tokens.
_JWT_ISSUER = "https://lms.example.com/oauth2"
_JWT_AUDIENCE = "openedx-analytics-test"


def new_test_only_signing_jwk() -> str:
    """A new RSA private key as a JWK (JSON text): for tests and the demo only."""
    key = RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), as_dict=True)
    return json.dumps({**key, "kid": "openedx-analytics-test-only", "alg": "RS512", "use": "sig"})


def jwt_auth(private_jwk: str) -> dict:
    """JWT_AUTH of an LMS that signs with ``private_jwk`` and verifies with its public half only."""
    public = json.loads(RSAAlgorithm.to_jwk(RSAAlgorithm.from_jwk(private_jwk).public_key()))
    public.update({k: v for k, v in json.loads(private_jwk).items() if k in ("kid", "alg", "use")})
    return {
        "JWT_ISSUERS": [{"ISSUER": _JWT_ISSUER, "AUDIENCE": _JWT_AUDIENCE, "SECRET_KEY": None}],
        "JWT_ISSUER": _JWT_ISSUER,
        "JWT_AUDIENCE": _JWT_AUDIENCE,
        "JWT_SECRET_KEY": None,
        "JWT_DECODE_HANDLER": "edx_rest_framework_extensions.auth.jwt.decoder.jwt_decode_handler",
        "JWT_AUTH_HEADER_PREFIX": "JWT",
        "JWT_VERIFY_AUDIENCE": True,
        "JWT_VERIFY_EXPIRATION": True,
        "JWT_LEEWAY": 1,
        "JWT_SIGNING_ALGORITHM": "RS512",
        "JWT_PRIVATE_SIGNING_JWK": private_jwk,
        "JWT_PUBLIC_SIGNING_JWK_SET": json.dumps({"keys": [public]}),
    }


JWT_AUTH = jwt_auth(new_test_only_signing_jwk())
EDX_DRF_EXTENSIONS = {"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {}}

# Mako templates, as the LMS lists them for its instructor dashboard (plugins append theirs).
MAKO_TEMPLATE_DIRS_BASE = [str(BASE_DIR / "lms_host" / "mako_templates")]

add_plugins(__name__, "lms.djangoapp", "common")
add_plugins(__name__, "lms.djangoapp", "test")
