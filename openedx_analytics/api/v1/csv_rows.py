"""The CSV downloads' rows: blocks named and placed in the course outline, in course order, columns named for people.

The JSON rows keep their field names (clients read them); a CSV is opened by a course team
in a spreadsheet, so its columns say what they count (``correct_submissions`` counts
learners: ``learners_last_answer_correct``), videos and problems carry their display name,
section, subsection and rank in course order, and every endpoint has a fixed header so an
empty result is still a CSV with its header. ``docs/rest_api.md`` lists every column.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from openedx_analytics import api
from openedx_analytics.api import rows
from openedx_analytics.lms import courses, host

#: The course summary's fields, as the CSV names them (the modes' columns come between, see ``summaries``).
SUMMARY_NAMES = {"course_id": "course_id", "count": "enrolled", "cumulative_count": "ever_enrolled",
                 "count_change_7_days": "enrolled_change_7_days", "passing_users": "passing_learners",
                 "certificates": "certificates", "active_last_week": "active_learners_last_week",
                 "last_updated": "last_updated"}
SUMMARY_COLUMNS = tuple(SUMMARY_NAMES.values())
#: Measures of an activity row, as the CSV names them.
ACTIVITY_NAMES = {
    "any": "active_learners",
    "played_video": "learners_who_watched_a_video",
    "attempted_problem": "learners_who_tried_a_problem",
    "posted_forum": "learners_who_posted_in_the_forum",
}
ACTIVITY_COLUMNS = {
    "week": ("week_of", "week_ends_before", *ACTIVITY_NAMES.values(), "enrolled_at_end_of_week", "partial"),
    "day": ("date", *ACTIVITY_NAMES.values(), "enrolled_at_end_of_day", "partial"),
}
#: Fixed fields of an enrollment row, as the CSV names them (modes keep their names).
ENROLLMENT_NAMES = {"count": "enrolled", "cumulative_count": "ever_enrolled"}
ENROLLMENT_COLUMNS = ("date", "enrolled", "ever_enrolled", *rows.STANDARD_MODES, "enrollments", "unenrollments",
                      "partial")
ANSWER_COLUMNS = ("question", "part_id", "answer", "correct", "learners", "variant")
TIMELINE_COLUMNS = ("segment", "from_second", "unique_viewers", "replays", "views", "end_mark")
VIDEO_COLUMNS = ("position", "section", "subsection", "video", "video_id", "duration_seconds", "duration_inferred",
                 "learners_started", "learners_finished", "end_mark_second", "views", "timeline_url")
PROBLEM_COLUMNS = ("position", "section", "subsection", "problem", "problem_id", "parts", "learners_submitted",
                   "learners_last_answer_correct", "learners_last_answer_incorrect", "learners_first_answer_correct",
                   "submissions", "mean_attempts_per_learner", "answers_url")


def outline_of(course_id: str) -> dict[str, dict[str, Any]]:
    """The course outline that names and orders blocks (empty outside any LMS: ids, in id order)."""
    try:
        return courses.course_outline(course_id)
    except host.NotAvailable:
        return {}


def summaries(data: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Course summaries with their figures named, and each mode as ``enrolled_<mode>`` and ``ever_enrolled_<mode>``.

    Every row has the columns of every mode any row has (standard modes first), so a list of
    courses is one table.
    """
    seen = {mode for row in data for mode in row["enrollment_modes"]}
    modes = [mode for mode in rows.STANDARD_MODES if mode in seen] + sorted(seen - set(rows.STANDARD_MODES))
    out = []
    for row in data:
        named = {name: row[field] for field, name in SUMMARY_NAMES.items()}
        figures = row["enrollment_modes"]
        by_mode = {f"{kind}_{mode}": (figures.get(mode) or {}).get(field, 0)
                   for kind, field in (("enrolled", "count"), ("ever_enrolled", "cumulative_count")) for mode in modes}
        extra = {"summary_url": row["summary_url"]} if "summary_url" in row else {}
        last_updated = named.pop("last_updated")
        out.append({**named, **by_mode, "last_updated": last_updated, **extra})
    return out


