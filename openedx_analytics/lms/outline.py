"""A course's outline and grading policy as the LMS publishes them, read without building anything in a request.

What the drill-downs need: sections, subsections and units in course order with their
names, whether a subsection is graded and its assignment type (``format``), the blocks'
content tags, the grading policy (assignment types with weights) and the passing grade.

Where it comes from, and why:

- **Inside the LMS** the outline is a *snapshot* this module builds in a Celery task
  (``build_course_outline``) and keeps in Django's cache, one per course publish (its key
  holds the course overview's ``modified`` time, which the LMS rewrites on every publish).
  A page request only reads that cache: on a miss it queues the task (at most once per
  course and ``REBUILD_INTERVAL_SECONDS``) and shows the previous publish's snapshot, or
  block ids until the first one exists. The task reads what a page must never read:
  ``get_course_in_cache`` (the block structure, which edx-platform *builds* from the
  modulestore on a miss), the course block's ``grading_policy`` through the modulestore, and
  the content tags. The passing grade is the course overview's ``lowest_passing_grade``.
- **Outside the LMS** the stand-in app's rows (``CourseBlock``, ``CourseGradingPolicy``,
  ``CourseOverview``) are the stored structure itself, read directly (a few indexed rows).

Nothing here raises into a request: an outline that cannot be read is an empty one (the
page shows ids), logged once per course and process at WARNING, never a traceback per page.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any

from celery import shared_task
from django.core.cache import cache

from openedx_analytics import broker_connection, conf
from openedx_analytics.lms.host import NotAvailable, as_course_key, lms_available, lms_models, stand_in_models

log = logging.getLogger(__name__)

#: Block types of the outline levels: section, subsection, unit.
SECTION_TYPE = "chapter"
SUBSECTION_TYPE = "sequential"
UNIT_TYPE = "vertical"
#: Seconds between two builds queued for the same course and publish (a failing build is retried this late).
REBUILD_INTERVAL_SECONDS = 600
#: Seconds a built snapshot is kept in the cache (a new publish makes a new key long before).
SNAPSHOT_SECONDS = 7 * 24 * 3600
#: Courses whose failure this process has logged already (bounded: oldest forgotten first).
WARNED_COURSES_SIZE = 10_000

EMPTY_GRADING: dict[str, Any] = {"passing_grade": None, "assignment_types": [], "grade_cutoffs": {}}

_warned: OrderedDict[str, None] = OrderedDict()
_warned_lock = threading.Lock()


def warn_once(course_id: str, message: str, *args: Any) -> None:
    """Log ``message`` at WARNING the first time this process meets a failure of ``course_id``'s outline."""
    with _warned_lock:
        if course_id in _warned:
            return
        _warned[course_id] = None
        while len(_warned) > WARNED_COURSES_SIZE:
            _warned.popitem(last=False)
    log.warning(message, *args)


def forget_warnings() -> None:
    """Forget which courses were warned about (tests)."""
    with _warned_lock:
        _warned.clear()


# ------------------------------------------------------------------ the walk


