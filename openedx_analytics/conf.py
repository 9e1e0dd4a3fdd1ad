"""Lazy access to our settings, with the defaults from ``settings.common``.

Plugin modules are imported before the LMS settings are final, so nothing reads
``django.conf.settings`` at import time; every value is read through here when used.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

from openedx_analytics.settings.common import DEFAULTS


def get(name: str) -> Any:
    """Return the setting ``name`` (one of ``settings.common.DEFAULTS``), or its default."""
    return getattr(settings, name, DEFAULTS[name])


def analytics_db() -> str:
    """The database alias analytics tables live in: the configured one if present, else ``default``."""
    alias = get("OPENEDX_ANALYTICS_DATABASE")
    return alias if alias in settings.DATABASES else "default"


def celery_queue() -> str | None:
    """The Celery queue our tasks are sent to (None: the app's default queue)."""
    return get("OPENEDX_ANALYTICS_CELERY_QUEUE")
