"""The page's numbers say what they count: Finished and its end mark, shares of the enrollment of
their period, the period still being counted drawn apart, and words a course team reads."""
import datetime as dt
import re

import pytest

from openedx_analytics import conf
from openedx_analytics.metrics.activity import week_start
from openedx_analytics.models import (
    ActivityDay,
    ActivityWeek,
    EnrollmentDay,
    ProblemAnswer,
    ProblemSummary,
    VideoSegment,
    VideoSummary,
)
from tests.support.api import COURSE, PROBLEM
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

VIDEO = "block-v1:Org+Api+2026+type@video+block@long"
NOW = dt.datetime.now(dt.timezone.utc)
TODAY = NOW.date()


def db():
    return conf.analytics_db()


def enrolled(day, count):
    EnrollmentDay.objects.using(db()).create(course_id=COURSE, date=day, count=count, cumulative_count=count,
                                             enrollments=0, unenrollments=0, modes={}, last_updated=NOW)


def week(monday, any_):
    ActivityWeek.objects.using(db()).create(course_id=COURSE, interval_start=monday, any=any_, attempted_problem=0,
                                            played_video=0, posted_forum=0, last_updated=NOW)


def by_first(table):
    header, *body = table
    return {row[0].removesuffix(" (partial)"): dict(zip(header, row, strict=True)) for row in body}


@pytest.fixture
def staff(people, analytics_on):
    return client(people["course_staff"])


@pytest.fixture
def video_184s():
    """A 184 s video: Finished counts the segment of max(184 - 30, 0.95 x 184) = 174.8 s, i.e. 2:50."""
    VideoSummary.objects.using(db()).create(course_id=COURSE, video_id=VIDEO, duration=184, segment_length=5,
                                            users_at_start=80, users_at_end=53, views=120, last_updated=NOW)
    viewers = {34: 53, 35: 47, 36: 39}
    VideoSegment.objects.using(db()).bulk_create(
        VideoSegment(course_id=COURSE, video_id=VIDEO, segment=s, num_users=viewers.get(s, 80 - s),
                     num_views=viewers.get(s, 80 - s) + 2) for s in range(37))


def test_finished_says_what_it_counts_on_the_videos_panel(staff, video_184s):
    html = staff.get(page_url()).content.decode()
    row = by_first(parse_tables(html)["oa-table-videos"])["1"]
    assert row["Finished (at the end mark)"] == "53" and row["End mark"] == "2:50"
    assert "last 5 seconds" not in html
    assert "95% of the way through (30 seconds before the end for videos of 10 minutes or more)" in html


def test_the_video_timeline_marks_the_point_finished_counts(staff, video_184s):
    html = staff.get(page_url(), {"video": VIDEO}).content.decode()
    section = html[html.index('id="video-detail"'):]
    assert "Finished (53 learners) counts the viewers of the 5 seconds from 2:50" in section
    chart = section[section.index("<svg"):section.index("</svg>")]
    assert chart.count('class="oa-marker-line"') == 1 and ">End mark</text>" in chart
    x_marker = float(re.search(r'class="oa-marker-line" x1="([\d.]+)"', chart).group(1))
    bars = re.findall(r"<g><title>(\d:\d\d): [^<]*</title><rect [^>]*x=\"([\d.]+)\" [^>]*width=\"([\d.]+)\"", chart)
    (x, width), = [(float(x), float(w)) for clock, x, w in bars if clock == "2:50"]
    assert x <= x_marker <= x + width
    rows = parse_tables(html)["oa-table-video-detail"]
    marked = [row for row in rows[1:] if "end mark" in row[0]]
    assert marked == [["2:50 (end mark: Finished counts these viewers)", "53", "2", "55"]]


def test_a_share_divides_by_the_enrollment_at_the_end_of_its_week(staff):
    """7 learners enrolled on the Sunday of 2026-10-05's week, 700 today: 2 active is 28.6%, not 0.3%."""
    enrolled(dt.date(2026, 10, 1), 5)
    enrolled(dt.date(2026, 10, 11), 7)
    enrolled(TODAY - dt.timedelta(days=1), 700)
    week(dt.date(2026, 9, 21), 1)  # before anyone enrolled: no share, not a division by zero
    week(dt.date(2026, 10, 5), 2)
    week(dt.date(2026, 10, 12), 3)  # no change that week: the 7 carry forward
    html = staff.get(page_url()).content.decode()
    weeks = by_first(parse_tables(html)["oa-table-engagement"])
    assert weeks["2026-10-05"]["Active learners (share)"] == "28.6%"
    assert weeks["2026-10-05"]["Enrolled"] == "7"
    assert weeks["2026-10-12"]["Active learners (share)"] == "42.9%"
    assert weeks["2026-09-21"]["Active learners (share)"] == "\u2013"
    chart = staff.get(page_url(), {"engagement": "share"}).content.decode()
    assert "2026-10-05: Active learners: 28.6%" in chart
    assert "2026-09-21: Active learners:" not in chart  # no share of nobody: no point, the line breaks
    engagement = re.search(r'<section[^>]*id="engagement".*?</section>', html, flags=re.S).group(0)
    assert "Shares are of the" not in engagement and "end of each week (its Sunday)" in engagement


