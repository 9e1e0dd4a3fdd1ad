"""The live path's backlog over a run, and the statistics the load harness draws from its samples.

The backlog is what the workers have not done yet: messages waiting in (or reserved from)
the analytics queue on Redis, plus ``DirtyScope`` rows. A ``Sampler`` thread records it (and
the workers' memory) every few seconds; ``trend`` fits a least-squares line through such
samples, and ``Trend.growing`` says whether a backlog kept growing over a step.
"""
from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.harness.live.processes import Workers

#: kombu's Redis transport keeps a queue's messages in a list per priority band.
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class Backlog:
    """The live path's backlog: messages waiting in (or reserved from) the analytics queue, and dirty scopes."""

    def __init__(self, broker_url: str, queue: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(broker_url, socket_connect_timeout=5, socket_timeout=10)
        self.queue = queue

    def messages(self) -> int:
        """Messages in the queue's lists, plus those workers reserved and have not acknowledged yet."""
        waiting = sum(self.redis.llen(self.queue + suffix) for suffix in PRIORITY_SUFFIXES)
        reserved = 0
        for raw in self.redis.hvals("unacked"):
            with contextlib.suppress(ValueError, IndexError, TypeError):
                reserved += json.loads(raw)[2] == self.queue
        return waiting + reserved

    def purge(self) -> None:
        """Delete the queue's waiting messages (only this queue's keys)."""
        self.redis.delete(*(self.queue + suffix for suffix in PRIORITY_SUFFIXES))

    @staticmethod
    def dirty_scopes() -> int:
        """DirtyScope rows in the analytics database."""
        from openedx_analytics import conf
        from openedx_analytics.models import DirtyScope

        return DirtyScope.objects.using(conf.analytics_db()).count()

    def sample(self) -> tuple[int, int]:
        """(messages, dirty scopes) now."""
        return self.messages(), self.dirty_scopes()

    def wait_drained(self, timeout: float, settle: float = 1.0) -> float | None:
        """Seconds until messages and dirty scopes are both 0 (for ``settle`` s), or None after ``timeout``."""
        start = time.monotonic()
        empty_since = None
        while time.monotonic() - start < timeout:
            if sum(self.sample()) == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= settle:
                    return empty_since - start
            else:
                empty_since = None
            time.sleep(0.25)
        return None


@dataclass
class Sample:
    """One observation of the running system."""

    t: float
    messages: int
    dirty: int
    rss_mib: list[float] = field(default_factory=list)
    heap_mib: list[float | None] = field(default_factory=list)  # traced Python heap (soak --trace-python-heap)

    @property
    def backlog(self) -> int:
        """Messages plus dirty scopes."""
        return self.messages + self.dirty


class Sampler:
    """A thread sampling the backlog (and the workers' memory) every ``every`` seconds."""

    def __init__(self, backlog: Backlog, workers: Workers | None, every: float) -> None:
        self.backlog = backlog
        self.workers = workers
        self.every = every
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from django.db import connections

        try:
            while True:
                messages, dirty = self.backlog.sample()
                rss = self.workers.rss_mib() if self.workers else []
                heap = self.workers.python_heap_mib() if self.workers else []
                self.samples.append(Sample(time.monotonic(), messages, dirty, rss, heap))
                if self._stop.wait(self.every):
                    break
        finally:
            connections.close_all()

    def between(self, start: float, end: float) -> list[Sample]:
        """The samples taken from ``start`` to ``end`` (monotonic seconds)."""
        return [s for s in self.samples if start <= s.t <= end]



# ------------------------------------------------------------------ statistics


@dataclass
class Trend:
    """A least-squares line through (seconds, value) points."""

    slope: float  # per second
    stderr: float
    first: float  # fitted value at the first point
    last: float  # fitted value at the last point
    points: int

    def growing(self, floor: float = 20.0) -> bool:
        """Growing: slope positive at 3 standard errors, and the fitted rise over the span above ``floor`` and
        above half the fitted start (a backlog that keeps a steady level, however high, is not growing)."""
        rise = self.last - self.first
        return self.points >= 3 and self.slope > 3 * self.stderr and rise > max(floor, 0.5 * max(self.first, 0))


def trend(points: list[tuple[float, float]]) -> Trend:
    """The least-squares line through ``points``."""
    n = len(points)
    if n < 2:
        value = points[0][1] if points else 0.0
        return Trend(0.0, math.inf, value, value, n)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return Trend(0.0, math.inf, mean_y, mean_y, n)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points)
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else math.inf
    xs = [x for x, _ in points]
    return Trend(slope, stderr, intercept + slope * min(xs), intercept + slope * max(xs), n)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0-100) of ``values``, nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def python_heap_trend(hours: list[float], sizes: list[float | None]) -> dict[str, Any]:
    """First, last and fitted slope of one worker's traced Python heap (samples it had not reported yet left out)."""
    points = [(t, size) for t, size in zip(hours, sizes, strict=True) if size is not None]
    return {"samples": len(points), "first_mib": round(points[0][1], 2) if points else None,
            "last_mib": round(points[-1][1], 2) if points else None,
            "slope_mib_per_hour": trend(points).slope if len(points) >= 2 else math.nan}


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t:`` ... ``t[0]`` holds the seconds the block took."""
    holder: list[float] = []
    start = time.monotonic()
    try:
        yield holder
    finally:
        holder.append(time.monotonic() - start)
