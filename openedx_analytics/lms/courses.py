"""Courses as the LMS knows them: whether one exists (one or a batch, cached), its name, its outline.

``known_courses`` is the ingest's guard against invented courses: the course of a browser
event comes from the page URL the learner posts, so only courses with an LMS course
overview are stored. It asks the LMS once per batch for the ids it has not seen lately and
remembers answers in this process: known ids for ``KNOWN_TTL_SECONDS``, unknown ones for
the shorter ``UNKNOWN_TTL_SECONDS`` (a course created a minute ago is accepted soon after),
each in its own table of at most ``COURSE_CACHE_SIZE`` ids, oldest dropped first, so a flood
of invented ids costs one query per batch and never grows memory.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from time import monotonic
from typing import Any

from opaque_keys.edx.keys import CourseKey

from openedx_analytics.lms.host import NotAvailable, as_course_key, lms_available, lms_models, stand_in_models

log = logging.getLogger(__name__)


def course_exists(course_key: Any) -> bool:
    """Whether the LMS knows this very course: it has a course overview whose id is this one, byte for byte.

    A course id the LMS's database only matches in another case (``course-v1:org+X+1`` for
    ``course-v1:Org+X+1`` under MySQL's collations) is no course: roles are compared
    case-sensitively, so an org-wide role on ``org`` must never reach the ``Org`` course
    through it.
    """
    course_id = str(as_course_key(course_key))
    return course_id in _existing([course_id])


#: Seconds a course the LMS knows is taken as known without asking again.
KNOWN_TTL_SECONDS = 300.0
#: Seconds a course the LMS does not know is taken as unknown (short: new courses appear).
UNKNOWN_TTL_SECONDS = 60.0
#: Ids each of the two tables keeps at most (oldest answers dropped first).
COURSE_CACHE_SIZE = 10_000
#: Ids per query, so one batch of many distinct courses never builds an unbounded ``IN``.
QUERY_CHUNK = 500


class _Answers:
    """Course ids with the time the LMS last answered for them: at most ``size``, oldest first."""

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self._asked: OrderedDict[str, float] = OrderedDict()

    def fresh(self, course_id: str, now: float) -> bool:
        """Whether the answer for ``course_id`` is younger than the TTL (a stale one is forgotten)."""
        asked = self._asked.get(course_id)
        if asked is None:
            return False
        if now - asked < self.ttl:
            return True
        del self._asked[course_id]
        return False

    def remember(self, course_id: str, now: float) -> None:
        """Record an answer for ``course_id`` at ``now``, dropping the oldest beyond ``size``."""
        self._asked.pop(course_id, None)
        self._asked[course_id] = now
        while len(self._asked) > self.size:
            self._asked.popitem(last=False)

    def forget(self, course_id: str) -> None:
        """Drop any answer for ``course_id``."""
        self._asked.pop(course_id, None)

    def clear(self) -> None:
        """Drop every answer."""
        self._asked.clear()


_lock = threading.Lock()
_known = _Answers(KNOWN_TTL_SECONDS, COURSE_CACHE_SIZE)
_unknown = _Answers(UNKNOWN_TTL_SECONDS, COURSE_CACHE_SIZE)


def clear_known_courses() -> None:
    """Forget every cached answer (tests, and after changing the course list by hand)."""
    with _lock:
        _known.clear()
        _unknown.clear()


def _existing(course_ids: list[str]) -> set[str]:
    """Which of ``course_ids`` have a course overview, compared byte for byte.

    The database may compare ids case-insensitively (MariaDB's default collation), so a
    case variant of a real course would match in SQL: only ids the query returns with the
    very same text count. Ids that are not course keys exist nowhere.
    """
    keys = {}
    for course_id in course_ids:
        try:
            keys[course_id] = as_course_key(course_id)
        except ValueError:
            continue
    wanted = list(keys.values())
    found: set[str] = set()
    overviews = lms_models().CourseOverview.objects
    for start in range(0, len(wanted), QUERY_CHUNK):
        chunk = wanted[start:start + QUERY_CHUNK]
        found.update(str(key) for key in overviews.filter(id__in=chunk).values_list("id", flat=True))
    return {course_id for course_id in keys if course_id in found}


def known_courses(course_ids: Iterable[str]) -> set[str]:
    """The ids among ``course_ids`` the LMS knows (a course overview with exactly that id).

    One query for the ids not answered lately; answers are cached per process (see the
    module's docstring). ``NotAvailable`` where there is neither the LMS nor a stand-in app.
    """
    asked = set(course_ids)
    now = monotonic()
    with _lock:
        known = {course_id for course_id in asked if _known.fresh(course_id, now)}
        pending = [course_id for course_id in asked - known if not _unknown.fresh(course_id, now)]
    if not pending:
        return known
    found = _existing(pending)
    with _lock:
        for course_id in pending:
            if course_id in found:
                _unknown.forget(course_id)
                _known.remember(course_id, now)
            else:
                _unknown.remember(course_id, now)
    return known | found


def course_display_name(course_key: Any) -> str:
    """The course's display name for headings; its id when the LMS has no name for it."""
    key = as_course_key(course_key)
    name = lms_models().CourseOverview.objects.filter(id=key).values_list("display_name", flat=True).first()
    return name or str(key)


#: Block types of the outline levels the analytics page names: section and subsection.
SECTION_TYPE = "chapter"
SUBSECTION_TYPE = "sequential"


def _walk_outline(root: str, children: dict[str, list[str]], names: dict[str, str], types: dict[str, str]
                  ) -> dict[str, dict[str, Any]]:
    """Every block under ``root`` in course order, with its name, type and enclosing section and subsection.

    Depth first, children in their order; a block reached twice (a DAG) keeps its first place.
    """
    outline: dict[str, dict[str, Any]] = {}
    stack: list[tuple[str, str, str]] = [(root, "", "")]
    while stack:
        key, section, subsection = stack.pop()
        if key in outline:
            continue
        kind = types.get(key, "")
        name = names.get(key) or ""
        outline[key] = {"display_name": name, "block_type": kind, "section": section,
                        "subsection": subsection, "position": len(outline)}
        if kind == SECTION_TYPE:
            section, subsection = name, ""
        elif kind == SUBSECTION_TYPE:
            subsection = name
        stack.extend((child, section, subsection) for child in reversed(children.get(key, [])))
    return outline


def _lms_outline(key: CourseKey) -> dict[str, dict[str, Any]]:
    from openedx.core.djangoapps.content.block_structure.api import get_course_in_cache

    blocks = get_course_in_cache(key)
    root = blocks.root_block_usage_key
    children: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    types: dict[str, str] = {}
    for block in blocks.topological_traversal():
        text = str(block)
        types[text] = block.block_type
        names[text] = blocks.get_xblock_field(block, "display_name") or ""
        children[text] = [str(child) for child in blocks.get_children(block)]
    return _walk_outline(str(root), children, names, types)


def _stand_in_outline(key: CourseKey) -> dict[str, dict[str, Any]]:
    blocks = stand_in_models("CourseBlock")
    if blocks is None:
        raise NotAvailable("course outlines are not available outside the LMS (and no stand-in LMS app)")
    rows = list(blocks.CourseBlock.objects.filter(course_id=key).order_by("position", "id").values_list(
        "usage_key", "block_type", "display_name", "parent"))
    children: dict[str, list[str]] = {}
    for usage_key, _kind, _name, parent in rows:
        children.setdefault(parent, []).append(usage_key)
    names = {row[0]: row[2] for row in rows}
    types = {row[0]: row[1] for row in rows}
    roots = [usage_key for usage_key, kind, _name, parent in rows if not parent]
    outline: dict[str, dict[str, Any]] = {}
    for root in roots:
        for block, info in _walk_outline(root, children, names, types).items():
            outline.setdefault(block, {**info, "position": len(outline)})
    return outline


def course_outline(course_key: Any) -> dict[str, dict[str, Any]]:
    """The course's blocks by usage key (as text), in course order: display name, type, section, subsection.

    Each value is ``{"display_name", "block_type", "section", "subsection", "position"}``,
    ``position`` counting from 0 in course order. Inside the LMS this reads the course's
    cached block structure (what the course outline and the grades use); outside it, the
    stand-in app's ``CourseBlock`` rows. Names are for people only: an empty dict (unknown
    course, no block structure yet, anything failing) just means ids are shown, so this
    never raises into a request; ``NotAvailable`` only where no LMS is at all.
    """
    key = as_course_key(course_key)
    if not lms_available():
        return _stand_in_outline(key)
    try:
        return _lms_outline(key)
    except Exception:  # noqa: BLE001 - names are optional; the page must still answer
        log.exception("openedx_analytics: could not read the block structure of %s", key)
        return {}
