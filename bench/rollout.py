"""Benchmark the course list's rollout check for a staff user of 5,000 courses, overrides present.

Lays out 5,000 courses (seven orgs) held by one course-staff user, LMS waffle flag course
overrides of the rollout flag on a third of them, an org override, and a course override
row of our own on every fiftieth. Then times, in one process on the test host's settings:

- the baseline: the overrides read per course, as the LMS's ``CourseWaffleFlag`` reads them
  (``flags.course_flag_override`` for each course: two queries per course);
- ``rollout.enabled_courses`` over the same 5,000 courses (the bulk read);
- what the ``courses/`` list does before its page of summaries (roles, then the rollout check);
- a whole ``GET courses/`` (page 1 of 100) through Django's test client.

Each figure is the median of ``OA_BENCH_RUNS`` runs (default 5; the slow baseline runs once),
request caches cleared between runs. Its own databases (``oa_bench_rollout_*`` on MariaDB, a temporary directory on
SQLite):

    OA_TEST_DB=mysql .venv-lms/bin/python -m bench.rollout
    OA_TEST_DB=sqlite .venv-lms/bin/python -m bench.rollout

``OA_BENCH_COURSES`` (default 5000) is the number of courses, ``OA_BENCH_RUNS`` (default 5) the runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from bench.harness.databases import drop_mysql

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_rollout")

MANY = int(os.environ.get("OA_BENCH_COURSES", "5000"))
RUNS = int(os.environ.get("OA_BENCH_RUNS", "5"))
TARGET = 0.5


def create_databases() -> None:
    """Empty MariaDB databases of ``OA_MYSQL_PREFIX``; on SQLite, ``OA_SQLITE_DIR`` (by default a new directory)."""
    if os.environ["OA_TEST_DB"] == "mysql":
        drop_mysql(os.environ["OA_MYSQL_PREFIX"], create=True)
    else:
        os.environ.setdefault("OA_SQLITE_DIR", tempfile.mkdtemp(prefix="oa-bench-rollout-"))


def lay_out() -> object:
    """The courses, the staff user holding them all, and the overrides; the staff user."""
    from django.contrib.auth import get_user_model
    from opaque_keys.edx.keys import CourseKey

    from lms_host.stub.models import (
        CourseAccessRole,
        CourseOverview,
        WaffleFlagCourseOverrideModel,
        WaffleFlagOrgOverrideModel,
    )
    from openedx_analytics.lms import rollout
    from openedx_analytics.models import CourseAnalyticsOverride

    keys = [CourseKey.from_string(f"course-v1:Bench{i % 7}+C{i:04d}+2026") for i in range(MANY)]
    CourseOverview.objects.bulk_create([CourseOverview(id=k, display_name=str(k), org=k.org) for k in keys],
                                       batch_size=1000)
    staff = get_user_model().objects.create_user("many_staff", "many@example.com")
    CourseAccessRole.objects.bulk_create(
        [CourseAccessRole(user=staff, org=k.org, course_id=k, role="staff") for k in keys], batch_size=1000)
    WaffleFlagCourseOverrideModel.objects.bulk_create(
        [WaffleFlagCourseOverrideModel(waffle_flag=rollout.FLAG_NAME, course_id=k,
                                       override_choice="on" if i % 2 else "off", enabled=True)
         for i, k in enumerate(keys[::3])], batch_size=1000)
    WaffleFlagOrgOverrideModel.objects.create(waffle_flag=rollout.FLAG_NAME, org="Bench1", override_choice="off",
                                              enabled=True)
    CourseAnalyticsOverride.objects.bulk_create(
        [CourseAnalyticsOverride(course_id=str(k), override_choice=CourseAnalyticsOverride.ON, enabled=True)
         for k in keys[1::50]])
    return staff


def timed(label: str, action: Callable[[], object], runs: int = RUNS) -> float:
    """Median seconds of ``runs`` runs of ``action``, request caches cleared before each; printed as a table row."""
    from edx_django_utils.cache import RequestCache

    samples = []
    for _ in range(runs):
        RequestCache.clear_all_namespaces()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"| {label} | {median * 1000:,.0f} ms |", flush=True)
    return median


def main() -> None:
    """Lay the courses out, then time the baseline, the bulk read, the list path and the whole request."""
    argparse.ArgumentParser(prog="python -m bench.rollout", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    create_databases()
    import django
    from django.core.management import call_command

    django.setup()
    import logging

    logging.disable(logging.WARNING)  # the flag read outside a request, telemetry: not what is timed
    call_command("migrate", database="default", verbosity=0)
    call_command("migrate", database="analytics", verbosity=0)
    from django.db import connections
    from django.test import Client
    from edx_toggles.toggles.testutils import override_waffle_flag

    from openedx_analytics import access
    from openedx_analytics.lms import flags, rollout

    staff = lay_out()
    client = Client()
    client.force_login(staff)
    courses = access.readable_courses(staff)
    assert len(courses) == MANY, len(courses)
    print(f"{MANY:,} courses, {connections['default'].vendor}, median of {RUNS} runs")
    print("| step | time |\n|---|---|")
    with override_waffle_flag(rollout.ENABLED, active=True):
        baseline = timed(f"baseline: overrides read per course ({MANY:,} x 2 queries, as CourseWaffleFlag)",
                         lambda: [flags.course_flag_override(rollout.FLAG_NAME, c) for c in courses], runs=1)
        bulk = timed("rollout.enabled_courses, overrides read in bulk", lambda: rollout.enabled_courses(courses))
        listing = timed("roles + rollout check (the course list before its page of summaries)",
                        lambda: access.visible_courses(staff))
        response = client.get("/api/analytics/v1/courses/")
        assert response.status_code == 200, response.status_code
        whole = timed("GET courses/ (page 1 of 100), whole request", lambda: client.get("/api/analytics/v1/courses/"))
    verdict = "under" if whole < TARGET else "OVER"
    print(f"bulk is {baseline / bulk:,.0f}x faster than per course; whole request {verdict} {TARGET * 1000:.0f} ms "
          f"(list path {listing * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
