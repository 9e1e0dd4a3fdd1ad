"""The old Insights numbers in our shapes, and where they differ from the live ones.

The tab's "Insights numbers" and the comparison both read the old Insights data API
(``insights_client``) and turn its v0 rows into the shapes of this Python API: daily
enrollment by mode, weekly activity, per-video and per-problem counts, the learners
breakdowns. ``compare`` lists, per metric, the days, weeks, videos and problems where the
two sources differ and by how much, and explains the differences that come from the
definitions rather than from an error (``KNOWN_DIFFERENCES``).
"""
from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from openedx_analytics import api, insights_client
from openedx_analytics.insights_client import Source, Unavailable, number, parse_date, parse_time

__all__ = ["KNOWN_DIFFERENCES", "Comparison", "Difference", "OldNumbers", "Unavailable", "answer_distribution",
           "block_hash", "compare", "read", "same_block", "video_timeline"]

#: The endpoints the activity view of the tab reads, and those its learners view reads.
ACTIVITY_ENDPOINTS = ["enrollment_mode", "activity", "videos", "problems"]
LEARNER_ENDPOINTS = ["birth_year", "education", "gender", "location"]
#: The enrollment modes Insights' API reports (zero when absent).
MODES = ("audit", "credit", "honor", "professional", "verified", "masters")
#: Insights' engagement columns (``posted_forum`` only where its pipeline still counted it).
ACTIVITY = ("any", "played_video", "attempted_problem", "posted_forum")

#: Per metric: why the two sources may differ although both are right.
KNOWN_DIFFERENCES: dict[str, str] = {
    "enrollment": "Insights counted each day in its nightly run, from the tracking log up to that night; live "
                  "numbers keep the last state of each day as it happens. Insights has no figure for the days "
                  "after its last run, and a late or re-run night can move a change by a day.",
    "activity": "Insights' weeks come from its weekly run and leave out the week under way; a week Insights "
                "names by a day other than Monday is compared by its Monday and marked explained. Insights' "
                "API reports posted_forum only where its pipeline counted it: a missing one is not compared, "
                "not read as zero.",
    "videos": "Both count finishers at the video's end mark (95% of the way, 30 seconds before the end for "
              "videos of 10 minutes or more), which depends on the duration: where the durations differ "
              "(Insights took the pipeline's, live numbers the largest the player reported, else one inferred "
              "from where viewers drop off), users_at_end differs by definition and is marked explained.",
    "problems": "Insights' total_submissions counts learners' last answers (one per learner, averaged over "
                "the problem's parts), so it is compared with live learners who answered, not with every "
                "submission; correct_submissions likewise with learners whose last answer earned credit.",
}


@dataclass
class OldNumbers:
    """What the old API says about one course, in our shapes (empty lists where it holds nothing)."""

    enrollment: list[dict[str, Any]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    learners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The newest ``created`` of the rows read: when Insights last computed them.
    created: dt.datetime | None = None


@dataclass
class Difference:
    """One place the two sources disagree: metric, where (day, week, video, problem), both values, how much."""

    metric: str
    where: str
    measure: str
    insights: int | None
    live: int | None
    known: bool = False

    @property
    def delta(self) -> int | None:
        """Live minus Insights (None when one side has no figure)."""
        return None if self.insights is None or self.live is None else self.live - self.insights

    @property
    def relative(self) -> float | None:
        """The difference as a share of the Insights figure (None when that is 0 or missing)."""
        return None if not self.insights or self.delta is None else self.delta / self.insights


@dataclass
class Comparison:
    """The differences, and how many days, weeks, videos and problems of each metric were compared."""

    differences: list[Difference] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)

    def of(self, metric: str) -> list[Difference]:
        """The differences of one metric."""
        return [d for d in self.differences if d.metric == metric]


def block_hash(text: str) -> str:
    """The block part of a video or problem id, the way both sources can name it (``block@``, ``i4x-...-``, ``|``)."""
    return re.split(r"[@|/\-]", str(text))[-1].lower()


def _newest(rows: list[dict[str, Any]], current: dt.datetime | None) -> dt.datetime | None:
    for row in rows:
        when = parse_time(row.get("created"))
        if when is not None and (current is None or when > current):
            current = when
    return current


