"""Retention: past the window, learner-level facts stop naming the learner; no number moves, now or later."""
from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.models import (
    ActivityFact,
    ActivityLearnerWeek,
    DirtyScope,
    EnrollmentFact,
    ProblemSubmissionFact,
    RejectedEventSample,
    VideoEventFact,
    VideoViewer,
)
from openedx_analytics.pipeline.kinds import LEARNER_TABLES
from openedx_analytics.pipeline.markers import ALL_KEYS, mark_dirty
from openedx_analytics.privacy import retention
from openedx_analytics.worker.drain import drain
from openedx_analytics.worker.tasks import PRUNED_CACHE_KEY, process_event_batch
from tests.support.lms import lms_knows
from tests.support.logs import ALPHA, COURSES, SampleLog, line
from tests.support.snapshots import snapshot

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)

SETTING = "OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS"
RETURNING = 1  # a learner of ALPHA who is active again today


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def user_ids() -> set[int]:
    using = conf.analytics_db()
    return {uid for model in LEARNER_TABLES for uid in model.objects.using(using).values_list("user_id", flat=True)}


def fingerprints(of: int | None = None) -> set[str]:
    using = conf.analytics_db()
    rows = {"user_id": of} if of is not None else {}
    return {fp for model in (EnrollmentFact, VideoEventFact, ProblemSubmissionFact)
            for fp in model.objects.using(using).filter(**rows).values_list("fingerprint", flat=True)}


def recompute_everything() -> None:
    """What a later backfill or a new event in every scope makes the engines do: rebuild from all facts."""
    kinds = [DirtyScope.VIDEO_USER, DirtyScope.ENROLLMENT, DirtyScope.ACTIVITY, DirtyScope.PROBLEM,
             DirtyScope.GRADES]
    keyed = (DirtyScope.ACTIVITY, DirtyScope.VIDEO_USER, DirtyScope.PROBLEM)
    mark_dirty({(kind, course, ALL_KEYS if kind in keyed else "") for kind in kinds for course in COURSES},
               using=conf.analytics_db())
    drain(courses=COURSES)


@pytest.fixture
def history(tmp_path, settings):
    """The sample log backfilled (months ago), and one learner active again today."""
    settings.OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS = None
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    run("backfill_analytics", "--tracking-logs", str(path), "--no-progress")
    now = timezone.now() - dt.timedelta(hours=1)
    process_event_batch.apply(args=[[line("edx.course.enrollment.mode_changed", now, RETURNING, ALPHA,
                                          {"course_id": ALPHA, "user_id": RETURNING, "mode": "verified"})], "live"])
    cache.delete(PRUNED_CACHE_KEY)
    return path


def test_pruning_cuts_stale_learners_from_their_facts_and_no_number_moves(history, settings):
    before, stale_ids, old_fingerprints = snapshot(), user_ids() - {RETURNING}, fingerprints()
    RejectedEventSample.objects.using(conf.analytics_db()).create(source="live", reason="r", payload='{"user_id": 9}')
    settings.OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS = 30

    output = run("prune_analytics")

    assert "Learner-course pairs de-identified" in output and "Rejected-event samples deleted: 0" in output
    remaining = user_ids()
    assert not remaining & stale_ids, "a stale learner is still named"
    assert RETURNING in remaining  # active in ALPHA today: kept as they are there
    assert all(uid < 0 for uid in remaining - {RETURNING})
    using = conf.analytics_db()
    # The returning learner is kept in ALPHA only; in GAMMA (no recent fact) they are cut off too.
    assert set(EnrollmentFact.objects.using(using).filter(user_id=RETURNING).values_list("course_id", flat=True)) \
        == {ALPHA}
    assert old_fingerprints & fingerprints() == fingerprints(of=RETURNING), \
        "a fingerprint (a hash over the user id) still links a row to its learner"
    # One random id per learner and course: distinct counts hold, courses do not link.
    for model in (ActivityFact, VideoViewer, ActivityLearnerWeek):
        assert model.objects.using(using).filter(user_id__lt=0).exists()
    assert snapshot() == before, "pruning changed a number"

    recompute_everything()
    assert snapshot() == before, "a recompute after pruning changed a number"

    # Backfilling the same log again skips what is past the window: nobody is counted twice.
    again = run("backfill_analytics", "--tracking-logs", str(history), "--no-progress", "--restart")
    assert "Lines read" in again
    assert snapshot() == before
    assert not user_ids() & stale_ids

    # A second pruning finds nothing new to do.
    assert retention.prune().learners == 0


def test_old_rejected_samples_are_deleted(settings, db):
    using = conf.analytics_db()
    old = RejectedEventSample.objects.using(using).create(source="live", reason="r", payload='{"user_id": 5}')
    RejectedEventSample.objects.using(using).filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(days=40))
    RejectedEventSample.objects.using(using).create(source="live", reason="r", payload='{"user_id": 6}')
    settings.OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS = 30
    assert retention.prune().samples_deleted == 1
    assert list(RejectedEventSample.objects.using(using).values_list("payload", flat=True)) == ['{"user_id": 6}']


def test_pruning_runs_by_itself_once_a_day_from_the_event_batches(history, settings):
    settings.OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS = 30
    stale_ids = user_ids() - {RETURNING}
    event = line("edx.course.enrollment.activated", timezone.now(), 500, ALPHA,
                 {"course_id": ALPHA, "user_id": 500, "mode": "audit"})
    with mock.patch.object(retention, "prune", wraps=retention.prune) as pruned:
        process_event_batch.apply(args=[[event], "live"])
        process_event_batch.apply(args=[[event], "live"])
    assert pruned.call_count == 1
    assert not user_ids() & stale_ids


def test_retention_off_by_default_and_the_command_says_so(settings, db):
    assert retention.retention_days() is None
    with pytest.raises(CommandError, match=SETTING):
        run("prune_analytics")
    settings.OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="positive"):
        run("prune_analytics")
