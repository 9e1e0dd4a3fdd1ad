"""Figures only the Insights-compatible API reads: learners' profiles counted without suppression, the
learners who opened a subsection over the whole history.

Insights' data API returned its demographic counts whole, every cell however small, to
whoever held a key; the compatible API does the same (to the roles that may read the
course), so a dashboard built on it reads the numbers it always read. The counts come from
the same cached read of the LMS's profiles as the Learners panel (``api.learners``), mapped
to the same codes; only the small-cell suppression, which that panel applies, is not.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

from openedx_analytics import conf
from openedx_analytics.api import learners
from openedx_analytics.metrics.content_engagement import learners_by_part
from openedx_analytics.models import ContentActivityFact
from openedx_analytics.pipeline.envelope import parse_course_id

#: The whole history, as a day range (``learners_by_part`` takes one).
_EVER = (dt.date(1970, 1, 1), dt.date(9999, 1, 1))


def _mapped(raw: dict[Any, int], codes: dict[str, str]) -> dict[Hashable, int]:
    out: dict[Hashable, int] = {}
    for code, count in raw.items():
        if code in codes:
            out[codes[code]] = out.get(codes[code], 0) + count
    return out


def profile_counts(course_id: Any) -> dict[str, Any]:
    """Currently enrolled learners of ``course_id`` per profile value, unsuppressed, as of ``computed_at``.

    Returns ``enrolled``, ``computed_at`` (None outside any LMS), ``birth_year`` (year to
    learners), ``education`` (Insights' level codes to learners), ``gender`` (female, male,
    other), ``country`` (ISO alpha-2 to learners); each with ``unknown``: enrolled learners
    whose profile gives no usable value (or who have no profile).
    """
    course = parse_course_id(str(course_id))
    counts, computed_at = learners._counts(course)
    enrolled = counts["enrolled"]
    years = {year: n for year, n in counts["year_of_birth"].items() if isinstance(year, int)}
    education = _mapped(counts["level_of_education"], learners.EDUCATION_CODES)
    gender = _mapped(counts["gender"], learners.GENDER_CODES)
    country: dict[Hashable, int] = {}
    for code, n in counts["country"].items():
        if isinstance(code, str) and len(code) == 2 and code.isalpha():
            country[code.upper()] = country.get(code.upper(), 0) + n
    return {
        "course_id": course, "enrolled": enrolled, "computed_at": computed_at,
        **{name: {"values": values, "unknown": learners._unknown(enrolled, values)}
           for name, values in (("birth_year", years), ("education", education), ("gender", gender),
                                ("country", country))},
    }


def subsection_openers(course_id: Any, subsection_id: str) -> int:
    """Distinct learners who ever viewed something in the subsection (or section, or unit) ``subsection_id``."""
    course = parse_course_id(str(course_id))
    counts = learners_by_part(course, [subsection_id], *_EVER, conf.analytics_db())
    return counts.get((subsection_id, ContentActivityFact.ANY), 0)
