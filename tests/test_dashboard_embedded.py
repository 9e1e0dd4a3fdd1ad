"""The Analytics section inside the LMS's legacy instructor dashboard, and the page on its own, as
course staff meet them in the host's stand-in dashboard (the real openedx-filters pipeline).

Inside the dashboard every link of the section and its date form come back to the dashboard
with ``#view-openedx_analytics`` (the hash the LMS's script opens a section by), and the
section renders the view those parameters ask for; its headings nest under the dashboard's
``h3``; where the LMS links to Insights, ours is the only "Analytics" section. The page on
its own has a way back to the dashboard and the course, who is signed in and a log-out link.
The MFE's tab carries every field the MFE reads. The host's error pages lead back.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import crum
import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from edx_toggles.toggles.testutils import override_waffle_flag
from opaque_keys.edx.keys import CourseKey

from lms_host import errors
from lms_host import urls as host_urls
from openedx_analytics.dashboard import content, filters
from openedx_analytics.lms import rollout
from openedx_analytics.settings import common
from tests.support.api import COURSE, PROBLEM
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

DASHBOARD = f"/courses/{COURSE}/instructor"
HASH = "#view-openedx_analytics"
INSIGHTS = "http://localhost:18110/courses"  # the LMS's default ANALYTICS_DASHBOARD_URL


class Section(HTMLParser):
    """One instructor-dashboard section (or a whole page): its links, form actions and headings, in order."""

    def __init__(self, section_id: str | None) -> None:
        super().__init__()
        self.section_id, self.depth = section_id, 0 if section_id else 1
        self.links: list[str] = []
        self.forms: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: list[str] | None = None
        self.nav: list[str] = []
        self._nav: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "a" and "btn-link" in (attrs.get("class") or ""):
            self._nav = []
        if self.depth == 0:
            if tag == "section" and attrs.get("id") == self.section_id:
                self.depth = 1
            return
        if tag == "section":
            self.depth += 1
        elif tag == "a" and attrs.get("href"):
            self.links.append(unescape(attrs["href"]))
        elif tag == "form":
            self.forms.append(unescape(attrs.get("action", "")))
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._nav is not None:
            self.nav.append("".join(self._nav).strip())
            self._nav = None
        if self.depth and tag == "section":
            self.depth -= 1
            if self.depth == 0:
                self.section_id = "(done)"
        elif self._heading and tag == self._heading[0]:
            self.headings.append((int(tag[1]), "".join(self._heading[1:]).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._nav is not None:
            self._nav.append(data)


def read(html: str, section_id: str | None = filters.SECTION_KEY) -> Section:
    parser = Section(section_id)
    parser.feed(html)
    return parser


def in_the_dashboard(url: str) -> bool:
    """A link back to this course's instructor dashboard that opens the Analytics section."""
    parts = urlsplit(url)
    return parts.path == DASHBOARD and "#" + parts.fragment == HASH and not parts.netloc


def follow(browser: Client, url: str) -> str:
    """What a browser gets for a link (the fragment stays in the browser)."""
    response = browser.get(url.split("#")[0])
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def staff(people, history_loaded, analytics_on) -> Client:
    return client(people["course_staff"])


def test_every_link_and_form_of_the_section_stays_in_the_dashboard(staff):
    html = follow(staff, DASHBOARD)
    section = read(html)
    assert section.forms == [DASHBOARD + HASH]
    views = [link for link in section.links if not link.startswith(("/api/analytics/", "#"))
             and link != page_url()]
    assert len(views) >= 5 and any("video=" in link for link in views) and any("problem=" in link for link in views)
    assert all(in_the_dashboard(link) for link in views), [link for link in views if not in_the_dashboard(link)]
    toc = [link for link in section.links if link.startswith("#")]
    assert "#summary" in toc and "#enrollment" in toc  # the table of contents scrolls within the dashboard
    assert page_url() in section.links  # and the page on its own is one link away


