"""Hostile input: no browser forges a fact, a poison event is one counted rejection, nothing personal leaves the door.

Each poison event goes, alone among good events of the same course, through the real
doors (the event-tracking backend, one request, one Celery batch) and through
``backfill_analytics`` over a log file; the course's numbers must equal those of a
course that received the good events only.
"""
from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from eventtracking import tracker

from openedx_analytics.backfill import readers
from openedx_analytics.models import (
    CertificateFact,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    RejectedEventSample,
    RejectionCount,
)
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import Activity, EnrollmentChange, VideoEvent
from tests.support import doors
from tests.support.commands import backfill as backfill_command
from tests.support.doors import FakeRequest
from tests.support.lms import lms_knows

CLEAN = "course-v1:Hostile+Clean+2026"
DIRTY = "course-v1:Hostile+Dirty+2026"
VIDEO = "v1"
PART = "p1_2_1"
DEEP = 100_000
#: Values the LMS context carries that must never leave the door.
PERSONAL = {"username": "ada_lovelace", "email": "ada@example.com", "ip": "203.0.113.77",
            "session": "5e55105e55105e55105e55105e551055", "agent": "Mozilla/5.0 AdaBrowser",
            "referer": "https://lms.example.com/u/ada_lovelace?token=s3cr3t", "host": "lms.example.com",
            "client_id": "ga-client-ada", "accept_language": "en-AU"}


@pytest.fixture
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(CLEAN, DIRTY)


def context(course: str, user: int | None, source: str = "server", **extra) -> dict:
    """An LMS request context, personal fields included, as TrackMiddleware builds it."""
    return {"course_id": course, "org_id": "Hostile", "user_id": user, "path": "/event",
            "event_source": source, **PERSONAL, **extra}


def problem(course: str) -> str:
    return f"block-v1:{course[len('course-v1:'):]}+type@problem+block@p1"


def good_events(course: str, when: dt.datetime) -> list[dict]:
    """Events of every fact kind for learner 1, in the in-process shape event-tracking delivers."""
    ts = when.isoformat()
    later = (when + dt.timedelta(seconds=30)).isoformat()
    return [
        {"name": "edx.course.enrollment.activated", "timestamp": ts,
         "data": {"course_id": course, "user_id": 1, "mode": "audit"}, "context": context(course, 1)},
        {"name": "play_video", "timestamp": ts, "data": json.dumps({"id": VIDEO, "currentTime": 0, "duration": 60}),
         "context": context(course, 1, "browser")},
        {"name": "pause_video", "timestamp": later,
         "data": json.dumps({"id": VIDEO, "currentTime": 30, "duration": 60}),
         "context": context(course, 1, "browser")},
        {"name": "problem_check", "timestamp": ts, "context": context(course, 1, module={"usage_key": problem(course)}),
         "data": {"problem_id": problem(course), "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
                  "answers": {PART: "A"}, "submission": {PART: {"answer": "A", "correct": True, "variant": ""}}}},
        {"name": "edx.grades.course.grade_calculated", "timestamp": ts,
         "data": {"percent_grade": 0.8, "user_id": 1}, "context": context(course, 1)},
    ]


def poison_events(course: str, when: dt.datetime) -> list[tuple[str, dict]]:
    """(expected rejection reason, event): each alone must be rejected and change nothing."""
    ts = when.isoformat()
    video = {"id": VIDEO, "currentTime": 10, "duration": 60}
    check = good_events(course, when)[3]
    long_course = f"course-v1:Hostile+{'x' * 300}+2026"
    return [
        ("too_deep", {"name": "play_video", "timestamp": ts, "context": context(course, 2, "browser"),
                      "data": '{"id": "v1", "x": ' + "[" * DEEP + "]" * DEEP + "}"}),
        ("out_of_range", {**check, "data": {**check["data"], "attempts": 1e30}}),
        ("out_of_range", {"name": "play_video", "timestamp": ts, "data": video,
                          "context": context(course, 2 ** 70, "browser")}),
        ("out_of_range", {"name": "pause_video", "timestamp": ts, "data": {**video, "currentTime": -5},
                          "context": context(course, 1, "browser")}),
        ("out_of_range", {"name": "pause_video", "timestamp": ts, "data": {**video, "duration": 1e6},
                          "context": context(course, 1, "browser")}),
        ("too_long", {"name": "seq_next", "timestamp": ts, "data": {}, "context": context(long_course, 1)}),
        ("too_long", {"name": "edx.course.enrollment.mode_changed", "timestamp": ts,
                      "data": {"course_id": course, "user_id": 1, "mode": "m" * 150}, "context": context(course, 1)}),
        ("too_long", {"name": "play_video", "timestamp": ts, "data": {**video, "id": "v" * 300},
                      "context": context(course, 1, "browser")}),
        ("too_long", {**check, "data": {**check["data"], "attempts": 2, "answers": {"p" * 300: "A"}}}),
        ("too_long", {**check, "data": {**check["data"], "attempts": 3, "submission": {
            PART: {"answer": "B", "correct": False, "variant": "x" * 100}}}}),
        ("implausible_time", {"name": "edx.course.enrollment.activated", "timestamp": "9999-12-31T00:00:00+00:00",
                              "data": {"course_id": course, "user_id": 3, "mode": "audit"},
                              "context": context(course, 3)}),
        ("implausible_time", {"name": "edx.course.enrollment.activated", "timestamp": "1900-01-01T00:00:00+00:00",
                              "data": {"course_id": course, "user_id": 4, "mode": "audit"},
                              "context": context(course, 4)}),
        ("untrusted_source", {"name": "edx.course.enrollment.activated", "timestamp": ts,
                              "data": {"course_id": course, "user_id": 5, "mode": "verified"},
                              "context": context(course, 1, "browser")}),
    ]


