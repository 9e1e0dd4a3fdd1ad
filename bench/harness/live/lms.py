"""A simulated LMS for ``bench.live``: requests that reach the plugin only through its real doors.

Each ``request()`` is one LMS request: Django's ``request_started``, then what the LMS does
for one user action, then ``request_finished`` (where the doors hand the request's events
to Celery). The mix of actions and the course shapes are those of
``bench.harness.tracking_log`` (courseware requests, video sessions, problem checks,
navigation, enrollment changes, forum posts, grade changes); video events dominate.

- Tracking events go through ``eventtracking.tracker.emit`` inside the context the LMS
  middleware sets (user, course, org, path, source, page), so the plugin's tracking backend
  receives them as in the LMS, and the host's own ``tracking_logs`` logger backend writes
  each one, with its real timestamp, as a tracking-log line to this process's log file:
  the input of the backfill that the soak compares with the live figures.
- What the LMS announces with openedx-events signals (enrollment created, changed and
  completed; persistent grade changed; passing status; certificate created; forum posts)
  is sent with ``send_event``, dated as the LMS dates it, inside a transaction that also
  writes the LMS's own rows (the stand-in enrollment with its history, persistent grade and
  certificate tables), which ``backfill_analytics --from-lms`` reads. The LMS emits the
  matching tracking event too, and so does this.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import transaction
from eventtracking import tracker
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning import data as ev
from openedx_events.learning import signals

from bench.harness.tracking_log import COURSES, MODES, Generator

LMS_DB = "default"
#: The host's ``tracking_logs`` backend logs each event to this logger (as the LMS's does).
TRACKING_LOGGER = "tracking"
#: Actions and their weights: ``bench.harness.tracking_log.Generator.KINDS``.
KINDS = Generator.KINDS
#: Context fields the LMS's tracking middleware puts in every event's context (legacy top-level fields).
REQUEST_FIELDS = ("username", "session", "ip", "agent", "host", "referer", "accept_language", "event_source",
                  "page")
FORUM_SIGNALS = {
    "edx.forum.thread.created": signals.FORUM_THREAD_CREATED,
    "edx.forum.response.created": signals.FORUM_THREAD_RESPONSE_CREATED,
    "edx.forum.comment.created": signals.FORUM_RESPONSE_COMMENT_CREATED,
}


def now() -> dt.datetime:
    """The current UTC time (what the LMS stamps rows and signals with)."""
    return dt.datetime.now(dt.timezone.utc)


def log_tracking_events_to(path: Path) -> logging.Handler:
    """Have the host's tracking-log backend write its lines to ``path`` (one JSON event per line)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(TRACKING_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def user_data(user_id: int) -> ev.UserData:
    """The openedx-events user of a learner (the LMS sends username and email; the doors drop them)."""
    return ev.UserData(id=user_id, is_active=True,
                       pii=ev.UserPersonalData(username=f"learner{user_id}", email=f"l{user_id}@example.com"))


def course_data(course_id: str) -> ev.CourseData:
    """The openedx-events course of ``course_id``."""
    return ev.CourseData(course_key=CourseKey.from_string(course_id), display_name=course_id)


def org_of(course_id: str) -> str:
    """A course id's organization."""
    return CourseKey.from_string(course_id).org


def server_context(user_id: int, course_id: str, path: str) -> dict[str, Any]:
    """The context of a server event inside a course request."""
    return {"user_id": user_id, "username": f"learner{user_id}", "course_id": course_id, "org_id": org_of(course_id),
            "path": path, "event_source": "server", "ip": "10.0.0.1", "host": "lms.example.org"}


def emit(name: str, data: Any, context: dict[str, Any]) -> None:
    """Emit one tracking event inside ``context`` (as the LMS middleware or the /event view would)."""
    with tracker.get_tracker().context("bench.request", context):
        tracker.emit(name, data)


