"""The Insights-compatible API, driven by Insights' own client (``edx-analytics-data-api-client``) with a
service key, checked against our v1 API: same numbers, Insights' shapes, CSV and errors.

The client runs unchanged; only the socket under ``requests`` is replaced by Django's test
client (``tests.support.insights_client``).
"""
from __future__ import annotations

import csv
import io

import pytest
from analyticsclient.client import Client
from analyticsclient.constants import data_formats, demographics
from analyticsclient.exceptions import ClientError, InvalidRequestError, NotFoundError
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from lms_host.stub.models import CourseBlock, CourseEnrollment, UserProfile
from openedx_analytics import service_keys
from openedx_analytics.models import ContentActivityFact
from tests.support.api import BASE, COURSE, OTHER, PROBLEM, SISTER, clear_caches, client_for
from tests.support.insights_client import BASE_URL, django_transport

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]),
              pytest.mark.usefixtures("clean_caches", "analytics_on")]

VIDEO = "block-v1:Org+Api+2026+type@video+block@vid1"
INSIGHTS = "/api/analytics/insights/v1/"


@pytest.fixture
def transport():
    with django_transport() as sent:
        yield sent


@pytest.fixture
def service_user(people):
    """A service account that is global staff (what a site grants Insights' own service user)."""
    return get_user_model().objects.create_user("insights_worker", "w@example.com", is_staff=True)


@pytest.fixture
def key(service_user):
    return service_keys.issue_key(service_user, "insights")


@pytest.fixture
def client(key, transport, history_loaded):
    return Client(BASE_URL, auth_token=key, timeout=5)


@pytest.fixture
def v1(people):
    """Our own v1 API, as global staff reads it."""
    api = client_for(people["global_staff"])

    def get(path, **query):
        response = api.get(f"{BASE}{path}", query)
        assert response.status_code == 200, response.content
        return response.json()
    return get


def test_enrollment_and_modes_match_v1_latest_row_without_dates(client, v1):
    course = client.courses(COURSE)
    ours = {row["date"]: row for row in v1(f"courses/{COURSE}/enrollment/", start_date="2026-01-05",
                                             end_date="2026-01-14")}
    rows = course.enrollment(start_date="2026-01-05", end_date="2026-01-14")
    assert [r["date"] for r in rows] == sorted(ours)
    assert {r["date"]: r["count"] for r in rows} == {d: row["count"] for d, row in ours.items()}
    assert list(rows[0]) == ["course_id", "date", "count", "created"] and rows[0]["course_id"] == COURSE
    assert all(len(r["created"]) == len("2026-01-05T101010") for r in rows)

    # end_date is exclusive, start_date inclusive
    week = [f"2026-01-{d:02d}" for d in range(6, 13)]
    assert [r["date"] for r in course.enrollment(start_date="2026-01-06", end_date="2026-01-13")] == week
    # Insights' date-time form of the parameters reads as its day
    assert [r["date"] for r in course.enrollment(start_date="2026-01-06T000000", end_date="2026-01-13T000000")] \
        == week

    history = v1(f"courses/{COURSE}/enrollment/")
    latest = course.enrollment()
    assert len(latest) == 1 and (latest[0]["date"], latest[0]["count"]) == (history[-1]["date"], history[-1]["count"])

    modes = course.enrollment("mode", start_date="2026-01-05", end_date="2026-01-14")
    assert list(modes[0])[:5] == ["course_id", "date", "count", "cumulative_count", "created"]
    for row in modes:
        mine = ours[row["date"]]
        assert (row["count"], row["cumulative_count"]) == (mine["count"], mine["cumulative_count"])
        assert {m: row[m] for m in ("audit", "verified", "honor", "professional", "credit", "masters")} == \
            {m: mine[m] for m in ("audit", "verified", "honor", "professional", "credit", "masters")}
    assert modes[-1]["verified"] == 1 and modes[-1]["audit"] == 1


