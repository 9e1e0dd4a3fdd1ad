"""Smoke: a raw tracking event goes through the pipeline into the Python API."""
import pytest

from openedx_analytics import api
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.worker.drain import drain
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

COURSE = "course-v1:Org+Num+Run"


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE)


def test_enrollment_and_video_events_reach_the_api():
    events = [
        {"name": "edx.course.enrollment.activated", "timestamp": "2026-01-05T10:00:00+00:00",
         "data": {"course_id": COURSE, "user_id": 7, "mode": "audit"}, "context": {"course_id": COURSE}},
        {"name": "play_video", "timestamp": "2026-01-05T10:01:00+00:00",
         "data": {"id": "abc", "currentTime": 0, "duration": 60}, "context": {"course_id": COURSE, "user_id": 7}},
        {"name": "pause_video", "timestamp": "2026-01-05T10:01:12+00:00",
         "data": {"id": "abc", "currentTime": 12, "duration": 60}, "context": {"course_id": COURSE, "user_id": 7}},
    ]
    result = ingest(events, source="test")
    assert result.accepted == 3, result.rejected
    drain()
    enrollment = api.get_enrollment(COURSE)
    assert enrollment[0]["count"] == 1
    videos = api.get_videos(COURSE)
    assert videos[0]["users_at_start"] == 1
    assert [r["num_users"] for r in api.get_video_timeline(COURSE, videos[0]["video_id"])][:4] == [1, 1, 1, 0]
    assert api.get_activity(COURSE, granularity="day")[0]["played_video"] == 1
