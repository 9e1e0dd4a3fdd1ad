"""In Chromium: an operator points the tab at an old Insights data API; a partner organization's staff flip and compare.

The old API is a fake served by this test on 127.0.0.1 in edx-analytics-data-api v0's shapes
(``tests.support.fake_insights``), its rows made from the demo course's own figures (read
through the REST API) with one day changed. The operator does everything in the admin, as
without a deploy: the old API's URL and token (``InsightsDataApiConfiguration``) and the
LMS's org override of ``openedx_analytics.insights_switch`` for the course's organization.
Then the course's instructor, in the instructor dashboard's Analytics tab, sees Insights
numbers first, flips to live numbers and to the comparison without leaving the dashboard,
and, with the old API hung, still gets the tab within its timeout, with the message. The
configuration is disabled again at the end, so the other browser tests see the tab as before.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from openedx_analytics.lms.insights_switch import FLAG_NAME
from tests.support.accessibility import axe_violations, report
from tests.support.browser import Session
from tests.support.fake_insights import CREATED, FakeInsightsApi
from tests.support.reading import number, table

COURSE = "course-v1:OpenU+Hist110+2026"
ORG = "OpenU"
DASHBOARD = f"/courses/{COURSE}/instructor"
#: The demo's default (connect, read) timeout of the old API, and some room for a loaded machine.
PAGE_BOUND = 2 + 5 + 5


@pytest.fixture(scope="module")
def admin(chromium: Any, demo_host: Any, output_dir: Path) -> Iterator[Session]:
    session = Session(chromium, demo_host.url, output_dir)
    session.log_in("admin")
    yield session
    session.close()


@pytest.fixture(scope="module")
def instructor(chromium: Any, demo_host: Any, output_dir: Path) -> Iterator[Session]:
    """The course's instructor; the context lets axe-core's script run (the pages forbid every script)."""
    session = Session(chromium, demo_host.url, output_dir, bypass_csp=True)
    session.log_in("instructor")
    yield session
    session.close()


def insights_rows(instructor: Session) -> dict[str, list[dict[str, Any]]]:
    """The course's live figures (from the REST API) as the old API's rows, the first day's count 3 higher."""
    course = quote(COURSE)
    days = [day for day in instructor.api(f"{course}/enrollment/") if not day["partial"]]
    enrollment = [{"course_id": COURSE, "date": day["date"], "count": day["count"],
                   "cumulative_count": day["cumulative_count"], "created": CREATED,
                   **{mode: day[mode] for mode in ("audit", "verified", "honor", "professional", "credit",
                                                   "masters")}} for day in days]
    enrollment[0]["count"] += 3
    enrollment[0]["audit"] += 3
    weeks = [{"course_id": COURSE, "interval_start": f"{week['interval_start']}T000000",
              "interval_end": f"{week['interval_end']}T000000", "any": week["any"],
              "played_video": week["played_video"], "attempted_problem": week["attempted_problem"],
              "created": CREATED} for week in instructor.api(f"{course}/activity/") if not week["partial"]]
    videos = [{"pipeline_video_id": f"{COURSE}|{v['video_id'].rsplit('@', 1)[-1]}",
               "encoded_module_id": v["video_id"].rsplit("@", 1)[-1], "duration": v["duration"],
               "segment_length": 5, "users_at_start": v["users_at_start"], "users_at_end": v["users_at_end"],
               "created": CREATED} for v in instructor.api(f"{course}/videos/")]
    problems = [{"module_id": p["problem_id"], "total_submissions": p["users_attempted"],
                 "correct_submissions": p["correct_submissions"], "part_ids": [], "created": CREATED}
                for p in instructor.api(f"{course}/problems/")]
    return {"enrollment/mode": enrollment, "activity": weeks, "videos": videos, "problems": problems}


def insights_timelines(instructor: Session, videos: list[dict[str, Any]]) -> dict[tuple[str, str, str], Any]:
    """Each video's timeline (from the REST API) as the old API's ``videos/<pipeline id>/timeline/`` rows."""
    items = {}
    for video in instructor.api(f"{quote(COURSE)}/videos/"):
        (old,) = [v for v in videos if video["video_id"].endswith("@" + v["encoded_module_id"])]
        rows = instructor.api(f"{quote(COURSE)}/videos/{quote(video['video_id'], safe='')}/timeline/")
        items[("videos", old["pipeline_video_id"], "timeline")] = [
            {"segment": r["segment"], "num_users": r["num_users"], "num_views": r["num_views"], "created": CREATED}
            for r in rows]
    return items


