"""The ingest gateway as a sending service meets it: POST a batch, read the answer and the aggregates.

Every test goes through ``POST /api/analytics/v1/events/`` with a key from ``ingest_api_key``
(or the LMS's JWT), and reads what was stored through the public Python API or the tables,
with eager Celery (the recompute after the batch runs at once).
"""
from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import override_settings
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_latest_version_payload
from jwt.api_jwk import PyJWK
from rest_framework.test import APIClient

from openedx_analytics import api, conf, service_keys
from openedx_analytics.models import (
    EnrollmentFact,
    GatewayCaller,
    GradeFact,
    RejectionCount,
    VideoEventFact,
)
from openedx_analytics.models.gateway import SEND_PERMISSION
from tests.support import api as api_history
from tests.support.analytics import analytics_rows

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

URL = "/api/analytics/v1/events/"
COURSE, SISTER, OTHER = api_history.COURSE, api_history.SISTER, api_history.OTHER
VIDEO = "block-v1:Org+Api+2026+type@video+block@intro"
PROBLEM = "block-v1:Org+Api+2026+type@problem+block@p9"


def _today(clock: str = "10:00:00") -> str:
    return f"{dt.datetime.now(dt.timezone.utc).date().isoformat()}T{clock}+00:00"


def video(user_id: int, current: float, *, action: str = "play_video", course: str = COURSE,
          clock: str = "10:00:00", **extra: Any) -> dict[str, Any]:
    """A video event as a mobile backend would send it (tracking-log shape)."""
    return {"event_type": action, "time": _today(clock), "context": {"course_id": course, "user_id": user_id},
            "event": {"id": VIDEO.replace("Org+Api+2026", course.split(":")[1]), "currentTime": current,
                      "duration": 60}, **extra}


def problem(user_id: int, correct: bool, **extra: Any) -> dict[str, Any]:
    """A graded problem attempt (``problem_check``), as an LTI tool would report it."""
    return {"name": "problem_check", "time": _today("11:00:00"), "context": {"course_id": COURSE, "user_id": user_id},
            "data": {"problem_id": PROBLEM, "attempts": 1, "grade": 1 if correct else 0, "max_grade": 1}, **extra}


def enrollment(user_id: int, **extra: Any) -> dict[str, Any]:
    """An enrollment, as an e-commerce service would report it."""
    return {"name": "edx.course.enrollment.activated", "time": _today("09:00:00"),
            "context": {"course_id": COURSE, "user_id": user_id}, "data": {"mode": "verified"}, **extra}


def grade(user_id: int, percent: float, **extra: Any) -> dict[str, Any]:
    """A course grade."""
    return {"name": "edx.grades.course.grade_calculated", "time": _today("12:00:00"),
            "context": {"course_id": COURSE, "user_id": user_id}, "data": {"percent_grade": percent}, **extra}


@pytest.fixture
def sender(courses: tuple[str, str, str], analytics_on: None) -> Any:
    """A service user allowed to send for organization Org (activity, video and problems: the defaults)."""
    user = get_user_model().objects.create_user("mobile_backend", "mb@example.com")
    user.user_permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    GatewayCaller.objects.create(user=user, organizations="Org", throttle_rate="1000/minute")
    return user


