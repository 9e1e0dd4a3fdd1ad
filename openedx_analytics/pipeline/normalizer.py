"""The one normalizer: a registry from event name to a function that returns typed records.

Live signals, the tracking backend, ``backfill_analytics`` and the ingest gateway all
call ``normalize``; their numbers cannot drift apart. A registered function validates
the envelope and returns records, or raises ``Rejected`` with a reason.

Names that are not registered still count as course activity ("any" engagement) when
they carry a course and a learner, as Insights counted them; pass ``generic=False`` to
accept registered names only (the ingest gateway does).

Each registration also says which sources may assert the name. Enrollment, grade,
passing, certificate, forum and graded-problem facts are the server's to state: a browser
or mobile copy of such a name (the LMS's ``/event`` view logs any name a browser posts)
counts at most as the sending learner's own activity, and never as a fact. Every record
is then checked against the bounds of the column it goes to (``records.check_bounds``) and
every event time against a plausible window, so a hostile value is a counted rejection,
never a failing insert or an aggregate bent out of shape.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from openedx_analytics import conf
from openedx_analytics.pipeline.envelope import (
    CLIENT_SOURCES,
    SERVER_SOURCES,
    Envelope,
    Rejected,
    check_time,
    from_raw,
    number,
)
from openedx_analytics.pipeline.records import (
    Activity,
    CertificateChange,
    EnrollmentChange,
    GradeChange,
    PartAnswer,
    PassingChange,
    ProblemSubmission,
    Record,
    VideoEvent,
    check_bounds,
)

Normalizer = Callable[[Envelope], list[Record]]


@dataclass(frozen=True, slots=True)
class Registration:
    """How one event name is read: its normalizer and the sources that may assert it (None: any)."""

    func: Normalizer
    sources: frozenset[str] | None


#: event name -> its registration: the one place that says what a name means and who may say it.
REGISTRY: dict[str, Registration] = {}

SIGNAL_PREFIX = "org.openedx.learning."

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


@dataclass(slots=True)
class Outcome:
    """What one raw event became: records, or a rejection reason (and its detail).

    ``time`` is the event's time when it could be read (the backfill filters by it).
    """

    records: list[Record]
    reason: str | None = None
    detail: str = ""
    name: str = ""
    time: dt.datetime | None = None


def register(*names: str, sources: frozenset[str] | None = SERVER_SOURCES) -> Callable[[Normalizer], Normalizer]:
    """Register ``func`` as the normalizer of each event name given, asserted only by ``sources``.

    The default is the server's sources: a name a browser or mobile app may send too must
    say so (``sources=None``) and then read nothing from its payload that only the server knows.
    """

    def decorator(func: Normalizer) -> Normalizer:
        for event_name in names:
            REGISTRY[event_name] = Registration(func, sources)
        return func

    return decorator


def is_tracked(name: str, context: dict[str, Any] | None = None) -> bool:
    """Cheap test the doors run before enqueueing: is this event worth a message?

    Registered names always are; any other name only when its context ties it to a
    course (a course id, or a course URL as page or path) and to a learner.
    """
    if name in REGISTRY:
        return True
    if not context or not context.get("user_id") or name.startswith(NOT_ENGAGEMENT_PREFIXES):
        return False
    if context.get("course_id"):
        return True
    return any("/courses/" in str(context.get(key) or "") for key in ("page", "path")) or "/courses/" in name


def normalize(raw: Any, *, generic: bool = True) -> Outcome:
    """Turn one raw event into records, or say why not. Never raises for bad input."""
    name = ""
    time = None
    try:
        envelope = from_raw(raw)
        name, time = envelope.name, envelope.time
        limits = bounds()
        check_time(envelope.time, limits.earliest, limits.max_ahead)
        records = _normalizer_for(envelope, generic)(envelope)
        for record in records:
            check_bounds(record)
        return Outcome(records=records, name=name, time=time)
    except Rejected as rejection:
        return Outcome(records=[], reason=rejection.reason, detail=rejection.detail, name=name, time=time)
    except RecursionError:
        return Outcome(records=[], reason="too_deep", detail="payload nested too deep", name=name, time=time)
    except Exception as exc:  # noqa: BLE001 - a normalizer bug must not sink the batch
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome(records=[], reason="normalizer_error", detail=detail, name=name, time=time)


def _normalizer_for(envelope: Envelope, generic: bool) -> Normalizer:
    """The function that reads ``envelope``, given its name and who sent it.

    A registered name from a source it does not trust is refused (``untrusted_source``),
    except that a browser or mobile copy of an engagement name still counts as the
    sender's own "any" activity, as any other course event of theirs does.
    """
    name = envelope.name
    registration = REGISTRY.get(name)
    if registration is None:
        if not generic:
            raise Rejected("unknown_event", f"no normalizer for {name[:100]!r}")
        return generic_activity
    if registration.sources is None or envelope.event_source in registration.sources:
        return registration.func
    if generic and envelope.event_source in CLIENT_SOURCES and not name.startswith(NOT_ENGAGEMENT_PREFIXES):
        return generic_activity
    raise Rejected("untrusted_source", f"{name[:100]!r} may not come from {envelope.event_source[:32]!r}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The plausibility settings, read once (a missing Django setting costs an exception per read)."""

    earliest: dt.datetime
    max_ahead: dt.timedelta
    longest_video: float


