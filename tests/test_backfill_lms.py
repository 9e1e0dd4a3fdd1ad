"""backfill_analytics --from-lms against the stub LMS tables (the queries openedx_analytics.lms runs in the LMS).

The tables hold the ``lms_data`` fixture's rows (``tests/conftest.py``).
"""
from __future__ import annotations

import json

import pytest
from django.core.management.base import CommandError

from openedx_analytics import api
from tests.support.commands import backfill
from tests.support.lms import ALPHA, BETA, day

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


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
    assert buckets["90-100"] == 1 and buckets["40-49"] == 1 and buckets["0-9"] == 0
    assert grades["not_graded"] == 1  # the third active learner has no grade yet: apart, not in 0-9
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
