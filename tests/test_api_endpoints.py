"""Every endpoint: numbers from real events, JSON and CSV, date filters, bad parameters, Last-Updated."""
import csv
import datetime as dt
import io

import pytest

from openedx_analytics import api
from openedx_analytics.api import rows
from openedx_analytics.api.v1 import serializers
from tests.support.api import BASE, COURSE, EXPECTED, PROBLEM, body, client_for, endpoints

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

SERIALIZERS = {
    "summary": serializers.CourseSummarySerializer,
    "enrollment": serializers.EnrollmentDaySerializer,
    "activity": serializers.ActivityWeekSerializer,
    "videos": serializers.VideoSerializer,
    "timeline": serializers.SegmentSerializer,
    "problems": serializers.ProblemSerializer,
    "answers": serializers.AnswerPageSerializer,
    "grades": serializers.GradesSerializer,
}


@pytest.fixture
def staff(people, history_loaded, analytics_on):
    return client_for(people["course_staff"])


def get(client, name, **query):
    response = client.get(endpoints()[name], query)
    assert response.status_code == 200, response.content[:500]
    return response


def by_date(rows_, field="date"):
    return {row[field]: row for row in rows_}


def test_enrollment_numbers_with_one_field_per_mode(staff):
    data = by_date(get(staff, "enrollment").json())
    for date in ("2026-01-05", "2026-01-06", "2026-01-13"):
        assert {k: data[date][k] for k in EXPECTED[date]} == EXPECTED[date], date
    # the same mode columns on every row, standard modes included even at zero
    columns = {tuple(row) for row in data.values()}
    assert len(columns) == 1
    assert list(data["2026-01-05"]) == [
        "date", "count", "cumulative_count", "audit", "verified", "honor", "professional", "credit", "masters",
        "executive-education", "enrollments", "unenrollments", "partial",
    ]
    assert data["2026-01-09"]["count"] == 3  # days without changes carry forward


def test_enrollment_date_filter_is_start_inclusive_end_exclusive(staff):
    data = get(staff, "enrollment", start_date="2026-01-06", end_date="2026-01-08").json()
    assert [row["date"] for row in data] == ["2026-01-06", "2026-01-07"]
    assert "executive-education" not in data[0]  # the mode columns are those of the rows served


def test_activity_weekly_and_daily(staff):
    weeks = by_date(get(staff, "activity").json(), "interval_start")
    for start, figures in EXPECTED["weeks"].items():
        assert {k: weeks[start][k] for k in figures} == figures
    assert weeks["2026-01-05"]["interval_end"] == "2026-01-12"
    days = by_date(get(staff, "activity", granularity="day").json())
    assert days["2026-01-05"]["played_video"] == 1 and days["2026-01-13"]["posted_forum"] == 1
    filtered = get(staff, "activity", granularity="day", start_date="2026-01-13", end_date="2026-01-14").json()
    assert [row["date"] for row in filtered] == ["2026-01-13"]
    weekly = get(staff, "activity", start_date="2026-01-12").json()
    assert [row["interval_start"] for row in weekly] == ["2026-01-12"]


def test_videos_and_timeline(staff):
    (video,) = get(staff, "videos").json()
    assert video["video_id"].endswith("block@vid1")
    assert {k: video[k] for k in ("duration", "segment_length", "users_at_start", "views")} == {
        "duration": 60, "segment_length": 5, "users_at_start": 1, "views": 1}
    timeline = get(staff, "timeline").json()
    assert [(r["segment"], r["num_users"], r["num_views"]) for r in timeline[:4]] == [
        (0, 1, 1), (1, 1, 1), (2, 1, 1), (3, 0, 0)]


def test_problems_and_answers(staff):
    (problem,) = get(staff, "problems").json()
    assert problem["problem_id"] == PROBLEM
    assert {k: problem[k] for k in ("users_attempted", "total_submissions", "correct_submissions",
                                    "first_attempt_correct", "part_ids")} == {
        "users_attempted": 2, "total_submissions": 3, "correct_submissions": 2, "first_attempt_correct": 1,
        "part_ids": ["p1_2_1"]}
    answers = get(staff, "answers").json()
    assert answers == {"count": 1, "next": None, "previous": None, "results": [
        {"part_id": "p1_2_1", "answer_value": "Paris", "correct": True, "count": 2, "variant": ""}]}