def test_the_section_renders_the_view_the_dashboard_url_asks_for(staff):
    section = read(follow(staff, DASHBOARD))
    video = next(link for link in section.links if "video=" in link)
    problem = next(link for link in section.links if "problem=" in link)
    daily = next(link for link in section.links if "activity=day" in link)

    shown = follow(staff, video)
    assert 'id="video-detail"' in shown and read(shown).links.count(DASHBOARD + HASH) >= 1
    back = [link for link in read(shown).links if in_the_dashboard(link) and "video=" not in link]
    assert back, "the drill-down has no way back to the list inside the dashboard"

    shown = follow(staff, problem)
    assert 'id="problem-detail"' in shown
    assert parse_qs(urlsplit(problem).query)["problem"] == [PROBLEM]

    shown = follow(staff, daily)
    assert re.search(r'id="oa-table-engagement".*?<th[^>]*>Date</th>', shown, re.S)

    # The date form: a GET to the dashboard with the form's fields, as a browser sends it.
    shown = follow(staff, f"{DASHBOARD}?start_date=2026-01-05&end_date=2026-01-08&section=x{HASH}")
    assert 'value="2026-01-05"' in shown and 'value="2026-01-08"' in shown
    rows = re.search(r'id="oa-table-enrollment".*?</table>', shown, re.S).group(0)
    assert "2026-01-05" in rows and "2026-01-08" not in rows


def test_the_section_keeps_only_the_parameters_the_page_reads(staff):
    section = read(follow(staff, f"{DASHBOARD}?activity=day&utm_source=mail&section=course_info"))
    assert page_url() + "?activity=day" in section.links  # the page on its own, on the same view
    daily = [link for link in section.links if in_the_dashboard(link) and "engagement=share" in link]
    assert daily and all("activity=day" in link and "utm_source" not in link and "section=" not in link
                         for link in daily)


def test_section_headings_nest_under_the_dashboards_section_title(staff):
    html = follow(staff, f"{DASHBOARD}?video=block-v1:Org+Api+2026+type@video+block@vid1")
    section = read(html)
    levels = [level for level, _text in section.headings]
    assert levels[0] == 3 and section.headings[0][1] == "Analytics"  # the dashboard's own section title
    assert all(level > 3 for level in levels[1:]), section.headings
    assert all(b - a <= 1 for a, b in pairwise(levels)), section.headings  # axe's heading-order


def test_the_dashboards_headings_come_in_order_down_to_the_sections(staff):
    """The whole dashboard page, as axe-core's heading-order reads it: the course (h1), the dashboard (h2),
    then each section's h3 (the LMS's) and our panels under Analytics; no id used twice on the page."""
    html = follow(staff, DASHBOARD)
    page = read(html, None)
    levels = [level for level, _text in page.headings]
    assert levels[:2] == [1, 2] and page.headings[1][1] == "Instructor Dashboard", page.headings
    assert all(b - a <= 1 for a, b in pairwise(levels)), page.headings
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_page_on_its_own_keeps_its_h2_panels(people, history_loaded, analytics_on):
    page = read(follow(client(people["course_staff"]), page_url()), None)
    levels = [level for level, _text in page.headings]
    assert levels[0] == 1 and 2 in levels and all(b - a <= 1 for a, b in pairwise(levels))


@override_settings(ANALYTICS_DASHBOARD_URL=INSIGHTS)
def test_one_analytics_tab_where_the_lms_links_to_insights(staff):
    html = follow(staff, DASHBOARD)
    nav = read(html).nav
    assert nav.count("Analytics") == 1, nav
    assert 'id="instructor_analytics"' not in html
    section = read(html)
    assert f"{INSIGHTS}/courses/{COURSE}" in section.links  # built as the LMS builds it


@override_settings(ANALYTICS_DASHBOARD_URL=INSIGHTS)
def test_the_lms_insights_section_stays_where_ours_is_not_shown(people, history_loaded):
    with override_waffle_flag(rollout.ENABLED, active=False):
        html = follow(client(people["course_staff"]), DASHBOARD)
    assert 'id="instructor_analytics"' in html and f'id="{filters.SECTION_KEY}"' not in html
    assert read(html).nav.count("Analytics") == 1


