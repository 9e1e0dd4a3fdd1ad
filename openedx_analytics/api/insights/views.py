"""Views of the Insights-compatible API under ``courses/{course_id}/``: enrollment and its breakdowns,
activity, problems, videos, the report link. Each reads our Python API and reshapes (``serializers``);
what they share is in ``base``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import api
from openedx_analytics.api import compat, learners
from openedx_analytics.api import outline as outline_api
from openedx_analytics.api.insights import serializers as shapes
from openedx_analytics.api.insights.base import (
    COURSE_PARAMETER,
    DATE_PARAMETERS,
    LATEST_ONLY,
    REPORTS,
    UNSAFE_FILENAME,
    CourseInsightsView,
    InsightsError,
    dates,
    latest_or_between,
)


@extend_schema(summary="Daily enrollment (Insights: CourseEnrollmentDailySerializer)",
               description="course_id, date, count, created." + LATEST_ONLY,
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.EnrollmentSchema(many=True))
class EnrollmentView(CourseInsightsView):
    """``courses/{course_id}/enrollment/``."""

    slug = "enrollment"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Learners enrolled at the end of each day."""
        start, end = dates(request.query_params)
        days = latest_or_between(api.get_enrollment(self.course_id, start, end), start, end)
        return self.found(shapes.enrollment(self.course_id, days), (d["last_updated"] for d in days))


@extend_schema(summary="Daily enrollment by mode (Insights: CourseEnrollmentModeDailySerializer)",
               description="course_id, date, count, cumulative_count, created, audit, credit, honor, professional "
                           "(no-id-professional included), verified, masters." + LATEST_ONLY,
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.EnrollmentModeSchema(many=True))
class EnrollmentModeView(CourseInsightsView):
    """``courses/{course_id}/enrollment/mode/``."""

    slug = "enrollment_mode"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Learners enrolled at the end of each day, per mode, and ever enrolled."""
        start, end = dates(request.query_params)
        days = latest_or_between(api.get_enrollment(self.course_id, start, end), start, end)
        return self.found(shapes.enrollment_mode(self.course_id, days), (d["last_updated"] for d in days))


class DemographicView(CourseInsightsView):
    """Enrolled learners by a profile field, as of now: one day, today (UTC), unsuppressed.

    We count the profiles of the learners enrolled now, at each request; there is no daily
    history. So a date range answers today's rows when it includes today, else 404.
    """

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """This breakdown's rows (each subclass names its own)."""
        return []

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Today's rows (when the range, if any, includes today)."""
        start, end = dates(request.query_params)
        today = dt.datetime.now(dt.timezone.utc).date()
        if (start is not None and today < start) or (end is not None and today >= end):
            raise NotFound()
        counts = compat.profile_counts(self.course_id)
        found = self.rows(counts, today) if counts["enrolled"] else []
        return self.found(found, [counts["computed_at"]])


@extend_schema(summary="Enrolled learners by birth year, now (Insights: CourseEnrollmentByBirthYearSerializer)",
               description="course_id, date, birth_year (null: unknown), count, created. Not suppressed.",
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.BirthYearSchema(many=True))
class BirthYearView(DemographicView):
    """``courses/{course_id}/enrollment/birth_year/``."""

    slug = "enrollment-age"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """One row per birth year, and the unknown."""
        return shapes.birth_year(self.course_id, today, counts)


@extend_schema(summary="Enrolled learners by education, now (Insights: CourseEnrollmentByEducationSerializer)",
               description="course_id, date, education_level (null: unknown), count, created. Not suppressed.",
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.EducationSchema(many=True))
class EducationView(DemographicView):
    """``courses/{course_id}/enrollment/education/``."""

    slug = "enrollment-education"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """One row per education level held, and the unknown."""
        return shapes.education(self.course_id, today, counts, [code for code, _l in learners.EDUCATION_LEVELS])


@extend_schema(summary="Enrolled learners by gender, now (Insights: CourseEnrollmentByGenderSerializer)",
               description="course_id, date, female, male, other, unknown, created. Not suppressed.",
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.GenderSchema(many=True))
class GenderView(DemographicView):
    """``courses/{course_id}/enrollment/gender/``."""

    slug = "enrollment-gender"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """One row: the four genders."""
        return shapes.gender(self.course_id, today, counts)


def describe_country(code: str) -> dict[str, Any]:
    """Insights' ``country`` object of an ISO alpha-2 code (alpha-3 from django-countries where installed)."""
    try:
        from django_countries import countries
        alpha3 = countries.alpha3(code) or None
    except ImportError:
        alpha3 = None
    return shapes.country(code, learners.country_name(code), alpha3)


@extend_schema(summary="Enrolled learners by country, now (Insights: CourseEnrollmentByCountrySerializer)",
               description="date, course_id, country (alpha2, alpha3, name; UNKNOWN with nulls), count, created. "
                           "The country is the profile's, not the last IP address's. Not suppressed.",
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS], responses=shapes.LocationSchema(many=True))
class LocationView(DemographicView):
    """``courses/{course_id}/enrollment/location/``."""

    slug = "enrollment-location"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """The unknown, then one row per country."""
        return shapes.location(self.course_id, today, counts, describe_country)


