"""One learner cannot make millions of rows: video viewings, problem parts, answer text and ids are bounded.

Each attack goes through the worker's batch task (the path every door ends in) or the
normalizer, and must come out as a bounded number of rows or a counted rejection, never
as a timeline a day long, a thousand answer rows or megabytes held in a memo.
"""
from __future__ import annotations

import datetime as dt

import pytest

from openedx_analytics import api
from openedx_analytics.metrics.video_replay import (
    MAX_UNTIMED_VIEWING_SEGMENTS,
    PlayerEvent,
    viewings,
)
from openedx_analytics.models import (
    ProblemAnswer,
    ProblemSubmissionFact,
    RejectedEventSample,
    RejectionCount,
    VideoSegment,
)
from openedx_analytics.pipeline.envelope import COURSE_ID_MEMO
from openedx_analytics.pipeline.events.problems import MAX_PARTS
from openedx_analytics.pipeline.events.video import VIDEO_ID_MEMO
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import MAX_ANSWER_CHARACTERS, TRUNCATED, Activity, ProblemSubmission
from openedx_analytics.worker import tasks
from tests.support.lms import lms_knows

COURSE = "course-v1:Flood+Bounds+2026"
PROBLEM = "block-v1:Flood+Bounds+2026+type@problem+block@p1"
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)

database = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def known_course(request):
    """The course the floods aim at exists in the LMS (for the tests that use the database): only its own
    bounds may refuse them."""
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("transactional_db")
        lms_knows(COURSE)


def player(name: str, seconds_after_start: float, user_id: int = 1, **data) -> dict:
    """A browser player event ``seconds_after_start`` after ``START``."""
    when = START + dt.timedelta(seconds=seconds_after_start)
    return {"name": name, "timestamp": when.isoformat(), "data": {"id": "v1", "code": "html5", **data},
            "context": {"course_id": COURSE, "user_id": user_id, "path": "/event", "event_source": "browser"}}


def server_check(answers: dict, source: str = "server") -> dict:
    """A server-shaped ``problem_check`` with the given answers (each part graded correct)."""
    return {"name": "problem_check", "timestamp": START.isoformat(), "event_source": source,
            "context": {"course_id": COURSE, "user_id": 1, "path": "/event"},
            "data": {"problem_id": PROBLEM, "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
                     "answers": answers, "correct_map": {part: {"correctness": "correct"} for part in answers},
                     "submission": {part: {"answer": value, "correct": True, "variant": ""}
                                    for part, value in answers.items()}}}


def deliver(events: list[dict]) -> None:
    tasks.process_event_batch.apply(args=[events, "live"])


def rejections() -> dict[str, int]:
    return dict(RejectionCount.objects.using("analytics").values_list("reason", "count"))


# ---------------------------------------------------------------- video positions


@database
def test_a_viewing_cannot_cover_more_video_than_its_wall_clock_allows():
    """Play at 0, pause at 86,400 one second later: no 17,281-segment timeline, no 86,404 s duration."""
    deliver([player("play_video", 0, currentTime=0), player("pause_video", 1, currentTime=86_400),
             player("play_video", 0, user_id=2, currentTime=0), player("pause_video", 40, user_id=2, currentTime=40)])
    (summary,) = api.get_videos(COURSE)
    assert summary["duration"] < 60 and summary["users_at_start"] == 1
    assert VideoSegment.objects.using("analytics").count() <= 10


@database
def test_a_viewing_without_a_reported_duration_touches_a_bounded_number_of_segments():
    """A play, then a pause a day of wall clock later at 86,400 s (the clock would allow it): with no
    duration reported, the viewing is refused past ``MAX_UNTIMED_VIEWING_SEGMENTS``."""
    deliver([player("play_video", 0, currentTime=0), player("pause_video", 86_400, currentTime=86_400)])
    assert VideoSegment.objects.using("analytics").count() <= MAX_UNTIMED_VIEWING_SEGMENTS


@database
def test_the_timeline_stops_at_the_duration_the_viewers_voted_for():
    """Two players say 60 s; a third says a day and watched a day of it: the timeline stays 13 segments."""
    day = 86_400
    deliver([player("play_video", 0, 1, currentTime=0, duration=60), player("pause_video", 59, 1, currentTime=59),
             player("play_video", 0, 2, currentTime=0, duration=60), player("pause_video", 59, 2, currentTime=59),
             player("play_video", 0, 3, currentTime=0, duration=day),
             player("pause_video", day, 3, currentTime=day, duration=day)])
    (summary,) = api.get_videos(COURSE)
    assert summary["duration"] == 60
    assert len(api.get_video_timeline(COURSE, summary["video_id"])) == 13


