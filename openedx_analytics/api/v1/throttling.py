"""Throttling of the REST API, at a rate operators can change without a deploy (``rate_limit``).

The count itself is ``openedx_analytics.rate_limit``, which the page uses too; this is
its DRF face. ``AnalyticsView`` runs it as soon as the caller is known, before any
permission check, so an anonymous caller or one with bad credentials is throttled (by
address) like a signed-in one (by user).
"""
from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from openedx_analytics import rate_limit


class AnalyticsThrottle(BaseThrottle):
    """Requests per user (per address for anonymous callers) across every analytics endpoint."""

    scope = rate_limit.API

    def __init__(self) -> None:
        """No wait until a request is refused."""
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count the request; False when its caller is over the rate."""
        self.wait_seconds = rate_limit.refused_for(self.scope, rate_limit.caller(request.user, request.META))
        return self.wait_seconds is None

    def wait(self) -> float | None:
        """Seconds until the caller may ask again (the ``Retry-After`` of the 429)."""
        return self.wait_seconds
