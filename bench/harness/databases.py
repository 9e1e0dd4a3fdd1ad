"""Fresh databases for a benchmark run: the test host's two, made empty, migrated, and dropped again.

The test host (``test_settings``) opens two databases, ``default`` (the LMS's) and
``analytics``: with ``OA_TEST_DB=mysql`` the MariaDB databases ``<OA_MYSQL_PREFIX>_lms`` and
``<OA_MYSQL_PREFIX>_analytics`` on the server of OA_MYSQL_HOST/PORT/USER/PASSWORD (default
127.0.0.1:3306, root, no password), with ``OA_TEST_DB=sqlite`` the files ``lms.sqlite3`` and
``analytics.sqlite3`` in ``OA_SQLITE_DIR``. Each benchmark gives its databases a prefix or a
directory of its own, so runs side by side never share them; these helpers only drop names
built from that prefix or files in that directory.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.harness import PYTHON, ROOT

#: The test host's database aliases: the LMS's, then the plugin's.
ALIASES = ("default", "analytics")
SQLITE_FILES = ("lms.sqlite3", "analytics.sqlite3")


def mysql_server(host: str | None = None) -> Any:
    """A connection to the MariaDB server itself (no database), as ``test_settings`` reaches it."""
    import MySQLdb

    return MySQLdb.connect(host=host or os.environ.get("OA_MYSQL_HOST", "127.0.0.1"),
                           port=int(os.environ.get("OA_MYSQL_PORT", "3306")),
                           user=os.environ.get("OA_MYSQL_USER", "root"),
                           passwd=os.environ.get("OA_MYSQL_PASSWORD", ""))


def mysql_names(prefix: str) -> tuple[str, str]:
    """The names of the LMS and analytics databases of ``prefix``."""
    return f"{prefix}_lms", f"{prefix}_analytics"


def drop_mysql(prefix: str, *, create: bool = False, host: str | None = None) -> None:
    """Drop ``prefix``'s two MariaDB databases, and create them again, empty (utf8mb4), when ``create``."""
    connection = mysql_server(host)
    cursor = connection.cursor()
    for name in mysql_names(prefix):
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if create:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    connection.close()


def test_host_env(database: str, sqlite_dir: Path, mysql_prefix: str, *, eager: bool = True) -> dict[str, str]:
    """This process's environment for a child on the test host's settings, opening ``database``'s pair.

    ``database`` is ``mysql`` (the databases of ``mysql_prefix``) or ``sqlite`` (files in
    ``sqlite_dir``); ``eager`` runs Celery tasks in the child itself, else they go to the broker
    of ``OA_BROKER_URL``.
    """
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="test_settings", OA_CELERY_EAGER="1" if eager else "0")
    if database == "mysql":
        env.update(OA_TEST_DB="mysql", OA_MYSQL_PREFIX=mysql_prefix)
    else:
        env.update(OA_TEST_DB="sqlite", OA_SQLITE_DIR=str(sqlite_dir))
    return env


def drop_databases(env: Mapping[str, str], *, create: bool = False) -> None:
    """Drop the pair ``env`` opens (MariaDB databases or SQLite files); with ``create``, empty MariaDB ones remain."""
    if env["OA_TEST_DB"] == "mysql":
        drop_mysql(env["OA_MYSQL_PREFIX"], create=create)
        return
    folder = Path(env["OA_SQLITE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for name in SQLITE_FILES:
        (folder / name).unlink(missing_ok=True)


def migrate_in_child(env: Mapping[str, str]) -> None:
    """Migrate both databases of ``env`` with ``python -m django migrate``, in a child process."""
    for alias in ALIASES:
        subprocess.run([PYTHON, "-m", "django", "migrate", "--skip-checks", "-v0", "--database", alias],
                       check=True, env=dict(env), cwd=ROOT)


def lms_courses_in_child(env: Mapping[str, str], courses: Sequence[str]) -> None:
    """Course overviews for ``courses`` in the LMS database of ``env``, in a child process.

    The ingest stores events only of courses the LMS knows, so a benchmark that feeds a
    generated log first creates its courses, as Studio would have.
    """
    code = ("import json, sys; import django; django.setup()\n"
            "from opaque_keys.edx.keys import CourseKey\n"
            "from lms_host.stub.models import CourseOverview\n"
            "for course in json.loads(sys.argv[1]):\n"
            "    key = CourseKey.from_string(course)\n"
            "    CourseOverview.objects.using('default').get_or_create(\n"
            "        id=key, defaults={'display_name': course, 'org': key.org})")
    subprocess.run([PYTHON, "-c", code, json.dumps(list(courses))], check=True, env=dict(env), cwd=ROOT, timeout=300)


def fresh_databases(env: Mapping[str, str]) -> None:
    """Empty, migrated databases for ``env``: whatever its pair held before is dropped."""
    drop_databases(env, create=True)
    migrate_in_child(env)
