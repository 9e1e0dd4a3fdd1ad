"""Every id a list returns can be opened: lists hand out detail links, and ids work raw or URL-encoded.

Courses, videos and problems come in the new form (``course-v1:``, ``block-v1:``) and the
old one (``Org/Num/Run``, ``i4x://Org/Num/video/<id>``, with slashes), all sent as events
through the live path (the ``old_and_new`` fixture).
"""
import datetime as dt
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from openedx_analytics import conf
from openedx_analytics.models import ProblemAnswer, ProblemSummary
from tests.support.api import (
    BASE,
    COURSE,
    EXPECTED_PROBLEMS,
    EXPECTED_VIDEOS,
    OLD_COURSE,
    client_for,
)

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

COURSE_ENDPOINTS = ("summary", "enrollment", "activity", "videos", "problems", "grades")


def _open(client, url: str) -> Any:
    """GET the path of ``url`` (percent-encoded as given); its JSON, asserting a 200."""
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.json()


def _spellings(course: str, kind: str, item: str, last: str) -> list[str]:
    """The detail path of ``item`` with its ids raw and URL-encoded, in every combination."""
    return [f"{BASE}courses/{c}/{kind}/{i}/{last}/"
            for c in (course, quote(course, safe="")) for i in (item, quote(item, safe=""))]


def test_every_list_links_to_details_that_open(people, old_and_new):
    client = client_for(people["global_staff"])
    rows = _open(client, f"{BASE}courses/")["results"]
    assert sorted(row["course_id"] for row in rows) == sorted([COURSE, OLD_COURSE])
    opened = 0
    for row in rows:
        course = row["course_id"]
        summary = _open(client, row["summary_url"])
        assert summary["course_id"] == course
        for endpoint in COURSE_ENDPOINTS:  # the summary's siblings, as the field's description says
            _open(client, row["summary_url"].replace("/summary/", f"/{endpoint}/"))
        videos = _open(client, row["summary_url"].replace("/summary/", "/videos/"))
        assert [v["video_id"] for v in videos] == EXPECTED_VIDEOS[course]
        for video in videos:
            timeline = _open(client, video["timeline_url"])
            assert timeline and timeline[0]["num_users"] == 1, (course, video)
            opened += 1
        problems = _open(client, row["summary_url"].replace("/summary/", "/problems/"))
        assert [p["problem_id"] for p in problems] == EXPECTED_PROBLEMS[course]
        for problem in problems:
            answers = _open(client, problem["answers_url"])["results"]
            assert [(a["answer_value"], a["count"]) for a in answers] == [("A", 1)], (course, problem)
            opened += 1
    assert opened == 4


@pytest.mark.parametrize("course", [COURSE, OLD_COURSE])
def test_ids_open_raw_and_url_encoded(people, old_and_new, course):
    client = client_for(people["global_staff"])
    for endpoint in COURSE_ENDPOINTS:
        for spelling in (course, quote(course, safe="")):
            _open(client, f"{BASE}courses/{spelling}/{endpoint}/")
    for video in _open(client, f"{BASE}courses/{course}/videos/"):
        answers = [_open(client, url) for url in _spellings(course, "videos", video["video_id"], "timeline")]
        assert answers[0] and all(answer == answers[0] for answer in answers)
    for problem in _open(client, f"{BASE}courses/{course}/problems/"):
        answers = [_open(client, url) for url in _spellings(course, "problems", problem["problem_id"], "answers")]
        assert answers[0]["results"] and all(answer == answers[0] for answer in answers)


def test_course_ids_whose_plus_arrived_as_a_space(people, old_and_new):
    client = client_for(people["global_staff"])
    for query in (f"course_ids={COURSE}", f"course_ids={COURSE},{OLD_COURSE}", f"course_ids=%20{COURSE}%20,",
                  "search=Org+Api"):
        response = client.get(f"{BASE}courses/?{query}")  # a raw '+' in a query string means a space
        assert response.status_code == 200, (query, response.content[:300])
        assert COURSE in [row["course_id"] for row in response.json()["results"]], query
    assert client.get(f"{BASE}courses/?course_ids=not+a+course").status_code == 400


#: Ids as a log can carry them: each must still list with a link that opens it (never a 500 on the list).
ODD_PROBLEM_IDS = ["block-v1:Org+Api+2026+type@problem+block@a b", "i4x://Org/Api/problem/q?x=1#frag",
                   "block-v1:Org+Api+2026+type@problem+block@100%", "i4x://Org/Api/problem/line\nbreak",
                   "block-v1:Org+Api+2026+type@problem+block@é/ü", "i4x://Org/Api/problem/trailing/"]


def test_odd_stored_ids_list_and_open(people, courses, analytics_on):
    using = conf.analytics_db()
    now = dt.datetime.now(dt.timezone.utc)
    for problem_id in ODD_PROBLEM_IDS:
        ProblemSummary.objects.using(using).create(
            course_id=COURSE, problem_id=problem_id, part_ids=["p"], users_attempted=1, total_submissions=1,
            correct_submissions=1, first_attempt_correct=1, attempts_mean=1.0, last_updated=now)
        ProblemAnswer.objects.using(using).create(
            course_id=COURSE, problem_id=problem_id, part_id="p", answer_value=problem_id, correct=True, count=1)
    client = client_for(people["global_staff"])
    problems = _open(client, f"{BASE}courses/{COURSE}/problems/")
    assert sorted(p["problem_id"] for p in problems) == sorted(ODD_PROBLEM_IDS)
    for problem in problems:
        answers = _open(client, problem["answers_url"])
        assert [a["answer_value"] for a in answers["results"]] == [problem["problem_id"]]
        encoded = f"{BASE}courses/{COURSE}/problems/{quote(problem['problem_id'], safe='')}/answers/"
        assert _open(client, encoded) == answers
