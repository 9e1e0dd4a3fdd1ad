"""A broker that accepts connections and never answers costs an LMS request a bounded time.

The "broker" is a local socket that accepts every connection and never replies (nor
closes): the Redis client would wait on it forever without a send timeout. The request
must return within the timeouts the settings give, and the batch be logged as lost with
the window to backfill, as for a broker that is down.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from lms_host.celery import app as celery_app
from openedx_analytics import api
from tests.conftest import BROKER, EAGER, _drop_broker_connections

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Hung+Run"
PORTS = range(8300, 8350)
CONNECT_TIMEOUT = 0.3
SEND_TIMEOUT = 0.3
RETRIES = 1
#: Far below "forever", above what the timeouts allow: (1 + retries) attempts of connect + send,
#: the publish retry interval and the request's own work, with room for a slow shared machine.
REQUEST_BUDGET_SECONDS = 6.0
SERVER_LIFETIME_SECONDS = 60.0


def _listen() -> socket.socket:
    for port in PORTS:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind(("127.0.0.1", port))
        except OSError:
            server.close()
            continue
        server.listen(16)
        return server
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@pytest.fixture
def hung_broker() -> Iterator[str]:
    """A Redis URL whose server accepts connections, reads nothing and never replies (for at most a minute)."""
    server = _listen()
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()
    deadline = time.monotonic() + SERVER_LIFETIME_SECONDS

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _address = server.accept()
            except (TimeoutError, OSError):
                continue
            held.append(connection)

    thread = threading.Thread(target=serve, name="hung-broker", daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    _drop_broker_connections()
    setattr(celery_app.conf, BROKER, url)
    setattr(celery_app.conf, EAGER, False)
    try:
        yield url
        assert held, "nothing connected to the hung broker: the test did not exercise it"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()
        _drop_broker_connections()
        setattr(celery_app.conf, BROKER, saved[0])
        setattr(celery_app.conf, EAGER, saved[1])


@override_settings(OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
                   OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT=SEND_TIMEOUT, OPENEDX_ANALYTICS_PUBLISH_RETRIES=RETRIES)
def test_a_hung_broker_costs_a_request_a_bounded_time_and_the_loss_is_logged(client, hung_broker, caplog):
    caplog.set_level(logging.INFO, logger="openedx_analytics")
    started = time.monotonic()
    response = client.post(reverse("host-enroll", args=[COURSE]), {"username": "grace", "mode": "audit"})
    elapsed = time.monotonic() - started
    print(f"request against a hung broker took {elapsed:.2f}s (budget {REQUEST_BUDGET_SECONDS}s)")

    assert response.status_code == 200
    assert elapsed < REQUEST_BUDGET_SECONDS
    assert get_user_model().objects.filter(username="grace").exists()
    [lost] = [r for r in caplog.records if r.levelno == logging.ERROR and "LOST" in r.getMessage()]
    message = lost.getMessage()
    assert "LOST 2 events" in message
    assert f"backfill_analytics --course {COURSE} --since " in message and "--until " in message
    assert api.get_enrollment(COURSE) == []
