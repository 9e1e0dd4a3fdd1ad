"""How often one caller may ask for analytics: one rate check for the REST API and the page, without DRF.

Both faces count every request before answering it, refusals included: an anonymous
caller or one with bad credentials is counted by address, a signed-in one by user (an
office behind one address keeps one allowance per person). The REST API and the page
keep separate counts (``scope``), at the same rate: ``api_throttle_rate`` of the enabled
``AnalyticsConfiguration`` row, else the ``OPENEDX_ANALYTICS_API_THROTTLE_RATE`` setting
(None: no limit). The window slides, as DRF's throttles count: the times of the caller's
requests within the last period are kept in the Django cache, and a request past the
allowance is refused with the seconds until the oldest of them leaves the window (the
``Retry-After`` both faces send with their 429).

The address is ``REMOTE_ADDR``, which the LMS's ``XForwardedForMiddleware`` sets to the
client's address behind its proxies. Like DRF's throttles, the count is not atomic: two
requests at the same instant may both pass, never more than the few in flight.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache

from openedx_analytics import conf
from openedx_analytics.models import AnalyticsConfiguration

log = logging.getLogger(__name__)

#: The setting that holds the rate when no enabled ``AnalyticsConfiguration`` row names one.
RATE_SETTING = "OPENEDX_ANALYTICS_API_THROTTLE_RATE"
#: Seconds per period, by the period's first letter (``120/minute``, ``5/s``...), as DRF reads rates.
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Prefix of the cache keys holding each caller's request times (per scope).
KEY_PREFIX = "openedx_analytics.rate."
#: The counts kept apart.
API = "api"
PAGE = "page"


def current_rate() -> str | None:
    """The enabled ``AnalyticsConfiguration``'s rate, else the ``OPENEDX_ANALYTICS_API_THROTTLE_RATE`` setting."""
    config = AnalyticsConfiguration.current()
    if config.enabled and config.api_throttle_rate:
        return config.api_throttle_rate
    return conf.get(RATE_SETTING)


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``(requests, seconds)`` of a ``<number>/<second|minute|hour|day>`` rate; None for no rate.

    Raises ``ValueError`` for a rate that cannot be read.
    """
    if rate is None:
        return None
    count, _, period = str(rate).partition("/")
    seconds = PERIODS.get(period.strip()[:1])
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"not a rate: {rate!r}")
    return int(count), seconds


def limit() -> tuple[int, int] | None:
    """The rate in force as ``(requests, seconds)``; a configured rate that cannot be read falls back to the
    setting (and is logged); None: no limit."""
    rate = current_rate()
    try:
        return parse_rate(rate)
    except ValueError:
        log.error("openedx_analytics: cannot read API throttle rate %r; using the setting", rate)
        return parse_rate(conf.get(RATE_SETTING))


def caller(user: Any, meta: Mapping[str, Any]) -> str:
    """Who is counted: the signed-in user, else the client's address (``meta``: the request's ``META``)."""
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        return f"user:{user.pk}"
    return f"address:{meta.get('REMOTE_ADDR') or 'unknown'}"


def refused_for(scope: str, who: str, now: float | None = None) -> float | None:
    """Count a request of ``who`` in ``scope``; None when it is allowed, else the seconds before one would be."""
    return refused_at(scope, who, limit(), now)


def refused_at(scope: str, who: str, allowance: tuple[int, int] | None, now: float | None = None) -> float | None:
    """``refused_for`` at a rate of its own (``(requests, seconds)``, None: no limit): the ingest gateway's."""
    if allowance is None:
        return None
    requests, seconds = allowance
    now = time.time() if now is None else now
    key = KEY_PREFIX + scope + "." + hashlib.sha256(who.encode()).hexdigest()
    history = [at for at in cache.get(key) or [] if at > now - seconds]  # newest first
    if len(history) >= requests:
        return seconds - (now - history[-1]) if history else float(seconds)
    cache.set(key, [now, *history], seconds)
    return None
