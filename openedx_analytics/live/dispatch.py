"""Hand events from the live doors to Celery: after commit, off the request thread, never raising.

- An event emitted inside a transaction is staged only when that transaction commits
  (``transaction.on_commit``); a rolled-back transaction's events are never sent.
- Staged events are held per thread until the request ends (``request_finished``) or the
  Celery task ends (``task_postrun``); elsewhere they are handed over at once. A thread
  holding ``OPENEDX_ANALYTICS_MAX_BATCH_SIZE`` events hands them over early.
- Handing over means giving them to this process's publisher (``publisher.py``): a bounded
  buffer that a background thread drains into Celery messages, batched across requests. The
  request's thread never waits on the broker, never reads the ``pause_enqueueing`` switch
  (the publisher thread reads it per batch), and a full buffer drops events rather than block.
- When Celery runs eagerly (``task_always_eager``: the tests and the demo) or
  ``OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND`` is off, the batch is published on the calling
  thread at the request's or task's end instead, as one message, so results are there when
  the request returns.
- The ``pause_enqueueing`` waffle switch drops everything; a broker failure (down, or hung
  past the timeouts of ``broker.py``) is logged with the courses and time window to
  backfill. Nothing here raises into the LMS.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.dispatch import receiver
from edx_django_utils.cache import RequestCache

from openedx_analytics import conf
from openedx_analytics.live import broker, publisher
from openedx_analytics.worker.losses import backfill_hint

log = logging.getLogger(__name__)

class _State(threading.local):
    def __init__(self) -> None:
        self.staged: list[dict[str, Any]] = []
        self.deferred = 0  # >0 while inside a request or a Celery task


_state = _State()


def json_safe(event: Any) -> Any:
    """A JSON-serialisable deep copy (datetimes, keys and UUIDs become strings)."""
    return json.loads(json.dumps(event, default=str))


def enqueue(event: dict[str, Any]) -> None:
    """Send ``event`` (a raw event dict) to Celery once the current transaction commits. Never raises.

    ``event`` must be the caller's own (the doors build it afresh; its nested values are the
    emitting call's copy): it is made JSON-safe when its batch is sent, off the request thread.
    """
    try:
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: _stage(event), robust=True)
        else:
            _stage(event)
    except Exception:  # noqa: BLE001 - never break the LMS
        log.exception("openedx_analytics: could not stage an event; it is lost (backfill recovers it)")


def _stage(event: dict[str, Any]) -> None:
    state = _state
    state.staged.append(event)
    if not state.deferred or len(state.staged) >= int(conf.get("OPENEDX_ANALYTICS_MAX_BATCH_SIZE")):
        _hand_over()


def _hand_over() -> None:
    """Give what this thread has staged to the publisher (or publish it here, eager or synchronous). Never raises."""
    events, _state.staged = _state.staged, []
    if not events:
        return
    try:
        if _in_background():
            publisher.current(_send_from_publisher).submit(events)
        else:
            send_batch(events)
    except Exception as exc:  # noqa: BLE001 - a bug must not reach the LMS; the events are logged as lost
        log.error("openedx_analytics: LOST %s events, could not hand them over (%s: %s). %s",
                  len(events), type(exc).__name__, exc, backfill_hint(events))


def _in_background() -> bool:
    from openedx_analytics.worker.tasks import process_event_batch

    eager = process_event_batch.app.conf.task_always_eager
    return bool(conf.get("OPENEDX_ANALYTICS_PUBLISH_IN_BACKGROUND")) and not eager


def send_batch(events: list[dict[str, Any]]) -> None:
    """Publish ``events`` as one Celery message on this thread, unless enqueueing is paused. Never raises.

    A broker failure is logged at ERROR with the ``backfill_analytics`` arguments that recover the batch.
    """
    try:
        from openedx_analytics.lms.toggles import PAUSE_ENQUEUEING

        if PAUSE_ENQUEUEING.is_enabled():
            log.info("openedx_analytics: enqueueing paused; dropped %s events. %s", len(events), backfill_hint(events))
            return
        events = _json_safe_batch(events)
        if events:
            broker.publish(events)
    except Exception as exc:  # noqa: BLE001 - broker down, hung or misconfigured: log the loss, spare the LMS
        log.error(
            "openedx_analytics: LOST %s events, could not hand them to Celery (%s: %s). %s",
            len(events), type(exc).__name__, exc, backfill_hint(events),
        )


def _json_safe_batch(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` made JSON-safe in one pass; should one of them fail, the others still go and it is logged lost."""
    try:
        return json_safe(events)
    except Exception:  # noqa: BLE001 - find the culprit, keep the rest
        safe = []
        for event in events:
            try:
                safe.append(json_safe(event))
            except Exception as exc:  # noqa: BLE001
                log.error("openedx_analytics: LOST 1 event, it cannot be serialised (%s: %s). %s",
                          type(exc).__name__, exc, backfill_hint([event]))
        return safe


