"""URLs the plugin adds to the LMS (REST API under ``api/analytics/``)."""
from django.urls import include, path

app_name = "openedx_analytics"

urlpatterns: list = [
    path("api/analytics/", include("openedx_analytics.api.urls")),
]
