"""URLs of the analytics pages: a course's (ids may hold slashes: old ``Org/Num/Run`` ids), the site overview."""
from django.urls import re_path

from openedx_analytics.dashboard import site, views

app_name = "dashboard"

urlpatterns = [
    re_path(r"^site/$", site.site_overview, name="site"),
    re_path(r"^courses/(?P<course_id>.+)/$", views.course_dashboard, name="course"),
]
