"""The "Insights numbers / live numbers" switch of the tab and the comparison, against a fake old Insights API.

The old API is a real HTTP server on 127.0.0.1 answering in edx-analytics-data-api v0's
shapes (``tests.support.fake_insights``), its rows made from the course's own live numbers
with a few changed, so the comparison must list exactly those. Who sees the switch: the
``openedx_analytics.insights_switch`` flag and the LMS's course and org overrides of it; which
numbers show first: ``OPENEDX_ANALYTICS_NEW_DATA_DEFAULT``. A hung or absent API costs the
page one timeout, and the page says so.
"""
from __future__ import annotations

import io
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from edx_toggles.toggles.testutils import override_waffle_flag
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import WaffleFlagCourseOverrideModel, WaffleFlagOrgOverrideModel
from openedx_analytics import api
from openedx_analytics.lms import insights_switch
from openedx_analytics.models import InsightsDataApiConfiguration
from tests.support.api import COURSE
from tests.support.fake_insights import items_from_live, serving, shapes_from_live
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

TIMEOUT = (0.5, 1.0)


@pytest.fixture
def fake(history_loaded, settings):
    """The fake old API with the course's live numbers, one enrollment day and one week changed."""
    settings.OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT = TIMEOUT
    settings.OPENEDX_ANALYTICS_NEW_DATA_DEFAULT = False
    with serving() as api_server:
        shapes = shapes_from_live(COURSE)
        shapes["enrollment/mode"][0]["count"] += 2  # Insights counted two more learners that day
        shapes["enrollment/mode"][0]["audit"] += 2
        shapes["activity"][0]["any"] -= 1  # and one fewer active learner that week
        api_server.data[COURSE] = shapes
        api_server.items.update(items_from_live(COURSE))
        yield api_server


@pytest.fixture
def configured(fake):
    InsightsDataApiConfiguration.objects.create(enabled=True, base_url=fake.base_url, auth_token=fake.token)
    return fake


@pytest.fixture
def switch_on():
    with override_waffle_flag(insights_switch.SWITCH, active=True):
        yield


@pytest.fixture
def staff(people, analytics_on):
    return client(people["course_staff"])


def number(text):
    return int(text.replace(",", ""))


def enrollment_rows(response):
    header, *rows = parse(response).tables["oa-table-enrollment"]
    return {row[0].removesuffix(" (partial)"): dict(zip(header, row, strict=True)) for row in rows}


def test_without_an_old_api_configured_there_is_no_switch(fake, staff, switch_on):
    response = staff.get(page_url())
    assert response.status_code == 200
    assert b'id="oa-source"' not in response.content and fake.requests == []


def test_without_the_flag_the_switch_is_hidden_and_live_numbers_show(configured, staff):
    response = staff.get(page_url(), {"new_data": "false"})
    assert b'id="oa-source"' not in response.content and b"Insights numbers" not in response.content
    assert configured.requests == []


def test_with_the_switch_the_tab_shows_insights_numbers_first_then_live_ones(configured, staff, switch_on):
    response = staff.get(page_url())
    html = response.content.decode()
    assert 'id="oa-source"' in html and '<strong aria-current="true">Insights numbers</strong>' in html
    old_days = {row["date"]: row for row in configured.data[COURSE]["enrollment/mode"]}
    shown = enrollment_rows(response)
    assert shown and set(shown) == set(old_days)
    for day, row in shown.items():
        assert number(row["Enrolled"]) == old_days[day]["count"]
    assert "These are Insights&#x27; numbers" in html or "These are Insights' numbers" in html
    assert "Insights never had this panel" in html  # grades, engagement by content
    assert "the tab draws them with live numbers only" in html  # Insights' outline pages: said, not silent
    assert "Weekly" not in html  # the live engagement's toggles do not apply to Insights' weeks
    assert all(path.startswith("/api/v0/courses/") for path in configured.requests)

    live = staff.get(page_url(), {"new_data": "true"})
    live_days = {d["date"].isoformat(): d["count"] for d in api.get_enrollment(COURSE)}
    assert {day: number(row["Enrolled"]) for day, row in enrollment_rows(live).items()} == live_days
    assert '<strong aria-current="true">Live numbers</strong>' in live.content.decode()
    # The links of the page keep the choice, "whole history" included.
    assert any("new_data=true" in (link or "") for link in parse(live).links if "activity=day" in (link or ""))
    assert f'href="{page_url()}?new_data=true">Whole history' in live.content.decode()


