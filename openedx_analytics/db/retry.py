"""Rerun a transaction that lost a lock race (``errors.Verdict.LOST_LOCK_RACE``), at once and a bounded number of times.

Two writers touching the same rows in different orders (two backfills over overlapping
logs, two workers recomputing neighbouring scopes) can deadlock; the database then picks
one transaction as the victim and rolls it back, or a lock wait times out. The other
transaction moves on, so the victim, run again a moment later, almost always passes:
waiting minutes for a task retry would only leave the figures stale. Every write
rerun here is idempotent (facts de-duplicate on their fingerprint, markers are appended,
a recompute replaces its aggregates), so running the rolled-back transaction again is
safe: this reruns it with short jittered, growing waits, then lets the error through
(to the task's retry, or to the backfill's caller). A write inside an outer transaction
is not rerun (the outer transaction is rolled back already); neither is any other error.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connections

from openedx_analytics import conf
from openedx_analytics.db.errors import lost_lock_race

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Attempts of one write, the first included.
ATTEMPTS = 6
#: First wait in seconds; doubled after every failed attempt, with jitter, capped at ``MAX_DELAY``.
FIRST_DELAY = 0.05
MAX_DELAY = 2.0


def retry_lock_races(write: Callable[[], T], *, what: str = "write", using: str | None = None,
                     sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``write`` (one transaction); rerun it after a deadlock or lock wait timeout, a bounded number of times."""
    alias = using or conf.analytics_db()
    delay = FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return write()
        except DatabaseError as exc:
            if attempt == ATTEMPTS or not lost_lock_race(exc) or connections[alias].in_atomic_block:
                raise
            wait = min(delay, MAX_DELAY) * (0.5 + random.random())  # noqa: S311 - jitter, not security
            log.warning("openedx_analytics: %s lost a lock race (%s); rerun %s of %s in %.2f s",
                        what, exc.args[0] if exc.args else exc, attempt, ATTEMPTS - 1, wait)
            sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