def key_for(user: Any) -> str:
    """A key made the way an operator makes one: with the management command (the key is its last line)."""
    out = StringIO()
    call_command("ingest_api_key", user.username, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def post(user: Any, body: Any, *, query: str = "", raw: bytes | None = None, key: str | None = None) -> Any:
    """POST ``body`` (as JSON, or ``raw`` bytes) with ``user``'s ingest key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key or key_for(user)}")
    data = raw if raw is not None else json.dumps(body).encode()
    return client.generic("POST", URL + query, data, content_type="application/json")


def fact_counts() -> dict[str, int]:
    return {name: count for name, count in analytics_rows().items()
            if name.endswith(("Fact", "Day", "Week", "Summary", "Tally", "Grades", "Segment", "Viewer", "Learner",
                              "Answer", "LearnerWeek"))}


def test_a_valid_batch_is_stored_and_counted_in_the_aggregates(sender):
    batch = [video(41, 0, id="a1"), video(41, 30, action="pause_video", clock="10:00:30", id="a2"),
             problem(42, True, id="a3")]
    response = post(sender, batch)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["rejected"], body["duplicates"], body["stored"]) == (3, [], [], True)
    assert body["aggregates"]["visible_within_seconds"] > 0
    assert body["aggregates"]["courses"][COURSE].endswith(f"/api/analytics/v1/courses/{COURSE}/summary/")
    days = api.get_activity(COURSE, granularity="day")
    assert [(d["any"], d["played_video"], d["attempted_problem"]) for d in days] == [(2, 1, 1)]
    assert [v["video_id"] for v in api.get_videos(COURSE)] == [VIDEO]
    assert api.get_problem(COURSE, PROBLEM)["total_submissions"] == 1
    assert set(VideoEventFact.objects.using(conf.analytics_db()).values_list("source", flat=True)) == {
        "service:mobile_backend"}
    caller = GatewayCaller.objects.get(user=sender)
    assert (caller.accepted, caller.rejected, caller.duplicates) == (3, 0, 0)


def test_a_jwt_of_the_lms_works_as_a_key_does(sender):
    token = jwt.encode(generate_latest_version_payload(sender),
                       PyJWK.from_json(settings.JWT_AUTH["JWT_PRIVATE_SIGNING_JWK"]).key, algorithm="RS512")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"JWT {token}")
    response = client.post(URL, [video(41, 0)], format="json")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1


def test_a_mixed_batch_stores_the_good_items_and_names_each_bad_one(sender):
    batch = [
        video(41, 0, id="ok-1"),
        {**video(41, 0), "id": "bad-course", "context": {"course_id": "not a course", "user_id": 41}},
        {**video(41, 0), "id": "bad-time", "time": "yesterday"},
        {**video(41, 0), "id": 7, "event": {"id": VIDEO, "currentTime": "soon"}},
        {**problem(42, True), "id": "no-user", "context": {"course_id": COURSE}},
        "not an object",
        {**video(41, 5), "id": ["a", "list"]},
        video(43, 0, id="ok-2"),
    ]
    response = post(sender, batch)
    assert response.status_code == 207, response.content
    body = response.json()
    assert body["accepted"] == 2 and body["stored"] is True
    assert [(e["index"], e["id"], e["field"], e["reason"]) for e in body["rejected"]] == [
        (1, "bad-course", "context.course_id", "bad_course_id"),
        (2, "bad-time", "time", "bad_time"),
        (3, 7, "event.currentTime", "wrong_type"),
        (4, "no-user", "context.user_id", "no_user"),
        (5, None, "", "not_an_object"),
        (6, None, "id", "bad_id"),
    ]
    assert all(e["detail"] for e in body["rejected"])
    assert api.get_activity(COURSE, granularity="day")[0]["played_video"] == 2
    caller = GatewayCaller.objects.get(user=sender)
    assert (caller.accepted, caller.rejected) == (2, 6)
    assert {row["reason"] for row in caller.latest_rejections} == {
        "bad_course_id", "bad_time", "wrong_type", "no_user", "not_an_object", "bad_id"}
    assert RejectionCount.objects.using(conf.analytics_db()).get(source="gateway", reason="bad_time").count == 1


def test_atomic_mode_stores_nothing_when_one_item_is_bad(sender):
    batch = [video(41, 0, id="x1"), {**video(42, 0), "id": "x2", "time": "never"}, video(43, 0, id="x3")]
    before = fact_counts()
    response = post(sender, batch, query="?atomic=true")
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["stored"], body["atomic"], body["accepted"]) == (False, True, 0)
    assert [(e["index"], e["id"], e["field"]) for e in body["rejected"]] == [(1, "x2", "time")]
    assert fact_counts() == before
    good = post(sender, [video(41, 0, id="x1"), video(43, 0, id="x3")], query="?atomic=true")
    assert good.status_code == 200 and good.json()["accepted"] == 2


def test_a_resent_batch_changes_nothing_and_says_so_per_item(sender):
    with_ids = [video(41, 0, id="r1"), problem(42, True, id="r2")]
    without_ids = [video(44, 0), video(44, 20, action="pause_video", clock="10:00:20")]
    first = post(sender, with_ids + without_ids)
    assert first.json()["accepted"] == 4
    before = fact_counts()
    again = post(sender, with_ids + without_ids)
    assert again.status_code == 200, again.content
    body = again.json()
    assert body["accepted"] == 0
    assert body["duplicates"] == [{"index": 0, "id": "r1"}, {"index": 1, "id": "r2"},
                                  {"index": 2, "id": None}, {"index": 3, "id": None}]
    assert fact_counts() == before
    twice_in_one = post(sender, [video(45, 0, id="t"), video(45, 9, id="t")])
    assert twice_in_one.json()["accepted"] == 1
    assert twice_in_one.json()["duplicates"] == [{"index": 1, "id": "t"}]
    first_bad = post(sender, [{**video(45, 0), "id": "b", "time": "never"}, video(45, 0, id="b"), video(46, 1),
                              video(46, 1)])
    assert [(e["index"], e["reason"]) for e in first_bad.json()["rejected"]] == [(0, "bad_time"), (1, "repeated_id")]
    assert first_bad.json()["duplicates"] == [{"index": 3, "id": None}]


def test_items_of_a_batch_are_applied_in_order(sender):
    sender_caller = GatewayCaller.objects.get(user=sender)
    sender_caller.grants = "activity video problems enrollment"
    sender_caller.save()
    unenroll = {**enrollment(46), "name": "edx.course.enrollment.deactivated", "time": _today("09:30:00")}
    response = post(sender, [enrollment(46), unenroll])
    assert response.status_code == 200, response.content
    states = list(EnrollmentFact.objects.using(conf.analytics_db()).filter(user_id=46).order_by("time")
                  .values_list("is_active", flat=True))
    assert states == [True, False]
    assert api.get_course_summary(COURSE)["count"] == 0


def test_an_unknown_event_name_is_refused_and_never_stored(sender):
    before = fact_counts()
    response = post(sender, [{"name": "edx.ui.lms.outline.selected", "time": _today(), "id": "u1",
                              "context": {"course_id": COURSE, "user_id": 41}, "data": {}}])
    assert response.status_code == 422
    assert [(e["id"], e["field"], e["reason"]) for e in response.json()["rejected"]] == [
        ("u1", "name", "unknown_event")]
    assert fact_counts() == before


def test_a_caller_without_the_grade_grant_cannot_send_grades(sender):
    response = post(sender, [grade(41, 0.9, id="g1"), enrollment(41, id="e1"), video(41, 0, id="v1")])
    assert response.status_code == 207
    assert [(e["id"], e["field"], e["reason"]) for e in response.json()["rejected"]] == [
        ("g1", "name", "not_granted"), ("e1", "name", "not_granted")]
    assert not GradeFact.objects.using(conf.analytics_db()).exists()
    caller = GatewayCaller.objects.get(user=sender)
    caller.grants = "activity video problems grades"
    caller.save()
    granted = post(sender, [grade(41, 0.9, id="g1")])
    assert granted.status_code == 200, granted.content
    assert GradeFact.objects.using(conf.analytics_db()).get().source == "service:mobile_backend"


def test_a_caller_outside_its_organizations_is_refused_per_item(sender):
    response = post(sender, [video(41, 0, course=OTHER, id="o1"), video(41, 0, course=SISTER, id="s1")])
    assert response.status_code == 207
    assert [(e["id"], e["field"], e["reason"]) for e in response.json()["rejected"]] == [
        ("o1", "context.course_id", "course_not_granted")]
    caller = GatewayCaller.objects.get(user=sender)
    caller.organizations, caller.courses = "", COURSE
    caller.save()
    narrowed = post(sender, [video(41, 0, course=SISTER, id="s2"), video(41, 0, id="c1")])
    assert [e["id"] for e in narrowed.json()["rejected"]] == ["s2"]


def test_a_caller_without_the_permission_is_403(sender):
    sender.user_permissions.clear()
    assert post(sender, [video(41, 0)]).status_code == 403
    group = Group.objects.create(name="event senders")
    group.permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    sender.groups.add(group)
    sender = get_user_model().objects.get(pk=sender.pk)  # permission caches are per instance
    assert post(sender, [video(41, 0)]).status_code == 200


def test_a_user_without_a_caller_row_or_with_a_disabled_one_is_403(sender):
    other = get_user_model().objects.create_user("stranger", "s@example.com")
    other.user_permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    assert post(other, [video(41, 0)]).status_code == 403
    GatewayCaller.objects.filter(user=sender).update(enabled=False)
    assert post(sender, [video(41, 0)]).status_code == 403


def test_no_or_bad_credentials_are_401_and_a_read_key_does_not_open_the_gateway(sender):
    assert APIClient().post(URL, [video(41, 0)], format="json").status_code == 401
    assert post(sender, [video(41, 0)], key="not-a-key").status_code == 401
    insights_key = service_keys.issue_key(sender, "insights")
    response = post(sender, [video(41, 0)], key=insights_key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@override_settings(OPENEDX_ANALYTICS_GATEWAY_MAX_BYTES=2000, OPENEDX_ANALYTICS_GATEWAY_MAX_EVENTS=3)
def test_oversize_bodies_are_413_with_the_limit(sender):
    big = [video(41, 0, id="x" * 100)] * 20
    response = post(sender, big)
    assert response.status_code == 413
    assert response.json()["limit"] == 2000 and response.json()["error"] == "too_large"
    many = post(sender, [video(41, i) for i in range(4)])
    assert many.status_code == 413
    assert (many.json()["error"], many.json()["limit"]) == ("too_many_events", 3)
    assert not VideoEventFact.objects.using(conf.analytics_db()).exists()


@pytest.mark.parametrize(("raw", "error"), [
    (b"{not json", "not_json"), (b"", "not_json"), (b"\xff\xfe", "not_json"), (b"[" * 100_000, "not_json"),
    (b'{"events": []}', "not_a_list"), (b'"text"', "not_a_list"), (b"12", "not_a_list"), (b"null", "not_a_list"),
])
def test_a_body_that_is_not_json_or_not_a_list_is_a_clear_400(sender, raw, error):
    response = post(sender, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == error and response.json()["detail"]


def test_throttling_per_caller_with_retry_after(sender):
    GatewayCaller.objects.filter(user=sender).update(throttle_rate="2/minute")
    key = key_for(sender)
    assert [post(sender, [], key=key).status_code for _ in range(2)] == [200, 200]
    refused = post(sender, [video(41, 0)], key=key)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    other = get_user_model().objects.create_user("lti_tool", "lti@example.com")
    other.user_permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    GatewayCaller.objects.create(user=other, organizations="Org", throttle_rate="2/minute")
    assert post(other, [video(41, 0)]).status_code == 200  # its own allowance


def test_the_schema_documents_the_endpoint(sender):
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("reader", "r@example.com", is_staff=True))
    schema = client.get("/api/analytics/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/analytics/v1/events/" in text and "atomic" in text


def test_a_database_that_does_not_answer_in_time_is_a_503_with_retry_after(sender, monkeypatch):
    from django.db import OperationalError

    from openedx_analytics.api import gateway

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError(1969, "Query execution was interrupted (max_statement_time exceeded)")

    monkeypatch.setattr(gateway, "receive", interrupted)
    response = post(sender, [video(41, 0)])
    assert response.status_code == 503
    assert response.json()["error"] == "busy" and int(response["Retry-After"]) > 0


def test_a_batch_past_the_database_budget_is_a_503_stores_nothing_and_can_be_sent_again(sender):
    from django.test import override_settings

    before = fact_counts()
    with override_settings(OPENEDX_ANALYTICS_GATEWAY_DATABASE_SECONDS=1e-9):
        response = post(sender, [video(41, 0, id="b1"), problem(42, True, id="b2")])
    assert response.status_code == 503
    assert response.json()["error"] == "busy" and int(response["Retry-After"]) > 0
    assert fact_counts() == before
    again = post(sender, [video(41, 0, id="b1"), problem(42, True, id="b2")])
    assert again.status_code == 200 and again.json()["accepted"] == 2, again.content


def test_the_key_command_rotates_and_revokes(sender):
    first = key_for(sender)
    second = key_for(sender)
    assert post(sender, [video(41, 0)], key=first).status_code == 401
    assert post(sender, [video(41, 1)], key=second).status_code == 200
    out = StringIO()
    call_command("ingest_api_key", sender.username, "--revoke", stdout=out)
    assert "revoked" in out.getvalue()
    assert post(sender, [video(41, 2)], key=second).status_code == 401


def test_the_admin_shows_callers_with_their_counts_and_latest_rejections(sender):
    post(sender, [video(41, 0, id="fine"), {**video(41, 0), "id": "late", "time": "never"}])
    admin = get_user_model().objects.create_superuser("operator", "op@example.com", "pw")
    client = APIClient()
    client.force_login(admin)
    caller = GatewayCaller.objects.get(user=sender)
    page = client.get(f"/admin/openedx_analytics/gatewaycaller/{caller.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "late" in text and "bad_time" in text and "never" in text
    listing = client.get("/admin/openedx_analytics/gatewaycaller/")
    assert listing.status_code == 200 and "mobile_backend" in listing.content.decode()
    refused = client.post(f"/admin/openedx_analytics/gatewaycaller/{caller.pk}/change/", {
        "user": sender.pk, "enabled": "on", "grants": "video teleportation", "organizations": "Org", "courses": "",
        "throttle_rate": ""})
    assert refused.status_code == 200 and "Unknown kinds teleportation" in refused.content.decode()
