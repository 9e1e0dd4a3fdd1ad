"""Recompute windows per course: what ``tasks.coalesce`` decides on, kept in the shared cache and noted per process.

Why: a course receiving many batches a second should be recomputed once a window, not once
per batch, and a course receiving one batch now and then should be recomputed at once. A
window is a cache key (``window_cache_key``) that lives as long as the window and holds when
it closes, so every worker process sees it; each process also notes the windows it knows of,
which spares the cache a round trip per batch. A batch that finds its course's window open
marks the course busy (``busy_cache_key``) for about two windows: the batch that opens the
next window then leaves the recompute to the window, as under steady load, instead of
recomputing at once, as on a quiet site. A window's own recompute is a delayed task that one
batch claims (``claim_recompute``): the busy course's opener, or the first batch to join a
quiet course's window; a window nobody joins schedules nothing.
"""
from __future__ import annotations

import logging
import math
import time

from django.core.cache import cache

from openedx_analytics import conf

log = logging.getLogger(__name__)

#: A course's window lasts at least this many times its last recompute in this process, so a
#: course whose recompute grows with the load is recomputed less often rather than saturating
#: the workers (each course's recomputes take at most a tenth of a worker's time).
WINDOW_PER_RECOMPUTE = 10
#: Seconds between a window's end and its recompute: covers a cache that expires keys to the
#: second (memcached) and clocks of different hosts that differ by less than that.
WINDOW_MARGIN_SECONDS = 1
#: This process's knowledge of open windows: course -> ``time.monotonic()`` at which the window
#: closes. Spares the cache a round trip per batch; each entry ends before its window's recompute runs.
_open_windows: dict[str, float] = {}
#: Course -> the noted window (its ``_open_windows`` entry) in which this process marked it busy.
_busy_marked: dict[str, float] = {}
#: Seconds the last recompute of each course took in this process.
_recompute_seconds: dict[str, float] = {}
#: Course -> the noted window (its ``_open_windows`` entry) whose recompute this process claimed or saw claimed.
_claimed: dict[str, float] = {}


def window_cache_key(course_id: str) -> str:
    """The cache key, shared by every worker process, that holds when the course's recompute window closes.

    ``join_or_open`` adds it to open a window; while it lives, no process schedules another
    recompute of the course. Deleting it closes the window for every process that has not
    noted the window itself (``forget_window``).
    """
    return f"openedx_analytics.recompute_window.{course_id}"


def busy_cache_key(course_id: str) -> str:
    """The cache key, shared by every worker process, that marks a course busy: a batch of it found its window open.

    The batch that opens the course's next window recomputes the course at once only while
    this key is absent; it lives two windows (and the margin), so a course under steady load
    keeps one recompute per window, and one that fell quiet is recomputed at once again.
    """
    return f"openedx_analytics.recompute_busy.{course_id}"


def recompute_claim_cache_key(course_id: str) -> str:
    """The cache key, shared by every worker process, that one batch adds to claim the open window's recompute.

    It lives as long as the window: the claimer schedules the window's delayed recompute, the
    course's other batches of the window find the key and schedule nothing.
    """
    return f"openedx_analytics.recompute_claimed.{course_id}"


def claim_recompute(course_id: str) -> float | None:
    """Claim the recompute of the course's open window (noted in this process): seconds until the window closes.

    None when the recompute is claimed already, by this process or another, or when no window
    is noted. Without a cache the claim is granted: one more recompute, never a missing one.
    """
    closes = _open_windows.get(course_id, 0.0)
    remaining = closes - time.monotonic()
    if remaining <= 0 or _claimed.get(course_id) == closes:
        return None
    _claimed[course_id] = closes
    try:
        if not cache.add(recompute_claim_cache_key(course_id), True, timeout=max(1, math.ceil(remaining))):
            return None
    except Exception:  # noqa: BLE001 - no cache: claim it (another process may schedule one more)
        log.debug("openedx_analytics: no cache to claim the recompute window of %s", course_id, exc_info=True)
    return remaining