def test_activity_matches_v1_under_insights_week_rule(client, v1):
    course = client.courses(COURSE)
    weeks = {w["interval_start"]: w for w in v1(f"courses/{COURSE}/activity/", start_date="2026-01-05",
                                                 end_date="2026-01-20")}
    rows = course.activity(start_date="2026-01-05", end_date="2026-01-20")
    assert [r["interval_start"] for r in rows] == ["2026-01-05T000000", "2026-01-12T000000"]
    for row in rows:
        mine = weeks[row["interval_start"][:10]]
        assert {k: row[k] for k in ("any", "attempted_problem", "played_video", "posted_forum")} == \
            {k: mine[k] for k in ("any", "attempted_problem", "played_video", "posted_forum")}
    assert list(rows[0]) == ["interval_start", "interval_end", "course_id", "any", "attempted_problem",
                             "played_video", "posted_forum", "created"]
    # Insights' rule: a week is in the range only when it ends before end_date
    assert [r["interval_start"] for r in course.activity(start_date="2026-01-05", end_date="2026-01-19")] == \
        ["2026-01-05T000000"]
    latest = course.activity()
    assert len(latest) == 1 and latest[0]["interval_start"] == max(r["interval_start"] for r in rows)
    with pytest.deprecated_call():
        recent = course.recent_activity("posted_forum")
    assert recent == {"interval_start": latest[0]["interval_start"], "interval_end": latest[0]["interval_end"],
                      "activity_type": "posted_forum", "count": latest[0]["posted_forum"], "course_id": COURSE}


def test_problems_and_answers_match_v1(client, v1):
    ours = v1(f"courses/{COURSE}/problems/")
    rows = client.courses(COURSE).problems()
    # Insights' total_submissions counted learners who answered (last responses): our users_attempted
    assert [(r["module_id"], r["total_submissions"], r["correct_submissions"], r["part_ids"]) for r in rows] == \
        [(p["problem_id"], p["users_attempted"], p["correct_submissions"], p["part_ids"]) for p in ours]
    assert rows[0]["total_submissions"] == 2 and rows[0]["correct_submissions"] == 2
    answers = client.modules(COURSE, PROBLEM).answer_distribution()
    mine = v1(f"courses/{COURSE}/problems/{PROBLEM}/answers/")["results"]
    assert sorted((a["part_id"], a["answer_value"], a["count"], a["correct"]) for a in answers) == \
        sorted((a["part_id"], a["answer_value"], a["count"], a["correct"]) for a in mine)
    assert set(answers[0]) == {"course_id", "module_id", "part_id", "correct", "count", "value_id", "answer_value",
                               "problem_display_name", "question_text", "variant", "created", "consolidated_variant"}
    # the same under the course, and what we do not hold answers as Insights answered nothing: 404
    nested = client.get(f"courses/{COURSE}/problems/{PROBLEM}/answer_distribution/")
    assert nested == answers
    with pytest.raises(NotFoundError):  # no problem of the course is tagged
        client.courses(COURSE).problems_and_tags()
    with pytest.raises(NotFoundError):
        client.modules(COURSE, PROBLEM).grade_distribution()
    key = CourseKey.from_string(COURSE)
    CourseBlock.objects.create(course_id=key, usage_key=PROBLEM, block_type="problem", display_name="P1",
                               parent="", position=0, graded=False, format="", tags="Rivers|Geography")
    clear_caches()
    tagged = client.courses(COURSE).problems_and_tags()
    assert [(r["module_id"], r["total_submissions"], r["tags"]) for r in tagged] == [
        (PROBLEM, 2, {"learning_outcome": ["Geography", "Rivers"]})]
    with pytest.raises(NotFoundError):
        client.modules(COURSE, "block-v1:Org+Api+2026+type@problem+block@nobody").answer_distribution()


def test_videos_and_timeline_in_both_id_forms_match_v1(client, v1):
    ours = v1(f"courses/{COURSE}/videos/")
    rows = client.courses(COURSE).videos()
    assert [(r["encoded_module_id"], r["users_at_start"], r["users_at_end"], r["duration"]) for r in rows] == \
        [(v["video_id"], v["users_at_start"], v["users_at_end"], v["duration"]) for v in ours]
    assert rows[0]["pipeline_video_id"] == f"{COURSE}|{VIDEO}"
    timeline = [{k: s[k] for k in ("segment", "num_users", "num_views")}
                for s in v1(f"courses/{COURSE}/videos/{VIDEO}/timeline/")]
    by_pipeline = client.modules(COURSE, rows[0]["pipeline_video_id"]).video_timeline()
    by_module = client.modules(COURSE, rows[0]["encoded_module_id"]).video_timeline()
    nested = client.get(f"courses/{COURSE}/videos/{VIDEO}/timeline/")
    assert [{k: s[k] for k in ("segment", "num_users", "num_views")} for s in by_pipeline] == timeline
    assert by_module == by_pipeline == nested
    with pytest.raises(NotFoundError):  # a pipeline id of another course under this one
        client.get(f"courses/{SISTER}/videos/{COURSE}|{VIDEO}/timeline/")