def insights_weeks(course_id: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Our weeks under Insights' filter: ``interval_start`` >= start_date, ``interval_end`` < end_date."""
    weeks = api.get_activity(course_id, start, end)
    return [w for w in weeks if (start is None or w["interval_start"] >= start)
            and (end is None or w["interval_end"] < end)]


@extend_schema(summary="Active learners per week (Insights: CourseActivityWeeklySerializer)",
               description="interval_start, interval_end, course_id, any, attempted_problem, played_video, "
                           "posted_forum, created. A week is in the range when interval_start >= start_date and "
                           "interval_end < end_date (Insights' rule)." + LATEST_ONLY,
               parameters=[COURSE_PARAMETER, *DATE_PARAMETERS,
                           OpenApiParameter("activity_type", str,
                                            description="Ignored, as Insights did: every type is in each row.")],
               responses=shapes.ActivitySchema(many=True))
class ActivityView(CourseInsightsView):
    """``courses/{course_id}/activity/``."""

    slug = "engagement-activity"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Each week's active learners by activity type."""
        start, end = dates(request.query_params)
        weeks = latest_or_between(insights_weeks(self.course_id, start, end), start, end)
        return self.found(shapes.activity(self.course_id, weeks), (w["last_updated"] for w in weeks))


@extend_schema(summary="Active learners of the latest week, one type (Insights: CourseActivityByWeekSerializer)",
               description="interval_start, interval_end, activity_type, count, course_id; activity_type (or label) "
                           "any (default), attempted_problem, played_video, posted_forum.",
               parameters=[COURSE_PARAMETER, OpenApiParameter("activity_type", str)],
               responses=shapes.RecentActivitySchema())
class RecentActivityView(CourseInsightsView):
    """``courses/{course_id}/recent_activity/`` (deprecated in Insights, still called)."""

    slug = "recent-activity"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The latest week's learners of one activity type (404 for an unknown type)."""
        wanted = (request.query_params.get("label") or request.query_params.get("activity_type") or "any").lower()
        wanted = "any" if wanted == "active" else wanted
        weeks = api.get_activity(self.course_id)
        if wanted not in shapes.ACTIVITY_TYPES or not weeks:
            raise NotFound()
        self.last_updated = weeks[-1]["last_updated"]
        return Response(shapes.recent_activity(self.course_id, weeks[-1], wanted))


@extend_schema(summary="Problems with submissions (Insights: ProblemSerializer)",
               description="module_id, total_submissions (learners who submitted, Insights' figure), "
                           "correct_submissions (learners whose last submission earned credit), part_ids, created; "
                           "the course's whole history.",
               parameters=[COURSE_PARAMETER], responses=shapes.ProblemSchema(many=True))
class ProblemsView(CourseInsightsView):
    """``courses/{course_id}/problems/``."""

    slug = "problems"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per problem submitted in the course."""
        found = api.get_problems(self.course_id)
        return self.found(shapes.problems(found), (p["last_updated"] for p in found))


@extend_schema(summary="Tagged problems with submissions (Insights: ProblemsAndTagsSerializer)",
               description="module_id, total_submissions, correct_submissions, tags ({\"learning_outcome\": the "
                           "problem's content tag values}), created; tagged problems only (404 when none is).",
               parameters=[COURSE_PARAMETER], responses=shapes.ProblemTagsSchema(many=True))
class ProblemsAndTagsView(CourseInsightsView):
    """``courses/{course_id}/problems_and_tags/``."""

    slug = "problems_and_tags"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per tagged problem submitted in the course, its tags from the course outline."""
        blocks = outline_api.course_structure(self.course_id)["blocks"]
        found = api.get_problems(self.course_id)
        tags = {p["problem_id"]: list((blocks.get(p["problem_id"]) or {}).get("tags") or []) for p in found}
        rows = shapes.problems_and_tags(found, tags)
        return self.found(rows, (p["last_updated"] for p in found if tags.get(p["problem_id"])))


@extend_schema(summary="Videos with viewers at start and end (Insights: VideoSerializer)",
               description="pipeline_video_id (<course id>|<video id>), encoded_module_id (the video id), duration, "
                           "segment_length, users_at_start, users_at_end, created; the course's whole history.",
               parameters=[COURSE_PARAMETER], responses=shapes.VideoSchema(many=True))
class VideosView(CourseInsightsView):
    """``courses/{course_id}/videos/``."""

    slug = "videos"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per video watched in the course."""
        found = api.get_videos(self.course_id)
        return self.found(shapes.videos(self.course_id, found), (v["last_updated"] for v in found))


@extend_schema(summary="Where to download a report (Insights: report download details)",
               description="problem_response only: course_id (file-name safe), report_name, download_url (our "
                           "streamed problem response report, for a signed-in course team member). Other names: "
                           "404 report_file_not_found.",
               parameters=[COURSE_PARAMETER, OpenApiParameter("report_name", str, OpenApiParameter.PATH)],
               responses=shapes.ReportSchema())
class ReportView(CourseInsightsView):
    """``courses/{course_id}/reports/{report_name}/``."""

    slug = "report"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The report's download details, or Insights' 404 body for a report we do not make."""
        report = kwargs["report_name"]
        safe_course = UNSAFE_FILENAME.sub("_", self.course_id)
        if report not in REPORTS:
            raise InsightsError(404, "report_file_not_found",
                                f"Could not find report '{report}' for course {safe_course}.")
        match = request.resolver_match
        namespace = match.namespace.rpartition(":")[0] if match is not None else ""
        name = f"{namespace}:v1:course-problem-responses" if namespace else "v1:course-problem-responses"
        url = request.build_absolute_uri(reverse(name, kwargs={"course_id": self.course_id}))
        return Response({"course_id": safe_course, "report_name": report, "download_url": url})
