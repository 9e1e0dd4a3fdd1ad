"""The course analytics page: who gets it, the numbers it shows (the API's), drill-downs, CSV links, CSP."""
import re
from html.parser import HTMLParser

import pytest
from edx_toggles.toggles.testutils import override_waffle_flag
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseAccessRole, CourseBlock, CourseOverview
from openedx_analytics import api
from openedx_analytics.dashboard import views
from openedx_analytics.lms import rollout
from openedx_analytics.models import CourseAnalyticsOverride
from tests.support.api import COURSE, PROBLEM, VIDEO_BLOCK, enroll_event
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

VIDEO = f"block-v1:Org+Api+2026+type@video+block@{VIDEO_BLOCK}"


def rows_by_first(table):
    header, *body = table
    return {row[0].removesuffix(" (partial)"): dict(zip(header, row, strict=True)) for row in body}


def number(text):
    return int(text.replace(",", ""))


@pytest.fixture
def staff_page(people, history_loaded, analytics_on):
    return client(people["course_staff"])


@pytest.mark.parametrize("role", ["course_staff", "instructor", "data_researcher", "global_staff"])
def test_people_the_api_lets_in_get_the_page(people, history_loaded, analytics_on, role):
    response = client(people[role]).get(page_url())
    assert response.status_code == 200
    assert b"oa-dashboard" in response.content


@pytest.mark.parametrize("role", ["learner", "other_staff"])
def test_learners_and_other_course_staff_get_403(people, history_loaded, analytics_on, role):
    response = client(people[role]).get(page_url())
    assert response.status_code == 403
    assert b"oa-dashboard" not in response.content and b"Paris" not in response.content


def test_anonymous_is_sent_to_login(people, analytics_on):
    response = client(None).get(page_url())
    assert response.status_code == 302 and "login" in response["Location"]


def test_rollout_gate_closed_is_404(people, history_loaded):
    with override_waffle_flag(rollout.ENABLED, active=False):
        assert client(people["course_staff"]).get(page_url()).status_code == 404
    key = CourseKey.from_string(COURSE)
    CourseAnalyticsOverride.objects.create(course_id=COURSE, org=key.org, override_choice="on", enabled=True)
    with override_waffle_flag(rollout.ENABLED, active=False):
        assert client(people["course_staff"]).get(page_url()).status_code == 200


def test_unknown_course_is_404_and_bad_id_400(people, analytics_on):
    assert client(people["global_staff"]).get(page_url("course-v1:No+Such+Course")).status_code == 404
    assert client(people["global_staff"]).get(page_url("not a course")).status_code == 400


def test_page_shows_the_numbers_the_api_gives(staff_page):
    response = staff_page.get(page_url())
    assert response.status_code == 200
    page = parse(response)
    enrollment = rows_by_first(page.tables["oa-table-enrollment"])
    for day in api.get_enrollment(COURSE):
        row = enrollment[day["date"].isoformat()]
        assert number(row["Enrolled"]) == day["count"]
        assert number(row["Ever enrolled"]) == day["cumulative_count"]
        for mode, figures in day["modes"].items():
            if figures["count"]:
                assert number(row[mode]) == figures["count"]
    weeks = rows_by_first(page.tables["oa-table-engagement"])
    summary = api.get_course_summary(COURSE)
    for week in api.get_activity(COURSE):
        row = weeks[week["interval_start"].isoformat()]
        assert number(row["Active learners"]) == week["any"]
        assert number(row["Tried a problem"]) == week["attempted_problem"]
        assert number(row["Posted in the forum"]) == week["posted_forum"]
        assert row["Active learners (share)"] == f"{100 * week['any'] / summary['count']:.1f}%"
    (video,) = api.get_videos(COURSE)
    videos = page.tables["oa-table-videos"]
    assert [number(v) for v in videos[1][4:7]] == [video["users_at_start"], video["users_at_end"], video["views"]]
    (problem,) = api.get_problems(COURSE)
    problems = page.tables["oa-table-problems"][1]
    assert number(problems[4]) == problem["users_attempted"]
    assert number(problems[5]) == problem["correct_submissions"]
    assert number(problems[6]) == problem["users_attempted"] - problem["correct_submissions"]
    grades = rows_by_first(page.tables["oa-table-grades"])
    for bucket in api.get_grades(COURSE)["buckets"]:
        assert number(grades[bucket["bucket"]]["Learners"]) == bucket["count"]
    text = response.content.decode()
    card = re.search(r'data-card="enrolled">.*?oa-card-value">([^<]+)<', text)
    assert number(card.group(1)) == summary["count"]
    assert "Last updated" in text
    assert "learners enrolled now" in text and "ever enrolled" in text


