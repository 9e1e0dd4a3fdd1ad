"""Generic activity: any course event of a learner counts for "any" engagement.

Names that are not registered still count as course activity when they carry a course
and a learner, as Insights counted them; so does a browser or mobile copy of a registered
engagement name (it speaks for its sender's own activity). Names that describe enrollment
or are computed by background tasks never count.
"""
from __future__ import annotations

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.registration import SIGNAL_PREFIX, Registration
from openedx_analytics.pipeline.payload import IDENTITY_FIELDS
from openedx_analytics.pipeline.records import Activity, Record
from openedx_analytics.pipeline.rejected import Rejected

#: Names that never count as engagement: they describe enrollment or are computed by
#: background tasks, not done by the learner.
NOT_ENGAGEMENT_PREFIXES = (
    "edx.course.enrollment.",
    "edx.grades.course.",
    "edx.grades.subsection.",
    "edx.course.grade.",
    "edx.certificate.",
    SIGNAL_PREFIX + "course.enrollment.",
    SIGNAL_PREFIX + "course.unenrollment.",
    SIGNAL_PREFIX + "certificate.",
    SIGNAL_PREFIX + "course.persistent_grade_summary.",
    SIGNAL_PREFIX + "course.passing.",
)


def learner_activity(envelope: Envelope, *kinds: str) -> Activity:
    """An ``Activity`` record for the acting learner, rejecting background-task events."""
    if envelope.event_source == "task":
        raise Rejected("background_task", "emitted by a background task")
    course_id = envelope.course_id()
    user_id = envelope.user_id()
    return Activity(course_id=course_id, user_id=user_id, day=envelope.day, kinds=("any", *kinds))


def generic_activity(envelope: Envelope) -> list[Record]:
    """Any other course event of a learner counts for "any" engagement (server request paths too)."""
    if envelope.name.startswith(NOT_ENGAGEMENT_PREFIXES):
        return []
    if envelope.context.get("course_id") is None and "/courses/" not in (
        f"{envelope.page} {envelope.context.get('path') or ''} {envelope.name}"
    ):
        raise Rejected("untracked_event", f"{envelope.name[:100]!r} does not belong to a course")
    return [learner_activity(envelope)]


#: How a name without a registration of its own is read: any source, no payload field beyond the ids.
GENERIC = Registration(name="", normalizer=generic_activity, sources=None, fields=IDENTITY_FIELDS)
