"""The page's "Engagement by content" panel: learners per section, drilling to subsections and units.

One level at a time, as the REST API's ``content/`` endpoint gives it: the sections,
then the subsections of the section chosen (``content_section``), then the units of the
subsection chosen (``content_subsection``), each a link built with ``Page.link`` so the
page's other parameters (its dates) stay. Over the page's dates; without dates the last
28 days (``api.content.DEFAULT_DAYS``), said on the panel.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from openedx_analytics import api
from openedx_analytics.api import content as api_content
from openedx_analytics.dashboard import charts
from openedx_analytics.dashboard.tables import Cell, Panel, Table, num, share

#: The query parameters of the drill-down (added to ``content.PARAMETERS``).
SECTION = "content_section"
SUBSECTION = "content_subsection"
PARAMETERS = (SECTION, SUBSECTION)
#: The panel's key: its anchor on the page and its table's id.
KEY = "content"


def _labels() -> dict[str, str]:
    return {"viewed": _("Viewed"), "played_video": _("Watched a video"), "attempted_problem": _("Tried a problem")}


def _level_names() -> dict[str, str]:
    return {"chapter": _("Section"), "sequential": _("Subsection"), "vertical": _("Unit")}


def content_panel(page: Any) -> Panel:
    """The panel for ``page`` (a ``content.Page``): the parts of the level chosen, a chart, a table, a CSV link."""
    section = page.query.get(SECTION) or None
    subsection = page.query.get(SUBSECTION) or None
    parent = subsection or section
    try:
        figures = api.get_engagement_by_content(page.course_id, page.start, page.end, parent=parent,
                                                outline=page.outline)
    except api_content.UnknownPart:
        page.errors.append(_("Engagement by content: that part is not in this course's outline; "
                             "its sections are shown."))
        parent = section = subsection = None
        figures = api.get_engagement_by_content(page.course_id, page.start, page.end, outline=page.outline)
    extra = {"start_date": figures["start_date"].isoformat(), "end_date": figures["end_date"].isoformat(),
             **({"parent": parent} if parent else {})}
    title = _("Engagement by content")
    if parent:
        title = _("Engagement by content: {name}").format(name=page.name_of(parent))
    back = ""
    if subsection:
        back = page.link(KEY, **{SUBSECTION: None})
    elif section:
        back = page.link(KEY, **{SECTION: None})
    panel = Panel(KEY, title, csv_url=page.api_url("course-content", extra), last_updated=figures["computed_at"],
                  back_url=back)
    last_day = figures["end_date"] - dt.timedelta(days=1)
    panel.notes.append(_("Distinct learners from {start} to {end} (UTC) who viewed a page or block of each part, "
                         "played one of its videos, or submitted one of its problems.").format(
                             start=figures["start_date"].isoformat(), end=last_day.isoformat()))
    if page.start is None and page.end is None:
        panel.notes.append(_("Without dates, the last {days} days are shown.").format(days=api_content.DEFAULT_DAYS))
    panel.notes.append(_("Shares are of the {count} learners enrolled on {day}.").format(
        count=num(figures["enrolled"]).text, day=last_day.isoformat()))
    parts = figures["parts"]
    if not parts:
        panel.empty = _("The course outline is not available, or it has no parts here.")
        return panel
    labels = _labels()
    fields = list(labels)
    names = [part["display_name"] for part in parts]
    series = [charts.Series(labels[field], [part[field] for part in parts], colour)
              for field, colour in zip(fields, (4, 0, 2), strict=True)]
    axis = charts.Axis(names if len(parts) <= 8 else [str(i + 1) for i in range(len(parts))])
    level = _level_names()[figures["level"]]
    panel.chart = charts.bars(_("Learners per {level}").format(level=level.lower()), axis, series, stacked=False)
    panel.legend = [(s.name, s.colour) for s in series]
    columns = ["#", level]
    for field in fields:
        columns += [labels[field], _("{measure} (share)").format(measure=labels[field])]
    panel.table = Table(
        _("Learners per {level}, in course order").format(level=level.lower()), columns,
        [[Cell(str(i + 1)), Cell(name, href=_drill(page, figures["level"], part["block_id"])),
          *[cell for field in fields for cell in (num(part[field]), share(part[field], figures["enrolled"]))]]
         for i, (part, name) in enumerate(zip(parts, names, strict=True))],
    )
    return panel


def _drill(page: Any, level: str, block_id: str) -> str:
    """The link one level down from a part (none from a unit)."""
    if level == "chapter":
        return page.link(KEY, **{SECTION: block_id, SUBSECTION: None})
    if level == "sequential":
        return page.link(KEY, **{SUBSECTION: block_id})
    return ""