_bounds: list[Bounds] = []


def bounds() -> Bounds:
    """The current plausibility bounds (re-read whenever a setting changes, as tests do)."""
    if not _bounds:
        earliest = dt.datetime.fromisoformat(str(conf.get("OPENEDX_ANALYTICS_EARLIEST_EVENT_TIME")))
        _bounds.append(Bounds(
            earliest=earliest if earliest.tzinfo else earliest.replace(tzinfo=dt.timezone.utc),
            max_ahead=dt.timedelta(seconds=float(conf.get("OPENEDX_ANALYTICS_MAX_FUTURE_SECONDS"))),
            longest_video=float(conf.get("OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS")),
        ))
    return _bounds[0]


@receiver(setting_changed, dispatch_uid="openedx_analytics.normalizer.bounds")
def _forget_bounds(**_kwargs: Any) -> None:
    _bounds.clear()


def _bounded(value: float | None, name: str, high: float) -> float | None:
    """``value`` when it lies in [0, ``high``]; a counted rejection otherwise."""
    if value is not None and not 0 <= value <= high:
        raise Rejected("out_of_range", f"{name} {value:g} is outside [0, {high:g}]")
    return value


# ---------------------------------------------------------------- engagement


def _learner_activity(envelope: Envelope, *kinds: str) -> Activity:
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
    return [_learner_activity(envelope)]


@register(
    "edx.forum.thread.created",
    "edx.forum.response.created",
    "edx.forum.comment.created",
)
def forum_post(envelope: Envelope) -> list[Record]:
    """A forum post (tracking event) counts for "posted_forum"."""
    return [_learner_activity(envelope, "forum")]


@register(
    SIGNAL_PREFIX + "forum.thread.created.v1",
    SIGNAL_PREFIX + "forum.thread.response.created.v1",
    SIGNAL_PREFIX + "forum.thread.response.comment.created.v1",
)
def forum_signal(envelope: Envelope) -> list[Record]:
    """A forum post (openedx-events signal) counts for "posted_forum"."""
    return [_learner_activity(envelope, "forum")]


@register("edx.grades.problem.submitted")
def problem_graded(envelope: Envelope) -> list[Record]:
    """The newer graded-problem event counts as an attempted problem (answers come from problem_check)."""
    return [_learner_activity(envelope, "problem")]


# ---------------------------------------------------------------- enrollment

_MODE_ALIASES = {"no-id-professional": "professional"}


def _mode(raw: Any) -> str:
    if raw in (None, ""):
        raise Rejected("missing_field", "mode")
    if not isinstance(raw, str):
        raise Rejected("wrong_type", f"mode is a {type(raw).__name__}")
    return _MODE_ALIASES.get(raw, raw)


def _enrollment_event(envelope: Envelope, is_active: bool | None) -> list[Record]:
    return [
        EnrollmentChange(
            course_id=envelope.course_id(),
            user_id=envelope.user_id(from_data=True),
            time=envelope.time,
            mode=_mode(envelope.data.get("mode")),
            is_active=is_active,
        )
    ]


@register("edx.course.enrollment.activated")
def enrollment_activated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner enrolled (or re-enrolled)."""
    return _enrollment_event(envelope, True)


@register("edx.course.enrollment.deactivated")
def enrollment_deactivated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner unenrolled."""
    return _enrollment_event(envelope, False)


@register("edx.course.enrollment.mode_changed")
def enrollment_mode_changed(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner's mode changed; their active state is unchanged."""
    return _enrollment_event(envelope, None)


@register(
    SIGNAL_PREFIX + "course.enrollment.created.v1",
    SIGNAL_PREFIX + "course.enrollment.changed.v1",
    SIGNAL_PREFIX + "course.unenrollment.completed.v1",
)
def enrollment_signal(envelope: Envelope) -> list[Record]:
    """openedx-events enrollment signals carry the full state (mode and ``is_active``)."""
    is_active = envelope.data.get("is_active")
    if envelope.name.endswith("unenrollment.completed.v1"):
        is_active = False
    if not isinstance(is_active, bool):
        raise Rejected("wrong_type", "is_active is not a boolean")
    return _enrollment_event(envelope, is_active)


# ---------------------------------------------------------------- grades and certificates


@register("edx.grades.course.grade_calculated")
def course_grade_calculated(envelope: Envelope) -> list[Record]:
    """Tracking event: a learner's course grade was (re)computed."""
    percent = _bounded(number(envelope.data, "percent_grade", required=True), "percent_grade", 1.0)
    return [GradeChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, percent)]


