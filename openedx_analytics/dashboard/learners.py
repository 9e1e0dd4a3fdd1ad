"""The learners view of the page: age, education, gender and country of the enrolled learners.

One panel per breakdown of ``api.learners.get_learners`` (already cleared of small cells):
a bar chart of the counts shown, the data table with bands first, the "unknown" row and a
CSV link to the REST API's breakdown. A hidden count reads "fewer than N" (under the
minimum) or "hidden" (hidden so that the total does not give a small one back), and is
drawn nowhere; shares divide by every enrolled learner, as the notes say.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openedx_analytics.api import learners as learners_api
from openedx_analytics.dashboard import charts, world
from openedx_analytics.dashboard.tables import Cell, Panel, Table, num, number_text
from openedx_analytics.privacy import small_cells

#: The page's ``view`` parameter that shows these panels instead of the activity ones.
VIEW = "learners"
TITLES = {"age": gettext_lazy("Learners: age"), "education": gettext_lazy("Learners: education"),
          "gender": gettext_lazy("Learners: gender"), "country": gettext_lazy("Learners: country")}


def _count(cell: dict[str, Any], minimum: int) -> Cell:
    if cell["suppressed"] == small_cells.SMALL:
        return Cell(_("fewer than {minimum}").format(minimum=minimum), numeric=True)
    if cell["suppressed"]:
        return Cell(_("hidden"), numeric=True)
    return num(cell["learners"])


def _share(cell: dict[str, Any]) -> Cell:
    if cell["share"] is None:
        return Cell("\u2013", numeric=True)
    return Cell(f"{number_text(100 * cell['share'], 1)}%", numeric=True)


def _panel(page: Any, learners: dict[str, Any], name: str) -> Panel:
    part = learners[name]
    minimum = learners["minimum_cell_size"]
    title = str(TITLES[name])
    panel = Panel(f"learners-{name}", title, csv_url=page.api_url("course-learners", {"breakdown": name}),
                  last_updated=learners["computed_at"])
    enrolled = learners["enrolled"]
    if not enrolled:
        panel.empty = _("No learners enrolled.")
        return panel
    unknown = part["unknown"]
    panel.notes.append(_("Learners enrolled now: {count}. Shares are of all of them, those who did not say "
                         "included.").format(count=num(enrolled).text))
    panel.notes.append(_("Unknown (not given in the profile): {count} ({share}).").format(
        count=_count(unknown, minimum).text, share=_share(unknown).text))
    if name == "age" and part.get("median") is not None:
        panel.notes.append(_("Median age of those who gave a year of birth: {age}.").format(
            age=number_text(part["median"], 1 if part["median"] % 1 else 0)))
    elif name == "age" and part.get("median_band"):
        band = next(c["label"] for c in part["bands"] if c["value"] == part["median_band"])
        panel.notes.append(_("Median age of those who gave a year of birth: in the band {band} (not shown exactly, "
                             "as it would tell how many learners some hidden ages have).").format(band=band))
    if name == "country":
        panel.notes.append(_("Country as learners give it in their profile (not where they connect from)."))
    every = [*part.get("bands", []), *part["values"], unknown]
    if any(c["suppressed"] for c in every):
        panel.notes.append(_("To protect learners, counts under {minimum} are shown as \"fewer than {minimum}\", "
                             "and some others are hidden so that the total cannot give them back.").format(
                                 minimum=minimum))
    shown = [c for c in part["values"] if c["learners"]]
    if name == "country" and part["values"]:
        panel.chart = world.world_map(_("Enrolled learners by country"),
                                      {c["value"]: c["learners"] for c in shown},
                                      {c["value"]: _count(c, minimum).text for c in part["values"] if c["suppressed"]})
        panel.legend = [(_("More learners: darker"), 4)]
    elif shown:
        chart = charts.bars(title, charts.Axis([c["label"] for c in shown]),
                            [charts.Series(_("Learners"), [c["learners"] for c in shown], 4)])
        panel.chart = charts.with_marks(chart, y_label=_("learners"))
        panel.legend = [(_("Learners"), 4)]
    rows = [[Cell(_("{band} (band)").format(band=c["label"])), _count(c, minimum), _share(c)]
            for c in part.get("bands", [])]
    rows += [[Cell(c["label"]), _count(c, minimum), _share(c)] for c in part["values"]]
    rows.append([Cell(_("Unknown")), _count(unknown, minimum), _share(unknown)])
    panel.table = Table(title, [_("Value"), _("Learners"), _("Share of enrolled")], rows)
    return panel


def panels(page: Any) -> list[Panel]:
    """The four learners panels of ``page``'s course."""
    learners = learners_api.get_learners(page.course_id)
    return [_panel(page, learners, name) for name in learners_api.BREAKDOWNS]
