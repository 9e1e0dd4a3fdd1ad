"""Benchmark the course analytics page in a real browser: time until HTML and stylesheet are loaded and rendered.

Reuses the REST API benchmark's data (``bench.harness.course_data``): one course with
100,000 learners and a year of daily history (366 enrollment and activity days, 53 weeks,
60 videos x 120 segments, 200 problems with answer distributions, grades) and its outline
(10 sections x 4 subsections, graded assignment types, learning-outcome tags), on MariaDB
(databases ``oa_bench_page_*``). Serves the test host with gunicorn (1 sync worker, static
files through Django's StaticFilesHandler) and loads the page in Debian's Chromium driven
by Playwright (no browser download), each load in a fresh browser context (empty cache,
new connection), and reads the browser's Navigation Timing: from navigation start to the
end of the load event. Any Content Security Policy violation the browser reports fails the
run.

Each case is measured twice: "cold", with the page cache off
(``OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS=0``: every load renders the whole page), and "warm",
with the default 60 s cache (a course team reopening the dashboard).

Baselines, measured in the same run and loaded the same way: the very same HTML and
stylesheet saved to disk and served by Python's static file server (what the browser alone
costs), and the REST API's JSON of the year of enrollment (a cheap request through the same
server, authentication and database: what the machine's load adds). The load average is
printed too: the machine is shared.

    .venv-lms/bin/pip install -r requirements/bench.txt playwright   # gunicorn, playwright
    OA_TEST_DB=mysql .venv-lms/bin/python -m bench.page

``OA_BENCH_PORT`` (default 8101) is the server's port, ``OA_BENCH_STATIC_PORT`` (default 8102)
the static copy's, ``OA_BENCH_LOADS`` (default 40) the timed loads per case, ``OA_CHROMIUM``
the browser (default /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import http.client
import http.server
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.harness import ROOT
from bench.harness import course_data as data
from bench.harness.servers import gunicorn_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_page")

PORT = int(os.environ.get("OA_BENCH_PORT", "8101"))
STATIC_PORT = int(os.environ.get("OA_BENCH_STATIC_PORT", "8102"))
LOADS = int(os.environ.get("OA_BENCH_LOADS", "40"))
WARMUP = 3
CHROMIUM = os.environ.get("OA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
#: The page's WSGI app: the test host with its static files (``OA_BENCH_PAGE_CACHE_SECONDS``: the page cache).
PAGE_APP = "bench.harness.page_wsgi:application"


def serve(cache_seconds: int) -> subprocess.Popen:
    """gunicorn serving the page with a page cache of ``cache_seconds`` (0: off), once its stylesheet loads."""
    env = {**os.environ, "OA_BENCH_PAGE_CACHE_SECONDS": str(cache_seconds)}
    proc = subprocess.Popen(gunicorn_command(PORT, PAGE_APP), cwd=ROOT, env=env)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/static/openedx_analytics/dashboard.css")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


class PageServer:
    """The page's gunicorn, restarted to change its page cache; stopped whatever happens."""

    def __init__(self, cache_seconds: int) -> None:
        self.process = serve(cache_seconds)

    def restart(self, cache_seconds: int) -> None:
        """Serve again with a page cache of ``cache_seconds``."""
        self.stop()
        self.process = serve(cache_seconds)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then wait)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


