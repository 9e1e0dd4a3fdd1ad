"""A real worker taking a burst of batches for one course recomputes it a few times, not once per batch.

The numbers are those of recomputing after every batch (Celery eager, in this process).
"""
import re
import time

import pytest

from openedx_analytics.worker.tasks import process_event_batch
from tests.support.analytics import wipe
from tests.support.lms import lms_knows
from tests.support.snapshots import api_snapshot
from tests.support.streams import batches, course_stream

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Burst+Live"
RECOMPUTED = re.compile(r"openedx_analytics\.recompute_dirty_scopes\[[^\]]+\] succeeded")
STORED = re.compile(r"openedx_analytics\.process_event_batch\[[^\]]+\] succeeded")


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE)


def _count(pattern: re.Pattern, log_path) -> int:
    return len(pattern.findall(log_path.read_text(errors="replace"))) if log_path.exists() else 0


def _count_when_logged(pattern: re.Pattern, log_path, since: int, timeout: float = 15.0) -> int:
    """Lines of ``pattern`` logged after the first ``since``, once at least one is there (or ``timeout`` passed).

    The last recompute deletes its dirty markers when its transaction commits, a moment before
    the worker logs that the task succeeded: ``wait_idle`` can return in between.
    """
    deadline = time.monotonic() + timeout
    while (count := _count(pattern, log_path) - since) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def test_a_burst_through_a_real_worker_is_recomputed_per_window_with_the_same_numbers(celery_workers):
    parts = batches(course_stream(COURSE, learners=60, seed=3), 4)
    assert len(parts) >= 60
    for part in parts:  # the reference: every batch recomputed at once, in this process
        process_event_batch.apply(args=[part, "live"]).get()
    expected = api_snapshot(COURSE)
    assert expected["enrollment"] and expected["videos"] and expected["problems"]
    wipe()

    celery_worker = celery_workers(1)
    [log] = [log for _name, _process, log in celery_worker.pool.processes]
    before = (_count(STORED, log), _count(RECOMPUTED, log))
    for part in parts:
        process_event_batch.apply_async(args=[part, "live"])
    celery_worker.wait_idle()  # every batch stored and no dirty scope left

    stored, recomputed = _count(STORED, log) - before[0], _count_when_logged(RECOMPUTED, log, before[1])
    assert stored == len(parts)
    assert 1 <= recomputed <= len(parts) // 2, f"{recomputed} recomputes for {len(parts)} batches"
    assert api_snapshot(COURSE) == expected
