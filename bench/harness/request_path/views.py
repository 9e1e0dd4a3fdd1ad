"""The bench view: an LMS-like request that emits tracked events through the real doors, timed in-process.

``/bench/emit/<n>/`` emits ``n`` tracked events with event-tracking's ``tracker.emit`` (video and
problem events, in a course context as large as the LMS middleware builds) and one
openedx-events signal (``COURSE_ENROLLMENT_CHANGED``), outside any transaction. The time of
that block is added up here; ``wsgi`` adds up the time of the whole request and
of our own code. ``/bench/stats/`` returns the sums (and resets them).
"""
from __future__ import annotations

import datetime as dt
import json
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from eventtracking import tracker
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning import data as ev
from openedx_events.learning.signals import COURSE_ENROLLMENT_CHANGED

COURSE = "course-v1:Bench+Path+2026"
VIDEO = "0b9e39477cf34507a7a48f74be381fdd"
PROBLEM = "block-v1:Bench+Path+2026+type@problem+block@p1"

#: Sums since the last /bench/stats/: seconds per kind, and counts.
TOTALS: dict[str, float] = {}


def add(kind: str, seconds: float) -> None:
    """Add ``seconds`` to ``kind`` (one process, one thread: gunicorn's sync worker)."""
    TOTALS[kind] = TOTALS.get(kind, 0.0) + seconds


def lms_context(user_id: int) -> dict:
    """The context the LMS's tracking middleware and course context give a courseware request."""
    return {
        "user_id": user_id, "username": f"learner{user_id}", "course_id": COURSE, "org_id": "Bench",
        "course_user_tags": {}, "path": f"/courses/{COURSE}/xblock/{PROBLEM}/handler/xmodule_handler/problem_check",
        "ip": "203.0.113.7", "agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36", "host": "lms.example.com", "session": "f" * 32, "client_id": "1.2.3",
        "referer": f"https://lms.example.com/courses/{COURSE}/courseware/week1/", "accept_language": "en-US,en;q=0.9",
        "module": {"display_name": "Checkpoint 1", "usage_key": PROBLEM},
        "asides": {}, "enterprise_uuid": "",
    }


def payload(index: int) -> tuple[str, dict]:
    """One tracked event's name and data, alternating video and problem events."""
    if index % 3 == 2:
        part = "p1_2_1"
        return "problem_check", {
            "problem_id": PROBLEM, "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
            "answers": {part: "choice_1"}, "correct_map": {part: {"correctness": "correct", "npoints": None}},
            "submission": {part: {"question": "Which?", "answer": "Lyon", "correct": True, "variant": "",
                                  "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
        }
    name = "play_video" if index % 3 == 0 else "pause_video"
    return name, {"id": VIDEO, "code": "html5", "duration": 600, "currentTime": 10 + index}


def emit(request: HttpRequest, count: int) -> HttpResponse:
    """Emit ``count`` tracked events and one signal, as a courseware request would."""
    user_id = 1000 + count
    enrollment = ev.CourseEnrollmentData(
        user=ev.UserData(id=user_id, is_active=True,
                         pii=ev.UserPersonalData(username=f"learner{user_id}", email="l@example.com")),
        course=ev.CourseData(course_key=CourseKey.from_string(COURSE), display_name="Bench"),
        mode="verified", is_active=True, creation_date=dt.datetime.now(dt.timezone.utc))
    events = [payload(i) for i in range(count)]
    current = tracker.get_tracker()
    started = time.perf_counter()
    with current.context("edx.request", lms_context(user_id)):
        for name, data in events:
            current.emit(name, data)
    COURSE_ENROLLMENT_CHANGED.send_event(enrollment=enrollment)
    add("emit", time.perf_counter() - started)
    return HttpResponse(b"ok")


def stats(request: HttpRequest) -> JsonResponse:
    """The sums since the last call, then start again."""
    snapshot = dict(TOTALS)
    TOTALS.clear()
    return JsonResponse(json.loads(json.dumps(snapshot)))
