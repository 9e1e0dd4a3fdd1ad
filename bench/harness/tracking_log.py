"""A realistic Open edX tracking log, generated: the input of the backfill benchmarks and the load harness's mix.

``Generator(lines, seed, learners, days).run(out)`` writes ``lines`` lines to ``out``. The
log has several courses (one with an old Org/Num/Run id), thousands of learners and every
kind of event the plugin tracks, in the shapes the LMS writes them: enrollment
activated/deactivated/mode_changed, legacy and edx.video.* player events (browser events
carry ``event`` as a JSON string, mobile ones come from the app), server problem_check with
answers and correct_map, browser problem_check (URL-encoded), forum posts, course grade /
passed / certificate events, courseware navigation, server request events whose event_type
is the URL path, lines with a syslog prefix, duplicated lines and some garbage (truncated,
binary, wrong types, unknown events). Time runs forward through the file, as in a real log.

``python -m bench.generate_tracking_log`` writes one to a file; ``bench.worker`` and the
load harness (``bench.harness.live.lms``) use its events and its mix.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from typing import TextIO

COURSES = [
    "course-v1:BenchX+Py101+2025",
    "course-v1:BenchX+Data201+2025",
    "course-v1:OtherU+Stats110+2025_T1",
    "course-v1:OtherU+Art100+2025",
    "BenchX/Legacy1/2014",
]
MODES = ["audit", "audit", "audit", "verified", "honor", "no-id-professional"]
VIDEOS_PER_COURSE = 12
PROBLEMS_PER_COURSE = 20
START = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
HOST = "lms.example.org"


def block(course: str, kind: str, name: str) -> str:
    """The usage key of block ``name`` of ``kind`` in ``course``, in the course id's own style (block-v1 or i4x)."""
    if course.startswith("course-v1:"):
        return f"block-v1:{course[len('course-v1:'):]}+type@{kind}+block@{name}"
    org, num, _run = course.split("/")
    return f"i4x://{org}/{num}/{kind}/{name}"


