"""The one normalizer accepts real Open edX shapes and rejects the rest with a reason."""
from __future__ import annotations

import json

import pytest

from openedx_analytics.pipeline.events.registry import is_tracked
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import Activity, EnrollmentChange, ProblemSubmission, VideoEvent

COURSE = "course-v1:Org+Num+Run"


def kinds(outcome):
    return [type(r).__name__ for r in outcome.records]


def test_browser_event_with_json_string_payload_from_a_tracking_log():
    line = {"event_type": "play_video", "event_source": "browser", "time": "2026-02-01T10:00:00.123456+00:00",
            "event": json.dumps({"id": "abc", "currentTime": 3.5, "code": "html5"}),
            "context": {"course_id": COURSE, "user_id": 42, "path": "/event"}, "username": "x",
            "page": f"https://lms.example.com/courses/{COURSE}/courseware/a/b/"}
    outcome = normalize(line)
    assert outcome.reason is None
    activity, video = outcome.records
    assert isinstance(activity, Activity) and activity.kinds == ("any", "video")
    assert isinstance(video, VideoEvent) and video.position == 3.5
    assert video.video_id == "block-v1:Org+Num+Run+type@video+block@abc"


def test_course_id_only_in_the_page_url_and_old_style_ids():
    line = {"event_type": "seq_goto", "time": "2026-02-01T10:00:00Z", "event": "{}",
            "context": {"user_id": "42"}, "page": "https://lms/courses/Org/Num/Run/courseware/x/"}
    outcome = normalize(line)
    assert outcome.reason is None and outcome.records[0].course_id == "Org/Num/Run"


def test_server_request_event_named_by_its_path_counts_as_activity():
    line = {"event_type": f"/courses/{COURSE}/progress", "event_source": "server", "time": "2026-02-01T10:00:00Z",
            "event": {"GET": {}, "POST": {}}, "context": {"user_id": 7, "course_id": "", "path": "/x"}}
    (record,) = normalize(line).records
    assert record.course_id == COURSE and record.kinds == ("any",)


def test_mobile_video_event():
    event = {"name": "edx.video.paused", "timestamp": "2026-02-01T10:00:00Z",
             "data": {"id": "block-v1:Org+Num+Run+type@video+block@abc", "current_time": 9, "duration": 30},
             "context": {"course_id": COURSE, "user_id": 5, "application": {"name": "edx.mobileapp.android"}}}
    outcome = normalize(event)
    assert outcome.reason is None
    assert outcome.records[1].video_id == "block-v1:Org+Num+Run+type@video+block@abc"
    assert outcome.records[1].position == 9


@pytest.mark.parametrize("user_id", [None, ""])
def test_missing_or_null_user_ids_count_for_nobody(user_id):
    event = {"name": "seq_next", "timestamp": "2026-02-01T10:00:00Z", "data": {},
             "context": {"course_id": COURSE, "user_id": user_id}}
    assert normalize(event).reason == "no_user"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("garbage", "not_an_object"),
        ({"data": {}}, "no_name"),
        ({"name": "seq_next", "timestamp": "yesterday", "context": {"course_id": COURSE, "user_id": 1}}, "bad_time"),
        ({"name": "seq_next", "timestamp": "2026-02-01T10:00:00Z", "context": {"course_id": "nope", "user_id": 1}},
         "bad_course_id"),
        ({"name": "seq_next", "timestamp": "2026-02-01T10:00:00Z", "context": {"course_id": COURSE, "user_id": "me"}},
         "bad_user_id"),
        ({"name": "play_video", "timestamp": "2026-02-01T10:00:00Z", "data": {"id": "v", "currentTime": [1]},
          "context": {"course_id": COURSE, "user_id": 1}}, "wrong_type"),
        ({"name": "edx.course.enrollment.activated", "timestamp": "2026-02-01T10:00:00Z",
          "data": {"course_id": COURSE, "user_id": 1}, "context": {}}, "missing_field"),
        ({"name": "something.unknown", "timestamp": "2026-02-01T10:00:00Z", "data": {}, "context": {"user_id": 1}},
         "untracked_event"),
        ({"name": "problem_check", "timestamp": "2026-02-01T10:00:00Z", "event_source": "task",
          "data": {"problem_id": "p"}, "context": {"course_id": COURSE, "user_id": 1}}, "background_task"),
    ],
)
def test_rejections_carry_a_reason(event, reason):
    outcome = normalize(event)
    assert outcome.records == [] and outcome.reason == reason


def test_unknown_names_are_rejected_when_generic_activity_is_off():
    event = {"name": "seq_next", "timestamp": "2026-02-01T10:00:00Z", "data": {},
             "context": {"course_id": COURSE, "user_id": 1}}
    assert normalize(event, generic=False).reason == "unknown_event"
    assert normalize(event).reason is None


def test_server_problem_check_keeps_answers_and_strips_html():
    event = {"name": "problem_check", "timestamp": "2026-02-01T10:00:00Z", "context": {
        "course_id": COURSE, "user_id": 3, "event_source": "server"}, "data": {
        "problem_id": "block-v1:Org+Num+Run+type@problem+block@p", "attempts": 2, "grade": 0.5, "max_grade": 1,
        "answers": {"p_2_1": ["choice_0", "choice_2"], "p_3_1": "<b>42</b>"},
        "correct_map": {"p_2_1": {"correctness": "partially-correct"}, "p_3_1": {"correctness": "incorrect"}}}}
    activity, submission = normalize(event).records
    assert isinstance(submission, ProblemSubmission) and submission.correct and submission.attempt == 2
    assert [(a.part_id, a.value, a.correct) for a in submission.answers] == [
        ("p_2_1", "[choice_0|choice_2]", True), ("p_3_1", "42", False)]
    assert activity.kinds == ("any", "problem")


def test_browser_problem_check_is_activity_only():
    line = {"event_type": "problem_check", "event_source": "browser", "time": "2026-02-01T10:00:00Z",
            "event": "input_p_2_1=choice_0", "context": {"course_id": COURSE, "user_id": 3}}
    (record,) = normalize(line).records
    assert record.kinds == ("any",)


def test_enrollment_events_do_not_count_as_engagement():
    event = {"name": "edx.course.enrollment.mode_changed", "timestamp": "2026-02-01T10:00:00Z",
             "data": {"course_id": COURSE, "user_id": 1, "mode": "no-id-professional"}, "context": {}}
    (record,) = normalize(event).records
    assert isinstance(record, EnrollmentChange) and record.mode == "professional" and record.is_active is None


def test_door_filter():
    assert is_tracked("play_video")
    assert is_tracked("seq_next", {"user_id": 1, "course_id": COURSE})
    assert is_tracked("/courses/x/y/z/about", {"user_id": 1})
    assert not is_tracked("seq_next", {"user_id": None, "course_id": COURSE})
    assert not is_tracked("edx.user.settings.changed", {"user_id": 1})
    assert not is_tracked("edx.grades.subsection.grade_calculated", {"user_id": 1, "course_id": COURSE})
