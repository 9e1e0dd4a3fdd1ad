"""Benchmark the REST API over real HTTP on MariaDB: p95 latency per endpoint.

Lays out, directly in bulk (the API reads aggregate rows only; ``bench.harness.course_data``):
- one course with 100,000 learners and a year of daily history (enrollment and activity days,
  weeks, 60 videos x 120 segments, 200 problems with answer distributions, grades);
- 5,000 courses with a year of daily enrollment each, all held by one course-staff user.
Then starts gunicorn on the test host's settings (its own databases ``oa_bench_api_*``) and
times every course endpoint, and ``courses/`` for the 5,000-course user, with keep-alive
HTTP requests and a session cookie, as a browser would.

    .venv-lms/bin/pip install -r requirements/bench.txt   # gunicorn
    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_bench_api .venv-lms/bin/python -m bench.api

``OA_BENCH_PORT`` (default 8765) is the server's port, ``OA_BENCH_REQUESTS`` (default 200) the
timed requests per course endpoint, ``OA_BENCH_COURSES`` (default 5000) the small courses.
"""
from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import time

from bench.harness import ROOT
from bench.harness import course_data as data
from bench.harness.servers import TEST_HOST_APP, gunicorn_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_api")

PORT = int(os.environ.get("OA_BENCH_PORT", "8765"))
REQUESTS = int(os.environ.get("OA_BENCH_REQUESTS", "200"))
MANY = int(os.environ.get("OA_BENCH_COURSES", "5000"))


def serve() -> subprocess.Popen:
    """gunicorn serving the test host on ``PORT``, once it answers."""
    proc = subprocess.Popen(gunicorn_command(PORT, TEST_HOST_APP), cwd=ROOT, env=dict(os.environ))
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/api/analytics/v1/schema/")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def timed(session_key: str, path: str, n: int) -> tuple[float, float, int]:
    """p50 and p95 (ms) of ``n`` GETs of ``path`` after 10 warm-up ones, on one keep-alive connection; body bytes."""
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
    """Lay the data out, serve it, time every endpoint."""
    argparse.ArgumentParser(prog="python -m bench.api", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    data.create_databases()
    data.setup_django()
    from django.utils import timezone

    now = timezone.now()
    t0 = time.perf_counter()
    data.big_course(now)
    many = data.many_courses(now, MANY)
    big_key, many_key = data.people(many)
    print(f"data laid out in {time.perf_counter() - t0:.0f} s")
    proc = serve()
    try:
        print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
        for label, path in course_cases():
            p50, p95, size = timed(big_key, path, REQUESTS)
            print(f"{label:34} {p50:8.1f} {p95:8.1f} {size:8}")
        for label, path in ((f"courses/ ({MANY} courses, page 1)", "/api/analytics/v1/courses/"),
                            ("courses/?search=C4999", "/api/analytics/v1/courses/?search=C4999")):
            p50, p95, size = timed(many_key, path, max(REQUESTS // 4, 20))
            print(f"{label:34} {p50:8.1f} {p95:8.1f} {size:8}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def course_cases() -> list[tuple[str, str]]:
    """(label, path) of every course endpoint timed on the big course."""
    base = f"/api/analytics/v1/courses/{data.BIG}/"
    return [
        ("summary/", base + "summary/"),
        ("enrollment/ (365 days)", base + "enrollment/"),
        ("enrollment/ as CSV", base + "enrollment/?format=csv"),
        ("activity/ (weekly)", base + "activity/"),
        ("activity/?granularity=day", base + "activity/?granularity=day"),
        ("videos/ (60)", base + "videos/"),
        ("videos/{id}/timeline/ (120)", base + f"videos/{data.VIDEO}/timeline/"),
        ("problems/ (200)", base + "problems/"),
        ("problems/{id}/answers/", base + f"problems/{data.PROBLEM}/answers/"),
        ("grades/", base + "grades/"),
    ]


if __name__ == "__main__":
    main()