def expected_reasons(course: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason, _event in poison_events(course, dt.datetime.now(dt.timezone.utc)):
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def same_numbers(clean: str = CLEAN, dirty: str = DIRTY) -> None:
    """The dirty course's figures, renamed, equal the clean course's; and there are figures."""
    observed_clean = doors.observed(clean)
    assert observed_clean["enrollment"] and observed_clean["videos"] and observed_clean["problems"]
    renamed = json.loads(json.dumps(doors.observed(dirty), default=str).replace(dirty[10:], clean[10:]))
    assert renamed == json.loads(json.dumps(observed_clean, default=str))


# ---------------------------------------------------------------- the live path


def through_the_door(events: list[dict]) -> None:
    """Deliver events to the plugin's event-tracking backend as event-tracking does, in one request."""
    door = tracker.get_tracker().backends["openedx_analytics"]
    with FakeRequest():
        for event in events:
            door.send(event)


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_live_poison_is_counted_and_leaves_the_rest_of_the_batch_and_the_course_intact(captured_batches,
                                                                                     courses_in_the_lms):
    now = dt.datetime.now(dt.timezone.utc)
    through_the_door(good_events(CLEAN, now))
    poison = [event for _reason, event in poison_events(DIRTY, now)]
    through_the_door([*good_events(DIRTY, now)[:2], *poison, *good_events(DIRTY, now)[2:]])

    assert len(captured_batches) == 2
    same_numbers()
    counts = dict(RejectionCount.objects.using("analytics").filter(source="live").values_list("reason", "count"))
    assert counts == expected_reasons(DIRTY)


# ---------------------------------------------------------------- the backfill path


def log_line(event: dict) -> str:
    """The tracking-log line the LMS writes for an in-process event (legacy field mapping)."""
    ctx = dict(event["context"])
    line = {"name": event["name"], "event_type": event["name"], "time": event["timestamp"], "event": event["data"],
            "event_source": ctx.pop("event_source", "server"), "context": ctx}
    for key in PERSONAL:
        line[key] = ctx.pop(key)
    return json.dumps(line)


def backfill(path) -> str:
    """``backfill_analytics`` over the log at ``path``; what it printed."""
    return backfill_command("--tracking-logs", str(path))


@pytest.mark.django_db(databases=["default", "analytics"])
def test_backfill_poison_is_counted_and_the_run_and_the_course_end_intact(tmp_path, courses_in_the_lms):
    when = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    clean = tmp_path / "clean.log"
    clean.write_text("".join(log_line(event) + "\n" for event in good_events(CLEAN, when)))
    dirty = tmp_path / "dirty.log"
    good = good_events(DIRTY, when)
    lines = [log_line(event) for event in good[:2]]
    lines += [log_line(event) for _reason, event in poison_events(DIRTY, when)]
    lines.append('{"event_type": "seq_next", "event": ' + "[" * DEEP + "]" * DEEP + "}")  # too deep as a whole line
    lines += [log_line(event) for event in good[2:]]
    dirty.write_text("\n".join(lines) + "\n")

    backfill(clean)
    backfill(dirty)  # returns: no RecursionError, no failing insert, no CommandError

    same_numbers()
    counts = dict(RejectionCount.objects.using("analytics").filter(source="backfill").values_list("reason", "count"))
    reasons = expected_reasons(DIRTY)
    reasons["too_deep"] += 1  # the whole-line one
    reasons["out_of_range"] -= 1  # the JSON decoder reads a user id beyond 64 bits as a float: no user id at all
    reasons["bad_user_id"] = 1
    assert counts == reasons


@pytest.mark.django_db(databases=["default", "analytics"])
@pytest.mark.parametrize("value", ["2020-01-01T00:00:00+25:00", "0001-01-01T00:00:00+01:00",
                                   "9999-12-31T23:00:00-05:00", "2020-13-01"])
@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_out_of_range_window_bounds_are_clear_command_errors(tmp_path, flag, value):
    with pytest.raises(CommandError, match="not a date or time"):
        call_command("backfill_analytics", "--tracking-logs", str(tmp_path), flag, value, "--no-progress")


# ---------------------------------------------------------------- forgery


def browser(name: str, data: dict, user: int | None = 1, course: str = CLEAN) -> dict:
    return {"event_type": name, "event_source": "browser", "time": "2026-03-02T10:00:00Z",
            "event": json.dumps(data), "context": {"course_id": course, "user_id": user, "path": "/event"},
            "page": f"https://lms.example.com/courses/{course}/courseware/a/b/"}


@pytest.mark.parametrize("name", [
    "edx.course.enrollment.activated", "edx.course.enrollment.deactivated", "edx.course.enrollment.mode_changed",
    "edx.grades.course.grade_calculated", "edx.course.grade.passed.first_time", "edx.course.grade.now_failed",
    "edx.certificate.created", "edx.certificate.revoked",
    "org.openedx.learning.course.enrollment.created.v1", "org.openedx.learning.course.unenrollment.completed.v1",
    "org.openedx.learning.course.persistent_grade_summary.changed.v1",
    "org.openedx.learning.course.passing.status.updated.v1", "org.openedx.learning.certificate.created.v1",
])
@pytest.mark.parametrize("source", ["browser", "mobile"])
def test_a_browser_or_app_cannot_assert_a_server_fact(name, source):
    data = {"course_id": CLEAN, "user_id": 2, "mode": "verified", "is_active": True, "percent_grade": 1.0,
            "passed_timestamp": "2026-03-02T10:00:00Z", "is_passing": True, "current_status": "downloadable"}
    event = {**browser(name, data), "event_source": source}
    outcome = normalize(event)
    assert outcome.reason == "untrusted_source"
    assert outcome.records == []
    server = normalize({**event, "event_source": "server"})
    assert server.reason is None and server.records and server.records[0].user_id == 2  # the same, from the server


@pytest.mark.parametrize("name", ["edx.forum.thread.created", "edx.grades.problem.submitted",
                                  "org.openedx.learning.forum.thread.created.v1"])
def test_a_browser_copy_of_a_server_engagement_event_counts_only_as_its_senders_activity(name):
    (record,) = normalize(browser(name, {"user_id": 2})).records
    assert isinstance(record, Activity) and record.kinds == ("any",) and record.user_id == 1


def test_the_learner_of_a_browser_event_is_the_authenticated_one():
    data = {"id": VIDEO, "currentTime": 3, "user_id": 2, "course_id": DIRTY}
    activity, video = normalize(browser("play_video", data)).records
    assert (activity.user_id, video.user_id, video.course_id) == (1, 1, CLEAN)
    assert normalize(browser("play_video", data, user=None)).reason == "no_user"  # never the payload's learner


def test_the_server_may_name_another_learner_in_its_payload():
    event = {"name": "edx.course.enrollment.activated", "timestamp": "2026-03-02T10:00:00Z",
             "data": {"course_id": CLEAN, "user_id": 2, "mode": "audit"},
             "context": {"course_id": CLEAN, "user_id": 99}}  # staff 99 enrolls learner 2
    (record,) = normalize(event).records
    assert isinstance(record, EnrollmentChange) and record.user_id == 2


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_forged_browser_facts_through_the_door_change_no_fact(captured_batches):
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    forged = [
        ("edx.course.enrollment.activated", {"course_id": CLEAN, "user_id": 2, "mode": "verified"}),
        ("edx.course.grade.passed.first_time", {"course_id": CLEAN, "user_id": 2}),
        ("edx.certificate.created", {"course_id": CLEAN, "user_id": 2, "mode": "verified"}),
        ("edx.grades.course.grade_calculated", {"percent_grade": 1.0, "user_id": 2}),
        ("org.openedx.learning.course.enrollment.created.v1",
         {"course_id": CLEAN, "user_id": 2, "mode": "verified", "is_active": True}),
    ]
    through_the_door([{"name": name, "timestamp": now, "data": json.dumps(data),
                       "context": context(CLEAN, 1, "browser")} for name, data in forged])
    for model in (EnrollmentFact, PassingFact, CertificateFact, GradeFact):
        assert not model.objects.using("analytics").exists(), model.__name__
    counts = dict(RejectionCount.objects.using("analytics").values_list("reason", "count"))
    assert counts == {"untrusted_source": len(forged)}


# ---------------------------------------------------------------- bounds (unit)


@pytest.mark.parametrize(("data", "reason"), [
    ({"id": VIDEO, "currentTime": -1}, "out_of_range"),
    ({"id": VIDEO, "currentTime": 86_401}, "out_of_range"),
    ({"id": VIDEO, "currentTime": 5, "duration": 1e6}, "out_of_range"),
    ({"id": VIDEO, "currentTime": 5, "duration": -60}, "out_of_range"),
    ({"id": VIDEO, "currentTime": 5, "duration": 60}, None),
])
def test_video_positions_and_durations_are_bounded(data, reason):
    assert normalize(browser("pause_video", data)).reason == reason


@pytest.mark.parametrize(("old", "new"), [(-3, 10), (10, 1e9)])
def test_seek_times_are_bounded(old, new):
    assert normalize(browser("seek_video", {"id": VIDEO, "old_time": old, "new_time": new})).reason == "out_of_range"


def test_a_setting_sets_the_longest_video(settings):
    settings.OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS = 3600
    assert normalize(browser("pause_video", {"id": VIDEO, "currentTime": 3601})).reason == "out_of_range"
    settings.OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS = 7200
    (_activity, video) = normalize(browser("pause_video", {"id": VIDEO, "currentTime": 3601})).records
    assert isinstance(video, VideoEvent) and video.position == 3601


def test_the_plausible_time_window_follows_its_settings(settings):
    event = {**browser("seq_next", {}), "time": "2011-06-01T00:00:00Z"}
    assert normalize(event).reason == "implausible_time"
    settings.OPENEDX_ANALYTICS_EARLIEST_EVENT_TIME = "2011-01-01T00:00:00+00:00"
    assert normalize(event).reason is None
    ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    assert normalize({**event, "time": ahead.isoformat()}).reason is None
    settings.OPENEDX_ANALYTICS_MAX_FUTURE_SECONDS = 3600
    assert normalize({**event, "time": ahead.isoformat()}).reason == "implausible_time"


# ---------------------------------------------------------------- privacy


def assert_nothing_personal(text: str) -> None:
    for field, value in PERSONAL.items():
        assert value not in text, f"{field} leaked: {value}"


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_the_door_forwards_and_samples_keep_only_allowed_fields(captured_batches, courses_in_the_lms):
    now = dt.datetime.now(dt.timezone.utc)
    events = good_events(CLEAN, now)
    events[0]["data"] = {**events[0]["data"], "email": PERSONAL["email"], "name": "Ada Lovelace"}
    rejected = poison_events(CLEAN, now)[6][1]  # too long a mode: stored as a sample
    with tracker.get_tracker().context("test.request", context(CLEAN, 1)):
        tracker.emit("edx.ui.lms.sequence.next_selected", {"current_tab": 2, "target_name": PERSONAL["username"]})
    through_the_door([*events, rejected])

    text = json.dumps(captured_batches, default=str)
    assert_nothing_personal(text)
    assert "Ada Lovelace" not in text
    assert doors.observed(CLEAN)["enrollment"]  # and the figures are still there
    samples = list(RejectedEventSample.objects.using("analytics").values_list("payload", flat=True))
    assert samples and all(sample.startswith("{") for sample in samples)
    assert_nothing_personal(json.dumps(samples))


@pytest.mark.django_db(databases=["default", "analytics"])
def test_the_log_reader_and_backfill_samples_keep_only_allowed_fields(tmp_path, courses_in_the_lms):
    when = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    rejected = poison_events(CLEAN, when)[6][1]
    log = tmp_path / "tracking.log"
    log.write_text("\n".join([
        *(log_line(event) for event in good_events(CLEAN, when)),
        log_line(rejected),
        f'not json at all, from {PERSONAL["email"]} at {PERSONAL["ip"]}',
        log_line(good_events(CLEAN, when)[0])[:120],  # truncated: the username is in its first characters
    ]) + "\n")
    decoded = []
    real_parse = readers.parse_line

    def spy(line):
        result = real_parse(line)
        decoded.append(result)
        return result

    with mock.patch("openedx_analytics.backfill.runner.parse_line", side_effect=spy):
        backfill(log)
    assert_nothing_personal(json.dumps(decoded, default=str))
    samples = list(RejectedEventSample.objects.using("analytics").values_list("payload", flat=True))
    assert len(samples) == 3
    assert_nothing_personal(json.dumps(samples))
    assert doors.observed(CLEAN)["problems"]