def static_copy(html: bytes, root: Path) -> threading.Thread:
    """Serve ``html`` as /page.html and our stylesheet at its usual path, from ``root``."""
    css = ROOT / "openedx_analytics/static/openedx_analytics/dashboard.css"
    (root / "static/openedx_analytics").mkdir(parents=True)
    shutil.copy(css, root / "static/openedx_analytics/dashboard.css")
    (root / "page.html").write_bytes(html)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        """Python's static file server, without a log line per request."""

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", STATIC_PORT), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def load_times(browser: Any, url: str, session_key: str | None, loads: int) -> tuple[list[float], list[float], int]:
    """Page-ready and HTML-received times (ms) of ``loads`` loads, each in a fresh context; and the HTML size."""
    ready, html_ms, size = [], [], 0
    for i in range(loads + WARMUP):
        context = browser.new_context()
        if session_key:
            context.add_cookies([{"name": "sessionid", "value": session_key, "domain": "127.0.0.1", "path": "/"}])
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m, v=violations: v.append(m.text) if "Content Security Policy" in m.text else None)
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise RuntimeError(f"{url}: {response.status if response else 'no response'}")
        timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
            return [n.loadEventEnd - n.startTime, n.responseEnd - n.startTime, n.encodedBodySize]; }""")
        if violations:
            raise RuntimeError(f"CSP violations on {url}: {violations[:3]}")
        context.close()
        if i >= WARMUP:
            ready.append(timing[0])
            html_ms.append(timing[1])
            size = int(timing[2])
    return ready, html_ms, size


def p95(samples: list[float]) -> float:
    """The 95th percentile of ``samples`` (nearest rank, rounding down)."""
    ordered = sorted(samples)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def lay_out() -> str:
    """The big course's rows, in fresh databases; the session key of its course-staff user."""
    data.create_databases()
    data.setup_django()
    from django.utils import timezone

    t0 = time.perf_counter()
    data.big_course(timezone.now())
    staff_key, _unused = data.people([])
    data.big_course_outline()
    print(f"data laid out in {time.perf_counter() - t0:.0f} s")
    return staff_key


def page_cases() -> list[tuple[str, str]]:
    """(label, URL) of each page load timed."""
    page = f"http://127.0.0.1:{PORT}/analytics/courses/{data.BIG}/"
    return [
        ("page, whole year (weekly engagement)", page),
        ("page, daily engagement", page + "?activity=day"),
        ("page + video drill-down (120 segments)", page + f"?video={data.VIDEO}"),
        ("page + problem drill-down", page + f"?problem={data.PROBLEM}"),
        ("page + videos by outline: a section", page + f"?video_section={quote(data.SECTION)}"),
        ("page + videos by outline: a subsection",
         page + f"?video_section={quote(data.SECTION)}&video_subsection={quote(data.SUBSECTION)}"),
        ("page + graded content: an assignment type", page + "?graded_type=Homework"),
        ("page + graded content: an assignment",
         page + f"?graded_type=Homework&graded_assignment={quote(data.SUBSECTION)}"),
        ("page + ungraded problems: a section", page + f"?ungraded_section={quote(data.SECTION)}"),
        ("page + learning outcomes: a tag", page + f"?outcome={quote(data.OUTCOMES[1])}"),
    ]


def page_html(staff_key: str) -> bytes:
    """The default page's HTML as the course staff receives it."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", page_cases()[0][1].removeprefix(f"http://127.0.0.1:{PORT}"),
                 headers={"Cookie": f"sessionid={staff_key}"})
    return conn.getresponse().read()


def report_cases(browser: Any, server: PageServer, staff_key: str) -> None:
    """Print the two baselines, then every case cold (page cache off) and warm (the default 60 s cache)."""
    print(f"Chromium {browser.version}; {LOADS} loads per case, each in a fresh context (no browser cache)")
    print(f"{'case':50} {'ready p50':>10} {'ready p95':>10} {'HTML p95':>9} {'HTML bytes':>11}")

    def report(label: str, url: str, session: str | None) -> None:
        ready, html_ms, size = load_times(browser, url, session, LOADS)
        print(f"{label:50} {statistics.median(ready):10.1f} {p95(ready):10.1f} {p95(html_ms):9.1f} "
              f"{size:11,}", flush=True)

    report("baseline: same HTML + CSS as static files", f"http://127.0.0.1:{STATIC_PORT}/page.html", None)
    api = f"http://127.0.0.1:{PORT}/api/analytics/v1/courses/{data.BIG}/enrollment/?format=json"
    report("baseline: REST API enrollment JSON", api, staff_key)
    for label, url in page_cases():
        report(f"cold: {label}", url, staff_key)
    server.restart(60)
    for label, url in page_cases():
        report(f"warm: {label}", url, staff_key)


def main() -> None:
    """Lay the course out, serve it, and time every case in Chromium beside the baselines."""
    argparse.ArgumentParser(prog="python -m bench.page", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    from playwright.sync_api import sync_playwright

    staff_key = lay_out()
    workdir = Path(tempfile.mkdtemp(prefix="oa-bench-page-"))
    server = PageServer(0)
    try:
        static_copy(page_html(staff_key), workdir)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            report_cases(browser, server, staff_key)
            browser.close()
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
