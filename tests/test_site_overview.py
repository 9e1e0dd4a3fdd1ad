"""The site overview page, its CSV and the site activity API: what global staff and org-wide staff see.

Figures are laid out as aggregate rows so every total can be computed by hand: three
courses in two orgs; learner 1 is active last week in all three, learner 2 in Alpha's A1
only, learner 3 in Beta's B1 only, so the site had 3 distinct active learners that week
(the courses' own counts add up to 5) and Alpha 2.

Every test runs twice: with the site's and orgs' precomputed weekly figures built by the
drain (``metrics.site_activity``), and with their rebuild still pending, when the readers
count the learner-weeks at request time; both must give the hand-computed numbers.
"""
import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import models as m
from openedx_analytics.metrics import site_activity
from openedx_analytics.pipeline import markers
from openedx_analytics.worker.drain import drain
from tests.support.api import client_for

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

A1, A2, B1 = "course-v1:Alpha+A1+2026", "course-v1:Alpha+A2+2026", "course-v1:Beta+B1+2026"
NOW = dt.datetime.now(dt.timezone.utc)
TODAY = NOW.date()
LAST_WEEK = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
LATEST = TODAY - dt.timedelta(days=1)
SITE = "/analytics/site/"
API = "/api/analytics/v1/site/activity/"
#: course -> (enrolled now, enrolled 7 days before, ever enrolled, verified, passing, certificates, active last week)
FIGURES = {A1: (50, 40, 60, 10, 20, 15, 2), A2: (30, 30, 35, 0, 0, 0, 1), B1: (100, 90, 120, 25, 40, 33, 2)}
ACTIVE = {A1: [1, 2], A2: [1], B1: [1, 3]}


@pytest.fixture(params=["precomputed", "counted"])
def site(request, analytics_on):
    overview = lms.CourseOverview.objects.create
    overview(id=CourseKey.from_string(A1), display_name="Astronomy", org="Alpha", self_paced=True,
             start=NOW - dt.timedelta(days=30))
    overview(id=CourseKey.from_string(A2), display_name="Algebra", org="Alpha", start=NOW + dt.timedelta(days=30))
    overview(id=CourseKey.from_string(B1), display_name="Botany", org="Beta", start=NOW - dt.timedelta(days=300),
             end=NOW - dt.timedelta(days=10))
    db = m.EnrollmentDay.objects.using("analytics")
    for course, (now, before, ever, verified, passing, certificates, active) in FIGURES.items():
        modes = {"audit": {"count": now - verified, "cumulative_count": ever}}
        if verified:
            modes["verified"] = {"count": verified, "cumulative_count": verified}
        for day, count in ((LATEST, now), (LATEST - dt.timedelta(days=7), before)):
            db.create(course_id=course, date=day, count=count, cumulative_count=ever, enrollments=0,
                      unenrollments=0, modes=modes, last_updated=NOW)
        m.CourseGrades.objects.using("analytics").create(course_id=course, passing_users=passing,
                                                         certificates={"verified": certificates}, last_updated=NOW)
        m.ActivityWeek.objects.using("analytics").create(course_id=course, interval_start=LAST_WEEK, any=active,
                                                         attempted_problem=0, played_video=0, posted_forum=0,
                                                         last_updated=NOW)
        for user in ACTIVE[course]:
            m.ActivityLearnerWeek.objects.using("analytics").create(course_id=course, week=LAST_WEEK, kind="any",
                                                                    user_id=user, days=1)
    # Another kind of the same learner-week is no extra learner.
    m.ActivityLearnerWeek.objects.using("analytics").create(course_id=A1, week=LAST_WEEK, kind="video", user_id=1,
                                                            days=1)
    # As a backfill or the upgrade leaves them: the site's figures to be rebuilt from the learner-weeks.
    markers.mark_dirty([(site_activity.KIND, markers.SITE, markers.ALL_KEYS)], using="analytics")
    if request.param == "precomputed":
        report = drain(courses=[])
        assert not report.failed and not report.quarantined and report.total, report
        assert m.SiteActivityWeek.objects.using("analytics").count() == 3  # the site, Alpha, Beta
    make = get_user_model().objects.create_user
    people = {"global": make("global", is_staff=True), "alpha": make("alpha_org"), "course": make("a1_staff"),
              "learner": make("learner")}
    role = lms.CourseAccessRole.objects.create
    role(user=people["alpha"], org="Alpha", course_id=CourseKeyField.Empty, role="staff")
    role(user=people["course"], org="Alpha", course_id=CourseKey.from_string(A1), role="staff")
    return people


def page(user, query=""):
    client = Client()
    client.force_login(user)
    return client.get(SITE + query)


def listed(response):
    html = response.content.decode()
    return [course for course in (A1, A2, B1) if f'data-course-id="{course}"' in html]


def figure(html, name, value):
    return f'data-total="{name}">{value}<' in html


def test_global_staff_see_every_course_with_hand_computed_totals(site):
    response = page(site["global"])
    assert response.status_code == 200
    assert "script-src 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert listed(response) == [A1, A2, B1]
    assert figure(html, "count", 180) and figure(html, "cumulative_count", 215)
    assert figure(html, "count_change_7_days", 20) and figure(html, "verified", 35)
    assert figure(html, "passing_users", 60) and figure(html, "certificates", 48)
    assert figure(html, "active_last_week", 5)
    # Learner 1, active in all three courses, counts once: 3 distinct learners, not 5.
    assert f'<tr data-week="{LAST_WEEK:%Y-%m-%d}"><td>{LAST_WEEK:%Y-%m-%d}</td><td class="oa-num">3</td>' in html
    assert "<script" not in html


