"""Failures while recomputing: an unavailable database is retried by the tasks; a broken scope is quarantined.

Tasks run eagerly here (the same code as in a worker); the real-worker and real-outage
versions are in ``tests/integration/test_database_outage.py``.
"""
from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from openedx_analytics import api, conf
from openedx_analytics.db.errors import database_unavailable
from openedx_analytics.models import DirtyScope, EnrollmentFact
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.pipeline.markers import mark_dirty
from openedx_analytics.worker import drain, tasks
from tests.support.lms import lms_knows
from tests.support.logs import ALPHA, BETA, COURSES, GAMMA, SampleLog
from tests.support.scopes import course_events, enrollment_right, markers

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)


def failures(**filters):
    return ScopeFailure.objects.using(conf.analytics_db()).filter(**filters)


@pytest.fixture
def eager_retries():
    """Eager tasks retry in-process as a worker would (instead of raising ``Retry`` to the caller)."""
    from lms_host.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.CELERY_TASK_EAGER_PROPAGATES = False
    yield
    app.conf.CELERY_TASK_EAGER_PROPAGATES = saved


@pytest.fixture
def broken_problems():
    """The problem engine fails for ALPHA (as a poisoned value or a bug would), works elsewhere."""
    real = drain.ENGINES[DirtyScope.PROBLEM]

    def engine(course_id, keys, now, using):
        if course_id == ALPHA:
            raise ValueError("a poisoned problem")
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.PROBLEM: engine}):
        yield


def test_a_failing_scope_is_retried_then_quarantined_and_spares_its_course(settings, broken_problems, caplog):
    settings.OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS = 2
    log = SampleLog()
    ingest(log.events, source="live")

    first = drain.drain()

    assert first.failed and {course for _kind, course, _key in first.failed} == {ALPHA}
    assert not first.quarantined
    # the rest of ALPHA, and the other courses, are recomputed; only the failing scopes stay dirty
    assert set(markers()) == set(first.failed)
    assert enrollment_right(log, ALPHA)
    assert api.get_problems(BETA)
    assert set(failures().values_list("attempts", flat=True)) == {1}
    assert not failures(quarantined_at__isnull=False).exists()

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="openedx_analytics.worker.drain"):
        second = drain.drain()

    assert sorted(second.quarantined) == sorted(first.failed) and not second.failed
    assert markers() == []  # quarantined: it no longer blocks or costs its course
    quarantined = failures(quarantined_at__isnull=False)
    assert quarantined.count() == len(first.failed)
    assert all("a poisoned problem" in failure.error for failure in quarantined)
    assert any("quarantined" in record.getMessage() and ALPHA in record.getMessage() for record in caplog.records)
    assert drain.drain().total == 0  # nothing left to try


def test_operators_see_quarantined_scopes_in_the_admin_and_retry_them(settings, broken_problems, client):
    settings.OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS = 1
    log = SampleLog()
    ingest(log.events, source="live")
    report = drain.drain()
    assert report.quarantined and not report.failed
    admin_user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw")
    client.force_login(admin_user)

    listing = client.get(reverse("admin:openedx_analytics_scopefailure_changelist"))
    assert listing.status_code == 200
    assert ALPHA in listing.content.decode() and "a poisoned problem" in listing.content.decode()

    ids = list(failures().values_list("pk", flat=True))
    with mock.patch.object(tasks.recompute_dirty_scopes, "apply_async") as send:
        response = client.post(reverse("admin:openedx_analytics_scopefailure_changelist"),
                               {"action": "retry_scopes", "_selected_action": ids})
    assert response.status_code == 302
    send.assert_called_once_with(args=[[ALPHA]], queue=conf.celery_queue())
    assert not failures().exists()
    assert set(markers()) == set(report.quarantined)


def test_a_retried_scope_recomputes_once_fixed(settings):
    settings.OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS = 1
    ingest(SampleLog().events, source="live")
    real = drain.ENGINES[DirtyScope.PROBLEM]
    broken = {"on": True}

    def engine(course_id, keys, now, using):
        if broken["on"] and course_id == ALPHA:
            raise ValueError("a poisoned problem")
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.PROBLEM: engine}):
        assert drain.drain().quarantined
        assert not api.get_problems(ALPHA)
        broken["on"] = False  # the operator fixed the cause
        assert drain.retry_failed_scopes(list(failures().values_list("pk", flat=True))) == [ALPHA]
        drain.drain()
    assert api.get_problems(ALPHA) and markers() == [] and not failures().exists()


