"""Per-user throttling of the REST API, at a rate operators can change without a deploy."""
from __future__ import annotations

import logging

from rest_framework.throttling import UserRateThrottle

from openedx_analytics import conf
from openedx_analytics.models import AnalyticsConfiguration

log = logging.getLogger(__name__)


def current_rate() -> str | None:
    """The enabled ``AnalyticsConfiguration``'s rate, else the ``OPENEDX_ANALYTICS_API_THROTTLE_RATE`` setting."""
    config = AnalyticsConfiguration.current()
    if config.enabled and config.api_throttle_rate:
        return config.api_throttle_rate
    return conf.get("OPENEDX_ANALYTICS_API_THROTTLE_RATE")


class AnalyticsUserThrottle(UserRateThrottle):
    """Requests per user (per IP for anonymous callers) across every analytics endpoint."""

    scope = "openedx_analytics"

    def get_rate(self) -> str | None:
        """The configured rate; a rate that cannot be read falls back to the setting (and is logged)."""
        rate = current_rate()
        try:
            self.parse_rate(rate)
        except (ValueError, KeyError, TypeError, IndexError):
            log.error("openedx_analytics: cannot read API throttle rate %r; using the setting", rate)
            rate = conf.get("OPENEDX_ANALYTICS_API_THROTTLE_RATE")
        return rate
