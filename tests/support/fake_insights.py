"""A fake old Insights data API (edx-analytics-data-api v0) served by the test, in its shapes.

A tiny threaded HTTP server on 127.0.0.1 answering ``/api/v0/courses/<course_id>/<endpoint>/``
as the real API does (``analytics_data_api/v0/serializers.py`` and ``views/courses.py``):
token authentication (``Authorization: Token ...``, 401 without it), lists of rows,
timestamps as ``%Y-%m-%dT%H%M%S``, ``start_date`` inclusive and ``end_date`` exclusive
(``interval_end`` before it for activity), only the latest day without dates, and 404 for a
course or range without rows. ``hang`` makes every request wait (as a stuck API does) until
the test ends; ``requests`` records what was asked.

``shapes_from_live`` turns our own live numbers of a course into the old API's rows, so a
test can change a few of them and expect the comparison to list exactly those.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CREATED = "2026-11-30T020000"
PATH = re.compile(r"^/api/v0/courses/(?P<course>[^/+]+[/+][^/+]+[/+][^/]+)/(?P<endpoint>[a-z_/]+?)/$")
#: ``videos/<pipeline_video_id>/timeline/`` and ``problems/<problem_id>/answer_distribution/`` (v0's own urls).
ITEM = re.compile(r"^/api/v0/(?P<kind>videos|problems)/(?P<item>.+)/(?P<what>timeline|answer_distribution)/$")
MODES = ("audit", "credit", "honor", "professional", "verified", "masters")


class FakeInsightsApi:
    """The fake API: ``data[course][endpoint]`` rows (``endpoint`` as in the URL, ``enrollment/mode``), and
    ``items[(kind, id, what)]`` rows (``("videos", pipeline_video_id, "timeline")``)."""

    def __init__(self, token: str = "insights-token") -> None:
        self.token = token
        self.data: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.items: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.requests: list[str] = []
        self.hang = False
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                fake.requests.append(self.path)
                if fake.hang:
                    fake.released.wait(60)
                    return
                status, body = fake.answer(self.path, self.headers.get("Authorization", ""))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The API's root, as Insights' ``DATA_API_URL`` names it."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v0"

    def answer(self, path: str, authorization: str) -> tuple[int, Any]:
        """The status and JSON body the real API gives for ``path``."""
        if authorization != f"Token {self.token}":
            return 401, {"detail": "Authentication credentials were not provided."}
        parts = urlsplit(path)
        item = ITEM.match(unquote(parts.path))
        if item:
            rows = self.items.get((item["kind"], item["item"], item["what"]))
            return (200, rows) if rows else (404, {"detail": "Not found."})
        match = PATH.match(unquote(parts.path))
        if not match:
            return 404, {"detail": "Not found."}
        rows = self.data.get(match["course"], {}).get(match["endpoint"])
        if rows is None:
            return 404, {"detail": "Not found."}
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        rows = _dated(rows, match["endpoint"], query.get("start_date"), query.get("end_date"))
        return (200, rows) if rows else (404, {"detail": "Not found."})

    def __enter__(self) -> FakeInsightsApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def _dated(rows: list[dict[str, Any]], endpoint: str, start: str | None, end: str | None) -> list[dict[str, Any]]:
    """The rows the real API's date filtering keeps (``BaseCourseEnrollmentView``, ``CourseActivityWeeklyView``)."""
    if endpoint == "activity":
        if not (start or end):
            latest = max(r["interval_end"] for r in rows)
            return [r for r in rows if r["interval_end"] == latest]
        return [r for r in rows if (not start or r["interval_start"][:10] >= start)
                and (not end or r["interval_end"][:10] < end)]
    if endpoint in ("videos", "problems"):
        return rows
    if not (start or end):
        latest = max(r["date"] for r in rows)
        return [r for r in rows if r["date"] == latest]
    return [r for r in rows if (not start or r["date"] >= start) and (not end or r["date"] < end)]


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T000000"


