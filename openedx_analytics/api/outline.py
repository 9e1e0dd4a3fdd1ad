"""The drill-downs through the course outline: videos by section, graded content, ungraded problems, outcomes.

Each function reads the course outline and grading policy through the LMS seam
(``lms.courses``: a snapshot, never built in a request; ``structure=`` hands over one already
read) and the per-video and per-problem aggregates, and returns one level of the drill-down:
``{"level", "parent", "rows", "last_updated"}``. ``level`` names what the rows are, ``parent`` the row chosen one level
up (``{"id", "name"}``, None at the top) and ``rows`` the figures in course order (policy
order for assignment types). Blocks of the outline without figures yet are zero rows, not
missing ones. The REST API and the analytics page both read these functions, so they show
the same numbers. A drill-down id that is not in the outline raises ``InvalidParameter``.

Figures (docs/metrics.md, "The course outline"):

- Videos: per video, ``complete_views`` = ``users_at_end`` and ``start_only_views`` =
  max(``users_at_start`` - ``users_at_end``, 0); per section and subsection, the sums over
  its videos divided by its number of videos (an average, as Insights showed).
- Problems: per problem, ``correct`` = learners whose last submission earned credit and
  ``incorrect`` = the other learners who submitted; per group (assignment type, assignment,
  section, subsection, tag), the averages over its problems.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from openedx_analytics import conf
from openedx_analytics.api.params import InvalidParameter
from openedx_analytics.lms import courses, host
from openedx_analytics.models import ProblemSummary, VideoSummary
from openedx_analytics.pipeline.envelope import parse_course_id

#: The fields of a row of each level, in the order the REST API's CSV gives them.
VIDEO_FIELDS = ("id", "name", "videos", "complete_views", "start_only_views")
PROBLEM_FIELDS = ("id", "name", "problems", "correct", "incorrect")
TYPE_FIELDS = ("id", "name", "weight", "assignments", "problems", "correct", "incorrect")


def _course(course_id: Any) -> str:
    return parse_course_id(str(course_id))


def course_structure(course_id: Any) -> dict[str, Any]:
    """The course's outline and grading policy as the drill-downs read them (``lms.courses.course_structure``;
    empty outside any LMS). Pass it as ``structure=`` to several functions to read it once."""
    try:
        return courses.course_structure(_course(course_id))
    except host.NotAvailable:
        return {"blocks": {}, "grading": {"passing_grade": None, "assignment_types": [], "grade_cutoffs": {}}}


def _outline(course: str, structure: dict[str, Any] | None) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    found = structure if structure is not None else course_structure(course)
    return found["blocks"], found["grading"]


def _in_order(blocks: dict[str, dict[str, Any]], kind: str) -> list[str]:
    return sorted((b for b, info in blocks.items() if info["block_type"] == kind),
                  key=lambda b: blocks[b]["position"])


def _latest(stamps: Iterable[dt.datetime | None]) -> dt.datetime | None:
    return max((s for s in stamps if s is not None), default=None)


def _result(level: str, parent: dict[str, str] | None, rows: list[dict[str, Any]],
            stamps: Iterable[dt.datetime | None]) -> dict[str, Any]:
    return {"level": level, "parent": parent, "rows": rows, "last_updated": _latest(stamps)}


def _chosen(blocks: dict[str, dict[str, Any]], block_id: str, kind: str, name: str) -> dict[str, str]:
    info = blocks.get(block_id)
    if info is None or info["block_type"] != kind:
        raise InvalidParameter(name, f"Not a {kind} of this course's outline: {block_id[:200]!r}.")
    return {"id": block_id, "name": info["display_name"] or block_id}


# ------------------------------------------------------------------ videos


def _video_figures(course: str) -> dict[str, VideoSummary]:
    return {v.video_id: v for v in VideoSummary.objects.using(conf.analytics_db()).filter(course_id=course)}


def _video_group(row_id: str, name: str, videos: list[str], figures: dict[str, VideoSummary]) -> dict[str, Any]:
    """Complete and start-only views summed over ``videos`` and divided by their number (zeros without figures)."""
    complete = start_only = 0
    for video in videos:
        found = figures.get(video)
        if found is not None:
            complete += found.users_at_end
            start_only += max(found.users_at_start - found.users_at_end, 0)
    count = len(videos)
    return {"id": row_id, "name": name, "videos": count, "complete_views": complete / count if count else 0.0,
            "start_only_views": start_only / count if count else 0.0}


def get_video_outline(course_id: Any, section: str | None = None, subsection: str | None = None,
                      structure: dict[str, Any] | None = None) -> dict[str, Any]:
    """Videos by outline: sections (no argument), a section's subsections, or a subsection's videos.

    Section and subsection rows average over their videos (``videos`` says how many); a
    video row has its own counts (``videos`` 1). Sections and subsections without a video
    are left out; videos nobody watched are zero rows.
    """
    course = _course(course_id)
    blocks, _grading = _outline(course, structure)
    figures = _video_figures(course)
    videos = _in_order(blocks, "video")
    if subsection:
        parent = _chosen(blocks, subsection, "sequential", "subsection")
        members = [v for v in videos if blocks[v]["subsection_id"] == subsection]
        rows = [_video_group(v, blocks[v]["display_name"] or v, [v], figures) for v in members]
        return _result("video", parent, rows, (figures[v].last_updated for v in members if v in figures))
    if section:
        parent = _chosen(blocks, section, "chapter", "section")
        level, field, members = "subsection", "subsection_id", [v for v in videos if blocks[v]["section_id"] == section]
    else:
        parent, level, field, members = None, "section", "section_id", videos
    groups: dict[str, list[str]] = {}
    for video in members:
        groups.setdefault(blocks[video][field], []).append(video)
    rows = [_video_group(group, (blocks.get(group) or {}).get("display_name") or group, listed, figures)
            for group, listed in groups.items() if group]
    return _result(level, parent, rows, (figures[v].last_updated for v in members if v in figures))


# ------------------------------------------------------------------ problems


def _problem_figures(course: str) -> dict[str, ProblemSummary]:
    return {p.problem_id: p for p in ProblemSummary.objects.using(conf.analytics_db()).filter(course_id=course)}


def _problem_group(row_id: str, name: str, problems: list[str], figures: dict[str, ProblemSummary]
                   ) -> dict[str, Any]:
    """Correct and incorrect last submissions averaged over ``problems`` (a problem without figures counts 0)."""
    correct = incorrect = 0
    for problem in problems:
        found = figures.get(problem)
        if found is not None:
            correct += found.correct_submissions
            incorrect += max(found.users_attempted - found.correct_submissions, 0)
    count = len(problems)
    return {"id": row_id, "name": name, "problems": count, "correct": correct / count if count else 0.0,
            "incorrect": incorrect / count if count else 0.0}


def _problem_rows(blocks: dict[str, dict[str, Any]], problems: list[str], figures: dict[str, ProblemSummary]
                  ) -> list[dict[str, Any]]:
    return [_problem_group(p, blocks[p]["display_name"] or p, [p], figures) for p in problems]


def _stamps(problems: Iterable[str], figures: dict[str, ProblemSummary]) -> list[dt.datetime | None]:
    return [figures[p].last_updated for p in problems if p in figures]


def get_graded_content(course_id: Any, assignment_type: str | None = None, assignment: str | None = None,
                       structure: dict[str, Any] | None = None) -> dict[str, Any]:
    """Graded content: assignment types with weights, a type's assignments (graded subsections), an
    assignment's problems.

    Types come in the grading policy's order (with ``weight`` 0.0-1.0 and their number of
    ``assignments`` in the outline), then any type the outline uses that the policy lacks.
    """
    course = _course(course_id)
    blocks, grading = _outline(course, structure)
    figures = _problem_figures(course)
    graded = [p for p in _in_order(blocks, "problem") if blocks[p]["graded"]]
    if assignment:
        parent = _chosen(blocks, assignment, "sequential", "assignment")
        members = [p for p in graded if blocks[p]["subsection_id"] == assignment]
        return _result("problem", parent, _problem_rows(blocks, members, figures), _stamps(members, figures))
    if assignment_type is not None and assignment_type != "":
        members = [p for p in graded if blocks[p]["format"] == assignment_type]
        subsections = [s for s in _in_order(blocks, "sequential")
                       if blocks[s]["graded"] and blocks[s]["format"] == assignment_type]
        known = {t["type"] for t in grading["assignment_types"]}
        if not subsections and assignment_type not in known:
            raise InvalidParameter("assignment_type", f"Not an assignment type of this course: "
                                                      f"{assignment_type[:200]!r}.")
        rows = [_problem_group(s, blocks[s]["display_name"] or s,
                               [p for p in members if blocks[p]["subsection_id"] == s], figures)
                for s in subsections]
        return _result("assignment", {"id": assignment_type, "name": assignment_type}, rows,
                       _stamps(members, figures))
    types = [dict(t) for t in grading["assignment_types"]]
    seen = {t["type"] for t in types}
    for subsection in _in_order(blocks, "sequential"):
        fmt = blocks[subsection]["format"]
        if blocks[subsection]["graded"] and fmt and fmt not in seen:
            seen.add(fmt)
            types.append({"type": fmt, "weight": None})
    rows = []
    for kind in types:
        members = [p for p in graded if blocks[p]["format"] == kind["type"]]
        assignments = sum(1 for s, info in blocks.items() if info["block_type"] == "sequential"
                          and info["graded"] and info["format"] == kind["type"])
        row = _problem_group(kind["type"], kind["type"], members, figures)
        rows.append({"id": row["id"], "name": row["name"], "weight": kind["weight"], "assignments": assignments,
                     **{k: row[k] for k in ("problems", "correct", "incorrect")}})
    return _result("assignment_type", None, rows, _stamps(graded, figures))


def get_ungraded_problems(course_id: Any, section: str | None = None, subsection: str | None = None,
                          structure: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ungraded problems: sections (no argument), a section's subsections, or a subsection's problems.

    Only sections and subsections holding an ungraded problem are listed.
    """
    course = _course(course_id)
    blocks, _grading = _outline(course, structure)
    figures = _problem_figures(course)
    ungraded = [p for p in _in_order(blocks, "problem") if not blocks[p]["graded"]]
    if subsection:
        parent = _chosen(blocks, subsection, "sequential", "subsection")
        members = [p for p in ungraded if blocks[p]["subsection_id"] == subsection]
        return _result("problem", parent, _problem_rows(blocks, members, figures), _stamps(members, figures))
    if section:
        parent = _chosen(blocks, section, "chapter", "section")
        level, field = "subsection", "subsection_id"
        members = [p for p in ungraded if blocks[p]["section_id"] == section]
    else:
        parent, level, field, members = None, "section", "section_id", ungraded
    groups: dict[str, list[str]] = {}
    for problem in members:
        groups.setdefault(blocks[problem][field], []).append(problem)
    rows = [_problem_group(group, (blocks.get(group) or {}).get("display_name") or group, listed, figures)
            for group, listed in groups.items() if group]
    return _result(level, parent, rows, _stamps(members, figures))


def get_learning_outcomes(course_id: Any, tag: str | None = None, structure: dict[str, Any] | None = None
                          ) -> dict[str, Any]:
    """Learning outcomes: per content tag value of the course's problems, or one tag's problems.

    A course without tagged problems has no rows. Tags come in the order they first appear
    in the course.
    """
    course = _course(course_id)
    blocks, _grading = _outline(course, structure)
    figures = _problem_figures(course)
    problems = _in_order(blocks, "problem")
    tagged: dict[str, list[str]] = {}
    for problem in problems:
        for value in blocks[problem].get("tags") or []:
            tagged.setdefault(value, []).append(problem)
    if tag is not None and tag != "":
        if tag not in tagged:
            raise InvalidParameter("tag", f"No problem of this course carries the tag {tag[:200]!r}.")
        return _result("problem", {"id": tag, "name": tag}, _problem_rows(blocks, tagged[tag], figures),
                       _stamps(tagged[tag], figures))
    rows = [_problem_group(value, value, listed, figures) for value, listed in tagged.items()]
    return _result("tag", None, rows, _stamps({p for listed in tagged.values() for p in listed}, figures))
