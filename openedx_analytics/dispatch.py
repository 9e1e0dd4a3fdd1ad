"""Hand events from the live doors to Celery: after commit, batched, never raising.

- An event emitted inside a transaction is staged only when that transaction commits
  (``transaction.on_commit``); a rolled-back transaction's events are never sent.
- Staged events are held per thread and sent as one Celery message when the request
  ends (``request_finished``) or the Celery task ends (``task_postrun``); elsewhere, at
  once. A batch over ``OPENEDX_ANALYTICS_MAX_BATCH_SIZE`` is sent early.
- The ``pause_enqueueing`` waffle switch drops everything; a broker failure is logged
  with the courses and time window to backfill, and the caller carries on.
- Publishing has hard connect and send timeouts (``OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT``,
  ``OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT``) on a connection of our own, so a broker that
  accepts connections and never answers costs a request a bounded time, not forever; the
  LMS's Celery settings are left as the operator set them.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.dispatch import receiver

from openedx_analytics import conf

log = logging.getLogger(__name__)


class _State(threading.local):
    def __init__(self) -> None:
        self.staged: list[dict[str, Any]] = []
        self.deferred = 0  # >0 while inside a request or a Celery task
        self.connection: Any = None  # this thread's broker connection for publishing
        self.connection_key: tuple = ()


_state = _State()


def json_safe(event: dict[str, Any]) -> dict[str, Any]:
    """A JSON-serialisable deep copy (datetimes, keys and UUIDs become strings)."""
    return json.loads(json.dumps(event, default=str))


def enqueue(event: dict[str, Any]) -> None:
    """Send ``event`` (a raw event dict) to Celery once the current transaction commits. Never raises."""
    try:
        event = json_safe(event)
        connection = transaction.get_connection()
        if connection.in_atomic_block:
            transaction.on_commit(lambda: _stage(event), robust=True)
        else:
            _stage(event)
    except Exception:  # noqa: BLE001 - never break the LMS
        log.exception("openedx_analytics: could not stage an event; it is lost (backfill recovers it)")


def _stage(event: dict[str, Any]) -> None:
    _state.staged.append(event)
    if not _state.deferred or len(_state.staged) >= int(conf.get("OPENEDX_ANALYTICS_MAX_BATCH_SIZE")):
        flush()


def flush() -> None:
    """Send what is staged in this thread as one Celery message. Never raises."""
    events, _state.staged = _state.staged, []
    if not events:
        return
    try:
        from openedx_analytics.toggles import PAUSE_ENQUEUEING

        if PAUSE_ENQUEUEING.is_enabled():
            log.info("openedx_analytics: enqueueing paused; dropped %s events. %s", len(events), backfill_hint(events))
            return
        _publish(events)
    except Exception as exc:  # noqa: BLE001 - broker down, hung or misconfigured: log the loss, spare the LMS
        log.error(
            "openedx_analytics: LOST %s events, could not hand them to Celery (%s: %s). %s",
            len(events), type(exc).__name__, exc, backfill_hint(events),
        )


def _publish(events: list[dict[str, Any]]) -> None:
    """Hand one batch to Celery on this thread's time-bounded broker connection (raises on failure)."""
    from openedx_analytics.tasks import process_event_batch

    retries = int(conf.get("OPENEDX_ANALYTICS_PUBLISH_RETRIES"))
    options: dict[str, Any] = {
        "args": [events, "live"],
        "queue": conf.celery_queue(),
        "retry": retries > 0,
        "retry_policy": {"max_retries": retries, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
    }
    if process_event_batch.app.conf.task_always_eager:  # runs in-process: no broker to wait for
        process_event_batch.apply_async(**options)
        return
    connection = _connection(process_event_batch.app)
    try:
        process_event_batch.apply_async(connection=connection, **options)
    except Exception:
        _drop_connection()  # never reuse a connection left mid-command by a timeout
        raise


def _connection(app: Any) -> Any:
    """This thread's publishing connection: the app's broker, with our connect and send timeouts.

    Timeouts are given both as kombu's ``connect_timeout`` and as transport options, in the
    names the Redis transport (``socket_connect_timeout``/``socket_timeout``, passed to
    redis-py) and the AMQP transport (``read_timeout``/``write_timeout``, passed to py-amqp)
    read; the app's own ``broker_transport_options`` are kept, ours win.
    """
    connect = float(conf.get("OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT"))
    send = float(conf.get("OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT"))
    key = (app.conf.broker_write_url or app.conf.broker_url, connect, send)
    if _state.connection is None or _state.connection_key != key:
        _drop_connection()
        connection = app.connection_for_write(connect_timeout=connect)
        timeouts = ({"socket_connect_timeout": connect, "socket_timeout": send}
                    if connection.transport.driver_type == "redis"
                    else {"read_timeout": send, "write_timeout": send})
        connection.close()
        _state.connection = app.connection_for_write(connect_timeout=connect, transport_options=timeouts)
        _state.connection_key = key
    return _state.connection


def _drop_connection() -> None:
    connection, _state.connection, _state.connection_key = _state.connection, None, ()
    if connection is not None:
        try:
            connection.collect()  # release sockets without talking to the broker again
        except Exception:  # noqa: BLE001
            log.debug("openedx_analytics: could not release a broker connection", exc_info=True)


def backfill_hint(events: list[dict[str, Any]]) -> str:
    """What an operator needs to recover ``events``: their courses and time window."""
    courses: set[str] = set()
    times: list[str] = []
    for event in events:
        context = event.get("context") or {}
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        course = context.get("course_id") or data.get("course_id")
        if course:
            courses.add(str(course))
        when = event.get("timestamp") or event.get("time")
        if when:
            times.append(str(when))
    window = f"--since {min(times)} --until {max(times)}" if times else "(time unknown)"
    course_args = " ".join(f"--course {c}" for c in sorted(courses)) or "(no course id)"
    return f"Recover with: backfill_analytics {course_args} {window} --tracking-logs <log files>"


def _request_started(**_kwargs: Any) -> None:
    """A request starts: whatever an earlier one left staged goes now; this one's events wait for its end."""
    flush()
    _state.deferred = 1


def _request_finished(**_kwargs: Any) -> None:
    _state.deferred = 0
    flush()


def _task_started(**_kwargs: Any) -> None:
    _state.deferred += 1  # tasks may run eagerly inside a request: count, don't reset


def _task_finished(**_kwargs: Any) -> None:
    _state.deferred = max(_state.deferred - 1, 0)
    if not _state.deferred:
        flush()


receiver(request_started, dispatch_uid="openedx_analytics.request_started")(_request_started)
receiver(request_finished, dispatch_uid="openedx_analytics.request_finished")(_request_finished)
receiver(task_prerun, dispatch_uid="openedx_analytics.task_prerun", weak=False)(_task_started)
receiver(task_postrun, dispatch_uid="openedx_analytics.task_postrun", weak=False)(_task_finished)
