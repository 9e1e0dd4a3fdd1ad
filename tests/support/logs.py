"""A deterministic tracking log of three courses, and the figures it states, counted directly.

``SampleLog`` writes the log (syslog prefixes, comments, duplicated lines, browser and mobile
events) and counts what the API should serve from it with no code of the plugin involved;
``line`` builds one tracking-log event.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

ALPHA = "course-v1:TestX+Alpha+2026"
BETA = "TestX/Beta/2014"  # old-style id
GAMMA = "course-v1:OtherU+Gamma+2026"
COURSES = (ALPHA, BETA, GAMMA)
MONDAY = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
DAYS = 21
LEARNERS = 30
DURATION = 60.0


def video_key(course: str, name: str) -> str:
    """The usage key of video ``name`` in ``course`` (``block-v1:`` or, for an old-style course, ``i4x://``)."""
    if course.startswith("course-v1:"):
        return f"block-v1:{course[10:]}+type@video+block@{name}"
    org, num, _run = course.split("/")
    return f"i4x://{org}/{num}/video/{name}"


def problem_key(course: str, name: str) -> str:
    """The usage key of problem ``name`` in ``course``."""
    return video_key(course, name).replace("video", "problem")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time ``day`` days after the log's first Monday."""
    return MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)


def line(event_type: str, when: dt.datetime, user: int | None, course: str | None, event, *,
         source: str = "server", page: str | None = None, path: str = "/event", **extra) -> dict:
    """One tracking-log event as the LMS writes it."""
    context = {"user_id": user, "path": path, "org_id": "TestX"}
    if course is not None:
        context["course_id"] = course
    return {"username": f"u{user}", "event_type": event_type, "event_source": source, "time": when.isoformat(),
            "context": context, "event": event, "page": page, "host": "lms.test", **extra}


