"""Two workers taking the same stream at once (every batch delivered twice) agree with the eager result."""
import re

import pytest
from django.db import connections

from openedx_analytics.worker.tasks import process_event_batch
from tests.support.analytics import wipe
from tests.support.lms import lms_knows
from tests.support.snapshots import api_snapshot
from tests.support.streams import batches, course_stream

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "analytics"]),
    pytest.mark.skipif(connections["default"].vendor != "mysql",
                       reason="concurrent recomputes rely on MariaDB row locks; SQLite locks whole files"),
]

COURSES = ("course-v1:Org+Race+A", "course-v1:Org+Race+B")
DONE = re.compile(r"openedx_analytics\.process_event_batch\[[^\]]+\] succeeded")


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)


def _tasks_done(log_path) -> int:
    return len(DONE.findall(log_path.read_text(errors="replace"))) if log_path.exists() else 0


def test_two_workers_on_duplicated_interleaved_batches_match_eager(celery_workers):
    stream = [event for course in COURSES for event in course_stream(course, learners=50, seed=len(course))]
    parts = batches(stream, 25)

    for part in parts:  # the reference: each batch once, in order, in this process
        process_event_batch.apply(args=[part, "live"]).get()
    expected = {course: api_snapshot(course) for course in COURSES}
    assert all(expected[c]["enrollment"] and expected[c]["videos"] and expected[c]["problems"] for c in COURSES)
    wipe()
    assert api_snapshot(COURSES[0])["enrollment"] == []

    live = celery_workers(2)
    logs = [log for _name, _process, log in live.pool.processes]
    before = [_tasks_done(log) for log in logs]
    for index, part in enumerate(parts):  # every batch twice, the repeat one batch later
        process_event_batch.apply_async(args=[part, "live"])
        if index:
            process_event_batch.apply_async(args=[parts[index - 1], "live"])
    process_event_batch.apply_async(args=[parts[-1], "live"])
    results = live.wait_idle()

    assert len(results) == 2 * len(parts)
    done = [_tasks_done(log) - count for log, count in zip(logs, before, strict=True)]
    assert sum(done) == 2 * len(parts)
    assert all(done), f"one worker took every task: {done}"
    assert {course: api_snapshot(course) for course in COURSES} == expected
