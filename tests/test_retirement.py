"""Learner retirement: the LMS's retirement signal in, nothing of the learner left, aggregates without them."""
from __future__ import annotations

import re

import pytest
from django.db import connections

from lms_host.stub import signals as lms_retirement
from openedx_analytics import api
from openedx_analytics.live import retirement as retirement_door
from openedx_analytics.lms import retirement_signals
from openedx_analytics.models import DirtyScope, RejectedEventSample
from openedx_analytics.pipeline.kinds import LEARNER_TABLES
from openedx_analytics.privacy import retirement
from tests.support import doors
from tests.support.doors import FakeRequest
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other), and their outline."""
    lms_knows(doors.COURSE)
    doors.scenario_outline()


def rows_of(user_id: int) -> dict[str, int]:
    return {model.__name__: model.objects.using("analytics").filter(user_id=user_id).count()
            for model in LEARNER_TABLES}


def names(user_id: int, payload: str) -> bool:
    """Whether a stored sample names ``user_id`` as a JSON field, wherever the field falls in the object."""
    return re.search(rf'"user_id": {user_id}[,}}]', payload) is not None


def scenario_with_rejections() -> None:
    with FakeRequest():
        doors.run_scenario()
        doors.emit("pause_video", {"id": doors.VIDEO, "currentTime": "soon"}, 1)   # rejected, names learner 1
        doors.emit("pause_video", {"id": doors.VIDEO, "currentTime": "later"}, 3)  # rejected, names learner 3


@pytest.mark.parametrize("signal", [lms_retirement.USER_RETIRE_LMS_MISC, lms_retirement.USER_RETIRE_LMS_CRITICAL])
def test_a_retired_learner_leaves_nothing_and_no_longer_counts(django_user_model, signal):
    scenario_with_rejections()
    assert all(rows_of(1).values()), rows_of(1)  # learner 1 enrolled, watched, answered, passed, certified
    samples = list(RejectedEventSample.objects.using("analytics").values_list("payload", flat=True))
    assert any(names(1, p) for p in samples) and any(names(3, p) for p in samples)
    others = rows_of(3)
    learner = django_user_model.objects.create(id=1, username="learner1", email="l1@example.com")

    signal.send(sender=None, user=learner)

    assert rows_of(1) == dict.fromkeys(rows_of(1), 0)
    payloads = list(RejectedEventSample.objects.using("analytics").values_list("payload", flat=True))
    assert not any("learner1" in p or names(1, p) for p in payloads)
    assert any(names(3, p) for p in payloads), "another learner's sample was deleted"
    assert not DirtyScope.objects.using("analytics").exists(), "the recompute did not run"
    assert rows_of(3) == others, "another learner's facts were touched"

    today = doors.now().date()
    (enrollment,) = [{k: v for k, v in r.items() if k not in ("last_updated", "partial")}
                     for r in api.get_enrollment(doors.COURSE)]
    assert enrollment == {"date": today, "count": 1, "cumulative_count": 2, "enrollments": 2, "unenrollments": 1,
                          "modes": {"verified": {"count": 1, "cumulative_count": 2}}}
    (day,) = api.get_activity(doors.COURSE, granularity="day")
    assert (day["any"], day["attempted_problem"], day["played_video"], day["posted_forum"]) == (2, 1, 1, 1)
    (video,) = api.get_videos(doors.COURSE)
    assert (video["users_at_start"], video["views"]) == (1, 2)  # learner 3 viewed twice
    timeline = api.get_video_timeline(doors.COURSE, video["video_id"])
    assert max(row["num_users"] for row in timeline) == 1
    (problem,) = api.get_problems(doors.COURSE)
    assert (problem["users_attempted"], problem["total_submissions"], problem["first_attempt_correct"]) == (1, 1, 1)
    answers = api.get_answer_distribution(doors.COURSE, problem["problem_id"])
    assert [(a["answer_value"], a["count"]) for a in answers] == [("Lyon", 1)]
    grades = api.get_grades(doors.COURSE)
    assert grades["passing_users"] == 0 and grades["certificates"] == {}
    assert {b["bucket"]: b["count"] for b in grades["buckets"] if b["count"]} == {"40-49": 1}


def test_retiring_twice_or_a_learner_we_never_saw_is_harmless(django_user_model):
    scenario_with_rejections()
    before = rows_of(3)
    stranger = django_user_model.objects.create(id=77, username="stranger77")
    for signal in retirement_signals.retirement_signals():
        signal.send(sender=None, user=stranger)
    assert rows_of(3) == before
    assert retirement.retire_learner(77).deleted.total() == 0


def test_retirement_signals_come_through_the_lms_seam_and_reach_our_receiver():
    found = retirement_signals.retirement_signals()
    assert found == [lms_retirement.USER_RETIRE_LMS_MISC, lms_retirement.USER_RETIRE_LMS_CRITICAL]
    for signal in found:
        assert any(entry[0][0] == retirement_door.DISPATCH_UID for entry in signal.receivers)


def test_sample_matching_is_by_field_not_by_digits(django_user_model):
    connections["analytics"].ensure_connection()
    RejectedEventSample.objects.using("analytics").bulk_create([
        RejectedEventSample(source="live", reason="r", payload='{"user_id": 12, "data": {"x": 1}}'),
        RejectedEventSample(source="live", reason="r", payload='{"user_id":"1","data":{}}'),
        RejectedEventSample(source="live", reason="r", payload='{"context": {"username": "learner1x"}}'),
        RejectedEventSample(source="live", reason="r", payload='{"context": {"username": "learner1"}}'),
    ])
    retired = retirement.retire_learner(1, ["learner1"])
    assert retired.deleted["RejectedEventSample"] == 2
    left = sorted(RejectedEventSample.objects.using("analytics").values_list("payload", flat=True))
    assert left == ['{"context": {"username": "learner1x"}}', '{"user_id": 12, "data": {"x": 1}}']
