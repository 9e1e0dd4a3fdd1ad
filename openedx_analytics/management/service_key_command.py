"""The one way a service key is made, rotated or revoked from the command line, whatever it opens.

``insights_api_token`` (the Insights-compatible API) and ``ingest_api_key`` (the ingest gateway)
differ only in the key's scope and in how they name it; both are this command with those two
set (``service_keys`` keeps one live key per user and scope, hashed).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openedx_analytics import service_keys


class ServiceKeyCommand(BaseCommand):
    """Create or rotate (or with ``--revoke`` remove) a user's key of ``scope``; the key is printed once, last."""

    #: The scope of the keys this command makes (``models.service_keys``).
    scope = ""
    #: How the key is named in what the command prints ("Insights API key").
    what = ""

    def add_arguments(self, parser: CommandParser) -> None:
        """USERNAME and ``--revoke``."""
        parser.add_argument("username", help="The service user the key acts as.")
        parser.add_argument("--revoke", action="store_true", help="Remove the user's key instead of making one.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Issue (printing the key alone on the last line) or revoke."""
        user_model = get_user_model()
        try:
            user = user_model.objects.using("default").get(username=opts["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {opts['username']!r}.") from None
        named = self.what[:1].upper() + self.what[1:]
        if opts["revoke"]:
            removed = service_keys.revoke_keys(user, self.scope)
            self.stdout.write(f"{named} of {user.username} revoked." if removed
                              else f"{user.username} had no {self.what}.")
            return
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive: a key would not work.")
        key = service_keys.issue_key(user, self.scope)
        self.stdout.write(f"{named} of {user.username} (replaces any earlier one; shown only now):")
        self.stdout.write(key)
