"""The event registry is the one home of "which events we accept": the doors, the app and the LMS seam
derive from it, and a normalizer reads only the payload fields its registration allows."""
from __future__ import annotations

import datetime as dt

import pytest
from openedx_events.learning import signals as learning_signals

from openedx_analytics.apps import RECEIVED_SIGNALS, OpenedxAnalyticsConfig
from openedx_analytics.lms import history as lms_history
from openedx_analytics.pipeline.envelope import CLIENT_SOURCES, SERVER_SOURCES
from openedx_analytics.pipeline.events import registry
from openedx_analytics.pipeline.events.registration import Family, Registration, Signal
from openedx_analytics.pipeline.events.registry import DATA_FIELDS, DATA_KWARGS, REGISTRY, SIGNALS
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.payload import Entries, Payload, UnlistedField, field_list
from openedx_analytics.signals.receivers import KEPT_FIELDS

COURSE = "course-v1:Org+Num+Run"

#: What the doors keep of a payload: a privacy decision, so a change to it must show here.
DOOR_FIELDS = {
    "course_id": None, "user_id": None, "mode": None, "enrollment_mode": None, "is_active": None,
    "percent_grade": None, "passed_timestamp": None, "is_passing": None, "current_status": None,
    "id": None, "module_id": None, "currentTime": None, "current_time": None, "old_time": None,
    "new_time": None, "duration": None,
    "problem_id": None, "grade": None, "success": None, "attempts": None, "answers": None,
    "submission": ("answer", "correct", "variant", "input_type", "question"), "correct_map": ("correctness",),
}

#: The openedx-events signals the app connects.
CONNECTED_SIGNALS = {
    "COURSE_ENROLLMENT_CREATED", "COURSE_ENROLLMENT_CHANGED", "COURSE_UNENROLLMENT_COMPLETED",
    "PERSISTENT_GRADE_SUMMARY_CHANGED", "COURSE_PASSING_STATUS_UPDATED",
    "CERTIFICATE_CREATED", "CERTIFICATE_CHANGED", "CERTIFICATE_REVOKED",
    "FORUM_THREAD_CREATED", "FORUM_THREAD_RESPONSE_CREATED", "FORUM_RESPONSE_COMMENT_CREATED",
}


def test_the_doors_keep_the_union_of_the_registered_fields_and_nothing_else():
    assert DATA_FIELDS == DOOR_FIELDS
    union: dict = {}
    for registration in REGISTRY.values():
        union.update(registration.fields)
    assert set(union) == set(DATA_FIELDS)
    assert set(KEPT_FIELDS) == set(DATA_FIELDS) - {"course_id", "user_id"}


def test_the_app_connects_exactly_the_registered_signals():
    assert set(RECEIVED_SIGNALS) == CONNECTED_SIGNALS == {signal.attribute for signal in SIGNALS}
    receivers = OpenedxAnalyticsConfig.plugin_app["signals_config"]["lms.djangoapp"]["receivers"]
    assert {r["signal_path"].rpartition(".")[2] for r in receivers} == CONNECTED_SIGNALS
    for signal in SIGNALS:
        connected = getattr(learning_signals, signal.attribute)
        assert any(key[0] == f"openedx_analytics.{signal.attribute}" for key, *_ in connected.receivers)


@pytest.mark.parametrize("signal", SIGNALS, ids=lambda s: s.attribute)
def test_each_registered_signal_is_the_openedx_events_signal_it_names(signal):
    """Its event type is the name it is registered under, and its data travels in its keyword."""
    public = getattr(learning_signals, signal.attribute)
    assert public.event_type == signal.event_type
    assert set(public.init_data) == {signal.keyword}
    assert signal.keyword in DATA_KWARGS
    assert REGISTRY[signal.event_type].signal == signal
    assert REGISTRY[signal.event_type].sources == SERVER_SOURCES


def test_each_name_the_lms_history_emits_is_registered_for_lms_tables():
    names = {value for name, value in vars(lms_history).items()
             if name.isupper() and isinstance(value, str) and value.startswith("org.openedx.")}
    assert names == {lms_history.ENROLLMENT_CHANGED, lms_history.GRADE_CHANGED, lms_history.CERTIFICATE_CHANGED}
    for name in names:
        assert REGISTRY[name].allows(lms_history.EVENT_SOURCE), name
    assert REGISTRY["problem_check"].allows("server")  # the history's problem states are server problem_checks


def test_sources_of_server_facts_and_of_client_events():
    client_names = {name for name, registration in REGISTRY.items() if registration.sources is None}
    assert client_names == {"problem_check", "play_video", "edx.video.played", "pause_video", "edx.video.paused",
                            "seek_video", "edx.video.position.changed", "stop_video", "edx.video.stopped"}
    for name, registration in REGISTRY.items():
        if name not in client_names:
            assert registration.sources == SERVER_SOURCES, name
            assert not any(registration.allows(source) for source in CLIENT_SOURCES), name


