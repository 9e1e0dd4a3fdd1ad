"""Grades and passing: a learner's course grade, and whether they now pass (tracking events and signals).

Only the server may state a grade or a pass. Course grades outside [0, 1] are rejected
(``out_of_range``), never clamped.
"""
from __future__ import annotations

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.bounds import bounded
from openedx_analytics.pipeline.events.registration import SIGNAL_PREFIX, Family, Signal
from openedx_analytics.pipeline.records import GradeChange, PassingChange, Record
from openedx_analytics.pipeline.rejected import Rejected

GRADES = Family("grades and passing")


def _percent(envelope: Envelope) -> float | None:
    return bounded(envelope.payload.number("percent_grade", required=True), "percent_grade", 1.0)


@GRADES.register("edx.grades.course.grade_calculated", fields=("percent_grade",))
def course_grade_calculated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner's course grade was (re)computed."""
    return [GradeChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, _percent(envelope))]


@GRADES.register(
    Signal("PERSISTENT_GRADE_SUMMARY_CHANGED", "grade", SIGNAL_PREFIX + "course.persistent_grade_summary.changed.v1"),
    fields=("percent_grade", "passed_timestamp"),
)
def grade_summary_signal(envelope: Envelope) -> list[Record]:
    """Signal: the persistent grade changed; a passed timestamp means passing."""
    course_id = envelope.course_id()
    user_id = envelope.user_id(from_data=True)
    percent = _percent(envelope)
    passing = envelope.payload.get("passed_timestamp") not in (None, "")
    return [
        GradeChange(course_id, user_id, envelope.time, percent),
        PassingChange(course_id, user_id, envelope.time, passing),
    ]


@GRADES.register("edx.course.grade.passed.first_time", "edx.course.grade.now_passed", "edx.course.grade.now_failed")
def passing_event(envelope: Envelope) -> list[Record]:
    """Tracking events: the learner now passes (or fails) the course."""
    passing = not envelope.name.endswith("now_failed")
    return [PassingChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, passing)]


@GRADES.register(
    Signal("COURSE_PASSING_STATUS_UPDATED", "course_passing_status",
           SIGNAL_PREFIX + "course.passing.status.updated.v1"),
    fields=("is_passing",),
)
def passing_signal(envelope: Envelope) -> list[Record]:
    """Signal: course passing status updated."""
    is_passing = envelope.payload.get("is_passing")
    if not isinstance(is_passing, bool):
        raise Rejected("wrong_type", "is_passing is not a boolean", "data.is_passing")
    return [PassingChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, is_passing)]
