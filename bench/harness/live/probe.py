"""The freshness probe of ``bench.live freshness``: emit what a fresh learner does, poll the REST API until it shows.

``bench.live`` runs it (``python -m bench.harness.live.probe``) on the run's live databases,
once with no load and once under load. Every ``--interval`` seconds, alternately, a fresh
learner enrolls in a mode only probes use (visible when ``summary/`` counts it) or plays a
video nobody played before (visible when ``videos/`` lists it), in the first generated
course. The probe polls every ``--poll`` seconds as the course's staff, over one keep-alive
connection, and writes each probe's delay (and every poll's round trip) to ``--out``.

``--sequential`` is a quiet site (``bench.live quiet``): enrollments only, one at a time, each
emitted once the previous one shows (or timed out), so no probe's batch ever wakes the
publisher thread for another's. With ``--over-http`` each enrollment is an HTTP request to the
host's enrollment view on the served LMS process (gunicorn), as a learner's browser makes it:
the events then leave through that process's publisher, idle between requests as an LMS
worker process is on a quiet site, not through the probe's own.
"""
from __future__ import annotations

import argparse
import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.harness.live.databases import setup_django
from bench.harness.live.processes import write_json

#: The enrollment mode only probes use: its count on ``summary/`` is the probes' enrollments.
PROBE_MODE = "probe"


