"""Which block of the course a learner's activity touched: what engagement by content counts.

Any event that counts as a learner's activity may name a block: a player event its video,
a graded submission its problem, an XBlock event its ``context.module.usage_key``, a page
view its URL or request path (``/courses/<course>/courseware/<section>/<subsection>/``,
``/courses/<course>/jump_to/<usage key>``, ``/courses/<course>/xblock/<usage key>/...``; the
doors keep only URLs that name a course, ``pipeline.redaction``). Nothing here decides
whether the block is real: the ingest keeps a visit only when the block is in the course's
outline (``lms.outline_places``), so an invented id, of this course or another, stores
nothing.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.records import Activity, ContentVisit, ProblemSubmission, Record, VideoEvent

#: The activity kinds engagement by content counts (viewed, played a video, submitted a problem).
COUNTED_KINDS = ("any", "video", "problem")
#: Longest block id taken (the length of the column its outline parts are stored in).
MAX_BLOCK_ID = 255
#: Characters of a URL read for a block (a page URL longer than this names its block early on, if at all).
MAX_URL = 2000

_USAGE_KEY = re.compile(r"(block-v1:[^/?#\s]+|i4x://[^?#\s]+?/[^/?#\s]+/[^/?#\s]+/[^/?#\s]+)(?=[/?#\s]|$)")
_COURSEWARE = re.compile(r"/courseware/([^/?#]+)(?:/([^/?#]+))?")


def content_visit(envelope: Envelope, records: list[Record]) -> ContentVisit | None:
    """The block ``records``' activity touched, as a visit of the counted kinds; None when it names none."""
    for activity in records:  # the normalizers give the learner's activity first
        if type(activity) is Activity:
            break
    else:
        return None
    kinds = _counted(activity.kinds)
    try:
        block_id = _block_of(envelope, records, activity.course_id)
    except Exception:  # noqa: BLE001 - the block is extra: an odd URL must never cost the event its activity
        return None
    if not kinds or not block_id or len(block_id) > MAX_BLOCK_ID:
        return None
    return ContentVisit(course_id=activity.course_id, user_id=activity.user_id, day=activity.day,
                        block_id=block_id, kinds=kinds)


#: activity kinds -> the counted ones among them (a handful of combinations, asked for every event).
_COUNTED: dict[tuple[str, ...], tuple[str, ...]] = {}


def _counted(kinds: tuple[str, ...]) -> tuple[str, ...]:
    counted = _COUNTED.get(kinds)
    if counted is None:
        counted = tuple(kind for kind in COUNTED_KINDS if kind in kinds)
        if len(_COUNTED) < 64:  # activity kinds are the registry's own few names
            _COUNTED[kinds] = counted
    return counted


def _block_of(envelope: Envelope, records: list[Record], course_id: str) -> str | None:
    for record in records:
        kind = type(record)
        if kind is VideoEvent:
            return record.video_id
        if kind is ProblemSubmission:
            return record.problem_id
    module = envelope.context.get("module")
    if isinstance(module, dict):
        usage_key = module.get("usage_key")
        if isinstance(usage_key, str) and usage_key:
            return usage_key
    for url in (envelope.page, envelope.context.get("path"), envelope.name):
        block_id = _block_in_url(url, course_id)
        if block_id:
            return block_id
    return None


def _block_in_url(url: Any, course_id: str) -> str | None:
    """The last usage key a URL names, or the subsection (else section) of a courseware URL."""
    if not isinstance(url, str) or "/" not in url:
        return None
    text = unquote(url[:MAX_URL])
    keys = _USAGE_KEY.findall(text)
    if keys:
        return keys[-1]
    match = _COURSEWARE.search(text)
    if match is None:
        return None
    section, subsection = match.groups()
    if subsection:
        return _usage_key(course_id, "sequential", subsection)
    return _usage_key(course_id, "chapter", section)


def _usage_key(course_id: str, block_type: str, block: str) -> str:
    """The usage key of a block of the course named by its type and id (the form the outline names it by)."""
    if course_id.startswith("course-v1:"):
        return f"block-v1:{course_id[len('course-v1:'):]}+type@{block_type}+block@{block}"
    org, number = course_id.split("/")[:2]
    return f"i4x://{org}/{number}/{block_type}/{block}"
