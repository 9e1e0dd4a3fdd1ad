"""Django admin for the operator configuration: site-wide settings and rollout overrides, with history."""
from config_models.admin import ConfigurationModelAdmin, KeyedConfigurationModelAdmin
from django.contrib import admin

from openedx_analytics.models import AnalyticsConfiguration, CourseAnalyticsOverride

admin.site.register(AnalyticsConfiguration, ConfigurationModelAdmin)
admin.site.register(CourseAnalyticsOverride, KeyedConfigurationModelAdmin)
