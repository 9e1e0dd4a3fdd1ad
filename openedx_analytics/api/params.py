"""Read the parameters every face takes (course ids, date ranges, granularity) by one set of rules.

The REST API and the analytics page both accept them from people and programs; parsed
here, below both, they are read the same way and fail with the same words. A bad value
raises ``InvalidParameter`` naming the parameter: the REST API answers it with a 400,
the page shows it and carries on with the default.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from openedx_analytics.pipeline.envelope import parse_course_id
from openedx_analytics.pipeline.rejected import Rejected

DATE_PARAMS = ("start_date", "end_date")
GRANULARITIES = ("week", "day")


class InvalidParameter(Exception):
    """A parameter's value cannot be read; ``name`` is the parameter, ``message`` says what is wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def course_id(raw: str, name: str = "course_id") -> str:
    """The canonical text of a course id, or ``InvalidParameter`` naming ``name``."""
    try:
        return parse_course_id(raw)
    except Rejected:
        raise InvalidParameter(name, f"Not a course id: {raw[:200]!r}.") from None


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


def date_range(query: Mapping[str, str]) -> tuple[dt.date | None, dt.date | None]:
    """``start_date`` (inclusive) and ``end_date`` (exclusive) of ``query``, each ``YYYY-MM-DD`` or absent."""
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
        raise InvalidParameter("end_date", "end_date (exclusive) must be after start_date.")
    return start, end


def _bad_date(name: str, raw: str) -> dt.date:
    raise InvalidParameter(name, f"Use YYYY-MM-DD, not {raw[:50]!r}.")


def granularity(raw: str | None) -> str:
    """``week`` (the default, for an absent or empty value) or ``day``."""
    value = raw or "week"
    if value not in GRANULARITIES:
        raise InvalidParameter("granularity", f"Use one of {', '.join(GRANULARITIES)}, not {value[:50]!r}.")
    return value
