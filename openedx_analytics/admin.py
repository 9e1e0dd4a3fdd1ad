"""Django admin: operator configuration (with history); what the pipeline rejected; which scopes failed; who may
send events through the ingest gateway."""
from __future__ import annotations

from typing import Any

from config_models.admin import ConfigurationModelAdmin, KeyedConfigurationModelAdmin
from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from openedx_analytics import conf
from openedx_analytics.models import (
    AnalyticsConfiguration,
    CourseAnalyticsOverride,
    GatewayCaller,
    InsightsDataApiConfiguration,
    RejectedEventSample,
    RejectionCount,
)
from openedx_analytics.models.operations import ScopeFailure
from openedx_analytics.pipeline.events.registry import GRANTS
from openedx_analytics.worker.drain import retry_failed_scopes
from openedx_analytics.worker.tasks import recompute_dirty_scopes

admin.site.register(AnalyticsConfiguration, ConfigurationModelAdmin)
admin.site.register(CourseAnalyticsOverride, KeyedConfigurationModelAdmin)
admin.site.register(InsightsDataApiConfiguration, ConfigurationModelAdmin)


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


@admin.register(ScopeFailure)
class ScopeFailureAdmin(ReadOnlyAdmin):
    """Scopes whose recompute failed: quarantined ones wait here until an operator retries them."""

    list_display = ("kind", "course_id", "key", "attempts", "quarantined_at", "last_failed", "last_error")
    list_filter = (("quarantined_at", admin.EmptyFieldListFilter), "kind")
    search_fields = ("course_id", "key")
    readonly_fields = ("kind", "course_id", "key", "attempts", "first_failed", "last_failed", "quarantined_at",
                       "error")
    ordering = ("-last_failed",)
    actions = ("retry_scopes",)

    def get_queryset(self, request: Any) -> Any:
        """Read the analytics database, whatever the routers before ours answer."""
        return super().get_queryset(request).using(conf.analytics_db())

    @admin.display(description="last error")
    def last_error(self, failure: ScopeFailure) -> str:
        """The last line of the last error (the whole traceback is on the detail page)."""
        lines = failure.error.strip().splitlines()
        return lines[-1][:200] if lines else ""

    @admin.action(description="Retry the selected scopes")
    def retry_scopes(self, request: Any, queryset: Any) -> None:
        """Mark the scopes dirty again, forget their failures and ask a worker to recompute them now."""
        courses = retry_failed_scopes(list(queryset.values_list("pk", flat=True)))
        try:
            for course_id in courses:
                recompute_dirty_scopes.apply_async(args=[[course_id]], queue=conf.celery_queue())
        except Exception as exc:  # noqa: BLE001 - the markers are stored; the sweep recomputes them
            self.message_user(request, f"Marked for recompute, but Celery is unreachable ({exc}); the next "
                                       "task run after the sweep interval recomputes them.", messages.WARNING)
            return
        self.message_user(request, f"{len(courses)} course(s) sent for recompute.", messages.SUCCESS)


class GatewayCallerForm(forms.ModelForm):
    """A caller's grants must be kinds the event registry knows."""

    class Meta:
        model = GatewayCaller
        fields = ("user", "enabled", "grants", "organizations", "courses", "throttle_rate")

    def clean_grants(self) -> str:
        """Refuse a kind of events the registry has no family for."""
        grants = self.cleaned_data["grants"]
        unknown = sorted({word for word in grants.replace(",", " ").split()} - set(GRANTS))
        if unknown:
            raise forms.ValidationError(f"Unknown kinds {', '.join(unknown)}; use {', '.join(GRANTS)}.")
        return grants


@admin.register(GatewayCaller)
class GatewayCallerAdmin(admin.ModelAdmin):
    """Systems sending events through the ingest gateway: their grants, counts and latest rejections.

    The user also needs the ``send_learning_events`` permission (a user or group permission);
    its key comes from ``ingest_api_key`` (or it authenticates by JWT).
    """

    form = GatewayCallerForm
    list_display = ("user", "enabled", "grants", "accepted", "duplicates", "rejected", "last_seen")
    list_filter = ("enabled",)
    search_fields = ("user__username", "organizations", "courses")
    raw_id_fields = ("user",)
    readonly_fields = ("accepted", "duplicates", "rejected", "last_seen", "rejections")

    @admin.display(description="latest rejected items")
    def rejections(self, caller: GatewayCaller) -> str:
        """The latest rejected items: when, position and id, event name, field, reason (no payload is kept)."""
        rows = caller.latest_rejections if isinstance(caller.latest_rejections, list) else []
        if not rows:
            return "none"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (row.get("time", ""), row.get("index", ""), row.get("id") or "", row.get("field", ""),
             row.get("reason", ""), row.get("detail", "")) for row in rows if isinstance(row, dict)))
        return format_html("<table><tr><th>time</th><th>index</th><th>id</th><th>field</th><th>reason</th>"
                           "<th>detail</th></tr>{}</table>", body)
