"""Per-course generations of cached content: one bump makes every cached page of a course unreachable.

The page and the instructor-dashboard section cache their rendered content under keys
that are hashes (course, parameters, language, day), so the entries of one course cannot
be listed, let alone deleted. Instead each course has a generation, a value kept in the
Django cache without expiry, and every content key of the course includes it: a new
generation (``clear``) turns every entry of the course into one nobody asks for again,
left to expire on its own. Retirement clears the courses it touched, so a retired
learner's answer leaves the page at once, not when the cache entry expires.

Foundation: the door that retires learners and the faces that cache pages both use it.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.core.cache import cache

log = logging.getLogger(__name__)

#: Prefix of each course's generation key (the course id is hashed: any id fits a cache key).
GENERATION_PREFIX = "openedx_analytics.course_generation."
#: A course never cleared yet.
FIRST_GENERATION = "0"


def generation_key(course_id: str) -> str:
    """The cache key holding ``course_id``'s generation."""
    return GENERATION_PREFIX + hashlib.sha256(course_id.encode()).hexdigest()


def generation(course_id: str) -> str:
    """The current generation of ``course_id``'s cached content (part of every content key of the course)."""
    return cache.get(generation_key(course_id)) or FIRST_GENERATION


def clear(course_ids: Iterable[str]) -> None:
    """Give every course of ``course_ids`` a new generation, so none of its cached content is served again.

    Never raises: when the cache cannot be written, cached content still expires within
    ``OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS``; the failure is logged.
    """
    fresh = {generation_key(course): uuid.uuid4().hex for course in course_ids}
    if not fresh:
        return
    try:
        cache.set_many(fresh, timeout=None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the caller (a retirement, a recompute)
        log.exception("openedx_analytics: could not clear the cached content of %s courses; it expires "
                      "within OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS", len(fresh))
