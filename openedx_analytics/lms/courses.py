"""Courses as the LMS knows them: whether one exists (one or a batch, cached), its name, its outline and grading.

``known_courses`` is the ingest's guard against invented courses: the course of a browser
event comes from the page URL the learner posts, so only courses with an LMS course
overview are stored. It asks the LMS once per batch for the ids it has not seen lately and
remembers answers in this process: known ids for ``KNOWN_TTL_SECONDS``, unknown ones for
the shorter ``UNKNOWN_TTL_SECONDS`` (a course created a minute ago is accepted soon after),
each in its own table of at most ``COURSE_CACHE_SIZE`` ids, oldest dropped first, so a flood
of invented ids costs one query per batch and never grows memory.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from time import monotonic
from typing import Any

from openedx_analytics.lms import outline
from openedx_analytics.lms.host import as_course_key, lms_models
from openedx_analytics.lms.roles import course_org


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


def course_overviews(course_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Name, org, start, end and pacing of each of ``course_ids`` the LMS has an overview of, by id.

    Read by org (an indexed column) with the ids as text, not parsed keys: a site list of
    thousands of courses would otherwise spend its time building keys. Overviews without an
    ``end`` or ``self_paced`` (older LMS releases) read as open-ended and instructor-paced.
    """
    from django.db.models import CharField
    from django.db.models.functions import Cast

    wanted = set(course_ids)
    orgs = {course_org(course) for course in wanted} - {""}
    model = lms_models().CourseOverview
    names = {field.name for field in model._meta.get_fields()}
    fields = ["display_name", "org", "start"] + [name for name in ("end", "self_paced") if name in names]
    rows = model.objects.filter(org__in=sorted(orgs)).annotate(course_text=Cast("id", CharField()))
    found = {}
    for row in rows.values("course_text", *fields).iterator(chunk_size=2000):
        course = row.pop("course_text")
        if course in wanted:
            found[course] = {"name": row["display_name"] or course, "org": row["org"], "start": row["start"],
                             "end": row.get("end"), "self_paced": bool(row.get("self_paced", False))}
    return found


def all_course_ids() -> list[str]:
    """Every course the LMS has an overview of (ids as text, sorted): the site's courses for global staff.

    One indexed read of the overview table, the ids cast to text in SQL (never parsed), so
    a site of thousands of courses costs tens of milliseconds; not a ``DISTINCT`` over
    millions of rows of our aggregates.
    """
    from django.db.models import CharField
    from django.db.models.functions import Cast

    rows = lms_models().CourseOverview.objects.annotate(course_text=Cast("id", CharField()))
    return sorted(rows.values_list("course_text", flat=True).iterator(chunk_size=5000))


def course_display_name(course_key: Any) -> str:
    """The course's display name for headings; its id when the LMS has no name for it."""
    key = as_course_key(course_key)
    name = lms_models().CourseOverview.objects.filter(id=key).values_list("display_name", flat=True).first()
    return name or str(key)


def course_outline(course_key: Any) -> dict[str, dict[str, Any]]:
    """The course's blocks by usage key (as text), in course order, with their place in the outline.

    Each value has ``display_name``, ``block_type``, ``section``, ``subsection`` (names of the
    enclosing section and subsection) and ``position`` (from 0 in course order), and also
    ``parent``, ``section_id``, ``subsection_id``, ``unit``/``unit_id`` (the enclosing unit),
    ``graded`` and ``format`` (the assignment type; below a subsection, its subsection's) and
    ``tags`` (content tag values). Inside the LMS this reads a snapshot built off the request
    and cached per course publish (``lms.outline``): a page never builds a block structure.
    Names are for people only: an empty dict (unknown course, no snapshot yet, anything
    failing, logged once per course at WARNING) just means ids are shown, so this never
    raises into a request; ``NotAvailable`` only where no LMS is at all.
    """
    return outline.snapshot(course_key)["blocks"]


def course_structure(course_key: Any) -> dict[str, Any]:
    """``{"blocks": course_outline(...), "grading": course_grading(...)}`` read once, for callers needing both."""
    return outline.snapshot(course_key)


def course_grading(course_key: Any) -> dict[str, Any]:
    """The course's grading policy: ``passing_grade`` (0.0-1.0, None when unknown), ``assignment_types``
    (each ``type``, ``short_label``, ``weight``, ``min_count``, ``drop_count``, in the policy's order)
    and ``grade_cutoffs`` (letter to lowest grade). Read like ``course_outline``, from the same snapshot."""
    return outline.snapshot(course_key)["grading"]
