"""Benchmark the tab's "Insights numbers" against its live numbers, and the tab with the old Insights API hung.

The big course of ``bench.harness.course_data`` (100,000 learners, a year of days, 53 weeks,
60 videos, 200 problems) on the test host's databases, and a fake old Insights data API
(``tests.support.fake_insights``, a threaded HTTP server on 127.0.0.1 in edx-analytics-data-api
v0's shapes) holding the same course's numbers with every tenth day changed. Times, through
Django's test client in one process, with the page cache off (each request renders):

- the baseline: the page with live numbers (the switch shown, ``new_data=true``);
- the page with Insights numbers, the old API's answers not cached (four reads over HTTP);
- the same with the answers cached (``OPENEDX_ANALYTICS_INSIGHTS_API_CACHE_SECONDS``);
- the compare view (answers cached);
- the old API hung: the first page (it waits one timeout, ``OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT``)
  beside the bound connect + read, and the next page (the API is marked down).

Medians of ``OA_BENCH_RUNS`` runs (default 5; the hung first page runs once). Its own MariaDB
databases (``OA_MYSQL_PREFIX``, default ``oa_bench_insights``)::

    OA_TEST_DB=mysql .venv-lms/bin/python -m bench.insights_switch
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_insights")

RUNS = int(os.environ.get("OA_BENCH_RUNS", "5"))
TIMEOUT = (2.0, 5.0)


def timed(label: str, action: Callable[[], object], runs: int = RUNS, before: Callable[[], object] | None = None
          ) -> float:
    """Median seconds of ``runs`` runs of ``action`` (``before`` run untimed before each); printed as a row."""
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"| {label} | {median * 1000:,.0f} ms |", flush=True)
    return median


def main() -> None:
    """Lay out the course and the fake old API, then time the five cases."""
    argparse.ArgumentParser(prog="python -m bench.insights_switch", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    from bench.harness import course_data

    course_data.create_databases()
    course_data.setup_django()
    import logging

    logging.disable(logging.WARNING)  # the "did not answer" warnings are what is timed, not what is read
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from edx_toggles.toggles.testutils import override_waffle_flag

    from openedx_analytics.lms import insights_switch
    from openedx_analytics.models import InsightsDataApiConfiguration
    from tests.support.fake_insights import FakeInsightsApi, shapes_from_live

    course_data.big_course(dt.datetime.now(dt.timezone.utc))
    staff_session, _ = course_data.people([])
    settings.OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS = 0
    settings.OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT = TIMEOUT
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = staff_session
    url = f"/analytics/courses/{course_data.BIG}/"

    def page(**query: str) -> None:
        response = client.get(url, query)
        assert response.status_code == 200, response.status_code

    with FakeInsightsApi() as fake, override_waffle_flag(insights_switch.SWITCH, active=True):
        shapes = shapes_from_live(course_data.BIG)
        for row in shapes["enrollment/mode"][::10]:
            row["count"] += 7
        fake.data[course_data.BIG] = shapes
        InsightsDataApiConfiguration.objects.create(enabled=True, base_url=fake.base_url, auth_token=fake.token)
        old_page = client.get(url, {"new_data": "false"}).content.decode()
        assert "Insights numbers" in old_page and "did not answer" not in old_page
        print(f"{len(shapes['enrollment/mode'])} days, {len(shapes['activity'])} weeks, {len(shapes['videos'])} "
              f"videos, {len(shapes['problems'])} problems; median of {RUNS} runs")
        print("| case | time |\n|---|---:|")
        live = timed("baseline: live numbers (new_data=true)", lambda: page(new_data="true"))
        cold = timed("Insights numbers, old API's answers not cached (4 reads over HTTP)",
                     lambda: page(new_data="false"), before=cache.clear)
        warm = timed("Insights numbers, answers cached", lambda: page(new_data="false"))
        timed("compare view, answers cached", lambda: page(view="compare"))
        fake.hang = True
        hung = timed(f"old API hung: first page (bound: connect + read = {sum(TIMEOUT):.0f} s)",
                     lambda: page(new_data="false", start_date="2026-01-01"), runs=1, before=cache.clear)
        timed("old API hung: the next page (marked down)", lambda: page(new_data="false", start_date="2026-01-02"))
        fake.released.set()
    print(f"Insights numbers cost {cold / live:.2f}x the live page cold, {warm / live:.2f}x warm; "
          f"the hung API held the page {hung:.2f} s against a bound of {sum(TIMEOUT) + 0.5:.1f} s")


if __name__ == "__main__":
    main()
