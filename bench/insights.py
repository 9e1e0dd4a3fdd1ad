"""Benchmark the Insights-compatible API over real HTTP on MariaDB, beside v1 in the same run.

Lays out the data of ``bench.api`` (``bench.harness.course_data``: one course with 100,000
learners and a year of daily history; ``OA_BENCH_COURSES`` more courses, default 500, held
by one course-staff user), gives both users an ``insights`` service key, starts gunicorn on
the test host's settings and times, with keep-alive requests:

- each Insights-compatible endpoint on the big course with ``Authorization: Token <key>``,
  beside the v1 endpoint that reads the same figures with the same user's session (the
  baseline: the difference is the key lookup and the reshaping);
- ``course_summaries/`` POSTed with every course id as a form (what the client does past
  10 ids: 500 ids do not fit in a URL) beside v1's ``courses/?page_size=1000``, the same
  courses (the user reads exactly those), one page.

    .venv-lms/bin/pip install -r requirements/bench.txt   # gunicorn
    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_bench_hins .venv-lms/bin/python -m bench.insights

``OA_BENCH_PORT`` (default 8441) is the server's port, ``OA_BENCH_REQUESTS`` (default 100) the
timed requests per endpoint.
"""
from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import time
from urllib.parse import quote, urlencode

from bench.harness import ROOT
from bench.harness import course_data as data
from bench.harness.servers import TEST_HOST_APP, gunicorn_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_hins")

PORT = int(os.environ.get("OA_BENCH_PORT", "8441"))
REQUESTS = int(os.environ.get("OA_BENCH_REQUESTS", "100"))
MANY = int(os.environ.get("OA_BENCH_COURSES", "500"))
INSIGHTS = "/api/analytics/insights/v1/"
V1 = "/api/analytics/v1/"


def serve() -> subprocess.Popen:
    """gunicorn serving the test host on ``PORT``, once it answers."""
    proc = subprocess.Popen(gunicorn_command(PORT, TEST_HOST_APP), cwd=ROOT, env=dict(os.environ))
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", f"{V1}schema/")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def timed(headers: dict[str, str], path: str, n: int, body: str | None = None) -> tuple[float, float]:
    """p50 and p95 (ms) of ``n`` requests (GET, or POST of ``body`` as a form) after 5 warm-up ones."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    method = "POST" if body is not None else "GET"
    if body is not None:
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    samples = []
    for i in range(n + 5):
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path[:200]}: {response.status} {content[:300]!r}")
        if i >= 5:
            samples.append(elapsed)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def cases(big: str) -> list[tuple[str, str, str]]:
    """(label, Insights path, v1 path of the same figures) on the big course."""
    course, v1 = f"{INSIGHTS}courses/{big}/", f"{V1}courses/{big}/"
    year = f"?start_date={data.START}&end_date={data.TODAY}"
    return [
        ("enrollment/ (latest row)", course + "enrollment/", v1 + "enrollment/"),
        ("enrollment/mode/ (a year)", course + "enrollment/mode/" + year, v1 + "enrollment/" + year),
        ("enrollment/mode/ as CSV", course + "enrollment/mode/" + year + "&format=csv",
         v1 + "enrollment/" + year + "&format=csv"),
        ("activity/ (a year of weeks)", course + "activity/" + year, v1 + "activity/" + year),
        ("problems/ (200)", course + "problems/", v1 + "problems/"),
        ("videos/ (60)", course + "videos/", v1 + "videos/"),
        ("videos/<pipeline id>/timeline/", f"{INSIGHTS}videos/{quote(big + '|' + data.VIDEO)}/timeline/",
         v1 + f"videos/{data.VIDEO}/timeline/"),
        ("problems/<id>/answer_distribution/", f"{INSIGHTS}problems/{data.PROBLEM}/answer_distribution/",
         v1 + f"problems/{data.PROBLEM}/answers/?page_size=1000"),
    ]


def main() -> None:
    """Lay the data out, give keys, serve, time each pair."""
    argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    data.create_databases()
    data.setup_django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from openedx_analytics import service_keys

    now = timezone.now()
    t0 = time.perf_counter()
    data.big_course(now)
    many = data.many_courses(now, MANY)
    big_session, many_session = data.people(many)
    users = get_user_model().objects
    big_key = service_keys.issue_key(users.get(username="big_staff"), "insights")
    many_key = service_keys.issue_key(users.get(username="many_staff"), "insights")
    print(f"data laid out in {time.perf_counter() - t0:.0f} s")
    proc = serve()
    try:
        print(f"{'endpoint':36} {'Insights p50/p95 ms':>20} {'v1 p50/p95 ms':>16}")
        token = {"Authorization": f"Token {big_key}", "Accept": "application/json"}
        cookie = {"Cookie": f"sessionid={big_session}", "Accept": "application/json"}
        for label, insights_path, v1_path in cases(data.BIG):
            if "format=csv" in insights_path:
                token_csv, cookie_csv = {**token, "Accept": "text/csv"}, {**cookie, "Accept": "text/csv"}
                ours, theirs = timed(token_csv, insights_path, REQUESTS), timed(cookie_csv, v1_path, REQUESTS)
            else:
                ours, theirs = timed(token, insights_path, REQUESTS), timed(cookie, v1_path, REQUESTS)
            print(f"{label:36} {ours[0]:9.1f} / {ours[1]:7.1f} {theirs[0]:7.1f} / {theirs[1]:6.1f}")
        form = urlencode([("course_ids", course) for course in many])
        ours = timed({"Authorization": f"Token {many_key}", "Accept": "application/json"},
                     f"{INSIGHTS}course_summaries/", max(REQUESTS // 5, 10), body=form)
        theirs = timed({"Cookie": f"sessionid={many_session}", "Accept": "application/json"},
                       f"{V1}courses/?page_size=1000", max(REQUESTS // 5, 10))
        label = f"course_summaries/ POST ({MANY} ids)"
        print(f"{label:36} {ours[0]:9.1f} / {ours[1]:7.1f} {theirs[0]:7.1f} / {theirs[1]:6.1f}  "
              f"(v1: courses/ of the same {MANY}, one page)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
