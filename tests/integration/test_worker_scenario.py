"""Every door and every tracked kind through a real Celery worker: the contract's numbers come back.

The same scenario as ``tests/test_live_pipeline.py`` (which runs Celery eagerly), here
through Redis and a worker process; then the captured batches are delivered again, every
event twice and in shuffled order, and the numbers do not move.
"""
from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openedx_analytics import conf
from openedx_analytics.models import EnrollmentDay
from openedx_analytics.worker import tasks
from tests.support import doors
from tests.support.doors import FakeRequest, assert_scenario_numbers
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE)


def test_scenario_through_a_real_worker_then_duplicated_and_shuffled(celery_worker, captured_batches):
    with FakeRequest():
        doors.run_scenario()
    celery_worker.wait_idle()
    first = doors.observed()
    assert_scenario_numbers(first, doors.now().date())

    replay = [event for batch in captured_batches for event in batch] * 2
    random.Random(11).shuffle(replay)
    for start in range(0, len(replay), 4):
        tasks.process_event_batch.apply_async(args=[replay[start:start + 4], "live"])
    celery_worker.wait_idle()
    assert doors.observed() == first

    # What the workers stored is what the engines compute from the facts; one row altered by
    # hand is named, and the command fails.
    assert verify(doors.COURSE) == (f"{doors.COURSE}: OK\n", None)
    row = EnrollmentDay.objects.using(conf.analytics_db()).filter(course_id=doors.COURSE).latest("date")
    EnrollmentDay.objects.using(conf.analytics_db()).filter(pk=row.pk).update(count=row.count + 5)
    output, error = verify(doors.COURSE)
    assert f"enrollment {row.date}" in output and "1 difference(s)" in output, output
    assert error is not None and error.returncode == 1


def verify(course_id: str) -> tuple[str, CommandError | None]:
    """``verify_analytics`` for one course: its output and its error (the stand-in LMS's tables
    do not hold this scenario, so the LMS comparison is left out)."""
    out = io.StringIO()
    try:
        call_command("verify_analytics", "--course", course_id, "--no-lms", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None
