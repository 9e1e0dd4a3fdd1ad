"""A burst of batches for one course is recomputed once per window, not once per batch, with the same numbers;
a course that is not busy is recomputed at once by the batch that opens its window.

Celery is not eager here: the tasks the batches schedule are captured instead of sent, then
run in this process, as the worker would once their countdown is over.
"""
from __future__ import annotations

import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from openedx_analytics import conf
from openedx_analytics.models import DirtyScope
from openedx_analytics.worker import tasks, windows
from tests.support.analytics import wipe
from tests.support.lms import lms_knows
from tests.support.snapshots import api_snapshot
from tests.support.streams import batches, course_stream

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Burst+2026"
OTHER = "course-v1:Org+Quiet+2026"


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE, OTHER)


@pytest.fixture
def worker():
    """The tasks as a worker runs them: not eager; scheduled recomputes captured, drains counted."""
    scheduled: list[dict] = []
    not_eager = SimpleNamespace(conf=SimpleNamespace(task_always_eager=False))
    forget_windows()
    with mock.patch.object(tasks, "current_app", not_eager), \
            mock.patch.object(tasks.recompute_dirty_scopes, "apply_async",
                              side_effect=lambda **kw: scheduled.append(kw)), \
            mock.patch.object(tasks, "drain", wraps=tasks.drain) as drains:
        yield SimpleNamespace(scheduled=scheduled, drains=drains)
    forget_windows()


def forget_windows() -> None:
    """No window open, nothing known of past recomputes: in the cache and in this process."""
    cache.clear()
    windows.reset_windows()


def run_scheduled(scheduled: list[dict]) -> None:
    """Run the captured recomputes, as the worker does when their countdown ends."""
    while scheduled:
        call = scheduled.pop(0)
        tasks.recompute_dirty_scopes.run(*call["args"])


def reference(events: list[dict], size: int) -> dict:
    """The numbers when every batch is recomputed at once (Celery eager), then the tables emptied."""
    for part in batches(events, size):
        tasks.process_event_batch.apply(args=[part, "live"]).get()
    expected = api_snapshot(COURSE)
    wipe()
    return expected


def test_a_burst_for_one_course_is_recomputed_once_with_the_numbers_of_per_batch_recomputes(settings):
    events = course_stream(COURSE, learners=40)
    expected = reference(events, 4)
    assert expected["enrollment"] and expected["videos"] and expected["problems"]
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600  # the whole burst falls in one window

    forget_windows()
    scheduled: list[dict] = []
    not_eager = SimpleNamespace(conf=SimpleNamespace(task_always_eager=False))
    parts = batches(events, 4)
    with mock.patch.object(tasks, "current_app", not_eager), \
            mock.patch.object(tasks.recompute_dirty_scopes, "apply_async",
                              side_effect=lambda **kw: scheduled.append(kw)), \
            mock.patch.object(tasks, "drain", wraps=tasks.drain) as drains:
        results = [tasks.process_event_batch.run(part, "live") for part in parts]
        assert len(parts) >= 30
        assert [call["args"] for call in scheduled] == [[[COURSE]]]  # one recompute for the whole burst
        assert scheduled[0]["countdown"] == 3600 + 1  # due once the window has closed
        # the course was not busy: the batch that opened the window recomputed it at once, the others wait
        course_drains = [call for call in drains.call_args_list if call.kwargs.get("courses") == [COURSE]]
        assert len(course_drains) == 1
        assert sum(result["accepted"] for result in results) == len(events)
        assert DirtyScope.objects.using(conf.analytics_db()).filter(course_id=COURSE).exists()
        assert api_snapshot(COURSE) != expected  # the burst's later batches are not recomputed yet

        run_scheduled(scheduled)
        course_drains = [call for call in drains.call_args_list if call.kwargs.get("courses") == [COURSE]]
        assert len(course_drains) == 2  # the first batch's and the window's, instead of one per batch
    forget_windows()

    assert not DirtyScope.objects.using(conf.analytics_db()).exists()
    assert api_snapshot(COURSE) == expected


