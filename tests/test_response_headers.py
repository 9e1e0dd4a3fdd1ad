"""What every answer tells caches and browsers: API answers are never stored, the page frames only in its origin.

The REST API's JSON and CSV carry learners' answers, so every answer of a data endpoint
(errors included: a refusal cached by a proxy would answer the next caller) says
``private, no-store`` as the page does. The page may be framed by pages of the LMS's own
origin only (``frame-ancestors 'self'``), refusals included.
"""
import pytest
from django.test import override_settings

from openedx_analytics.dashboard import views
from tests.support.api import BASE, client_for, endpoints
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

NO_STORE = "private, no-store"


@pytest.mark.parametrize("name", sorted(endpoints()))
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_every_data_endpoint_answer_is_private_and_never_stored(people, history_loaded, analytics_on, name, fmt):
    response = client_for(people["course_staff"]).get(endpoints()[name], {"format": fmt})
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize(("who", "url", "status"), [
    (None, "summary", 401),
    ("learner", "summary", 403),
    ("course_staff", f"{BASE}courses/not-a-course/summary/", 400),
    ("course_staff", f"{BASE}courses/course-v1:Org+None+2026/summary/", 403),
    ("global_staff", f"{BASE}courses/course-v1:Org+None+2026/summary/", 404),
    ("course_staff", "activity?granularity=month", 400),
])
def test_error_answers_are_never_stored_either(people, history_loaded, analytics_on, who, url, status):
    if not url.startswith("/"):
        name, _, query = url.partition("?")
        url = endpoints()[name] + (f"?{query}" if query else "")
    response = client_for(people[who] if who else None).get(url)
    assert response.status_code == status
    assert response["Cache-Control"] == NO_STORE


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE="1/minute")
def test_a_throttled_answer_is_never_stored(people, history_loaded, analytics_on):
    staff = client_for(people["course_staff"])
    staff.get(endpoints()["summary"])
    response = staff.get(endpoints()["summary"])
    assert response.status_code == 429
    assert response["Cache-Control"] == NO_STORE


def test_the_page_may_be_framed_by_its_own_origin_only(people, history_loaded, analytics_on):
    for user, status in ((people["course_staff"], 200), (people["learner"], 403)):
        response = client(user).get(page_url())
        assert response.status_code == status
        directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
        assert "frame-ancestors 'self'" in directives
        assert response["Cache-Control"] == NO_STORE
    assert "frame-ancestors 'self'" in views.CONTENT_SECURITY_POLICY
