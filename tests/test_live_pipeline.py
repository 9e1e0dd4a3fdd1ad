"""Signal and tracking event in, the contract's numbers out, through the real doors (Celery eager)."""
from __future__ import annotations

import logging
import random
from unittest import mock

import pytest
from django.core.signals import request_started
from django.db import transaction
from edx_toggles.toggles.testutils import override_waffle_switch

from openedx_analytics import api
from openedx_analytics.lms.toggles import PAUSE_ENQUEUEING
from openedx_analytics.models import RejectedEventSample, RejectionCount
from openedx_analytics.worker import tasks
from tests.support import doors
from tests.support.doors import FakeRequest, assert_scenario_numbers
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE)


def test_every_door_and_event_kind_gives_the_contract_numbers(captured_batches):
    with FakeRequest():
        doors.run_scenario()
    assert len(captured_batches) == 1, "one request must send one Celery message"
    assert_scenario_numbers(doors.observed(), doors.now().date())


def test_duplicated_and_shuffled_delivery_gives_identical_numbers(captured_batches):
    with FakeRequest():
        doors.run_scenario()
    first = doors.observed()
    (batch,) = captured_batches
    replay = batch * 2
    random.Random(7).shuffle(replay)
    for start in range(0, len(replay), 5):  # several batches, in shuffled order
        tasks.process_event_batch.apply(args=[replay[start:start + 5], "live"])
    assert doors.observed() == first
    assert_scenario_numbers(first, doors.now().date())


def test_events_of_a_rolled_back_transaction_are_not_sent(captured_batches):
    with FakeRequest():
        try:
            with transaction.atomic():
                doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 5, "audit")
                raise RuntimeError("the LMS view failed")
        except RuntimeError:
            pass
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 6, "audit")
    (batch,) = captured_batches
    assert [event["data"]["user_id"] for event in batch] == [6]


def test_signal_payload_carries_no_personal_data(captured_batches):
    with FakeRequest():
        doors.certificate(doors.signals.CERTIFICATE_CREATED, 1, "honor", "downloadable")
        doors.forum_signal(1)
    text = repr(captured_batches)
    for secret in ("learner1", "l1@example.com", "Learner 1", "https://x/", "A question"):
        assert secret not in text


def test_malformed_events_are_rejected_and_the_good_ones_count(captured_batches):
    with FakeRequest():
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
        doors.emit("play_video", {"id": doors.VIDEO, "currentTime": 0}, 1, course_id="not a course")
        doors.emit("pause_video", {"id": doors.VIDEO, "currentTime": "soon"}, 1)
        doors.emit("problem_check", {"attempts": 1, "grade": 1}, 1, event_source="server")
        doors.emit("seek_video", {"id": doors.VIDEO}, 1)
        doors.emit("edx.course.enrollment.activated", {"course_id": doors.COURSE, "user_id": "x", "mode": "audit"},
                   2)
        doors.emit("edx.forum.thread.created", {}, 3)
    result = tasks.process_event_batch.apply(args=[[*captured_batches[0], "not an event", {"name": 5}], "live"])
    assert result.get()["rejected"] == {
        "bad_course_id": 1, "wrong_type": 1, "missing_field": 2, "bad_user_id": 1, "not_an_object": 1, "no_name": 1,
    }
    assert api.get_enrollment(doors.COURSE)[-1]["count"] == 1
    assert api.get_activity(doors.COURSE, granularity="day")[-1]["posted_forum"] == 1
    counts = dict(RejectionCount.objects.using("analytics").values_list("reason", "count"))
    assert counts["missing_field"] == 4  # twice: once from the live request, once from the replay above
    sample = RejectedEventSample.objects.using("analytics").filter(reason="bad_course_id").first()
    assert "not a course" in sample.payload and "not a course key" in sample.detail


def test_untracked_events_are_dropped_before_enqueueing(captured_batches):
    with FakeRequest():
        doors.emit("edx.ui.lms.link_clicked", {}, None)  # no learner
        doors.emit("edx.bi.user.account.registered", {}, 9, course_id=None)  # no course
    assert captured_batches == []


def test_kill_switch_stops_all_enqueueing(captured_batches, caplog):
    with override_waffle_switch(PAUSE_ENQUEUEING, True), FakeRequest():
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
    assert captured_batches == []
    assert api.get_enrollment(doors.COURSE) == []


def test_broker_failure_never_reaches_the_lms_and_logs_the_gap(caplog):
    with mock.patch.object(tasks.process_event_batch, "apply_async", side_effect=OSError("connection refused")):
        with caplog.at_level(logging.ERROR, logger="openedx_analytics.live.dispatch"), FakeRequest():
            doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
            doors.emit("play_video", {"id": doors.VIDEO, "currentTime": 0}, 1)
    (message,) = [r.getMessage() for r in caplog.records if "LOST" in r.getMessage()]
    assert "LOST 2 events" in message
    assert f"--course {doors.COURSE}" in message and "--since" in message and "--until" in message


def test_a_receiver_bug_never_raises_into_the_lms(caplog):
    with caplog.at_level(logging.ERROR), \
            mock.patch("openedx_analytics.signals.receivers.enqueue", side_effect=RuntimeError("bug")) as signal_door:
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")  # returns normally
    assert signal_door.called  # the bug did happen inside the receiver
    assert "could not take a signal; it is lost" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR), \
            mock.patch("openedx_analytics.live.tracking.enqueue", side_effect=RuntimeError("bug")) as tracking_door:
        doors.emit("play_video", {"id": doors.VIDEO, "currentTime": 0}, 1)
    assert tracking_door.called
    assert "tracking backend failed on an event; it is lost" in caplog.text
    assert api.get_enrollment(doors.COURSE) == [] and api.get_videos(doors.COURSE) == []


def test_large_requests_are_sent_in_bounded_batches(captured_batches, settings):
    settings.OPENEDX_ANALYTICS_MAX_BATCH_SIZE = 10
    with FakeRequest():
        for user_id in range(1, 26):
            doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, user_id, "audit")
    assert [len(b) for b in captured_batches] == [10, 10, 5]
    assert api.get_enrollment(doors.COURSE)[-1]["count"] == 25


def test_a_request_that_never_finished_does_not_hold_back_later_events(captured_batches):
    request_started.send(sender=FakeRequest)  # its request_finished never comes
    doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
    with FakeRequest():
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 2, "audit")
    assert [[event["data"]["user_id"] for event in batch] for batch in captured_batches] == [[1], [2]]


def test_an_eager_task_inside_a_request_keeps_the_request_batched(captured_batches):
    with FakeRequest():
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 1, "audit")
        tasks.recompute_dirty_scopes.apply()  # a task run eagerly within the request
        doors.enroll(doors.signals.COURSE_ENROLLMENT_CREATED, 2, "audit")
    assert [[event["data"]["user_id"] for event in batch] for batch in captured_batches] == [[1, 2]]


def test_operators_see_rejections_in_the_admin(client, django_user_model):
    tasks.process_event_batch.apply(args=[[{"name": "play_video", "context": {"course_id": "nope"}}], "live"])
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    listing = client.get("/admin/openedx_analytics/rejectedeventsample/")
    assert listing.status_code == 200 and "bad_time" in listing.content.decode()
    counts = client.get("/admin/openedx_analytics/rejectioncount/")
    assert counts.status_code == 200 and "bad_time" in counts.content.decode()
    assert client.get("/admin/openedx_analytics/rejectioncount/add/").status_code == 403
