"""The analytics page's building blocks: cells, data tables and panels, and numbers as the language writes them.

A year of daily rows is thousands of cells, so tables are written as HTML here rather
than looped over in a template, and number formatting looks the language's separators
up once a page (``language_numbers``) instead of once a number.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from html import escape  # the standard library's: Django's wraps it in a lazy-string check
from typing import Any

from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


@dataclass
class Cell:
    """One table cell: its text, an optional link, whether it is a number or marks a partial period."""

    text: str
    href: str = ""
    numeric: bool = False
    partial: bool = False


@dataclass
class Table:
    """An accessible data table: a caption, column headers and rows of cells (the first is the row header)."""

    caption: str
    columns: list[str]
    rows: list[list[Cell]]

    def html(self, table_id: str) -> SafeString:
        """The table as HTML: built here, not in a template loop, because a year of rows is thousands of cells."""
        out = [f'<table class="oa-table" id="{escape(table_id)}"><caption id="{escape(table_id)}-caption">'
               f'{escape(self.caption)}</caption><thead><tr>']
        out += [f'<th scope="col">{escape(column)}</th>' for column in self.columns]
        out.append("</tr></thead><tbody>")
        for row in self.rows:
            out.append("<tr>")
            for index, cell in enumerate(row):
                text = escape(cell.text)
                if cell.href:
                    text = f'<a href="{escape(cell.href)}">{text}</a>'
                if index == 0:
                    out.append(f'<th scope="row" class="oa-partial-row">{text}</th>' if cell.partial
                               else f'<th scope="row">{text}</th>')
                else:
                    out.append(f'<td class="oa-num">{text}</td>' if cell.numeric else f"<td>{text}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
        return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


@dataclass
class Pager:
    """Where a paged table is: which rows it shows, and links to the pages around (empty where there is none)."""

    text: str
    first_url: str = ""
    previous_url: str = ""
    next_url: str = ""
    last_url: str = ""


@dataclass
class Panel:
    """One chart of the page with everything around it."""

    key: str
    title: str
    subtitle: str = ""
    #: The subtitle's tooltip (``title``): an id people rarely need, kept within reach.
    subtitle_title: str = ""
    chart: SafeString | None = None
    legend: list[tuple[str, int]] = field(default_factory=list)
    table: Table | None = None
    csv_url: str = ""
    csv_label: str = ""
    #: A report about the panel's content to download (the problem response report), or "".
    report_url: str = ""
    last_updated: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    empty: str = ""
    #: What marks the periods still being counted on this panel's chart and table ("" for none;
    #: True for the words that fit any chart: rows marked partial).
    partial_note: str | bool = ""
    back_url: str = ""
    #: Where a paged table is, and whether its table opens unfolded (a page the reader chose).
    pager: Pager | None = None
    table_open: bool = False
    #: Whether the "last updated" and download line shows (False for a panel that only says why it is empty).
    meta: bool = True

    @property
    def open_table(self) -> bool:
        """Whether the data table shows unfolded: a short table, or a page of a long one the reader chose."""
        return self.table_open or (self.table is not None and len(self.table.rows) <= 12)

    @property
    def partial_text(self) -> str:
        """The note under the chart on the periods still being counted, in the words of its own chart."""
        if self.partial_note is True:
            return _("Rows marked (partial): today and the current week, still being counted.")
        return self.partial_note or ""

    @property
    def table_id(self) -> str:
        """The data table's id (its caption's and its summary's add ``-caption``, ``-summary``: they name its box)."""
        return f"oa-table-{self.key}"

    @property
    def table_html(self) -> SafeString:
        """The data table as HTML (empty without a table)."""
        return self.table.html(self.table_id) if self.table else mark_safe("")


#: The active language's (thousands, decimal) separators while one page is built.
_SEPARATORS: ContextVar[tuple[str, str] | None] = ContextVar("openedx_analytics_separators", default=None)


def separators() -> tuple[str, str]:
    """The active language's thousands and decimal separators."""
    return str(get_format("THOUSAND_SEPARATOR")), str(get_format("DECIMAL_SEPARATOR"))


def number_text(value: float, decimals: int = 0) -> str:
    """``value`` rounded to ``decimals`` places, thousands grouped, as the active language writes numbers.

    Django's ``number_format`` costs ~40 us a number (and cuts digits instead of rounding);
    a year of daily rows has thousands of cells, so the separators are looked up once a page.
    """
    raw = f"{value:,.{decimals}f}"
    group, decimal = _SEPARATORS.get(None) or separators()
    if group == "," and decimal == ".":
        return raw
    return raw.replace(",", "\0").replace(".", decimal).replace("\0", group)


def num(value: Any) -> Cell:
    """A right-aligned number cell."""
    if value is None:
        return Cell("\u2013", numeric=True)
    if isinstance(value, float) and not value.is_integer():
        return Cell(number_text(value, 2), numeric=True)
    return Cell(number_text(int(value)), numeric=True)


def share(part: int, whole: int) -> Cell:
    """``part`` as a percentage of ``whole`` (a dash when the whole is zero)."""
    if not whole:
        return Cell("\u2013", numeric=True)
    return Cell(f"{number_text(100 * part / whole, 1)}%", numeric=True)


@contextmanager
def language_numbers() -> Iterator[None]:
    """Within this block, numbers are written with the active language's separators, looked up once."""
    token = _SEPARATORS.set(separators())
    try:
        yield
    finally:
        _SEPARATORS.reset(token)
