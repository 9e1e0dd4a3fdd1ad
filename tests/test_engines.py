"""The metric engines as a user meets them: events in through the real doors, numbers out of the API,
and incremental recomputes that always equal a whole rebuild (spec: ../shared/spec/metrics.md)."""
from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections import Counter
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.db import connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openedx_analytics import api, conf, metrics
from openedx_analytics.backfill.verify import verify_course
from openedx_analytics.db.bulk import insert_ignore
from openedx_analytics.metrics import activity, problems, video, video_replay
from openedx_analytics.metrics.engine import stored_rows as engine_rows
from openedx_analytics.metrics.store import IdsMerged
from openedx_analytics.models import ActivityFact, ActivityLearnerWeek, DirtyScope, RejectionCount, VideoSegment
from openedx_analytics.pipeline.facts import write_facts
from openedx_analytics.pipeline.kinds import KINDS
from openedx_analytics.pipeline.markers import ALL_KEYS, mark_dirty
from openedx_analytics.pipeline.records import (
    Activity,
    CertificateChange,
    EnrollmentChange,
    GradeChange,
    PartAnswer,
    PassingChange,
    ProblemSubmission,
    VideoEvent,
)
from openedx_analytics.worker import tasks
from openedx_analytics.worker.drain import ENGINES, drain
from tests.support import doors
from tests.support.lms import lms_knows

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE)


def test_attempts_reset_by_staff_count_by_time(captured_batches):
    """Attempts 1, 2, 3, a reset by staff, attempt 1 again: first is the oldest, last the newest, all four count."""
    doors.problem_check(1, 1, False, "Paris")
    doors.problem_check(1, 2, False, "Lyon")
    doors.problem_check(1, 3, False, "Nice")
    doors.problem_check(1, 1, True, "Marseille")  # after the reset
    doors.problem_check(2, 1, True, "Marseille")
    for batch in list(captured_batches):  # a re-delivery of the very same events changes nothing
        tasks.process_event_batch.apply(args=[batch, "live"])

    (problem,) = api.get_problems(doors.COURSE)
    assert (problem["users_attempted"], problem["total_submissions"], problem["correct_submissions"],
            problem["first_attempt_correct"], problem["attempts_mean"]) == (2, 5, 2, 1, 2.5)
    answers = api.get_answer_distribution(doors.COURSE, doors.PROBLEM)
    assert [(a["answer_value"], a["count"]) for a in answers] == [("Marseille", 2)]


def test_one_learners_outlier_duration_does_not_stretch_the_video(captured_batches):
    """Three players say 60 s, one says 80,000 s (within the longest video believed, so not rejected at
    the door): the video lasts 60 s and its timeline 13 segments."""
    for user_id, duration in ((1, 60), (2, 60), (3, 60), (4, 80_000)):
        data = {"id": doors.VIDEO, "code": "html5", "duration": duration}
        end = 59 if duration == 60 else 10
        doors.emit("play_video", {**data, "currentTime": 0}, user_id, event_source="browser")
        doors.emit("pause_video", {**data, "currentTime": end}, user_id, event_source="browser")
    (summary,) = api.get_videos(doors.COURSE)
    assert (summary["duration"], summary["users_at_start"], summary["users_at_end"]) == (60, 4, 3)
    assert len(api.get_video_timeline(doors.COURSE, summary["video_id"])) == 13


def test_a_tie_between_durations_goes_to_the_shortest():
    assert video_replay.robust_duration(Counter({60.0: 2, 90.0: 2, 1e6: 1})) == 60.0
    assert video_replay.robust_duration(Counter({60.0: 1, 90.0: 3})) == 90.0
    assert video_replay.robust_duration(Counter()) is None


def test_markers_name_what_changed():
    """What each kind of marker carries: the engines recompute from it."""
    now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    course = "course-v1:Mark+M1+2026"
    scopes = write_facts([
        EnrollmentChange(course, 7, now, "audit", True),
        ProblemSubmission(course, "block-v1:Mark+M1+2026+type@problem+block@p", 7, now, 1, True),
        VideoEvent(course, "v1", 7, now, "play", 0.0),
        GradeChange(course, 8, now, 0.5),
        Activity(course, 7, now.date(), ("any", "problem")),
    ])
    assert scopes == {
        (DirtyScope.ENROLLMENT, course, "2026-03-02"), (DirtyScope.GRADES, course, "7"),
        (DirtyScope.ACTIVITY, course, "7 2026-03-02"),
        (DirtyScope.PROBLEM, course, "7 block-v1:Mark+M1+2026+type@problem+block@p"),
        (DirtyScope.VIDEO_USER, course, "7 v1"), (DirtyScope.GRADES, course, "8"),
    }
    assert set(ENGINES) == set(DirtyScope.ORDER) | set(DirtyScope.SITE_ORDER)


