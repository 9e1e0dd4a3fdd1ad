"""Send a Celery task on a time-bounded broker connection of our own, from any thread that must not hang.

A broker that accepts connections and never answers would hold a Redis or AMQP client
forever. Whatever we queue from an LMS process (a batch of events from the publisher
thread, a course-outline build from a page request) therefore goes through a connection
with hard connect and send timeouts (``OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT``,
``OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT``), held per thread; the LMS's Celery settings are
left as the operator set them. A connection that failed mid-command is dropped, never reused.
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


def send(task: Any, **options: Any) -> None:
    """``task.apply_async(**options)`` on this thread's bounded connection (in-process when Celery is eager).

    Raises what the broker raised (a timeout included); the caller decides what a lost
    message means.
    """
    if task.app.conf.task_always_eager:  # runs in-process: no broker to wait for
        task.apply_async(**options)
        return
    connection = bounded_connection(task.app)
    try:
        task.apply_async(connection=connection, **options)
    except Exception:
        drop_connection()  # never reuse a connection left mid-command by a timeout
        raise


def bounded_connection(app: Any) -> Any:
    """This thread's connection to the app's broker, with our connect and send timeouts.

    Timeouts are given both as kombu's ``connect_timeout`` and as transport options, in the
    names the Redis transport (``socket_connect_timeout``/``socket_timeout``, passed to
    redis-py) and the AMQP transport (``read_timeout``/``write_timeout``, passed to py-amqp)
    read; the app's own ``broker_transport_options`` are kept, ours win.
    """
    connect = float(conf.get("OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT"))
    send_timeout = float(conf.get("OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT"))
    key = (app.conf.broker_write_url or app.conf.broker_url, connect, send_timeout, os.getpid())
    if _local.connection is None or _local.key != key:
        drop_connection()
        connection = app.connection_for_write(connect_timeout=connect)
        timeouts = ({"socket_connect_timeout": connect, "socket_timeout": send_timeout}
                    if connection.transport.driver_type == "redis"
                    else {"read_timeout": send_timeout, "write_timeout": send_timeout})
        connection.close()
        _local.connection = app.connection_for_write(connect_timeout=connect, transport_options=timeouts)
        _local.key = key
    return _local.connection


def drop_connection() -> None:
    """Forget this thread's connection, releasing its sockets without talking to the broker.

    A connection inherited through ``fork`` is only forgotten: its sockets are the parent's.
    """
    connection, key = _local.connection, _local.key
    _local.connection, _local.key = None, ()
    if connection is not None and key and key[-1] == os.getpid():
        try:
            connection.collect()
        except Exception:  # noqa: BLE001
            log.debug("openedx_analytics: could not release a broker connection", exc_info=True)
