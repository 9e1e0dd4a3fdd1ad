"""URLs of the Insights-compatible API, as Insights' data API (``analytics_data_api.v0.urls``) laid them out.

A course id is one path segment (``course-v1:...``) or three (``Org/Num/Run``). Module ids
(problems, subsections, videos) take the rest of the path up to the endpoint's last word:
usage keys and Insights' ``<course id>|<video id>`` hold slashes and ``+``. The module
endpoints are served at the root, as Insights' client calls them (the course read from the
id), and under ``courses/{course_id}/`` too. Each also takes a format suffix, ``.csv`` or
``.json``, in place of its last slash (``.../enrollment.csv``), like ``?format=`` and ``Accept``.
"""
from django.urls import re_path
from rest_framework.urlpatterns import format_suffix_patterns

from openedx_analytics.api.insights import lists, modules, views

app_name = "insights"

COURSE = r"courses/(?P<course_id>[^/]+(?:/[^/]+/[^/]+)?)"
MODULE = r"(?P<module_id>[\s\S]+)"

COURSE_URLS = [
    ("activity", views.ActivityView, "activity"),
    ("recent_activity", views.RecentActivityView, "recent_activity"),
    ("enrollment", views.EnrollmentView, "enrollment_latest"),
    ("enrollment/mode", views.EnrollmentModeView, "enrollment_by_mode"),
    ("enrollment/birth_year", views.BirthYearView, "enrollment_by_birth_year"),
    ("enrollment/education", views.EducationView, "enrollment_by_education"),
    ("enrollment/gender", views.GenderView, "enrollment_by_gender"),
    ("enrollment/location", views.LocationView, "enrollment_by_location"),
    ("problems", views.ProblemsView, "problems"),
    ("problems_and_tags", views.ProblemsAndTagsView, "problems_and_tags"),
    ("videos", views.VideosView, "videos"),
    ("reports/(?P<report_name>[a-zA-Z0-9_]+)", views.ReportView, "reports"),
]
MODULE_URLS = [
    ("problems", "answer_distribution", modules.AnswerDistributionView),
    ("problems", "grade_distribution", modules.GradeDistributionView),
    ("problems", "sequential_open_distribution", modules.SequentialOpenView),
    ("videos", "timeline", modules.VideoTimelineView),
]

urlpatterns = format_suffix_patterns([
    *[re_path(rf"^{COURSE}/{suffix}/$", view.as_view(), name=name) for suffix, view, name in COURSE_URLS],
    *[re_path(rf"^{COURSE}/{kind}/{MODULE}/{endpoint}/$", view.as_view(), name=f"course_{endpoint}")
      for kind, endpoint, view in MODULE_URLS],
    *[re_path(rf"^{kind}/{MODULE}/{endpoint}/$", view.as_view(), name=endpoint)
      for kind, endpoint, view in MODULE_URLS],
    re_path(r"^course_summaries/$", lists.CourseSummariesView.as_view(), name="course_summaries"),
    re_path(r"^course_totals/$", lists.CourseTotalsView.as_view(), name="course_totals"),
], allowed=["json", "csv"])
