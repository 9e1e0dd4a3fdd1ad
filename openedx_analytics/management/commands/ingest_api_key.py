"""``ingest_api_key``: make, rotate or revoke the key a sending service posts events to the ingest gateway with.

Examples::

    ./manage.py lms ingest_api_key mobile_backend           # new key (the old one stops working)
    ./manage.py lms ingest_api_key mobile_backend --revoke  # no key any more

The key is printed once, alone on the last line; only its hash is kept. The sender passes it as
``Authorization: Token <key>`` to ``POST /api/analytics/v1/events/``. A key only says who is
calling: the user also needs the ``openedx_analytics.send_learning_events`` permission and a
gateway caller row (admin) with its grants (see docs/gateway.md).
"""
from __future__ import annotations

from openedx_analytics.management.service_key_command import ServiceKeyCommand
from openedx_analytics.models.service_keys import INGEST


class Command(ServiceKeyCommand):
    """Create or rotate (or with ``--revoke`` remove) a user's ingest gateway key."""

    help = "Create or rotate a user's key for POST /api/analytics/v1/events/ and print it once; --revoke removes it."
    scope = INGEST
    what = "ingest gateway key"