def test_the_current_week_is_drawn_apart_and_said_so_far(staff):
    this_week = week_start(TODAY)
    enrolled(this_week - dt.timedelta(days=20), 200)
    week(this_week - dt.timedelta(days=7), 133)
    week(this_week, 36)
    html = staff.get(page_url()).content.decode()
    chart = html[html.index('id="engagement"'):]
    chart = chart[chart.index("<svg"):chart.index("</svg>")]
    assert chart.count("oa-line-partial") == 4  # one greyed stretch per measure
    assert ">so far</text>" in chart and 'class="oa-partial-zone"' in chart
    assert f"{this_week.isoformat()} (so far): Active learners: 36" in chart
    whole = re.findall(r'<polyline class="oa-line oa-line0 oa-s4" points="([^"]+)"', chart)
    assert len(whole) == 1 and len(whole[0].split()) == 1  # the solid line stops at the last full week


def test_today_is_drawn_apart_on_the_daily_chart(staff):
    for days_ago, n in ((1, 40), (0, 4)):
        ActivityDay.objects.using(db()).create(course_id=COURSE, date=TODAY - dt.timedelta(days=days_ago), any=n,
                                               attempted_problem=0, played_video=0, posted_forum=0, last_updated=NOW)
    html = staff.get(page_url(), {"activity": "day"}).content.decode()
    assert f"{TODAY.isoformat()} (so far): Active learners: 4" in html
    assert "oa-line-partial" in html


def test_partial_notes_name_only_what_their_chart_draws(staff):
    enrolled(TODAY - dt.timedelta(days=1), 10)
    enrolled(TODAY, 11)
    week(week_start(TODAY), 3)
    html = staff.get(page_url()).content.decode()
    assert "shaded end of an area" not in html
    notes = re.findall(r'<p class="oa-partial-note">([^<]+)</p>', html)
    assert len(notes) == 2
    assert "bar is lighter" in notes[0] and "area" not in notes[0]
    assert "so far" in notes[1] and "bar" not in notes[1]


def test_an_empty_course_speaks_no_operator_words(staff):
    html = staff.get(page_url()).content.decode()
    assert 'id="oa-no-data"' in html
    assert "data for this course is still being prepared" in html
    assert "backfill" not in html and "management command" not in html


def answers(part_ids, variant=""):
    ProblemSummary.objects.using(db()).create(
        course_id=COURSE, problem_id=PROBLEM, part_ids=part_ids, users_attempted=3, total_submissions=4,
        correct_submissions=2, first_attempt_correct=1, attempts_mean=1.3, last_updated=NOW)
    for part in part_ids:
        ProblemAnswer.objects.using(db()).bulk_create([
            ProblemAnswer(course_id=COURSE, problem_id=PROBLEM, part_id=part, answer_value="int", correct=True,
                          variant=variant, count=2),
            ProblemAnswer(course_id=COURSE, problem_id=PROBLEM, part_id=part, answer_value="str", correct=False,
                          variant=variant, count=1)])


def test_parts_are_questions_with_their_id_in_a_tooltip(staff):
    answers(["py_types_2_1", "py_types_3_1"])
    html = staff.get(page_url(), {"problem": PROBLEM}).content.decode()
    assert '<h3 title="Part id: py_types_2_1">Question 1</h3>' in html
    assert '<h3 title="Part id: py_types_3_1">Question 2</h3>' in html
    visible = re.sub(r'title="[^"]*"|href="[^"]*"', "", html)
    assert "py_types_2_1" not in visible and "Part 1" not in visible


def test_no_variant_column_unless_the_problem_is_randomized(staff):
    answers(["py_types_2_1"])
    table = parse(staff.get(page_url(), {"problem": PROBLEM})).tables["oa-table-problem-detail"]
    assert table[0] == ["Answer", "Correct", "Learners"]
    assert table[1] == ["int", "yes", "2"]


def test_a_randomized_problem_keeps_its_variant_column(staff):
    answers(["py_types_2_1"], variant="3,7")
    table = parse(staff.get(page_url(), {"problem": PROBLEM})).tables["oa-table-problem-detail"]
    assert table[0] == ["Answer", "Correct", "Variant", "Learners"]
    assert table[1] == ["int", "yes", "3,7", "2"]


def test_date_inputs_read_and_write_the_dates_the_page_prints(staff):
    html = staff.get(page_url(), {"start_date": "2026-10-01", "end_date": "2026-11-01"}).content.decode()
    inputs = re.findall(r"<input [^>]*>", html[html.index('id="oa-range"'):html.index("</form>")])
    dates = [tag for tag in inputs if 'name="start_date"' in tag or 'name="end_date"' in tag]
    assert len(dates) == 2
    for tag in dates:
        assert 'type="text"' in tag and 'placeholder="YYYY-MM-DD"' in tag
        assert 'pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}"' in tag
    assert 'value="2026-10-01"' in dates[0] and 'value="2026-11-01"' in dates[1]
    assert "Until (not included)" not in html
    assert "end the day before the second" in html


def parse_tables(html):
    class Response:
        content = html.encode()
    return parse(Response).tables
