"""The Learners view of a course page and the site overview in a real browser, for each role that may see them
and each role that may not.

The Learners view (``?view=learners``) is opened as a person does, from the course list and the
page's "Learners" switch, by course staff, an instructor and the org-wide data researcher: its
four tables show what the REST API answers them (a hidden count as "fewer than N" or "hidden"),
the date form keeps the view, and every link of the view leads somewhere that answers 200 for
them (the CSVs included). A learner and staff of another course get the refused page (403).

The site overview (``/analytics/site/``) is opened from the course list's link by global staff
(every course) and the org-wide researcher (their org's courses only): each listed course's
link opens its page, and every sort link, the CSV, the pager, the filter form (which keeps
the order) and the way back answer 200. Course staff without an org-wide role have no link
to it and get the refused page (403) with its own message.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest

from lms_host.management.commands.seed_demo import COURSES
from tests.support.browser import Session
from tests.support.reading import table

PY101 = "course-v1:DemoX+Py101+2026_T1"
DATA201 = "course-v1:DemoX+Data201+2026_T1"
HIST110 = "course-v1:OpenU+Hist110+2026"
ML301 = "course-v1:DemoX+ML301+2027_T1"
#: Who may see a course's Learners view, and a course of theirs.
LEARNERS_VIEWERS = {"staff": PY101, "instructor": DATA201, "researcher": PY101}
BREAKDOWNS = ("age", "education", "gender", "country")


def session_of(chromium: Any, demo_host: Any, output_dir: Path, username: str) -> Session:
    session = Session(chromium, demo_host.url, output_dir)
    session.log_in(username)
    return session


@pytest.fixture
def person(request: Any, chromium: Any, demo_host: Any, output_dir: Path) -> Iterator[Session]:
    """The parametrized user, logged in through the login page."""
    session = session_of(chromium, demo_host, output_dir, request.param)
    yield session
    session.close()


def links_answer(session: Session, selector: str) -> list[str]:
    """Every link inside ``selector`` that stays on the demo host, each requested in the person's own session:
    the ones that do not answer 200 (a dead end), as ``href status``."""
    hrefs = session.page.eval_on_selector_all(f"{selector} a[href]", "links => links.map(a => a.getAttribute('href'))")
    dead = []
    for href in dict.fromkeys(hrefs):
        url = urljoin(session.page.url, href)
        if urlsplit(url).netloc != urlsplit(session.base_url).netloc:
            continue
        status = session.context.request.get(url.split("#")[0]).status
        if status != 200:
            dead.append(f"{href} {status}")
    return dead


def shown_count(cell: dict[str, Any], minimum: int) -> str:
    """How the page writes a cell of the REST API's breakdown."""
    if cell["suppressed"] == "small":
        return f"fewer than {minimum}"
    if cell["suppressed"]:
        return "hidden"
    return f"{cell['learners']:,}"


# ------------------------------------------------------------ the Learners view


@pytest.mark.parametrize("person", list(LEARNERS_VIEWERS), indirect=True)
def test_staff_instructors_and_researchers_see_the_learners_view_with_the_apis_figures(person: Session) -> None:
    course = LEARNERS_VIEWERS[person.page.inner_text(".host-user").split()[-1]]
    page = person.page
    page.goto("/")
    page.locator(f'tr.course[data-course-id="{course}"]').get_by_role("link", name="Analytics").click()
    page.wait_for_selector("#oa-dashboard")
    page.locator(".oa-views").get_by_role("link", name="Learners").click()
    page.wait_for_selector("section#learners-age")
    assert parse_qs(urlsplit(page.url).query)["view"] == ["learners"]
    person.shot(f"20-learners-{course.split('+')[1]}")
    data = person.api(f"{quote(course)}/learners/")
    minimum = data["minimum_cell_size"]
    for name in BREAKDOWNS:
        part = data[name]
        rows = table(page, f"#oa-table-learners-{name}")
        expected = [*part.get("bands", []), *part["values"], part["unknown"]]
        assert len(rows) == len(expected), name
        for row, cell in zip(rows, expected, strict=True):
            assert row["Learners"] == shown_count(cell, minimum), (name, row, cell)
    assert f"Learners enrolled now: {data['enrolled']:,}" in page.inner_text("section#learners-gender")
    assert links_answer(person, "#oa-dashboard") == []

    # the date form keeps the view (it used to go back to the activity view)
    page.fill("#oa-start", "2026-01-05")
    page.locator("#oa-range button[type=submit]").click()
    page.wait_for_selector("section#learners-age")
    query = parse_qs(urlsplit(page.url).query)
    assert query["view"] == ["learners"] and query["start_date"] == ["2026-01-05"]
    assert page.locator("section#enrollment").count() == 0
    page.locator(".oa-views").get_by_role("link", name="Activity").click()
    page.wait_for_selector("section#enrollment")
    assert parse_qs(urlsplit(page.url).query).get("start_date") == ["2026-01-05"]  # the dates go along


