"""System checks name the deploy step that was missed: router order, and migrations per database."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections
from django.test import override_settings

from openedx_analytics import checks
from openedx_analytics.settings.common import ROUTER_PATH

ROOT = Path(__file__).resolve().parent.parent
READ_REPLICA = "edx_django_utils.db.read_replica.ReadReplicaRouter"


class EverythingToDefault:
    """A router of another plugin, listed before ours by a later settings layer."""

    def db_for_read(self, model, **hints):
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


@pytest.mark.django_db(databases=["default", "analytics"])
def test_a_correct_deploy_has_nothing_to_say():
    assert checks.routing_problems() == []
    assert checks.table_problems() == []
    call_command("check")  # raises SystemCheckError on any Error


@pytest.mark.django_db(databases=["default", "analytics"])
@pytest.mark.parametrize("routers, first", [
    ([READ_REPLICA], "ReadReplicaRouter"),                                   # ours dropped by a later layer
    ([READ_REPLICA, ROUTER_PATH], "ReadReplicaRouter"),                      # ours appended after it
    ([f"{__name__}.EverythingToDefault", ROUTER_PATH, READ_REPLICA], "EverythingToDefault"),
])
def test_models_routed_elsewhere_are_an_error_naming_the_router_that_answers(routers, first):
    with override_settings(DATABASE_ROUTERS=routers):
        problems = checks.routing_problems()
        with pytest.raises(SystemCheckError) as raised:
            call_command("check")
    ids = {p.id for p in problems}
    assert {checks.WRONG_DATABASE, checks.MIGRATES_ELSEWHERE} <= ids
    assert all(isinstance(p, Error) for p in problems)
    wrong = next(p for p in problems if p.id == checks.WRONG_DATABASE)
    assert first in wrong.msg and "'default'" in wrong.msg and "'analytics'" in wrong.msg
    assert ROUTER_PATH in wrong.hint
    assert checks.WRONG_DATABASE in str(raised.value)


def test_routing_problems_are_logged_at_start_up(caplog):
    with override_settings(DATABASE_ROUTERS=[READ_REPLICA, ROUTER_PATH]), caplog.at_level(logging.ERROR):
        checks.report_at_startup()
    assert checks.WRONG_DATABASE in caplog.text and "ReadReplicaRouter" in caplog.text
    caplog.clear()
    checks.report_at_startup()
    assert caplog.text == ""


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.django_db(databases=["default", "analytics"])
def test_a_database_without_our_migrations_is_named_with_the_command_that_fixes_it(tmp_path):
    """A fresh host: `check` names both missing migrations; running the named commands silences it."""
    vendor = connections["default"].vendor
    prefix = f"oa_chk{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "test_settings", "OA_SQLITE_DIR": str(tmp_path),
           "OA_MYSQL_PREFIX": prefix, "PYTHONPATH": str(ROOT)}
    env.pop("OA_USE_TEST_DB_NAMES", None)
    names = [f"{prefix}_lms", f"{prefix}_analytics"]
    if vendor == "mysql":
        with connections["default"].cursor() as cursor:
            for name in names:
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        fresh = _manage(env, "check")
        assert fresh.returncode == 0, fresh.stderr  # warnings: commands (migrate included) still run
        assert checks.TABLES_MISSING in fresh.stderr
        assert "migrate openedx_analytics --database analytics" in fresh.stderr
        assert "Database 'default' lacks 4 openedx_analytics tables" in fresh.stderr

        assert _manage(env, "migrate", "-v0").returncode == 0
        half = _manage(env, "check")
        assert "Database 'analytics' lacks" in half.stderr and "Database 'default'" not in half.stderr

        assert _manage(env, "migrate", "openedx_analytics", "--database", "analytics", "-v0").returncode == 0
        done = _manage(env, "check")
        assert done.returncode == 0 and "openedx_analytics" not in done.stderr, done.stderr
    finally:
        if vendor == "mysql":
            with connections["default"].cursor() as cursor:
                for name in names:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
