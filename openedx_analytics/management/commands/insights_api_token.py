"""``insights_api_token``: make, rotate or revoke the key a service calls the Insights-compatible API with.

Examples::

    ./manage.py lms insights_api_token insights_worker           # new key (the old one stops working)
    ./manage.py lms insights_api_token insights_worker --revoke  # no key any more

The key is printed once, alone on the last line; only its hash is kept. The caller sends it as
``Authorization: Token <key>`` to ``/api/analytics/insights/v1/`` and sees the courses the
LMS grants the service user (see docs/insights.md).
"""
from __future__ import annotations

from openedx_analytics.management.service_key_command import ServiceKeyCommand
from openedx_analytics.models.service_keys import INSIGHTS


class Command(ServiceKeyCommand):
    """Create or rotate (or with ``--revoke`` remove) a user's Insights-compatible API key."""

    help = "Create or rotate a user's key for /api/analytics/insights/v1/ and print it once; --revoke removes it."
    scope = INSIGHTS
    what = "Insights API key"