@register(SIGNAL_PREFIX + "course.persistent_grade_summary.changed.v1")
def grade_summary_signal(envelope: Envelope) -> list[Record]:
    """Signal: the persistent grade changed; a passed timestamp means passing."""
    course_id = envelope.course_id()
    user_id = envelope.user_id(from_data=True)
    percent = _bounded(number(envelope.data, "percent_grade", required=True), "percent_grade", 1.0)
    passing = envelope.data.get("passed_timestamp") not in (None, "")
    return [
        GradeChange(course_id, user_id, envelope.time, percent),
        PassingChange(course_id, user_id, envelope.time, passing),
    ]


@register("edx.course.grade.passed.first_time", "edx.course.grade.now_passed", "edx.course.grade.now_failed")
def passing_event(envelope: Envelope) -> list[Record]:
    """Tracking events: the learner now passes (or fails) the course."""
    passing = not envelope.name.endswith("now_failed")
    return [PassingChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, passing)]


@register(SIGNAL_PREFIX + "course.passing.status.updated.v1")
def passing_signal(envelope: Envelope) -> list[Record]:
    """Signal: course passing status updated."""
    is_passing = envelope.data.get("is_passing")
    if not isinstance(is_passing, bool):
        raise Rejected("wrong_type", "is_passing is not a boolean")
    return [PassingChange(envelope.course_id(), envelope.user_id(from_data=True), envelope.time, is_passing)]


def _certificate(envelope: Envelope, status: str) -> list[Record]:
    mode = envelope.data.get("mode") or envelope.data.get("enrollment_mode") or "unknown"
    if not isinstance(mode, str) or not isinstance(status, str) or not status:
        raise Rejected("wrong_type", "certificate mode or status is not a string")
    return [
        CertificateChange(
            envelope.course_id(), envelope.user_id(from_data=True), envelope.time, _MODE_ALIASES.get(mode, mode), status
        )
    ]


@register("edx.certificate.created")
def certificate_created(envelope: Envelope) -> list[Record]:
    """Tracking event: a downloadable certificate was issued."""
    return _certificate(envelope, "downloadable")


@register("edx.certificate.revoked")
def certificate_revoked(envelope: Envelope) -> list[Record]:
    """Tracking event: a certificate was revoked."""
    return _certificate(envelope, "revoked")


@register(SIGNAL_PREFIX + "certificate.created.v1", SIGNAL_PREFIX + "certificate.changed.v1")
def certificate_signal(envelope: Envelope) -> list[Record]:
    """Signals: a certificate was created or changed; its current status says whether it counts."""
    return _certificate(envelope, envelope.data.get("current_status"))


@register(SIGNAL_PREFIX + "certificate.revoked.v1")
def certificate_revoked_signal(envelope: Envelope) -> list[Record]:
    """Signal: a certificate was revoked."""
    return _certificate(envelope, "revoked")


# ---------------------------------------------------------------- video

VIDEO_ACTIONS = {
    "play_video": "play",
    "edx.video.played": "play",
    "pause_video": "pause",
    "edx.video.paused": "pause",
    "seek_video": "seek",
    "edx.video.position.changed": "seek",
    "stop_video": "stop",
    "edx.video.stopped": "stop",
}

_BLOCK_ID = re.compile(r"[0-9A-Za-z_\-.]+$")


#: Most (course, raw video id) pairs ``video_usage_id`` remembers (a site has a few thousand videos).
_VIDEO_IDS = 20_000
_video_ids: dict[tuple[str, str], str] = {}


def video_usage_id(course_id: str, raw_id: Any) -> str:
    """Name a video within its course by usage key where one can be built, else by its raw id.

    Answers are remembered: every player event of a video asks the same question.
    """
    if type(raw_id) is str:
        known = _video_ids.get((course_id, raw_id))
        if known is not None:
            return known
    usage_id = _video_usage_id(course_id, raw_id)
    if len(_video_ids) >= _VIDEO_IDS:
        _video_ids.clear()
    _video_ids[(course_id, raw_id)] = usage_id
    return usage_id


