"""One problem's answers on the page: the most given as bars, the rest as one row, every answer in a paged table.

Learners type free text, so one problem part can hold tens of thousands of distinct
answers. Drawn whole, 20,000 answers made a 6.5 MB page of 20,000 bars. Each part's chart
shows its ``ANSWER_CHART_BARS`` most given answers and one row for all the others (their
number and learners, as text: drawn to scale their bar would flatten the others); its
data table shows ``ANSWER_TABLE_ROWS`` answers a page, paged on the server with links
(``answers_part``, ``answers_page``) that keep the page's other parameters, so it works
without JavaScript. The CSV link gives the whole distribution. The database returns only
the rows shown (``api.answer_rows`` sliced) and one summary row per part.
"""
from __future__ import annotations

from typing import Any, Protocol

from django.http import QueryDict
from django.utils.translation import gettext as _

from openedx_analytics import api
from openedx_analytics.dashboard import charts
from openedx_analytics.dashboard.tables import Cell, Pager, Panel, Table, num, number_text

#: Bars of a part's chart: its most given answers, then one row of text for all the others.
ANSWER_CHART_BARS = 20
#: Answers per page of a part's data table.
ANSWER_TABLE_ROWS = 100
#: Parts of one problem shown on the page (each is a chart and a table); the CSV holds every part.
ANSWER_PARTS_SHOWN = 25
#: The page's query parameters: which part's table is paged, and to which page.
PART_PARAMETER = "answers_part"
PAGE_PARAMETER = "answers_page"


class PageState(Protocol):
    """What the answer panels read of the page (``content.Page``): course, query, reported errors, links."""

    course_id: str
    query: QueryDict
    errors: list[str]

    def link(self, anchor: str = "", **changes: str | None) -> str:
        """The page's URL with some parameters changed."""


def requested_page(query: QueryDict, part_id: str, errors: list[str]) -> int:
    """The table page the query asks for ``part_id`` (1 unless it names this part); a bad number is reported."""
    if query.get(PART_PARAMETER) != part_id:
        return 1
    text = query.get(PAGE_PARAMETER) or "1"
    if not text.isdigit() or int(text) < 1:
        errors.append(_("Answers page ignored: {page} is not a page number.").format(page=text[:20]))
        return 1
    return int(text)


def _label(row: dict[str, Any]) -> str:
    return row["answer_value"] + (f" [{row['variant']}]" if row["variant"] else "")


def _chart(title: str, part: dict[str, Any], top: list[dict[str, Any]]) -> Any:
    """The top answers as bars, and the others (if any) as one row of text: their number and learners."""
    values = [r["count"] for r in top]
    others = part["answers"] - len(top)
    rest = None
    if others > 0:
        answers, learners = number_text(others), number_text(part["learners"] - sum(values))
        rest = (_("{answers} other answers").format(answers=answers),
                _("{learners} learners").format(learners=learners),
                _("{answers} other answers ({learners} learners)").format(answers=answers, learners=learners))
    return charts.hbars(title, [_label(r) for r in top], values, [bool(r["correct"]) for r in top], rest)


def _pager(panels: PageState, anchor: str, part_id: str, page: int, pages: int, total: int) -> Pager:
    """The line under a paged table: its rows of ``total``, and links to the first, previous, next, last page."""
    first = (page - 1) * ANSWER_TABLE_ROWS + 1
    last = min(page * ANSWER_TABLE_ROWS, total)

    def to(number: int) -> str:
        return panels.link(anchor, **{PART_PARAMETER: part_id, PAGE_PARAMETER: str(number)})

    text = _("Answers {first} to {last} of {total}").format(
        first=number_text(first), last=number_text(last), total=number_text(total))
    return Pager(text, first_url=to(1) if page > 1 else "", previous_url=to(page - 1) if page > 1 else "",
                 next_url=to(page + 1) if page < pages else "", last_url=to(pages) if page < pages else "")


def part_panel(panels: PageState, panel: Panel, index: int, problem_id: str, part: dict[str, Any]) -> None:
    """Fill ``panel`` with one part's answers: chart of the top answers, a page of the table, its pager."""
    part_id = part["part_id"]
    rows = api.answer_rows(panels.course_id, problem_id, part_id)
    pages = max(-(-part["answers"] // ANSWER_TABLE_ROWS), 1)
    page = min(requested_page(panels.query, part_id, panels.errors), pages)
    shown = list(rows[(page - 1) * ANSWER_TABLE_ROWS:page * ANSWER_TABLE_ROWS])
    top = shown[:ANSWER_CHART_BARS] if page == 1 else list(rows[:ANSWER_CHART_BARS])
    label = _("Question {number}").format(number=index + 1)
    panel.subtitle = label
    panel.subtitle_title = _("Part id: {part}").format(part=part_id)
    panel.chart = _chart(_("Answers to {part}").format(part=label), part, top)
    panel.legend = [(_("Correct answer"), 2), (_("Other answers"), 0)]
    randomized = rows.exclude(variant="").exists()  # a Variant column only where the problem has variants
    panel.table = Table(
        _("Answers to {part}").format(part=label),
        [_("Answer"), _("Correct"), *([_("Variant")] if randomized else []), _("Learners")],
        [[Cell(r["answer_value"]), Cell(_("yes") if r["correct"] else _("no")),
          *([Cell(r["variant"] or "")] if randomized else []), num(r["count"])] for r in shown],
    )
    if pages > 1:
        panel.pager = _pager(panels, panel.key, part_id, page, pages, part["answers"])
        panel.table_open = page > 1
    if part["answers"] > ANSWER_CHART_BARS:
        panel.notes.append(_("The chart shows the {count} most given answers; the data table lists every "
                             "answer, {rows} a page, and the CSV holds them all.").format(
                                 count=ANSWER_CHART_BARS, rows=ANSWER_TABLE_ROWS))


def answer_panels(panels: PageState, base: Panel, problem_id: str, parts: list[dict[str, Any]]) -> list[Panel]:
    """A panel per answered part (``api.get_answer_parts``; ``base`` is the first), at most ``ANSWER_PARTS_SHOWN``."""
    if len(parts) > ANSWER_PARTS_SHOWN:
        base.notes.append(_("This problem has {count} answered parts; the first {shown} are shown here and "
                            "the CSV holds every part.").format(count=number_text(len(parts)),
                                                                shown=ANSWER_PARTS_SHOWN))
    shown = []
    for index, part in enumerate(parts[:ANSWER_PARTS_SHOWN]):
        panel = base if index == 0 else Panel(f"problem-detail-{index}", "")
        part_panel(panels, panel, index, problem_id, part)
        shown.append(panel)
    return shown