def forget_window(course_id: str) -> bool:
    """Drop this process's note of the course's open window and give up its recompute's claim, as once the window
    is over (or its recompute could not be scheduled: the next batch claims it again); False if none was noted."""
    _claimed.pop(course_id, None)
    try:
        cache.delete(recompute_claim_cache_key(course_id))
    except Exception:  # noqa: BLE001 - no cache: no claim held there either
        log.debug("openedx_analytics: no cache to release the recompute claim of %s", course_id, exc_info=True)
    return _open_windows.pop(course_id, None) is not None


def record_recompute_seconds(course_id: str, seconds: float) -> None:
    """Note how long the course's last recompute took in this process: its next window is sized on it."""
    _recompute_seconds[course_id] = seconds


def reset_windows() -> None:
    """Forget every window and recompute time this process noted: the state of a freshly started worker process.

    The shared cache keys (``window_cache_key``, ``busy_cache_key``, ``recompute_claim_cache_key``) are left alone.
    """
    _open_windows.clear()
    _busy_marked.clear()
    _recompute_seconds.clear()
    _claimed.clear()


def window_seconds(course_id: str) -> int:
    """The course's next window: the configured delay, or longer when its recompute has grown costly.

    Never longer than ``OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS`` (unless the delay itself
    is): under contention a recompute slows down, and an uncapped window would stretch with
    it, leaving the figures minutes behind when they matter most.
    """
    base = int(conf.get("OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS") or 0)
    longest = int(conf.get("OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS") or 0)
    adaptive = math.ceil(WINDOW_PER_RECOMPUTE * _recompute_seconds.get(course_id, 0.0))
    return max(base, min(longest, adaptive))


def join_or_open(course_id: str) -> int | None:
    """Join the course's open window (None; the course is marked busy) or open one: its length in seconds.

    The window opened is noted in this process; a caller that could not schedule its
    recompute takes the note back (``forget_window``). Without a cache the window is opened
    (and noted) anyway: one more recompute, never a late one.
    """
    now = time.monotonic()
    if _open_windows.get(course_id, 0.0) > now:
        _mark_busy(course_id)
        return None
    seconds = window_seconds(course_id)
    closes = time.time() + seconds
    try:
        if not cache.add(window_cache_key(course_id), closes, timeout=seconds):
            other = cache.get(window_cache_key(course_id))  # another process's window: note when it closes
            if isinstance(other, (int, float)):
                _open_windows[course_id] = now + min(other - time.time(), seconds)
                _mark_busy(course_id)
            return None
    except Exception:  # noqa: BLE001 - no cache: open it anyway (an extra recompute finds little to do)
        log.debug("openedx_analytics: no cache for the recompute window of %s", course_id, exc_info=True)
    _open_windows[course_id] = now + seconds
    return seconds


def was_busy(course_id: str) -> bool:
    """Whether a batch of the course found its window open lately (``busy_cache_key``); a broken cache says no."""
    try:
        return bool(cache.get(busy_cache_key(course_id)))
    except Exception:  # noqa: BLE001 - no cache: recompute at once (one more recompute, never a late one)
        log.debug("openedx_analytics: no cache to tell whether %s is busy", course_id, exc_info=True)
        return False


def _mark_busy(course_id: str) -> None:
    """A batch found the course's window open: mark the course busy, once per window and process."""
    closes = _open_windows.get(course_id, 0.0)
    if _busy_marked.get(course_id) == closes:
        return
    try:
        cache.set(busy_cache_key(course_id), True, timeout=2 * window_seconds(course_id) + WINDOW_MARGIN_SECONDS)
    except Exception:  # noqa: BLE001 - no cache: the course's next lone batch waits for its window instead
        log.debug("openedx_analytics: no cache to mark %s busy", course_id, exc_info=True)
    _busy_marked[course_id] = closes
