"""Where each block of a course sits in its outline: its unit, subsection and section, by usage key.

Engagement by content counts learners per outline part. Storing an event, the ingest
asks which parts hold its block (``places``); the answer also bounds what a learner can
store: a block that is not in the course's outline holds nothing, so invented block ids
(of this course or another) add no row. The outline is read through
``courses.course_outline`` (the LMS's cached block structure) and remembered per process
for ``PLACES_TTL_SECONDS``, for at most ``PLACES_CACHE_COURSES`` courses (oldest dropped
first): a batch costs a dictionary look-up per event, and a unit published a minute ago is
counted within ``PLACES_TTL_SECONDS``.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from time import monotonic
from typing import Any

from openedx_analytics.lms.courses import course_outline
from openedx_analytics.lms.outline import SECTION_TYPE, SUBSECTION_TYPE, UNIT_TYPE

#: The outline levels engagement by content counts, from the top.
LEVELS = (SECTION_TYPE, SUBSECTION_TYPE, UNIT_TYPE)
#: Seconds a course's places are used before the outline is read again.
PLACES_TTL_SECONDS = 60.0
#: Courses whose places are remembered at once (a worker serves a few busy courses at a time).
PLACES_CACHE_COURSES = 64

#: usage key -> the usage keys of the outline parts holding it (itself included when it is one), top first.
Places = dict[str, tuple[str, ...]]


def places_in(outline: Mapping[str, Mapping[str, Any]]) -> Places:
    """The parts holding each block of ``outline`` (``course_outline``'s value): its section, subsection and
    unit as the outline places it (``section_id``, ``subsection_id``, ``unit_id``), and the block itself
    when it is one of them; a block outside any part (the course root) holds none."""
    places: Places = {}
    for usage_key, info in outline.items():
        own = usage_key if info.get("block_type") in LEVELS else ""
        held = tuple(part for part in (info.get("section_id"), info.get("subsection_id"), info.get("unit_id"), own)
                     if part)
        if held:
            places[usage_key] = held
    return places


_lock = threading.Lock()
_cache: OrderedDict[str, tuple[float, Places]] = OrderedDict()


def places(course_id: str) -> Places:
    """The parts holding each block of the course's outline (empty when the LMS has no outline for it).

    Cached per process (see the module's docstring); ``NotAvailable`` where there is
    neither the LMS nor a stand-in app.
    """
    now = monotonic()
    with _lock:
        cached = _cache.get(course_id)
        if cached is not None and now - cached[0] < PLACES_TTL_SECONDS:
            _cache.move_to_end(course_id)
            return cached[1]
    found = places_in(course_outline(course_id))
    with _lock:
        _cache[course_id] = (now, found)
        _cache.move_to_end(course_id)
        while len(_cache) > PLACES_CACHE_COURSES:
            _cache.popitem(last=False)
    return found


def forget_places() -> None:
    """Forget every remembered outline (tests, and after editing an outline by hand)."""
    with _lock:
        _cache.clear()
