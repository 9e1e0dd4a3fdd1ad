"""The drill-downs through the course outline, on the page and in the REST API: videos by outline, graded
content, ungraded problems and learning outcomes show the Python API's figures at every level."""
import csv
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseBlock, CourseGradingPolicy, CourseOverview
from openedx_analytics.api import outline
from tests.support.api import BASE, COURSE, PROBLEM, VIDEO_BLOCK
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]


def block(kind: str, name: str) -> str:
    return f"block-v1:Org+Api+2026+type@{kind}+block@{name}"


VIDEO = block("video", VIDEO_BLOCK)
UNWATCHED = block("video", "unwatched")
NEVER = block("problem", "never")  # published, nobody submitted it
CH1, CH2 = block("chapter", "c1"), block("chapter", "c2")
HOMEWORK, PRACTICE, LATER = block("sequential", "hw"), block("sequential", "practice"), block("sequential", "later")
OUTLINE = [  # usage key, type, name, parent, graded format, tags
    (block("course", "course"), "course", "Course", "", "", ""),
    (CH1, "chapter", "Week 1", block("course", "course"), "", ""),
    (HOMEWORK, "sequential", "Homework 1", CH1, "Homework", ""),
    (block("vertical", "u1"), "vertical", "Unit 1", HOMEWORK, "", ""),
    (VIDEO, "video", "Welcome video", block("vertical", "u1"), "", ""),
    (PROBLEM, "problem", "Capitals quiz", block("vertical", "u1"), "", "Geography"),
    (PRACTICE, "sequential", "Practice", CH1, "", ""),
    (block("vertical", "u2"), "vertical", "Unit 2", PRACTICE, "", ""),
    (NEVER, "problem", "Rivers quiz", block("vertical", "u2"), "", "Geography|Rivers"),
    (CH2, "chapter", "Week 2", block("course", "course"), "", ""),
    (LATER, "sequential", "Later", CH2, "", ""),
    (block("vertical", "u3"), "vertical", "Unit 3", LATER, "", ""),
    (UNWATCHED, "video", "Closing video", block("vertical", "u3"), "", ""),
]


@pytest.fixture
def staff(people, history_loaded, analytics_on):
    """Course staff of a course with an outline (graded Homework, weights, tags), after the test history."""
    key = CourseKey.from_string(COURSE)
    for position, (usage_key, kind, name, parent, fmt, tags) in enumerate(OUTLINE):
        CourseBlock.objects.create(course_id=key, usage_key=usage_key, block_type=kind, display_name=name,
                                   parent=parent, position=position, graded=bool(fmt), format=fmt, tags=tags)
    CourseGradingPolicy.objects.create(course_id=key, grade_cutoffs={"Pass": 0.5}, grader=[
        {"type": "Homework", "short_label": "HW", "min_count": 1, "drop_count": 0, "weight": 0.75},
        {"type": "Exam", "short_label": "Ex", "min_count": 1, "drop_count": 0, "weight": 0.25}])
    CourseOverview.objects.filter(id=key).update(lowest_passing_grade=Decimal("0.5"))
    return client(people["course_staff"])


def table(staff, key: str, **query):
    response = staff.get(page_url(), query)
    assert response.status_code == 200
    return parse(response), response.content.decode()


def figures(page, key: str) -> list[list[str]]:
    """The rows of a drill-down table without the running number: name and figures."""
    return [row[1:] for row in page.tables[f"oa-table-{key}"][1:]]


def text(value) -> str:
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def test_videos_by_outline_levels_equal_the_api(staff):
    for query, args in (({}, {}), ({"video_section": CH1}, {"section": CH1}),
                        ({"video_subsection": HOMEWORK}, {"subsection": HOMEWORK})):
        page, html = table(staff, "videos-outline", **query)
        level = outline.get_video_outline(COURSE, **args)
        assert figures(page, "videos-outline") == [
            [r["name"], text(r["videos"]), text(r["complete_views"]), text(r["start_only_views"])]
            for r in level["rows"]]
    top = outline.get_video_outline(COURSE)["rows"]
    assert [(r["name"], r["videos"]) for r in top] == [("Week 1", 1), ("Week 2", 1)]
    assert top[1]["complete_views"] == top[1]["start_only_views"] == 0  # a video nobody watched: zeros
    page, html = table(staff, "videos-outline")
    assert "average over its videos" in html
    assert any(link and "video_section=" in link and link.endswith("#videos-outline") for link in page.links)
    page, _html = table(staff, "videos-outline", video_subsection=HOMEWORK)
    assert any(link and urlencode({"video": VIDEO}) in link for link in page.links)  # opens the timeline