def test_ids_too_long_to_carry_a_user_id_recompute_the_whole_block():
    course = "course-v1:Long+L1+2026"
    long_id = "block-v1:Long+L1+2026+type@problem+block@" + "x" * 210
    now = dt.datetime.now(dt.timezone.utc)
    scopes = write_facts([ProblemSubmission(course, long_id, 123456, now, 1, True),
                          VideoEvent(course, long_id, 123456, now, "play", 0.0),
                          VideoEvent(course, long_id, 123456, now + dt.timedelta(seconds=8), "pause", 8.0)])
    assert {key for _kind, _course, key in scopes} == {long_id}
    drain(courses=[course])
    assert api.get_problems(course)[0]["users_attempted"] == 1
    assert api.get_videos(course)[0]["users_at_start"] == 1
    assert verify_course(course) == []


def test_a_video_id_and_a_problem_id_of_253_characters_are_both_accepted_and_recomputed():
    """Ids that fit their columns but not a learner marker: a video as a problem, through the real doors.

    Learner 123456's marker key would pass 255 characters, so it falls back to the whole block;
    learner 7's just fits (255), so the same block gets both shapes of key.
    """
    course = "course-v1:Long+L2+2026"
    video_id = "block-v1:Long+L2+2026+type@video+block@" + "v" * 214
    problem_id = "block-v1:Long+L2+2026+type@problem+block@" + "p" * 212
    assert len(video_id) == len(problem_id) == 253
    lms_knows(course)
    for user_id in (123456, 7):
        data = {"id": video_id, "duration": 60}
        doors.emit("play_video", {**data, "currentTime": 0}, user_id, course, event_source="browser")
        doors.emit("pause_video", {**data, "currentTime": 30}, user_id, course, event_source="browser")
        doors.emit("problem_check", {
            "problem_id": problem_id, "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
            "answers": {"p1_2_1": "A"}, "submission": {"p1_2_1": {"answer": "A", "correct": True, "variant": ""}},
        }, user_id, course, event_source="server", module={"usage_key": problem_id})

    assert not RejectionCount.objects.using("analytics").exists()
    assert not DirtyScope.objects.using("analytics").filter(course_id=course).exists()
    ((video_row,),) = [api.get_videos(course)]
    assert (video_row["video_id"], video_row["users_at_start"], video_row["views"]) == (video_id, 2, 2)
    ((problem_row,),) = [api.get_problems(course)]
    assert (problem_row["problem_id"], problem_row["users_attempted"]) == (problem_id, 2)
    assert verify_course(course) == []


# ------------------------------------------------------------ incremental == whole rebuild

USERS = st.integers(1, 6)
MODES = st.sampled_from(["audit", "verified"])
_course_numbers = itertools.count()


