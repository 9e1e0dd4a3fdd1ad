"""The Grades panel says what it counts: learners not graded yet apart, the passing grade drawn, counts of
learners on the axis, and the passing card saying who it counts (and why it differs from the chart)."""
import re
from decimal import Decimal

import pytest
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseGradingPolicy, CourseOverview
from openedx_analytics import api
from tests.support.api import COURSE
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]


@pytest.fixture
def page(people, history_loaded, analytics_on):
    """The page of a course passing at 60%, as its staff sees it: (HTML, parsed tables)."""
    key = CourseKey.from_string(COURSE)
    CourseOverview.objects.filter(id=key).update(lowest_passing_grade=Decimal("0.60"))
    CourseGradingPolicy.objects.create(course_id=key, grade_cutoffs={"Pass": 0.6},
                                       grader=[{"type": "Homework", "weight": 1.0, "min_count": 1}])
    response = client(people["course_staff"]).get(page_url())
    assert response.status_code == 200
    return response.content.decode(), parse(response)


def section(html: str, key: str) -> str:
    return re.search(rf'<section class="oa-panel" id="{key}".*?</section>', html, flags=re.S).group(0)


def test_learners_not_graded_yet_are_counted_apart_from_0_to_9(page):
    html, tables = page
    grades = api.get_grades(COURSE)
    assert grades["not_graded"] == 1  # learner 4 of the history is enrolled without a grade
    rows = {row[0]: row[1] for row in tables.tables["oa-table-grades"][1:]}
    assert rows["Not graded yet"] == "1"
    assert rows["0-9"] == str(next(b["count"] for b in grades["buckets"] if b["bucket"] == "0-9")) == "0"
    assert "Not graded yet" in section(html, "grades").split("<figcaption>")[1]  # in the legend too


def test_the_passing_grade_is_drawn_on_the_chart(page):
    svg = re.search(r"<svg.*?</svg>", section(page[0], "grades"), flags=re.S).group(0)
    assert 'class="oa-mark-line"' in svg and "Passing grade: 60.0%" in svg
    x = float(re.search(r'class="oa-mark-line" x1="([\d.]+)"', svg).group(1))
    bars = [float(v) for v in re.findall(r'<rect class="oa-s\d" x="([\d.]+)"', svg)]
    # 11 categories (not graded yet, then 0-9 .. 90-100): the line sits where 60-69 begins, the 8th bar.
    assert bars[13] < x < bars[14]  # two rects per category: between the 7th's and the 8th's
    assert "style" not in svg and "<script" not in svg


def test_the_axis_counts_learners_not_percent(page):
    grades = section(page[0], "grades")
    assert 'class="oa-axis-label"' in grades and ">learners</text>" in grades
    assert "(percent)" not in grades


def test_the_passing_card_and_the_chart_say_whom_they_count(page):
    html, _tables = page
    card = re.search(r'data-card="passing">.*?</li>', html, flags=re.S).group(0)
    assert "including learners who have left" in card and "the grade chart counts enrolled learners only" in card
    grades = section(html, "grades")
    at_or_above = sum(b["count"] for b in api.get_grades(COURSE)["buckets"][6:])
    assert f"Learners enrolled now with a grade at or above it: {at_or_above}" in grades
    assert "dashed line marks the course&#x27;s passing grade, 60.0%" in grades


def test_the_grades_api_adds_not_graded_and_keeps_its_csv(people, history_loaded, analytics_on):
    staff = client(people["course_staff"])
    data = staff.get(f"/api/analytics/v1/courses/{COURSE}/grades/").json()
    assert data["not_graded"] == 1 and len(data["buckets"]) == 10
    lines = staff.get(f"/api/analytics/v1/courses/{COURSE}/grades/?format=csv").content.decode().strip().splitlines()
    assert lines[0] == "bucket,count" and len(lines) == 11  # the buckets, as before