def test_each_window_schedules_one_recompute_per_course(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600
    first = course_stream(COURSE, learners=6, seed=1)
    other = course_stream(OTHER, learners=6, seed=2)
    tasks.process_event_batch.run(first[:10], "live")
    tasks.process_event_batch.run(first[10:20] + other[:10], "live")
    tasks.process_event_batch.run(other[10:], "live")
    assert sorted(call["args"][0] for call in worker.scheduled) == [[COURSE], [OTHER]]

    cache.delete(windows.window_cache_key(COURSE))  # the course's window closes (its key expires)
    assert windows.forget_window(COURSE)
    tasks.process_event_batch.run(first[20:], "live")
    assert sorted(call["args"][0] for call in worker.scheduled) == [[COURSE], [COURSE], [OTHER]]
    run_scheduled(worker.scheduled)
    assert not DirtyScope.objects.using(conf.analytics_db()).exists()
    assert api_snapshot(COURSE)["enrollment"] and api_snapshot(OTHER)["enrollment"]


def test_without_a_delay_each_batch_recomputes_its_courses_at_once(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 0
    result = tasks.process_event_batch.run(course_stream(COURSE, learners=3)[:6], "live")
    assert result["recomputed"] > 0
    assert worker.scheduled == []
    assert not DirtyScope.objects.using(conf.analytics_db()).exists()


def test_a_broken_cache_or_broker_still_gets_the_course_recomputed(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600
    events = course_stream(COURSE, learners=3)
    with mock.patch.object(LocMemCache, "add", side_effect=ConnectionError("cache down")):
        tasks.process_event_batch.run(events[:3], "live")
        tasks.process_event_batch.run(events[3:6], "live")
    # scheduled without the cache; this process's own note of the window spares a second task
    assert [call["args"] for call in worker.scheduled] == [[[COURSE]]]
    worker.scheduled.clear()

    forget_windows()
    with mock.patch.object(tasks.recompute_dirty_scopes, "apply_async", side_effect=ConnectionError("broker down")):
        tasks.process_event_batch.run(events[6:], "live")
    assert not DirtyScope.objects.using(conf.analytics_db()).exists()  # recomputed in the batch's own task instead


def test_a_course_whose_recompute_grows_costly_gets_longer_windows_up_to_the_cap(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 1
    settings.OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS = 10
    assert windows.window_seconds(COURSE) == 1
    windows.record_recompute_seconds(COURSE, 0.35)  # its last recompute took 0.35 s
    assert windows.window_seconds(COURSE) == 4  # at most a tenth of the time goes to recomputing it
    events = course_stream(COURSE, learners=2)
    tasks.process_event_batch.run(events[:3], "live")  # opens a 4 s window
    tasks.process_event_batch.run(events[3:6], "live")  # joins it: the window's recompute is due once it closes
    assert [call["countdown"] for call in worker.scheduled] == [4 + 1]

    windows.record_recompute_seconds(COURSE, 30.0)  # under heavy contention: freshness wins past the cap
    assert windows.window_seconds(COURSE) == 10
    settings.OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS = 0  # a cap below the delay leaves the delay
    assert windows.window_seconds(COURSE) == 1


def test_a_window_another_process_opened_is_noted_not_asked_again(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 60
    cache.add(windows.window_cache_key(COURSE), time.time() + 60, timeout=60)  # another worker's window,
    cache.add(windows.recompute_claim_cache_key(COURSE), True, timeout=60)  # whose recompute it scheduled
    events = course_stream(COURSE, learners=3)
    with mock.patch.object(LocMemCache, "add", wraps=cache.add) as adds:
        tasks.process_event_batch.run(events[:3], "live")
        tasks.process_event_batch.run(events[3:6], "live")
    assert worker.scheduled == []  # the other worker's recompute takes these batches
    added = [call.args[0] for call in adds.call_args_list]
    assert added.count(windows.window_cache_key(COURSE)) <= 1
    assert added.count(windows.recompute_claim_cache_key(COURSE)) <= 1


def test_the_first_batch_joining_another_process_s_quiet_window_schedules_its_recompute_once(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 60
    cache.add(windows.window_cache_key(COURSE), time.time() + 60, timeout=60)  # a quiet course's window elsewhere:
    events = course_stream(COURSE, learners=3)  # its opener recomputed at once and scheduled nothing
    for part in (events[:3], events[3:6], events[6:]):
        assert tasks.process_event_batch.run(part, "live")["recomputed"] == 0
    assert [call["args"] for call in worker.scheduled] == [[[COURSE]]]
    assert 1 < worker.scheduled[0]["countdown"] <= 60 + 1
    run_scheduled(worker.scheduled)
    assert not DirtyScope.objects.using(conf.analytics_db()).exists()


def test_a_lone_batch_of_a_course_that_is_not_busy_is_recomputed_at_once(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600  # a window far longer than anyone waits
    result = tasks.process_event_batch.run(course_stream(COURSE, learners=3)[:6], "live")
    assert result["recomputed"] > 0
    assert not DirtyScope.objects.using(conf.analytics_db()).filter(course_id=COURSE).exists()
    assert api_snapshot(COURSE)["enrollment"]
    # nothing is left behind it: no delayed task for a window nobody else joined
    assert worker.scheduled == []


def test_a_batch_joining_a_quiet_window_waits_for_the_window_s_one_recompute(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600
    events = course_stream(COURSE, learners=4)
    assert tasks.process_event_batch.run(events[:4], "live")["recomputed"] > 0  # opens the window: at once
    assert tasks.process_event_batch.run(events[4:8], "live")["recomputed"] == 0  # joins it
    assert tasks.process_event_batch.run(events[8:], "live")["recomputed"] == 0
    assert [(call["args"], call["countdown"]) for call in worker.scheduled] == [([[COURSE]], 3600 + 1)]
    run_scheduled(worker.scheduled)
    assert not DirtyScope.objects.using(conf.analytics_db()).filter(course_id=COURSE).exists()


def test_a_busy_course_keeps_one_recompute_per_window_until_it_falls_quiet(settings, worker):
    settings.OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS = 3600
    events = course_stream(COURSE, learners=6, seed=4)
    tasks.process_event_batch.run(events[:5], "live")  # opens the window, recomputed at once
    assert tasks.process_event_batch.run(events[5:10], "live")["recomputed"] == 0  # joins it: the course is busy
    assert cache.get(windows.busy_cache_key(COURSE))

    cache.delete(windows.window_cache_key(COURSE))  # the window closes while the course is still busy
    assert windows.forget_window(COURSE)
    assert tasks.process_event_batch.run(events[10:15], "live")["recomputed"] == 0  # left to its window
    assert DirtyScope.objects.using(conf.analytics_db()).filter(course_id=COURSE).exists()
    assert [call["args"] for call in worker.scheduled] == [[[COURSE]], [[COURSE]]]

    cache.delete(windows.window_cache_key(COURSE))  # later: the window closed, the busy mark expired
    cache.delete(windows.busy_cache_key(COURSE))
    windows.forget_window(COURSE)
    assert tasks.process_event_batch.run(events[15:], "live")["recomputed"] > 0  # quiet again: at once
    assert not DirtyScope.objects.using(conf.analytics_db()).filter(course_id=COURSE).exists()