def test_date_range_narrows_enrollment_and_engagement(staff_page):
    response = staff_page.get(page_url(), {"start_date": "2026-01-06", "end_date": "2026-01-13"})
    page = parse(response)
    dates = [row[0] for row in page.tables["oa-table-enrollment"][1:]]
    assert dates == [f"2026-01-{d:02d}" for d in range(6, 13)]
    assert 'value="2026-01-06"' in response.content.decode()
    assert any("start_date=2026-01-06" in (link or "") and "enrollment" in link for link in page.links)


def test_bad_dates_are_reported_not_a_500(staff_page):
    response = staff_page.get(page_url(), {"start_date": "yesterday"})
    assert response.status_code == 200
    assert b"Dates ignored" in response.content


def test_daily_engagement_and_shares(staff_page):
    page = parse(staff_page.get(page_url(), {"activity": "day", "engagement": "share"}))
    days = rows_by_first(page.tables["oa-table-engagement"])
    for day in api.get_activity(COURSE, granularity="day"):
        assert number(days[day["date"].isoformat()]["Watched a video"]) == day["played_video"]


def test_video_drill_down_shows_the_timeline(staff_page):
    page = parse(staff_page.get(page_url()))
    drill = [link for link in page.links if link and "video=" in link]
    assert drill, "the videos table links each video to its timeline"
    response = staff_page.get(drill[0].split("#")[0] + "")
    timeline = parse(response).tables["oa-table-video-detail"]
    segments = api.get_video_timeline(COURSE, VIDEO)
    assert [number(r[1]) for r in timeline[1:]] == [s["num_users"] for s in segments]
    assert [number(r[3]) for r in timeline[1:]] == [s["num_views"] for s in segments]
    assert [number(r[2]) for r in timeline[1:]] == [s["num_views"] - s["num_users"] for s in segments]


def test_problem_drill_down_shows_answers_per_part(staff_page):
    response = staff_page.get(page_url(), {"problem": PROBLEM})
    table = parse(response).tables["oa-table-problem-detail"]
    answers = api.get_answer_distribution(COURSE, PROBLEM)
    assert {(r[0], number(r[-1])) for r in table[1:]} == {(a["answer_value"], a["count"]) for a in answers}


def test_block_names_from_the_course_outline(staff_page):
    key = CourseKey.from_string(COURSE)
    root = "block-v1:Org+Api+2026+type@course+block@course"
    chapter = "block-v1:Org+Api+2026+type@chapter+block@ch1"
    sequential = "block-v1:Org+Api+2026+type@sequential+block@s1"
    for usage_key, kind, name, parent in [
        (root, "course", "Course", ""), (chapter, "chapter", "Week 1", root),
        (sequential, "sequential", "Getting started", chapter),
        (VIDEO, "video", "Welcome video", sequential), (PROBLEM, "problem", "Capitals quiz", sequential),
    ]:
        CourseBlock.objects.create(course_id=key, usage_key=usage_key, block_type=kind, display_name=name,
                                   parent=parent)
    page = parse(staff_page.get(page_url()))
    assert page.tables["oa-table-videos"][1][1:4] == ["Welcome video", "Week 1", "Getting started"]
    assert page.tables["oa-table-problems"][1][1:4] == ["Capitals quiz", "Week 1", "Getting started"]


def test_every_csv_link_resolves_to_the_api_csv(staff_page):
    for query in ({}, {"video": VIDEO}, {"problem": PROBLEM}, {"activity": "day", "start_date": "2026-01-05"}):
        page = parse(staff_page.get(page_url(), query))
        csv_links = [link for link in page.links if link and "format=csv" in link]
        assert len(csv_links) >= 6
        for link in csv_links:
            response = staff_page.get(link)
            assert response.status_code == 200, (link, response.content[:300])
            assert response["Content-Type"].startswith("text/csv")


def test_old_style_course_ids(people, analytics_on):
    old = "Org/Old/2020"
    key = CourseKey.from_string(old)
    CourseOverview.objects.create(id=key, display_name="An old course", org="Org")
    CourseAccessRole.objects.create(user=people["course_staff"], org="Org", course_id=key, role="staff")
    response = client(people["course_staff"]).get(page_url(old))
    assert response.status_code == 200
    assert b"An old course" in response.content
    assert client(people["learner"]).get(page_url(old)).status_code == 403