def test_org_staff_see_only_their_org_and_its_distinct_learners(site):
    response = page(site["alpha"])
    assert response.status_code == 200
    html = response.content.decode()
    assert listed(response) == [A1, A2]
    assert figure(html, "count", 80) and figure(html, "active_last_week", 3)
    assert '<td class="oa-num">2</td>' in html.split('id="site-weeks"')[1].split("</table>")[0]


@pytest.mark.parametrize("who", ["course", "learner"])
def test_course_staff_without_an_org_role_are_refused(site, who):
    response = page(site[who])
    assert response.status_code == 403
    assert "Only global staff and staff of a whole organization" in response.content.decode()


def test_anonymous_are_sent_to_log_in(site):
    assert Client().get(SITE).status_code == 302


@pytest.mark.parametrize(("query", "expected"), [
    ("?org=Beta", [B1]), ("?pacing=self", [A1]), ("?pacing=instructor", [A2, B1]),
    ("?availability=upcoming", [A2]), ("?availability=current", [A1]), ("?availability=archived", [B1]),
    ("?q=botany", [B1]), ("?q=alpha%2BA2", [A2]), ("?availability=nonsense", [A1, A2, B1]),
])
def test_filters_and_search(site, query, expected):
    assert listed(page(site["global"], query)) == expected


def test_filtered_weeks_count_the_courses_shown(site):
    html = page(site["global"], "?org=Beta").content.decode()
    assert f'<tr data-week="{LAST_WEEK:%Y-%m-%d}"><td>{LAST_WEEK:%Y-%m-%d}</td><td class="oa-num">2</td>' in html


def test_sort_by_a_figure(site):
    html = page(site["global"], "?sort=-count").content.decode()
    order = sorted((A1, A2, B1), key=lambda c: html.index(f'data-course-id="{c}"'))
    assert order == [B1, A1, A2]
    html = page(site["global"], "?sort=name").content.decode()
    assert sorted((A1, A2, B1), key=lambda c: html.index(f'data-course-id="{c}"')) == [A2, A1, B1]


def test_csv_of_the_whole_filtered_list(site):
    response = page(site["global"], "?org=Alpha&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["course_id"] for row in rows] == [A2, A1]  # by name: Algebra, Astronomy
    a1 = rows[1]
    assert (a1["name"], a1["org"], a1["pacing"], a1["availability"]) == ("Astronomy", "Alpha", "self", "current")
    assert [int(a1[c]) for c in ("count", "cumulative_count", "count_change_7_days", "verified", "passing_users",
                                 "certificates", "active_last_week")] == [50, 60, 10, 10, 20, 15, 2]


def test_the_host_links_the_overview_for_those_who_may_see_it(site):
    for who, linked in (("global", True), ("alpha", True), ("course", False)):
        client = Client()
        client.force_login(site[who])
        assert (SITE in client.get("/").content.decode()) is linked, who


def test_api_weekly_distinct_learners(site):
    response = client_for(site["global"]).get(API)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store" and "Last-Updated" in response
    week = {"interval_start": f"{LAST_WEEK}", "interval_end": f"{LAST_WEEK + dt.timedelta(days=7)}",
            "any": 3, "partial": False}
    assert response.json() == [week]
    assert client_for(site["global"]).get(API + "?org=Alpha").json() == [{**week, "any": 2}]
    assert client_for(site["alpha"]).get(API).json() == [{**week, "any": 2}]
    assert client_for(site["alpha"]).get(API + "?org=Beta").json() == []
    # A role in one course: the courses courses/ lists for them (A1: learners 1 and 2).
    assert client_for(site["course"]).get(API).json() == [{**week, "any": 2}]
    later = (LAST_WEEK + dt.timedelta(days=7)).isoformat()
    assert client_for(site["global"]).get(API + f"?start_date={later}").json() == []


def test_api_csv_and_refusals(site):
    response = client_for(site["global"]).get(API + "?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert text.splitlines()[0].split(",")[:3] == ["interval_start", "interval_end", "any"]
    assert ",3," in text.splitlines()[1]
    assert client_for(None).get(API).status_code == 401
    assert client_for(site["global"]).get(API + "?start_date=bad").status_code == 400


def test_a_course_hidden_by_the_rollout_gate_is_not_counted(site):
    """The precomputed site figure counts every course: with one hidden, the rest are counted instead."""
    m.CourseAnalyticsOverride.objects.create(course_id=B1, enabled=True,
                                             override_choice=m.CourseAnalyticsOverride.OFF)
    html = page(site["global"]).content.decode()
    assert listed(page(site["global"])) == [A1, A2]
    assert f'<tr data-week="{LAST_WEEK:%Y-%m-%d}"><td>{LAST_WEEK:%Y-%m-%d}</td><td class="oa-num">2</td>' in html
    assert client_for(site["global"]).get(API).json()[0]["any"] == 2


def test_the_overview_says_so_when_its_reads_run_past_the_time_budget(site):
    from django.test import override_settings

    with override_settings(OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS=1e-9):
        response = page(site["global"], "?org=Alpha")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "took longer than" in html and 'href="/analytics/site/?org=Alpha"' in html
    assert listed(page(site["global"], "?org=Alpha")) == [A1, A2]  # nothing of it kept: the next answer is whole