def walk(root: str, children: dict[str, list[str]], fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every block under ``root`` in course order, with its name, type, place in the outline and grading.

    ``fields`` gives each block's ``block_type``, ``display_name``, ``graded``, ``format`` and
    ``tags``. Depth first, children in their order; a block reached twice (a DAG) keeps its
    first place. ``section``/``subsection``/``unit`` (names) and ``section_id``/
    ``subsection_id``/``unit_id`` name the enclosing blocks (empty on the level itself and
    above); ``graded`` and ``format`` of a block below a subsection are its subsection's, as
    the LMS grades a problem by the subsection it sits in.
    """
    outline: dict[str, dict[str, Any]] = {}
    empty: dict[str, Any] = {"section": "", "subsection": "", "unit": "", "section_id": "", "subsection_id": "",
                             "unit_id": "", "graded": False, "format": ""}
    stack: list[tuple[str, str, dict[str, Any]]] = [(root, "", empty)]
    while stack:
        key, parent, place = stack.pop()
        if key in outline:
            continue
        own = fields.get(key, {})
        kind = own.get("block_type", "")
        name = own.get("display_name") or ""
        graded, fmt = place["graded"], place["format"]
        if kind == SUBSECTION_TYPE:
            graded, fmt = bool(own.get("graded")), own.get("format") or ""
        outline[key] = {"display_name": name, "block_type": kind, "section": place["section"],
                        "subsection": place["subsection"], "position": len(outline), "parent": parent,
                        "section_id": place["section_id"], "subsection_id": place["subsection_id"],
                        "unit": place["unit"], "unit_id": place["unit_id"], "graded": graded, "format": fmt,
                        "tags": list(own.get("tags") or [])}
        below = dict(place)
        if kind == SECTION_TYPE:
            below.update(section=name, section_id=key, subsection="", subsection_id="", unit="", unit_id="")
        elif kind == SUBSECTION_TYPE:
            below.update(subsection=name, subsection_id=key, unit="", unit_id="", graded=graded, format=fmt)
        elif kind == UNIT_TYPE:
            below.update(unit=name, unit_id=key)
        stack.extend((child, key, below) for child in reversed(children.get(key, [])))
    return outline


def _grading(grader: Any, cutoffs: Any, passing: Any) -> dict[str, Any]:
    """The grading part of a snapshot from the LMS's own shapes (GRADER list, GRADE_CUTOFFS, lowest passing)."""
    types = []
    for entry in grader or []:
        if not isinstance(entry, dict) or not entry.get("type"):
            continue
        types.append({"type": str(entry["type"]), "short_label": str(entry.get("short_label") or ""),
                      "weight": float(entry.get("weight") or 0), "min_count": int(entry.get("min_count") or 0),
                      "drop_count": int(entry.get("drop_count") or 0)})
    cutoffs = {str(k): float(v) for k, v in (cutoffs or {}).items()} if isinstance(cutoffs, dict) else {}
    if passing is None and cutoffs:
        passing = min(cutoffs.values())
    return {"passing_grade": None if passing is None else float(passing), "assignment_types": types,
            "grade_cutoffs": cutoffs}


# ------------------------------------------------------------------ outside the LMS: the stand-in rows


def _stand_in_snapshot(key: Any) -> dict[str, Any]:
    models = stand_in_models("CourseBlock", "CourseGradingPolicy", "CourseOverview")
    if models is None:
        raise NotAvailable("course outlines are not available outside the LMS (and no stand-in LMS app)")
    rows = list(models.CourseBlock.objects.filter(course_id=key).order_by("position", "id").values_list(
        "usage_key", "block_type", "display_name", "parent", "graded", "format", "tags"))
    children: dict[str, list[str]] = {}
    fields: dict[str, dict[str, Any]] = {}
    for usage_key, kind, name, parent, graded, fmt, tags in rows:
        children.setdefault(parent, []).append(usage_key)
        fields[usage_key] = {"block_type": kind, "display_name": name, "graded": graded, "format": fmt,
                             "tags": [t.strip() for t in tags.split("|") if t.strip()]}
    blocks: dict[str, dict[str, Any]] = {}
    for root in (usage_key for usage_key, _kind, _name, parent, *_rest in rows if not parent):
        for block, info in walk(root, children, fields).items():
            blocks.setdefault(block, {**info, "position": len(blocks)})
    policy = models.CourseGradingPolicy.objects.filter(course_id=key).values_list("grader", "grade_cutoffs").first()
    passing = models.CourseOverview.objects.filter(id=key).values_list("lowest_passing_grade", flat=True).first()
    return {"blocks": blocks, "grading": _grading(*(policy or ([], {})), passing)}


# ------------------------------------------------------------------ inside the LMS: the task's build


def _tag_values(found: Any) -> dict[str, list[str]]:
    """Tag values per block id from ``get_all_object_tags``'s first result (tags or their values, by taxonomy)."""
    out: dict[str, list[str]] = {}
    for object_id, by_taxonomy in (found or {}).items():
        values: list[str] = []
        for tags in (by_taxonomy or {}).values():
            values += [str(getattr(tag, "value", tag)) for tag in tags]
        out[str(object_id)] = values
    return out


def _lms_tags(key: Any) -> dict[str, list[str]]:
    try:
        from openedx.core.djangoapps.content_tagging.api import get_all_object_tags

        return _tag_values(get_all_object_tags(key)[0])
    except Exception:  # noqa: BLE001 - tags are optional (older releases have no content tagging)
        return {}


def _lms_snapshot(key: Any) -> dict[str, Any]:
    """Build a snapshot from the LMS (heavy: only in ``build_course_outline``, never in a request)."""
    from openedx.core.djangoapps.content.block_structure.api import get_course_in_cache
    from xmodule.modulestore.django import modulestore

    structure = get_course_in_cache(key)
    tags = _lms_tags(key)
    children: dict[str, list[str]] = {}
    fields: dict[str, dict[str, Any]] = {}
    for block in structure.topological_traversal():
        text = str(block)
        fields[text] = {"block_type": block.block_type,
                        "display_name": structure.get_xblock_field(block, "display_name") or "",
                        "graded": bool(structure.get_xblock_field(block, "graded", False)),
                        "format": structure.get_xblock_field(block, "format", "") or "",
                        "tags": tags.get(text, [])}
        children[text] = [str(child) for child in structure.get_children(block)]
    course = modulestore().get_course(key, depth=0)
    policy = getattr(course, "grading_policy", None) or {}
    passing = lms_models().CourseOverview.objects.filter(id=key).values_list("lowest_passing_grade", flat=True).first()
    return {"blocks": walk(str(structure.root_block_usage_key), children, fields),
            "grading": _grading(policy.get("GRADER"), policy.get("GRADE_CUTOFFS"), passing)}


def _cache_key(course_id: str, part: str) -> str:
    return f"openedx_analytics.outline.{part}." + hashlib.sha256(course_id.encode()).hexdigest()


def _publish_version(key: Any) -> str:
    """The course's publish mark: its overview's ``modified`` time (the LMS rewrites it on each publish)."""
    modified = lms_models().CourseOverview.objects.filter(id=key).values_list("modified", flat=True).first()
    return modified.isoformat() if modified else ""


@shared_task(name="openedx_analytics.build_course_outline", ignore_result=True)
def build_course_outline(course_id: str) -> bool:
    """Build the course's outline snapshot from the LMS and keep it for its current publish (a worker's job).

    Returns whether a snapshot was stored; a failure is logged once per course at WARNING
    and retried when a page asks again after ``REBUILD_INTERVAL_SECONDS``.
    """
    key = as_course_key(course_id)
    try:
        version = _publish_version(key)
        snapshot = _lms_snapshot(key)
    except Exception as error:  # noqa: BLE001 - an unreadable outline means ids on the page, not an error
        warn_once(str(key), "openedx_analytics: the outline of %s cannot be read (%s: %s); the analytics page "
                  "shows block ids until it can", key, type(error).__name__, error)
        return False
    cache.set_many({_cache_key(str(key), f"v.{version}"): snapshot,
                    _cache_key(str(key), "latest"): snapshot}, SNAPSHOT_SECONDS)
    return True


def _queue_build(key: Any, version: str) -> None:
    """Queue ``build_course_outline`` unless it was queued for this course and publish lately."""
    if not cache.add(_cache_key(str(key), f"queued.{version}"), True, REBUILD_INTERVAL_SECONDS):
        return
    try:
        # a page request queues this: a bounded connection, so a hung broker holds it no longer than the timeouts
        broker_connection.send(build_course_outline, kwargs={"course_id": str(key)}, queue=conf.celery_queue(),
                               retry=False)
    except Exception as error:  # noqa: BLE001 - no broker: ids on the page, a warning once
        warn_once(str(key), "openedx_analytics: could not queue the outline build of %s (%s: %s)",
                  key, type(error).__name__, error)


def _lms_cached_snapshot(key: Any) -> dict[str, Any]:
    """The snapshot of the course's current publish from the cache; on a miss, queue a build and use the last one."""
    version = _publish_version(key)
    found = cache.get_many([_cache_key(str(key), f"v.{version}"), _cache_key(str(key), "latest")])
    snapshot = found.get(_cache_key(str(key), f"v.{version}"))
    if snapshot is None:
        _queue_build(key, version)
        snapshot = found.get(_cache_key(str(key), "latest"))
    return snapshot or {"blocks": {}, "grading": dict(EMPTY_GRADING)}


def snapshot(course_key: Any) -> dict[str, Any]:
    """The course's outline (``blocks``) and grading policy (``grading``), cheap enough for any request.

    ``NotAvailable`` only where there is no LMS at all; every other failure gives an empty
    outline (logged once per course at WARNING).
    """
    key = as_course_key(course_key)
    if not lms_available():
        return _stand_in_snapshot(key)
    try:
        return _lms_cached_snapshot(key)
    except Exception as error:  # noqa: BLE001 - names are optional; the page must still answer
        warn_once(str(key), "openedx_analytics: the outline of %s cannot be read (%s: %s); the analytics page "
                  "shows block ids", key, type(error).__name__, error)
        return {"blocks": {}, "grading": dict(EMPTY_GRADING)}
