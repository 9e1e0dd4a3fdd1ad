"""Benchmark the REST API over real HTTP on MariaDB: p95 latency per endpoint.

Lays out, directly in bulk (the API reads aggregate rows only):
- one course with 100,000 learners and a year of daily history (enrollment and activity days,
  weeks, 60 videos x 120 segments, 200 problems with answer distributions, grades);
- 5,000 courses with a year of daily enrollment each, all held by one course-staff user.
Then starts gunicorn on the test host's settings (its own databases ``oa_bench_api_*``) and
times every course endpoint, and ``courses/`` for the 5,000-course user, with keep-alive
HTTP requests and a session cookie, as a browser would.

    .venv-lms/bin/pip install -r requirements/bench.txt   # gunicorn
    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_bench_api .venv-lms/bin/python bench/bench_api.py
"""
from __future__ import annotations

import datetime as dt
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_api")

PORT = int(os.environ.get("OA_BENCH_PORT", "8765"))
REQUESTS = int(os.environ.get("OA_BENCH_REQUESTS", "200"))
LEARNERS = 100_000
MANY = int(os.environ.get("OA_BENCH_COURSES", "5000"))
BIG = "course-v1:Bench+Big+2026"
VIDEOS, SEGMENTS, PROBLEMS = 60, 120, 200
TODAY = dt.datetime.now(dt.timezone.utc).date()
START = TODAY - dt.timedelta(days=365)


def create_databases() -> None:
    import MySQLdb

    prefix = os.environ["OA_MYSQL_PREFIX"]
    conn = MySQLdb.connect(host="127.0.0.1", user="root", passwd="")
    for name in (f"{prefix}_lms", f"{prefix}_analytics"):
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        conn.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    conn.close()


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", database="default", verbosity=0)
    call_command("migrate", database="analytics", verbosity=0)


def days() -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range((TODAY - START).days + 1)]


