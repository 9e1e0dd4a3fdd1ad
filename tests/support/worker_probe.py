"""Loaded into the test workers (``celery worker --include tests.support.worker_probe``): reports each task's end.

Our tasks store no result in the Celery result backend, so the tests cannot learn from it
when a task has finished. Each worker therefore writes, for every task that ends (success
or final failure, not a retry), its state and return value under its own key in the
broker's Redis, which ``tests.support.workers.LiveWorkers.wait_idle`` reads. These keys are
test bookkeeping; they are not ``celery-task-meta-*`` keys and an LMS has no such module loaded.
"""
from __future__ import annotations

import json
from typing import Any

import redis
from celery.signals import task_failure, task_postrun

from lms_host.celery import app

PREFIX = "oa-test-probe:"
TTL_SECONDS = 3600
FINAL_STATES = ("SUCCESS", "FAILURE")

_client: redis.Redis | None = None


def client() -> redis.Redis:
    """The broker's Redis (one client per worker process)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.conf.broker_url, socket_connect_timeout=5, socket_timeout=5)
    return _client


def key(task_id: str) -> str:
    """Where a task's end is recorded."""
    return f"{PREFIX}{task_id}"


def _record(task_id: str, state: str, result: Any) -> None:
    try:
        text = json.dumps({"state": state, "result": result})
    except (TypeError, ValueError):
        text = json.dumps({"state": state, "result": repr(result)})
    client().set(key(task_id), text, ex=TTL_SECONDS)


@task_postrun.connect(weak=False)
def _task_ended(task_id: str = "", state: str = "", retval: Any = None, **_kwargs: Any) -> None:
    if state == "SUCCESS":
        _record(task_id, state, retval)


@task_failure.connect(weak=False)
def _task_failed(task_id: str = "", exception: BaseException | None = None, einfo: Any = None,
                 **_kwargs: Any) -> None:
    _record(task_id, "FAILURE", f"{exception!r}\n{einfo}")


def ended(task_id: str) -> dict[str, Any] | None:
    """The recorded end of a task (``state`` and ``result``), or None while it has not ended."""
    raw = client().get(key(task_id))
    return json.loads(raw) if raw else None
