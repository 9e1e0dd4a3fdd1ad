"""URL of the analytics page. Course ids may contain slashes (old ``Org/Num/Run`` ids)."""
from django.urls import re_path

from openedx_analytics.dashboard import views

app_name = "dashboard"

urlpatterns = [
    re_path(r"^courses/(?P<course_id>.+)/$", views.course_dashboard, name="course"),
]