def shapes_from_live(course_id: str) -> dict[str, list[dict[str, Any]]]:
    """Our live numbers of ``course_id`` as the old API's rows (one per day, week, video, problem)."""
    from openedx_analytics import api

    enrollment = []
    for day in api.get_enrollment(course_id):
        row = {"course_id": course_id, "date": day["date"].isoformat(), "count": day["count"],
               "cumulative_count": day["cumulative_count"], "created": CREATED}
        row.update({mode: (day["modes"].get(mode) or {}).get("count", 0) for mode in MODES})
        enrollment.append(row)
    activity = [{"interval_start": _stamp(w["interval_start"]), "interval_end": _stamp(w["interval_end"]),
                 "course_id": course_id, "any": w["any"], "attempted_problem": w["attempted_problem"],
                 "played_video": w["played_video"], "created": CREATED}
                for w in api.get_activity(course_id)]
    videos = [{"pipeline_video_id": f"{course_id}|{v['video_id'].rsplit('@', 1)[-1]}",
               "encoded_module_id": v["video_id"].rsplit("@", 1)[-1], "duration": v["duration"],
               "segment_length": 5, "users_at_start": v["users_at_start"], "users_at_end": v["users_at_end"],
               "created": CREATED} for v in api.get_videos(course_id)]
    problems = [{"module_id": p["problem_id"], "total_submissions": p["users_attempted"],
                 "correct_submissions": p["correct_submissions"], "part_ids": [f"{p['problem_id']}_2_1"],
                 "created": CREATED} for p in api.get_problems(course_id)]
    today = dt.date(2026, 11, 30).isoformat()
    return {
        "enrollment": [{k: r[k] for k in ("course_id", "date", "count", "created")} for r in enrollment],
        "enrollment/mode": enrollment, "activity": activity, "videos": videos, "problems": problems,
        "enrollment/gender": [{"course_id": course_id, "date": today, "female": 12, "male": 9, "other": 2,
                               "unknown": 4, "created": CREATED}],
        "enrollment/education": [{"course_id": course_id, "date": today, "education_level": level, "count": n,
                                  "created": CREATED} for level, n in (("bachelors", 11), ("masters", 7))],
        "enrollment/birth_year": [{"course_id": course_id, "date": today, "birth_year": year, "count": n,
                                   "created": CREATED} for year, n in ((1990, 8), (2001, 6))],
        "enrollment/location": [{"course_id": course_id, "date": today, "count": n, "created": CREATED,
                                 "country": {"alpha2": code, "alpha3": code3, "name": name}}
                                for code, code3, name, n in (("FR", "FRA", "France", 10), ("KE", "KEN", "Kenya", 3))],
    }


def items_from_live(course_id: str) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Our live video timelines and answer distributions of ``course_id`` as the old API's item rows."""
    from openedx_analytics import api

    items = {}
    for video in api.get_videos(course_id):
        pipeline_id = f"{course_id}|{video['video_id'].rsplit('@', 1)[-1]}"
        items[("videos", pipeline_id, "timeline")] = [{**s, "created": CREATED}
                                                      for s in api.get_video_timeline(course_id, video["video_id"])]
    for problem in api.get_problems(course_id):
        items[("problems", problem["problem_id"], "answer_distribution")] = [
            {"course_id": course_id, "module_id": problem["problem_id"], "part_id": a["part_id"],
             "correct": a["correct"], "count": a["count"], "value_id": a["answer_value"],
             "answer_value": a["answer_value"], "problem_display_name": None, "question_text": None,
             "variant": a["variant"] or None, "created": CREATED, "consolidated_variant": False}
            for a in api.get_answer_distribution(course_id, problem["problem_id"])]
    return items


@contextmanager
def serving(token: str = "insights-token") -> Iterator[FakeInsightsApi]:
    """A fake old API serving for the length of the block."""
    with FakeInsightsApi(token) as fake:
        yield fake
