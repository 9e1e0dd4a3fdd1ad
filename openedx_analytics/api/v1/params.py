"""The REST API's reading of path and query parameters: the Python API's rules (``api.params``), as 400s.

A bad value is a 400 whose body names the parameter (``{"end_date": ["..."]}``); the rules
and their words live in ``openedx_analytics.api.params``, shared with the analytics page.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from openedx_analytics.api import params as rules

DATE_PARAMS = rules.DATE_PARAMS
GRANULARITIES = rules.GRANULARITIES

T = TypeVar("T")


def _as_400(read: Callable[[], T]) -> T:
    """``read()``, with an ``InvalidParameter`` turned into the 400 that names the parameter."""
    try:
        return read()
    except rules.InvalidParameter as invalid:
        raise ValidationError({invalid.name: [invalid.message]}) from None


def course_ids(raw: str | None) -> list[str] | None:
    """A comma-separated ``course_ids`` filter (None when absent)."""
    return _as_400(lambda: rules.course_ids(raw))


def date_range(query: QueryDict) -> tuple[dt.date | None, dt.date | None]:
    """``start_date`` (inclusive) and ``end_date`` (exclusive), each ``YYYY-MM-DD`` or absent."""
    return _as_400(lambda: rules.date_range(query))


def granularity(query: QueryDict) -> str:
    """``week`` (default) or ``day``."""
    return _as_400(lambda: rules.granularity(query.get("granularity")))


def refuse(query: QueryDict, names: Iterable[str], why: str) -> None:
    """A 400 for parameters this endpoint does not take (rather than silently ignoring a filter)."""
    for name in names:
        if name in query:
            raise ValidationError({name: [f"Not supported here: {why}"]})