def test_insights_drill_downs_show_its_video_timeline_and_answer_distribution(configured, staff, switch_on):
    ((kind, pipeline_id, _what), timeline), = [(key, rows) for key, rows in configured.items.items()
                                               if key[0] == "videos"]
    timeline[0]["num_users"] += 5  # Insights' own figure, not ours
    page = parse(staff.get(page_url()))
    video_links = [link for link in page.links if link and "video=" in link]
    assert video_links  # the videos table links to the timeline, by the live id the outline knows
    response = staff.get(video_links[0])
    segments = parse(response).tables["oa-table-video-detail"][1:]
    assert number(segments[0][1]) == timeline[0]["num_users"]
    assert [number(row[3]) for row in segments] == [s["num_views"] for s in timeline]
    assert "Insights numbers" in response.content.decode()

    problem_id, answers = next((key[1], rows) for key, rows in configured.items.items() if key[0] == "problems")
    response = staff.get(page_url(), {"problem": problem_id})
    shown = parse(response).tables["oa-table-problem-detail"][1:]
    by_answer = {row[0]: number(row[2]) for row in shown}
    assert by_answer == {a["answer_value"]: a["count"] for a in answers if a["part_id"] == answers[0]["part_id"]}
    # Back to live numbers: the same drill-down, the live figures.
    live = staff.get(page_url(), {"problem": problem_id, "new_data": "true"})
    assert "oa-table-problem-detail" in parse(live).tables


def test_the_setting_chooses_the_default(configured, staff, switch_on, settings):
    settings.OPENEDX_ANALYTICS_NEW_DATA_DEFAULT = True
    html = staff.get(page_url()).content.decode()
    assert '<strong aria-current="true">Live numbers</strong>' in html
    assert configured.requests == []


@pytest.mark.parametrize("level", ["course", "org"])
def test_a_course_or_partner_org_override_shows_the_switch_without_the_flag(configured, staff, level):
    key = CourseKey.from_string(COURSE)
    if level == "course":
        WaffleFlagCourseOverrideModel.objects.create(waffle_flag=insights_switch.FLAG_NAME, course_id=key,
                                                     override_choice="on", enabled=True)
    else:
        WaffleFlagOrgOverrideModel.objects.create(waffle_flag=insights_switch.FLAG_NAME, org=key.org,
                                                  override_choice="on", enabled=True)
    assert b'id="oa-source"' in staff.get(page_url()).content


def test_an_override_off_hides_the_switch_from_flagged_users(configured, staff, switch_on):
    WaffleFlagCourseOverrideModel.objects.create(waffle_flag=insights_switch.FLAG_NAME,
                                                 course_id=CourseKey.from_string(COURSE),
                                                 override_choice="off", enabled=True)
    assert b'id="oa-source"' not in staff.get(page_url()).content


def test_a_hung_old_api_costs_one_timeout_and_the_page_says_so(configured, staff, switch_on):
    configured.hang = True
    started = time.monotonic()
    response = staff.get(page_url())
    took = time.monotonic() - started
    assert response.status_code == 200
    assert took < sum(TIMEOUT) + 1.5, took  # four reads at once: one timeout, not four
    html = response.content.decode()
    assert 'id="oa-source-message"' in html and "did not answer" in html
    # The next page does not wait again: the API is marked down for a while.
    started = time.monotonic()
    assert b"did not answer" in staff.get(page_url()).content
    assert time.monotonic() - started < 1.0
    # Live numbers are untouched by the outage.
    assert b"did not answer" not in staff.get(page_url(), {"new_data": "true"}).content


def test_a_refused_token_or_an_absent_api_is_a_clear_message(configured, staff, switch_on):
    InsightsDataApiConfiguration.objects.create(enabled=True, base_url=configured.base_url, auth_token="wrong")
    assert b"HTTP 401" in staff.get(page_url()).content
    InsightsDataApiConfiguration.objects.create(enabled=True, base_url="http://127.0.0.1:9/api/v0", auth_token="x")
    assert b"did not answer (ConnectionError)" in staff.get(page_url()).content


