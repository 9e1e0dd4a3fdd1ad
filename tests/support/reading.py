"""Reading the analytics page the way a person does: the numbers in its cards, tables and charts.

The page draws its charts as SVG with a ``<title>`` per bar group, point or answer (what a
pointer shows); tables are plain HTML tables. These helpers turn both into numbers, so the
tests can compare them with what the REST API answers.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

NUMBER = r"[\d,]+(?:\.\d+)?%?"


def number(text: str) -> float:
    """A number as the page writes it (``1,234``, ``12.5%``, a dash for none) as a float (None: -1)."""
    text = text.strip().replace("\u2212", "-")
    if text in ("\u2013", "-", ""):
        return -1.0
    return float(text.rstrip("%").replace(",", ""))


def table(page: Any, selector: str) -> list[dict[str, str]]:
    """A data table's rows as {column header: cell text}; a linked cell adds ``<header> href``."""
    return page.eval_on_selector(selector, """table => {
        const columns = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
        return [...table.querySelectorAll('tbody tr')].map(tr => {
            const row = {};
            [...tr.children].forEach((cell, i) => {
                row[columns[i]] = cell.textContent.trim();
                const link = cell.querySelector('a');
                if (link) row[columns[i] + ' href'] = link.getAttribute('href');
            });
            return row;
        });
    }""")


def query_value(href: str, name: str) -> str:
    """One query parameter of a link."""
    return parse_qs(urlsplit(href).query)[name][0]


def chart(page: Any, panel: str) -> dict[str, dict[str, float]]:
    """The values a panel's chart shows: {category label: {series name: value}}.

    Bars carry one title per category (``label: A: 1, B: 2``), line points one per value
    (``label: A: 1``), horizontal answer bars one per answer (``answer: 12``, series "").
    """
    legend, titles = page.eval_on_selector(f"section#{panel}", """section => [
        [...section.querySelectorAll('.oa-legend li')].map(li => li.textContent.trim()),
        [...section.querySelectorAll('svg.oa-chart g > title, svg.oa-chart circle > title')]
            .map(t => t.textContent)]""")
    values: dict[str, dict[str, float]] = {}
    if legend:
        grouped = re.compile("^(.*): " + ", ".join(f"{re.escape(name)}: ({NUMBER})" for name in legend) + "$")
        point = re.compile("^(.*): (" + "|".join(re.escape(name) for name in legend) + f"): ({NUMBER})$")
    titles = [title.replace(" (so far): ", ": ", 1) for title in titles]  # the period still being counted
    for title in titles:
        if legend and (match := grouped.match(title)):
            values[match.group(1)] = {name: number(v) for name, v in zip(legend, match.groups()[1:], strict=True)}
        elif legend and (match := point.match(title)):
            values.setdefault(match.group(1), {})[match.group(2)] = number(match.group(3))
        else:
            label, _, value = title.rpartition(": ")
            values[label] = {"": number(value)}
    return values
