"""REST API versions, under ``api/analytics/``."""
from django.urls import include, path

urlpatterns: list = [
    path("v1/", include("openedx_analytics.api.v1.urls")),
    path("insights/v1/", include("openedx_analytics.api.insights.urls")),
]