def test_hostile_answers_of_the_old_api_are_escaped_or_refused(configured, staff, switch_on):
    configured.data[COURSE]["enrollment/location"][0]["country"]["name"] = "<script>alert(1)</script>"
    html = staff.get(page_url(), {"view": "learners"}).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    configured.data[COURSE]["videos"] = {"not": "a list"}
    html = staff.get(page_url()).content.decode()
    assert "did not answer (not a list of rows)" in html


def test_old_answers_are_cached_briefly(configured, staff, switch_on):
    staff.get(page_url())
    asked = len(configured.requests)
    staff.get(page_url())
    assert len(configured.requests) == asked


def test_the_learners_view_shows_insights_breakdowns_with_small_cells_hidden(configured, staff, switch_on):
    response = staff.get(page_url(), {"view": "learners"})
    tables = parse(response).tables
    gender = dict(tables["oa-table-learners-gender"][1:])
    assert gender["female"] == "12" and gender["other"] == "fewer than 5"
    assert dict(tables["oa-table-learners-location"][1:])["France"] == "10"


def test_the_compare_view_lists_exactly_the_changed_day_and_week(configured, staff, switch_on):
    response = staff.get(page_url(), {"view": "compare"})
    html = response.content.decode()
    tables = parse(response).tables
    enrollment = tables["oa-table-insights-compare"]
    first_day = configured.data[COURSE]["enrollment/mode"][0]["date"]
    assert enrollment[0] == ["Date", "Measure", "Insights", "Live", "Difference", "Relative", "Why"]
    assert sorted((row[0], row[1], row[4]) for row in enrollment[1:]) == [
        (first_day, "audit", "-2"), (first_day, "count", "-2")]
    week = configured.data[COURSE]["activity"][0]["interval_start"][:10]
    activity = tables["oa-table-insights-compare-activity"]
    assert [(row[0], row[1], row[4]) for row in activity[1:]] == [(week, "any", "+1")]
    assert "oa-table-insights-compare-videos" not in tables and "oa-table-insights-compare-problems" not in tables
    assert html.count("The two sources agree.") == 2
    days = len(configured.data[COURSE]["enrollment/mode"])
    assert f"Days compared (those Insights has): {days}." in html
    assert "posted_forum" in html and "not read as zero" in html  # explained, not listed as a difference


def test_a_finisher_difference_from_another_duration_is_explained_not_an_error(configured, staff, switch_on):
    (video,) = configured.data[COURSE]["videos"]
    video["duration"] += 60
    video["users_at_end"] += 1
    video["users_at_start"] += 1
    rows = parse(staff.get(page_url(), {"view": "compare"})).tables["oa-table-insights-compare-videos"][1:]
    assert sorted((row[1], row[4], row[6]) for row in rows) == [
        ("duration", "-60", "differs"), ("users_at_end", "-1", "explained"), ("users_at_start", "-1", "differs")]


def test_the_compare_command_lists_the_same_differences(configured):
    out = io.StringIO()
    call_command("compare_with_insights", "--course", COURSE, stdout=out)
    text = out.getvalue()
    first_day = configured.data[COURSE]["enrollment/mode"][0]["date"]
    assert f"{COURSE}\tenrollment\t{first_day}\tcount\t" in text and "\t-2\t" in text
    assert "\tactivity\t" in text and "\tany\t" in text and "\t+1\t" in text
    assert "3 differences (0 explained" in text and "# problems: Insights' total_submissions" in text


def test_the_compare_command_fails_clearly_when_the_api_is_down(configured):
    configured.hang = True
    with pytest.raises(CommandError, match="did not answer") as raised:
        call_command("compare_with_insights", "--course", COURSE, stdout=io.StringIO())
    assert raised.value.returncode == 2


def test_an_enabled_configuration_needs_a_url():
    with pytest.raises(ValidationError):
        InsightsDataApiConfiguration(enabled=True, base_url="").full_clean()
