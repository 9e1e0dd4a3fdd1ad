"""``python -m bench.live``'s modes, a few seconds each at tiny rates, so the load harness cannot rot.

Each runs the script as a user would: its own fresh databases (SQLite files, or MariaDB
``<OA_MYSQL_PREFIX>_bl_*``), real ``celery -A lms_host worker`` processes on this run's Redis
(on a queue of its own), load generators emitting through the real doors, and for freshness
a gunicorn on a free port. Skipped without Redis, except under ``CI=true``.

The ramp runs in both the SQLite and the MariaDB pass (both database paths of the script);
freshness, quiet and soak, the slowest (about 25 s each), in the MariaDB pass only, the database the
documented runs use: the suite runs three times in CI, and once per set is enough for them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from lms_host.celery import app as celery_app
from tests.support.environment import ROOT, closed_port, redis_unreachable, skip_or_fail

SCRIPT = "bench.live"
SMALL = ["--learners", "200", "--drain-seconds", "60"]


def mariadb_only() -> None:
    """Skip in the SQLite pass (the MariaDB pass runs the same mode)."""
    if connections["default"].vendor != "mysql":
        pytest.skip("run in the MariaDB pass only (the documented runs use MariaDB)")


def run_mode(tmp_path: Path, *arguments: str, timeout: float = 240) -> dict:
    """Run ``python -m bench.live <arguments>`` on this run's database kind and broker; its JSON report."""
    reason = redis_unreachable(celery_app.conf.broker_url)
    if reason:
        skip_or_fail(f"Redis broker {celery_app.conf.broker_url} unreachable ({reason}); load harness not run")
    vendor = "mysql" if connections["default"].vendor == "mysql" else "sqlite"
    env = {**os.environ, "OA_TEST_DB": vendor, "OA_BROKER_URL": celery_app.conf.broker_url,
           "OA_MYSQL_PREFIX": os.environ.get("OA_MYSQL_PREFIX", "oa") + "_bl"}
    env.pop("OA_USE_TEST_DB_NAMES", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", SCRIPT, *arguments, *SMALL, "--workdir", str(tmp_path / "work"),
               "--queue", f"oa_bench_smoke_{os.getpid()}", "--json", str(report)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(arguments)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return json.loads(report.read_text())


def test_ramp_reports_offered_and_achieved_rates_and_a_steady_backlog(tmp_path):
    report = run_mode(tmp_path, "ramp", "--rates", "4", "--step-seconds", "4", "--baseline-seconds", "1")

    assert report["baseline_max_emit_events_per_s"] > 4
    [step] = report["ramp"]["1"]["steps"]
    assert step["achieved"] > 0 and step["backlog_series"], step
    # Four events a second make a message or two a second: far below what one worker takes, so the
    # backlog cannot rise by the 20 items the slope test asks for, and the step is held.
    assert step["growing"] is False and step["drain_seconds"] is not None, step
    assert report["ramp"]["1"]["held_events_per_s"] == step["achieved"]


def test_freshness_sees_every_probe_through_the_rest_api(tmp_path):
    mariadb_only()
    report = run_mode(tmp_path, "freshness", "--rate", "4", "--probes", "4", "--baseline-probes", "2",
                      "--probe-interval", "0.5", "--probe-timeout", "60", "--port", str(closed_port()))

    for phase in ("idle", "load"):
        kinds = report["freshness"][phase]["kinds"]
        assert kinds["enrollment"]["n"] >= 1 and kinds["video"]["n"] >= 1, kinds
        assert kinds["all"]["not_visible"] == 0 and kinds["all"]["p50"] > 0, kinds
    assert report["freshness"]["generated_events"] > 0


def test_quiet_sees_each_enrollment_one_at_a_time_beside_its_floor(tmp_path):
    mariadb_only()
    report = run_mode(tmp_path, "quiet", "--probes", "3", "--probe-interval", "0.2", "--probe-timeout", "60",
                      "--port", str(closed_port()), "--lms-worker")

    for phase in ("floor", "quiet", "over_http"):
        enrollments = report["quiet"][phase]["kinds"]["enrollment"]
        assert enrollments["n"] == 3 and enrollments["not_visible"] == 0 and enrollments["p50"] > 0, enrollments
        assert len(report["quiet"][phase]["seconds"]) == 3


def test_soak_then_verify_and_the_backfill_of_the_same_events_match_the_live_figures(tmp_path):
    mariadb_only()
    report = run_mode(tmp_path, "soak", "--rate", "8", "--seconds", "6", "--sample-seconds", "1",
                      "--trace-python-heap")

    soak = report["soak"]
    assert soak["events"] > 0 and soak["drain_seconds"] is not None, soak
    assert soak["verify_clean"], soak["verify_output"]
    assert soak["comparison_equal"], soak["comparison"]
    assert soak["comparison"]["openedx_analytics_videosegment"]["live"] > 0
    assert all(rss > 0 for rss in soak["idle_rss_mib"])
    [heap] = soak["python_heap"]  # the worker's main process and pool child traced their Python heap
    assert heap["samples"] > 0 and heap["first_mib"] > 10 and heap["last_mib"] > 10, soak["python_heap_series"]
