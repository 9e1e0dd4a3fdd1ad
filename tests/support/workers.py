"""Real Celery worker processes on Redis for the live tests, and pointing the host's Celery app at a broker.

Most tests run Celery eagerly (in-process). The live tests hand their events to one or more
real ``celery -A lms_host worker`` processes through the Redis broker the settings name
(``OA_BROKER_URL``); those workers open the very databases pytest-django created
(``OA_USE_TEST_DB_NAMES=1``). The fixtures built on this (``celery_workers``,
``celery_worker``, ``dead_broker``) are in ``tests/integration/conftest.py``.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lms_host.celery import app as celery_app
from tests.support.environment import ROOT, child_environment

# The app reads Django settings under the CELERY namespace: runtime changes must use those keys.
EAGER = "CELERY_TASK_ALWAYS_EAGER"
BROKER = "CELERY_BROKER_URL"
WORKER_START_TIMEOUT = 60.0
IDLE_TIMEOUT = 120.0
#: The module each test worker loads to report its tasks' ends (``worker_probe``).
PROBE_MODULE = "tests.support.worker_probe"


class WorkerPool:
    """Real worker processes of the host's Celery app, started and stopped on demand."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.log_dir = Path(tempfile.mkdtemp(prefix="oa-celery-"))

    def start_one(self) -> str:
        """Start one worker (concurrency 1) and wait until it answers a ping; return its name."""
        name = f"oa-test-{os.getpid()}-{len(self.processes) + 1}-{time.monotonic_ns()}@localhost"
        log_path = self.log_dir / f"{name.split('@')[0]}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "lms_host", "worker",
            "--concurrency=1", "--pool=prefork", "--loglevel=INFO", "-n", name,
            "--without-gossip", "--without-mingle", "--without-heartbeat", f"--include={PROBE_MODULE}",
        ]
        env = child_environment(OA_CELERY_EAGER="0", OA_USE_TEST_DB_NAMES="1", OA_BROKER_URL=self.broker_url)
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file,
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

    def record_published(self, sender: object = None, headers: dict | None = None, body: object = None,
                         **_kwargs: object) -> None:
        """``after_task_publish`` receiver: note the id of each task this test sent."""
        task_id = (headers or {}).get("id") or (body.get("id") if isinstance(body, dict) else None)
        if task_id:
            self.task_ids.append(task_id)

    def wait_idle(self, timeout: float = IDLE_TIMEOUT, expect_tasks: bool = True) -> list[object]:
        """Wait until every task sent since the test began has finished; return their results.

        Fails if a task failed, if none was sent while ``expect_tasks``, on timeout, or if
        dirty scopes are left over once all tasks are done.
        """
        from openedx_analytics.live import dispatch

        # The doors hand events to this process's publisher thread: wait until it has sent them.
        assert dispatch.wait_for_publisher(timeout), f"events still unpublished after {timeout}s"
        if expect_tasks and not self.task_ids:
            pytest.fail("no Celery task was sent")
        deadline = time.monotonic() + timeout
        ends = self._task_ends(deadline, timeout)
        results = []
        for task_id in self.task_ids:
            end = ends[task_id]
            if end["state"] != "SUCCESS":
                pytest.fail(f"Celery task {task_id} failed: {end['result']}\n{self.pool.log_tail()}")
            results.append(end["result"])
        self._wait_drained(deadline)
        return results

    def _task_ends(self, deadline: float, timeout: float) -> dict[str, dict]:
        """Each sent task's end as its worker reported it (our tasks store no result), by task id."""
        from tests.support import worker_probe

        pending = list(self.task_ids)
        ends: dict[str, dict] = {}
        while pending:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(pending)} Celery tasks unfinished after {timeout}s\n{self.pool.log_tail()}")
            still = []
            for task_id in pending:
                end = worker_probe.ended(task_id)
                if end is None:
                    still.append(task_id)
                else:
                    ends[task_id] = end
            pending = still
            if pending:
                time.sleep(0.1)
        return ends

    def _wait_drained(self, deadline: float) -> None:
        """A worker that found a course busy left its markers to a follow-up task (sent by the
        worker, so not in ``task_ids``): wait for those to be drained too."""
        from openedx_analytics import conf
        from openedx_analytics.models import DirtyScope

        while (left := DirtyScope.objects.using(conf.analytics_db()).count()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == 0, f"{left} dirty scopes left after the workers finished\n{self.pool.log_tail()}"


def drop_broker_connections() -> None:
    """Send what the doors handed over to the broker configured so far, then forget pooled connections.

    After this, the next publish connects to the URL configured now.
    """
    from openedx_analytics.live import dispatch

    dispatch.wait_for_publisher(IDLE_TIMEOUT)
    celery_app.close()
    # ``close`` leaves the app's producer pool in place, and Celery has no public way to drop
    # it. Forget it without closing it: kombu keeps one producer pool per broker URL and hands
    # the same one back when that URL is used again.
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[str]:
    """Send tasks to the broker at ``url`` (eager mode off) within the block; then back to the settings'."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    drop_broker_connections()
    setattr(celery_app.conf, BROKER, url)
    setattr(celery_app.conf, EAGER, False)
    try:
        yield url
    finally:
        drop_broker_connections()
        setattr(celery_app.conf, BROKER, saved[0])
        setattr(celery_app.conf, EAGER, saved[1])
