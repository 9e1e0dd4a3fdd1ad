"""Hypothesis against the ingest gateway: arbitrary bodies never raise past the view, and rejected items change nothing.

Bodies are arbitrary bytes, arbitrary JSON, and lists mixing arbitrary JSON with events
around the real shapes (registered names, valid and broken courses, users, times, ids,
payloads, drawn as ``test_properties`` draws them). Every answer is a 2xx or a 4xx whose body
is a JSON object that says what happened. And a batch's aggregates are exactly those of its
accepted items alone: each batch is sent whole, its aggregates read, rolled back, then only
the items it accepted are sent and the aggregates compared.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from openedx_analytics import conf, service_keys
from openedx_analytics.models import (
    BackfillCheckpoint,
    DirtyScope,
    GatewayCaller,
    GatewayReceipt,
    RejectedEventSample,
    RejectionCount,
    ScopeLock,
)
from openedx_analytics.models.gateway import SEND_PERMISSION
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.events.registry import DATA_FIELDS, REGISTRY
from tests.support import api as api_history
from tests.support.analytics import analytics_models

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

URL = "/api/analytics/v1/events/"
#: Tables that record the request itself (rejections, receipts, locks), not what the events counted.
BOOKKEEPING = (BackfillCheckpoint, DirtyScope, GatewayReceipt, RejectedEventSample, RejectionCount, ScopeFailure,
               ScopeLock)
TODAY = dt.datetime.now(dt.timezone.utc).date()
PROPERTY = settings(deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2 ** 62, max_value=2 ** 80)
           | st.floats() | st.text(max_size=40))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
users = st.one_of(st.integers(min_value=-5, max_value=10), st.integers(min_value=2 ** 63 - 2, max_value=2 ** 70),
                  st.sampled_from(["7", "x", "", None]))
payload_values = st.one_of(json_values, st.floats(min_value=-10, max_value=1e7), st.sampled_from(["v1", "audit", "A"]))
payloads = st.dictionaries(st.sampled_from(sorted(DATA_FIELDS) + ["username", "email", "code", "max_grade"]),
                           payload_values, max_size=8)
gateway_courses = st.sampled_from([api_history.COURSE, api_history.SISTER, api_history.OTHER, "nonsense", "",
                                   "course-v1:Org+Unknown+2026"])
gateway_times = st.one_of(st.sampled_from([f"{TODAY}T10:00:00Z", f"{TODAY}T10:00:05+00:00", "yesterday", ""]),
                          json_values)
ids = st.one_of(st.text(max_size=6), st.integers(min_value=-3, max_value=3), json_values)
names = st.sampled_from(sorted(REGISTRY) + ["seq_next", "x"])
near_events = st.one_of(
    st.fixed_dictionaries(
        {"event_type": names, "time": gateway_times,
         "context": st.fixed_dictionaries({"course_id": gateway_courses, "user_id": users})},
        optional={"id": ids, "event": st.one_of(payloads, payloads.map(json.dumps)),
                  "event_source": st.just("server")}),
    st.fixed_dictionaries(
        {"name": names, "time": gateway_times,
         "context": st.one_of(st.fixed_dictionaries({"course_id": gateway_courses, "user_id": users}), json_values)},
        optional={"id": ids, "data": st.one_of(payloads, json_values)}),
)
batches = st.lists(st.one_of(near_events, json_values), max_size=6)
bodies = st.one_of(st.binary(max_size=120), json_values.map(lambda v: json.dumps(v).encode()),
                   batches.map(lambda v: json.dumps(v).encode()))


@pytest.fixture
def sender_key(courses: tuple[str, str, str], analytics_on: None) -> str:
    """The ingest key of a service user granted everything for organization Org, unthrottled in practice."""
    user = get_user_model().objects.create_user("prop_sender", "p@example.com")
    user.user_permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    GatewayCaller.objects.create(user=user, organizations="Org", throttle_rate="100000/minute",
                                 grants="activity video problems enrollment grades certificates")
    return service_keys.issue_key(user, "ingest")


def _post(key: str, body: bytes) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.generic("POST", URL, body, content_type="application/json")


def _aggregates() -> dict[str, list[str]]:
    """Every fact and aggregate row, without ids and timestamps of computation, in a comparable form."""
    using = conf.analytics_db()
    snapshot = {}
    for model in analytics_models():
        if model in BOOKKEEPING:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "last_updated")]
        rows = model.objects.using(using).values_list(*fields)
        snapshot[model.__name__] = sorted(json.dumps(list(row), default=str) for row in rows)
    return snapshot


class _Rollback(Exception):
    pass


@settings(PROPERTY, max_examples=150)
@given(bodies)
def test_any_body_gets_a_2xx_or_4xx_with_a_readable_body(sender_key, body):
    response = _post(sender_key, body)
    assert 200 <= response.status_code < 300 or 400 <= response.status_code < 500, response.status_code
    answer = response.json()
    assert isinstance(answer, dict)
    if response.status_code in (200, 207, 422):
        assert {"accepted", "rejected", "duplicates", "stored"} <= set(answer)
        for error in answer["rejected"]:
            assert isinstance(error["index"], int) and error["reason"] and isinstance(error["field"], str)
    else:
        assert answer.get("detail") or answer.get("error")


@settings(PROPERTY, max_examples=40)
@given(batches)
def test_rejected_items_change_no_aggregate(sender_key, batch):
    try:
        with transaction.atomic(using="default"), transaction.atomic(using=conf.analytics_db()):
            response = _post(sender_key, json.dumps(batch).encode())
            assert response.status_code in (200, 207, 422), response.content
            rejected = {error["index"] for error in response.json()["rejected"]}
            whole = _aggregates()
            raise _Rollback
    except _Rollback:
        pass
    kept = [item for index, item in enumerate(batch) if index not in rejected]
    with transaction.atomic(using="default"), transaction.atomic(using=conf.analytics_db()):
        if kept:
            again = _post(sender_key, json.dumps(kept).encode())
            assert again.json()["rejected"] == [], again.content
        assert _aggregates() == whole
        transaction.set_rollback(True, using="default")
        transaction.set_rollback(True, using=conf.analytics_db())
