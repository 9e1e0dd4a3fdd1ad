"""URLs the plugin adds to the LMS: the REST API under ``api/analytics/``, the course page under ``analytics/``."""
from django.urls import include, path

app_name = "openedx_analytics"

urlpatterns: list = [
    path("api/analytics/", include("openedx_analytics.api.urls")),
    path("analytics/", include("openedx_analytics.dashboard.urls")),
]