def add_in_admin(admin: Session, path: str, fields: dict[str, str]) -> None:
    """Add a row through an admin "add" page, as an operator does; the admin must accept it."""
    page = admin.page
    page.goto(f"/admin/{path}/add/")
    for name, value in fields.items():
        field = page.locator(f"#id_{name}")
        if field.get_attribute("type") == "checkbox":
            field.set_checked(value == "on")
        elif field.evaluate("f => f.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


@pytest.fixture(scope="module")
def fake_api(admin: Session, instructor: Session) -> Iterator[FakeInsightsApi]:
    """The fake old API, configured in the admin with the switch on for the course's organization."""
    with FakeInsightsApi(token="demo-insights-token") as fake:
        fake.data[COURSE] = insights_rows(instructor)
        fake.items.update(insights_timelines(instructor, fake.data[COURSE]["videos"]))
        add_in_admin(admin, "openedx_analytics/insightsdataapiconfiguration",
                     {"enabled": "on", "base_url": fake.base_url, "auth_token": fake.token})
        add_in_admin(admin, "lms_stub/waffleflagorgoverridemodel",
                     {"waffle_flag": FLAG_NAME, "org": ORG, "override_choice": "on", "enabled": "on"})
        try:
            yield fake
        finally:
            fake.hang = False
            fake.released.set()
            add_in_admin(admin, "openedx_analytics/insightsdataapiconfiguration", {"enabled": "off"})


def the_tab(instructor: Session, query: str = "") -> Any:
    """The instructor dashboard's Analytics section (opened by its hash, as the tab's links do)."""
    page = instructor.page
    page.goto(f"{DASHBOARD}{'?' + query if query else ''}#view-openedx_analytics")
    section = page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    return section


def accessible(instructor: Session) -> None:
    """axe-core finds nothing wrong with the view shown."""
    violations = axe_violations(instructor.page)
    assert not violations, report(violations)


def still_in_the_dashboard(instructor: Session) -> None:
    assert unquote(urlsplit(instructor.page.url).path) == DASHBOARD, instructor.page.url


def test_the_switch_shows_insights_numbers_then_live_ones_then_the_comparison(instructor, fake_api):
    section = the_tab(instructor)
    switch = section.locator("#oa-source")
    assert switch.locator("[aria-current=true]").inner_text() == "Insights numbers"
    instructor.shot("insights-01-insights-numbers", full_page=True)
    old = {row["date"]: row for row in fake_api.data[COURSE]["enrollment/mode"]}
    rows = table(instructor.page, "#oa-table-enrollment")
    assert {row["Date"]: number(row["Enrolled"]) for row in rows} == {day: row["count"] for day, row in old.items()}
    assert "Insights numbers" in section.locator("#enrollment").inner_text()
    assert "Insights never had this panel" in section.locator("#grades").inner_text()
    videos = table(instructor.page, "#oa-table-videos")
    assert [number(row["Started"]) for row in videos] == [
        v["users_at_start"] for v in fake_api.data[COURSE]["videos"]] and videos
    accessible(instructor)

    # Insights' timeline of the first video, inside the dashboard, then back to the list.
    section.locator("#oa-table-videos a").first.click()
    section = instructor.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    still_in_the_dashboard(instructor)
    first_video = fake_api.data[COURSE]["videos"][0]
    timeline = fake_api.items[("videos", first_video["pipeline_video_id"], "timeline")]
    shown = table(instructor.page, "#oa-table-video-detail")
    assert [number(row["Views"]) for row in shown] == [s["num_views"] for s in timeline] and shown
    assert "Insights numbers" in section.locator("#video-detail").inner_text()
    accessible(instructor)
    section.get_by_role("link", name="Back to the list").click()
    section = instructor.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    switch = section.locator("#oa-source")

    switch.get_by_role("link", name="Live numbers").click()
    section = instructor.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    still_in_the_dashboard(instructor)
    assert "new_data=true" in instructor.page.url
    assert section.locator("#oa-source [aria-current=true]").inner_text() == "Live numbers"
    live = {day["date"]: day["count"] for day in instructor.api(f"{quote(COURSE)}/enrollment/")}
    rows = table(instructor.page, "#oa-table-enrollment")
    assert {row["Date"].split(" ")[0]: number(row["Enrolled"]) for row in rows} == live
    instructor.shot("insights-02-live-numbers", full_page=True)
    accessible(instructor)

    section.locator("#oa-source").get_by_role("link", name="Compare the two").click()
    section = instructor.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    still_in_the_dashboard(instructor)
    first = fake_api.data[COURSE]["enrollment/mode"][0]
    differences = table(instructor.page, "#oa-table-insights-compare")
    assert {(row["Date"], row["Measure"], row["Difference"]) for row in differences} == {
        (first["date"], "count", "-3"), (first["date"], "audit", "-3")}
    for metric in ("activity", "videos", "problems"):
        assert section.locator(f"#insights-compare-{metric} .oa-empty").inner_text() == "The two sources agree."
    instructor.shot("insights-03-compare", full_page=True)
    accessible(instructor)


def test_with_the_old_api_hung_the_tab_still_answers_within_its_timeout(instructor, fake_api):
    fake_api.hang = True
    started = time.monotonic()
    # Dates not asked before: no cached answer of the old API can stand in for it.
    section = the_tab(instructor, "new_data=false&start_date=2026-01-02&end_date=2026-12-30")
    took = time.monotonic() - started
    message = section.locator("#oa-source-message")
    assert "did not answer" in message.inner_text(), section.inner_text()[:500]
    assert took < PAGE_BOUND, took
    instructor.shot("insights-04-api-hung")
    accessible(instructor)
    message.get_by_role("link", name="Show live numbers").click()
    section = instructor.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    assert section.locator("#oa-source [aria-current=true]").inner_text() == "Live numbers"
    assert table(instructor.page, "#oa-table-enrollment")
