"""A retired learner's answer leaves the cached page and section at once, not when the cache entry expires.

Content cache keys are hashes, so retirement gives each course it touched a new cache
generation (``course_cache``): once on commit, and again when the recompute has run.
"""
from types import SimpleNamespace
from unittest import mock

import pytest
from django.http import QueryDict

from lms_host.stub import signals as lms_retirement
from openedx_analytics import course_cache
from openedx_analytics.dashboard import content
from openedx_analytics.live import retirement as retirement_door
from openedx_analytics.worker import tasks
from tests.support.api import COURSE, PROBLEM, problem_event
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

ANSWER = "Lyon-of-learner-3"
LEARNER = SimpleNamespace(id=3, username="learner3")


@pytest.fixture
def answered(history_loaded):
    """Learner 3 answers the problem with an answer nobody else gave."""
    tasks.process_event_batch.apply(args=[[problem_event("2026-01-14", LEARNER.id, 1, ANSWER, False)], "live"]).get()


def section() -> str:
    """The section's content for the problem's drill-down (the section shows what the page shows)."""
    query = QueryDict(mutable=True)
    query["problem"] = PROBLEM
    return content.render_content(COURSE, query, embedded=True)


def retire(django_capture_on_commit_callbacks, signal=lms_retirement.USER_RETIRE_LMS_CRITICAL):
    with django_capture_on_commit_callbacks(execute=True, using="analytics"):
        signal.send(sender=None, user=LEARNER)


def test_the_cached_page_and_section_drop_a_retired_learners_answer_at_once(
        people, answered, analytics_on, settings, django_capture_on_commit_callbacks):
    settings.OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS = 3600
    staff = client(people["course_staff"])
    assert ANSWER in staff.get(page_url(), {"problem": PROBLEM}).content.decode()
    assert ANSWER in section()

    retire(django_capture_on_commit_callbacks)

    assert ANSWER not in staff.get(page_url(), {"problem": PROBLEM}).content.decode()
    assert ANSWER not in section()


def test_the_generation_changes_on_commit_and_again_after_the_recompute(people, answered,
                                                                       django_capture_on_commit_callbacks):
    first = course_cache.generation(COURSE)
    with mock.patch.object(retirement_door.recompute_dirty_scopes, "apply_async") as sent:
        retire(django_capture_on_commit_callbacks)
    on_commit = course_cache.generation(COURSE)
    assert on_commit != first
    (call,) = sent.call_args_list
    assert call.kwargs["args"] == ([COURSE],) and call.kwargs["kwargs"]["clear_cached_content"] is True
    tasks.recompute_dirty_scopes.apply(args=call.kwargs["args"], kwargs=call.kwargs["kwargs"]).get()
    assert course_cache.generation(COURSE) not in (first, on_commit)


def test_other_courses_keep_their_cached_content(people, answered, django_capture_on_commit_callbacks):
    other = "course-v1:Other+X+2026"
    before = course_cache.generation(other)
    retire(django_capture_on_commit_callbacks)
    assert course_cache.generation(other) == before


def test_a_cache_that_cannot_be_written_never_fails_the_retirement(people, answered,
                                                                   django_capture_on_commit_callbacks):
    with mock.patch.object(course_cache.cache, "set_many", side_effect=ConnectionError("cache down")):
        retire(django_capture_on_commit_callbacks)  # logged, not raised
