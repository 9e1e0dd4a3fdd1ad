"""A broker that accepts connections and never answers holds no LMS request; the losses are logged.

The "broker" is a local socket that accepts every connection and never replies (nor
closes): the Redis client would wait on it forever without a send timeout. Requests hand
their events to the publisher thread and return at once, while that thread waits on the
broker; when the send timeout passes, the publisher logs each batch as lost with the window
to backfill, as for a broker that is down. Events that find the publishing buffer full are
dropped and counted in one ERROR with their backfill window, never waited for. A page
request that queues a course-outline build waits no longer than the send timeout either.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import api
from openedx_analytics.live import dispatch, publisher
from openedx_analytics.lms import outline
from tests.support.lms import lms_knows
from tests.support.workers import broker_at

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Hung+Run"
PORTS = range(8300, 8350)
CONNECT_TIMEOUT = 0.3
#: Long enough that a loss logged before a request returns can only mean the request waited for the broker.
SEND_TIMEOUT = 3.0
RETRIES = 0
SERVER_LIFETIME_SECONDS = 90.0
WAIT_SECONDS = 60.0


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE)


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


@dataclass
class HungBroker:
    url: str
    held: list[socket.socket] = field(default_factory=list)

    def wait_until_connected(self, count: int = 1) -> None:
        """Wait until ``count`` connections hang here (the publisher is stuck on them)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.held) < count:
            assert time.monotonic() < deadline, "the publisher never connected to the hung broker"
            time.sleep(0.01)


@pytest.fixture
def hung_broker() -> Iterator[HungBroker]:
    """A Redis URL whose server accepts connections, reads nothing and never replies (for a bounded time)."""
    server = _listen()
    server.settimeout(0.1)
    broker = HungBroker(f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    stop = threading.Event()
    deadline = time.monotonic() + SERVER_LIFETIME_SECONDS

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _address = server.accept()
            except (TimeoutError, OSError):
                continue
            broker.held.append(connection)

    thread = threading.Thread(target=serve, name="hung-broker", daemon=True)
    thread.start()
    try:
        # Leaving ``broker_at`` waits for the publisher to give up on what it still holds.
        with broker_at(broker.url):
            yield broker
            assert broker.held, "nothing connected to the hung broker: the test did not exercise it"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in broker.held:
            connection.close()
        server.close()


def enroll(client, username: str) -> None:
    response = client.post(reverse("host-enroll", args=[COURSE]), {"username": username, "mode": "audit"})
    assert response.status_code == 200


def errors(caplog, word: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.ERROR and word in r.getMessage()]


@override_settings(OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
                   OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT=SEND_TIMEOUT, OPENEDX_ANALYTICS_PUBLISH_RETRIES=RETRIES)
def test_a_hung_broker_holds_no_request_and_the_publisher_logs_the_loss(client, hung_broker, caplog):
    caplog.set_level(logging.INFO, logger="openedx_analytics")
    enroll(client, "grace")
    hung_broker.wait_until_connected()  # the publisher thread now waits on the broker...
    started = time.monotonic()
    enroll(client, "hopper")  # ...and a request goes on all the same
    print(f"request while the publisher waits on a hung broker: {time.monotonic() - started:.3f}s")

    # Had a request waited for the broker, its batch would have been logged lost before it returned.
    assert errors(caplog, "LOST") == []
    assert get_user_model().objects.filter(username__in=["grace", "hopper"]).count() == 2
    assert dispatch.wait_for_publisher(WAIT_SECONDS)
    lost = errors(caplog, "LOST")
    assert [r.threadName for r in lost] == [publisher.THREAD_NAME] * 2
    for record in lost:
        message = record.getMessage()
        assert "LOST 2 events" in message
        assert f"backfill_analytics --course {COURSE} --since " in message and "--until " in message
    assert api.get_enrollment(COURSE) == []


@override_settings(OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
                   OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT=SEND_TIMEOUT, OPENEDX_ANALYTICS_PUBLISH_RETRIES=RETRIES,
                   OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE=2)
def test_a_full_buffer_drops_new_events_with_one_error_and_the_backfill_hint(client, hung_broker, caplog):
    caplog.set_level(logging.INFO, logger="openedx_analytics")
    enroll(client, "ada")  # its 2 events: the batch the publisher is stuck sending
    hung_broker.wait_until_connected()
    enroll(client, "bob")  # 2 more: the buffer (2 events) is full
    enroll(client, "cy")  # dropped
    enroll(client, "dee")  # dropped

    assert errors(caplog, "LOST") == [] and errors(caplog, "DROPPED") == []  # no request waited, even to log
    assert get_user_model().objects.filter(username__in=["ada", "bob", "cy", "dee"]).count() == 4
    assert dispatch.wait_for_publisher(WAIT_SECONDS)
    [dropped] = errors(caplog, "DROPPED")
    assert dropped.threadName == publisher.THREAD_NAME
    message = dropped.getMessage()
    assert "DROPPED 4 events, the publishing buffer was full" in message
    assert f"backfill_analytics --course {COURSE} --since " in message and "--until " in message
    lost = errors(caplog, "LOST")  # ada's batch and bob's, each after the send timeout
    assert len(lost) == 2 and all("LOST 2 events" in r.getMessage() for r in lost)


@override_settings(OPENEDX_ANALYTICS_BROKER_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
                   OPENEDX_ANALYTICS_BROKER_SEND_TIMEOUT=SEND_TIMEOUT)
def test_a_page_queueing_an_outline_build_waits_no_longer_than_the_send_timeout(hung_broker, caplog):
    """In the LMS a page request that misses the outline snapshot queues its build: a hung broker must not hold it."""
    caplog.set_level(logging.WARNING, logger="openedx_analytics")
    outline.forget_warnings()
    queued = threading.Thread(target=outline._queue_build, args=(CourseKey.from_string(COURSE), "hung"), daemon=True)
    started = time.monotonic()
    queued.start()
    queued.join(timeout=SEND_TIMEOUT + CONNECT_TIMEOUT + 10)
    assert not queued.is_alive(), "queueing the outline build waited on the hung broker"
    print(f"outline build queued against a hung broker: gave up after {time.monotonic() - started:.3f}s")
    assert hung_broker.held
    assert any("could not queue the outline build" in r.getMessage() for r in caplog.records)