def _enrollment(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    days = []
    for row in rows:
        day = parse_date(row.get("date"))
        if day is None:
            continue
        modes = {mode: number(row.get(mode)) for mode in MODES}
        days.append({"date": day, "count": number(row.get("count")),
                     "cumulative_count": number(row.get("cumulative_count")), "modes": modes})
    return sorted(days, key=lambda d: d["date"])


def _activity(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    weeks = []
    for row in rows:
        start = parse_date(row.get("interval_start"))
        if start is None:
            continue
        week = {"interval_start": start, "interval_end": parse_date(row.get("interval_end"))}
        for column in ACTIVITY:
            week[column] = number(row[column]) if row.get(column) is not None else None
        weeks.append(week)
    return sorted(weeks, key=lambda w: w["interval_start"])


def _videos(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"video_id": str(row.get("encoded_module_id") or row.get("pipeline_video_id") or ""),
             "pipeline_video_id": str(row.get("pipeline_video_id") or row.get("encoded_module_id") or ""),
             "duration": number(row.get("duration")), "users_at_start": number(row.get("users_at_start")),
             "users_at_end": number(row.get("users_at_end"))} for row in rows]


def _problems(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"problem_id": str(row.get("module_id") or ""), "learners": number(row.get("total_submissions")),
             "correct": number(row.get("correct_submissions"))} for row in rows]


