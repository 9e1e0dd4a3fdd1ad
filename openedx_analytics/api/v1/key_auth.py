"""DRF authentication by service key: ``Authorization: Token <key>``, as Insights' dashboard called its data API.

Each subclass names the one scope it accepts (``service_keys``): an ``ingest`` key on a read
endpoint, or an ``insights`` key on the ingest gateway, is a 401 like an unknown key.
Without a ``Token`` header the class steps aside (``None``) so session or JWT can answer.
"""
from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from openedx_analytics import service_keys
from openedx_analytics.models.service_keys import INGEST, INSIGHTS

KEYWORD = "Token"


class ServiceKeyAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` for a key of ``scope``; a 401 answers ``WWW-Authenticate: Token``."""

    keyword = KEYWORD
    scope = ""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        """The key's user, or None without a ``Token`` header, or a 401 for a malformed, unknown or other-scope key."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header: give one key after 'Token'.")
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        user = service_keys.user_for_key(raw_key, self.scope)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        return (user, None)

    def authenticate_header(self, request: Request) -> str:
        """What a 401 asks for."""
        return self.keyword


class InsightsKeyAuthentication(ServiceKeyAuthentication):
    """Keys made by ``insights_api_token``: the Insights-compatible read-only API only."""

    scope = INSIGHTS


class IngestKeyAuthentication(ServiceKeyAuthentication):
    """Keys made by ``ingest_api_key``: the event ingest gateway only."""

    scope = INGEST