class Generator:
    """Writes a log's lines one learner action at a time, with the weights of ``KINDS``, time running forward."""

    def __init__(self, lines: int, seed: int, learners: int, days: int) -> None:
        self.rng = random.Random(seed)
        self.lines = lines
        self.learners = learners
        self.step = dt.timedelta(days=days) / max(lines, 1)
        self.now = START
        self.emitted = 0
        self.recent: list[str] = []
        self.enrolled: dict[tuple[int, str], str] = {}

    def tick(self) -> str:
        """The next event's time (ISO 8601): the clock moves on by about one line's share of the span."""
        self.now += self.step * self.rng.uniform(0.5, 1.5)
        return self.now.isoformat()

    def base(self, user: int, course: str, event_type: str, source: str, page: str | None) -> dict:
        """The fields every tracking-log event carries (the request's and the course context's)."""
        org = course.split(":")[-1].split("+")[0].split("/")[0]
        return {
            "username": f"learner{user}", "session": f"{user:032x}", "ip": f"10.0.{user % 250}.{user % 7}",
            "agent": AGENT, "host": HOST, "referer": page or "", "accept_language": "en-US,en;q=0.9",
            "event_type": event_type, "event_source": source, "page": page,
            "context": {"user_id": user, "org_id": org, "course_id": course, "path": "/event",
                        "enterprise_uuid": ""},
            "time": self.tick(),
        }

    def page(self, course: str) -> str:
        """A courseware page of ``course``: the page a browser event is sent from."""
        return f"https://{HOST}/courses/{course}/courseware/week{self.rng.randint(1, 8)}/seq/"

    # -------------------------------------------------------------- event kinds

    def enrollment(self, user: int, course: str) -> list[dict]:
        """An enrollment event: activated for a learner not enrolled, else a mode change or a deactivation."""
        key = (user, course)
        if key not in self.enrolled or self.enrolled[key] == "":
            name, mode = "edx.course.enrollment.activated", self.rng.choice(MODES)
        elif self.rng.random() < 0.5:
            name, mode = "edx.course.enrollment.mode_changed", self.rng.choice(["verified", "audit"])
        else:
            name, mode = "edx.course.enrollment.deactivated", self.enrolled[key]
        self.enrolled[key] = "" if name.endswith("deactivated") else mode
        event = self.base(user, course, name, "server", None)
        event["context"]["path"] = "/api/enrollment/v1/enrollment"
        event["event"] = {"course_id": course, "user_id": user, "mode": mode}
        return [event]

    def video(self, user: int, course: str) -> list[dict]:
        """A viewing session: play/pause (or stop) pairs with seeks, from the browser (legacy names) or the app."""
        video = f"video{self.rng.randint(1, VIDEOS_PER_COURSE)}"
        duration = 60.0 * (1 + int(video[5:]) % 6)
        mobile = self.rng.random() < 0.2
        names = ("edx.video.played", "edx.video.paused", "edx.video.position.changed", "edx.video.stopped") \
            if mobile or self.rng.random() < 0.3 else ("play_video", "pause_video", "seek_video", "stop_video")
        page = self.page(course)
        events = []
        position = self.rng.choice([0.0, 0.0, self.rng.uniform(0, duration / 2)])
        for _step in range(self.rng.randint(1, 3)):
            watched = self.rng.uniform(3, duration / 2)
            end = min(position + watched, duration)
            for name, payload in (
                (names[0], {"currentTime": round(position, 2)}),
                (names[1] if end < duration else names[3], {"currentTime": round(end, 2)}),
            ):
                events.append(self._video_event(user, course, page, name, video, duration, payload, mobile))
            if self.rng.random() < 0.4:
                new = self.rng.uniform(0, duration)
                events.append(self._video_event(user, course, page, names[2], video, duration,
                                                {"old_time": round(end, 2), "new_time": round(new, 2),
                                                 "type": "onSlideSeek"}, mobile))
                position = new
            else:
                position = end
        return events

    def _video_event(self, user, course, page, name, video, duration, payload, mobile) -> dict:
        data = {"id": video, "code": "html5", "duration": duration, **payload}
        if mobile:
            event = self.base(user, course, name, "mobile", None)
            event["context"].update({"application": {"name": "edx.mobileapp.android", "version": "2.26"},
                                     "component": "videoplayer", "received_at": event["time"]})
            data["id"] = block(course, "video", video)
            event["event"] = data
        else:
            event = self.base(user, course, name, "browser", page)
            event["event"] = json.dumps(data)
        return event

    def problem(self, user: int, course: str) -> list[dict]:
        """A problem check, as the browser sends it (URL-encoded) and as the server logs it (answers, correct map)."""
        number = self.rng.randint(1, PROBLEMS_PER_COURSE)
        problem = block(course, "problem", f"p{number}")
        part = f"{problem.replace('block-v1:', '').replace('+', '_')}_2_1"
        choice = self.rng.randint(0, 3)
        correct = choice == number % 4
        browser = self.base(user, course, "problem_check", "browser", self.page(course))
        browser["event"] = f"input_{part}=choice_{choice}"
        server = self.base(user, course, "problem_check", "server", "x_module")
        server["context"]["module"] = {"display_name": f"Problem {number}", "usage_key": problem}
        server["event"] = {
            "problem_id": problem, "attempts": self.rng.randint(1, 3),
            "answers": {part: f"choice_{choice}"},
            "correct_map": {part: {"correctness": "correct" if correct else "incorrect", "npoints": None,
                                   "msg": "", "hint": "", "hintmode": None, "queuestate": None}},
            "grade": int(correct), "max_grade": 1, "state": {"seed": 1}, "success": "correct" if correct
            else "incorrect",
            "submission": {part: {"question": f"Question {number}", "answer": f"<p>Choice {choice}</p>",
                                  "response_type": "multiplechoiceresponse", "input_type": "choicegroup",
                                  "correct": correct, "variant": ""}},
        }
        return [browser, server]

    def forum(self, user: int, course: str) -> list[dict]:
        """A forum thread, response or comment created."""
        name = self.rng.choice(["edx.forum.thread.created", "edx.forum.response.created",
                                "edx.forum.comment.created"])
        event = self.base(user, course, name, "server", None)
        event["event"] = {"id": f"{self.rng.getrandbits(48):012x}", "body": "A question about week 2",
                          "commentable_id": "course", "truncated": False, "options": {"followed": True},
                          "user_course_roles": [], "user_forums_roles": ["Student"]}
        return [event]

    def grade(self, user: int, course: str) -> list[dict]:
        """A course grade calculated; past 50% the first pass, and for half of those a certificate."""
        percent = round(self.rng.random(), 2)
        events = []
        event = self.base(user, course, "edx.grades.course.grade_calculated", "server", None)
        event["event"] = {"user_id": user, "course_id": course, "percent_grade": percent, "letter_grade": "",
                          "course_version": "", "grading_policy_hash": "abc"}
        events.append(event)
        if percent >= 0.5:
            passed = self.base(user, course, "edx.course.grade.passed.first_time", "server", None)
            passed["event"] = {"user_id": user, "course_id": course}
            events.append(passed)
            if self.rng.random() < 0.5:
                cert = self.base(user, course, "edx.certificate.created", "server", None)
                cert["event"] = {"user_id": user, "course_id": course, "certificate_id": "x",
                                 "enrollment_mode": self.enrolled.get((user, course)) or "audit",
                                 "certificate_url": "", "generation_mode": "batch"}
                events.append(cert)
        return events

    def request(self, user: int, course: str) -> list[dict]:
        """A courseware request logged by the server, its event_type the URL path (half without a course_id)."""
        path = f"/courses/{course}/courseware/week{self.rng.randint(1, 8)}/"
        event = self.base(user, course, path, "server", None)
        event["context"]["path"] = path
        if self.rng.random() < 0.5:
            del event["context"]["course_id"]  # old logs: the course comes from the path
        event["event"] = json.dumps({"GET": {}, "POST": {}})
        return [event]

    def navigation(self, user: int, course: str) -> list[dict]:
        """A courseware navigation event from the browser."""
        name = self.rng.choice(["edx.ui.lms.sequence.next_selected", "seq_goto", "edx.ui.lms.outline.selected"])
        event = self.base(user, course, name, "browser", self.page(course))
        event["event"] = json.dumps({"current_tab": 2, "tab_count": 5, "id": block(course, "sequential", "s1")})
        return [event]

    KINDS = (("request", 24), ("video", 22), ("problem", 14), ("navigation", 12), ("enrollment", 6),
             ("forum", 2), ("grade", 2))

    # -------------------------------------------------------------- garbage

    def garbage(self) -> str:
        """A line no backfill should count: truncated, binary, wrong types, an unknown event or a comment."""
        kind = self.rng.randrange(5)
        if kind == 0 and self.recent:
            line = self.recent[-1]
            return line[: len(line) // 2]  # truncated
        if kind == 1:
            controls = [0, 1, 2, 3, 7, 8, 11, 12, 14, 27, 127, *range(128, 256)]
            return "".join(chr(self.rng.choice(controls)) for _ in range(60))  # binary
        if kind == 2:
            return json.dumps({"event_type": "play_video", "time": self.now.isoformat(),
                               "context": {"user_id": "nobody", "course_id": COURSES[0]},
                               "event": {"id": "v", "currentTime": "soon"}})  # wrong types
        if kind == 3:
            return json.dumps({"event_type": "some.unknown.event", "time": self.now.isoformat(), "context": {},
                               "event": {}})  # unknown, no course
        return "# rotated " + self.now.isoformat()

    def run(self, out: TextIO) -> None:
        """Write the log's lines to ``out``, with a duplicated line about every 100 and garbage every 200."""
        names = [name for name, _w in self.KINDS]
        weights = [w for _n, w in self.KINDS]
        pending: list[str] = []
        while self.emitted < self.lines:
            if not pending:
                roll = self.rng.random()
                if roll < 0.01 and self.recent:
                    pending = [self.rng.choice(self.recent)]  # a duplicated line
                elif roll < 0.015:
                    pending = [self.garbage()]
                else:
                    user = self.rng.randint(1, self.learners)
                    course = COURSES[(user + self.rng.randrange(2)) % len(COURSES)]
                    kind = self.rng.choices(names, weights)[0]
                    if kind != "enrollment" and (user, course) not in self.enrolled:
                        kind = "enrollment"
                    lines = []
                    for event in getattr(self, kind)(user, course):
                        line = json.dumps(event, separators=(",", ":"))
                        if self.rng.random() < 0.02:
                            line = f"{self.now:%b %d %H:%M:%S} {HOST} lms[1234]: {line}"
                        lines.append(line)
                    self.recent = (self.recent + lines)[-50:]
                    pending = lines
            out.write(pending.pop(0) + "\n")
            self.emitted += 1

