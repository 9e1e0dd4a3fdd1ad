"""A reproducible stream of raw LMS events for one course, cut into batches as the doors would send them."""
from __future__ import annotations

import datetime as dt
import random
from typing import Any

START = dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc)


def _event(name: str, when: dt.datetime, course: str, user: int, data: dict[str, Any],
           source: str = "server") -> dict[str, Any]:
    return {"name": name, "timestamp": when.isoformat(), "data": data,
            "context": {"course_id": course, "user_id": user, "event_source": source}}


def course_stream(course: str, learners: int = 40, seed: int = 7) -> list[dict[str, Any]]:
    """Enrollments, unenrollments, video viewing, answers and grades of ``learners`` learners."""
    rng = random.Random(seed)
    events = []
    for user in range(1, learners + 1):
        when = START + dt.timedelta(hours=rng.randrange(0, 24 * 12))
        mode = rng.choice(["audit", "audit", "verified"])
        events.append(_event("edx.course.enrollment.activated", when, course, user,
                             {"course_id": course, "user_id": user, "mode": mode}))
        for video in ("intro", "lecture1"):
            if rng.random() < 0.7:
                begin = rng.randrange(0, 40)
                end = begin + rng.randrange(5, 80)
                when += dt.timedelta(minutes=rng.randrange(1, 600))
                data = {"id": video, "duration": 120}
                events.append(_event("play_video", when, course, user, {**data, "currentTime": begin}, "browser"))
                events.append(_event("pause_video", when + dt.timedelta(seconds=end - begin), course, user,
                                     {**data, "currentTime": end}, "browser"))
        for attempt in range(1, rng.randrange(1, 4)):
            problem = f"block-v1:{course[len('course-v1:'):]}+type@problem+block@p{attempt % 2}"
            part = f"{problem.rsplit('@', 1)[1]}_2_1"
            answer = rng.choice(["choice_0", "choice_1", "choice_2"])
            correct = answer == "choice_1"
            when += dt.timedelta(minutes=rng.randrange(1, 300))
            events.append(_event("problem_check", when, course, user, {
                "problem_id": problem, "attempts": attempt, "grade": int(correct), "max_grade": 1,
                "success": "correct" if correct else "incorrect", "answers": {part: answer},
                "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
            }))
            events.append(_event("edx.grades.course.grade_calculated", when, course, user,
                                 {"percent_grade": round(rng.random(), 2), "user_id": user, "course_id": course}))
        if rng.random() < 0.2:
            when += dt.timedelta(days=rng.randrange(1, 5))
            events.append(_event("edx.course.enrollment.deactivated", when, course, user,
                                 {"course_id": course, "user_id": user, "mode": mode}))
    rng.shuffle(events)  # delivery order is not event order
    return events


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """``events`` cut into consecutive batches of ``size``."""
    return [events[i:i + size] for i in range(0, len(events), size)]
