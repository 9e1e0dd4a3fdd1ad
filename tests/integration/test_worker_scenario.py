"""Every door and every tracked kind through a real Celery worker: the contract's numbers come back.

The same scenario as ``tests/test_live_pipeline.py`` (which runs Celery eagerly), here
through Redis and a worker process; then the captured batches are delivered again, every
event twice and in shuffled order, and the numbers do not move.
"""
from __future__ import annotations

import random
from unittest import mock

import pytest

from openedx_analytics import tasks
from tests import doors
from tests.test_live_pipeline import FakeRequest, assert_scenario_numbers

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


def test_scenario_through_a_real_worker_then_duplicated_and_shuffled(celery_worker):
    batches: list[list[dict]] = []
    publish = tasks.process_event_batch.apply_async

    def record(args=None, **kwargs):
        batches.append(args[0])
        return publish(args=args, **kwargs)

    with mock.patch.object(tasks.process_event_batch, "apply_async", side_effect=record), FakeRequest():
        doors.run_scenario()
    celery_worker.wait_idle()
    first = doors.observed()
    assert_scenario_numbers(first, doors.now().date())

    replay = [event for batch in batches for event in batch] * 2
    random.Random(11).shuffle(replay)
    for start in range(0, len(replay), 4):
        tasks.process_event_batch.apply_async(args=[replay[start:start + 4], "live"])
    celery_worker.wait_idle()
    assert doors.observed() == first
