"""Dirty-marker keys: written and read by one module, so a writer and the engine reading it cannot disagree."""
from __future__ import annotations

import datetime as dt

from openedx_analytics.models import DirtyScope
from openedx_analytics.pipeline import markers
from openedx_analytics.pipeline.kinds import KINDS
from openedx_analytics.pipeline.records import ProblemSubmission, VideoEvent

COURSE = "course-v1:Markers+M1+2026"
NOW = dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.timezone.utc)


def test_learner_keys_read_back_what_was_written():
    day = dt.date(2026, 3, 2)
    keys = {markers.learner_key(7, "v1"), markers.learner_key(8, "v1"), markers.learner_key(7, "v2"), "v2", "v3"}
    whole, learners = markers.split_learner_keys(keys)
    assert (whole, learners) == ({"v2", "v3"}, {"v1": {7, 8}})
    days = markers.split_learner_days({markers.learner_day_key(7, day), markers.day_key(day + dt.timedelta(1))})
    assert days == ({day + dt.timedelta(1)}, {day: {7}})


def test_a_learner_key_too_long_for_the_column_asks_for_the_whole_block():
    fits = "b" * (markers.KEY_LENGTH - 2)
    assert markers.learner_key(7, fits) == f"7 {fits}" and len(f"7 {fits}") == markers.KEY_LENGTH
    assert markers.learner_key(77, fits) == fits
    assert markers.split_learner_keys({markers.learner_key(77, fits), markers.learner_key(7, fits)}) == ({fits}, {})


def test_day_and_user_keys_and_the_key_asking_for_everything():
    day = dt.date(2026, 3, 2)
    assert markers.first_day({markers.day_key(day), markers.day_key(day + dt.timedelta(3))}) == day
    assert markers.first_day({markers.day_key(day), markers.ALL_KEYS}) is None
    assert markers.first_day({"not a day"}) is None
    assert markers.user_ids_of({markers.user_key(7), markers.user_key(12)}) == {7, 12}
    assert markers.user_ids_of({markers.user_key(7), markers.ALL_KEYS}) is None
    assert markers.user_ids_of({"²"}) is None  # a digit to str.isdigit, not a user id
    assert markers.whole_course(DirtyScope.GRADES, COURSE) == (DirtyScope.GRADES, COURSE, markers.ALL_KEYS)


def test_a_video_and_a_problem_too_long_to_name_a_learner_both_mark_their_whole_block():
    block_id = "b" * 253
    for record in (VideoEvent(COURSE, block_id, 123456, NOW, "play", 0.0),
                   ProblemSubmission(COURSE, block_id, 123456, NOW, 1, True)):
        kind = KINDS[type(record)]
        assert kind.scopes(record) == [(kind.scope_kinds[0], COURSE, block_id)]
