"""The demo host as a newcomer meets it: every seeded person logs in, sees their courses,
and every page the demo prints or links answers (no server error), admin pages included.

The legacy instructor dashboard of the host is rendered by running the real openedx-filters
pipeline that ``plugin_settings`` registered, so what it shows is what an LMS would show.
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html import unescape
from io import StringIO
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from openedx_filters.filters import PipelineStep
from openedx_filters.learning.filters import InstructorDashboardRenderStarted
from web_fragments.fragment import Fragment

from lms_host.management.commands import demo_links, seed_demo
from openedx_analytics import api, conf
from openedx_analytics.models import RejectionCount
from openedx_analytics.pipeline.ingest import UNKNOWN_COURSE

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

PY101 = "course-v1:DemoX+Py101+2026_T1"
HIST110 = "course-v1:OpenU+Hist110+2026"
EMPTY = "course-v1:DemoX+ML301+2027_T1"
OLD_STYLE = "DemoX/Stat100/2013"
HREF = re.compile(r'href="([^"]*)"')


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """A small demo, committed once for this module (events reach the aggregates after commit).

    Every course and person, 15 learners over 14 days; emptied again when the module is done.
    """
    with django_db_blocker.unblock():
        call_command(seed_demo.Command(), learners=15, days=14, seed=7, stdout=StringIO())
        try:
            yield
        finally:
            for database in ("default", "analytics"):
                call_command("flush", database=database, interactive=False, verbosity=0)


def logged_in(username: str) -> Client:
    """A browser-like client logged in through the host's login form (password = user name)."""
    client = Client()
    response = client.post(reverse("host-login"), {"username": username, "password": username})
    assert response.status_code == 302, f"{username} could not log in"
    assert response["Location"] == reverse("host-courses")
    return client


def links(html: str, base: str) -> list[str]:
    """Same-site links of a page, absolute paths with their query strings."""
    found = []
    for href in HREF.findall(html):
        url = urljoin(base, unescape(href))
        parts = urlsplit(url)
        if parts.scheme in ("", "http") and parts.netloc in ("", "testserver") and not href.startswith("#"):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def course_links(client: Client) -> dict[str, set[str]]:
    """The course list as the user sees it: course id -> the kinds of link it offers."""
    html = client.get(reverse("host-courses")).content.decode()
    rows = re.findall(r'<tr class="course" data-course-id="([^"]+)">(.*?)</tr>', html, re.S)
    return {unescape(course): {kind for kind in ("analytics-link", "dashboard-link") if kind in body}
            for course, body in rows}


def test_the_demo_sends_events_only_of_courses_its_lms_knows(seeded: None) -> None:
    """The seed creates each course's overview before its first event, so the ingest rejects none as unknown."""
    rejected = RejectionCount.objects.using(conf.analytics_db()).filter(reason=UNKNOWN_COURSE)
    assert not rejected.exists(), list(rejected.values_list("source", "count"))
    assert set(api.known_course_ids()) <= {course.course_id for course in seed_demo.COURSES}
    assert api.known_course_ids()


def test_every_demo_account_logs_in_through_the_login_page(seeded: None) -> None:
    page = Client().get(reverse("host-login")).content.decode()
    for username, _who in seed_demo.DEMO_USERS:
        assert f"<code>{username}</code>" in page, f"the login page does not list {username}"
        client = logged_in(username)
        assert f"<strong>{username}</strong>" in client.get(reverse("host-courses")).content.decode()
    refused = Client().post(reverse("host-login"), {"username": "staff", "password": "wrong"})
    assert refused.status_code == 200 and "Wrong user name or password" in refused.content.decode()


def test_the_course_list_offers_each_person_what_their_role_opens(seeded: None) -> None:
    both = {"analytics-link", "dashboard-link"}
    assert course_links(logged_in("staff")) == {PY101: both, EMPTY: both}
    assert course_links(logged_in("otherstaff")) == {HIST110: both}
    assert course_links(logged_in("learner")) == {PY101: set(), "course-v1:DemoX+Data201+2026_T1": set()}
    researcher = course_links(logged_in("researcher"))
    assert set(researcher) == {PY101, EMPTY, OLD_STYLE, "course-v1:DemoX+Data201+2026_T1"}
    assert all(kinds == both for kinds in researcher.values())
    assert len(course_links(logged_in("admin"))) == len(seed_demo.COURSES)
    assert Client().get(reverse("host-courses")).status_code == 302  # anonymous: to the login page


def dashboard(client: Client, course_id: str, section: str = "") -> tuple[int, str]:
    url = reverse("instructor_dashboard", kwargs={"course_id": course_id})
    response = client.get(url + (f"?section={section}" if section else ""))
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("course_id", [PY101, OLD_STYLE])
def test_the_instructor_dashboard_shows_the_analytics_section_from_the_filter_pipeline(
        seeded: None, course_id: str) -> None:
    status, html = dashboard(logged_in("researcher"), course_id, "openedx_analytics")
    assert status == 200
    # The nav button and the section, as instructor_dashboard_2.html renders a plugin's section...
    assert re.search(r'<a class="btn-link openedx_analytics active-section"\s+data-section="openedx_analytics"', html)
    assert '<section id="openedx_analytics" class="idash-section active-section"' in html
    # ...the included Mako template printed the fragment, and the fragment's stylesheet reached the head.
    assert 'class="openedx-analytics-section"' in html
    head = html.split("</head>")[0]
    assert "openedx_analytics/dashboard.css" in head
    # The host's own sections are there too, first.
    assert html.index('id="course_info"') < html.index('id="membership"') < html.index('id="openedx_analytics"')


