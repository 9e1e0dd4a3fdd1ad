"""Operator configuration kept in the LMS default database (ConfigurationModels, admin-editable, with history)."""
from __future__ import annotations

from config_models.models import ConfigurationModel
from django.core.exceptions import ValidationError
from django.db import models
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics.models.facts import COURSE_ID_LENGTH


class AnalyticsConfiguration(ConfigurationModel):
    """Site-wide operator settings that must change without a deploy.

    .. no_pii: (``changed_by`` points at the staff user who changed the configuration.)

    .. toggle_name: AnalyticsConfiguration.enabled
    .. toggle_implementation: ConfigurationModel
    .. toggle_default: False
    .. toggle_description: Site-wide operator settings of openedx-analytics; ``enabled`` marks the
       current row as in force (a disabled row means "use the defaults").
    .. toggle_use_cases: open_edx
    .. toggle_creation_date: 2026-11-21
    """

    ANALYTICS_DEFAULT_DB = True

    api_throttle_rate = models.CharField(
        max_length=32, default="120/minute", help_text="Requests per user to the analytics REST API, e.g. 120/minute."
    )

    def clean(self) -> None:
        """Refuse a throttle rate the REST API could not read (``<number>/<second|minute|hour|day>``)."""
        super().clean()
        count, _, period = (self.api_throttle_rate or "").partition("/")
        if not (count.strip().isdigit() and period[:1] in ("s", "m", "h", "d")):
            raise ValidationError({"api_throttle_rate": "Use <number>/<second|minute|hour|day>, e.g. 120/minute."})

    class Meta:
        app_label = "openedx_analytics"


class CourseAnalyticsOverride(ConfigurationModel):
    """Turns analytics on or off for one organization or one course (outside the LMS's own overrides).

    A course row wins over its organization's row, which wins over the waffle flag.

    .. no_pii: (``changed_by`` points at the staff user who changed the override.)

    .. toggle_name: CourseAnalyticsOverride.enabled
    .. toggle_implementation: ConfigurationModel
    .. toggle_default: False
    .. toggle_description: Per-organization and per-course rollout override of the analytics
       waffle flag; ``override_choice`` "on" forces analytics on, "off" forces it off.
    .. toggle_use_cases: opt_in, opt_out
    .. toggle_creation_date: 2026-11-21
    """

    ANALYTICS_DEFAULT_DB = True
    KEY_FIELDS = ("org", "course_id")

    ON, OFF, UNSET = "on", "off", "unset"
    CHOICES = ((ON, "Force on"), (OFF, "Force off"), (UNSET, "Unset"))

    org = models.CharField(max_length=255, blank=True, default="", db_index=True)
    course_id = models.CharField(max_length=COURSE_ID_LENGTH, blank=True, default="", db_index=True)
    override_choice = models.CharField(max_length=5, choices=CHOICES, default=UNSET)
    note = models.TextField(blank=True, default="")

    def clean(self) -> None:
        """A row names one organization or one course, never both (so each key set means one thing)."""
        super().clean()
        if bool(self.org) == bool(self.course_id):
            raise ValidationError("Fill in either the organization or the course id, not both.")
        if self.course_id:
            try:
                self.course_id = str(CourseKey.from_string(self.course_id.strip()))
            except InvalidKeyError:
                raise ValidationError({"course_id": "Not a course id."}) from None

    class Meta:
        app_label = "openedx_analytics"


class InsightsDataApiConfiguration(ConfigurationModel):
    """Where the old Insights data API answers, so the tab can show its numbers beside ours.

    Kept in the admin, not in settings, so an operator can point the tab at the old API,
    rotate its token or turn the switch off without a deploy. ``base_url`` is the same value
    Insights has in ``DATA_API_URL`` (the API's root, ending in ``/api/v0``); ``auth_token``
    is the data API's token Insights sends (``DATA_API_AUTH_TOKEN``). A disabled current row
    (or none) means no old API: the tab shows live numbers only, without the switch.

    .. no_pii: (``changed_by`` points at the staff user who changed the configuration; the token
       is a service credential, not a person's data.)

    .. toggle_name: InsightsDataApiConfiguration.enabled
    .. toggle_implementation: ConfigurationModel
    .. toggle_default: False
    .. toggle_description: The old Insights data API the analytics tab may read "Insights numbers"
       from (base URL and token). When enabled, people the ``openedx_analytics.insights_switch``
       flag lets in see a switch between Insights numbers and live numbers.
    .. toggle_use_cases: temporary, open_edx
    .. toggle_creation_date: 2026-12-07
    .. toggle_target_removal_date: 2027-12-31
    .. toggle_warning: The tab reads the old API server-side on the page request, within
       ``OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT``; point it at an API the LMS can reach quickly.
    """

    ANALYTICS_DEFAULT_DB = True

    base_url = models.URLField(
        max_length=500, blank=True, default="",
        help_text="The Insights data API's root, as Insights' DATA_API_URL, e.g. https://insights-api.example.com/api/v0",
    )
    auth_token = models.CharField(
        max_length=255, blank=True, default="",
        help_text="The data API token Insights uses (DATA_API_AUTH_TOKEN); sent as 'Authorization: Token ...'.",
    )

    def clean(self) -> None:
        """An enabled row needs a base URL (a token-less API is allowed: some run behind a private network)."""
        super().clean()
        if self.enabled and not self.base_url:
            raise ValidationError({"base_url": "Give the Insights data API's root URL, or leave the row disabled."})
        self.base_url = (self.base_url or "").rstrip("/")

    class Meta:
        app_label = "openedx_analytics"
