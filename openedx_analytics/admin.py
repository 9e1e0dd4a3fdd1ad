"""Django admin: operator configuration (with history) and, read-only, what the pipeline rejected."""
from __future__ import annotations

from typing import Any

from config_models.admin import ConfigurationModelAdmin, KeyedConfigurationModelAdmin
from django.contrib import admin

from openedx_analytics import conf
from openedx_analytics.models import (
    AnalyticsConfiguration,
    CourseAnalyticsOverride,
    RejectedEventSample,
    RejectionCount,
)

admin.site.register(AnalyticsConfiguration, ConfigurationModelAdmin)
admin.site.register(CourseAnalyticsOverride, KeyedConfigurationModelAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; only the pipeline writes.

    Every read names the analytics database: in the LMS other routers may answer before ours.
    """

    def get_queryset(self, request: Any) -> Any:
        """The rows of the analytics database, whatever the database routers say."""
        return super().get_queryset(request).using(conf.analytics_db())

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        """Operators may clear old samples: delete them where they live."""
        queryset.using(conf.analytics_db()).delete()

    def delete_model(self, request: Any, obj: Any) -> None:
        """Delete one row where it lives."""
        obj.delete(using=conf.analytics_db())

    def has_add_permission(self, request: Any) -> bool:
        """Nobody adds rows by hand."""
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        """Nobody edits rows by hand."""
        return False


@admin.register(RejectionCount)
class RejectionCountAdmin(ReadOnlyAdmin):
    """Rejected events per door and reason: where bad input comes from."""

    list_display = ("source", "reason", "count", "last_seen")
    list_filter = ("source",)
    ordering = ("-count",)


@admin.register(RejectedEventSample)
class RejectedEventSampleAdmin(ReadOnlyAdmin):
    """The latest rejected events of each reason, with why and what they looked like."""

    list_display = ("created", "source", "reason", "name", "detail")
    list_filter = ("source", "reason")
    search_fields = ("name", "detail")
    readonly_fields = ("created", "source", "reason", "name", "detail", "payload")
    ordering = ("-created",)
