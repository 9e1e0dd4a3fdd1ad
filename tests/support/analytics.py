"""The plugin's analytics tables (those routed to the analytics database): which they are, their rows, emptying them."""
from __future__ import annotations

from django.apps import apps

from openedx_analytics import conf


def analytics_models() -> list:
    """Every model of the plugin that lives in the analytics database (not the configuration ones)."""
    return [model for model in apps.get_app_config("openedx_analytics").get_models()
            if not getattr(model, "ANALYTICS_DEFAULT_DB", False)]


def analytics_rows() -> dict[str, int]:
    """The number of rows of each analytics table, by model name."""
    using = conf.analytics_db()
    return {model.__name__: model.objects.using(using).count() for model in analytics_models()}


def wipe() -> None:
    """Empty every analytics table (facts, aggregates, markers, checkpoints)."""
    using = conf.analytics_db()
    for model in analytics_models():
        model.objects.using(using).all().delete()