def _send_from_publisher(events: list[dict[str, Any]]) -> None:
    """``send_batch`` on the publisher thread, each batch as if it were a request of its own.

    The switch is cached in the thread's request cache (edx-django-utils), which only the
    request middleware clears: cleared here, every batch reads the switch afresh (the waffle
    cache, then the database). The database connection that read used is given back after.
    """
    try:
        RequestCache.clear_all_namespaces()
        send_batch(events)
    finally:
        try:
            close_old_connections()  # this thread's own connections only; it never holds a transaction
        except Exception:  # noqa: BLE001
            log.debug("openedx_analytics: could not close the publisher's database connections", exc_info=True)


def wait_for_publisher(timeout: float) -> bool:
    """Wait until every event handed over in this process so far is sent (or logged lost); False on timeout.

    For code that must see its events leave before it goes on (tests, scripts that exit
    through ``os._exit``); nothing in a request needs it.
    """
    _hand_over()
    current = publisher.existing()
    return True if current is None else current.flush(timeout)


def _close_publisher(**_kwargs: Any) -> None:
    """Process exit (or a Celery pool process shutting down): send what waits, within a bounded time."""
    try:
        _hand_over()
        current = publisher.existing()
        if current is not None:
            current.close(float(conf.get("OPENEDX_ANALYTICS_PUBLISH_EXIT_SECONDS")))
    except Exception:  # noqa: BLE001 - exiting anyway
        log.exception("openedx_analytics: could not flush the publisher at exit")


def _forget_after_fork() -> None:
    """In a forked child, events the parent's threads staged are the parent's to send."""
    global _state
    _state = _State()


def _request_started(**_kwargs: Any) -> None:
    """A request starts: whatever an earlier one left staged goes now; this one's events wait for its end."""
    if _state.staged:
        _hand_over()
    _state.deferred = 1


def _request_finished(**_kwargs: Any) -> None:
    _state.deferred = 0
    if _state.staged:
        _hand_over()


def _task_started(**_kwargs: Any) -> None:
    _state.deferred += 1  # tasks may run eagerly inside a request: count, don't reset


def _task_finished(**_kwargs: Any) -> None:
    _state.deferred = max(_state.deferred - 1, 0)
    if not _state.deferred and _state.staged:
        _hand_over()


receiver(request_started, dispatch_uid="openedx_analytics.request_started")(_request_started)
receiver(request_finished, dispatch_uid="openedx_analytics.request_finished")(_request_finished)
receiver(task_prerun, dispatch_uid="openedx_analytics.task_prerun", weak=False)(_task_started)
receiver(task_postrun, dispatch_uid="openedx_analytics.task_postrun", weak=False)(_task_finished)
receiver(worker_process_shutdown, dispatch_uid="openedx_analytics.worker_process_shutdown",
         weak=False)(_close_publisher)
atexit.register(_close_publisher)
os.register_at_fork(after_in_child=_forget_after_fork)