def big_course(now: dt.datetime) -> None:
    from openedx_analytics import models as m

    rng = random.Random(1)
    using = "analytics"
    enrollment, activity = [], []
    count = 0
    for i, day in enumerate(days()):
        count = min(LEARNERS, count + rng.randint(200, 350))
        modes = {"audit": {"count": int(count * 0.7), "cumulative_count": int(count * 0.72)},
                 "verified": {"count": int(count * 0.25), "cumulative_count": int(count * 0.25)},
                 "masters": {"count": count - int(count * 0.7) - int(count * 0.25), "cumulative_count": 900}}
        enrollment.append(m.EnrollmentDay(course_id=BIG, date=day, count=count, cumulative_count=count + i * 3,
                                          enrollments=300, unenrollments=20, modes=modes, last_updated=now))
        activity.append(m.ActivityDay(course_id=BIG, date=day, any=count // 5, attempted_problem=count // 12,
                                      played_video=count // 8, posted_forum=count // 200, last_updated=now))
    m.EnrollmentDay.objects.using(using).bulk_create(enrollment, batch_size=1000)
    m.ActivityDay.objects.using(using).bulk_create(activity, batch_size=1000)
    monday = START - dt.timedelta(days=START.weekday())
    weeks = []
    while monday <= TODAY:
        weeks.append(m.ActivityWeek(course_id=BIG, interval_start=monday, any=30000, attempted_problem=12000,
                                    played_video=20000, posted_forum=900, last_updated=now))
        monday += dt.timedelta(days=7)
    m.ActivityWeek.objects.using(using).bulk_create(weeks)
    videos, segments = [], []
    for v in range(VIDEOS):
        vid = f"block-v1:Bench+Big+2026+type@video+block@v{v:03d}"
        videos.append(m.VideoSummary(course_id=BIG, video_id=vid, duration=SEGMENTS * 5, segment_length=5,
                                     users_at_start=60000, users_at_end=30000, views=90000, last_updated=now))
        segments += [m.VideoSegment(course_id=BIG, video_id=vid, segment=s, num_users=60000 - s * 200,
                                    num_views=90000 - s * 250) for s in range(SEGMENTS)]
    m.VideoSummary.objects.using(using).bulk_create(videos)
    m.VideoSegment.objects.using(using).bulk_create(segments, batch_size=2000)
    problems, answers = [], []
    for p in range(PROBLEMS):
        pid = f"block-v1:Bench+Big+2026+type@problem+block@p{p:03d}"
        problems.append(m.ProblemSummary(course_id=BIG, problem_id=pid, part_ids=["2_1", "3_1"], users_attempted=50000,
                                         total_submissions=80000, correct_submissions=35000,
                                         first_attempt_correct=20000, attempts_mean=1.6, last_updated=now))
        answers += [m.ProblemAnswer(course_id=BIG, problem_id=pid, part_id=part, answer_value=f"choice_{a}",
                                    correct=a == 0, variant="", count=10000 - a * 1000)
                    for part in ("2_1", "3_1") for a in range(8)]
    m.ProblemSummary.objects.using(using).bulk_create(problems)
    m.ProblemAnswer.objects.using(using).bulk_create(answers, batch_size=2000)
    buckets = [{"bucket": f"{b * 10}-{b * 10 + 9}" if b < 9 else "90-100", "count": 10000} for b in range(10)]
    m.CourseGrades.objects.using(using).create(course_id=BIG, passing_users=41000, buckets=buckets,
                                               certificates={"verified": 20000, "honor": 5000}, last_updated=now)


def many_courses(now: dt.datetime) -> list[str]:
    from openedx_analytics import models as m

    ids = [f"course-v1:Many+C{i:04d}+2026" for i in range(MANY)]
    last_week = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    rows = []
    for course in ids:
        rows += [m.EnrollmentDay(course_id=course, date=day, count=500, cumulative_count=600, enrollments=2,
                                 unenrollments=1, modes={"audit": {"count": 500, "cumulative_count": 600}},
                                 last_updated=now) for day in days()]
        if len(rows) >= 50_000:
            m.EnrollmentDay.objects.using("analytics").bulk_create(rows, batch_size=5000)
            rows = []
    m.EnrollmentDay.objects.using("analytics").bulk_create(rows, batch_size=5000)
    m.ActivityWeek.objects.using("analytics").bulk_create(
        [m.ActivityWeek(course_id=c, interval_start=last_week, any=100, attempted_problem=50, played_video=70,
                        posted_forum=3, last_updated=now) for c in ids], batch_size=5000)
    m.CourseGrades.objects.using("analytics").bulk_create(
        [m.CourseGrades(course_id=c, passing_users=40, buckets=[], certificates={"honor": 30}, last_updated=now)
         for c in ids], batch_size=5000)
    return ids


def people(many: list[str]) -> tuple[str, str]:
    """Session keys of a course-staff user of BIG and of a staff user of every ``many`` course."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from opaque_keys.edx.keys import CourseKey
    from waffle.models import Flag

    from lms_host.stub.models import CourseAccessRole, CourseOverview
    from openedx_analytics.lms.rollout import FLAG_NAME
    from openedx_analytics.models import AnalyticsConfiguration

    keys = [CourseKey.from_string(c) for c in [BIG, *many]]
    CourseOverview.objects.bulk_create([CourseOverview(id=k, display_name=str(k), org=k.org) for k in keys],
                                       batch_size=2000)
    make = get_user_model().objects.create_user
    big_staff, many_staff = make("big_staff"), make("many_staff")
    CourseAccessRole.objects.create(user=big_staff, org="Bench", course_id=keys[0], role="staff")
    CourseAccessRole.objects.bulk_create(
        [CourseAccessRole(user=many_staff, org=k.org, course_id=k, role="staff") for k in keys[1:]], batch_size=2000)
    Flag.objects.create(name=FLAG_NAME, everyone=True)
    AnalyticsConfiguration.objects.create(enabled=True, api_throttle_rate="100000/minute")

    def session(user) -> str:
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    return session(big_staff), session(many_staff)


def serve() -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{PORT}", "--workers", "1",
         "--log-level", "warning", "django.core.wsgi:get_wsgi_application()"],
        cwd=ROOT, env=env)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/api/analytics/v1/schema/")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def timed(session_key: str, path: str, n: int) -> tuple[float, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Cookie": f"sessionid={session_key}", "Accept": "application/json"}
    samples, size = [], 0
    for i in range(n + 10):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
        if i >= 10:  # warm-up requests are not counted
            samples.append(elapsed)
            size = len(body)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], size


def main() -> None:
    create_databases()
    setup_django()
    from django.utils import timezone

    now = timezone.now()
    t0 = time.perf_counter()
    big_course(now)
    many = many_courses(now)
    big_key, many_key = people(many)
    print(f"data laid out in {time.perf_counter() - t0:.0f} s")
    base = f"/api/analytics/v1/courses/{BIG}/"
    video = "block-v1:Bench+Big+2026+type@video+block@v007"
    problem = "block-v1:Bench+Big+2026+type@problem+block@p042"
    cases = [
        ("summary/", base + "summary/"),
        ("enrollment/ (365 days)", base + "enrollment/"),
        ("enrollment/ as CSV", base + "enrollment/?format=csv"),
        ("activity/ (weekly)", base + "activity/"),
        ("activity/?granularity=day", base + "activity/?granularity=day"),
        ("videos/ (60)", base + "videos/"),
        ("videos/{id}/timeline/ (120)", base + f"videos/{video}/timeline/"),
        ("problems/ (200)", base + "problems/"),
        ("problems/{id}/answers/", base + f"problems/{problem}/answers/"),
        ("grades/", base + "grades/"),
    ]
    proc = serve()
    try:
        print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
        for label, path in cases:
            p50, p95, size = timed(big_key, path, REQUESTS)
            print(f"{label:34} {p50:8.1f} {p95:8.1f} {size:8}")
        for label, path in ((f"courses/ ({MANY} courses, page 1)", "/api/analytics/v1/courses/"),
                            ("courses/?search=C4999", "/api/analytics/v1/courses/?search=C4999")):
            p50, p95, size = timed(many_key, path, max(REQUESTS // 4, 20))
            print(f"{label:34} {p50:8.1f} {p95:8.1f} {size:8}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
