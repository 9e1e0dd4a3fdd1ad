"""Engagement by content: per section, subsection or unit, the distinct learners who viewed it, played one
of its videos, submitted one of its problems, over a range of days, and their share of the enrolled.

One level of the outline at a time, as the page drills: the sections, the subsections of
a section, or the units of a subsection (``parent``). The counts are read from the facts
at request time (``metrics.content_engagement`` says why); the outline comes from the LMS
(``lms.courses.course_outline``) and names the parts in course order, parts nobody
visited included (as zeros).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from openedx_analytics import conf
from openedx_analytics.lms import courses, host
from openedx_analytics.lms.outline_places import LEVELS, places_in
from openedx_analytics.metrics.content_engagement import learners_by_part
from openedx_analytics.models import ContentActivityFact, EnrollmentDay
from openedx_analytics.pipeline.envelope import parse_course_id

#: Days a range covers when none is given: the last four weeks, today included.
DEFAULT_DAYS = 28
#: The figures of each part: (field, the fact kind counted).
FIELDS = (("viewed", ContentActivityFact.ANY), ("played_video", ContentActivityFact.VIDEO),
          ("attempted_problem", ContentActivityFact.PROBLEM))


class UnknownPart(ValueError):
    """``parent`` is not a section or subsection of the course's outline."""


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The range shown without dates: ``DEFAULT_DAYS`` days up to and including today (UTC)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today + dt.timedelta(days=1)


def range_of(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """``start``/``end`` with the missing ones filled: the default range's end, or ``DEFAULT_DAYS`` around."""
    default_start, default_end = default_range()
    if start is None and end is None:
        return default_start, default_end
    if end is None:
        return start, max(default_end, start + dt.timedelta(days=1))
    if start is None:
        return end - dt.timedelta(days=DEFAULT_DAYS), end
    return start, end


def enrolled_on(course_id: str, day: dt.date) -> int | None:
    """Learners enrolled at the end of ``day`` (the last day with figures up to it; None before the first)."""
    return (EnrollmentDay.objects.using(conf.analytics_db()).filter(course_id=course_id, date__lte=day)
            .order_by("-date").values_list("count", flat=True).first())


def _outline(course_id: str) -> dict[str, dict[str, Any]]:
    try:
        return courses.course_outline(course_id)
    except host.NotAvailable:
        return {}


def get_engagement_by_content(course_id: Any, start: dt.date | None = None, end: dt.date | None = None,
                              parent: str | None = None,
                              outline: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The parts one level below ``parent`` (the sections when None) with their learners in [start, end).

    Returns ``course_id``, ``start_date``, ``end_date`` (the range used: without dates, the
    last ``DEFAULT_DAYS`` days), ``parent``, ``level`` (``chapter``, ``sequential`` or
    ``vertical``), ``enrolled`` (learners enrolled at the end of the range's last day) and
    ``parts``: per part in course order ``block_id``, ``display_name``, ``viewed``,
    ``played_video``, ``attempted_problem`` and each divided by ``enrolled``
    (``viewed_share``...; None when nobody is enrolled). ``computed_at`` says when the
    counts were read (they are read from the facts at each request). ``UnknownPart`` when
    ``parent`` is not a section or subsection of the course. ``outline`` is the course's
    outline when the caller has read it already.
    """
    course = parse_course_id(str(course_id))
    start, end = range_of(start, end)
    outline = _outline(course) if outline is None else outline
    places = places_in(outline)
    if parent:
        held = places.get(parent, ())
        kind = (outline.get(parent) or {}).get("block_type")
        if kind not in LEVELS[:-1] or not held or held[-1] != parent:
            raise UnknownPart(parent)
        level = LEVELS[LEVELS.index(kind) + 1]
        depth = len(held)
        children = [block for block, info in outline.items() if info.get("block_type") == level
                    and len(places.get(block, ())) == depth + 1 and places[block][depth - 1] == parent]
    else:
        level = LEVELS[0]
        children = [block for block, info in outline.items() if info.get("block_type") == level]
    children.sort(key=lambda block: outline[block].get("position", 0))
    counts = learners_by_part(course, children, start, end, conf.analytics_db())
    enrolled = enrolled_on(course, end - dt.timedelta(days=1))
    parts = []
    for block in children:
        part: dict[str, Any] = {"block_id": block, "display_name": outline[block].get("display_name") or block}
        for name, kind in FIELDS:
            part[name] = counts.get((block, kind), 0)
        for name, _kind in FIELDS:
            part[f"{name}_share"] = round(part[name] / enrolled, 4) if enrolled else None
        parts.append(part)
    return {
        "course_id": course, "start_date": start, "end_date": end, "parent": parent or None, "level": level,
        "enrolled": enrolled or 0, "parts": parts, "computed_at": dt.datetime.now(dt.timezone.utc),
    }
