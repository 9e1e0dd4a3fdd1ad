"""The page's drill-downs through the course outline: videos by outline, graded content, ungraded problems,
learning outcomes.

Each panel shows one level of its drill-down, chosen by the page's query parameters
(``DRILL_PARAMETERS``, part of ``content.PARAMETERS``), with a chart, a data table whose
first column opens the next level, a "back" link one level up, the REST API's CSV of the
same level and when its figures were last updated. Figures come from
``openedx_analytics.api.outline``, which the REST API reads too. The deepest level opens the
panels that were there before: a video's 5-second timeline, a problem's answers.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from openedx_analytics.api import outline as outline_api
from openedx_analytics.api.params import InvalidParameter
from openedx_analytics.dashboard import charts
from openedx_analytics.dashboard.tables import Cell, Panel, Table, num, share

#: The page's drill-down parameters, per panel, top level first.
VIDEO_DRILL = ("video_section", "video_subsection")
GRADED_DRILL = ("graded_type", "graded_assignment")
UNGRADED_DRILL = ("ungraded_section", "ungraded_subsection")
OUTCOME_DRILL = ("outcome",)
DRILL_PARAMETERS = (*VIDEO_DRILL, *GRADED_DRILL, *UNGRADED_DRILL, *OUTCOME_DRILL)
#: Bars named on the axis up to this many; beyond, numbered (the table names them).
NAMED_BARS = 8


def _figure(value: float) -> Cell:
    return num(round(value, 2))


class OutlinePanels:
    """The drill-down panel builders of ``content.Page`` (its ``query``, ``errors``, ``link`` and ``api_url``)."""

    course_id: str
    query: Any
    errors: list[str]
    link: Callable[..., str]
    api_url: Callable[..., str]
    #: The course's outline and grading, read once for every drill-down panel of the page.
    structure: dict[str, Any] | None = None

    # ------------------------------------------------------------ shared

    def _level(self, read: Callable[..., dict[str, Any]], names: tuple[str, ...]) -> tuple[dict[str, Any], list]:
        """The level the query's drill parameters choose (a bad one reported, the top level shown)."""
        wanted = [self.query.get(name) or None for name in names]
        # The deepest parameter given decides; the ones above it only lead back up.
        deepest = max((i for i, value in enumerate(wanted) if value), default=-1)
        arguments = [None] * len(names)
        if deepest >= 0:
            arguments[deepest] = wanted[deepest]
        if self.structure is None:
            self.structure = outline_api.course_structure(self.course_id)
        try:
            return read(self.course_id, *arguments, structure=self.structure), wanted
        except InvalidParameter as invalid:
            self.errors.append(_("Drill-down ignored: {error}").format(error=invalid.message))
            return read(self.course_id, structure=self.structure), [None] * len(names)

    def _up(self, anchor: str, names: tuple[str, ...], wanted: list, level: int) -> str:
        """The link one level up from ``level`` (0 = the top): deeper parameters dropped."""
        return self.link(anchor, **{name: (wanted[i] if i < level - 1 else None) for i, name in enumerate(names)})

    @staticmethod
    def _axis(rows: list[dict[str, Any]]) -> charts.Axis:
        names = [row["name"] for row in rows]
        return charts.Axis(names if len(rows) <= NAMED_BARS else [str(i + 1) for i in range(len(rows))])

    # ------------------------------------------------------------ videos

    def videos_by_outline(self) -> Panel:
        """Complete and start-only views per section, subsection and video (sections and subsections averaged)."""
        level, wanted = self._level(outline_api.get_video_outline, VIDEO_DRILL)
        depth = {"section": 0, "subsection": 1, "video": 2}[level["level"]]
        extra = {"section" if depth == 1 else "subsection": level["parent"]["id"]} if depth else {}
        panel = Panel("videos-outline", _("Videos by outline"), csv_url=self.api_url("course-video-outline", extra),
                      last_updated=level["last_updated"],
                      back_url=self._up("videos-outline", VIDEO_DRILL, wanted, depth) if depth else "")
        if level["parent"]:
            panel.subtitle = level["parent"]["name"]
        if depth < 2:
            panel.notes.append(_("Each row is an average over its videos: complete views (learners who reached the "
                                 "end) and start-only views (learners who started but did not reach the end), "
                                 "summed over its videos and divided by their number."))
        else:
            panel.notes.append(_("Each video's own counts; choose one to see every 5 seconds of it."))
        rows = level["rows"]
        if not rows:
            panel.empty = _("The course outline has no videos here (or is not known yet).")
            return panel
        series = [charts.Series(_("Complete views"), [r["complete_views"] for r in rows], 2),
                  charts.Series(_("Start-only views"), [r["start_only_views"] for r in rows], 1)]
        title = (_("Average complete and start-only views per video") if depth < 2
                 else _("Complete and start-only views per video"))
        panel.chart = charts.bars(title, self._axis(rows), series, stacked=True)
        panel.legend = [(s.name, s.colour) for s in series]
        first = {0: _("Section"), 1: _("Subsection"), 2: _("Video")}[depth]

        def href(row: dict[str, Any]) -> str:
            if depth == 2:
                return self.link("video-detail", video=row["id"])
            return self.link("videos-outline", **{VIDEO_DRILL[depth]: row["id"],
                                                  **({VIDEO_DRILL[1]: None} if depth == 0 else {})})

        panel.table = Table(
            _("Videos by outline"), ["#", first, _("Videos"), _("Complete views"), _("Start-only views")],
            [[Cell(str(i + 1)), Cell(r["name"], href=href(r)), num(r["videos"]), _figure(r["complete_views"]),
              _figure(r["start_only_views"])] for i, r in enumerate(rows)])
        return panel

    # ------------------------------------------------------------ problems

    def _problem_panel(self, panel: Panel, rows: list[dict[str, Any]], depth: int, deepest: int, first: str,
                       href: Callable[[dict[str, Any]], str], extra_columns: tuple[str, ...] = ()) -> Panel:
        """Chart and table of a problem drill-down level (``depth`` of ``deepest``: problems themselves)."""
        if depth < deepest:
            panel.notes.append(_("Each row averages over its problems: learners whose last submission was correct, "
                                 "and learners whose last submission was not (problems nobody submitted count 0)."))
        else:
            panel.notes.append(_("Learners whose last submission was correct or not, per problem (0 where nobody "
                                 "has submitted yet); choose one to see its answers."))
        if not rows:
            panel.empty = _("The course outline has no such problems here (or is not known yet).")
            return panel
        series = [charts.Series(_("Correct"), [r["correct"] for r in rows], 2),
                  charts.Series(_("Incorrect"), [r["incorrect"] for r in rows], 5)]
        title = (_("Average correct and incorrect last submissions per problem") if depth < deepest
                 else _("Correct and incorrect last submissions"))
        panel.chart = charts.bars(title, self._axis(rows), series, stacked=True)
        panel.legend = [(s.name, s.colour) for s in series]
        labels = {"weight": _("Weight"), "assignments": _("Assignments")}
        columns = ["#", first, *[labels[c] for c in extra_columns], _("Problems"),
                   _("Correct (average)") if depth < deepest else _("Correct"),
                   _("Incorrect (average)") if depth < deepest else _("Incorrect")]

        def extra(row: dict[str, Any]) -> list[Cell]:
            cells = []
            for column in extra_columns:
                if column == "weight":
                    cells.append(share(row["weight"], 1) if row["weight"] is not None else Cell("\u2013", numeric=True))
                else:
                    cells.append(num(row[column]))
            return cells

        panel.table = Table(panel.title, columns,
                            [[Cell(str(i + 1)), Cell(r["name"], href=href(r)), *extra(r), num(r["problems"]),
                              _figure(r["correct"]), _figure(r["incorrect"])] for i, r in enumerate(rows)])
        return panel

    def _problem_link(self, row: dict[str, Any]) -> str:
        return self.link("problem-detail", problem=row["id"], answers_part=None, answers_page=None)

    def graded_content(self) -> Panel:
        """Assignment types with weights, then a type's assignments, then an assignment's problems."""
        level, wanted = self._level(outline_api.get_graded_content, GRADED_DRILL)
        depth = {"assignment_type": 0, "assignment": 1, "problem": 2}[level["level"]]
        extra = {"assignment_type" if depth == 1 else "assignment": level["parent"]["id"]} if depth else {}
        panel = Panel("graded-content", _("Graded content"), csv_url=self.api_url("course-graded-content", extra),
                      last_updated=level["last_updated"],
                      back_url=self._up("graded-content", GRADED_DRILL, wanted, depth) if depth else "")
        if level["parent"]:
            panel.subtitle = level["parent"]["name"]
        if depth == 0:
            panel.report_url = self.api_url("course-problem-responses")
            panel.notes.append(_("The course's assignment types with their weight in the course grade, from its "
                                 "grading policy."))

        def href(row: dict[str, Any]) -> str:
            if depth == 2:
                return self._problem_link(row)
            return self.link("graded-content", **{GRADED_DRILL[depth]: row["id"],
                                                  **({GRADED_DRILL[1]: None} if depth == 0 else {})})

        first = {0: _("Assignment type"), 1: _("Assignment"), 2: _("Problem")}[depth]
        return self._problem_panel(panel, level["rows"], depth, 2, first, href,
                                   ("weight", "assignments") if depth == 0 else ())

    def ungraded_problems(self) -> Panel:
        """Ungraded problems per section, then a section's subsections, then a subsection's problems."""
        level, wanted = self._level(outline_api.get_ungraded_problems, UNGRADED_DRILL)
        depth = {"section": 0, "subsection": 1, "problem": 2}[level["level"]]
        extra = {"section" if depth == 1 else "subsection": level["parent"]["id"]} if depth else {}
        panel = Panel("ungraded-problems", _("Ungraded problems"),
                      csv_url=self.api_url("course-ungraded-problems", extra), last_updated=level["last_updated"],
                      back_url=self._up("ungraded-problems", UNGRADED_DRILL, wanted, depth) if depth else "")
        if depth == 0:
            panel.report_url = self.api_url("course-problem-responses")
        if level["parent"]:
            panel.subtitle = level["parent"]["name"]

        def href(row: dict[str, Any]) -> str:
            if depth == 2:
                return self._problem_link(row)
            return self.link("ungraded-problems", **{UNGRADED_DRILL[depth]: row["id"],
                                                     **({UNGRADED_DRILL[1]: None} if depth == 0 else {})})

        first = {0: _("Section"), 1: _("Subsection"), 2: _("Problem")}[depth]
        return self._problem_panel(panel, level["rows"], depth, 2, first, href)

    def learning_outcomes(self) -> Panel | None:
        """Problems per content tag, then a tag's problems (no panel for a course without tags)."""
        level, wanted = self._level(outline_api.get_learning_outcomes, OUTCOME_DRILL)
        depth = 0 if level["level"] == "tag" else 1
        if depth == 0 and not level["rows"]:
            return None
        panel = Panel("learning-outcomes", _("Learning outcomes"),
                      csv_url=self.api_url("course-learning-outcomes", {"tag": level["parent"]["id"]} if depth else {}),
                      last_updated=level["last_updated"],
                      back_url=self._up("learning-outcomes", OUTCOME_DRILL, wanted, depth) if depth else "")
        if level["parent"]:
            panel.subtitle = level["parent"]["name"]
        if depth == 0:
            panel.notes.append(_("Problems grouped by the content tags the course gives them; a problem with "
                                 "several tags counts under each."))

        def href(row: dict[str, Any]) -> str:
            return self._problem_link(row) if depth else self.link("learning-outcomes", outcome=row["id"])

        return self._problem_panel(panel, level["rows"], depth, 1, _("Tag") if depth == 0 else _("Problem"), href)
