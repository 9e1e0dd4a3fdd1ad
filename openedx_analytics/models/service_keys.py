"""Server-to-server keys: a service user's key for one use (``insights`` reads, ``ingest`` writes), kept hashed.

Kept in the LMS default database like the ConfigurationModels (it points at ``auth.User``;
``ANALYTICS_DEFAULT_DB`` routes it there). Only a SHA-256 of the key is stored: the key is
printed once when it is made and cannot be recovered from the database.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

INSIGHTS = "insights"
INGEST = "ingest"
SCOPES = ((INSIGHTS, "Insights-compatible read API"), (INGEST, "Event ingest gateway"))
#: How many leading characters of a key are kept in clear, to find its row without scanning every hash.
PREFIX_LENGTH = 8


class ServiceKey(models.Model):
    """One live key of a service user for one scope (issuing again replaces it).

    .. no_pii: (``user`` points at a service account; only a hash and an 8-character prefix of the key are kept.)
    """

    ANALYTICS_DEFAULT_DB = True

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=16, choices=SCOPES)
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True)
    key_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "openedx_analytics"
        constraints = [models.UniqueConstraint(fields=("user", "scope"), name="oa_servicekey_user_scope")]

    def __str__(self) -> str:
        return f"{self.scope} key {self.prefix}… of user {self.user_id}"