def test_the_payload_accessor_refuses_fields_outside_its_allow_list():
    payload = Payload({"mode": "audit", "username": "ada", "submission": {"p": {"answer": 1, "email": "x"}}},
                      field_list("mode", Entries("submission", ("answer",))))
    assert payload.get("mode") == "audit" and payload.get("course_id") is None
    assert payload.entries("submission").part("p").get("answer") == 1
    assert list(payload.entries("submission")) == ["p"]
    with pytest.raises(UnlistedField):
        payload.get("username")
    with pytest.raises(UnlistedField):
        payload.number("grade")
    with pytest.raises(UnlistedField):
        payload.mapping("answers")
    with pytest.raises(UnlistedField):
        payload.entries("submission").part("p").get("email")
    with pytest.raises(UnlistedField):
        payload.get("submission")  # a mapping of parts is read part by part
    with pytest.raises(UnlistedField):
        payload.entries("mode")


def test_a_payload_is_empty_when_it_carries_none_of_its_fields():
    fields = field_list("problem_id")
    assert Payload({}, fields).is_empty
    assert Payload({"username": "ada"}, fields).is_empty
    assert not Payload({"problem_id": "p"}, fields).is_empty
    assert not Payload({"user_id": 3}, fields).is_empty


def test_a_normalizer_reading_an_unlisted_field_is_a_normalizer_error(monkeypatch):
    def nosy(envelope):
        envelope.payload.get("username")
        return []

    family = Family("test")
    family.register("test.nosy", fields=("mode",))(nosy)
    monkeypatch.setitem(REGISTRY, "test.nosy", family.registrations[0])
    outcome = normalize({"name": "test.nosy", "timestamp": "2026-02-01T10:00:00Z",
                         "data": {"mode": "audit", "username": "ada"}, "context": {"course_id": COURSE, "user_id": 1}})
    assert outcome.reason == "normalizer_error" and outcome.detail.startswith("UnlistedField")


def _full_payload() -> dict:
    """A payload carrying every field the doors keep (and some they drop), as real events fill them."""
    return {
        "course_id": COURSE, "user_id": 5, "mode": "verified", "enrollment_mode": "verified", "is_active": True,
        "percent_grade": 0.8, "passed_timestamp": "2026-02-01T09:00:00Z", "is_passing": True,
        "current_status": "downloadable", "id": "abc", "module_id": "abc", "currentTime": 3, "current_time": 3,
        "old_time": 1, "new_time": 2, "duration": 30, "problem_id": "block-v1:Org+Num+Run+type@problem+block@p",
        "grade": 1, "success": "correct", "attempts": 1, "answers": {"p_2_1": "a"},
        "submission": {"p_2_1": {"answer": "a", "correct": True, "variant": "", "question": "?"}},
        "correct_map": {"p_2_1": {"correctness": "correct", "hint": "h"}},
        "username": "ada", "email": "ada@example.com", "name": "Ada",
    }


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("source", sorted(SERVER_SOURCES | CLIENT_SOURCES))
def test_every_registered_name_reads_only_its_fields_and_the_doors_keep_them(name, source):
    """Every registration, from every source, on a payload of every field: no unlisted read, and the
    redacted event gives the same records."""
    from openedx_analytics.pipeline.redaction import redact

    event = {"name": name, "timestamp": dt.datetime(2026, 2, 1, 10, tzinfo=dt.timezone.utc).isoformat(),
             "event_source": source, "data": _full_payload(), "context": {"course_id": COURSE, "user_id": 5}}
    outcome = normalize(event)
    assert outcome.reason != "normalizer_error", outcome.detail
    if REGISTRY[name].allows(source) and source != "task":
        assert outcome.reason is None and outcome.records, (outcome.reason, outcome.detail)
    redacted = normalize(redact(event))
    assert (redacted.records, redacted.reason) == (outcome.records, outcome.reason)


def test_a_name_is_registered_once_and_a_field_declared_one_way():
    twice = Family("twice")
    twice.register("a.b")(lambda envelope: [])
    twice.register("a.b")(lambda envelope: [])
    with pytest.raises(ValueError, match="registered twice"):
        registry._gather((twice,))
    with pytest.raises(ValueError, match="listed twice"):
        field_list("mode", "mode")
    one = Registration("x", lambda envelope: [], None, field_list(Entries("submission", ("answer",))))
    other = Registration("y", lambda envelope: [], None, field_list(Entries("submission", ("correct",))))
    with pytest.raises(ValueError, match="different entry keys"):
        registry._door_fields([one, other])
    assert Signal("A", "k", "org.openedx.learning.a.v1") == Signal("A", "k", "org.openedx.learning.a.v1")
