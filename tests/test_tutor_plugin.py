"""The Tutor plugin, with the real ``tutor``: enable it, render the environment, check what Tutor would run.

No Docker here, so the containers are not started. What Tutor renders is checked instead:
the LMS settings snippet executed against a settings namespace (router first, alias present,
our models routed to it), the worker command, the image's pip requirement, and the init
tasks. On MariaDB the rendered ``mysql`` init task is run for real and the rendered ``lms``
migration then runs as the user it created, in the database it created.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connections
from django.db.utils import ConnectionRouter

ROOT = Path(__file__).resolve().parent.parent
ROUTER = "openedx_analytics.router.AnalyticsRouter"
READ_REPLICA = "edx_django_utils.db.read_replica.ReadReplicaRouter"
TUTOR = str(Path(sys.executable).with_name("tutor"))
INIT_TASKS = """
import json, os, sys
from tutor import config, env, hooks
hooks.Actions.CORE_READY.do()
hooks.Actions.PROJECT_ROOT_READY.do(os.environ["TUTOR_ROOT"])
loaded = config.load(os.environ["TUTOR_ROOT"])
context = hooks.Contexts.app("openedx-analytics").name
json.dump([[service, env.render_str(loaded, task)]
           for service, task in hooks.Filters.CLI_DO_INIT_TASKS.iterate_from_context(context)], sys.stdout)
