"""Issue, revoke and check server-to-server keys (``models.ServiceKey``): one mechanism, a scope per use.

A key is ``secrets.token_urlsafe(32)`` (43 characters, 256 random bits). Only its SHA-256 is
stored, with its first characters in clear to find the row; checking compares the hashes in
constant time. A key of one scope never opens another scope's endpoints. Every use is logged
(user and scope, never the key) and stamps ``last_used`` at most once a minute, so a busy
caller does not write a row per request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from openedx_analytics.models import ServiceKey
from openedx_analytics.models.service_keys import PREFIX_LENGTH, SCOPES

log = logging.getLogger(__name__)

#: ``last_used`` is written again only when older than this.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
#: Longest key we bother hashing (ours are 43 characters); anything longer is refused unread.
MAX_KEY_LENGTH = 200
_SCOPE_NAMES = frozenset(name for name, _ in SCOPES)


def _hash(raw_key: str) -> str:
    """Hex SHA-256 of the key (a 256-bit random key needs no salt nor slow hash)."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _check_scope(scope: str) -> None:
    if scope not in _SCOPE_NAMES:
        raise ValueError(f"Unknown key scope {scope!r}; one of {sorted(_SCOPE_NAMES)}.")


def issue_key(user: Any, scope: str) -> str:
    """Make a new key for ``user`` in ``scope``, replacing any it had there; return it (it is stored only hashed)."""
    _check_scope(scope)
    raw_key = secrets.token_urlsafe(32)
    with transaction.atomic(using="default"):
        ServiceKey.objects.using("default").filter(user=user, scope=scope).delete()
        ServiceKey.objects.using("default").create(
            user=user, scope=scope, prefix=raw_key[:PREFIX_LENGTH], key_hash=_hash(raw_key)
        )
    log.info("Service key issued: user %s (id %s), scope %s", user.username, user.pk, scope)
    return raw_key


def revoke_keys(user: Any, scope: str) -> int:
    """Remove ``user``'s key of ``scope``; return how many were removed (0 or 1)."""
    _check_scope(scope)
    removed, _ = ServiceKey.objects.using("default").filter(user=user, scope=scope).delete()
    if removed:
        log.info("Service key revoked: user %s (id %s), scope %s", user.username, user.pk, scope)
    return removed


def user_for_key(raw_key: str, scope: str) -> Any | None:
    """The active user whose key of ``scope`` is ``raw_key``, or None (unknown, other scope, inactive user)."""
    _check_scope(scope)
    if not isinstance(raw_key, str) or not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        return None
    wanted = _hash(raw_key)
    candidates = ServiceKey.objects.using("default").select_related("user").filter(
        scope=scope, prefix=raw_key[:PREFIX_LENGTH]
    )
    match = None
    for candidate in candidates:
        if hmac.compare_digest(candidate.key_hash, wanted):
            match = candidate
    if match is None or not match.user.is_active:
        return None
    now = timezone.now()
    if match.last_used is None or now - match.last_used >= LAST_USED_RESOLUTION:
        ServiceKey.objects.using("default").filter(pk=match.pk).update(last_used=now)
    log.info("Service key used: user %s (id %s), scope %s", match.user.username, match.user_id, scope)
    return match.user
