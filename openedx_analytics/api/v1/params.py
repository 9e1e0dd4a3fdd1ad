"""Parse the REST API's path and query parameters; a bad value is a 400 that names the parameter."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from openedx_analytics.pipeline.envelope import parse_course_id
from openedx_analytics.pipeline.rejected import Rejected

DATE_PARAMS = ("start_date", "end_date")
GRANULARITIES = ("week", "day")


def course_id(raw: str, name: str = "course_id") -> str:
    """The canonical text of a course id, or a 400 naming ``name``."""
    try:
        return parse_course_id(raw)
    except Rejected:
        raise ValidationError({name: [f"Not a course id: {raw[:200]!r}."]}) from None


def course_text(raw: str) -> str:
    """Course-id text from a query string, with each space read as the ``+`` it was.

    A ``+`` typed into a query string unencoded (``?course_ids=course-v1:A+B+C``) arrives
    as a space (form encoding). Course keys hold no spaces, so a space inside one can only
    be such a ``+``; edges are trimmed first (``a, b`` lists).
    """
    return raw.strip().replace(" ", "+")


def course_ids(raw: str | None) -> list[str] | None:
    """A comma-separated ``course_ids`` filter (None when absent)."""
    if raw is None:
        return None
    return [course_id(course_text(part), "course_ids") for part in raw.split(",") if part.strip()]


def course_search(raw: str | None) -> str:
    """The ``search`` text (part of a course id, any case; empty when absent)."""
    return course_text(raw or "").lower()


def date_range(query: QueryDict) -> tuple[dt.date | None, dt.date | None]:
    """``start_date`` (inclusive) and ``end_date`` (exclusive), each ``YYYY-MM-DD`` or absent."""
    values: dict[str, dt.date | None] = {}
    for name in DATE_PARAMS:
        raw = query.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        try:
            values[name] = dt.date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name, raw)
        except ValueError:
            _bad_date(name, raw)
    start, end = values["start_date"], values["end_date"]
    if start and end and end <= start:
        raise ValidationError({"end_date": ["end_date (exclusive) must be after start_date."]})
    return start, end


def _bad_date(name: str, raw: str) -> dt.date:
    raise ValidationError({name: [f"Use YYYY-MM-DD, not {raw[:50]!r}."]})


def granularity(query: QueryDict) -> str:
    """``week`` (default) or ``day``."""
    value = query.get("granularity") or "week"
    if value not in GRANULARITIES:
        raise ValidationError({"granularity": [f"Use one of {', '.join(GRANULARITIES)}, not {value[:50]!r}."]})
    return value


def refuse(query: QueryDict, names: Iterable[str], why: str) -> None:
    """A 400 for parameters this endpoint does not take (rather than silently ignoring a filter)."""
    for name in names:
        if name in query:
            raise ValidationError({name: [f"Not supported here: {why}"]})