def test_a_success_forgets_earlier_failed_attempts(settings):
    settings.OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS = 3
    ingest(SampleLog().events, source="live")
    real = drain.ENGINES[DirtyScope.PROBLEM]
    fail = {"on": True}

    def flaky(course_id, keys, now, using):
        if fail["on"] and course_id == ALPHA:
            raise ValueError("once")
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.PROBLEM: flaky}):
        assert drain.drain().failed
        assert failures().exists()
        fail["on"] = False
        report = drain.drain()
    assert not report.failed and not failures().exists() and markers() == []
    assert api.get_problems(ALPHA)


@pytest.fixture
def database_drops(request):
    """The enrollment engine meets a lost connection on its first ``request.param`` calls."""
    real = drain.ENGINES[DirtyScope.ENROLLMENT]
    calls = {"n": 0}

    def engine(course_id, keys, now, using):
        calls["n"] += 1
        if calls["n"] <= request.param:
            raise OperationalError(2013, "Lost connection to server during query")
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.ENROLLMENT: engine}):
        yield calls


@pytest.mark.parametrize("database_drops", [1], indirect=True)
def test_an_unavailable_database_is_not_swallowed_by_the_drain(database_drops):
    """It must reach the task's retry policy: no scope is marked failed, every marker stays."""
    ingest(SampleLog().events, source="live")
    before = set(markers())
    with pytest.raises(OperationalError):
        drain.drain()
    assert not failures().exists()
    enrollment_markers = {m for m in before if m[0] == DirtyScope.ENROLLMENT}
    assert enrollment_markers and enrollment_markers <= set(markers())


@pytest.mark.parametrize("database_drops", [3], indirect=True)
def test_tasks_retry_an_unavailable_database_and_lose_nothing(database_drops, eager_retries):
    """The batch's recompute meets the outage, is handed to the recompute task, whose retries get through."""
    log = SampleLog()
    events = course_events(log, GAMMA)
    tasks.process_event_batch.delay(events, "live")
    assert database_drops["n"] == 4  # failed three times, then recomputed
    assert markers() == [] and not failures().exists()
    assert enrollment_right(log, GAMMA)


def test_missing_analytics_tables_keep_the_batch_for_a_retry(settings, caplog, eager_retries):
    """A configured alias without its tables: each attempt is retried, none is counted as stored or rejected."""
    settings.OPENEDX_ANALYTICS_DATABASE = "default"  # an alias where ``migrate --database`` never ran
    events = course_events(SampleLog(), GAMMA)
    with caplog.at_level(logging.WARNING, logger="openedx_analytics.worker.tasks"), \
            mock.patch.object(tasks.process_event_batch, "max_retries", 2):
        result = tasks.process_event_batch.delay(events, "live")
    assert result.failed() and isinstance(result.result, tasks.AnalyticsDatabaseUnavailable)
    retries = [r for r in caplog.records if "unavailable" in r.getMessage() and "will retry" in r.getMessage()]
    assert len(retries) == 3  # the first run and its two retries
    lost = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == tasks.log.name]
    assert len(lost) == 1 and "backfill_analytics" in lost[0] and f"--course {GAMMA}" in lost[0]
    settings.OPENEDX_ANALYTICS_DATABASE = "analytics"
    assert not EnrollmentFact.objects.using("analytics").exists()


def test_database_errors_are_told_apart():
    from django.db import DataError, IntegrityError, ProgrammingError

    assert database_unavailable(OperationalError(2006, "MySQL server has gone away"))
    assert database_unavailable(ProgrammingError(1146, "Table 'x.openedx_analytics_enrollmentfact' doesn't exist"))
    assert database_unavailable(OperationalError("no such table: openedx_analytics_enrollmentfact"))
    assert not database_unavailable(DataError(1406, "Data too long for column 'key' at row 1"))
    assert not database_unavailable(IntegrityError(1062, "Duplicate entry"))
    assert not database_unavailable(ProgrammingError(1064, "You have an error in your SQL syntax"))
    assert not database_unavailable(ValueError("year 10000 is out of range"))


