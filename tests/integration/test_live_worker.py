"""The live path end to end: the LMS's doors, Redis, a real Celery worker, the Python API."""
import datetime as dt

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from eventtracking import tracker

from openedx_analytics import api
from openedx_analytics.settings.common import TRACKING_BACKEND_KEY
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Live+Run"


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE)


@override_settings(OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS=60)
def test_lms_requests_reach_the_aggregates_in_messages_batched_across_requests(client, celery_worker):
    """Each enrollment request's signal and tracking event go to the publisher; one message carries all three."""
    for username, mode in (("ada", "verified"), ("bob", "audit"), ("cy", "audit")):
        response = client.post(reverse("host-enroll", args=[COURSE]), {"username": username, "mode": mode})
        assert response.status_code == 200
    assert celery_worker.task_ids == []  # held in the buffer (a long linger), not sent by the requests

    results = celery_worker.wait_idle()  # sends what waits, then waits for the worker

    assert [r["accepted"] for r in results] == [6]
    today = api.get_enrollment(COURSE)[-1]
    assert today["count"] == 3
    assert {mode: row["count"] for mode, row in today["modes"].items()} == {"audit": 2, "verified": 1}
    assert api.known_course_ids() == [COURSE]


def test_tracking_events_emitted_in_a_transaction_reach_the_worker(celery_worker):
    """Our backend is registered in the process tracker; its events leave only on commit."""
    assert TRACKING_BACKEND_KEY in tracker.get_tracker().backends
    video = {"id": "intro", "duration": 60}
    for user in (11, 12):
        with transaction.atomic(), tracker.get_tracker().context(
            "edx.course.browser", {"course_id": COURSE, "user_id": user, "event_source": "browser"}
        ):
            tracker.emit("play_video", {**video, "currentTime": 0})
            tracker.emit("pause_video", {**video, "currentTime": 25 if user == 11 else 50})
    with transaction.atomic(), tracker.get_tracker().context("x", {"course_id": COURSE, "user_id": 13}):
        tracker.emit("play_video", {**video, "currentTime": 0})
        transaction.set_rollback(True)  # never committed: never sent

    celery_worker.wait_idle()

    [summary] = api.get_videos(COURSE)
    assert summary["users_at_start"] == 2
    timeline = {row["segment"]: row["num_users"] for row in api.get_video_timeline(COURSE, summary["video_id"])}
    assert timeline[0] == 2
    assert timeline[max(timeline)] == 0
    assert api.get_activity(COURSE, granularity="day")[0]["played_video"] == 2


def test_openedx_signal_sent_in_a_transaction_reaches_the_worker(celery_worker):
    """The openedx-events door: ``send_event`` inside a transaction, delivered after commit."""
    from opaque_keys.edx.keys import CourseKey
    from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData
    from openedx_events.learning.signals import COURSE_ENROLLMENT_CHANGED, COURSE_ENROLLMENT_CREATED

    def enrollment(user_id: int, mode: str, active: bool) -> CourseEnrollmentData:
        return CourseEnrollmentData(
            user=UserData(id=user_id, is_active=True, pii=UserPersonalData(username=f"u{user_id}", email="e@x.test")),
            course=CourseData(course_key=CourseKey.from_string(COURSE)),
            mode=mode, is_active=active, creation_date=dt.datetime.now(dt.timezone.utc),
        )

    with transaction.atomic():
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=enrollment(21, "audit", True))
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=enrollment(22, "audit", True))
    with transaction.atomic():
        COURSE_ENROLLMENT_CHANGED.send_event(enrollment=enrollment(22, "verified", True))

    celery_worker.wait_idle()

    today = api.get_enrollment(COURSE)[-1]
    assert today["count"] == 2
    assert {mode: row["count"] for mode, row in today["modes"].items()} == {"audit": 1, "verified": 1}
