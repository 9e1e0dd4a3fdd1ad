"""Database router: analytics tables in the analytics alias, everything else where it was.

ConfigurationModels (they point at ``auth.User``) are marked with ``ANALYTICS_DEFAULT_DB = True``
and stay in the LMS default database.
"""
from __future__ import annotations

from typing import Any

from openedx_analytics import conf

APP_LABEL = "openedx_analytics"


def is_analytics_model(model: Any) -> bool:
    """Whether ``model`` lives in the analytics alias (ours, and not a default-database configuration model)."""
    meta = model._meta
    return meta.app_label == APP_LABEL and not getattr(model, "ANALYTICS_DEFAULT_DB", False)


class AnalyticsRouter:
    """Send our fact, scope and aggregate models to the analytics alias; leave other models alone.

    Listed first in ``DATABASE_ROUTERS`` (``plugin_settings`` puts it there): for every model
    that is not ours it answers ``None``, so the routers after it decide as before.
    """

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        """Analytics models read from the analytics alias."""
        return conf.analytics_db() if is_analytics_model(model) else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        """Analytics models write to the analytics alias."""
        return conf.analytics_db() if is_analytics_model(model) else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """No opinion: our analytics models hold no foreign keys across databases."""
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        """Create each of our tables only in the database it lives in; keep other apps out of ours."""
        analytics = conf.analytics_db()
        if app_label != APP_LABEL:
            return False if (db == analytics and analytics != "default") else None
        if model_name is None:
            return None
        from django.apps import apps

        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            # A model a later migration deleted: only analytics tables have been deleted so far.
            return db == analytics
        target = analytics if is_analytics_model(model) else "default"
        return db == target