class ApiClient:
    """Keep-alive HTTP client of the REST API with a course-staff session, as the page's browser would be."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.headers = {"Cookie": f"sessionid={session_key}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.round_trips_ms: list[float] = []

    def get(self, path: str) -> Any:
        """GET ``path`` (JSON), timing the round trip."""
        start = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        body = response.read()
        self.round_trips_ms.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)

    def enroll(self, course: str, username: str, mode: str) -> None:
        """POST the host's enrollment view as a browser would (CSRF cookie and header), on its own connection."""
        token = "probe" * 6 + "ab"  # a 32-character CSRF secret, sent as cookie and header alike
        body = urlencode({"username": username, "mode": mode})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", f"/host/enroll/{course}/", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={token}",
                "X-CSRFToken": token})
            response = conn.getresponse()
            answer = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"POST enroll: {response.status} {answer[:300]!r}")

    def probe_enrollments(self, course: str) -> int:
        """Learners enrolled in the probe's mode, as ``summary/`` says."""
        summary = self.get(f"/api/analytics/v1/courses/{course}/summary/")
        return int((summary.get("enrollment_modes") or {}).get(PROBE_MODE, {}).get("count", 0))

    def video_ids(self, course: str) -> list[str]:
        """The course's video ids, as ``videos/`` lists them."""
        return [row["video_id"] for row in self.get(f"/api/analytics/v1/courses/{course}/videos/")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The server, the staff session, how many probes how often, and where the results go."""
    parser = argparse.ArgumentParser(prog="python -m bench.harness.live.probe", description=__doc__.splitlines()[0])
    for name in ("--session", "--tag", "--log", "--out"):
        parser.add_argument(name, required=True)
    for name in ("--port", "--probes", "--first-user", "--seed"):
        parser.add_argument(name, type=int, required=True)
    for name in ("--interval", "--poll", "--timeout"):
        parser.add_argument(name, type=float, required=True)
    parser.add_argument("--sequential", action="store_true", help="enrollments one at a time, each once the last shows")
    parser.add_argument("--over-http", action="store_true",
                        help="(with --sequential) enroll through the served LMS process's enrollment view")
    return parser.parse_args(argv)


def play_fresh_video(user: int, course: str, video: str) -> None:
    """``user`` plays ``video`` from 0 s and pauses it at 12 s, from the browser, in one LMS request."""
    from bench.harness.live.lms import emit, in_request, server_context

    context = {**server_context(user, course, "/event"), "event_source": "browser",
               "page": f"https://lms.example.org/courses/{course}/courseware/w1/s1/"}
    payload = {"id": video, "code": "html5", "duration": 60.0}

    def play() -> int:
        emit("play_video", {**payload, "currentTime": 0.0}, context)
        emit("pause_video", {**payload, "currentTime": 12.0}, context)
        return 2

    in_request(play)


def settle(pending: dict[int, tuple[str, float, Any]], api: ApiClient, course: str, timeout: float,
           results: list[dict[str, Any]]) -> None:
    """Move to ``results`` each pending probe the REST API shows now, or that has waited past ``timeout``."""
    count, videos = api.probe_enrollments(course), None
    seen = time.monotonic()
    for probe, (kind, start, expected) in list(pending.items()):
        if kind == "video":
            videos = api.video_ids(course) if videos is None else videos
            visible = any(v == expected or v.endswith("@" + expected) for v in videos)
        else:
            visible = count >= expected
        if visible or seen - start > timeout:
            results.append({"kind": kind, "seconds": seen - start, "visible": visible})
            del pending[probe]


def run_probes(args: argparse.Namespace, api: ApiClient) -> list[dict[str, Any]]:
    """Emit the probes on time and poll until each shows or times out; each probe's kind, delay and visibility."""
    from django.contrib.auth import get_user_model

    from bench.harness.live.lms import SimulatedLms, in_request
    from bench.harness.tracking_log import COURSES

    course = COURSES[0]
    lms = SimulatedLms(args.seed, 1)
    base = api.probe_enrollments(course)
    pending: dict[int, tuple[str, float, Any]] = {}  # probe -> (kind, emitted at, what shows it)
    results: list[dict[str, Any]] = []
    enrolled = 0
    next_probe = time.monotonic()
    index = 0
    deadline = time.monotonic() + args.probes * args.interval + args.timeout + 30
    while (index < args.probes or pending) and time.monotonic() < deadline:
        if index < args.probes and time.monotonic() >= next_probe:
            user = args.first_user + index
            get_user_model().objects.using("default").create(id=user, username=f"probe{user}")
            start = time.monotonic()
            if index % 2 == 0:
                in_request(lambda u=user: lms.enroll(u, course, PROBE_MODE))
                enrolled += 1
                pending[index] = ("enrollment", start, base + enrolled)
            else:
                video = f"probe{args.tag}v{index}"
                play_fresh_video(user, course, video)
                pending[index] = ("video", start, video)
            index += 1
            next_probe = start + args.interval
        if pending:
            settle(pending, api, course, args.timeout, results)
        time.sleep(args.poll)
    return results


def run_sequential_probes(args: argparse.Namespace, api: ApiClient) -> list[dict[str, Any]]:
    """A quiet site: a fresh learner enrolls, the API is polled until it shows; then the next, ``--probes`` times."""
    from django.contrib.auth import get_user_model

    from bench.harness.live.lms import SimulatedLms, in_request
    from bench.harness.tracking_log import COURSES

    course = COURSES[0]
    lms = SimulatedLms(args.seed, 1)
    results: list[dict[str, Any]] = []
    for index in range(args.probes):
        user = args.first_user + index
        get_user_model().objects.using("default").create(id=user, username=f"probe{user}")
        expected = api.probe_enrollments(course) + 1
        start = time.monotonic()
        if args.over_http:
            api.enroll(course, f"probe{user}", PROBE_MODE)
        else:
            in_request(lambda u=user: lms.enroll(u, course, PROBE_MODE))
        pending = {index: ("enrollment", start, expected)}
        while pending:
            time.sleep(args.poll)
            settle(pending, api, course, args.timeout, results)
        time.sleep(args.interval)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the probes; write their delays and the API's round trips to ``--out``."""
    args = parse_args(argv)
    setup_django()
    from bench.harness.live.lms import log_tracking_events_to

    handler = log_tracking_events_to(Path(args.log))
    api = ApiClient(args.port, args.session)
    results = (run_sequential_probes if args.sequential else run_probes)(args, api)
    handler.flush()
    write_json(Path(args.out), {"probes": results, "poll_ms": api.round_trips_ms})


if __name__ == "__main__":
    main()