def test_without_the_registered_pipeline_the_dashboard_has_no_analytics(seeded: None) -> None:
    with override_settings(OPEN_EDX_FILTERS_CONFIG={}):
        status, html = dashboard(logged_in("staff"), PY101)
    assert status == 200 and 'id="course_info"' in html
    assert "openedx_analytics" not in html


def test_people_without_a_role_in_the_course_get_no_dashboard_and_no_page(seeded: None) -> None:
    for username in ("learner", "otherstaff"):
        client = logged_in(username)
        assert dashboard(client, PY101)[0] == 404  # as the LMS answers
        page = client.get(reverse("openedx_analytics:dashboard:course", kwargs={"course_id": PY101}))
        assert page.status_code == 403
    status, html = dashboard(logged_in("otherstaff"), HIST110)
    assert status == 200 and 'data-section="openedx_analytics"' in html


def admin_pages() -> list[str]:
    """Every changelist of the admin, and one change page per model that has rows."""
    pages = [reverse("admin:index")]
    for model in [model for model in apps.get_models() if admin.site.is_registered(model)]:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{name}_change", args=[quote(first.pk)]))
    return pages


def test_every_admin_page_and_filter_answers(seeded: None) -> None:
    client = logged_in("admin")
    checked = 0
    for page in admin_pages():
        response = client.get(page)
        assert response.status_code == 200, f"{page} answered {response.status_code}"
        checked += 1
        if page.endswith("/change/") or page == reverse("admin:index"):
            continue
        # Every filter link in the changelist's sidebar (the course filters among them).
        for link in {link for link in links(response.content.decode(), page) if link.startswith(page + "?")}:
            assert client.get(link).status_code == 200, f"{link} failed"
            checked += 1
    assert checked > 40
    course_filter = reverse("admin:lms_stub_courseenrollment_changelist") + f"?course={PY101}"
    html = client.get(course_filter).content.decode()
    assert "Python for Everyone" in html and "Statistics (2013 run)" in html


def test_every_page_the_demo_prints_or_links_answers(seeded: None) -> None:
    """The demo's printed links, then every page reachable from the course list (two clicks deep)."""
    client = logged_in("admin")
    printed = StringIO()
    call_command(demo_links.Command(), url="http://testserver/", stdout=printed)
    start = [urlsplit(url).path for url in re.findall(r"http://testserver/[^\s,]*", printed.getvalue())]
    assert reverse("host-courses") in start and reverse("admin:index") in start
    queue = deque((url, 0) for url in start)
    seen: set[str] = set()
    while queue:
        url, depth = queue.popleft()
        if url in seen or url == reverse("logout"):  # the crawl stays logged in
            continue
        if url.startswith(settings.STATIC_URL) or url.startswith(reverse("admin:index")) and depth:
            continue  # the admin has its own test; static files are the browser test's
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        if depth < 2 and response.get("Content-Type", "").startswith("text/html"):
            queue.extend((link, depth + 1) for link in links(response.content.decode(), url))
    kinds = {"/analytics/courses/", "/courses/", "/api/analytics/v1/"}
    assert all(any(url.startswith(kind) for url in seen) for kind in kinds), sorted(seen)


class ProbeSection(PipelineStep):
    """A plugin step with a fragment that has a stylesheet, a script and a body, and a hidden section."""

    def run_filter(self, context: dict, template_name: str) -> dict:  # noqa: D102
        fragment = Fragment('<p id="probe-body">probe body</p>')
        fragment.add_css_url("/static/probe.css")
        fragment.add_javascript_url("/static/probe.js")
        context["sections"] = [*context["sections"],
                               {"section_key": "openedx_analytics", "section_display_name": "Probe",
                                "template_path_prefix": "/instructor_dashboard/", "fragment": fragment,
                                "course_id": str(context["course"].id)},
                               {"section_key": "no_such_template", "section_display_name": "Hidden", "is_hidden": True}]
        return {"context": context, "template_name": template_name}


class RedirectAway(PipelineStep):
    """A plugin step that sends the user elsewhere, as openedx-filters lets a step do."""

    def run_filter(self, context: dict, template_name: str) -> dict:  # noqa: D102
        raise InstructorDashboardRenderStarted.RedirectToPage("not here", redirect_to="/elsewhere/")


def pipeline(step: type) -> dict:
    return {InstructorDashboardRenderStarted.filter_type: {"pipeline": [f"{__name__}.{step.__name__}"],
                                                           "fail_silently": False}}


def test_the_dashboard_renders_plugin_sections_as_the_lms_template_does(seeded: None) -> None:
    with override_settings(OPEN_EDX_FILTERS_CONFIG=pipeline(ProbeSection)):
        status, html = dashboard(logged_in("staff"), PY101, "openedx_analytics")
    assert status == 200
    head, body = html.split("</head>")
    assert "href='/static/probe.css'" in head  # fragment head_html in the head
    assert body.rindex("/static/probe.js") > body.index("</main>")  # foot_html after the sections
    assert '<p id="probe-body">probe body</p>' in body  # the section template printed the fragment body
    assert ">Probe</a>" in body and "Hidden" not in body and "no_such_template" not in body


def test_a_step_that_redirects_sends_the_user_there(seeded: None) -> None:
    with override_settings(OPEN_EDX_FILTERS_CONFIG=pipeline(RedirectAway)):
        response = logged_in("staff").get(reverse("instructor_dashboard", kwargs={"course_id": PY101}))
    assert response.status_code == 302 and response["Location"] == "/elsewhere/"