class SampleLog:
    """A deterministic log and the facts it states, kept in plain dicts for direct counting."""

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.events: list[dict] = []
        self.enrollments: list[tuple[str, int, dt.datetime, str]] = []  # course, user, time, active|inactive|mode
        self.activity: list[tuple[str, int, dt.date, str]] = []  # course, user, day, kind
        self.viewings: list[tuple[str, str, int, float, float]] = []  # course, video, user, start, end
        self.submissions: list[tuple[str, str, int, int, bool]] = []  # course, problem, user, attempt, correct
        for user in range(1, LEARNERS + 1):
            courses = [ALPHA if user % 3 else BETA] + ([GAMMA] if user % 5 == 0 else [])
            for course in courses:
                self._learner(rng, user, course)

    def _learner(self, rng: random.Random, user: int, course: str) -> None:
        first = user % 7
        mode = "verified" if user % 2 else "audit"
        self._enroll("edx.course.enrollment.activated", course, user, at(first, 8), mode)
        if user % 6 == 1:
            self._enroll("edx.course.enrollment.mode_changed", course, user, at(first + 1, 9), "honor")
        if user % 4 == 0:
            self._enroll("edx.course.enrollment.deactivated", course, user, at(first + 3, 10), mode)
        if user % 8 == 0:
            self._enroll("edx.course.enrollment.activated", course, user, at(first + 10, 11), "audit")
        for attempt, offset in enumerate((0, 2, 5, 9), start=1):
            day = first + offset
            if day >= DAYS:
                continue
            page = f"https://lms.test/courses/{course}/courseware/ch1/seq1/"
            # a page request whose event type is the URL path (course from the path only)
            path = f"/courses/{course}/courseware/ch1/"
            self.events.append(line(path, at(day, 12), user, None, json.dumps({"GET": {}, "POST": {}}), path=path))
            self.activity.append((course, user, at(day, 12).date(), "any"))
            # courseware navigation from the browser: event is a JSON string
            self.events.append(line("edx.ui.lms.sequence.next_selected", at(day, 12, 5), user, course,
                                    json.dumps({"current_tab": 1, "tab_count": 4}), source="browser", page=page))
            # a video viewing: play at a position, pause later (legacy names, or mobile edx.video.*)
            video = f"vid{1 + (user + attempt) % 2}"
            start = float(5 * rng.randrange(3))
            end = start + rng.choice((3.0, 7.5, 12.0, 24.0))
            mobile = user % 5 == 2
            names = ("edx.video.played", "edx.video.paused") if mobile else ("play_video", "pause_video")
            for name, position, minute in ((names[0], start, 20), (names[1], end, 25)):
                payload = {"id": video_key(course, video) if mobile else video, "currentTime": position,
                           "duration": DURATION, "code": "html5"}
                if mobile:
                    event = line(name, at(day, 13, minute), user, course, payload, source="mobile",
                                 page=None)
                    event["context"]["application"] = {"name": "edx.mobileapp.android", "version": "2.0"}
                else:
                    event = line(name, at(day, 13, minute), user, course, json.dumps(payload), source="browser",
                                 page=page)
                self.events.append(event)
            self.viewings.append((course, video_key(course, video), user, start, end))
            self.activity.append((course, user, at(day, 13).date(), "video"))
            # a graded submission (server) and its browser twin (activity only)
            problem = problem_key(course, "p1")
            correct = (user + attempt) % 3 != 0
            part = "p1_2_1"
            self.events.append(line("problem_check", at(day, 14), user, course, f"input_{part}=choice_1",
                                    source="browser", page=page))
            self.events.append(line("problem_check", at(day, 14, 1), user, course, {
                "problem_id": problem, "attempts": attempt, "grade": int(correct), "max_grade": 1,
                "success": "correct" if correct else "incorrect", "answers": {part: f"choice_{int(correct)}"},
                "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
            }, page="x_module"))
            self.submissions.append((course, problem, user, attempt, correct))
            self.activity.append((course, user, at(day, 14).date(), "problem"))
            if attempt == 2 and user % 3 == 1:
                self.events.append(line("edx.forum.thread.created", at(day, 15), user, course,
                                        {"id": f"t{user}", "body": "hello", "commentable_id": "c"}))
                self.activity.append((course, user, at(day, 15).date(), "forum"))

    def _enroll(self, name: str, course: str, user: int, when: dt.datetime, mode: str) -> None:
        event = line(name, when, user, course, {"course_id": course, "user_id": user, "mode": mode},
                     path="/api/enrollment/v1/enrollment")
        self.events.append(event)
        state = {"edx.course.enrollment.activated": "active", "edx.course.enrollment.deactivated": "inactive"}
        self.enrollments.append((course, user, when, state.get(name, "mode")))

    def lines(self, *, noise: bool = True) -> list[str]:
        """The log as text lines, in time order, with syslog prefixes, comments and duplicates."""
        ordered = sorted(self.events, key=lambda e: e["time"])
        out = ["# tracking log, rotated 2026-01-05", ""]
        for index, event in enumerate(ordered):
            text = json.dumps(event)
            if noise and index % 11 == 0:
                text = f"Jan  5 12:00:00 lms-1 [service_variant=lms][tracking] INFO 1234 : {text}"
            out.append(text)
            if noise and index % 17 == 0:
                out.append(text)  # the same line delivered twice
        return out

    def write(self, path: Path, *, gz: bool = False, extra: list[str] | None = None) -> Path:
        text = "\n".join(self.lines() + (extra or [])) + "\n"
        if gz:
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        return path

    # ------------------------------------------------------------ expected figures, counted directly

    def enrollment_counts(self, course: str) -> dict[dt.date, int]:
        """Learners enrolled at the end of each day of the log."""
        counts = {}
        for offset in range(DAYS):
            end = at(offset + 1, 0)
            state: dict[int, bool] = {}
            for c, user, when, what in sorted(self.enrollments, key=lambda e: e[2]):
                if c == course and when < end:
                    if what == "active":
                        state[user] = True
                    elif what == "inactive":
                        state[user] = False
                    else:
                        state.setdefault(user, True)
            counts[(MONDAY + dt.timedelta(days=offset)).date()] = sum(state.values())
        return counts

    def weekly_activity(self, course: str) -> dict[dt.date, dict[str, int]]:
        weeks: dict[dt.date, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        for c, user, day, kind in self.activity:
            if c == course:
                monday = day - dt.timedelta(days=day.weekday())
                weeks[monday]["any"].add(user)
                weeks[monday][kind].add(user)
        names = {"any": "any", "video": "played_video", "problem": "attempted_problem", "forum": "posted_forum"}
        return {week: {names[k]: len(users.get(k, ())) for k in names} for week, users in weeks.items()}

    def video_users(self, course: str) -> dict[str, dict[int, int]]:
        users: dict[str, dict[int, set]] = defaultdict(lambda: defaultdict(set))
        for c, video, user, start, end in self.viewings:
            if c == course:
                for segment in range(int(start) // 5, int(end) // 5 + 1):
                    users[video][segment].add(user)
        return {video: {s: len(u) for s, u in segments.items()} for video, segments in users.items()}

    def problems(self, course: str) -> dict[str, dict[str, int]]:
        last: dict[tuple[str, int], tuple[int, bool]] = {}
        total: dict[str, int] = defaultdict(int)
        for c, problem, user, attempt, correct in self.submissions:
            if c == course:
                total[problem] += 1
                if (problem, user) not in last or attempt > last[(problem, user)][0]:
                    last[(problem, user)] = (attempt, correct)
        result = {}
        for problem in total:
            mine = [v for (p, _u), v in last.items() if p == problem]
            result[problem] = {"users_attempted": len(mine), "total_submissions": total[problem],
                               "correct_submissions": sum(1 for _a, ok in mine if ok)}
        return result