def test_grades_and_summary(staff):
    grades = get(staff, "grades").json()
    assert grades["course_id"] == COURSE and grades["passing_users"] == 1
    assert grades["certificates"] == {"honor": 1}
    assert {b["bucket"]: b["count"] for b in grades["buckets"] if b["count"]} == {"40-49": 1, "80-89": 1}
    assert grades["not_graded"] == 1  # learner 4 is enrolled without a grade yet: apart, not in 0-9
    summary = get(staff, "summary").json()
    assert {k: summary[k] for k in ("course_id", "count", "cumulative_count", "passing_users", "certificates")} == {
        "course_id": COURSE, "count": 3, "cumulative_count": 4, "passing_users": 1, "certificates": 1}
    assert summary["enrollment_modes"]["verified"] == {"count": 1, "cumulative_count": 2}
    assert summary["last_updated"]


def test_course_list_rows_search_and_filter(people, history_loaded, analytics_on):
    client = client_for(people["global_staff"])
    page = get(client, "courses").json()
    assert page["count"] == 1 and page["results"][0]["count"] == 3
    assert get(client, "courses", search="api+2026").json()["count"] == 1
    assert get(client, "courses", search="nothing").json()["results"] == []
    assert get(client, "courses", course_ids="course-v1:Other+X+2026").json()["count"] == 0
    assert get(client, "courses", course_ids=f"{COURSE},course-v1:Other+X+2026").json()["count"] == 1


@pytest.mark.parametrize("name", list(SERIALIZERS))
def test_responses_match_the_documented_serializers(staff, name):
    """What the schema documents is exactly what the wire carries."""
    data = get(staff, name).json()
    serializer = SERIALIZERS[name]
    if name == "enrollment":  # modes beyond the standard ones are extra fields, by name
        extra = {key for row in data for key in row} - set(serializer().fields)
        assert extra == {"executive-education"}
        data = [{k: v for k, v in row.items() if k not in extra} for row in data]
    if isinstance(data, list):
        assert data, name
        assert serializer(data, many=True).data == data
    else:
        assert serializer(data).data == data


