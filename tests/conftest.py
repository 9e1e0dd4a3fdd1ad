"""Shared fixtures: real Celery worker processes on Redis, pointed at the test databases.

Most tests run Celery eagerly (in-process). Tests that take the ``celery_worker`` or
``celery_workers`` fixture instead hand their events to one or more real
``celery -A lms_host worker`` processes through the Redis broker the settings name
(``OA_BROKER_URL``); those workers open the very databases pytest-django created
(``OA_USE_TEST_DB_NAMES=1``), so such tests need
``pytest.mark.django_db(transaction=True, databases=["default", "analytics"])``.

Without a reachable Redis these tests are skipped with the reason, except under
``CI=true``, where they fail: CI must never pass by skipping the live path.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.signals import after_task_publish

from lms_host.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
# The app reads Django settings under the CELERY namespace: runtime changes must use those keys.
EAGER = "CELERY_TASK_ALWAYS_EAGER"
BROKER = "CELERY_BROKER_URL"
WORKER_START_TIMEOUT = 60.0
IDLE_TIMEOUT = 120.0


def in_ci() -> bool:
    """True under CI (``CI=true``), where a skipped live test is a failure."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_unreachable(url: str) -> str | None:
    """Why the Redis at ``url`` cannot be used, or None when it answers PING."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(exc).__name__}: {exc}"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the test with ``reason``; under CI fail instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: live tests may not be skipped)")
    pytest.skip(reason)


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WorkerPool:
    """Real worker processes of the host's Celery app, started and stopped on demand."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.log_dir = Path(tempfile.mkdtemp(prefix="oa-celery-"))

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="test_settings",
            OA_CELERY_EAGER="0",
            OA_USE_TEST_DB_NAMES="1",
            OA_BROKER_URL=self.broker_url,
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        )
        return env

    def start_one(self) -> str:
        """Start one worker (concurrency 1) and wait until it answers a ping; return its name."""
        name = f"oa-test-{os.getpid()}-{len(self.processes) + 1}-{time.monotonic_ns()}@localhost"
        log_path = self.log_dir / f"{name.split('@')[0]}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "lms_host", "worker",
            "--concurrency=1", "--pool=prefork", "--loglevel=INFO", "-n", name,
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--include=tests.worker_probe",
        ]
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(command, cwd=ROOT, env=self._environment(), stdout=log_file,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes.append((name, process, log_path))
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Celery worker {name} exited with {process.returncode}:\n{self.log_tail()}")
            if celery_app.control.ping(destination=[name], timeout=0.5):
                return name
        raise RuntimeError(f"Celery worker {name} did not answer within {WORKER_START_TIMEOUT}s:\n{self.log_tail()}")

    def resize(self, count: int) -> None:
        """Have exactly ``count`` workers running."""
        self.processes = [entry for entry in self.processes if entry[1].poll() is None]
        while len(self.processes) > count:
            self._stop(*self.processes.pop())
        while len(self.processes) < count:
            self.start_one()

    def _stop(self, name: str, process: subprocess.Popen, _log: Path) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every worker this pool started."""
        while self.processes:
            self._stop(*self.processes.pop())

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of each worker's log, to explain a failure."""
        parts = []
        for name, _process, log_path in self.processes:
            text = log_path.read_text(errors="replace").splitlines()[-lines:] if log_path.exists() else []
            parts.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(parts)


class LiveWorkers:
    """What a live test holds: the running workers and a way to wait until they are done."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.task_ids: list[str] = []

    def _published(self, sender: object = None, headers: dict | None = None, body: object = None,
                   **_kwargs: object) -> None:
        task_id = (headers or {}).get("id") or (body.get("id") if isinstance(body, dict) else None)
        if task_id:
            self.task_ids.append(task_id)

    def wait_idle(self, timeout: float = IDLE_TIMEOUT, expect_tasks: bool = True) -> list[object]:
        """Wait until every task sent since the test began has finished; return their results.

        Fails if a task failed, if none was sent while ``expect_tasks``, on timeout, or if
        dirty scopes are left over once all tasks are done.
        """
        from openedx_analytics import conf
        from openedx_analytics.live import dispatch
        from openedx_analytics.models import DirtyScope

        # The doors hand events to this process's publisher thread: wait until it has sent them.
        assert dispatch.wait_for_publisher(timeout), f"events still unpublished after {timeout}s"
        if expect_tasks and not self.task_ids:
            pytest.fail("no Celery task was sent")
        from tests import worker_probe

        deadline = time.monotonic() + timeout
        pending = list(self.task_ids)
        ends: dict[str, dict] = {}
        while pending:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(pending)} Celery tasks unfinished after {timeout}s\n{self.pool.log_tail()}")
            still = []
            for task_id in pending:
                end = worker_probe.ended(task_id)  # our tasks store no result: the workers report their end
                if end is None:
                    still.append(task_id)
                else:
                    ends[task_id] = end
            pending = still
            if pending:
                time.sleep(0.1)
        results = []
        for task_id in self.task_ids:
            end = ends[task_id]
            if end["state"] != "SUCCESS":
                pytest.fail(f"Celery task {task_id} failed: {end['result']}\n{self.pool.log_tail()}")
            results.append(end["result"])
        # A worker that found a course busy left its markers to a follow-up task (sent by the
        # worker, so not in task_ids): wait for those to be drained too.
        while (left := DirtyScope.objects.using(conf.analytics_db()).count()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == 0, f"{left} dirty scopes left after the workers finished\n{self.pool.log_tail()}"
        return results


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
    after_task_publish.connect(live._published, weak=False)

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
        after_task_publish.disconnect(live._published)
        setattr(celery_app.conf, EAGER, eager)


@pytest.fixture
def celery_worker(celery_workers: Callable[[int], LiveWorkers]) -> LiveWorkers:
    """One real worker process (concurrency 1) receiving this test's tasks through Redis."""
    return celery_workers(1)


def _drop_broker_connections() -> None:
    """Send what the doors handed over to the broker configured so far, then forget pooled connections.

    After this, the next publish connects to the URL configured now.
    """
    from openedx_analytics.live import dispatch

    dispatch.wait_for_publisher(IDLE_TIMEOUT)
    celery_app.close()
    # ``close`` leaves the app's producer pool in place. Forget it without closing it: kombu keeps
    # one producer pool per broker URL and hands the same one back when that URL is used again.
    celery_app.amqp._producer_pool = None


@pytest.fixture
def dead_broker() -> Iterator[str]:
    """Send this test's tasks to a broker URL where nothing listens (eager mode off); yield that URL."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    _drop_broker_connections()
    setattr(celery_app.conf, BROKER, url)
    setattr(celery_app.conf, EAGER, False)
    try:
        yield url
    finally:
        _drop_broker_connections()
        setattr(celery_app.conf, BROKER, saved[0])
        setattr(celery_app.conf, EAGER, saved[1])