class SimulatedLms:
    """A shard of the LMS's learners (``user_id % shards == shard``) doing what learners do, one request at a time.

    Actions are drawn with the log generator's weights whether or not the learner is enrolled
    (a site in its steady state, where enrollment changes are a small share of requests, not
    a new site where every first visit is an enrollment).
    """

    def __init__(self, seed: int, learners: int, shard: int = 0, shards: int = 1) -> None:
        """Learners 1..``learners`` exist in the LMS's user table (``seed_lms`` made them)."""
        self.rng = random.Random(seed * 1000 + shard)
        self.events = Generator(lines=0, seed=seed * 1000 + shard, learners=learners, days=1)
        self.events.rng = self.rng
        self.users = [u for u in range(1, learners + 1) if u % shards == shard]
        self.enrolled: dict[tuple[int, str], str] = {}  # "" once unenrolled
        self.grades: dict[tuple[int, str], tuple[float, dt.datetime | None]] = {}
        self.certified: set[tuple[int, str]] = set()
        self.names = [name for name, _weight in KINDS]
        self.weights = [weight for _name, weight in KINDS]

    # ------------------------------------------------------------ requests

    def request(self) -> int:
        """One LMS request by a random learner; returns how many events (tracking events and signals) it emitted."""
        user = self.rng.choice(self.users)
        course = COURSES[(user + self.rng.randrange(2)) % len(COURSES)]
        kind = self.rng.choices(self.names, self.weights)[0]
        action: Callable[[int, str], int] = getattr(self, f"_{kind}", self._tracking(kind))
        return in_request(lambda: action(user, course))

    def _tracking(self, kind: str) -> Callable[[int, str], int]:
        """A request whose only trace is tracking events (courseware, video, problem, navigation)."""
        def action(user: int, course: str) -> int:
            events = getattr(self.events, kind)(user, course)
            for event in events:
                emit_log_shaped(event)
            return len(events)
        return action

    def _enrollment(self, user: int, course: str) -> int:
        state = self.enrolled.get((user, course))
        if not state:
            return self.enroll(user, course, self.rng.choice(MODES))
        if self.rng.random() < 0.5:
            return self.change_mode(user, course, self.rng.choice(["verified", "audit"]))
        return self.unenroll(user, course)

    def _forum(self, user: int, course: str) -> int:
        [event] = self.events.forum(user, course)
        emit_log_shaped(event)
        signal = FORUM_SIGNALS[event["event_type"]]
        signal.send_event(time=now(), thread=ev.DiscussionThreadData(
            body="A question about week 2", commentable_id="course", id=event["event"]["id"], truncated=False,
            url="https://lms.example.org/t", user=user_data(user), course_id=CourseKey.from_string(course),
            anonymous=False, anonymous_to_peers=False, category_id="course", category_name="General",
            group_id=None, team_id=None, thread_type="discussion", title="Week 2", title_truncated=False))
        return 2

    def _grade(self, user: int, course: str) -> int:
        return self.grade(user, course)

    # ------------------------------------------------------------ LMS actions with signals

    def enroll(self, user: int, course: str, mode: str) -> int:
        """Enroll (or re-enroll) a learner: the LMS's row and history, the signal, the tracking event."""
        from lms_host.stub.models import CourseEnrollment

        when = now()
        with transaction.atomic(using=LMS_DB):
            row = CourseEnrollment.objects.using(LMS_DB).filter(user_id=user, course_id=course).first()
            signal = signals.COURSE_ENROLLMENT_CHANGED
            if row is None:
                row = CourseEnrollment(user_id=user, course_id=CourseKey.from_string(course), created=when)
                signal = signals.COURSE_ENROLLMENT_CREATED
            row.mode, row.is_active, row._history_date = mode, True, when
            row.save(using=LMS_DB)
            self._enrollment_signal(signal, user, course, mode, True, when, row.created)
            emit("edx.course.enrollment.activated", {"course_id": course, "user_id": user, "mode": mode},
                 server_context(user, course, "/api/enrollment/v1/enrollment"))
        self.enrolled[(user, course)] = mode
        return 2

    def change_mode(self, user: int, course: str, mode: str) -> int:
        """Change an enrolled learner's mode."""
        return self._update_enrollment(user, course, mode, True, signals.COURSE_ENROLLMENT_CHANGED,
                                       "edx.course.enrollment.mode_changed")

    def unenroll(self, user: int, course: str) -> int:
        """Unenroll a learner."""
        return self._update_enrollment(user, course, self.enrolled[(user, course)], False,
                                       signals.COURSE_UNENROLLMENT_COMPLETED, "edx.course.enrollment.deactivated")

    def _update_enrollment(self, user: int, course: str, mode: str, active: bool, signal: Any, name: str) -> int:
        from lms_host.stub.models import CourseEnrollment

        when = now()
        with transaction.atomic(using=LMS_DB):
            row = CourseEnrollment.objects.using(LMS_DB).get(user_id=user, course_id=course)
            row.mode, row.is_active, row._history_date = mode, active, when
            row.save(using=LMS_DB)
            self._enrollment_signal(signal, user, course, mode, active, when, row.created)
            emit(name, {"course_id": course, "user_id": user, "mode": mode},
                 server_context(user, course, "/api/enrollment/v1/enrollment"))
        self.enrolled[(user, course)] = mode if active else ""
        return 2

    @staticmethod
    def _enrollment_signal(signal: Any, user: int, course: str, mode: str, active: bool, when: dt.datetime,
                           created: dt.datetime | None) -> None:
        signal.send_event(time=when, enrollment=ev.CourseEnrollmentData(
            user=user_data(user), course=course_data(course), mode=mode, is_active=active,
            creation_date=created or when))

    def grade(self, user: int, course: str) -> int:
        """A learner's course grade rises: the persistent grade row and signal, and on first passing the
        passing status and perhaps a certificate; each with the LMS's tracking event."""
        from lms_host.stub.models import GeneratedCertificate, PersistentCourseGrade

        old, passed_at = self.grades.get((user, course), (0.0, None))
        percent = round(min(1.0, old + self.rng.uniform(0.05, 0.35)), 2)
        when = now()
        first_pass = percent >= 0.5 and passed_at is None
        passed_at = when if first_pass else passed_at
        context = server_context(user, course, f"/courses/{course}/progress")
        emitted = 2
        with transaction.atomic(using=LMS_DB):
            PersistentCourseGrade.objects.using(LMS_DB).update_or_create(
                user_id=user, course_id=CourseKey.from_string(course),
                defaults={"percent_grade": percent, "letter_grade": "Pass" if passed_at else "",
                          "passed_timestamp": passed_at, "modified": when})
            signals.PERSISTENT_GRADE_SUMMARY_CHANGED.send_event(time=when, grade=ev.PersistentCourseGradeData(
                user_id=user, course=course_data(course), course_edited_timestamp=when, course_version="v1",
                grading_policy_hash="bench", percent_grade=percent, letter_grade="Pass" if passed_at else "",
                passed_timestamp=passed_at))
            emit("edx.grades.course.grade_calculated", {"user_id": user, "course_id": course, "percent_grade": percent,
                                                        "letter_grade": "", "course_version": "v1",
                                                        "grading_policy_hash": "bench"}, context)
            if first_pass:
                signals.COURSE_PASSING_STATUS_UPDATED.send_event(time=when, course_passing_status=(
                    ev.CoursePassingStatusData(is_passing=True, course=course_data(course), user=user_data(user))))
                emit("edx.course.grade.passed.first_time", {"user_id": user, "course_id": course}, context)
                emitted += 2
                if self.rng.random() < 0.5 and (user, course) not in self.certified:
                    mode = self.enrolled.get((user, course)) or "audit"
                    GeneratedCertificate.objects.using(LMS_DB).create(
                        user_id=user, course_id=CourseKey.from_string(course), status="downloadable", mode=mode,
                        grade=str(percent), created_date=when, modified_date=when)
                    signals.CERTIFICATE_CREATED.send_event(time=when, certificate=ev.CertificateData(
                        user=user_data(user), course=course_data(course), mode=mode, grade=str(percent),
                        download_url="https://lms.example.org/certificates/x", name=f"Learner {user}",
                        current_status="downloadable"))
                    emit("edx.certificate.created", {"user_id": user, "course_id": course, "certificate_id": "x",
                                                     "enrollment_mode": mode, "certificate_url": "",
                                                     "generation_mode": "batch"}, context)
                    self.certified.add((user, course))
                    emitted += 2
        self.grades[(user, course)] = (percent, passed_at)
        return emitted


def emit_log_shaped(event: dict[str, Any]) -> None:
    """Emit a ``bench.harness.tracking_log`` event (legacy log shape) as the LMS emits it in-process.

    The legacy top-level fields (username, session, ip, source, page...) are the request's
    context in the LMS; a browser's JSON payload is decoded by the LMS's /event view.
    """
    context = dict(event["context"])
    context.update({key: event[key] for key in REQUEST_FIELDS if event.get(key) is not None})
    data = event.get("event")
    if isinstance(data, str) and data.startswith("{"):
        data = json.loads(data)
    emit(event["event_type"], data, context)


def in_request(action: Callable[[], int]) -> int:
    """Run ``action`` between Django's request signals, as the LMS's WSGI handler does around a view."""
    request_started.send(sender=SimulatedLms, environ={})
    try:
        return action()
    finally:
        request_finished.send(sender=SimulatedLms)