def test_graded_content_types_assignments_problems(staff):
    page, html = table(staff, "graded-content")
    types = outline.get_graded_content(COURSE)["rows"]
    assert [(r["name"], r["weight"], r["assignments"], r["problems"]) for r in types] == [
        ("Homework", 0.75, 1, 1), ("Exam", 0.25, 0, 0)]
    assert figures(page, "graded-content") == [
        [r["name"], f"{100 * r['weight']:.1f}%", text(r["assignments"]), text(r["problems"]), text(r["correct"]),
         text(r["incorrect"])] for r in types]
    page, _html = table(staff, "graded-content", graded_type="Homework")
    (assignment,) = outline.get_graded_content(COURSE, "Homework")["rows"]
    assert figures(page, "graded-content") == [["Homework 1", "1", text(assignment["correct"]),
                                                 text(assignment["incorrect"])]]
    page, _html = table(staff, "graded-content", graded_type="Homework", graded_assignment=HOMEWORK)
    (problem,) = outline.get_graded_content(COURSE, assignment=HOMEWORK)["rows"]
    assert problem["id"] == PROBLEM and problem["correct"] + problem["incorrect"] > 0
    assert figures(page, "graded-content") == [["Capitals quiz", "1", text(problem["correct"]),
                                                 text(problem["incorrect"])]]


def test_ungraded_problems_show_unsubmitted_ones_as_zero_rows(staff):
    page, _html = table(staff, "ungraded-problems")
    assert figures(page, "ungraded-problems") == [["Week 1", "1", "0", "0"]]
    page, _html = table(staff, "ungraded-problems", ungraded_subsection=PRACTICE)
    assert figures(page, "ungraded-problems") == [["Rivers quiz", "1", "0", "0"]]
    assert outline.get_ungraded_problems(COURSE, subsection=PRACTICE)["rows"][0]["id"] == NEVER


def test_learning_outcomes_by_tag_and_none_without_tags(staff):
    page, _html = table(staff, "learning-outcomes")
    tags = outline.get_learning_outcomes(COURSE)["rows"]
    assert [(r["name"], r["problems"]) for r in tags] == [("Geography", 2), ("Rivers", 1)]
    assert figures(page, "learning-outcomes") == [[r["name"], text(r["problems"]), text(r["correct"]),
                                                   text(r["incorrect"])] for r in tags]
    CourseBlock.objects.update(tags="")
    cache.clear()  # the page's rendered content is kept briefly
    page, html = table(staff, "learning-outcomes")
    assert "oa-table-learning-outcomes" not in page.tables and 'id="learning-outcomes"' not in html


def test_rest_endpoints_give_the_same_levels_and_csv(staff):
    cases = [("videos/outline/", {"section": CH1}, outline.get_video_outline(COURSE, section=CH1)),
             ("problems/graded/", {"assignment_type": "Homework"}, outline.get_graded_content(COURSE, "Homework")),
             ("problems/ungraded/", {}, outline.get_ungraded_problems(COURSE)),
             ("problems/outcomes/", {"tag": "Geography"}, outline.get_learning_outcomes(COURSE, "Geography"))]
    for path, query, expected in cases:
        url = f"{BASE}courses/{COURSE}/{path}"
        data = staff.get(url, query).json()
        assert data["level"] == expected["level"] and data["rows"] == expected["rows"], path
        rows = list(csv.DictReader(io.StringIO(staff.get(url, {**query, "format": "csv"}).content.decode())))
        assert [r["id"] for r in rows] == [r["id"] for r in expected["rows"]], path
    refused = staff.get(f"{BASE}courses/{COURSE}/videos/outline/", {"section": "block-v1:Org+Api+2026+type@x+block@y"})
    assert refused.status_code == 400 and "section" in refused.json()


def test_every_drill_down_csv_link_on_the_page_answers(staff):
    for query in ({}, {"video_section": CH1}, {"graded_type": "Homework"}, {"ungraded_section": CH1},
                  {"outcome": "Rivers"}):
        page, _html = table(staff, "", **query)
        links = [link for link in page.links if link and "format=csv" in link and ("/outline/" in link
                 or "/graded/" in link or "/ungraded/" in link or "/outcomes/" in link)]
        assert len(links) == 4, (query, links)
        for link in links:
            response = staff.get(link)
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), link


def test_a_bad_drill_down_is_reported_and_the_top_level_shown(staff):
    page, html = table(staff, "", video_section="nope", outcome="No such tag")
    assert "Drill-down ignored" in html and html.count("Drill-down ignored") == 2
    assert figures(page, "videos-outline")[0][0] == "Week 1"