def test_sequential_open_distribution_counts_learners_who_opened_the_subsection(client):
    sequential = "block-v1:Org+Api+2026+type@sequential+block@s1"
    for user, day in ((1, "2026-01-05"), (1, "2026-01-06"), (2, "2026-01-06")):
        ContentActivityFact.objects.create(course_id=COURSE, node_id=sequential, kind="any", day=day, user_id=user)
    rows = client.modules(COURSE, sequential).sequential_open_distribution()
    assert [(r["module_id"], r["course_id"], r["count"]) for r in rows] == [(sequential, COURSE, 2)]
    with pytest.raises(NotFoundError):
        client.modules(COURSE, "block-v1:Org+Api+2026+type@sequential+block@s2").sequential_open_distribution()


def test_course_summaries_get_and_post_and_totals_match_v1(client, v1, transport):
    ours = {c["course_id"]: c for c in v1("courses/")["results"]}
    summaries = client.course_summaries().course_summaries(course_ids=[COURSE])
    assert len(summaries) == 1
    summary = summaries[0]
    mine = ours[COURSE]
    assert (summary["count"], summary["cumulative_count"], summary["count_change_7_days"],
            summary["passing_users"]) == (mine["count"], mine["cumulative_count"], mine["count_change_7_days"],
                                          mine["passing_users"])
    assert summary["enrollment_modes"]["verified"]["count"] == 1
    assert summary["catalog_course"] == "Org+Api" and summary["pacing_type"] == "instructor_paced"
    assert "programs" not in summary

    # more than ten ids: the client POSTs them as a form
    many = [COURSE, *[f"course-v1:Org+None{i}+2026" for i in range(11)]]
    posted = client.course_summaries().course_summaries(course_ids=many, fields=["course_id", "count"])
    assert posted == [{"course_id": COURSE, "count": summary["count"]}]
    assert transport[-1].method == "POST" and "course_ids=course-v1%3AOrg%2BApi%2B2026" in transport[-1].body
    excluded = client.course_summaries().course_summaries(course_ids=[COURSE], exclude=["count"],
                                                          recent_date="2026-01-06", program_ids=None)
    assert "count" not in excluded[0] and "count" not in excluded[0]["enrollment_modes"]["audit"]
    assert excluded[0]["recent_count_change"] == summary["count"] - 3  # 3 enrolled on 2026-01-06
    with pytest.raises(InvalidRequestError):
        client.course_summaries().course_summaries(course_ids=["not/a course/at all/really"])
    typed = client.get(f"course_summaries/?course_ids={COURSE}&fields=course_id")  # an unencoded + reads as +
    assert typed == [{"course_id": COURSE}]
    with pytest.raises(InvalidRequestError):
        client.course_summaries().course_summaries(recent_date="2999-01-01")

    totals = client.course_totals().course_totals(course_ids=[COURSE])
    assert totals == {"count": mine["count"], "cumulative_count": mine["cumulative_count"],
                      "count_change_7_days": mine["count_change_7_days"], "verified_enrollment": 1}


def test_csv_has_insights_columns_order_and_file_name(client, key):
    text = client.courses(COURSE).enrollment("mode", start_date="2026-01-05", end_date="2026-01-14",
                                             data_format=data_formats.CSV)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == sorted(rows[0]) == ["audit", "count", "course_id", "created", "credit", "cumulative_count",
                                          "date", "honor", "masters", "professional", "verified"]
    assert [r[rows[0].index("date")] for r in rows[1:]][:1] == ["2026-01-05"]
    problems = list(csv.DictReader(io.StringIO(client.courses(COURSE).problems(data_format=data_formats.CSV))))
    assert problems[0]["module_id"] == PROBLEM and problems[0]["part_ids"] == "p1_2_1"
    answers = client.modules(COURSE, PROBLEM).answer_distribution(data_format=data_formats.CSV)
    answer_rows = list(csv.DictReader(io.StringIO(answers)))
    assert (answer_rows[0]["answer_value"], answer_rows[0]["correct"], answer_rows[0]["consolidated_variant"]) == \
        ("Paris", "True", "False")  # booleans as Insights' Python wrote them
    api = client_for(None)
    response = api.get(f"{INSIGHTS}courses/{COURSE}/enrollment/location/", HTTP_AUTHORIZATION=f"Token {key}",
                       HTTP_ACCEPT="text/csv")
    assert response.status_code == 404  # nobody enrolled in the stand-in LMS: an empty result
    response = api.get(f"{INSIGHTS}courses/{COURSE}/activity/", {"format": "csv", "fields": "any,interval_start"},
                       HTTP_AUTHORIZATION=f"Token {key}")
    assert response["Content-Disposition"] == 'attachment; filename="Org-Api-2026--engagement-activity.csv"'
    assert response.content.decode().splitlines()[0] == "any,interval_start"
    for suffixed in (f"courses/{COURSE}/activity.csv", f"problems/{PROBLEM}/answer_distribution.csv"):
        response = api.get(f"{INSIGHTS}{suffixed}", HTTP_AUTHORIZATION=f"Token {key}")  # the format suffix
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), suffixed
    assert api.get(f"{INSIGHTS}courses/{COURSE}/activity.json", HTTP_AUTHORIZATION=f"Token {key}").json()


