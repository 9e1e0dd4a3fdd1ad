"""When the broker is down or enqueueing is paused, LMS requests carry on and the publisher logs the loss."""
import logging
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from edx_toggles.toggles.testutils import override_waffle_switch

from openedx_analytics import api
from openedx_analytics.live import dispatch, publisher
from openedx_analytics.lms.toggles import PAUSE_ENQUEUEING
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

COURSE = "course-v1:Org+Down+Run"
#: An LMS request must not wait on broker timeouts; this bound is far above a healthy request.
REQUEST_BUDGET_SECONDS = 10


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(COURSE)


def test_request_succeeds_and_logs_the_loss_when_the_broker_is_down(client, dead_broker, caplog):
    caplog.set_level(logging.INFO, logger="openedx_analytics")
    started = time.monotonic()
    response = client.post(reverse("host-enroll", args=[COURSE]), {"username": "ada", "mode": "verified"})
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < REQUEST_BUDGET_SECONDS
    assert get_user_model().objects.filter(username="ada").exists()  # the request's own work is done
    assert dispatch.wait_for_publisher(REQUEST_BUDGET_SECONDS)
    [lost] = [r for r in caplog.records if r.levelno == logging.ERROR and "LOST" in r.getMessage()]
    assert lost.threadName == publisher.THREAD_NAME
    message = lost.getMessage()
    assert "LOST 2 events" in message
    assert f"backfill_analytics --course {COURSE} --since " in message
    assert "--until " in message
    assert api.get_enrollment(COURSE) == []


def test_kill_switch_stops_enqueueing(client, celery_worker, caplog):
    caplog.set_level(logging.INFO, logger="openedx_analytics")
    with override_waffle_switch(PAUSE_ENQUEUEING, True):
        response = client.post(reverse("host-enroll", args=[COURSE]), {"username": "paused"})
        assert dispatch.wait_for_publisher(REQUEST_BUDGET_SECONDS)  # the publisher reads the switch per batch
    assert response.status_code == 200
    assert not celery_worker.task_ids
    assert any("enqueueing paused; dropped 2 events" in r.getMessage() for r in caplog.records)

    response = client.post(reverse("host-enroll", args=[COURSE]), {"username": "resumed"})
    assert response.status_code == 200
    celery_worker.wait_idle()

    assert len(celery_worker.task_ids) == 1
    assert api.get_enrollment(COURSE)[-1]["count"] == 1
