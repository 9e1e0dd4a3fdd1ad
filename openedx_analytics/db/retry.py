"""Retry a backfill write that lost a lock race (MariaDB deadlock 1213, lock wait timeout 1205).

Two backfills over overlapping logs insert the same facts and markers in different
orders; InnoDB then picks one transaction as the deadlock victim and rolls it back.
Every backfill write is idempotent (facts de-duplicate on their fingerprint, markers are
appended), so running the rolled-back transaction again is safe: this retries it a
bounded number of times with jittered exponential backoff, then lets the error through.
A write inside an outer transaction is not retried (the outer transaction is already
rolled back); neither is any other error.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connections

from openedx_analytics import conf

log = logging.getLogger(__name__)

T = TypeVar("T")

#: MySQL/MariaDB error codes of a lost lock race: deadlock, lock wait timeout.
LOCK_ERRORS = (1213, 1205)
#: Attempts of one write, the first included.
ATTEMPTS = 6
#: First backoff in seconds; doubled after every failed attempt, with jitter, capped at ``MAX_DELAY``.
FIRST_DELAY = 0.05
MAX_DELAY = 2.0


def lost_lock_race(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or lock wait timeout (SQLite: database locked) worth retrying."""
    if not isinstance(exc, OperationalError):
        return False
    code = exc.args[0] if exc.args else None
    if isinstance(code, int):
        return code in LOCK_ERRORS
    return "database is locked" in str(exc)


def retry_lock_races(write: Callable[[], T], *, what: str = "write", using: str | None = None,
                     sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``write`` (one transaction); rerun it after a deadlock or lock wait timeout, a bounded number of times."""
    alias = using or conf.analytics_db()
    delay = FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return write()
        except OperationalError as exc:
            if attempt == ATTEMPTS or not lost_lock_race(exc) or connections[alias].in_atomic_block:
                raise
            wait = min(delay, MAX_DELAY) * (0.5 + random.random())  # noqa: S311 - jitter, not security
            log.warning("openedx_analytics: backfill %s lost a lock race (%s); retry %s of %s in %.2f s",
                        what, exc.args[0] if exc.args else exc, attempt, ATTEMPTS - 1, wait)
            sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