def learner(n, **profile):
    user = get_user_model().objects.create_user(f"prof{n}", f"prof{n}@example.com")
    CourseEnrollment(user=user, course_id=CourseKey.from_string(COURSE), is_active=True).save()
    if profile:
        UserProfile.objects.create(user=user, **profile)


def test_demographics_are_today_and_not_suppressed(client, settings):
    settings.OPENEDX_ANALYTICS_MIN_CELL_SIZE = 5
    learner(1, year_of_birth=1990, gender="f", level_of_education="b", country="US")
    learner(2, year_of_birth=1990, gender="m", level_of_education="p_se", country="fr")
    learner(3)
    course = client.courses(COURSE)
    years = course.enrollment(demographics.BIRTH_YEAR)
    assert {r["birth_year"]: r["count"] for r in years} == {1990: 2, None: 1}
    assert {r["education_level"]: r["count"] for r in course.enrollment(demographics.EDUCATION)} == {
        "bachelors": 1, "doctorate": 1, None: 1}
    gender = course.enrollment(demographics.GENDER)
    assert [{k: gender[0][k] for k in ("female", "male", "other", "unknown")}] == [
        {"female": 1, "male": 1, "other": 0, "unknown": 1}]
    location = course.enrollment(demographics.LOCATION)
    assert [(r["country"]["alpha2"], r["country"]["name"], r["count"]) for r in location][0] == (None, "UNKNOWN", 1)
    assert {r["country"]["alpha2"]: r["count"] for r in location[1:]} == {"FR": 1, "US": 1}
    csv_text = course.enrollment(demographics.LOCATION, data_format=data_formats.CSV)
    assert csv_text.splitlines()[0] == "count,country.alpha2,country.alpha3,country.name,course_id,created,date"
    with pytest.raises(NotFoundError):  # we hold no history of profiles: a past range is empty
        course.enrollment(demographics.GENDER, start_date="2026-01-01", end_date="2026-01-10")