def answers(data: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Answer rows (ordered by part) with the question number the page shows; ``count`` is named ``learners``.

    A generator over a generator: the streamed CSV still holds one chunk of rows at a time.
    """
    part, number = None, 0
    for row in data:
        if row["part_id"] != part:
            part, number = row["part_id"], number + 1
        yield {"question": number, "part_id": row["part_id"], "answer": row["answer_value"],
               "correct": row["correct"], "learners": row["count"], "variant": row["variant"]}


def enrollment(data: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Enrollment rows with ``enrolled`` and ``ever_enrolled``; a mode named like a column is prefixed ``mode_``."""
    taken = set(ENROLLMENT_COLUMNS) - set(rows.STANDARD_MODES)
    out = []
    for row in data:
        shaped = {}
        for key, value in row.items():
            if key in ENROLLMENT_NAMES:
                shaped[ENROLLMENT_NAMES[key]] = value
            elif key not in rows.ENROLLMENT_FIELDS and key in taken:
                shaped[f"mode_{key}"] = value
            else:
                shaped[key] = value
        out.append(shaped)
    return out


def activity(course_id: str, data: Sequence[Mapping[str, Any]], granularity: str) -> list[dict[str, Any]]:
    """Activity rows with their measures named, and the learners enrolled at the end of each period.

    The enrolled count is what the page divides a period's learners by for its share.
    """
    enrolled = api.enrolled_on(course_id, [api.period_last_day(row) for row in data])
    out = []
    for row in data:
        when: dict[str, dt.date] = ({"week_of": row["interval_start"], "week_ends_before": row["interval_end"]}
                                    if granularity == "week" else {"date": row["date"]})
        out.append({**when, **{name: row[field] for field, name in ACTIVITY_NAMES.items()},
                    ACTIVITY_COLUMNS[granularity][-2]: enrolled[api.period_last_day(row)], "partial": row["partial"]})
    return out


def timeline(data: Sequence[Mapping[str, Any]], video: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Segments with their start second, unique viewers, replays and views; ``end_mark`` on the one Finished counts."""
    end = api.finished_segment(video) if video else None
    length = video["segment_length"] if video else 5
    return [{"segment": s["segment"], "from_second": s["segment"] * length, "unique_viewers": s["num_users"],
             "replays": max(s["num_views"] - s["num_users"], 0), "views": s["num_views"],
             "end_mark": s["segment"] == end} for s in data]


def videos(course_id: str, data: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Videos in course order with their names and places, in columns named for what they count."""
    return [
        {**rows.block_place(i, place, "video", v["video_id"]), "video_id": v["video_id"],
         "duration_seconds": v["duration"], "duration_inferred": v["duration_inferred"],
         "learners_started": v["users_at_start"], "learners_finished": v["users_at_end"],
         "end_mark_second": api.finished_segment(v) * v["segment_length"], "views": v["views"],
         "timeline_url": v["timeline_url"]}
        for i, (v, place) in enumerate(rows.in_course_order(data, outline_of(course_id), "video_id"), 1)
    ]


def problems(course_id: str, data: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Problems in course order with their names and places; ``correct_submissions`` named as the learners it counts."""
    return [
        {**rows.block_place(i, place, "problem", p["problem_id"]), "problem_id": p["problem_id"],
         "parts": p["part_ids"], "learners_submitted": p["users_attempted"],
         "learners_last_answer_correct": p["correct_submissions"],
         "learners_last_answer_incorrect": max(p["users_attempted"] - p["correct_submissions"], 0),
         "learners_first_answer_correct": p["first_attempt_correct"], "submissions": p["total_submissions"],
         "mean_attempts_per_learner": p["attempts_mean"], "answers_url": p["answers_url"]}
        for i, (p, place) in enumerate(rows.in_course_order(data, outline_of(course_id), "problem_id"), 1)
    ]