def _histories(today: dt.date) -> st.SearchStrategy:
    """Random histories of one course: records of every kind over the last week, in batches."""
    times = st.builds(
        lambda day, second: dt.datetime.combine(today - dt.timedelta(days=day), dt.time(),
                                                tzinfo=dt.timezone.utc) + dt.timedelta(seconds=second),
        st.integers(0, 6), st.integers(0, 86_399),
    )
    positions = st.one_of(st.none(), st.floats(0, 130, allow_nan=False).map(lambda p: round(p, 1)))

    def answers() -> st.SearchStrategy:
        return st.lists(st.builds(PartAnswer, st.sampled_from(["p1", "p2"]), st.sampled_from(["A", "B", "C"]),
                                  st.sampled_from([True, False, None]), st.sampled_from(["", "", "1", "2"])),
                        max_size=2, unique_by=lambda a: a.part_id).map(tuple)

    # Activity of a few learners over the last ten days (always across a week boundary), often on a day
    # or week they were active before: what the engine must not count twice.
    activity_days = st.integers(0, 9).map(lambda day: today - dt.timedelta(days=day))
    activity_kinds = st.sampled_from([("any",), ("any", "video"), ("any", "problem"), ("any", "forum"),
                                      ("any", "video", "problem")])

    def record(course: str) -> st.SearchStrategy:
        activity = st.builds(Activity, st.just(course), st.integers(1, 3), activity_days, activity_kinds)
        return st.one_of(
            st.builds(EnrollmentChange, st.just(course), USERS, times, MODES, st.sampled_from([True, False, None])),
            activity,
            activity,
            st.builds(VideoEvent, st.just(course), st.sampled_from(["v1", "v2"]), USERS, times,
                      st.sampled_from(["play", "pause", "seek", "stop"]), positions, positions, positions,
                      st.sampled_from([None, 60.0, 60.0, 90.0, 1e6])),
            st.builds(ProblemSubmission, st.just(course), st.sampled_from(["pa", "pb"]), USERS, times,
                      st.one_of(st.none(), st.integers(1, 3)), st.booleans(), answers()),
            st.builds(GradeChange, st.just(course), USERS, times, st.floats(0, 1, allow_nan=False)),
            st.builds(PassingChange, st.just(course), USERS, times, st.booleans()),
            st.builds(CertificateChange, st.just(course), USERS, times, MODES,
                      st.sampled_from(["downloadable", "notpassing"])),
        )

    def batch(course: str) -> st.SearchStrategy:
        """A live batch, sometimes with an event of it delivered again; now and then a backfill's batch."""
        records = st.lists(record(course), min_size=1, max_size=8)
        again = records.flatmap(lambda items: st.sampled_from(items).map(lambda repeat: [*items, repeat]))
        return st.tuples(st.one_of(records, again), st.sampled_from([False, False, False, True]))

    return st.integers().map(lambda _: f"course-v1:Prop+P{next(_course_numbers)}+2026").flatmap(
        lambda course: st.tuples(st.just(course), st.lists(batch(course), min_size=1, max_size=6)))


def stored_rows(course: str, *engines) -> dict:
    """Every stored row of a course in every table the engines own (``engines`` only, if given): aggregates,
    running tallies and per-learner rows, timestamps left out."""
    using = conf.analytics_db()
    return {label: rows for engine in engines or metrics.ENGINES
            for label, rows in engine_rows(engine, course, using).items()}


class _Undone(Exception):
    """Raised to roll back a whole rebuild once its rows are read."""


def rebuilt_rows(course: str) -> dict:
    """``stored_rows`` after a whole rebuild of every kind of the course, the stored rows then left as they were
    (so the next incremental step starts from what the incremental steps stored)."""
    try:
        with transaction.atomic(using=conf.analytics_db()):
            mark_dirty([(kind, course, ALL_KEYS) for kind in DirtyScope.ORDER])
            drain(courses=[course])
            rows = stored_rows(course)
            raise _Undone
    except _Undone:
        return rows


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=_histories(_today()))
def test_incremental_recomputes_equal_a_whole_rebuild(history):
    """After each recompute, every table the engines own (per-learner rows included) holds what a whole
    rebuild stores, and verify finds nothing to report."""
    course, batches = history
    for batch, backfill in batches:  # each batch as the live path (or a backfill) takes it: facts, markers, drain
        write_facts(batch, whole_courses=backfill)
        drain(courses=[course])
        incremental = stored_rows(course)
        assert verify_course(course) == []
        assert rebuilt_rows(course) == incremental
    mark_dirty([(kind, course, ALL_KEYS) for kind in DirtyScope.ORDER])
    drain(courses=[course])
    assert stored_rows(course) == incremental


def test_a_course_fed_live_verifies_clean(captured_batches):
    doors.run_scenario()
    doors.problem_check(3, 1, False, "Paris")  # and a reset attempt
    assert api.get_problems(doors.COURSE)[0]["total_submissions"] == 4
    assert verify_course(doors.COURSE) == []


def test_a_tampered_timeline_row_is_named():
    course = "course-v1:Tamper+T1+2026"
    now = dt.datetime.now(dt.timezone.utc)
    write_facts([VideoEvent(course, "v1", 1, now, "play", 0.0, duration=60.0),
                 VideoEvent(course, "v1", 1, now + dt.timedelta(seconds=9), "pause", 9.0, duration=60.0)])
    drain(courses=[course])
    assert verify_course(course) == []
    VideoSegment.objects.using(conf.analytics_db()).filter(course_id=course, segment=1).update(num_views=7)
    (difference,) = verify_course(course)
    assert str(difference) == "video segment ('v1', 1): stored (1, 7), expected (1, 1)"