@pytest.mark.parametrize("person", ["learner", "otherstaff"], indirect=True)
def test_learners_and_other_courses_staff_are_refused_the_learners_view(person: Session) -> None:
    url = f"{person.base_url}analytics/courses/{PY101}/?view=learners"
    person.expected_status.add(url)
    response = person.page.goto(url)
    assert response.status == 403
    assert person.page.locator("#oa-dashboard").count() == 0
    assert "Course staff, instructors and data researchers of the course" in person.page.inner_text("main")
    assert person.context.request.get(f"{person.base_url}api/analytics/v1/courses/{quote(PY101)}/learners/"
                                      ).status == 403
    person.page.get_by_role("link", name="Back to your courses").click()
    person.page.wait_for_selector("tr.course")


# ------------------------------------------------------------ the site overview


def site_course_ids(session: Session) -> set[str]:
    rows = session.page.locator("tr.oa-site-course")
    return {rows.nth(i).get_attribute("data-course-id") for i in range(rows.count())}


@pytest.mark.parametrize("person", ["admin", "researcher"], indirect=True)
def test_global_staff_and_org_wide_roles_see_the_site_overview_of_their_courses(person: Session) -> None:
    username = person.page.inner_text(".host-user").split()[-1]
    page = person.page
    page.get_by_role("link", name="All your courses at a glance (analytics)").click()
    page.wait_for_selector("#site-course-table")
    assert urlsplit(page.url).path == "/analytics/site/"
    person.shot(f"21-site-{username}")
    listed = site_course_ids(person)
    every = {course.course_id for course in COURSES}
    if username == "admin":  # every course of the LMS, the announced one too (its figures are zeros: no data yet)
        assert listed == every and ML301 in listed
    else:  # their org's courses only
        assert listed == {course for course in every if course.startswith(("course-v1:DemoX+", "DemoX/"))}
        assert HIST110 not in listed
    assert links_answer(person, "main") == []  # every course, sort link, the CSV and the way back

    # a course's link opens its page; the filter form keeps the order chosen
    page.locator("#site-course-table").get_by_role("link", name="Enrolled", exact=True).click()
    page.wait_for_selector("#site-course-table")
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["count"]
    page.select_option("select[name=org]", "DemoX")
    page.locator("form.oa-site-filters button[type=submit]").click()
    page.wait_for_selector("#site-course-table")
    query = parse_qs(urlsplit(page.url).query)
    assert query["sort"] == ["count"] and query["org"] == ["DemoX"]
    assert all(course.startswith(("course-v1:DemoX+", "DemoX/")) for course in site_course_ids(person))
    page.locator(f'tr.oa-site-course[data-course-id="{PY101}"] th a').click()
    page.wait_for_selector("#oa-dashboard")
    assert urlsplit(page.url).path == f"/analytics/courses/{PY101}/"


@pytest.mark.parametrize("person", ["staff", "otherstaff"], indirect=True)
def test_course_staff_without_an_org_wide_role_are_refused_the_site_overview(person: Session) -> None:
    assert person.page.get_by_role("link", name="All your courses at a glance (analytics)").count() == 0
    url = f"{person.base_url}analytics/site/"
    person.expected_status.add(url)
    response = person.page.goto(url)
    assert response.status == 403
    assert "Only global staff and staff of a whole organization" in person.page.inner_text("main")
    assert person.page.locator("#site-course-table").count() == 0
    person.page.get_by_role("link", name="Back to your courses").click()
    person.page.wait_for_selector("tr.course")
