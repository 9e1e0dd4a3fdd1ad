"""Unit tests for the tricky pure parts of the metric engines (spec: ../shared/spec/metrics.md)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from openedx_analytics.metrics import enrollment, problems
from openedx_analytics.metrics.grades import bucket_of
from openedx_analytics.metrics.problem_tally import ProblemFigures, consolidate_variants
from openedx_analytics.metrics.video_replay import (
    PlayerEvent,
    end_segment,
    infer_final_segment,
    touched_segments,
    viewings,
)

UTC = dt.timezone.utc


def enrollment_series(rows, until: dt.date) -> list[enrollment.DayFigures]:
    """A course's daily figures from its enrollment fact rows, through the engine's pure steps."""
    return enrollment.compute(enrollment.tally(enrollment.contributions(rows)), until)


def problem_figures(rows) -> ProblemFigures:
    """One problem's figures from its submission rows, through the engine's pure steps."""
    (tally,) = problems.tally(problems.contributions(("problem", *row) for row in rows)).values()
    return problems.compute(tally)


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def enr(user, time, active, mode="audit"):
    return (user, time, active, mode, f"{user}-{time.isoformat()}-{active}-{mode}")


def by_date(series):
    return {f.date.day: f for f in series}


class TestEnrollment:
    def test_enrol_and_unenrol_same_day_leaves_learner_not_enrolled_but_ever_enrolled(self):
        days = by_date(enrollment_series([enr(1, at(2, 9), True), enr(1, at(2, 17), False)], dt.date(2026, 3, 3)))
        assert (days[2].count, days[2].cumulative_count, days[2].enrollments, days[2].unenrollments) == (0, 1, 1, 1)
        assert days[3].count == 0 and days[3].cumulative_count == 1 and days[3].enrollments == 0

    def test_days_without_changes_carry_forward(self):
        series = enrollment_series([enr(1, at(1), True), enr(2, at(4), True)], dt.date(2026, 3, 6))
        assert [(f.date.day, f.count, f.cumulative_count) for f in series] == [
            (1, 1, 1), (2, 1, 1), (3, 1, 1), (4, 2, 2), (5, 2, 2), (6, 2, 2)]

    def test_last_mode_of_the_day_wins_and_modes_add_up(self):
        rows = [enr(1, at(1), True, "audit"), enr(1, at(1, 15), None, "verified"),
                enr(2, at(1), True, "audit"), enr(2, at(2), False, "audit")]
        days = by_date(enrollment_series(rows, dt.date(2026, 3, 2)))
        assert days[1].modes == {"audit": {"count": 1, "cumulative_count": 1},
                                 "verified": {"count": 1, "cumulative_count": 1}}
        assert days[2].modes["audit"] == {"count": 0, "cumulative_count": 1}
        assert sum(m["cumulative_count"] for m in days[2].modes.values()) == days[2].cumulative_count

    def test_first_event_a_deactivation_counts_as_ever_enrolled(self):
        days = by_date(enrollment_series([enr(1, at(5), False, "verified")], dt.date(2026, 3, 5)))
        assert (days[5].count, days[5].cumulative_count, days[5].unenrollments) == (0, 1, 1)
        assert days[5].modes["verified"] == {"count": 0, "cumulative_count": 1}

    def test_repeated_states_are_not_new_activations(self):
        rows = [enr(1, at(1, 9), True), enr(1, at(1, 9, 1), True), enr(1, at(3), True)]
        assert [f.enrollments for f in enrollment_series(rows, dt.date(2026, 3, 3))] == [1, 0, 0]

    def test_delivery_order_does_not_matter(self):
        rows = [enr(1, at(1), True), enr(1, at(2), False), enr(1, at(2), True, "verified"), enr(2, at(2), True)]
        expected = enrollment_series(rows, dt.date(2026, 3, 4))
        assert enrollment_series(list(reversed(rows)), dt.date(2026, 3, 4)) == expected


def play(_t, pos):
    return PlayerEvent("play", pos)


def pause(_t, pos, action="pause"):
    return PlayerEvent(action, pos)


def seek(_t, old, new):
    return PlayerEvent("seek", None, old, new)


class TestVideo:
    def test_seek_closes_a_viewing_and_the_next_play_starts_at_its_new_time(self):
        events = [play(0, 0), seek(8, 8, 30), play(9, 8), pause(19, 40, "stop")]
        assert viewings(events, 60) == [(0, 8), (30, 40)]

    def test_second_play_replaces_the_open_viewing(self):
        assert viewings([play(0, 0), play(5, 20), pause(10, 25)], None) == [(20, 25)]

    def test_dropped_viewings(self):
        assert viewings([play(0, 10), pause(1, 5)], None) == []  # ends before it starts
        assert viewings([play(0, 10), pause(1, 10.2)], None) == []  # under 0.25 s
        assert viewings([play(0, 50), pause(1, 61.5)], 60) == []  # more than 1 s past the duration
        assert viewings([play(0, 50), pause(1, 60.5)], 60) == [(50, 60.5)]

    def test_events_outside_a_viewing_are_ignored(self):
        assert viewings([pause(0, 5), seek(1, 5, 20), pause(2, 30)], None) == []

    def test_an_end_exactly_on_a_boundary_touches_that_segment(self):
        assert touched_segments([(0, 10.0)]) == Counter({0: 1, 1: 1, 2: 1})

    def test_duration_inference_cuts_the_sharp_drop(self):
        users = {0: 100, 1: 95, 2: 90, 3: 88, 4: 2, 5: 1}
        assert infer_final_segment(users, 0.05) == 3
        assert infer_final_segment({0: 10, 1: 9}, 0.05) == 1
        assert infer_final_segment({0: 100, 1: 3, 2: 60, 3: 1}, 0.05) == 2  # a drop mid-video is kept
        assert infer_final_segment({0: 3}, 0.05) == 0

    def test_end_segment(self):
        assert end_segment(600) == 114  # 570 s
        assert end_segment(100) == 19  # 95 s: 0.95 x duration beats duration - 30


def sub(user, attempt, correct, answers, variant=""):
    return (user, attempt, at(1, 10, attempt), correct,
            [{"part_id": "p1", "value": a, "correct": correct, "variant": variant} for a in answers],
            f"{user}{attempt}")


class TestProblems:
    def test_last_submission_counts_for_correctness_and_distribution(self):
        figures = problem_figures([sub(1, 1, False, ["A"]), sub(1, 2, True, ["B"]), sub(2, 1, True, ["B"]),
                                   sub(3, 1, False, ["C"])])
        assert (figures.users_attempted, figures.total_submissions, figures.correct_submissions,
                figures.first_attempt_correct) == (3, 4, 2, 1)
        assert figures.attempts_mean == pytest.approx(4 / 3, abs=1e-4)
        assert figures.answers == {("p1", "B", True, ""): 2, ("p1", "C", False, ""): 1}

    def test_a_reset_attempt_number_is_ordered_by_time(self):
        def at_minute(user, attempt, minute, correct, answer):
            return (user, attempt, at(1, 10, minute), correct,
                    [{"part_id": "p1", "value": answer, "correct": correct, "variant": ""}], f"{user}-{minute}")

        rows = [at_minute(1, 1, 1, False, "A"), at_minute(1, 2, 2, False, "B"), at_minute(1, 3, 3, False, "C"),
                at_minute(1, 1, 9, True, "D")]  # staff reset the attempts before the last one
        figures = problem_figures(reversed(rows))
        assert (figures.total_submissions, figures.correct_submissions, figures.first_attempt_correct) == (4, 1, 0)
        assert figures.answers == {("p1", "D", True, ""): 1}
        assert figures.attempts_mean == 4

    def test_the_attempt_number_breaks_a_tie_in_time(self):
        same = at(1, 10)
        rows = [(1, 2, same, True, [], "a"), (1, 1, same, False, [], "b")]
        assert problem_figures(rows).first_attempt_correct == 0

    def test_variants_with_equal_answer_sets_are_consolidated(self):
        answers = Counter({("p1", "4", True, "1"): 2, ("p1", "4", True, "2"): 1, ("p1", "9", True, "3"): 1})
        assert consolidate_variants(answers) == {("p1", "4", True, "1,2"): 3, ("p1", "9", True, "3"): 1}


def test_grade_buckets():
    assert [bucket_of(p) for p in (0, 0.09, 0.1, 0.899, 0.9, 1.0)] == ["0-9", "0-9", "10-19", "80-89", "90-100",
                                                                       "90-100"]
