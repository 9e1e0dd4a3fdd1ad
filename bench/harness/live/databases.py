"""The load harness's databases: a live pair and a backfill pair per run, and what compares them.

A run of ``bench.live`` opens two pairs of the test host's databases (MariaDB
``<prefix>_live_*`` and ``<prefix>_back_*``, or SQLite files in the run's directory): the live
one, which the doors and workers fill, and, for the soak, a backfill one, which
``backfill_analytics`` fills from the same events. Every process of the run opens a pair
through its environment (``DatabasePair.env``) on the harness's settings
(``bench.harness.live.settings``); the comparison reads both pairs outside Django.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import PYTHON, ROOT
from bench.harness.databases import drop_mysql, mysql_names

#: The settings of every process of a run (load generators, probe, workers, gunicorn, the commands).
SETTINGS = "bench.harness.live.settings"
#: The LMS tables ``backfill_analytics --from-lms`` reads (and the users and courses they point at).
LMS_TABLES = ("auth_user", "lms_stub_courseoverview", "lms_stub_courseenrollment",
              "lms_stub_historicalcourseenrollment", "lms_stub_persistentcoursegrade",
              "lms_stub_generatedcertificate")
#: The fact and per-learner tables whose row sizes the soak and ``rowsizes`` report.
FACT_TABLES = ["openedx_analytics_" + name for name in (
    "videoeventfact", "activityfact", "problemsubmissionfact", "enrollmentfact", "gradefact", "passingfact",
    "certificatefact", "videoviewer", "problemlearner", "gradelearner")]


def setup_django() -> None:
    """Django for a process of the run (its environment names the databases, broker and queue)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


@dataclass
class DatabasePair:
    """The two databases of one LMS + analytics pair (MariaDB ``<prefix>_lms``/``_analytics``, or SQLite files)."""

    vendor: str  # "mysql" or "sqlite"
    prefix: str  # MariaDB: database name prefix; SQLite: a directory
    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        """Environment of a process that should open this pair, on the harness's settings (``SETTINGS``)."""
        env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "OA_TEST_DB": self.vendor, "OA_CELERY_EAGER": "0"}
        env.pop("OA_USE_TEST_DB_NAMES", None)
        if self.vendor == "mysql":
            env["OA_MYSQL_PREFIX"] = self.prefix
        else:
            env["OA_SQLITE_DIR"] = self.prefix
        return env

    def names(self) -> tuple[str, str]:
        """MariaDB database names, or SQLite file paths, of (lms, analytics)."""
        if self.vendor == "mysql":
            return mysql_names(self.prefix)
        return str(Path(self.prefix) / "lms.sqlite3"), str(Path(self.prefix) / "analytics.sqlite3")

    def connect(self, which: int) -> Any:
        """A DB-API connection to the lms (0) or analytics (1) database, outside Django."""
        name = self.names()[which]
        if self.vendor == "mysql":
            import MySQLdb

            return MySQLdb.connect(host=self.host, user=os.environ.get("OA_MYSQL_USER", "root"),
                                   passwd=os.environ.get("OA_MYSQL_PASSWORD", ""), db=name, charset="utf8mb4")
        import sqlite3

        return sqlite3.connect(name, timeout=30)

    def drop(self) -> None:
        """Remove both databases (only names this run made)."""
        if self.vendor == "mysql":
            drop_mysql(self.prefix, host=self.host)
        else:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def create(self) -> None:
        """Fresh, empty, migrated databases."""
        self.drop()
        if self.vendor == "mysql":
            drop_mysql(self.prefix, create=True, host=self.host)
        else:
            Path(self.prefix).mkdir(parents=True)
        migrate = ("import django; django.setup(); from django.core.management import call_command\n"
                   "for alias in ('default', 'analytics'):\n"
                   "    call_command('migrate', database=alias, verbosity=0, skip_checks=True)")
        subprocess.run([PYTHON, "-c", migrate], cwd=ROOT, env={**os.environ, **self.env()}, timeout=300, check=True)

    def copy_lms_tables_from(self, source: DatabasePair) -> None:
        """Copy the LMS tables ``--from-lms`` reads from ``source``'s LMS database into this one's."""
        conn = self.connect(0)
        cursor = conn.cursor()
        if self.vendor == "mysql":
            for table in LMS_TABLES:
                cursor.execute(f"INSERT INTO `{table}` SELECT * FROM `{source.names()[0]}`.`{table}`")
        else:
            cursor.execute("ATTACH DATABASE ? AS source", (source.names()[0],))
            for table in LMS_TABLES:
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM source."{table}"')
        conn.commit()
        conn.close()


