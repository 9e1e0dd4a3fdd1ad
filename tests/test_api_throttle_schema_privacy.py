"""Throttling per user, the OpenAPI schema in step with the code, and no personal data in any response."""
import json

import pytest
import yaml
from django.test import override_settings

from openedx_analytics.api.v1 import docs
from openedx_analytics.models import AnalyticsConfiguration
from tests.support.api import BASE, SECRETS, body, clear_caches, client_for, endpoints

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]


def hits_until_throttled(client, url, limit=10):
    for n in range(1, limit + 1):
        response = client.get(url)
        if response.status_code == 429:
            return n
        assert response.status_code == 200
    return None


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE="3/minute")
def test_throttled_per_user_at_the_setting_rate(people, courses, analytics_on):
    url = endpoints()["summary"]
    staff, other = client_for(people["course_staff"]), client_for(people["global_staff"])
    assert hits_until_throttled(staff, url) == 4
    response = staff.get(url)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert hits_until_throttled(other, url) == 4  # each user has their own allowance


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE="3/minute")
def test_the_configuration_model_rate_wins_without_a_deploy(people, courses, analytics_on):
    AnalyticsConfiguration.objects.create(enabled=True, api_throttle_rate="5/minute")
    clear_caches()
    assert hits_until_throttled(client_for(people["course_staff"]), endpoints()["summary"]) == 6


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE="2/minute")
def test_an_unreadable_configured_rate_falls_back_to_the_setting(people, courses, analytics_on):
    AnalyticsConfiguration.objects.create(enabled=True, api_throttle_rate="lots")
    clear_caches()
    assert hits_until_throttled(client_for(people["course_staff"]), endpoints()["summary"]) == 3


def test_configuration_refuses_a_bad_rate():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        AnalyticsConfiguration(api_throttle_rate="fast").clean()
    AnalyticsConfiguration(api_throttle_rate="60/hour").clean()


def test_committed_schema_equals_the_generated_one():
    """If this fails, run: python -m django analytics_openapi --settings=test_settings"""
    assert docs.SCHEMA_FILE.read_text(encoding="utf-8") == docs.as_yaml(docs.generate())


def test_schema_documents_every_endpoint_and_is_served(client):
    response = client.get(f"{BASE}schema/")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served == yaml.safe_load(docs.SCHEMA_FILE.read_text(encoding="utf-8"))
    paths = set(served["paths"])
    for url in endpoints().values():
        template = url.replace("course-v1:Org+Api+2026", "{course_id}")
        template = template.replace("block-v1:Org+Api+2026+type@video+block@vid1", "{video_id}")
        template = template.replace("block-v1:Org+Api+2026+type@problem+block@p1", "{problem_id}")
        assert template in paths
    assert set(served["components"]["securitySchemes"]) == {"jwtAuth", "cookieAuth", "insightsToken", "ingestKeyAuth"}
    as_json = client.get(f"{BASE}schema/", {"format": "json"})
    assert json.loads(as_json.content) == served


def test_docs_page_lists_every_endpoint_and_field(client):
    response = client.get(f"{BASE}docs/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("/api/analytics/v1/courses/{course_id}/enrollment/", "cumulative_count", "num_views",
                 "answer_value", "granularity", "start_date"):
        assert name in page
    assert "<script" not in page  # nothing loaded from elsewhere


def test_no_response_carries_personal_data(people, history_loaded, analytics_on):
    """Aggregates only: no username, email or per-learner field in any JSON or CSV response."""
    client = client_for(people["global_staff"])
    urls = list(endpoints().values())
    answered = 0
    assert urls
    for url in urls:
        for query in ({}, {"format": "csv"}, {"granularity": "day"}):
            clear_caches()
            response = client.get(url, query)
            assert response.status_code in (200, 400), url
            answered += response.status_code == 200
            text = body(response).decode()
            for secret in SECRETS:
                assert secret not in text, (url, secret)
            for field in ("user_id", "username", "email"):
                assert field not in text, (url, field)
    assert answered >= len(urls)  # every endpoint served figures at least once: the checks read real pages
