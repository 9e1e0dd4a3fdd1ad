"""Benchmark the site overview (page, its CSV) and ``site/activity/`` over real HTTP on MariaDB: p95 latency.

Lays out, directly in bulk (``bench.harness.course_data``): 5,000 courses with a year of
daily enrollment, a week of activity and grades each (``many_courses``), and 100,000
learners, each active in three of those courses in some of the last eight weeks (one
``ActivityLearnerWeek`` row per learner, course, week: about 1.2 million rows, the table
the distinct weekly counts read). Then serves the test host with gunicorn and times, with
keep-alive requests and a session cookie, the site overview of a global staff user (all
5,000 courses) and of an org-wide staff user (the org holds all 5,000), its CSV, its
filters and sorts, and ``site/activity/``; ``courses/`` (page 1, the existing course
list) of the same data is timed first as the same-run baseline.

    .venv-lms/bin/pip install -r requirements/bench.txt   # gunicorn
    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_bench_site .venv-lms/bin/python -m bench.site

``OA_BENCH_PORT`` (default 8766) is the server's port, ``OA_BENCH_REQUESTS`` (default 40) the
timed requests per case, ``OA_BENCH_COURSES`` (default 5000) the courses,
``OA_BENCH_LEARNERS`` (default 100000) the learners. ``OA_BENCH_REUSE=1`` times the data a
previous run left in the same databases instead of laying it out again (about 11 minutes).

The learner-weeks are written in bulk, as a backfill writes facts; like a backfill, the run
then has the drain build the site's and orgs' weekly figures from them
(``metrics.site_activity``, a whole rebuild) and prints how long that took. With
``OA_BENCH_REUSE=1`` the same happens when the figures are missing or a rebuild is pending
(data laid out before they existed: the migration marks the rebuild).

Each case prints the time of its first request (``first ms``: nothing of its courses in the
cache yet, unless an earlier case of the same courses filled it) beside p50/p95 of the
requests after ten warm-up ones.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import signal
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_site")
os.environ.setdefault("OA_BENCH_PORT", "8766")
os.environ.setdefault("OA_BENCH_REQUESTS", "40")

from bench import api as api_bench  # noqa: E402  (after the environment it reads)
from bench.harness import course_data as data  # noqa: E402

MANY = int(os.environ.get("OA_BENCH_COURSES", "5000"))
LEARNERS = int(os.environ.get("OA_BENCH_LEARNERS", "100000"))
WEEKS = 8
REQUESTS = api_bench.REQUESTS


def learner_weeks(courses: list[str]) -> int:
    """Each learner active in three random courses, each in a random half of the last ``WEEKS`` weeks; rows written."""
    from openedx_analytics import models as m

    rng = random.Random(7)
    monday = data.TODAY - dt.timedelta(days=data.TODAY.weekday())
    weeks = [monday - dt.timedelta(days=7 * n) for n in range(WEEKS)]
    rows, written = [], 0
    for user in range(1, LEARNERS + 1):
        for course in rng.sample(courses, 3):
            rows += [m.ActivityLearnerWeek(course_id=course, week=week, kind="any", user_id=user, days=1)
                     for week in rng.sample(weeks, WEEKS // 2)]
        if len(rows) >= 50_000:
            m.ActivityLearnerWeek.objects.using("analytics").bulk_create(rows, batch_size=5000)
            written, rows = written + len(rows), []
    m.ActivityLearnerWeek.objects.using("analytics").bulk_create(rows, batch_size=5000)
    return written + len(rows)


def build_site_figures(force: bool) -> None:
    """Have the drain build the site's and orgs' weekly figures (a whole rebuild) when ``force``d, missing or
    pending; print how long it took."""
    from openedx_analytics import models as m
    from openedx_analytics.metrics import site_activity
    from openedx_analytics.pipeline import markers
    from openedx_analytics.worker.drain import drain

    pending = m.DirtyScope.objects.using("analytics").filter(kind=site_activity.KIND, course_id=markers.SITE)
    if not (force or pending.exists() or not m.SiteActivityWeek.objects.using("analytics").exists()):
        return
    t0 = time.perf_counter()
    markers.mark_dirty([(site_activity.KIND, markers.SITE, markers.ALL_KEYS)], using="analytics")
    drain(courses=[])
    print(f"site and org weekly figures built in {time.perf_counter() - t0:.1f} s "
          f"({m.SiteActivityWeek.objects.using('analytics').count()} rows)", flush=True)


def overseers() -> tuple[str, str]:
    """Session keys of a global staff user and of a staff user of the org ``Many`` (every course)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from opaque_keys.edx.django.models import CourseKeyField

    from lms_host.stub.models import CourseAccessRole

    users = get_user_model().objects
    if users.filter(username="site_global").exists():  # OA_BENCH_REUSE: a previous run made them
        global_staff, org_staff = users.get(username="site_global"), users.get(username="site_org")
    else:
        global_staff, org_staff = users.create_user("site_global", is_staff=True), users.create_user("site_org")
        CourseAccessRole.objects.create(user=org_staff, org="Many", course_id=CourseKeyField.Empty, role="staff")

    def session(user) -> str:
        store = SessionStore()
        store.update({"_auth_user_id": str(user.pk), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                      "_auth_user_hash": user.get_session_auth_hash()})
        store.create()
        return store.session_key

    return session(global_staff), session(org_staff)


