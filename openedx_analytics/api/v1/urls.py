"""URLs of REST API v1, written so that every id a list returns opens its detail, raw or URL-encoded.

A course id is one path segment (``course-v1:Org+Num+Run``, or any text, which the view
answers with 400) or three (the old ``Org/Num/Run``). Video and problem ids may hold
slashes too (``i4x://Org/Num/video/<id>``), so they take the rest of the path up to the
endpoint's last word, whatever characters it holds. Django decodes ``%2F`` before
matching, so an encoded id and a raw one reach the view alike; ``reverse()`` gives back
URLs these patterns read.
"""
from django.urls import path, re_path

from openedx_analytics.api.v1 import docs, gateway, research_export, site, views

app_name = "v1"

COURSE = r"courses/(?P<course_id>[^/]+(?:/[^/]+/[^/]+)?)"
#: Any text, newlines included (``.`` would miss them): an id as stored, whatever it holds, opens.
ANY = r"[\s\S]+"

urlpatterns = [
    path("courses/", views.CourseListView.as_view(), name="courses"),
    path("site/activity/", site.SiteActivityView.as_view(), name="site-activity"),
    path("events/", gateway.EventsView.as_view(), name="events"),
    re_path(rf"^{COURSE}/summary/$", views.CourseSummaryView.as_view(), name="course-summary"),
    re_path(rf"^{COURSE}/enrollment/$", views.EnrollmentView.as_view(), name="course-enrollment"),
    re_path(rf"^{COURSE}/activity/$", views.ActivityView.as_view(), name="course-activity"),
    re_path(rf"^{COURSE}/videos/$", views.VideosView.as_view(), name="course-videos"),
    re_path(rf"^{COURSE}/videos/outline/$", views.VideoOutlineView.as_view(), name="course-video-outline"),
    re_path(rf"^{COURSE}/videos/(?P<video_id>{ANY})/timeline/$", views.VideoTimelineView.as_view(),
            name="video-timeline"),
    re_path(rf"^{COURSE}/problems/$", views.ProblemsView.as_view(), name="course-problems"),
    re_path(rf"^{COURSE}/problems/graded/$", views.GradedContentView.as_view(), name="course-graded-content"),
    re_path(rf"^{COURSE}/problems/ungraded/$", views.UngradedProblemsView.as_view(), name="course-ungraded-problems"),
    re_path(rf"^{COURSE}/problems/outcomes/$", views.LearningOutcomesView.as_view(), name="course-learning-outcomes"),
    re_path(rf"^{COURSE}/problems/(?P<problem_id>{ANY})/answers/$", views.AnswersView.as_view(),
            name="problem-answers"),
    re_path(rf"^{COURSE}/reports/problem_responses/$", views.ProblemResponseReportView.as_view(),
            name="course-problem-responses"),
    re_path(rf"^{COURSE}/research_export/$", research_export.CourseResearchExportView.as_view(),
            name="course-research-export"),
    re_path(r"^orgs/(?P<org>[^/]+)/research_export/$", research_export.OrgResearchExportView.as_view(),
            name="org-research-export"),
    re_path(rf"^{COURSE}/grades/$", views.GradesView.as_view(), name="course-grades"),
    re_path(rf"^{COURSE}/content/$", views.ContentEngagementView.as_view(), name="course-content"),
    re_path(rf"^{COURSE}/learners/$", views.LearnersView.as_view(), name="course-learners"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
]