def test_report_points_at_our_streamed_report(client, key):
    details = client.courses(COURSE).reports("problem_response")
    assert details["report_name"] == "problem_response"
    assert details["download_url"] == f"http://testserver{BASE}courses/{COURSE}/reports/problem_responses/"
    response = client_for(None).get(f"{INSIGHTS}courses/{COURSE}/reports/learner_profile/",
                                    HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404
    assert response.json() == {"error_code": "report_file_not_found",
                               "developer_message": "Could not find report 'learner_profile' for course "
                                                    "course-v1_Org_Api_2026."}


def test_errors_in_insights_bodies_and_keys_refused(client, key, service_user, transport, people):
    api = client_for(None)
    response = api.get(f"{INSIGHTS}courses/not-a-course/enrollment/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400
    assert response.json() == {"error_code": "course_key_malformed",
                               "developer_message": "Course id/key not-a-course malformed."}
    for wrong in ("wrong", key[:-1] + ("A" if key[-1] != "A" else "B"), service_keys.issue_key(service_user, "ingest")):
        with pytest.raises(ClientError, match="401"):
            Client(BASE_URL, auth_token=wrong).courses(COURSE).enrollment()
    with pytest.raises(ClientError, match="401"):
        Client(BASE_URL).courses(COURSE).enrollment()
    response = api.get(f"{INSIGHTS}courses/{COURSE}/enrollment/", HTTP_AUTHORIZATION="Token wrong")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    # a key is read-only and Insights-only: our v1 API does not take it
    assert api.get(f"{BASE}courses/{COURSE}/enrollment/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_a_service_user_sees_what_the_site_grants_it(transport, history_loaded, people):
    user = get_user_model().objects.create_user("dashboard_svc", "d@example.com")
    course_key = CourseKey.from_string(COURSE)
    lms.CourseAccessRole.objects.create(user=user, org=course_key.org, course_id=course_key, role="staff")
    client = Client(BASE_URL, auth_token=service_keys.issue_key(user, "insights"))
    assert client.courses(COURSE).enrollment()[0]["course_id"] == COURSE
    with pytest.raises(ClientError, match="403"):
        client.courses(OTHER).enrollment()
    assert [s["course_id"] for s in client.course_summaries().course_summaries()] == [COURSE]
    # session and JWT work too, with the same rules
    for jwt in (False, True):
        assert client_for(people["instructor"], jwt=jwt).get(
            f"{INSIGHTS}courses/{COURSE}/enrollment/").status_code == 200
        assert client_for(people["learner"], jwt=jwt).get(
            f"{INSIGHTS}courses/{COURSE}/enrollment/").status_code == 403


def test_the_schema_documents_the_compatible_api():
    import yaml

    from openedx_analytics.api.v1 import docs

    schema = yaml.safe_load(docs.SCHEMA_FILE.read_text(encoding="utf-8"))
    prefix = "/api/analytics/insights/v1/"
    ours = {path: ops for path, ops in schema["paths"].items() if path.startswith(prefix)}
    course = f"{prefix}courses/{{course_id}}/"
    for suffix in ("enrollment/", "enrollment/mode/", "enrollment/birth_year/", "enrollment/education/",
                   "enrollment/gender/", "enrollment/location/", "activity/", "recent_activity/", "problems/",
                   "problems_and_tags/", "videos/", "reports/{report_name}/"):
        assert f"{course}{suffix}" in ours, suffix
    for module in ("problems/{module_id}/answer_distribution/", "problems/{module_id}/grade_distribution/",
                   "problems/{module_id}/sequential_open_distribution/", "videos/{module_id}/timeline/"):
        assert f"{prefix}{module}" in ours and f"{course}{module}" in ours, module
    assert set(ours[f"{prefix}course_summaries/"]) == set(ours[f"{prefix}course_totals/"]) == {"get", "post"}
    for ops in ours.values():
        for op in ops.values():
            assert op["tags"] == ["insights"] and {"insightsToken": []} in op["security"]
    location = schema["components"]["schemas"]["LocationSchema"]["properties"]
    assert set(location) == {"course_id", "date", "count", "created", "country"}


def test_behind_the_rollout_gate(client):
    from edx_toggles.toggles.testutils import override_waffle_flag

    from openedx_analytics.lms import rollout

    with override_waffle_flag(rollout.ENABLED, active=False):
        with pytest.raises(NotFoundError):
            client.courses(COURSE).enrollment()
        with pytest.raises(NotFoundError):
            client.modules(COURSE, PROBLEM).answer_distribution()
        with pytest.raises(NotFoundError):  # no course is open: nothing to summarize
            client.course_summaries().course_summaries()


@pytest.mark.parametrize("path", [
    "problems/%00/answer_distribution/", "problems/x|y/answer_distribution/", "videos/nothing/timeline/",
    "videos/%7C/timeline/", "videos/course-v1:Org+Api+2026%7C/timeline/", "videos/bad%20course%7Cv/timeline/",
    "problems/block-v1:Org+Api+2026+type@problem+block@p1%0A/grade_distribution/",
    f"courses/{COURSE}/recent_activity/?activity_type=%00", f"courses/{COURSE}/enrollment/?start_date=2026-99-01",
    f"courses/{COURSE}/enrollment/?start_date=2026-01-01T99", "course_summaries/?recent_date=yesterday",
    "course_summaries/?course_ids=,,,&fields=,&exclude=%00", "course_totals/?course_ids=%00",
    f"courses/{COURSE}/reports/../", f"courses/{COURSE}/activity/?format=xml",
])
def test_hostile_input_gets_a_clear_answer_never_a_server_error(path, key, history_loaded):
    response = client_for(None).get(f"{INSIGHTS}{path}", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code in (200, 400, 404), (path, response.status_code, response.content[:300])
