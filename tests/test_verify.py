"""verify_analytics: silent and successful on correct aggregates, and names every tampered number."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import conf
from openedx_analytics.metrics import ENGINES, SITE_ENGINES
from openedx_analytics.models import (
    ActivityLearnerWeek,
    CourseGrades,
    EnrollmentDay,
    GradeLearner,
    ProblemLearner,
    ProblemSummary,
    VideoSegment,
    VideoViewer,
    aggregates,
)
from tests.support.commands import backfill
from tests.support.lms import lms_knows
from tests.support.logs import ALPHA, BETA, COURSES, GAMMA, SampleLog

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)


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


def test_a_tampered_grade_or_activity_learner_row_is_named(tmp_path):
    """The per-learner rows the live recomputes subtract from are verified too: one altered by hand is
    named with its table and key, though every aggregate is right."""
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    using = conf.analytics_db()
    learner = GradeLearner.objects.using(using).filter(course_id=BETA).order_by("user_id").first()
    GradeLearner.objects.using(using).filter(pk=learner.pk).update(passing=not learner.passing)
    week = ActivityLearnerWeek.objects.using(using).filter(course_id=ALPHA).order_by("week", "user_id", "kind")[0]
    tampered_days = 127 if week.days != 127 else 1
    ActivityLearnerWeek.objects.using(using).filter(pk=week.pk).update(days=tampered_days)

    output, error = verify_failing("--course", ALPHA, "--course", BETA, "--no-lms")
    assert error.returncode == 1
    assert f"{ALPHA}: 1 difference(s)" in output and f"{BETA}: 1 difference(s)" in output
    assert (f"grade learner {learner.user_id}: stored {(not learner.passing, learner.bucket, learner.certificate)!r}, "
            f"expected {(learner.passing, learner.bucket, learner.certificate)!r}") in output
    assert (f"activity learner week {(week.week, week.user_id, week.kind)}: stored {tampered_days}, "
            f"expected {week.days}") in output


def test_a_tampered_or_missing_video_viewer_or_problem_learner_row_is_named(tmp_path):
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    using = conf.analytics_db()
    viewer = VideoViewer.objects.using(using).filter(course_id=ALPHA).order_by("video_id", "user_id")[0]
    VideoViewer.objects.using(using).filter(pk=viewer.pk).update(viewings=viewer.viewings + 3)
    learners = ProblemLearner.objects.using(using).filter(course_id=BETA).order_by("problem_id", "user_id")
    changed, missing = learners[0], learners[1]
    ProblemLearner.objects.using(using).filter(pk=changed.pk).update(attempts=changed.attempts + 5)
    ProblemLearner.objects.using(using).filter(pk=missing.pk).delete()

    output, error = verify_failing("--course", ALPHA, "--course", BETA, "--no-lms")
    assert error.returncode == 1
    assert f"{ALPHA}: 1 difference(s)" in output and f"{BETA}: 2 difference(s)" in output
    assert (f"video viewer {(viewer.video_id, viewer.user_id)}: stored ({viewer.viewings + 3}, "
            f"{viewer.max_duration!r}, {viewer.segments!r}), expected ({viewer.viewings}, ") in output
    assert (f"problem learner {(changed.problem_id, changed.user_id)}: stored ({changed.submissions}, "
            f"{changed.attempts + 5}, ") in output
    assert f"expected ({changed.submissions}, {changed.attempts}, " in output
    assert f"problem learner {(missing.problem_id, missing.user_id)}: stored None, expected ({missing.submissions}, " \
        in output


def test_every_table_the_engines_write_is_verified():
    """Each engine names the tables it owns; together they are every aggregate table and every per-learner row."""
    aggregate_tables = {model for model in vars(aggregates).values()
                        if isinstance(model, type) and issubclass(model, aggregates.models.Model)
                        and model.__module__ == aggregates.__name__ and not model._meta.abstract}
    owned = [table.model for engine in (*ENGINES, *SITE_ENGINES) for table in engine.TABLES]
    assert set(owned) == aggregate_tables | {GradeLearner, ProblemLearner, VideoViewer, ActivityLearnerWeek}
    labels = [table.label for engine in (*ENGINES, *SITE_ENGINES) for table in engine.TABLES]
    assert len(labels) == len(set(labels))


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
