"""Live events and backfilled log lines go through one ingest routine, with the backfill's options.

The live task and ``backfill_analytics`` both call ``pipeline.ingest.ingest``; these tests
catch a backfill path that normalizes or stores on its own, and the options that differ:
scope, whole-course markers, dry run (whose duplicate check reads the analytics database
whatever the routers before ours say).
"""
from __future__ import annotations

import json
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings

from openedx_analytics import conf
from openedx_analytics.models import DirtyScope, EnrollmentFact, RejectionCount
from openedx_analytics.pipeline import ingest as ingest_module
from openedx_analytics.pipeline.ingest import DryRun, ingest
from openedx_analytics.worker.tasks import process_event_batch
from tests.support.commands import backfill
from tests.support.lms import lms_knows
from tests.support.logs import ALPHA, BETA, COURSES, SampleLog

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)


class AnswersDefaultFirst:
    """A router listed before ours sending every read and write to ``default`` (as the read-replica router does)."""

    def db_for_read(self, model, **hints):
        return "default"

    def db_for_write(self, model, **hints):
        return "default"


def rejection_counts(source: str) -> dict[str, int]:
    return dict(RejectionCount.objects.using(conf.analytics_db()).filter(source=source)
                .values_list("reason", "count"))


def test_backfill_batches_go_through_the_live_ingest_routine(tmp_path):
    log = SampleLog()
    path = tmp_path / "tracking.log"
    path.write_text("".join(json.dumps(event) + "\n" for event in log.events) + "not json\n")
    with mock.patch.object(ingest_module, "normalize", wraps=ingest_module.normalize) as normalize, \
            mock.patch.object(ingest_module, "write_facts", wraps=ingest_module.write_facts) as write_facts:
        backfill("--tracking-logs", str(path))
    assert normalize.call_count == len(log.events)
    assert write_facts.call_count >= 1
    assert all(call.kwargs.get("whole_courses") for call in write_facts.call_args_list)


def test_live_and_backfill_take_the_same_events_the_same_way(tmp_path):
    """The same events, hostile ones included, give the same facts and rejections by either path."""
    log = SampleLog()
    hostile = [
        {"event_type": "play_video", "time": "2026-01-06T10:00:00+00:00", "event": 17,
         "context": {"user_id": 3, "course_id": ALPHA}},
        {"event_type": "edx.course.enrollment.activated", "time": "yesterday", "context": {}, "event": {}},
        {"event_type": "some.unknown.event", "time": "2026-01-06T10:00:00+00:00", "context": {}, "event": {}},
    ]
    events = log.events + hostile
    process_event_batch(json.loads(json.dumps(events)), source="backfill")
    live_facts = set(EnrollmentFact.objects.using(conf.analytics_db()).values_list("fingerprint", flat=True))
    live_rejections = rejection_counts("backfill")
    EnrollmentFact.objects.using(conf.analytics_db()).all().delete()
    RejectionCount.objects.using(conf.analytics_db()).all().delete()
    path = tmp_path / "tracking.log"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    backfill("--tracking-logs", str(path))
    assert set(EnrollmentFact.objects.using(conf.analytics_db()).values_list("fingerprint", flat=True)) == live_facts
    assert rejection_counts("backfill") == live_rejections and sum(live_rejections.values()) == len(hostile)


def test_scope_and_whole_course_markers_are_options_of_the_one_routine():
    log = SampleLog()
    scope = mock.Mock()
    scope.admits.side_effect = lambda course_id, time: course_id == BETA
    scope.admits_rejected.return_value = False
    result = ingest(log.events, source="backfill", admit=scope, whole_courses=True)
    assert result.courses == {BETA} and result.out_of_scope > 0
    keys = set(DirtyScope.objects.using(conf.analytics_db()).values_list("course_id", "key"))
    assert {course for course, _key in keys} == {BETA}
    assert ("*" in {key for _course, key in keys})
    assert result.by_course[BETA] == result.accepted


def test_dry_run_counts_without_writing_and_reads_the_analytics_database():
    log = SampleLog()
    dry = DryRun()
    ingest(log.events, source="backfill", dry_run=dry)
    assert not EnrollmentFact.objects.using(conf.analytics_db()).exists()
    new_before = sum(dry.new_facts.values())
    assert new_before > 0
    ingest(log.events, source="backfill")  # stored for real
    again = DryRun()
    routers = ["tests.test_one_ingest.AnswersDefaultFirst", *settings.DATABASE_ROUTERS]
    with override_settings(DATABASE_ROUTERS=routers):
        ingest(log.events, source="backfill", dry_run=again)
    assert sum(again.records.values()) == sum(dry.records.values())
    assert sum(again.new_facts.values()) == 0


def test_dry_run_of_the_command_under_a_router_that_answers_first(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path))
    routers = ["tests.test_one_ingest.AnswersDefaultFirst", *settings.DATABASE_ROUTERS]
    with override_settings(DATABASE_ROUTERS=routers):
        output = backfill("--tracking-logs", str(path), "--dry-run")
    assert f"{ALPHA} enrollment:" in output and " / 0 new" in output, output