def run_command(pair: DatabasePair, arguments: list[str], timeout: float) -> subprocess.CompletedProcess:
    """``python -m django <arguments>`` on ``pair`` (a bounded child process); its output captured."""
    return subprocess.run([PYTHON, "-m", "django", *arguments], cwd=ROOT, env={**os.environ, **pair.env()},
                          capture_output=True, text=True, timeout=timeout, check=False)



# ------------------------------------------------------------------ aggregate comparison


def aggregate_models() -> list[Any]:
    """Every aggregate model (``models/aggregates.py``): what the API and the page read."""
    from django.apps import apps

    return [model for model in apps.get_app_config("openedx_analytics").get_models()
            if model.__module__.endswith(".aggregates")]


def _normalized(value: Any, is_json: bool) -> Any:
    if is_json and isinstance(value, (str, bytes)):
        value = json.loads(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return str(value) if value is not None and not isinstance(value, (int, str)) else value


def table_rows(pair: DatabasePair, model: Any) -> Counter:
    """Every row of ``model``'s table in ``pair``'s analytics database, without ids and recompute times."""
    from django.db import models

    fields = [f for f in model._meta.concrete_fields
              if not f.primary_key and not isinstance(f, models.DateTimeField)]
    conn = pair.connect(1)
    cursor = conn.cursor()
    quote = "`" if pair.vendor == "mysql" else '"'
    columns = ", ".join(f"{quote}{f.column}{quote}" for f in fields)
    cursor.execute(f"SELECT {columns} FROM {quote}{model._meta.db_table}{quote}")
    json_fields = [isinstance(f, models.JSONField) for f in fields]
    rows = Counter(tuple(_normalized(v, j) for v, j in zip(row, json_fields, strict=True))
                   for row in cursor.fetchall())
    conn.close()
    return rows


def compare_aggregates(live: DatabasePair, backfill: DatabasePair) -> dict[str, dict[str, Any]]:
    """Per aggregate table: rows live, rows from the backfill, rows only in one of them (with two examples)."""
    report = {}
    for model in aggregate_models():
        left, right = table_rows(live, model), table_rows(backfill, model)
        only_live, only_backfill = left - right, right - left
        report[model._meta.db_table] = {
            "live": sum(left.values()), "backfill": sum(right.values()),
            "only_live": sum(only_live.values()), "only_backfill": sum(only_backfill.values()),
            "examples": [list(r) for r in list(only_live)[:2]] + [list(r) for r in list(only_backfill)[:2]],
        }
    return report


def table_sizes(pair: DatabasePair, tables: list[str]) -> dict[str, dict[str, float]]:
    """MariaDB only: rows, data and index bytes per row of ``tables`` (after ANALYZE, so the figures are current)."""
    conn = pair.connect(1)
    cursor = conn.cursor()
    sizes = {}
    for table in tables:
        cursor.execute(f"ANALYZE TABLE `{table}`")
        cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT data_length, index_length FROM information_schema.tables "
                       "WHERE table_schema = %s AND table_name = %s", (pair.names()[1], table))
        data, index = cursor.fetchone()
        sizes[table] = {"rows": rows, "data_bytes": data, "index_bytes": index,
                        "bytes_per_row": (data + index) / rows if rows else math.nan}
    conn.close()
    return sizes
