"""Ids that differ only in case name different courses and blocks, on SQLite and on MariaDB alike.

The LMS compares roles case-sensitively, while MariaDB's default collations ignore case. An
org-wide role on ``org`` asking for ``course-v1:org+Api+2026`` must not read the figures of
``course-v1:Org+Api+2026``, neither through a case-insensitive course lookup nor through a
case-insensitive read of our tables; and ids differing only in case are stored apart.
"""
from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseAccessRole, CourseOverview
from openedx_analytics import access, api, conf
from openedx_analytics.lms import courses as lms_courses
from openedx_analytics.models import DirtyScope, EnrollmentDay, ProblemSubmissionFact, VideoEventFact, VideoSummary
from openedx_analytics.worker import tasks
from tests.support.api import BASE, COURSE, SECRETS, at, client_for, endpoints, tracking_event, video_event
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

#: ``COURSE`` with its org in lower case: a course the LMS does not have.
VARIANT = COURSE.replace("course-v1:Org+", "course-v1:org+")
#: The usage key of a video of ``COURSE`` without its block name (the pipeline stores video ids so).
VIDEO = "block-v1:Org+Api+2026+type@video+block@"


@pytest.fixture
def org_lower(people):
    """A user with an org-wide staff role on ``org`` (lower case): no role in any ``Org`` course."""
    user = get_user_model().objects.create_user("org_lower", "lower@example.com")
    CourseAccessRole.objects.create(user=user, org="org", course_id=CourseKeyField.Empty, role="staff")
    return user


def _send(events: list[dict], rejected: dict[str, int] | None = None) -> None:
    result = tasks.process_event_batch.apply(args=[events, "live"]).get()
    assert result["rejected"] == (rejected or {}), result


def test_a_case_variant_of_a_course_is_no_course(people, org_lower, history_loaded, analytics_on):
    assert VARIANT != COURSE and VARIANT.lower() == COURSE.lower()
    assert lms_courses.course_exists(COURSE) and not lms_courses.course_exists(VARIANT)
    with pytest.raises(access.Refused) as refused:
        access.course_for(org_lower, VARIANT)
    assert refused.value.status == 404
    assert access.visible(org_lower, VARIANT) is None
    # The order of the checks stays: without a role the answer is 403, course or not.
    with pytest.raises(access.Refused) as no_role:
        access.course_for(people["learner"], VARIANT)
    assert no_role.value.status == 403
    # Global staff may read any course, but this one does not exist.
    with pytest.raises(access.Refused) as unknown:
        access.course_for(people["global_staff"], VARIANT)
    assert unknown.value.status == 404
    assert access.course_for(people["course_staff"], COURSE) == COURSE


def test_an_org_wide_role_in_another_case_reads_nothing_through_the_api_or_the_page(
        people, org_lower, history_loaded, analytics_on):
    api_client = client_for(org_lower)
    for name, url in endpoints().items():
        if name == "courses":
            continue
        response = api_client.get(url.replace(COURSE, VARIANT))
        assert response.status_code == 404, (name, response.status_code, response.content[:300])
        assert not any(secret.encode() in response.content for secret in SECRETS)
    listed = api_client.get(f"{BASE}courses/").json()["results"]
    assert listed == []
    page = client(org_lower).get(page_url(VARIANT))
    assert page.status_code == 404
    assert b"oa-dashboard" not in page.content
    # The same reads as the course's own staff still answer.
    assert client_for(people["course_staff"]).get(endpoints()["enrollment"]).status_code == 200


