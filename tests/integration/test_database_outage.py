"""Real workers, real databases, real outages: nothing is lost, and no task result piles up.

- The analytics tables go missing (as when a deploy skipped ``migrate --database
  analytics``) while a batch arrives: the worker keeps retrying it, and it is stored once
  the tables are back.
- MariaDB kills the worker's connection in the middle of a recompute: the recompute is
  retried and ends with the same numbers as an undisturbed run.
- A worker run leaves no ``celery-task-meta-*`` key in the result backend.
"""
from __future__ import annotations

import time

import pytest
import redis
from django.db import connections

from lms_host.celery import app as celery_app
from openedx_analytics import api, conf
from openedx_analytics.models import DirtyScope, EnrollmentDay, EnrollmentFact
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.worker.tasks import process_event_batch
from tests.support.lms import lms_knows
from tests.support.logs import GAMMA, SampleLog

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

OUTAGE_TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(GAMMA)


def gamma_batch(log: SampleLog) -> list[dict]:
    return [event for event in log.events if GAMMA in str(event)]


def served_right(log: SampleLog) -> bool:
    """GAMMA's daily enrollment served by the API equals the count made from the log."""
    expected = log.enrollment_counts(GAMMA)
    served = {str(row["date"]): row["count"] for row in api.get_enrollment(GAMMA)}
    return bool(expected) and {day: served.get(day.isoformat(), 0) for day in expected} == expected


def wait_for_worker_log(live, text: str, timeout: float = OUTAGE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while text not in live.pool.log_tail(lines=400):
        if time.monotonic() > deadline:
            pytest.fail(f"the worker never logged {text!r}\n{live.pool.log_tail()}")
        time.sleep(0.2)


def rename_table(model, old: str, new: str) -> None:
    with connections[conf.analytics_db()].schema_editor() as editor:
        editor.alter_db_table(model, old, new)


def test_missing_analytics_tables_keep_the_batch_until_they_exist(celery_worker):
    log = SampleLog()
    table = EnrollmentFact._meta.db_table
    rename_table(EnrollmentFact, table, f"{table}_away")
    try:
        process_event_batch.apply_async(args=[gamma_batch(log), "live"], queue=conf.celery_queue())
        wait_for_worker_log(celery_worker, "process_event_batch will retry")
    finally:
        rename_table(EnrollmentFact, f"{table}_away", table)  # the operator runs the migration

    celery_worker.wait_idle()

    assert served_right(log)
    assert not ScopeFailure.objects.using(conf.analytics_db()).exists()


def test_a_connection_killed_mid_recompute_is_retried_and_nothing_is_lost(celery_worker):
    alias = conf.analytics_db()
    if connections[alias].vendor != "mysql":
        pytest.skip("killing a server connection needs MariaDB (the MariaDB pass of run-tests.sh runs this)")
    log = SampleLog()
    locker = connections.create_connection(alias)
    try:
        with locker.cursor() as cursor:
            # The recompute blocks on the lock, inside its transaction, until its connection is killed.
            cursor.execute(f"LOCK TABLES {EnrollmentDay._meta.db_table} WRITE")
            process_event_batch.apply_async(args=[gamma_batch(log), "live"], queue=conf.celery_queue())
            victim = None
            deadline = time.monotonic() + OUTAGE_TIMEOUT
            while victim is None and time.monotonic() < deadline:
                cursor.execute(
                    "SELECT id FROM information_schema.PROCESSLIST WHERE db = %s AND id <> CONNECTION_ID() "
                    "AND state LIKE %s", [locker.settings_dict["NAME"], "%metadata lock%"])
                row = cursor.fetchone()
                victim = row[0] if row else None
                if victim is None:
                    time.sleep(0.1)
            assert victim is not None, f"the recompute never waited on the lock\n{celery_worker.pool.log_tail()}"
            cursor.execute(f"KILL {int(victim)}")
            cursor.execute("UNLOCK TABLES")
    finally:
        locker.close()

    celery_worker.wait_idle()

    wait_for_worker_log(celery_worker, "the analytics database is unavailable")
    assert served_right(log)
    assert not DirtyScope.objects.using(alias).exists()
    assert not ScopeFailure.objects.using(alias).exists()


def test_a_worker_run_leaves_no_task_results(celery_worker):
    backend = redis.Redis.from_url(celery_app.conf.result_backend, socket_timeout=5)
    stale = list(backend.scan_iter("celery-task-meta-*"))
    if stale:
        backend.delete(*stale)
    log = SampleLog()
    batch = gamma_batch(log)
    for start in range(0, len(batch), 40):
        process_event_batch.apply_async(args=[batch[start:start + 40], "live"], queue=conf.celery_queue())

    celery_worker.wait_idle()

    assert served_right(log)
    assert list(backend.scan_iter("celery-task-meta-*")) == []
