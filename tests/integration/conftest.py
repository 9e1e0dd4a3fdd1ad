"""Fixtures of the live tests: real Celery worker processes on Redis, pointed at the test databases.

Tests that take the ``celery_worker`` or ``celery_workers`` fixture hand their events to one
or more real ``celery -A lms_host worker`` processes (``tests.support.workers``) through the
Redis broker the settings name (``OA_BROKER_URL``); those workers open the very databases
pytest-django created, so such tests need
``pytest.mark.django_db(transaction=True, databases=["default", "analytics"])``.

Without a reachable Redis these tests are skipped with the reason, except under
``CI=true``, where they fail: CI must never pass by skipping the live path.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery.signals import after_task_publish

from lms_host.celery import app as celery_app
from tests.support.environment import closed_port, redis_unreachable, skip_or_fail
from tests.support.workers import EAGER, IDLE_TIMEOUT, LiveWorkers, WorkerPool, broker_at


@pytest.fixture(scope="session")
def _worker_pool(django_db_setup: None) -> Iterator[WorkerPool]:
    """The session's worker processes (started lazily by the tests that ask for them)."""
    pool = WorkerPool(celery_app.conf.broker_url)
    yield pool
    pool.stop_all()


@pytest.fixture
def celery_workers(request: pytest.FixtureRequest, _worker_pool: WorkerPool) -> Iterator[Callable[[int], LiveWorkers]]:
    """Factory: ``celery_workers(n)`` runs ``n`` real workers and sends this test's tasks to them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        pytest.fail("live-worker tests need django_db(transaction=True, ...): workers only see committed data")
    reason = redis_unreachable(celery_app.conf.broker_url)
    if reason:
        skip_or_fail(f"Redis broker {celery_app.conf.broker_url} unreachable ({reason}); live-worker test skipped")
    live = LiveWorkers(_worker_pool)
    eager = celery_app.conf.task_always_eager
    celery_app.control.purge()  # nothing left over from an earlier, interrupted test
    after_task_publish.connect(live.record_published, weak=False)

    def start(count: int = 1) -> LiveWorkers:
        _worker_pool.resize(count)
        setattr(celery_app.conf, EAGER, False)
        return live

    try:
        yield start
        if not celery_app.conf.task_always_eager:
            from openedx_analytics.live import dispatch

            dispatch.wait_for_publisher(IDLE_TIMEOUT)  # events the test handed over go to its workers
            if live.task_ids:
                live.wait_idle(expect_tasks=False)  # nothing may still write when the databases are flushed
    finally:
        after_task_publish.disconnect(live.record_published)
        setattr(celery_app.conf, EAGER, eager)


@pytest.fixture
def celery_worker(celery_workers: Callable[[int], LiveWorkers]) -> LiveWorkers:
    """One real worker process (concurrency 1) receiving this test's tasks through Redis."""
    return celery_workers(1)


@pytest.fixture
def dead_broker() -> Iterator[str]:
    """Send this test's tasks to a broker URL where nothing listens (eager mode off); yield that URL."""
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0") as url:
        yield url