def _video_usage_id(course_id: str, raw_id: Any) -> str:
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise Rejected("missing_field", "video id")
    raw_id = raw_id.strip()
    if "@" in raw_id:  # block-v1:...+type@video+block@<id>
        block = raw_id.rsplit("@", 1)[1]
    elif raw_id.startswith("i4x"):  # i4x://Org/Num/video/<id> or i4x-Org-Num-video-<id>
        block = re.split(r"[/-]", raw_id)[-1]
    else:
        block = raw_id
    if not _BLOCK_ID.fullmatch(block):
        raise Rejected("bad_video_id", f"not a video id: {raw_id[:80]!r}")
    if course_id.startswith("course-v1:"):
        return f"block-v1:{course_id[len('course-v1:'):]}+type@video+block@{block}"
    return f"i4x://{course_id.split('/')[0]}/{course_id.split('/')[1]}/video/{block}"


@register(*VIDEO_ACTIONS, sources=None)
def video_event(envelope: Envelope) -> list[Record]:
    """Player events: play/pause/stop carry a position, seeks carry old and new times.

    Positions and durations are bounded by ``OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS``: one
    player (or one learner with a console) must not stretch a video to a million seconds.
    """
    action = VIDEO_ACTIONS[envelope.name]
    activity = _learner_activity(envelope, *(("video",) if action == "play" else ()))
    data = envelope.data
    longest = bounds().longest_video
    event = VideoEvent(
        course_id=activity.course_id,
        video_id=video_usage_id(activity.course_id, data.get("id") or data.get("module_id")),
        user_id=activity.user_id,
        time=envelope.time,
        action=action,
        position=_bounded(number(data, "currentTime", "current_time"), "position", longest)
        if action != "seek" else None,
        old_time=_bounded(number(data, "old_time", required=True), "old_time", longest) if action == "seek" else None,
        new_time=_bounded(number(data, "new_time", required=True), "new_time", longest) if action == "seek" else None,
        duration=_bounded(number(data, "duration"), "duration", longest),
    )
    if action in ("play", "pause") and event.position is None:
        raise Rejected("missing_field", "currentTime")
    return [activity, event]


# ---------------------------------------------------------------- problems

_TAGS = re.compile(r"<[^>]*>")


def answer_text(value: Any) -> str:
    """An answer as shown in distributions: HTML stripped; several values as ``[a|b]``."""
    if isinstance(value, list):
        return "[" + "|".join(answer_text(item) for item in value) + "]"
    text = html.unescape(_TAGS.sub("", str(value)))
    return " ".join(text.split())


def _part_answers(data: dict[str, Any]) -> tuple[PartAnswer, ...]:
    submission = data.get("submission") if isinstance(data.get("submission"), dict) else {}
    answers = data.get("answers") if isinstance(data.get("answers"), dict) else {}
    correct_map = data.get("correct_map") if isinstance(data.get("correct_map"), dict) else {}
    parts = []
    for part_id in sorted(set(answers) | set(submission)):
        detail = submission.get(part_id) if isinstance(submission.get(part_id), dict) else {}
        value = detail.get("answer", answers.get(part_id, ""))
        correctness = (correct_map.get(part_id) or {}).get("correctness") if isinstance(
            correct_map.get(part_id), dict
        ) else None
        correct = detail.get("correct")
        if not isinstance(correct, bool):
            correct = None if correctness is None else correctness in ("correct", "partially-correct")
        variant = detail.get("variant") or ""
        parts.append(PartAnswer(part_id=str(part_id), value=answer_text(value), correct=correct, variant=str(variant)))
    return tuple(parts)


@register("problem_check", sources=None)
def problem_check(envelope: Envelope) -> list[Record]:
    """Server ``problem_check``: a graded submission. The browser's twin only counts as activity."""
    if envelope.event_source == "browser" or not envelope.data:
        return [_learner_activity(envelope)]
    activity = _learner_activity(envelope, "problem")
    data = envelope.data
    problem_id = data.get("problem_id") or (envelope.context.get("module") or {}).get("usage_key")
    if not isinstance(problem_id, str) or not problem_id:
        raise Rejected("missing_field", "problem_id")
    grade = number(data, "grade")
    success = data.get("success")
    if grade is not None:
        correct = grade > 0
    elif success in ("correct", "incorrect", "partially-correct"):
        correct = success != "incorrect"
    else:
        raise Rejected("missing_field", "grade or success")
    attempts = number(data, "attempts")
    submission = ProblemSubmission(
        course_id=activity.course_id,
        problem_id=problem_id,
        user_id=activity.user_id,
        time=envelope.time,
        attempt=int(attempts) if attempts is not None else None,
        correct=correct,
        answers=_part_answers(data),
    )
    return [activity, submission]