"""


@pytest.fixture(scope="module")
def tutor_env(tmp_path_factory):
    """A Tutor project with the plugin enabled and its environment rendered; returns (root, names)."""
    pytest.importorskip("tutoropenedxanalytics", reason="pip install -e ./tutor-openedx-analytics")
    root = tmp_path_factory.mktemp("tutor")
    suffix = uuid.uuid4().hex[:8]
    names = {"database": f"oa_tutor{suffix}_analytics", "user": f"oa_tutor{suffix}", "prefix": f"oa_tutor{suffix}"}
    env = {**os.environ, "TUTOR_ROOT": str(root), "TUTOR_PLUGINS_ROOT": str(root / "plugins")}
    settings = {
        "MYSQL_HOST": os.environ.get("OA_MYSQL_HOST", "127.0.0.1"),
        "MYSQL_PORT": os.environ.get("OA_MYSQL_PORT", "3306"),
        "MYSQL_ROOT_USERNAME": os.environ.get("OA_MYSQL_USER", "root"),
        "MYSQL_ROOT_PASSWORD": json.dumps(os.environ.get("OA_MYSQL_PASSWORD", "")),
        "OPENEDX_ANALYTICS_MYSQL_DATABASE": names["database"],
        "OPENEDX_ANALYTICS_MYSQL_USERNAME": names["user"],
    }
    sets = [arg for name, value in settings.items() for arg in ("--set", f"{name}={value}")]
    for command in (["config", "save", *sets], ["plugins", "enable", "openedx-analytics"]):
        done = subprocess.run([TUTOR, *command], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run([TUTOR, "plugins", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert re.search(r"openedx-analytics\s+\S*\s*enabled", listed.stdout), listed.stdout
    tasks = subprocess.run([sys.executable, "-c", INIT_TASKS], env=env, capture_output=True, text=True, timeout=120)
    assert tasks.returncode == 0, tasks.stderr
    return root, names, dict(json.loads(tasks.stdout)) if tasks.stdout else {}


def _snippet(settings_file: Path) -> str:
    text = settings_file.read_text()
    match = re.search(r"# openedx-analytics: begin\n.*?# openedx-analytics: end\n", text, re.S)
    assert match, f"no openedx-analytics block in {settings_file}"
    return match.group(0)


@pytest.mark.parametrize("variant", ["production", "development"])
def test_rendered_lms_settings_put_our_router_first_and_add_the_alias(tutor_env, variant):
    root, names, _tasks = tutor_env
    settings_file = root / "env" / "apps" / "openedx" / "settings" / "lms" / f"{variant}.py"
    text = settings_file.read_text()
    block = _snippet(settings_file)
    # Nothing after the block touches the routers again.
    assert "DATABASE_ROUTERS" not in text[text.index(block) + len(block):]
    # As the LMS leaves them: edx-platform's routers, ours dropped or appended by a later layer.
    namespace = {
        "DATABASES": {"default": {"ENGINE": "django.db.backends.mysql", "HOST": "mysql", "PORT": 3306,
                                  "NAME": "openedx", "USER": "openedx", "PASSWORD": "x", "ATOMIC_REQUESTS": True,
                                  "OPTIONS": {"init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}}},
        "DATABASE_ROUTERS": [READ_REPLICA, ROUTER],
    }
    exec(compile(block, str(settings_file), "exec"), namespace)  # noqa: S102 - the rendered settings, as Django runs them
    assert namespace["DATABASE_ROUTERS"] == [ROUTER, READ_REPLICA]
    alias = namespace["DATABASES"]["analytics"]
    assert alias["NAME"] == names["database"] and alias["USER"] == names["user"] and alias["PASSWORD"]
    assert alias["HOST"] == "mysql" and alias["ENGINE"].endswith("mysql") and alias["ATOMIC_REQUESTS"] is False
    assert namespace["OPENEDX_ANALYTICS_DATABASE"] == "analytics"
    assert namespace["OPENEDX_ANALYTICS_CELERY_QUEUE"] == "edx.lms.core.analytics"
    # With those routers, Django sends our models to the alias and everything else where it went.
    router = ConnectionRouter(namespace["DATABASE_ROUTERS"])
    for model in apps.get_app_config("openedx_analytics").get_models():
        expected = "default" if getattr(model, "ANALYTICS_DEFAULT_DB", False) else "analytics"
        assert router.db_for_write(model) == expected, model
    assert router.db_for_write(apps.get_model("auth", "User")) == "default"


def test_workers_image_and_init_tasks(tutor_env):
    root, names, tasks = tutor_env
    compose = (root / "env" / "local" / "docker-compose.prod.yml").read_text()
    worker = compose[compose.index("lms-worker:"):compose.index("cms-worker:")]
    assert re.search(r'--queues=[^"]*\bedx\.lms\.core\.default\b[^"]*\bedx\.lms\.core\.analytics\b', worker)
    dockerfile = (root / "env" / "build" / "openedx" / "Dockerfile").read_text()
    assert "install 'openedx-analytics==" in dockerfile

    assert set(tasks) == {"mysql", "lms"}
    assert f"CREATE DATABASE IF NOT EXISTS {names['database']}" in tasks["mysql"]
    assert f"CREATE USER IF NOT EXISTS '{names['user']}'@'%'" in tasks["mysql"]
    assert f"GRANT ALL ON {names['database']}.* TO '{names['user']}'@'%'" in tasks["mysql"]
    commands = [line for line in tasks["lms"].splitlines() if line.startswith("./manage.py")]
    assert commands == ["./manage.py lms migrate openedx_analytics",
                        "./manage.py lms migrate openedx_analytics --database analytics"]


@pytest.mark.django_db(databases=["default", "analytics"])
def test_on_mariadb_the_init_tasks_create_the_database_and_user_that_migrate_then_uses(tutor_env):
    if connections["default"].vendor != "mysql" or not shutil.which("mysql"):
        pytest.skip("runs the mysql init task against MariaDB (the MariaDB run)")
    _root, names, tasks = tutor_env
    password = re.search(r"IDENTIFIED BY '([^']+)'", tasks["mysql"]).group(1)
    try:
        created = subprocess.run(["bash", "-euc", tasks["mysql"]], capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr
        rerun = subprocess.run(["bash", "-euc", tasks["mysql"]], capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr  # init runs again at every launch
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "test_settings", "PYTHONPATH": str(ROOT),
               "OA_TEST_DB": "mysql", "OA_MYSQL_PREFIX": names["prefix"], "OA_MYSQL_USER": names["user"],
               "OA_MYSQL_PASSWORD": password}
        env.pop("OA_USE_TEST_DB_NAMES", None)
        command = tasks["lms"].splitlines()[-1].split()[2:]  # migrate openedx_analytics --database analytics
        migrated = subprocess.run([sys.executable, "-m", "django", *command], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                           [names["database"]])
            tables = {row[0] for row in cursor.fetchall()}
        assert "openedx_analytics_enrollmentfact" in tables and "openedx_analytics_analyticsconfiguration" not in tables
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{names['database']}`")
            cursor.execute(f"DROP USER IF EXISTS '{names['user']}'@'%'")
