"""A recompute that lost a lock race is rerun at once, not backed off behind a task retry.

One classifier (``db.errors.classify``) tells the three kinds of database errors apart;
the live path (the drain and its tasks) and the backfill both act on its verdict. These
tests run without an outer transaction, as a worker does: a deadlock victim's
transaction is rolled back whole, and only outside any outer transaction may it be rerun.
"""
from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connections,
    transaction,
)

from openedx_analytics import conf
from openedx_analytics.db import errors, retry
from openedx_analytics.db.errors import Verdict, classify
from openedx_analytics.models import DirtyScope, ScopeLock
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.worker import drain, tasks
from tests.support.lms import lms_knows
from tests.support.logs import COURSES, GAMMA, SampleLog
from tests.support.scopes import course_events, enrollment_right, markers

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)

DEADLOCK = "Deadlock found when trying to get lock; try restarting transaction"


class PostgresDriverError(Exception):
    """What psycopg raises, as Django chains it (``__cause__``): the SQLSTATE on the driver's error."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def postgres(wrapper: type[DatabaseError], sqlstate: str) -> DatabaseError:
    error = wrapper(f"SQLSTATE {sqlstate}")
    error.__cause__ = PostgresDriverError(sqlstate)
    return error


@pytest.mark.parametrize("error, verdict", [
    (OperationalError(1213, DEADLOCK), Verdict.LOST_LOCK_RACE),
    (OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"), Verdict.LOST_LOCK_RACE),
    (OperationalError("database is locked"), Verdict.LOST_LOCK_RACE),
    (postgres(OperationalError, "40P01"), Verdict.LOST_LOCK_RACE),
    (postgres(OperationalError, "40001"), Verdict.LOST_LOCK_RACE),
    (OperationalError(2006, "MySQL server has gone away"), Verdict.UNAVAILABLE),
    (OperationalError(2013, "Lost connection to server during query"), Verdict.UNAVAILABLE),
    (OperationalError(2003, "Can't connect to server on '127.0.0.1' (111)"), Verdict.UNAVAILABLE),
    (InterfaceError(0, ""), Verdict.UNAVAILABLE),
    (ProgrammingError(1146, "Table 'x.openedx_analytics_enrollmentfact' doesn't exist"), Verdict.UNAVAILABLE),
    (OperationalError("no such table: openedx_analytics_enrollmentfact"), Verdict.UNAVAILABLE),
    (postgres(ProgrammingError, "42P01"), Verdict.UNAVAILABLE),
    (errors.AnalyticsDatabaseUnavailable("down"), Verdict.UNAVAILABLE),
    (DataError(1406, "Data too long for column 'key' at row 1"), Verdict.BROKEN),
    (IntegrityError(1062, "Duplicate entry"), Verdict.BROKEN),
    (ProgrammingError(1064, "You have an error in your SQL syntax"), Verdict.BROKEN),
    (ValueError("1213"), Verdict.BROKEN),
])
def test_each_database_error_gets_one_of_three_verdicts(error, verdict):
    assert classify(error) is verdict
    assert errors.lost_lock_race(error) is (verdict is Verdict.LOST_LOCK_RACE)
    assert errors.database_unavailable(error) is (verdict is Verdict.UNAVAILABLE)
    assert errors.retry_later(error) is (verdict is not Verdict.BROKEN)


@pytest.fixture
def deadlocks_once():
    """The enrollment engine is a deadlock victim the first time it runs; the times of its calls are kept."""
    real = drain.ENGINES[DirtyScope.ENROLLMENT]
    calls: list[float] = []

    def engine(course_id, keys, now, using):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError(1213, DEADLOCK)
        return real(course_id, keys, now, using)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.ENROLLMENT: engine}):
        yield calls


def test_a_deadlocked_unit_is_rerun_within_a_second_by_the_drain(deadlocks_once):
    log = SampleLog()
    ingest(course_events(log, GAMMA), source="live")

    report = drain.drain()

    assert len(deadlocks_once) == 2 and deadlocks_once[1] - deadlocks_once[0] < 1.0
    assert report.recomputed[DirtyScope.ENROLLMENT] and not report.failed and not report.quarantined
    assert markers() == [] and not ScopeFailure.objects.using(conf.analytics_db()).exists()
    assert enrollment_right(log, GAMMA)


def test_a_live_batch_whose_recompute_deadlocks_once_is_neither_postponed_nor_retried(deadlocks_once):
    log = SampleLog()
    batch = tasks.process_event_batch
    with mock.patch.object(tasks.recompute_dirty_scopes, "apply_async") as postponed, \
            mock.patch.object(batch, "retry", wraps=batch.retry) as retried:
        outcome = batch.delay(course_events(log, GAMMA), "live").get()
    assert not postponed.called and not retried.called
    assert outcome["recomputed"] > 0
    assert len(deadlocks_once) == 2 and deadlocks_once[1] - deadlocks_once[0] < 1.0
    assert markers() == [] and enrollment_right(log, GAMMA)


def test_the_recompute_task_reruns_a_deadlocked_unit_without_a_task_retry(deadlocks_once):
    log = SampleLog()
    ingest(course_events(log, GAMMA), source="live")
    task = tasks.recompute_dirty_scopes
    with mock.patch.object(task, "retry", wraps=task.retry) as retried:
        total = task.delay([GAMMA]).get()
    assert total > 0 and not retried.called
    assert len(deadlocks_once) == 2 and deadlocks_once[1] - deadlocks_once[0] < 1.0
    assert markers() == [] and enrollment_right(log, GAMMA)


def test_a_unit_that_keeps_losing_falls_to_the_task_retry(monkeypatch):
    """Bounded reruns; then the error reaches the task like an unavailable database: nothing is quarantined."""
    monkeypatch.setattr(retry, "FIRST_DELAY", 0.001)
    ingest(course_events(SampleLog(), GAMMA), source="live")
    enrollment_markers = set(markers(kind=DirtyScope.ENROLLMENT))
    calls = {"n": 0}

    def engine(course_id, keys, now, using):
        calls["n"] += 1
        raise OperationalError(1213, DEADLOCK)

    with mock.patch.dict(drain.ENGINES, {DirtyScope.ENROLLMENT: engine}), pytest.raises(OperationalError):
        drain.drain()
    assert calls["n"] == retry.ATTEMPTS
    assert enrollment_markers and set(markers(kind=DirtyScope.ENROLLMENT)) == enrollment_markers
    assert not ScopeFailure.objects.using(conf.analytics_db()).exists()

    def deadlocked_task():
        raise OperationalError(1213, DEADLOCK)

    with pytest.raises(errors.AnalyticsDatabaseUnavailable):
        tasks.unavailable_database_retries(deadlocked_task)()


def test_a_unit_inside_an_outer_transaction_is_not_rerun(deadlocks_once):
    """The outer transaction was rolled back with the victim: rerunning the unit alone would be wrong."""
    ingest(course_events(SampleLog(), GAMMA), source="live")
    with pytest.raises(OperationalError), transaction.atomic(using=conf.analytics_db()):
        drain.drain()
    assert len(deadlocks_once) == 1


@pytest.mark.skipif(connections["analytics"].vendor != "mysql",
                    reason="a deadlock between two connections needs MariaDB row locks; SQLite locks the whole file")
def test_a_real_deadlock_victim_is_rerun_and_the_figures_are_right():
    """Two connections lock two rows in opposite orders; InnoDB rolls back the lighter transaction, the unit's."""
    alias = conf.analytics_db()
    log = SampleLog()
    ingest(course_events(log, GAMMA), source="live")
    first = ScopeLock.objects.using(alias).create(kind="probe", course_id="deadlock-first")
    second = ScopeLock.objects.using(alias).create(kind="probe", course_id="deadlock-second")
    unit_holds_first = threading.Event()
    rival_holds_second = threading.Event()
    rival_errors: list[BaseException] = []
    real = drain.ENGINES[DirtyScope.ENROLLMENT]
    calls: list[tuple[float, BaseException | None]] = []

    def rival() -> None:
        try:
            with transaction.atomic(using=alias):
                # Many rows written make this transaction the heavier one: InnoDB picks the unit as the victim.
                ScopeLock.objects.using(alias).bulk_create(
                    ScopeLock(kind="probe", course_id=f"weight-{index}") for index in range(300))
                ScopeLock.objects.using(alias).select_for_update().get(pk=second.pk)
                rival_holds_second.set()
                unit_holds_first.wait(10)
                ScopeLock.objects.using(alias).select_for_update().get(pk=first.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            rival_errors.append(exc)
        finally:
            connections[alias].close()

    def engine(course_id, keys, now, using):
        if calls:
            calls.append((time.monotonic(), None))
            return real(course_id, keys, now, using)
        ScopeLock.objects.using(using).select_for_update().get(pk=first.pk)
        unit_holds_first.set()
        rival_holds_second.wait(10)
        time.sleep(0.2)  # the rival asks for the first row meanwhile
        try:
            ScopeLock.objects.using(using).select_for_update().get(pk=second.pk)
        except OperationalError as exc:
            calls.append((time.monotonic(), exc))
            raise
        calls.append((time.monotonic(), None))
        return real(course_id, keys, now, using)

    thread = threading.Thread(target=rival)
    thread.start()
    with mock.patch.dict(drain.ENGINES, {DirtyScope.ENROLLMENT: engine}):
        report = drain.drain(courses=[GAMMA])
    thread.join(30)

    assert not rival_errors, rival_errors
    (lost_at, deadlock), (rerun_at, _none) = calls
    assert isinstance(deadlock, OperationalError) and deadlock.args[0] == 1213
    assert rerun_at - lost_at < 1.0
    assert not report.failed and not report.quarantined
    assert markers() == [] and enrollment_right(log, GAMMA)