def _learners(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The learners breakdowns of the latest day the API has: ``label`` and ``count`` rows."""
    out: dict[str, list[dict[str, Any]]] = {}
    if "birth_year" in found:
        years = [{"label": str(row.get("birth_year") or "unknown"), "count": number(row.get("count"))}
                 for row in found["birth_year"]]
        out["birth_year"] = sorted(years, key=lambda r: r["label"])
    if "education" in found:
        out["education"] = [{"label": str(row.get("education_level") or "unknown"), "count": number(row.get("count"))}
                            for row in found["education"]]
    if "gender" in found:
        latest = max(found["gender"], key=lambda r: str(r.get("date") or ""), default={})
        out["gender"] = [{"label": name, "count": number(latest.get(name))}
                         for name in ("female", "male", "other", "unknown") if latest]
    if "location" in found:
        rows = []
        for row in found["location"]:
            country = row.get("country") if isinstance(row.get("country"), dict) else {}
            rows.append({"label": str(country.get("name") or country.get("alpha2") or "unknown"),
                         "count": number(row.get("count"))})
        out["location"] = sorted(rows, key=lambda r: -r["count"])
    return out


def read(source: Source, course_id: str, names: list[str], start: dt.date | None = None,
         end: dt.date | None = None) -> OldNumbers:
    """The old API's numbers for one course (the endpoints ``names``), in our shapes; raises ``Unavailable``."""
    found = insights_client.fetch(source, course_id, names, start, end)
    created = None
    for rows in found.values():
        created = _newest(rows, created)
    return OldNumbers(
        enrollment=_enrollment(found.get("enrollment_mode", [])), activity=_activity(found.get("activity", [])),
        videos=_videos(found.get("videos", [])), problems=_problems(found.get("problems", [])),
        learners=_learners(found), created=created,
    )


def same_block(one: str, other: str) -> bool:
    """Whether two ids name the same block (a usage key, Insights' encoded module id, a pipeline video id)."""
    return bool(one) and block_hash(one) == block_hash(other)


def video_timeline(source: Source, pipeline_video_id: str) -> list[dict[str, int]]:
    """Insights' timeline of one video (``videos/{id}/timeline/``): segment, viewers, views; raises ``Unavailable``."""
    url = insights_client.resource_url(source, "videos", pipeline_video_id, "timeline")
    rows = insights_client.fetch_urls(source, {"timeline": url})["timeline"]
    segments = [{"segment": number(r.get("segment")), "num_users": number(r.get("num_users")),
                 "num_views": number(r.get("num_views"))} for r in rows]
    return sorted(segments, key=lambda r: r["segment"])


def answer_distribution(source: Source, problem_id: str) -> dict[str, list[dict[str, Any]]]:
    """Insights' answers to one problem (``problems/{id}/answer_distribution/``) per part; raises ``Unavailable``.

    Each answer: ``answer_value`` (else ``value_id``), ``correct``, ``count`` (learners whose last
    answer it was: ``last_response_count`` where the API gives it, else ``count``) and ``variant``.
    """
    url = insights_client.resource_url(source, "problems", problem_id, "answer_distribution")
    rows = insights_client.fetch_urls(source, {"answers": url})["answers"]
    parts: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        count = r.get("last_response_count", r.get("count"))
        parts.setdefault(str(r.get("part_id") or ""), []).append({
            "answer_value": str(r.get("answer_value") or r.get("value_id") or ""), "correct": r.get("correct") is True,
            "count": number(count), "variant": "" if r.get("variant") is None else str(r.get("variant"))})
    return {part: sorted(answers, key=lambda a: -a["count"]) for part, answers in sorted(parts.items())}


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _differ(out: list[Difference], metric: str, where: str, measure: str, old: int | None, new: int | None,
            known: bool = False) -> None:
    if old != new:
        out.append(Difference(metric, where, measure, old, new, known))


def compare(old: OldNumbers, course_id: str, start: dt.date | None = None,
            end: dt.date | None = None) -> Comparison:
    """Every day, week, video and problem where the old and live numbers of ``course_id`` differ.

    Only the days and weeks Insights has are compared (its history is the reference; live days
    after its last run are expected). A difference that the definitions explain is marked
    ``known`` (a missing ``posted_forum``, a week not starting on Monday); the notes of
    ``KNOWN_DIFFERENCES`` say why the remaining ones can be legitimate too.
    """
    out: list[Difference] = []
    compared = dict.fromkeys(("enrollment", "activity", "videos", "problems"), 0)
    live_rows = api.get_enrollment(course_id, None, end)
    live_dates = [d["date"] for d in live_rows]
    for day in old.enrollment:
        if (start and day["date"] < start) or (end and day["date"] >= end):
            continue
        compared["enrollment"] += 1
        at = bisect_right(live_dates, day["date"])  # days without changes carry the day before forward
        live = live_rows[at - 1] if at else None
        _differ(out, "enrollment", day["date"].isoformat(), "count", day["count"], live["count"] if live else None)
        for mode in MODES:
            live_mode = (live["modes"].get(mode) or {}).get("count", 0) if live else None
            if day["modes"][mode] or live_mode:
                _differ(out, "enrollment", day["date"].isoformat(), mode, day["modes"][mode], live_mode)
    live_weeks = {w["interval_start"]: w for w in api.get_activity(course_id, start, end, granularity="week")}
    for week in old.activity:
        compared["activity"] += 1
        monday = _monday(week["interval_start"])
        live = live_weeks.get(monday)
        moved = monday != week["interval_start"]
        for column in ACTIVITY:
            if week[column] is None:
                continue
            _differ(out, "activity", monday.isoformat(), column, week[column],
                    live[column] if live else None, known=moved)
    live_videos = {block_hash(v["video_id"]): v for v in api.get_videos(course_id)}
    for video in old.videos:
        compared["videos"] += 1
        live = live_videos.get(block_hash(video["video_id"]))
        _differ(out, "videos", video["video_id"], "users_at_start", video["users_at_start"],
                live["users_at_start"] if live else None)
        _differ(out, "videos", video["video_id"], "duration", video["duration"], live["duration"] if live else None)
        moved_end = live is not None and live["duration"] != video["duration"]
        _differ(out, "videos", video["video_id"], "users_at_end", video["users_at_end"],
                live["users_at_end"] if live else None, known=moved_end)
    live_problems = {block_hash(p["problem_id"]): p for p in api.get_problems(course_id)}
    for problem in old.problems:
        compared["problems"] += 1
        live = live_problems.get(block_hash(problem["problem_id"]))
        _differ(out, "problems", problem["problem_id"], "learners", problem["learners"],
                live["users_attempted"] if live else None)
        _differ(out, "problems", problem["problem_id"], "correct", problem["correct"],
                live["correct_submissions"] if live else None)
    return Comparison(out, compared)