def test_the_page_on_its_own_leads_back_to_the_dashboard_and_the_course(people, history_loaded, analytics_on):
    user = people["course_staff"]
    html = follow(client(user), page_url() + "?activity=day&video=x")
    header = re.search(r'<header class="oa-header">.*?</header>', html, re.S).group(0)
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]*)"', header)]
    assert f"{DASHBOARD}?activity=day&video=x{HASH}" in hrefs  # the same view, in the dashboard
    assert f"/courses/{COURSE}/" in hrefs and "/logout" in hrefs
    assert user.username in header
    assert "<script" not in html
    for href in hrefs:
        if href != "/logout":
            assert client(user).get(href.split("#")[0]).status_code == 200, href


def test_the_refusal_page_leads_back(people, history_loaded, analytics_on):
    response = client(people["learner"]).get(page_url())
    assert response.status_code == 403
    assert 'href="/"' in response.content.decode()


def test_the_hosts_logout_link_logs_out(people):
    browser = client(people["course_staff"])
    assert browser.get("/logout").status_code == 302
    assert browser.get(DASHBOARD).status_code == 302  # to the login page


def test_the_hosts_error_pages_lead_back(people):
    response = client(people["learner"]).get(DASHBOARD)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and f'href="{reverse("host-courses")}"' in html
    assert "Logged in as <strong>learner1</strong>" in html
    assert host_urls.handler403 == "lms_host.errors.forbidden"
    request = RequestFactory().get("/x")
    request.user = people["learner"]
    response = errors.forbidden(request)
    assert response.status_code == 403 and f'href="{reverse("host-courses")}"' in response.content.decode()


def test_the_mfe_tab_has_every_field_the_mfe_reads_and_links_out(people, history_loaded, analytics_on, settings):
    """The MFE (frontend-app-instructor-dashboard, ``InstructorNav``) camel-cases each tab and reads
    ``tabId``, ``title``, ``url`` and ``sortOrder``; a ``url`` starting with ``/`` is taken for one of its
    own routes (no page there), any other is a plain link out to the LMS page."""
    settings.LMS_ROOT_URL = ""
    step = filters.AddAnalyticsTab(filter_type=common.TABS_FILTER, running_pipeline=[])
    request = RequestFactory().get("/api/instructor/v2/courses/x", HTTP_HOST="lms.example.com")
    request.user = people["course_staff"]
    crum.set_current_request(request)
    try:
        tabs = step.run_filter(tabs=[], user=people["course_staff"], course_key=CourseKey.from_string(COURSE))["tabs"]
    finally:
        crum.set_current_request(None)
    (tab,) = tabs
    assert {"tab_id", "title", "url", "sort_order"} <= set(tab)
    assert isinstance(tab["sort_order"], int) and tab["title"] == "Analytics"
    assert tab["url"] == f"http://lms.example.com{page_url()}"  # never a path the MFE would route itself
    assert content.SECTION_KEY == filters.TAB_ID


@pytest.mark.parametrize("mfe", [None, "/instructor-dashboard", "https://apps.example.com/instructor-dashboard/"])
def test_the_page_leads_back_to_the_instructor_app_where_the_lms_names_one(people, history_loaded, analytics_on,
                                                                          settings, mfe):
    """The MFE's tab links out to the page; its header leads back into the MFE (route ``<base>/<course id>``)."""
    settings.INSTRUCTOR_MICROFRONTEND_URL = mfe
    html = follow(client(people["course_staff"]), page_url())
    header = re.search(r'<header class="oa-header">.*?</header>', html, re.S).group(0)
    if mfe and mfe.startswith("https:"):
        assert f'href="https://apps.example.com/instructor-dashboard/{COURSE}"' in header
    else:  # unset, or a path the page cannot resolve to the MFE's host
        assert "oa-to-instructor-app" not in header
    assert f'href="{DASHBOARD}{HASH}"' in header
