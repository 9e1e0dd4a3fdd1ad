"""Dates on the video and problem sections: the page's start_date/end_date narrow them as they narrow
enrollment and engagement (REST API and page); without dates, the whole history as before.

The API history (``tests.support.api.history``): learner 1 watches the video on 2026-01-05; learner 2
answers the problem on 2026-01-05 (correct), learner 1 on 2026-01-13 (wrong, then right).
"""
from __future__ import annotations

import pytest

from tests.support.api import BASE, COURSE, client_for
from tests.support.pages import client, page_url, parse

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

FIRST_WEEK = {"start_date": "2026-01-05", "end_date": "2026-01-12"}
SECOND_WEEK = {"start_date": "2026-01-12", "end_date": "2026-01-19"}


@pytest.fixture
def staff(people, history_loaded, analytics_on):
    return client_for(people["course_staff"])


def get(staff, name: str, **query: str) -> list[dict]:
    response = staff.get(f"{BASE}courses/{COURSE}/{name}/", query)
    assert response.status_code == 200, response.content
    return response.json()


def problem_figures(rows: list[dict]) -> list[tuple]:
    return [(p["users_attempted"], p["total_submissions"], p["correct_submissions"], p["first_attempt_correct"])
            for p in rows]


def test_problems_count_the_submissions_made_between_the_dates(staff):
    assert problem_figures(get(staff, "problems")) == [(2, 3, 2, 1)]  # the whole history, unchanged
    assert problem_figures(get(staff, "problems", **FIRST_WEEK)) == [(1, 1, 1, 1)]  # learner 2
    assert problem_figures(get(staff, "problems", **SECOND_WEEK)) == [(1, 2, 1, 0)]  # learner 1: wrong, then right
    assert problem_figures(get(staff, "problems", start_date="2026-01-13")) == [(1, 2, 1, 0)]
    assert get(staff, "problems", end_date="2026-01-05") == []


def test_videos_count_the_viewings_between_the_dates(staff):
    whole = get(staff, "videos")
    assert [(v["users_at_start"], v["views"]) for v in whole] == [(1, 1)]
    assert [(v["users_at_start"], v["views"]) for v in get(staff, "videos", **FIRST_WEEK)] == [(1, 1)]
    assert get(staff, "videos", **SECOND_WEEK) == []
    csv_text = staff.get(f"{BASE}courses/{COURSE}/videos/", {**SECOND_WEEK, "format": "csv"}).content.decode()
    assert csv_text.strip() == "" or len(csv_text.strip().splitlines()) == 1


def test_the_page_narrows_videos_and_problems_to_its_dates(people, history_loaded, analytics_on):
    staff = client(people["course_staff"])
    response = staff.get(page_url(), SECOND_WEEK)
    page = parse(response)
    html = response.content.decode()
    assert "oa-table-videos" not in page.tables  # nobody watched in the second week
    problems = page.tables["oa-table-problems"]
    learners = problems[0].index("Learners")
    assert [row[learners] for row in problems[1:]] == ["1"]
    assert any("/problems/?" in (link or "") and "start_date=2026-01-12" in link for link in page.links)
    assert "Dates shown for all sections" in html
    whole = parse(staff.get(page_url())).tables["oa-table-problems"]
    assert [row[learners] for row in whole[1:]] == ["2"]
