"""REST API v1 across courses: distinct active learners per week over every course the caller may see.

Beside ``courses/`` and held to the same rules: authenticated as every endpoint, counted
against the same throttle, never cached (``views.AnalyticsView``). The courses are those of
the site overview for global staff and org-wide roles, those ``courses/`` lists for anyone
else (``access.activity_courses``), narrowed by ``?org=``.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import access
from openedx_analytics.api import site as api_site
from openedx_analytics.api.v1 import params, serializers
from openedx_analytics.api.v1.views import AnalyticsView
from openedx_analytics.lms.roles import course_org

COLUMNS = ("interval_start", "interval_end", "any", "partial")


@extend_schema(
    summary="Distinct active learners per week across the courses the caller may see",
    description="A learner active in several of the courses counts once in a week. Weeks without activity "
                "are absent.",
    parameters=[
        OpenApiParameter("org", str, description="Only the courses of this organization (exact, case-sensitive)."),
        OpenApiParameter("start_date", OpenApiTypes.DATE, description="First day included (YYYY-MM-DD, UTC): "
                                                                      "from the week holding it."),
        OpenApiParameter("end_date", OpenApiTypes.DATE, description="First day excluded (YYYY-MM-DD, UTC)."),
        OpenApiParameter("format", str, enum=["json", "csv"],
                         description="csv: the rows as CSV (or Accept: text/csv)."),
    ],
    responses=serializers.SiteActivityWeekSerializer(many=True),
)
class SiteActivityView(AnalyticsView):
    """Weekly distinct active learners over the caller's courses (``?org=`` narrows)."""

    metric = "site_activity"
    takes_dates = True
    csv_columns = COLUMNS

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The weeks, oldest first."""
        start, end = params.date_range(request.query_params)
        courses = access.activity_courses(request.user)
        org = request.query_params.get("org")
        if org:
            courses = [course for course in courses if course_org(course) == org]
        self.last_updated = api_site.activity_last_updated(courses)
        return Response(api_site.weekly_active_learners(courses, start, end))
