"""Nobody asks without limit: the REST API throttles refused callers too, and the page is throttled.

Anonymous calls and bad credentials are counted by address before any permission check
(they used to get 401 forever); signed-in callers by user. The page is held to the same
rate with its own count, through ``rate_limit`` (the dashboard does not import the API).
"""
import pytest
from django.test import override_settings

from openedx_analytics import rate_limit
from openedx_analytics.dashboard import views
from tests.support.api import client_for, endpoints
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

RATE = 3


def statuses(get, times=RATE + 1):
    return [get().status_code for _ in range(times)]


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=f"{RATE}/minute")
def test_anonymous_api_calls_are_throttled_by_address(courses, analytics_on):
    anonymous = client_for(None)
    url = endpoints()["summary"]
    assert statuses(lambda: anonymous.get(url)) == [401] * RATE + [429]
    refused = anonymous.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert anonymous.get(url, REMOTE_ADDR="10.0.0.2").status_code == 401  # another address, its own allowance


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=f"{RATE}/minute")
def test_bad_credentials_are_throttled_by_address(courses, analytics_on):
    forger = client_for(None)
    forger.credentials(HTTP_AUTHORIZATION="JWT not.a.token")
    assert statuses(lambda: forger.get(endpoints()["summary"])) == [401] * RATE + [429]


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=f"{RATE}/minute")
def test_a_refused_signed_in_caller_is_throttled_by_user(people, courses, analytics_on):
    learner = client_for(people["learner"])
    assert statuses(lambda: learner.get(endpoints()["summary"])) == [403] * RATE + [429]
    staff = client_for(people["course_staff"])  # same address, another user
    assert staff.get(endpoints()["summary"]).status_code == 200


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=f"{RATE}/minute")
def test_the_page_is_throttled_by_user_with_retry_after(people, history_loaded, analytics_on):
    staff = client(people["course_staff"])
    assert statuses(lambda: staff.get(page_url())) == [200] * RATE + [429]
    refused = staff.get(page_url())
    assert int(refused["Retry-After"]) > 0
    assert refused["Content-Security-Policy"] == views.CONTENT_SECURITY_POLICY
    assert refused["Cache-Control"] == "private, no-store"
    assert b"Too many requests" in refused.content
    assert client(people["instructor"]).get(page_url()).status_code == 200  # each user has their own allowance
    assert client_for(people["course_staff"]).get(endpoints()["summary"]).status_code == 200  # API counted apart


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=f"{RATE}/minute")
def test_the_pages_login_redirect_is_throttled_by_address(courses, analytics_on):
    anonymous = client(None)
    assert statuses(lambda: anonymous.get(page_url())) == [302] * RATE + [429]
    assert anonymous.get(page_url(), REMOTE_ADDR="10.0.0.2").status_code == 302


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE="2/minute")
def test_the_window_slides_and_the_wait_is_until_the_oldest_request_leaves_it():
    assert rate_limit.refused_for("t", "who", now=1000.0) is None
    assert rate_limit.refused_for("t", "who", now=1010.0) is None
    assert rate_limit.refused_for("t", "who", now=1030.0) == pytest.approx(30.0)
    assert rate_limit.refused_for("t", "who", now=1060.5) is None  # the request at 1000 has left the window
    assert rate_limit.refused_for("t", "who", now=1061.0) == pytest.approx(9.0)
    assert rate_limit.refused_for("t", "someone else", now=1061.0) is None


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=None)
def test_no_rate_no_limit():
    assert all(rate_limit.refused_for("t", "who", now=1000.0) is None for _ in range(50))


@pytest.mark.parametrize(("rate", "parsed"), [("120/minute", (120, 60)), ("5/s", (5, 1)), ("7/hour", (7, 3600)),
                                              ("1/day", (1, 86400)), (None, None)])
def test_rates_read_like_drfs(rate, parsed):
    assert rate_limit.parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["lots", "5/fortnight", "/minute", "x/m", "5"])
def test_unreadable_rates_are_refused(rate):
    with pytest.raises(ValueError):
        rate_limit.parse_rate(rate)