# ------------------------------------------------------------ engagement: upgrades and old markers


def _activity_state(course: str) -> dict:
    return stored_rows(course, activity)


def _rebuilt_state(course: str) -> tuple:
    mark_dirty([(DirtyScope.ACTIVITY, course, ALL_KEYS)])
    drain(courses=[course])
    return _activity_state(course)


def test_day_markers_stored_before_the_upgrade_recount_their_week():
    """A marker naming only a day (what activity markers were before they named learners) still counts its
    facts: that day's whole week is recounted, beside learner markers of the same and another week."""
    course = "course-v1:Old+O1+2026"
    monday = activity.week_start(_today()) - dt.timedelta(days=14)
    write_facts([Activity(course, 1, monday, ("any",)), Activity(course, 2, monday + dt.timedelta(days=2),
                                                                 ("any", "video"))])
    drain(courses=[course])
    using = conf.analytics_db()
    thursday = monday + dt.timedelta(days=3)
    insert_ignore(ActivityFact, KINDS[Activity].columns, [(course, thursday, "any", 3), (course, thursday, "forum", 3),
                                                   (course, thursday, "any", 1)], using)
    mark_dirty([(DirtyScope.ACTIVITY, course, thursday.isoformat())])
    write_facts([Activity(course, 4, monday + dt.timedelta(days=1), ("any",)),
                 Activity(course, 4, monday + dt.timedelta(days=8), ("any", "problem"))])
    drain(courses=[course])

    assert verify_course(course) == []
    weeks = {row["interval_start"]: row for row in api.get_activity(course, granularity="week")}
    assert (weeks[monday]["any"], weeks[monday]["posted_forum"]) == (4, 1)
    assert _activity_state(course) == _rebuilt_state(course)

    # An old day marker alone, on a week whose learner rows are all there already, changes nothing.
    before = _activity_state(course)
    mark_dirty([(DirtyScope.ACTIVITY, course, thursday.isoformat())])
    drain(courses=[course])
    assert _activity_state(course) == before


def test_a_site_upgraded_with_counts_and_no_learner_rows_rebuilds_once_then_counts_new_events():
    """After the migration that adds learner-week rows a course has counts but no rows: the migration asks
    for one whole rebuild, and later events add to what it built."""
    course = "course-v1:Upgrade+U1+2026"
    today = _today()
    write_facts([Activity(course, user, today - dt.timedelta(days=user), ("any", "video")) for user in range(1, 6)])
    drain(courses=[course])
    using = conf.analytics_db()
    ActivityLearnerWeek.objects.using(using).filter(course_id=course).delete()  # as 0007 finds a running site
    migration = importlib.import_module("openedx_analytics.migrations.0007_activity_learner_weeks")
    migration.rebuild_activity_of_every_course(django_apps, SimpleNamespace(connection=connections[using]))
    write_facts([Activity(course, 1, today - dt.timedelta(days=1), ("any",)), Activity(course, 9, today, ("any",))])
    drain(courses=[course])

    assert verify_course(course) == []
    assert ActivityLearnerWeek.objects.using(using).filter(course_id=course).exists()
    assert _activity_state(course) == _rebuilt_state(course)


def _viewer_rows(course: str) -> list[tuple]:
    from openedx_analytics.models import VideoViewer

    return sorted(VideoViewer.objects.using(conf.analytics_db()).filter(course_id=course).values_list(
        "video_id", "user_id", "viewings", "max_duration", "segments"))


