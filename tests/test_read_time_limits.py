"""No answer waits on the database without end: the reads of one request share a time budget.

A read that runs past what is left of ``OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS`` is stopped
by the database itself (SQLite here by default, MariaDB in the second pass) and the user
gets a clear answer: the API a 503 with ``Retry-After``, the page and the instructor
dashboard's section a notice with a way on, and the LMS's dashboard still renders.
"""
from __future__ import annotations

import time

import pytest
from django.db import connections
from django.test import override_settings

from openedx_analytics import api, conf
from openedx_analytics.db import time_limits
from openedx_analytics.models import ActivityWeek
from tests.support.api import COURSE, client_for, endpoints
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

#: A read that takes minutes: counting to a hundred million one row at a time (SQLite), or
#: sleeping (MariaDB/MySQL: their recursion stops at 1,000 rows by default).
SLOW = {"sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000000) "
                  "SELECT COUNT(*) FROM c",
        "mysql": "SELECT SLEEP(120)"}
#: A read that takes a few tenths of a second, and one that takes next to nothing (its answer).
MEDIUM = {"sqlite": SLOW["sqlite"].replace("100000000", "2000000"), "mysql": "SELECT SLEEP(0.3)"}
QUICK = "SELECT 1000"
#: A budget spent before the first read.
SPENT = 1e-9


def read(sql: str | dict[str, str]) -> int:
    connection = connections[conf.analytics_db()]
    with connection.cursor() as cursor:
        cursor.execute(sql if isinstance(sql, str) else sql[connection.vendor])
        return cursor.fetchone()[0]


def test_a_read_past_the_budget_is_stopped_by_the_database():
    started = time.monotonic()
    with pytest.raises(time_limits.TimeLimitExceeded) as stopped, time_limits.time_budget(0.5):
        read(SLOW)
    assert stopped.value.seconds == 0.5
    assert time.monotonic() - started < 30  # stopped, not run to its end (minutes)


def test_reads_within_the_budget_answer_and_the_connection_is_left_unbounded():
    with time_limits.time_budget(5):
        assert read(QUICK) == 1000
        assert read(QUICK) == 1000  # each read gets what is left, not the whole budget used up
    with time_limits.time_budget(0.05):
        read(QUICK)  # leaves a deadline a moment ahead, had the block not taken it off again
    started = time.monotonic()
    read(MEDIUM)  # no deadline left behind on the connection
    assert time.monotonic() - started > 0.06  # longer than a deadline left behind would have allowed


def test_the_budget_is_shared_by_every_read_of_the_block():
    with pytest.raises(time_limits.TimeLimitExceeded), time_limits.time_budget(0.2):
        time.sleep(0.3)
        read(QUICK)


def test_writes_are_never_cut_short():
    with time_limits.time_budget(SPENT):
        ActivityWeek.objects.using(conf.analytics_db()).filter(course_id="none").update(last_updated=None)


def test_no_budget_when_the_setting_is_zero():
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=0), time_limits.time_budget():
        assert read(QUICK) == 1000


@pytest.mark.parametrize("name", ["summary", "enrollment", "activity"])
def test_an_api_read_past_the_budget_answers_503_with_retry_after(people, history_loaded, analytics_on, name):
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=SPENT):
        response = client_for(people["course_staff"]).get(endpoints()[name])
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "took longer than" in response.json()["detail"]
    assert response["Cache-Control"] == "private, no-store"


def test_a_slow_read_behind_the_api_is_stopped_within_the_budget(people, history_loaded, analytics_on, monkeypatch):
    real = api.get_course_summary

    def slow_summary(course_id):
        read(SLOW)
        return real(course_id)

    monkeypatch.setattr(api, "get_course_summary", slow_summary)
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=1):
        response = client_for(people["course_staff"]).get(endpoints()["summary"])
    assert response.status_code == 503
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=20):
        monkeypatch.setattr(api, "get_course_summary", real)
        assert client_for(people["course_staff"]).get(endpoints()["summary"]).status_code == 200


def test_the_page_says_the_figures_took_too_long_and_offers_a_way_on(people, history_loaded, analytics_on):
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=SPENT):
        response = client(people["course_staff"]).get(page_url(), {"start_date": "2020-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="oa-too-slow"' in html and "took longer than" in html
    assert f"{page_url()}?start_date=2020-01-01" in html  # the same view again
    assert f'href="{page_url()}"' in html  # and the default view
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=20):
        again = client(people["course_staff"]).get(page_url(), {"start_date": "2020-01-01"}).content.decode()
    assert "oa-too-slow" not in again  # the notice was not cached in place of the figures


def test_the_lms_dashboard_still_renders_when_the_sections_reads_run_out_of_time(people, history_loaded,
                                                                                   analytics_on):
    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=SPENT):
        response = client(people["course_staff"]).get(f"/courses/{COURSE}/instructor")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="oa-too-slow"' in html
    assert f"/courses/{COURSE}/instructor#view-openedx_analytics" in html  # the way on stays in the dashboard


def test_the_first_read_of_a_fresh_connection_is_bounded_too():
    """Django asks a MySQL-family server what it is on a connection's first use, through the same wrapper."""
    connection = connections[conf.analytics_db()]
    for cached in ("mysql_is_mariadb", "mysql_server_data", "mysql_server_info"):
        connection.__dict__.pop(cached, None)
    with time_limits.time_budget(5):
        assert read(QUICK) == 1000
    with pytest.raises(time_limits.TimeLimitExceeded), time_limits.time_budget(0.5):
        read(SLOW)
