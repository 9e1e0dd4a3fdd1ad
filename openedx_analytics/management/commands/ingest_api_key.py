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

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openedx_analytics import service_keys
from openedx_analytics.models.service_keys import INGEST


class Command(BaseCommand):
    """Create or rotate (or with ``--revoke`` remove) a user's ingest gateway key."""

    help = "Create or rotate a user's key for POST /api/analytics/v1/events/ and print it once; --revoke removes it."

    def add_arguments(self, parser: CommandParser) -> None:
        """USERNAME and ``--revoke``."""
        parser.add_argument("username", help="The service user the key acts as.")
        parser.add_argument("--revoke", action="store_true", help="Remove the user's key instead of making one.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Issue (printing the key last) or revoke."""
        user_model = get_user_model()
        try:
            user = user_model.objects.using("default").get(username=opts["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {opts['username']!r}.") from None
        if opts["revoke"]:
            removed = service_keys.revoke_keys(user, INGEST)
            self.stdout.write(f"Ingest gateway key of {user.username} revoked." if removed
                              else f"{user.username} had no ingest gateway key.")
            return
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive: a key would not work.")
        key = service_keys.issue_key(user, INGEST)
        self.stdout.write(f"Ingest gateway key of {user.username} (replaces any earlier one; shown only now):")
        self.stdout.write(key)