@pytest.mark.parametrize("interleaved", [False, True])
def test_a_whole_course_video_rebuild_equals_one_rebuild_per_video(interleaved):
    """The course-wide replay (one ordered read) stores what replaying each video alone stores; ids a
    case-insensitive collation sorts together (``Vid``/``vid``), or any interleaving, fall back to per video."""
    course = "course-v1:Whole+Video+2026"
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=2)
    records = []
    for n, (video_id, user) in enumerate(itertools.product(["Vid", "vid", "other"], [3, 4, 5])):
        at = start + dt.timedelta(minutes=n)
        records += [VideoEvent(course, video_id, user, at, "play", 0.0, duration=60.0),
                    VideoEvent(course, video_id, user, at + dt.timedelta(seconds=12 + user), "pause", 12.0 + user),
                    VideoEvent(course, video_id, user, at + dt.timedelta(seconds=40), "play", 3.0 * user),
                    VideoEvent(course, video_id, user, at + dt.timedelta(seconds=50), "stop", 50.0)]
    write_facts(records, whole_courses=True)
    using, now = conf.analytics_db(), dt.datetime.now(dt.timezone.utc)
    for video_id in video.video_ids(course, using):
        video.rebuild_video(course, video_id, now, using)
    per_video = (stored_rows(course, video), _viewer_rows(course))
    from openedx_analytics.models import VideoSummary, VideoTally, VideoViewer

    for model in (VideoSegment, VideoSummary, VideoTally, VideoViewer):  # rebuilt from nothing
        model.objects.using(using).filter(course_id=course).delete()
    original = video.rebuild_whole_course

    def interleaving(*args):
        original(*args)
        raise IdsMerged("as a case-insensitive order would")

    replacement = interleaving if interleaved else original
    with mock.patch.object(video, "rebuild_whole_course", side_effect=replacement) as spy, \
            mock.patch.object(video, "rebuild_video", wraps=video.rebuild_video) as fallback:
        mark_dirty([(DirtyScope.VIDEO_USER, course, ALL_KEYS)])
        report = drain(courses=[course])
    assert spy.called and not report.failed and not report.quarantined
    collapsed = len(video.video_ids(course, using)) < 3  # "Vid" and "vid" are one id to this database
    assert fallback.called == (interleaved or collapsed)
    assert (stored_rows(course, video), _viewer_rows(course)) == per_video


def _learner_rows(course: str) -> list[tuple]:
    from openedx_analytics.models import ProblemLearner

    return sorted(ProblemLearner.objects.using(conf.analytics_db()).filter(course_id=course).values_list(
        "problem_id", "user_id", "submissions", "attempts", "first_correct", "last_correct", "answers", "parts"))


@pytest.mark.parametrize("merged", [False, True])
def test_a_whole_course_problem_rebuild_equals_one_rebuild_per_problem(merged):
    """The course-wide problem rebuild stores what rebuilding each problem alone stores (variants, parts and
    answers included); ids the database merges (``Prob``/``prob`` on MySQL) fall back to per problem."""
    course = "course-v1:Whole+Problem+2026"
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=2)
    records = []
    for n, (problem_id, user, attempt) in enumerate(itertools.product(["Prob", "prob", "other"], [3, 4, 5], [1, 2])):
        answers = (PartAnswer("p1", f"answer {(user + attempt) % 3}", (user + attempt) % 3 == 0, f"v{user % 2}"),
                   PartAnswer(f"p{attempt + 1}", "x", None))
        records.append(ProblemSubmission(course, problem_id, user, start + dt.timedelta(minutes=n), attempt,
                                         (user + attempt) % 3 == 0, answers))
    write_facts(records, whole_courses=True)
    using, now = conf.analytics_db(), dt.datetime.now(dt.timezone.utc)
    for problem_id in problems.problem_ids(course, using):
        problems.rebuild_problem(course, problem_id, now, using)
    per_problem = (stored_rows(course, problems), _learner_rows(course))
    from openedx_analytics.models import ProblemAnswer, ProblemAnswerTally, ProblemLearner, ProblemSummary

    for model in (ProblemAnswer, ProblemAnswerTally, ProblemLearner, ProblemSummary):  # rebuilt from nothing
        model.objects.using(using).filter(course_id=course).delete()
    original = problems.rebuild_whole_course

    def merging(*args):
        original(*args)
        raise IdsMerged("as a case-insensitive collation would")

    with mock.patch.object(problems, "rebuild_whole_course", side_effect=merging if merged else original) as spy, \
            mock.patch.object(problems, "rebuild_problem", wraps=problems.rebuild_problem) as fallback:
        mark_dirty([(DirtyScope.PROBLEM, course, ALL_KEYS)])
        report = drain(courses=[course])
    assert spy.called and not report.failed and not report.quarantined
    collapsed = len(problems.problem_ids(course, using)) < 3
    assert fallback.called == (merged or collapsed)
    assert (stored_rows(course, problems), _learner_rows(course)) == per_problem
