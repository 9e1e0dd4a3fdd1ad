"""Charts drawn on the server as SVG: no JavaScript, no CDN, nothing inline a strict CSP would block.

Every chart is a plain ``<svg>`` whose shapes carry CSS classes only (``oa-s0``..``oa-s7``
pick the colour-blind-safe Okabe-Ito palette in ``dashboard.css``); no ``style``
attribute, no ``<style>`` element, no script. Each shape has a ``<title>`` (a native
tooltip and a screen-reader label), and the whole chart is ``role="img"`` with a label;
the data table beside each chart carries the same numbers for everyone.

The functions are pure: values in, markup out (every text escaped), so they are tested
without a database and are fast enough for a year of daily rows.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape  # the standard library's: Django's wraps it in a lazy-string check

from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 12, 44  # RIGHT leaves room for a centred last label
#: Roughly how wide one character of an axis label is, in viewBox units (11px text).
CHAR_WIDTH = 6.5
#: How many palette classes ``dashboard.css`` defines (``oa-s0`` .. ``oa-s7``).
PALETTE_SIZE = 8


@dataclass
class Series:
    """One named row of values, drawn in palette colour ``colour`` (an index into the palette).

    Only ``lines`` takes a missing value (None): a point it cannot draw, such as a share of nobody.
    """

    name: str
    values: Sequence[float | None]
    colour: int = 0


@dataclass
class Axis:
    """How the category axis is labelled: a label per category, and which ones are partial."""

    labels: Sequence[str]
    partial: Sequence[bool] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n that is >= ``value`` (so axis ticks are round numbers)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def axis_top(value: float, percent: bool = False) -> float:
    """The top of a 4-step y axis: 4 x a round step, whole numbers when counting learners."""
    wanted = value / 4 if value > 0 else 0.0025
    power = 10 ** math.floor(math.log10(wanted))
    for factor in (1, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * power
        if step >= wanted and (percent or step >= 1 and float(step).is_integer()):
            return step * 4
    return max(math.ceil(wanted), 1) * 4.0  # counts below one learner a step


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tick_text(value: float, percent: bool) -> str:
    if percent:
        return f"{_fmt(value * 100)}%"
    if value >= 1_000_000:
        return f"{_fmt(value / 1_000_000)}M"
    if value >= 1_000:
        return f"{_fmt(value / 1_000)}k"
    return _fmt(value)


def _frame(label: str, body: list[str], top: float, percent: bool, height: int = HEIGHT) -> SafeString:
    """The SVG element with its y axis (5 ticks up to ``top``) around ``body``."""
    plot_h = height - TOP - BOTTOM
    parts = [f'<svg class="oa-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>']
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="oa-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="oa-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(_tick_text(value, percent))}</text>")
    parts.extend(body)
    parts.append(f'<line class="oa-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _category_labels(axis: Axis, x_of: Callable[[int], float], height: int = HEIGHT) -> list[str]:
    """At most ~8 labels under the plot, evenly spread, always the first and the last."""
    count = len(axis.labels)
    if not count:
        return []
    longest = max(len(label) for label in axis.labels)
    step = max(1, math.ceil(count / (12 if longest <= 6 else 8)))
    wanted = sorted(set(range(0, count, step)) | {count - 1})
    if len(wanted) > 2 and wanted[-1] - wanted[-2] < step:  # the last label would crowd the one before
        wanted.pop(-2)
    y = height - BOTTOM + 16
    room = (x_of(wanted[1]) - x_of(wanted[0])) if len(wanted) > 1 else WIDTH - LEFT - RIGHT
    fits = max(int(room / CHAR_WIDTH) - 1, 3)  # characters a label may take before it meets the next

    def short(text: str) -> str:
        return text if len(text) <= fits else text[: fits - 1] + "\u2026"

    return [f'<text class="oa-tick" x="{x_of(i):.1f}" y="{y}" text-anchor="middle">{escape(short(axis.labels[i]))}'
            f"</text>" for i in wanted]


def _tooltip(label: str, series: Sequence[Series], i: int, percent: bool) -> str:
    values = ", ".join(f"{s.name}: {_value_text(s.values[i], percent)}" for s in series)
    return escape(f"{label}: {values}")


def _value_text(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{value:,.0f}"


@dataclass
class Marker:
    """A point of the category axis to mark with a vertical line and a short label (``text``, ``title`` on hover)."""

    index: int
    text: str
    title: str = ""


def _marker(marker: Marker, x: float, plot_h: float) -> str:
    """A vertical line at ``x`` over the plot, labelled at its top (to its left near the right edge)."""
    right = x > LEFT + (WIDTH - LEFT - RIGHT) * 0.6
    tx, anchor = (x - 4, "end") if right else (x + 4, "start")
    return (f'<line class="oa-marker-line" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}">'
            f"<title>{escape(marker.title or marker.text)}</title></line>"
            f'<text class="oa-tick oa-marker-label" x="{tx:.1f}" y="{TOP + 10}" text-anchor="{anchor}">'
            f"{escape(marker.text)}</text>")


def bars(label: str, axis: Axis, series: Sequence[Series], stacked: bool = True, percent: bool = False,
         marker: Marker | None = None) -> SafeString:
    """Vertical bars per category: stacked (parts of a whole) or side by side (to compare).

    Partial categories (today, this week) get the ``oa-partial`` class: drawn lighter.
    ``marker`` draws a labelled vertical line through one category (a video's end mark).
    """
    count = len(axis.labels)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    if stacked:
        top = max((sum(s.values[i] for s in series) for i in range(count)), default=0)
    else:
        top = max((max(s.values) for s in series if s.values), default=0)
    top = axis_top(top, percent)
    slot = plot_w / max(count, 1)
    gap = slot * 0.15 if slot > 3 else 0
    body: list[str] = []
    for i in range(count):
        partial = " oa-partial" if i < len(axis.partial) and axis.partial[i] else ""
        x0 = LEFT + slot * i + gap / 2
        width = slot - gap
        base = 0.0
        body.append(f"<g><title>{_tooltip(axis.labels[i], series, i, percent)}</title>")
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / top
            if stacked:
                y = TOP + plot_h - plot_h * base / top - h
                x, w = x0, width
                base += value
            else:
                w = width / len(series)
                x, y = x0 + w * j, TOP + plot_h - h
            body.append(f'<rect class="oa-s{s.colour % PALETTE_SIZE}{partial}" x="{x:.2f}" y="{y:.2f}" '
                        f'width="{max(w, 0.5):.2f}" height="{h:.2f}"/>')
        body.append("</g>")
    if marker is not None and 0 <= marker.index < count:
        body.append(_marker(marker, LEFT + slot * (marker.index + 0.5), plot_h))
    body.extend(_category_labels(axis, lambda i: LEFT + slot * (i + 0.5)))
    return _frame(label, body, top, percent)


def lines(label: str, axis: Axis, series: Sequence[Series], percent: bool = False, partial_label: str = ""
          ) -> SafeString:
    """One line per series over the categories (time), with a dot per point.

    The partial points at the end (this week, today: still being counted) are drawn apart, so
    a week that has only begun is not read as a collapse: the line to them is greyed, their
    dots hollow, their stretch of the plot shaded and labelled ``partial_label`` ("so far"),
    which their tooltips carry too. A value of None (a share of a period when nobody was
    enrolled) has no point: the line breaks there rather than drop to zero.
    """
    count = len(axis.labels)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max((v for s in series for v in s.values if v is not None), default=0)
    top = axis_top(top, percent)

    def x_of(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    partial = [i < len(axis.partial) and bool(axis.partial[i]) for i in range(count)]
    first_partial = next((i for i in range(count) if partial[i] and all(partial[i:])), count)
    body: list[str] = []
    if first_partial < count:
        x0 = (x_of(first_partial - 1) + x_of(first_partial)) / 2 if first_partial > 0 else LEFT
        x1 = WIDTH - RIGHT
        tip = escape(f"{axis.labels[first_partial]}: {partial_label}" if partial_label else axis.labels[first_partial])
        body.append(f'<rect class="oa-partial-zone" x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 0):.1f}" '
                    f'height="{plot_h}"><title>{tip}</title></rect>')
        if partial_label:
            body.append(f'<text class="oa-tick oa-partial-label" x="{x1 - 2:.1f}" y="{TOP + 10}" '
                        f'text-anchor="end">{escape(partial_label)}</text>')

    def label_of(i: int) -> str:
        return f"{axis.labels[i]} ({partial_label})" if partial[i] and partial_label else axis.labels[i]

    def runs(values: Sequence[float | None], indices: range) -> list[str]:
        """The points of ``indices`` as polyline point lists, one per stretch without a missing value."""
        out, run = [], []
        for i in indices:
            if values[i] is None:
                out, run = out + [" ".join(run)] if run else out, []
            else:
                run.append(f"{x_of(i):.1f},{y_of(values[i]):.1f}")
        return out + [" ".join(run)] if run else out

    dots = count <= 120
    for j, s in enumerate(series):
        colour = f"oa-s{s.colour % PALETTE_SIZE}"
        for points in runs(s.values, range(first_partial)):
            body.append(f'<polyline class="oa-line oa-line{j % 4} {colour}" points="{points}"/>')
        for points in runs(s.values, range(max(first_partial - 1, 0), count)) if first_partial < count else []:
            body.append(f'<polyline class="oa-line oa-line{j % 4} oa-line-partial {colour}" points="{points}"/>')
        if dots:
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                hollow = " oa-partial" if partial[i] else ""
                body.append(f'<circle class="oa-dot {colour}{hollow}" cx="{x_of(i):.1f}" '
                            f'cy="{y_of(v):.1f}" r="3"><title>'
                            f"{escape(f'{label_of(i)}: {s.name}: {_value_text(v, percent)}')}</title></circle>")
    body.extend(_category_labels(axis, x_of))
    return _frame(label, body, top, percent)


def hbars(label: str, labels: Sequence[str], values: Sequence[float], highlight: Sequence[bool],
          rest: tuple[str, str, str] | None = None) -> SafeString:
    """Horizontal bars, one per label (answers of a problem part); highlighted ones (correct) in colour 2.

    ``rest`` (label, value text, full description) adds a last row of text without a bar: the
    answers the bars leave out, whose sum would dwarf the bars if it were drawn to scale.
    """
    row = 26
    left = 220
    height = TOP + row * max(len(labels) + (rest is not None), 1) + 24
    top = nice_ceiling(max(values, default=0))
    plot_w = WIDTH - left - RIGHT - 60  # room for the value after the longest bar
    body = [f'<svg class="oa-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>']
    for i, (text, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + row * i
        w = plot_w * value / top
        colour = 2 if i < len(highlight) and highlight[i] else 0
        short = text if len(text) <= 32 else text[:31] + "\u2026"
        body.append(f'<g><title>{escape(f"{text}: {value:,.0f}")}</title>'
                    f'<text class="oa-tick" x="{left - 6}" y="{y + 17}" text-anchor="end">{escape(short)}</text>'
                    f'<rect class="oa-s{colour}" x="{left}" y="{y + 4}" width="{max(w, 0.5):.2f}" height="{row - 8}"/>'
                    f'<text class="oa-tick" x="{left + w + 4:.2f}" y="{y + 17}">{value:,.0f}</text></g>')
    if rest is not None:
        y = TOP + row * len(labels)
        name, value_text, description = rest
        body.append(f'<g class="oa-rest"><title>{escape(description)}</title>'
                    f'<text class="oa-tick" x="{left - 6}" y="{y + 17}" text-anchor="end">{escape(name)}</text>'
                    f'<text class="oa-tick" x="{left + 4}" y="{y + 17}">{escape(value_text)}</text></g>')
    body.append("</svg>")
    return mark_safe("".join(body))  # noqa: S308 - every interpolated text is escaped above


def areas(label: str, axis: Axis, series: Sequence[Series], partial_label: str = "partial") -> SafeString:
    """Stacked areas over time (a long daily series): one shape per series instead of a bar per day.

    A year of days as bars would be over a thousand shapes; the data table beside the chart
    holds every day's numbers. Partial days at the end are shaded with ``oa-partial-zone``.
    """
    count = len(axis.labels)
    if count < 2:
        return bars(label, axis, series, stacked=True)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = axis_top(max(sum(s.values[i] for s in series) for i in range(count)))

    def x_of(i: int) -> float:
        return LEFT + plot_w * i / (count - 1)

    def y_of(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    body: list[str] = []
    base = [0.0] * count
    for s in series:
        upper = [base[i] + s.values[i] for i in range(count)]
        points = [f"{x_of(i):.1f},{y_of(upper[i]):.1f}" for i in range(count)]
        points += [f"{x_of(i):.1f},{y_of(base[i]):.1f}" for i in reversed(range(count))]
        body.append(f'<polygon class="oa-area oa-s{s.colour % PALETTE_SIZE}" points="{" ".join(points)}">'
                    f"<title>{escape(s.name)}</title></polygon>")
        base = upper
    partial = [i for i in range(count) if i < len(axis.partial) and axis.partial[i]]
    if partial:
        x0 = x_of(max(partial[0] - 1, 0))
        tip = escape(f"{axis.labels[partial[0]]}: {partial_label}")
        body.append(f'<rect class="oa-partial-zone" x="{x0:.1f}" y="{TOP}" width="{x_of(count - 1) - x0:.1f}" '
                    f'height="{plot_h}"><title>{tip}</title></rect>')
    body.extend(_category_labels(axis, x_of))
    return _frame(label, body, top, False)


def with_marks(chart: SafeString, y_label: str = "", mark_at: float | None = None, mark_label: str = "",
               categories: int = 0) -> SafeString:
    """A ``bars`` chart with a y-axis title and a dashed vertical mark (the passing grade) added on top.

    ``mark_at`` is a position on the category axis counted in categories from the left edge
    (2.5: halfway through the third bar), drawn only when it falls inside the plot; the line
    carries its own ``<title>`` (not a category's: no ``<g>``) and a short text at its top.
    Both are CSS-classed SVG only.
    """
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    extra: list[str] = []
    if y_label:
        middle = TOP + plot_h / 2
        extra.append(f'<text class="oa-axis-label" x="14" y="{middle:.1f}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>')
    if mark_at is not None and categories and 0 <= mark_at <= categories:
        x = LEFT + plot_w * mark_at / categories
        extra.append(f'<line class="oa-mark-line" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}">'
                     f'<title>{escape(mark_label)}</title></line>'
                     f'<text class="oa-mark-text" x="{x + 4:.1f}" y="{TOP + 10}">{escape(mark_label)}</text>')
    text = str(chart)
    return mark_safe(text[: -len("</svg>")] + "".join(extra) + "</svg>")  # noqa: S308 - texts escaped above
