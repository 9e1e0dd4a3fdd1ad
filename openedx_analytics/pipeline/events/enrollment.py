"""Enrollment: a learner enrolled, unenrolled or changed mode (tracking events and signals).

Only the server may state an enrollment. The tracking events carry the mode (their name
says whether the learner is now active); the signals carry the full state.
"""
from __future__ import annotations

from typing import Any

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.registration import SIGNAL_PREFIX, Family, Signal
from openedx_analytics.pipeline.records import EnrollmentChange, Record
from openedx_analytics.pipeline.rejected import Rejected

ENROLLMENT = Family("enrollment")

#: Modes stored under another name (the LMS's historical spelling of a mode).
MODE_ALIASES = {"no-id-professional": "professional"}


def enrollment_mode(raw: Any) -> str:
    """A mode as stored: required, a string, aliases resolved."""
    if raw in (None, ""):
        raise Rejected("missing_field", "mode", "data.mode")
    if not isinstance(raw, str):
        raise Rejected("wrong_type", f"mode is a {type(raw).__name__}", "data.mode")
    return MODE_ALIASES.get(raw, raw)


def _enrollment_event(envelope: Envelope, is_active: bool | None) -> list[Record]:
    return [
        EnrollmentChange(
            course_id=envelope.course_id(),
            user_id=envelope.user_id(from_data=True),
            time=envelope.time,
            mode=enrollment_mode(envelope.payload.get("mode")),
            is_active=is_active,
        )
    ]


@ENROLLMENT.register("edx.course.enrollment.activated", fields=("mode",))
def enrollment_activated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner enrolled (or re-enrolled)."""
    return _enrollment_event(envelope, True)


@ENROLLMENT.register("edx.course.enrollment.deactivated", fields=("mode",))
def enrollment_deactivated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner unenrolled."""
    return _enrollment_event(envelope, False)


@ENROLLMENT.register("edx.course.enrollment.mode_changed", fields=("mode",))
def enrollment_mode_changed(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner's mode changed; their active state is unchanged."""
    return _enrollment_event(envelope, None)


@ENROLLMENT.register(
    Signal("COURSE_ENROLLMENT_CREATED", "enrollment", SIGNAL_PREFIX + "course.enrollment.created.v1"),
    Signal("COURSE_ENROLLMENT_CHANGED", "enrollment", SIGNAL_PREFIX + "course.enrollment.changed.v1"),
    Signal("COURSE_UNENROLLMENT_COMPLETED", "enrollment", SIGNAL_PREFIX + "course.unenrollment.completed.v1"),
    fields=("mode", "is_active"),
)
def enrollment_signal(envelope: Envelope) -> list[Record]:
    """openedx-events enrollment signals carry the full state (mode and ``is_active``)."""
    is_active = envelope.payload.get("is_active")
    if envelope.name.endswith("unenrollment.completed.v1"):
        is_active = False
    if not isinstance(is_active, bool):
        raise Rejected("wrong_type", "is_active is not a boolean", "data.is_active")
    return _enrollment_event(envelope, is_active)