def first(session_key: str, path: str) -> float:
    """Milliseconds of one GET of ``path`` on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", api_bench.PORT, timeout=120)
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": f"sessionid={session_key}", "Accept": "application/json"})
    conn.getresponse().read()
    return (time.perf_counter() - start) * 1000


def many_staff_session() -> str:
    """A new session of ``many_staff`` (made by ``course_data.people`` in the run that laid the data out)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username="many_staff")
    store = SessionStore()
    store.update({"_auth_user_id": str(user.pk), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                  "_auth_user_hash": user.get_session_auth_hash()})
    store.create()
    return store.session_key


def main() -> None:
    """Lay the data out, serve it, time the baseline and every site case."""
    argparse.ArgumentParser(prog="python -m bench.site", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    reuse = os.environ.get("OA_BENCH_REUSE") == "1"
    if not reuse:
        data.create_databases()
    data.setup_django()
    from django.utils import timezone

    t0 = time.perf_counter()
    if reuse:
        many_key = many_staff_session()
        print("timing the data of an earlier run")
    else:
        many = data.many_courses(timezone.now(), MANY)
        _big_key, many_key = data.people(many)
        rows = learner_weeks(many)
        print(f"data laid out in {time.perf_counter() - t0:.0f} s ({MANY} courses, {LEARNERS} learners, "
              f"{rows} learner-week rows)")
    build_site_figures(force=not reuse)
    global_key, org_key = overseers()
    proc = api_bench.serve()
    cases = [
        ("baseline: courses/ (page 1)", many_key, "/api/analytics/v1/courses/"),
        ("site page, global staff", global_key, "/analytics/site/"),
        ("site page, org staff", org_key, "/analytics/site/"),
        ("site page ?sort=-count", global_key, "/analytics/site/?sort=-count"),
        ("site page ?q=C4999", global_key, "/analytics/site/?q=C4999"),
        ("site page ?q=C4 (1,000 courses)", global_key, "/analytics/site/?q=C4"),
        ("site page ?availability=archived", global_key, "/analytics/site/?availability=archived"),
        ("site page page 50", global_key, "/analytics/site/?page=50"),
        ("site page CSV (5,000 rows)", global_key, "/analytics/site/?format=csv"),
        ("site/activity/, global staff", global_key, "/api/analytics/v1/site/activity/"),
        ("site/activity/?org=Many, org staff", org_key, "/api/analytics/v1/site/activity/?org=Many"),
    ]
    try:
        print(f"{'case':36} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}", flush=True)
        for label, key, path in cases:
            cold = first(key, path)
            p50, p95, size = api_bench.timed(key, path, REQUESTS)
            print(f"{label:36} {cold:9.1f} {p50:8.1f} {p95:8.1f} {size:8}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
