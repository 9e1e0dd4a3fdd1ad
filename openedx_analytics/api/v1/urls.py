"""URLs of REST API v1. Course ids may contain slashes (old ``Org/Num/Run`` form), hence the patterns."""
from django.urls import path, re_path

from openedx_analytics.api.v1 import docs, views

app_name = "v1"

COURSE = r"courses/(?P<course_id>.+?)"

urlpatterns = [
    path("courses/", views.CourseListView.as_view(), name="courses"),
    re_path(rf"^{COURSE}/summary/$", views.CourseSummaryView.as_view(), name="course-summary"),
    re_path(rf"^{COURSE}/enrollment/$", views.EnrollmentView.as_view(), name="course-enrollment"),
    re_path(rf"^{COURSE}/activity/$", views.ActivityView.as_view(), name="course-activity"),
    re_path(rf"^{COURSE}/videos/$", views.VideosView.as_view(), name="course-videos"),
    re_path(rf"^{COURSE}/videos/(?P<video_id>[^/]+)/timeline/$", views.VideoTimelineView.as_view(),
            name="video-timeline"),
    re_path(rf"^{COURSE}/problems/$", views.ProblemsView.as_view(), name="course-problems"),
    re_path(rf"^{COURSE}/problems/(?P<problem_id>.+)/answers/$", views.AnswersView.as_view(),
            name="problem-answers"),
    re_path(rf"^{COURSE}/grades/$", views.GradesView.as_view(), name="course-grades"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
]