def test_the_replay_holds_a_viewing_to_its_wall_clock():
    def at(seconds: float) -> dt.datetime:
        return START + dt.timedelta(seconds=seconds)

    assert viewings([PlayerEvent("play", 0, time=at(0)), PlayerEvent("pause", 86_400, time=at(1))], None) == []
    assert viewings([PlayerEvent("play", 0, time=at(0)), PlayerEvent("pause", 600, time=at(300))], 900) == [(0, 600)]
    # a seek ends the viewing where the player was; the jump itself touches nothing
    events = [PlayerEvent("play", 0, time=at(0)), PlayerEvent("seek", None, 10, 800, time=at(10)),
              PlayerEvent("play", 10, time=at(11)), PlayerEvent("pause", 820, time=at(21))]
    assert viewings(events, 900) == [(0, 10), (800, 820)]


# ---------------------------------------------------------------- client problem_check


@pytest.mark.parametrize("source", ["mobile", "browser"])
def test_a_client_problem_check_with_a_server_payload_is_activity_only(source):
    outcome = normalize(server_check({"p1_2_1": "forged"}, source=source))
    assert outcome.reason is None
    (record,) = outcome.records
    assert isinstance(record, Activity) and record.kinds == ("any",)


@database
def test_a_mobile_problem_check_makes_no_submission_and_no_answer():
    deliver([server_check({"p1_2_1": "forged"}, source="mobile")])
    assert not ProblemSubmissionFact.objects.using("analytics").exists()
    assert not ProblemAnswer.objects.using("analytics").exists()
    assert api.get_answer_distribution(COURSE, PROBLEM) == []


# ---------------------------------------------------------------- parts and answer text


@database
def test_a_submission_with_a_thousand_parts_is_one_counted_rejection():
    deliver([server_check({f"p1_{n}_1": "x" for n in range(1_000)}), server_check({"p1_2_1": "A"})])
    assert rejections() == {"too_many_parts": 1}
    assert RejectedEventSample.objects.using("analytics").filter(reason="too_many_parts").exists()
    assert ProblemSubmissionFact.objects.using("analytics").count() == 1
    assert ProblemAnswer.objects.using("analytics").count() == 1


def test_a_submission_may_carry_up_to_the_bound_of_parts():
    outcome = normalize(server_check({f"p1_{n}_1": "x" for n in range(MAX_PARTS)}))
    assert outcome.reason is None and len(outcome.records[1].answers) == MAX_PARTS


@database
def test_a_megabyte_answer_is_stored_cut_to_the_bound_and_marked():
    deliver([server_check({"p1_2_1": "w" * 1_000_000})])
    (answer,) = api.get_answer_distribution(COURSE, PROBLEM)
    assert len(answer["answer_value"]) == MAX_ANSWER_CHARACTERS and answer["answer_value"].endswith(TRUNCATED)
    assert ProblemSubmissionFact.objects.using("analytics").get().correct  # the grade still counts


def test_answers_in_lists_are_cut_as_a_whole():
    (_activity, submission) = normalize(server_check({"p1_2_1": ["a" * 800, "b" * 800]})).records
    assert isinstance(submission, ProblemSubmission)
    assert len(submission.answers[0].value) == MAX_ANSWER_CHARACTERS


# ---------------------------------------------------------------- ids at the door


def test_over_long_video_ids_are_refused_before_the_memo():
    VIDEO_ID_MEMO.clear()
    for n in range(40):
        outcome = normalize(player("play_video", 0, id=f"{n}" + "v" * 500_000, currentTime=0))
        assert outcome.reason == "too_long"
    assert VIDEO_ID_MEMO.characters == 0


def test_the_video_id_memo_is_bounded_in_characters():
    VIDEO_ID_MEMO.clear()
    most = 0
    for n in range(10_000):  # about 4.8 million characters of ids and answers in all
        assert normalize(player("play_video", 0, id=f"{n:05d}" + "v" * 200, currentTime=0)).reason is None
        most = max(most, VIDEO_ID_MEMO.characters)
    assert 0 < most <= VIDEO_ID_MEMO.max_characters


def test_over_long_course_ids_are_refused_before_the_memo():
    COURSE_ID_MEMO.clear()
    long_course = "course-v1:Flood+Bounds+" + "r" * 500_000
    event = {**player("play_video", 0, currentTime=0)}
    event["context"] = {**event["context"], "course_id": long_course}
    assert normalize(event).reason == "too_long"
    assert COURSE_ID_MEMO.get(long_course) is None and COURSE_ID_MEMO.characters == 0


def test_over_long_problem_ids_are_refused():
    event = server_check({"p1_2_1": "A"})
    event["data"]["problem_id"] = PROBLEM + "x" * 500_000
    assert normalize(event).reason == "too_long"
