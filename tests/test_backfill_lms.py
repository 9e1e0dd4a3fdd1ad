"""backfill_analytics --from-lms against the stub LMS tables (the queries openedx_analytics.lms runs in the LMS)."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import api

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

ALPHA = "course-v1:Alpha+A1+2026"
BETA = "course-v1:Beta+B1+2026"
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def enroll(user: User, course: str, mode: str, when: int) -> lms.CourseEnrollment:
    enrollment = lms.CourseEnrollment(user=user, course_id=CourseKey.from_string(course), mode=mode,
                                      created=day(when))
    enrollment._history_date = day(when)
    enrollment.save()
    return enrollment


@pytest.fixture
def lms_data():
    """Alpha: 4 learners (one upgrades, one leaves), grades, a certificate, a problem; Beta: 2 learners."""
    for course in (ALPHA, BETA):
        key = CourseKey.from_string(course)
        lms.CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    users = [User.objects.create(username=f"learner{i}") for i in range(6)]
    for i, user in enumerate(users[:4]):
        enroll(user, ALPHA, "audit", i)
    upgraded = lms.CourseEnrollment.objects.get(user=users[1], course_id=CourseKey.from_string(ALPHA))
    upgraded.mode, upgraded._history_date = "verified", day(5)
    upgraded.save()
    left = lms.CourseEnrollment.objects.get(user=users[2], course_id=CourseKey.from_string(ALPHA))
    left.is_active, left._history_date = False, day(6)
    left.save()
    for user in users[4:]:
        enroll(user, BETA, "honor", 2)
    alpha = CourseKey.from_string(ALPHA)
    lms.PersistentCourseGrade.objects.create(user_id=users[0].id, course_id=alpha, percent_grade=0.93,
                                             passed_timestamp=day(8), modified=day(8))
    lms.PersistentCourseGrade.objects.create(user_id=users[1].id, course_id=alpha, percent_grade=0.41,
                                             modified=day(8))
    lms.GeneratedCertificate.objects.create(user=users[0], course_id=alpha, status="downloadable", mode="audit",
                                            modified_date=day(9))
    part = "p1_2_1"
    for user, correct in ((users[0], True), (users[1], False)):
        lms.StudentModule.objects.create(
            module_type="problem", student=user, course_id=alpha,
            module_state_key=alpha.make_usage_key("problem", "p1"),
            state=json.dumps({"attempts": 2, "student_answers": {part: "choice_1" if correct else "choice_2"},
                              "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}}}),
            grade=1.0 if correct else 0.0, max_grade=1, modified=day(7))
    return users


def backfill(*args: str) -> str:
    out = io.StringIO()
    call_command("backfill_analytics", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_from_lms_rebuilds_enrollment_grades_certificates_and_problems(lms_data):
    output = backfill("--from-lms", "--course", ALPHA)
    assert "Rejected: 0" in output
    by_day = {row["date"]: row for row in api.get_enrollment(ALPHA)}
    assert by_day[day(3).date()]["count"] == 4
    assert by_day[day(6).date()]["count"] == 3
    assert by_day[day(6).date()]["modes"]["verified"]["count"] == 1
    assert by_day[day(6).date()]["unenrollments"] == 1
    grades = api.get_grades(ALPHA)
    assert grades["passing_users"] == 1 and grades["certificates"] == {"audit": 1}
    buckets = {b["bucket"]: b["count"] for b in grades["buckets"]}
    assert buckets["90-100"] == 1 and buckets["40-49"] == 1 and buckets["0-9"] == 1  # the third active learner
    (problem,) = api.get_problems(ALPHA)
    assert (problem["users_attempted"], problem["correct_submissions"]) == (2, 1)
    assert api.get_enrollment(BETA) == []  # out of scope


def test_unscoped_lms_backfill_needs_all(lms_data):
    with pytest.raises(CommandError, match="--all"):
        backfill("--from-lms")
    backfill("--from-lms", "--all")
    assert api.get_enrollment(BETA)[-1]["count"] == 2
    assert api.get_enrollment(ALPHA)[-1]["count"] == 3


def test_org_scope_and_rerun_is_a_no_op(lms_data):
    backfill("--from-lms", "--org", "Beta")
    assert api.get_enrollment(ALPHA) == [] and api.get_enrollment(BETA)[-1]["count"] == 2
    assert "already finished" in backfill("--from-lms", "--org", "Beta")


def test_without_lms_or_stub_the_error_is_clear(lms_data, settings):
    settings.OPENEDX_ANALYTICS_LMS_STAND_IN_APP = None
    with pytest.raises(CommandError, match="--from-lms: LMS data is not available"):
        backfill("--from-lms", "--course", ALPHA)


def test_from_lms_and_logs_together_split_across_celery_chunks(lms_data, tmp_path):
    log = tmp_path / "tracking.log"
    log.write_text(json.dumps({
        "event_type": "play_video", "time": day(4).isoformat(), "event_source": "browser",
        "context": {"course_id": ALPHA, "user_id": lms_data[0].id},
        "event": json.dumps({"id": "v1", "currentTime": 0, "duration": 30}),
    }) + "\n")
    backfill("--from-lms", "--tracking-logs", str(log), "--course", ALPHA, "--workers", "2")
    assert api.get_enrollment(ALPHA)[-1]["count"] == 3
    assert api.get_activity(ALPHA, granularity="day")[0]["played_video"] == 1