def test_a_case_variant_course_never_touches_the_real_courses_figures(courses, analytics_on):
    """Events naming ``course-v1:org+...`` (a course the LMS does not have: it has ``Org``) are refused as
    ``unknown_course``; the ``Org`` course's figures are untouched, and nothing is stored under the variant."""
    def enroll(course: str, user_id: int) -> dict:
        return tracking_event("edx.course.enrollment.activated", at("2026-01-05"),
                              {"course_id": course, "user_id": user_id, "mode": "audit"}, user_id, course=course)

    _send([enroll(COURSE, 1), enroll(COURSE, 2), enroll(VARIANT, 3)], rejected={"unknown_course": 1})
    first_day = EnrollmentDay.objects.using(conf.analytics_db()).filter(date=dt.date(2026, 1, 5))
    assert sorted(first_day.values_list("course_id", "count")) == [(COURSE, 2)]
    assert api.get_enrollment(COURSE)[0]["count"] == 2
    assert api.get_enrollment(VARIANT) == []


def test_video_ids_differing_in_case_are_two_videos(courses, analytics_on):
    events = []
    for user_id, video_id in ((1, "Vid"), (2, "vid"), (3, "vid")):
        events += [video_event("play_video", "2026-01-05", "12:00:00", user_id, id=video_id, currentTime=0),
                   video_event("pause_video", "2026-01-05", "12:00:20", user_id, id=video_id, currentTime=20)]
    _send(events)
    rows = VideoSummary.objects.using(conf.analytics_db()).filter(course_id=COURSE)
    assert sorted(rows.values_list("video_id", "users_at_start")) == [(f"{VIDEO}Vid", 1), (f"{VIDEO}vid", 2)]
    assert api.get_video(COURSE, f"{VIDEO}Vid")["users_at_start"] == 1
    assert api.get_video(COURSE, f"{VIDEO}vid")["users_at_start"] == 2
    assert api.get_video(COURSE, f"{VIDEO}VID") is None


def test_the_lms_course_lookup_is_exact(courses):
    """The LMS's own course id, byte for byte: a lookup its database matches in another case is no course."""
    CourseOverview.objects.create(id=CourseKey.from_string("course-v1:Case+Only+2026"), org="Case")
    assert lms_courses.course_exists("course-v1:Case+Only+2026")
    for variant in ("course-v1:case+Only+2026", "course-v1:Case+only+2026", "course-v1:CASE+ONLY+2026"):
        assert not lms_courses.course_exists(variant)


def test_the_migration_marks_courses_whose_ids_a_case_insensitive_database_merged(courses):
    """Migration 0008 marks for a whole rebuild the courses whose ids, or block ids, differ only in case."""
    migration = importlib.import_module("openedx_analytics.migrations.0008_case_sensitive_ids")
    using, now = conf.analytics_db(), dt.datetime.now(dt.timezone.utc)
    video = f"{VIDEO}{{}}"
    for n, (course, video_id) in enumerate([(COURSE, "Vid"), (COURSE, "vid"), ("course-v1:Org+B+1", "x"),
                                            ("course-v1:org+B+1", "x"), ("course-v1:Org+C+1", "x")]):
        VideoEventFact.objects.using(using).create(course_id=course, user_id=n + 1, time=now, fingerprint=f"f{n}",
                                                   video_id=video.format(video_id), action="play")
    ProblemSubmissionFact.objects.using(using).create(course_id="course-v1:Org+C+1", user_id=1, time=now,
                                                      fingerprint="p", problem_id="P", correct=True)
    assert migration._courses_with_merged_ids(apps, using) == {"course-v1:Org+B+1", "course-v1:org+B+1"}
    assert migration._courses_with_merged_blocks(apps, using) == {"video_user": {COURSE}, "problem": set()}
    # The step reads only the editor's connection (SQLite's schema editor cannot open inside a test's transaction).
    migration.rebuild_courses_with_merged_ids(apps, SimpleNamespace(connection=connections[using]))
    marked = set(DirtyScope.objects.using(using).values_list("kind", "course_id", "key"))
    if connections[using].vendor != "mysql":  # nothing was ever merged there
        assert marked == set()
        return
    expected = {(kind, course, "*") for kind in migration.ALL_KINDS
                for course in ("course-v1:Org+B+1", "course-v1:org+B+1")}
    assert marked == expected | {("video_user", COURSE, "*")}