@pytest.mark.parametrize("name", list(SERIALIZERS) + ["courses"])
def test_every_endpoint_serves_csv(staff, people, name):
    client = staff if name != "courses" else client_for(people["global_staff"])
    by_format = get(client, name, format="csv")
    by_accept = client.get(endpoints()[name], HTTP_ACCEPT="text/csv")
    assert by_accept.status_code == 200
    text = body(by_format)
    assert text == body(by_accept)
    assert by_format["Content-Type"].startswith("text/csv")
    disposition = by_format["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('.csv"')
    if name != "courses":
        assert "course-v1_Org_Api_2026_" in disposition
    table = list(csv.DictReader(io.StringIO(text.decode())))
    assert table, name
    json_rows = get(client, name).json()
    if name == "grades":
        json_rows = json_rows["buckets"]
    elif name in ("courses", "answers"):
        json_rows = json_rows["results"]
    elif name == "summary":
        json_rows = [json_rows]
    assert len(table) == len(json_rows)


def test_the_format_parameter_wins_over_the_accept_header(staff):
    response = staff.get(endpoints()["videos"], {"format": "csv"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert staff.get(endpoints()["videos"], {"format": "xml"}).status_code == 404


def test_csv_values_are_spreadsheet_safe(staff):
    from openedx_analytics.api.v1.renderers import to_csv

    text = to_csv([{"answer_value": '=HYPERLINK("x")', "n": -1, "tags": ["a", "b"], "ok": True, "none": None}])
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == ["answer_value", "n", "tags", "ok", "none"]
    assert row == ["'=HYPERLINK(\"x\")", "-1", "a|b", "true", ""]


def test_enrollment_csv_has_one_column_per_mode(staff):
    text = get(staff, "enrollment", format="csv").content.decode()
    header = text.splitlines()[0].split(",")
    assert header[:9] == ["date", "enrolled", "ever_enrolled", "audit", "verified", "honor", "professional", "credit",
                          "masters"]
    assert "executive-education" in header


@pytest.mark.parametrize("name", list(SERIALIZERS) + ["courses"])
def test_every_response_states_last_updated(staff, people, name):
    client = staff if name != "courses" else client_for(people["global_staff"])
    response = get(client, name)
    stamp = dt.datetime.fromisoformat(response["Last-Updated"])
    assert stamp.tzinfo is not None and stamp <= dt.datetime.now(dt.timezone.utc)


def test_last_updated_is_never_for_a_course_without_figures(people, courses, analytics_on):
    response = client_for(people["global_staff"]).get(endpoints()["enrollment"])
    assert response.status_code == 200 and response.json() == [] and response["Last-Updated"] == "never"


def test_empty_results_are_empty_lists(staff):
    assert get(staff, "enrollment", start_date="2030-01-01").json() == []
    url = f"{BASE}courses/{COURSE}/videos/block-v1:Org+Api+2026+type@video+block@nope/timeline/"
    response = staff.get(url)
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(("name", "query", "param"), [
    ("enrollment", {"start_date": "2026-13-01"}, "start_date"),
    ("enrollment", {"end_date": "yesterday"}, "end_date"),
    ("enrollment", {"start_date": "2026-01-10", "end_date": "2026-01-10"}, "end_date"),
    ("activity", {"granularity": "month"}, "granularity"),
    ("activity", {"start_date": "20260105"}, "start_date"),
    ("summary", {"start_date": "2026-01-05"}, "start_date"),
    ("videos", {"end_date": "20260105"}, "end_date"),
    ("timeline", {"start_date": "2026-01-05"}, "start_date"),
    ("problems", {"start_date": "2026-13-01"}, "start_date"),
    ("answers", {"start_date": "2026-01-05"}, "start_date"),
    ("grades", {"start_date": "2026-01-05"}, "start_date"),
    ("courses", {"course_ids": "not-a-course"}, "course_ids"),
    ("courses", {"start_date": "2026-01-05"}, "start_date"),
])
def test_bad_parameters_are_400_naming_the_parameter(staff, name, query, param):
    response = staff.get(endpoints()[name], query)
    assert response.status_code == 400
    assert list(response.json()) == [param]


@pytest.mark.parametrize("name", [n for n in SERIALIZERS])
def test_malformed_course_id_is_400(staff, name):
    url = endpoints()[name].replace(COURSE, "not-a-course-id")
    response = staff.get(url)
    assert response.status_code == 400 and "course_id" in response.json()


def test_old_style_course_ids_reach_the_view(people, analytics_on, courses):
    response = client_for(people["global_staff"]).get(f"{BASE}courses/Org/Old/2014/summary/")
    assert response.status_code == 404  # parsed (not 400), but the LMS does not know it


def test_enrollment_rows_flatten_modes_consistently():
    days = [
        {"date": 1, "count": 1, "cumulative_count": 1, "enrollments": 1, "unenrollments": 0, "partial": False,
         "modes": {"audit": {"count": 1, "cumulative_count": 1}}},
        {"date": 2, "count": 2, "cumulative_count": 2, "enrollments": 1, "unenrollments": 0, "partial": True,
         "modes": {"audit": {"count": 1, "cumulative_count": 1}, "count": {"count": 1, "cumulative_count": 1}}},
    ]
    out = rows.enrollment(days)
    assert list(out[0]) == list(out[1])
    assert out[0]["mode_count"] == 0 and out[1]["mode_count"] == 1 and out[1]["count"] == 2


def test_views_read_the_same_numbers_as_the_python_api(staff):
    assert get(staff, "videos").json()[0]["views"] == api.get_videos(COURSE)[0]["views"]
    assert len(get(staff, "enrollment").json()) == len(api.get_enrollment(COURSE))
