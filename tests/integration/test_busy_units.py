"""A worker never waits behind a course another worker is recomputing: it leaves it to a follow-up."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from openedx_analytics import api, conf
from openedx_analytics.models import DirtyScope, ScopeLock
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.worker import tasks
from openedx_analytics.worker.drain import drain
from tests.support import doors
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE)


@pytest.fixture
def mariadb_only():
    if connection.vendor != "mysql":
        pytest.skip("skipping locked rows needs MariaDB/MySQL row locks; SQLite locks whole files")


def hold_lock(kind: str, course_id: str, locked: threading.Event, release: threading.Event) -> None:
    """Hold a unit's lock in another connection, as a worker mid-recompute does."""
    using = conf.analytics_db()
    try:
        with transaction.atomic(using=using):
            lock, _ = ScopeLock.objects.using(using).get_or_create(kind=kind, course_id=course_id, key="")
            ScopeLock.objects.using(using).select_for_update().filter(pk=lock.pk).first()
            locked.set()
            release.wait(timeout=30)
    finally:
        connections.close_all()


def enrollment(user_id: int) -> dict:
    return {"name": "edx.course.enrollment.activated", "timestamp": doors.now().isoformat(),
            "data": {"course_id": doors.COURSE, "user_id": user_id, "mode": "audit"}, "context": {}}


def test_a_busy_course_is_skipped_then_drained_by_the_follow_up(mariadb_only):
    tasks.process_event_batch.apply(args=[[enrollment(1)], "live"])
    using = conf.analytics_db()
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(DirtyScope.ENROLLMENT, doors.COURSE, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        ingest([enrollment(2)], source="live")
        report = drain(courses=[doors.COURSE], wait=False)  # returns at once instead of waiting
        assert report.busy == {doors.COURSE}
        assert DirtyScope.objects.using(using).filter(kind=DirtyScope.ENROLLMENT).exists()
        assert report.recomputed[DirtyScope.GRADES] == 1  # the rest of the course went ahead
        assert api.get_enrollment(doors.COURSE)[-1]["count"] == 1
    finally:
        release.set()
        holder.join(timeout=30)
    tasks.follow_up(report.busy)  # Celery is eager here: the follow-up waits for the lock, then drains
    assert not DirtyScope.objects.using(using).exists()
    assert api.get_enrollment(doors.COURSE)[-1]["count"] == 2


def test_one_follow_up_is_pending_per_busy_course(settings):
    from types import SimpleNamespace
    from unittest import mock

    scheduled = []
    not_eager = SimpleNamespace(conf=SimpleNamespace(task_always_eager=False))
    with mock.patch.object(tasks, "current_app", not_eager), mock.patch.object(
        tasks.recompute_dirty_scopes, "apply_async", side_effect=lambda **kw: scheduled.append(kw)
    ):
        tasks.follow_up({doors.COURSE})
        tasks.follow_up({doors.COURSE})  # already pending: not again
        assert [kw["args"] for kw in scheduled] == [[[doors.COURSE], True]]
        assert scheduled[0]["countdown"] == settings.OPENEDX_ANALYTICS_BUSY_RETRY_SECONDS
        tasks.recompute_dirty_scopes.run([doors.COURSE], True)  # the follow-up starts: the mark is cleared
        tasks.follow_up({doors.COURSE})
        assert len(scheduled) == 2