def test_each_task_run_also_recomputes_old_dirty_scopes():
    """What a crash or an outage left dirty is picked up by the next task, whatever course it is for."""
    log = SampleLog()
    ingest(course_events(log, ALPHA), source="live")  # stored, never recomputed (the worker died)
    old = timezone.now() - dt.timedelta(seconds=2 * int(conf.get("OPENEDX_ANALYTICS_SWEEP_SECONDS")))
    DirtyScope.objects.using(conf.analytics_db()).update(created=old)
    cache.delete(tasks._SWEEP_KEY)

    tasks.process_event_batch.delay(course_events(log, GAMMA), "live")

    assert markers() == []
    assert enrollment_right(log, ALPHA)


def test_the_sweep_runs_at_most_once_per_interval():
    log = SampleLog()
    cache.delete(tasks._SWEEP_KEY)
    tasks.process_event_batch.delay(course_events(log, GAMMA), "live")  # sweeps (nothing old) and sets the mark
    ingest(course_events(log, ALPHA), source="live")
    DirtyScope.objects.using(conf.analytics_db()).update(created=timezone.now() - dt.timedelta(days=1))
    tasks.process_event_batch.delay(course_events(log, GAMMA), "live")
    assert {course for _kind, course, _key in markers()} == {ALPHA}  # left for the next interval
    cache.delete(tasks._SWEEP_KEY)
    tasks.process_event_batch.delay(course_events(log, GAMMA), "live")
    assert markers() == []


def test_a_worker_schedules_the_next_attempt_of_a_failed_scope_with_backoff(broken_problems):
    from lms_host.celery import app

    ingest(SampleLog().events, source="live")
    report = drain.drain()
    assert report.failed
    saved = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with mock.patch.object(tasks.recompute_dirty_scopes, "apply_async") as send:
            tasks.after_drain(report)
            send.assert_called_once_with(args=[[ALPHA]], countdown=tasks.FAILED_SCOPE_RETRY_SECONDS,
                                         queue=conf.celery_queue())
            send.reset_mock()
            tasks.after_drain(drain.drain())  # second attempt failed too: four times longer
            assert send.call_args.kwargs["countdown"] == 4 * tasks.FAILED_SCOPE_RETRY_SECONDS
    finally:
        app.conf.CELERY_TASK_ALWAYS_EAGER = saved


def test_a_quarantined_scope_that_new_data_recomputes_leaves_the_list(settings):
    settings.OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS = 1
    ingest(SampleLog().events, source="live")
    real = drain.ENGINES[DirtyScope.PROBLEM]
    broken = {"on": True}

    def engine(course_id, keys, now, using):
        if broken["on"] and course_id == ALPHA:
            raise ValueError("a poisoned problem")
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.PROBLEM: engine}):
        quarantined = drain.drain().quarantined
        assert quarantined and failures().count() == len(quarantined)
        broken["on"] = False
        mark_dirty(quarantined)  # new events for the same problems arrive
        drain.drain()
    assert not failures().exists()


def test_a_scope_whose_database_errors_outlast_the_retries_is_quarantined(eager_retries, caplog):
    """The last retry contains a scope that still fails on the database; the rest of the course is recomputed."""
    log = SampleLog()
    ingest(course_events(log, ALPHA), source="live")

    def engine(course_id, keys, now, using):
        raise OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction")

    with mock.patch.dict(drain.ENGINES, {DirtyScope.PROBLEM: engine}), \
            mock.patch.object(tasks.recompute_dirty_scopes, "max_retries", 1):
        result = tasks.recompute_dirty_scopes.delay([ALPHA])
    assert result.successful()
    quarantined = failures(quarantined_at__isnull=False)
    assert quarantined.exists() and set(quarantined.values_list("kind", flat=True)) == {DirtyScope.PROBLEM}
    assert all("Lock wait timeout" in failure.error for failure in quarantined)
    assert markers() == []
    assert enrollment_right(log, ALPHA)


@pytest.mark.parametrize("database_drops", [1], indirect=True)
def test_a_stored_batch_whose_recompute_cannot_be_scheduled_is_left_to_the_sweep(database_drops, caplog):
    log = SampleLog()
    with mock.patch.object(tasks.recompute_dirty_scopes, "apply_async", side_effect=OSError("broker down")), \
            caplog.at_level(logging.WARNING, logger=tasks.log.name):
        result = tasks.process_event_batch.delay(course_events(log, GAMMA), "live")
    assert result.successful() and result.result["accepted"] > 0
    assert "the sweep will" in caplog.text and "could not be stored" not in caplog.text
    assert EnrollmentFact.objects.using(conf.analytics_db()).exists()
    assert {course for _kind, course, _key in markers()} == {GAMMA}  # kept for the sweep
