"""verify_analytics: silent and successful on correct aggregates, and names every tampered number."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import conf
from openedx_analytics.models import CourseGrades, EnrollmentDay, ProblemSummary, VideoSegment
from tests.support.commands import backfill
from tests.support.logs import ALPHA, BETA, GAMMA, SampleLog

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


def verify(*args: str) -> str:
    out = io.StringIO()
    try:
        call_command("verify_analytics", *args, stdout=out)
    except CommandError as exc:
        raise AssertionError(out.getvalue()) from exc
    return out.getvalue()


def verify_failing(*args: str) -> tuple[str, CommandError]:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify_analytics", *args, stdout=out)
    return out.getvalue(), caught.value


def test_backfilled_courses_verify_clean(tmp_path):
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    output = verify("--all", "--no-lms")
    for course in (ALPHA, BETA, GAMMA):
        assert f"{course}: OK" in output


def test_every_tampered_number_is_reported_with_exit_status_1(tmp_path):
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    using = conf.analytics_db()
    day = EnrollmentDay.objects.using(using).filter(course_id=ALPHA).order_by("date")[3]
    EnrollmentDay.objects.using(using).filter(pk=day.pk).update(count=day.count + 5)
    segment = VideoSegment.objects.using(using).filter(course_id=ALPHA, segment=0).first()
    VideoSegment.objects.using(using).filter(pk=segment.pk).update(num_users=999)
    ProblemSummary.objects.using(using).filter(course_id=BETA).update(correct_submissions=0)
    CourseGrades.objects.using(using).filter(course_id=BETA).delete()

    output, error = verify_failing("--course", ALPHA, "--course", BETA, "--no-lms")
    assert error.returncode == 1
    assert f"{ALPHA}: 2 difference(s)" in output
    assert f"enrollment {day.date}: stored ({day.count + 5}," in output
    assert f"video segment ('{segment.video_id}', 0): stored (999," in output
    assert "problem (" in output and "'correct_submissions'): stored 0, expected" in output
    assert "grades passing_users: stored None, expected 0" in output


def test_enrollment_is_compared_with_the_lms_table(lms_data):  # noqa: F811 - fixture
    backfill("--from-lms", "--course", "course-v1:Alpha+A1+2026")
    assert "OK" in verify("--course", "course-v1:Alpha+A1+2026")
    newcomer = lms.CourseEnrollment.objects.create(
        user=lms_data[5], course_id=CourseKey.from_string("course-v1:Alpha+A1+2026"), mode="verified"
    )
    assert newcomer.pk
    output, _error = verify_failing("--course", "course-v1:Alpha+A1+2026")
    assert "LMS enrollment total: stored 3, expected 4" in output
    assert "LMS enrollment verified: stored 1, expected 2" in output


def test_arguments():
    with pytest.raises(CommandError, match="--course"):
        call_command("verify_analytics")
    with pytest.raises(CommandError, match="not a course id"):
        call_command("verify_analytics", "--course", "nope")
