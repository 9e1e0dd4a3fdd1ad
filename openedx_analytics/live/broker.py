"""Hand one batch of events to Celery on a time-bounded broker connection of our own.

A broker that accepts connections and never answers would hold a Redis or AMQP client
forever. Publishing therefore has hard connect and send timeouts
(``OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT``, ``OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT``) on a
connection held per thread (in practice: the publisher thread of each process); the LMS's
Celery settings are left as the operator set them. A connection that failed mid-command is
dropped, never reused.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any

from openedx_analytics import conf

log = logging.getLogger(__name__)


class _Connections(threading.local):
    def __init__(self) -> None:
        self.connection: Any = None
        self.key: tuple = ()


_local = _Connections()


def publish(events: list[dict[str, Any]]) -> None:
    """Send ``events`` as one ``process_event_batch`` message (raises when the broker does not take it)."""
    from openedx_analytics.worker.tasks import process_event_batch

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
        drop_connection()  # never reuse a connection left mid-command by a timeout
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
    key = (app.conf.broker_write_url or app.conf.broker_url, connect, send, os.getpid())
    if _local.connection is None or _local.key != key:
        drop_connection()
        connection = app.connection_for_write(connect_timeout=connect)
        timeouts = ({"socket_connect_timeout": connect, "socket_timeout": send}
                    if connection.transport.driver_type == "redis"
                    else {"read_timeout": send, "write_timeout": send})
        connection.close()
        _local.connection = app.connection_for_write(connect_timeout=connect, transport_options=timeouts)
        _local.key = key
    return _local.connection


def drop_connection() -> None:
    """Forget this thread's publishing connection, releasing its sockets without talking to the broker.

    A connection inherited through ``fork`` is only forgotten: its sockets are the parent's.
    """
    connection, key = _local.connection, _local.key
    _local.connection, _local.key = None, ()
    if connection is not None and key and key[-1] == os.getpid():
        try:
            connection.collect()
        except Exception:  # noqa: BLE001
            log.debug("openedx_analytics: could not release a broker connection", exc_info=True)