def test_empty_course_says_how_data_arrives(people, analytics_on):
    response = client(people["course_staff"]).get(page_url())
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="oa-no-data"' in text and "still being prepared" in text
    assert "No enrollment figures" in text and "No video has been watched yet" in text


def test_partial_periods_are_marked(staff_page, settings):
    import datetime as dt

    from openedx_analytics.worker import tasks

    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    tasks.process_event_batch.apply(args=[[enroll_event("activated", today, 9, "audit")], "live"]).get()
    response = staff_page.get(page_url())
    enrollment = parse(response).tables["oa-table-enrollment"]
    assert enrollment[-1][0] == f"{today} (partial)"
    assert "oa-partial" in response.content.decode()


class Inline(HTMLParser):
    """Everything a strict CSP would block: inline scripts, style elements and attributes, event handlers."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name == "style" or name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag}[{name}]")
            if name in ("src", "href") and re.match(r"^(https?:)?//", value or ""):
                self.found.append(f"external {value}")


@pytest.mark.parametrize("query", [{}, {"video": VIDEO}, {"problem": PROBLEM}, {"activity": "day"}])
def test_page_runs_under_a_strict_content_security_policy(staff_page, query):
    response = staff_page.get(page_url(), query)
    assert response["Content-Security-Policy"] == views.CONTENT_SECURITY_POLICY
    assert "script-src 'none'" in views.CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in views.CONTENT_SECURITY_POLICY
    inline = Inline()
    inline.feed(response.content.decode())
    assert inline.found == []
    assert "/static/openedx_analytics/dashboard.css" in response.content.decode()


def test_every_data_table_scrolls_in_a_box_the_keyboard_reaches(staff_page):
    """A table taller or wider than its box scrolls there: the box takes the focus (axe-core's
    scrollable-region-focusable) and is a region named "Data table" and the caption, not the panel's name again."""
    html = staff_page.get(page_url(), {"video": VIDEO, "problem": PROBLEM}).content.decode()
    boxes = re.findall(r'<div class="oa-table-wrap"([^>]*)><table class="oa-table" id="([^"]+)"><caption id="([^"]+)">',
                       html)
    assert len(boxes) == html.count('<table class="oa-table"') >= 7
    for attributes, table_id, caption_id in boxes:
        assert 'role="region"' in attributes and 'tabindex="0"' in attributes, attributes
        assert caption_id == f"{table_id}-caption"
        names = re.search(r'aria-labelledby="([^"]+)"', attributes).group(1).split()
        assert names == [f"{table_id}-summary", caption_id]
        assert f'<summary id="{table_id}-summary">Data table</summary>' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_hostile_block_names_and_answers_are_escaped(staff_page):
    key = CourseKey.from_string(COURSE)
    CourseBlock.objects.create(course_id=key, usage_key=VIDEO, block_type="video",
                               display_name='<script>alert(1)</script>"><img src=x onerror=alert(1)>')
    response = staff_page.get(page_url(), {"problem": PROBLEM, "video": VIDEO})
    inline = Inline()
    inline.feed(response.content.decode())
    assert inline.found == []
    assert "&lt;script&gt;" in response.content.decode()


@pytest.mark.parametrize("query", [{"video": "a/b"}, {"video": "x\ny"}, {"problem": "a\nb"}, {"problem": "/"},
                                   {"video": "<b>"}, {"activity": "month"}, {"end_date": "2026-01-01",
                                                                             "start_date": "2026-02-01"}])
def test_odd_query_parameters_never_break_the_page(staff_page, query):
    response = staff_page.get(page_url(), query)
    assert response.status_code == 200
    assert b"<b>" not in response.content


def test_content_is_cached_briefly_per_course_and_parameters(people, history_loaded, analytics_on, settings):
    from openedx_analytics.worker import tasks

    staff = client(people["course_staff"])
    before = parse(staff.get(page_url())).tables["oa-table-enrollment"]
    tasks.process_event_batch.apply(args=[[enroll_event("activated", "2026-01-20", 7, "audit")], "live"]).get()
    assert parse(staff.get(page_url())).tables["oa-table-enrollment"] == before  # served from the cache
    assert client(people["learner"]).get(page_url()).status_code == 403  # access is checked before the cache
    fresh = parse(staff.get(page_url(), {"activity": "day"})).tables["oa-table-enrollment"]
    assert fresh != before  # other parameters: another entry
    settings.OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS = 0
    assert parse(staff.get(page_url())).tables["oa-table-enrollment"] == fresh
