"""Views of the Insights-compatible API over many courses: ``course_summaries/`` and ``course_totals/``
(GET, or POST with the same parameters as a form, as Insights' client sends long id lists).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import access, api
from openedx_analytics.api import params as api_params
from openedx_analytics.api import rows as api_rows
from openedx_analytics.api.insights import serializers as shapes
from openedx_analytics.api.insights.base import (
    InsightsError,
    InsightsView,
    malformed,
    split,
)
from openedx_analytics.lms import courses as lms_courses


class CourseListView(InsightsView):
    """What ``course_summaries/`` and ``course_totals/`` share: the courses asked for (GET query or POST
    form), among those the caller may read and the rollout gate opened."""

    def data(self) -> QueryDict:
        """The parameters: the query string (GET) or the form (POST, Insights' client for many ids)."""
        return self.request.data if self.request.method == "POST" else self.request.query_params

    def listed(self, name: str) -> list[str] | None:
        """A list parameter: comma-separated (GET), repeated or comma-separated (POST form, or a JSON list)."""
        data = self.data()
        return split(data.getlist(name) if hasattr(data, "getlist") else data.get(name))

    def wanted(self) -> list[str]:
        """The readable courses among ``course_ids`` (Insights' 400 body for a malformed one)."""
        raw = self.listed("course_ids")
        wanted = None
        if raw is not None:
            wanted = []
            for course in raw:
                try:  # an unencoded + in a query string arrives as a space: read it back
                    wanted.append(api_params.course_id(api_params.course_text(course)))
                except api_params.InvalidParameter:
                    raise malformed(course) from None
        return access.visible_courses(self.request.user, wanted=wanted)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """As GET, with the parameters in the form (it changes nothing)."""
        return self.get(request, *args, **kwargs)


def availability(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime) -> str:
    """Insights' availability: Upcoming, Current, Archived (unknown without a start)."""
    if start is None:
        return "unknown"
    if now < start:
        return "Upcoming"
    if end is not None and end <= now:
        return "Archived"
    return "Current"


def catalog_facts(course_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each course's title, catalog course, dates, pacing and availability, from the LMS's course overviews."""
    now = dt.datetime.now(dt.timezone.utc)
    found = {}
    for course, overview in lms_courses.course_overviews(course_ids).items():
        try:
            key = CourseKey.from_string(course)
            catalog = f"{key.org}+{key.course}"
        except InvalidKeyError:
            catalog = None
        found[course] = {"catalog_course_title": overview["name"], "catalog_course": catalog,
                         "start": overview["start"], "end": overview["end"],
                         "pacing_type": "self_paced" if overview["self_paced"] else "instructor_paced",
                         "availability": availability(overview["start"], overview["end"], now)}
    return found


@extend_schema(request={"application/x-www-form-urlencoded": shapes.CourseListForm},
               summary="Summary of each course (Insights: CourseMetaSummaryEnrollmentSerializer)",
               description="course_id, catalog_course_title, catalog_course, start_date, end_date, pacing_type, "
                           "availability, count, cumulative_count, count_change_7_days, recent_count_change, "
                           "passing_users, enrollment_modes, created (and programs when asked). POST takes the same "
                           "parameters as a form, for long course id lists. 404 when no course is readable.",
               parameters=[OpenApiParameter(name, str, description=text) for name, text in (
                   ("course_ids", "Comma-separated course ids (default: every course the caller may read)."),
                   ("fields", "Comma-separated fields to return."), ("exclude", "Comma-separated fields to leave out."),
                   ("recent_date", "YYYY-MM-DD in the past: recent_count_change is count minus that day's count."),
                   ("programs", "Any value: add programs (we hold none: an empty list)."))],
               responses=shapes.CourseSummarySchema(many=True))
class CourseSummariesView(CourseListView):
    """``course_summaries/``."""

    slug = "course_summaries"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One summary per readable course asked for."""
        data = self.data()
        recent_raw = data.get("recent_date")
        recent: dt.date | None = None
        if recent_raw:
            try:
                recent = dt.datetime.strptime(recent_raw, "%Y-%m-%d").date()
            except ValueError:
                raise InsightsError(400, "invalid_recent_date", f"Error in recent_date: {recent_raw!r} is not "
                                    "YYYY-MM-DD") from None
            if recent >= dt.datetime.now(dt.timezone.utc).date():
                raise InsightsError(400, "invalid_recent_date", f'Error in recent_date: "{recent}" is not in the past')
        fields = self.listed("fields")
        exclude = self.listed("exclude") or []
        programs = [] if self.listed("programs") else None
        courses = self.wanted()
        summaries = api.get_course_summaries(courses)
        facts = catalog_facts(courses)
        found = []
        for summary in summaries:
            course = summary["course_id"]
            recent_count = api.enrolled_on(course, [recent])[recent] if recent else None
            row = shapes.course_summary(summary, facts.get(course, {}), recent_count, programs)
            found.append(shapes.select(row, fields, exclude))
        return self.found(found, (s["last_updated"] for s in summaries))


@extend_schema(request={"application/x-www-form-urlencoded": shapes.CourseListForm},
               summary="Totals over courses (Insights: course_totals)",
               description="count, cumulative_count, count_change_7_days, verified_enrollment, summed over the "
                           "readable courses among course_ids (all readable courses without it).",
               parameters=[OpenApiParameter("course_ids", str, description="Comma-separated course ids.")],
               responses=shapes.CourseTotalsSchema())
class CourseTotalsView(CourseListView):
    """``course_totals/``."""

    slug = "course_totals"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The sums (nulls when no course is readable, as Insights' Sum over no rows)."""
        summaries = api.get_course_summaries(self.wanted())
        self.last_updated = api_rows.latest(s["last_updated"] for s in summaries)

        def total(values: list[int]) -> int | None:
            return sum(values) if summaries else None

        return Response({
            "count": total([s["count"] for s in summaries]),
            "cumulative_count": total([s["cumulative_count"] for s in summaries]),
            "count_change_7_days": total([s["count_change_7_days"] for s in summaries]),
            "verified_enrollment": total([shapes.mode_count(s["enrollment_modes"] or {}, "verified")
                                          for s in summaries]),
        })
