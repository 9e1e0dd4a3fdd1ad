"""A course's enrollment summary row (``EnrollmentSummary``) is what a search of its latest day would find:
after live events in any order, a backfill, a retirement, and for days stored before the upgrade."""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import itertools
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms_host.stub import signals as lms_retirement
from openedx_analytics import api, conf
from openedx_analytics.backfill.verify import verify_course
from openedx_analytics.models import EnrollmentDay, EnrollmentSummary
from openedx_analytics.pipeline.facts import write_facts
from openedx_analytics.pipeline.records import EnrollmentChange
from openedx_analytics.worker.drain import drain
from tests.support import doors
from tests.support.commands import backfill
from tests.support.lms import lms_knows
from tests.support.logs import COURSES, SampleLog

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

FIELDS = ("date", "count", "cumulative_count", "count_week_before", "modes", "last_updated")
_course_numbers = itertools.count()


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE, *COURSES)
    doors.scenario_outline()


def from_days(course: str) -> tuple | None:
    """The summary as the course lists computed it before the row existed: the latest stored day and the day
    seven days before it (None: no stored day)."""
    days = EnrollmentDay.objects.using(conf.analytics_db()).filter(course_id=course)
    latest = days.order_by("-date").first()
    if latest is None:
        return None
    week_ago = days.filter(date=latest.date - dt.timedelta(days=7)).first()
    return (latest.date, latest.count, latest.cumulative_count, week_ago.count if week_ago else 0, latest.modes,
            latest.last_updated)


def stored(course: str) -> tuple | None:
    """The course's summary row (None: no row)."""
    row = EnrollmentSummary.objects.using(conf.analytics_db()).filter(course_id=course).values_list(*FIELDS).first()
    return tuple(row) if row else None


def assert_summary_matches_days(course: str) -> None:
    """The row equals the old computation, and the course list reads the same figures either way."""
    expected = from_days(course)
    assert stored(course) == expected
    (summary,) = api.get_course_summaries([course])
    if expected is None:
        assert (summary["count"], summary["cumulative_count"], summary["enrollment_modes"]) == (0, 0, {})
    else:
        date, count, cumulative, before, modes, _stamp = expected
        assert (summary["count"], summary["cumulative_count"], summary["count_change_7_days"],
                summary["enrollment_modes"]) == (count, cumulative, count - before, modes)


def _histories(today: dt.date) -> st.SearchStrategy:
    """Enrollment changes of a few learners over the last three weeks, in batches, some of them a backfill's."""
    times = st.builds(
        lambda day, second: dt.datetime.combine(today - dt.timedelta(days=day), dt.time(),
                                                tzinfo=dt.timezone.utc) + dt.timedelta(seconds=second),
        st.integers(0, 20), st.integers(0, 86_399),
    )

    def batch(course: str) -> st.SearchStrategy:
        change = st.builds(EnrollmentChange, st.just(course), st.integers(1, 6), times,
                           st.sampled_from(["audit", "verified", "honor"]), st.sampled_from([True, False, None]))
        return st.tuples(st.lists(change, min_size=1, max_size=8), st.sampled_from([False, False, True]))

    return st.integers().map(lambda _: f"course-v1:Sum+S{next(_course_numbers)}+2026").flatmap(
        lambda course: st.tuples(st.just(course), st.lists(batch(course), min_size=1, max_size=6), st.randoms()))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=_histories(dt.datetime.now(dt.timezone.utc).date()))
def test_the_row_equals_the_latest_day_after_events_in_any_order(history):
    """Live batches and backfills, then the same changes delivered in another order to a second course:
    after each drain the row is what the days give, and each course ends with the row a whole rebuild gives
    (the tie-break of simultaneous changes is per course, so the two may differ)."""
    course, batches, random = history
    for changes, whole in batches:
        write_facts(changes, whole_courses=whole)
        drain(courses=[course])
        assert_summary_matches_days(course)
    twin = course.replace("+S", "+T")
    changes = [dataclasses.replace(change, course_id=twin) for batch, _whole in batches for change in batch]
    random.shuffle(changes)
    for start in range(0, len(changes), 3):
        write_facts(changes[start:start + 3])
        drain(courses=[twin])
        assert_summary_matches_days(twin)
    assert verify_course(course) == [] and verify_course(twin) == []  # both equal a whole rebuild's row


def test_a_backfill_writes_every_course_row(tmp_path):
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    for course in COURSES:
        assert stored(course) is not None
        assert_summary_matches_days(course)


def retire(django_user_model, user_id: int) -> None:
    """The LMS's retirement signal for the learner ``user_id``."""
    learner = django_user_model.objects.create(id=user_id, username=f"learner{user_id}")
    lms_retirement.USER_RETIRE_LMS_MISC.send(sender=None, user=learner)


def test_a_retirement_leaves_the_row_right_and_removes_it_with_the_last_learner(django_user_model):
    with doors.FakeRequest():
        doors.run_scenario()
    before = stored(doors.COURSE)
    assert before is not None
    retire(django_user_model, 1)
    assert_summary_matches_days(doors.COURSE)
    assert stored(doors.COURSE)[1:3] != before[1:3]  # learner 1 no longer counts

    lonely = "course-v1:Sum+Lonely+2026"
    lms_knows(lonely)
    with doors.FakeRequest():
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 42, "audit", course_id=lonely)
    assert stored(lonely) is not None and stored(lonely)[1] == 1
    retire(django_user_model, 42)
    assert stored(lonely) is None
    assert_summary_matches_days(lonely)


def test_days_stored_before_the_upgrade_get_their_row_from_the_migration(tmp_path):
    backfill("--tracking-logs", str(SampleLog().write(tmp_path / "tracking.log")))
    using = conf.analytics_db()
    rows = {course: stored(course) for course in COURSES}
    summaries = api.get_course_summaries(COURSES)
    EnrollmentSummary.objects.using(using).all().delete()
    assert api.get_course_summaries(COURSES) == summaries  # read the long way until the rows are back
    migration = importlib.import_module("openedx_analytics.migrations.0012_enrollment_summary")
    migration.fill_summaries(django_apps, SimpleNamespace(connection=connections[using]))
    assert {course: stored(course) for course in COURSES} == rows
