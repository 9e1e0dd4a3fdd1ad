"""The publisher across process boundaries: events left in its buffer at exit are sent, a fork sends no event twice.

Each test runs ``tests/support/publisher_script.py`` as a process of its own (the real doors, the
real Redis broker, Celery not eager) with a linger of a minute, so nothing leaves before the
process exits, and reads the messages it left in a queue of its own.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import redis

from lms_host.celery import app as celery_app
from tests.support.environment import ROOT, child_environment, redis_unreachable, skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

SCRIPT_TIMEOUT = 120


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own on the broker (no worker consumes it), removed afterwards."""
    url = celery_app.conf.broker_url
    reason = redis_unreachable(url)
    if reason:
        skip_or_fail(f"Redis broker {url} unreachable ({reason})")
    name = f"oa-test-publisher-{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(url)
    client.delete(name, *client.keys(f"_kombu.binding*.{name}"))


def run_script(queue: str, mode: str) -> subprocess.CompletedProcess:
    env = child_environment(OA_CELERY_EAGER="0", OA_USE_TEST_DB_NAMES="1", OA_BROKER_URL=celery_app.conf.broker_url)
    done = subprocess.run([sys.executable, "-m", "tests.support.publisher_script", queue, mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=SCRIPT_TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done


def learners_per_message(queue: str) -> list[list[int]]:
    """The learners of each ``process_event_batch`` message in ``queue``, oldest message first."""
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    messages = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # kombu pushes on the left
        message = json.loads(raw)
        assert message["headers"]["task"] == "openedx_analytics.process_event_batch"
        (events, source), _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert source == "live"
        messages.append([event["context"]["user_id"] for event in events])
    return messages


def test_events_still_in_the_buffer_at_exit_are_sent(queue):
    done = run_script(queue, "exit")
    assert learners_per_message(queue) == [[1, 2, 3]], done.stderr
    assert "LOST" not in done.stderr


def test_a_forked_child_sends_its_own_events_and_not_its_parents(queue):
    done = run_script(queue, "fork")
    assert sorted(learners_per_message(queue)) == [[1, 2], [11, 12]], done.stderr
    assert "LOST" not in done.stderr
