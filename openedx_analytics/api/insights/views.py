"""Views of the Insights-compatible API: Insights' endpoints answered from our Python API.

Each view reads our figures through ``openedx_analytics.api`` (and ``api.compat``) and
reshapes them with ``serializers``; none computes a figure of its own. They share the v1
API's machinery (``AnalyticsView``: throttling, ``Cache-Control``, ``Last-Updated``, format
negotiation) and its rules of access (``access.course_for``: the caller's roles, the course's
existence, the rollout gate), and add what Insights' callers expect:

- ``Authorization: Token <key>`` (an ``insights`` service key), besides JWT and session;
- only the latest row when no dates are given; ``start_date`` inclusive, ``end_date``
  exclusive (``YYYY-MM-DD``, or Insights' ``YYYY-MM-DDTHHMMSS``);
- 404 for an empty result, and Insights' error bodies (``error_code``, ``developer_message``)
  for a malformed course id and an unknown report;
- CSV in Insights' columns and file names (``<org>-<course>-<run>--<slug>.csv``).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import access, api
from openedx_analytics.api import compat, learners
from openedx_analytics.api import outline as outline_api
from openedx_analytics.api import params as api_params
from openedx_analytics.api import rows as api_rows
from openedx_analytics.api.insights import serializers as shapes
from openedx_analytics.api.insights.renderers import InsightsCSVRenderer
from openedx_analytics.api.v1 import params, permissions
from openedx_analytics.api.v1.key_auth import InsightsKeyAuthentication
from openedx_analytics.api.v1.views import AnalyticsView
from openedx_analytics.lms import courses as lms_courses

#: Insights' ``ENABLED_REPORT_IDENTIFIERS``.
REPORTS = ("problem_response",)
_INSIGHTS_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T\d{6}$")
_UNSAFE = re.compile(r"[^\w.-]")

_COURSE = OpenApiParameter("course_id", str, OpenApiParameter.PATH, description="Course id.")
_DATES = [
    OpenApiParameter("start_date", OpenApiTypes.DATE, description="First day included (YYYY-MM-DD, UTC)."),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description="First day excluded (YYYY-MM-DD, UTC)."),
]
_LATEST = " Without dates, only the latest row. 404 when there is no row."


class InsightsError(APIException):
    """An error in Insights' body: ``{"error_code": ..., "developer_message": ...}``."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__({"error_code": error_code, "developer_message": message})
        self.status_code = status


def malformed(course_id: str) -> InsightsError:
    """Insights' 400 for a course id it cannot parse."""
    return InsightsError(400, "course_key_malformed", f"Course id/key {course_id} malformed.")


def dates(query: QueryDict) -> tuple[dt.date | None, dt.date | None]:
    """``start_date``/``end_date`` as our API reads them, Insights' ``YYYY-MM-DDTHHMMSS`` form accepted too."""
    plain = query.copy()
    for name in params.DATE_PARAMS:
        match = _INSIGHTS_DATETIME.match(query.get(name, ""))
        if match:
            plain[name] = match.group(1)
    return params.date_range(plain)


def split(raw: Any) -> list[str] | None:
    """A comma-separated parameter (GET) or a repeated one (POST) as a list; None when absent or empty."""
    if raw is None:
        return None
    values = raw if isinstance(raw, list) else [raw]
    found = [item.strip() for value in values for item in str(value).split(",") if item.strip()]
    return found or None


def filename_course(course_id: str) -> str:
    """``<org>-<course>-<run>``, as Insights named its CSV downloads."""
    key = CourseKey.from_string(course_id)
    return "-".join([key.org, key.course, key.run])


class InsightsSchema(AutoSchema):
    """The schema of an Insights-compatible endpoint: tagged ``insights`` in the shared OpenAPI document."""

    def get_tags(self) -> list[str]:
        """One tag for the whole compatible API."""
        return ["insights"]


class InsightsView(AnalyticsView):
    """What every Insights-compatible endpoint shares: service keys, Insights' CSV, 404 when empty."""

    authentication_classes = (InsightsKeyAuthentication, JwtAuthentication, SessionAuthentication)
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, InsightsCSVRenderer)
    schema = InsightsSchema()
    #: Insights ignored the dates where it did not use them; so do we (no 400).
    takes_dates = True
    #: The slug of the CSV file name (``<org>-<course>-<run>--<slug>.csv``).
    slug = ""
    course_id = ""

    def course(self, raw_course_id: str) -> str:
        """The course the caller may read (Insights' 400 body for a malformed id; 403 or 404 as v1)."""
        try:
            return access.course_for(self.request.user, raw_course_id)
        except access.Refused as refused:
            if refused.status == 400:
                raise malformed(raw_course_id) from None
            raise permissions.as_api_exception(refused) from None

    def csv_filename(self) -> str:
        """Insights' ``<org>-<course>-<run>--<slug>.csv`` (or ``<slug>.csv`` without a course)."""
        if not self.course_id:
            return f"{self.slug}.csv"
        try:
            return f"{filename_course(self.course_id)}--{self.slug}.csv"
        except InvalidKeyError:
            return f"{_UNSAFE.sub('_', self.course_id)}--{self.slug}.csv"

    def found(self, rows: list[dict[str, Any]], stamps: Any = ()) -> Response:
        """The rows, or 404 when there are none (Insights answered an empty result so)."""
        if not rows:
            raise NotFound()
        self.last_updated = api_rows.latest(stamps)
        return Response(rows)


class CourseInsightsView(InsightsView):
    """An endpoint under ``courses/{course_id}/``."""

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """Resolve the course before anything is read."""
        self.course_id = self.course(kwargs["course_id"])


def latest_or_between(rows: list[dict[str, Any]], start: dt.date | None, end: dt.date | None
                      ) -> list[dict[str, Any]]:
    """Insights' rule: the rows between the dates, or only the last row when neither is given."""
    if start is None and end is None:
        return rows[-1:]
    return rows


@extend_schema(summary="Daily enrollment (Insights: CourseEnrollmentDailySerializer)",
               description="course_id, date, count, created." + _LATEST, parameters=[_COURSE, *_DATES],
               responses=shapes.EnrollmentSchema(many=True))
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
                           "(no-id-professional included), verified, masters." + _LATEST,
               parameters=[_COURSE, *_DATES], responses=shapes.EnrollmentModeSchema(many=True))
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
               parameters=[_COURSE, *_DATES], responses=shapes.BirthYearSchema(many=True))
class BirthYearView(DemographicView):
    """``courses/{course_id}/enrollment/birth_year/``."""

    slug = "enrollment-age"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """One row per birth year, and the unknown."""
        return shapes.birth_year(self.course_id, today, counts)


@extend_schema(summary="Enrolled learners by education, now (Insights: CourseEnrollmentByEducationSerializer)",
               description="course_id, date, education_level (null: unknown), count, created. Not suppressed.",
               parameters=[_COURSE, *_DATES], responses=shapes.EducationSchema(many=True))
class EducationView(DemographicView):
    """``courses/{course_id}/enrollment/education/``."""

    slug = "enrollment-education"

    def rows(self, counts: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
        """One row per education level held, and the unknown."""
        return shapes.education(self.course_id, today, counts, [code for code, _l in learners.EDUCATION_LEVELS])


@extend_schema(summary="Enrolled learners by gender, now (Insights: CourseEnrollmentByGenderSerializer)",
               description="course_id, date, female, male, other, unknown, created. Not suppressed.",
               parameters=[_COURSE, *_DATES], responses=shapes.GenderSchema(many=True))
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
               parameters=[_COURSE, *_DATES], responses=shapes.LocationSchema(many=True))
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
                           "interval_end < end_date (Insights' rule)." + _LATEST,
               parameters=[_COURSE, *_DATES, OpenApiParameter("activity_type", str, description="Ignored, "
                                                              "as Insights did: every type is in each row.")],
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
               parameters=[_COURSE, OpenApiParameter("activity_type", str)], responses=shapes.RecentActivitySchema())
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
               parameters=[_COURSE], responses=shapes.ProblemSchema(many=True))
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
               parameters=[_COURSE], responses=shapes.ProblemTagsSchema(many=True))
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
               parameters=[_COURSE], responses=shapes.VideoSchema(many=True))
class VideosView(CourseInsightsView):
    """``courses/{course_id}/videos/``."""

    slug = "videos"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per video watched in the course."""
        found = api.get_videos(self.course_id)
        return self.found(shapes.videos(self.course_id, found), (v["last_updated"] for v in found))


def course_of_block(block_id: str) -> str | None:
    """The course id a usage key names (None for an id that is not a usage key)."""
    try:
        return str(UsageKey.from_string(block_id).course_key)
    except (InvalidKeyError, ValueError, TypeError):
        return None


class ModuleView(InsightsView):
    """An endpoint about one problem, subsection or video: under ``courses/{course_id}/``, or at the root
    as Insights' client calls it, the course then read from the module's id."""

    module_id = ""

    def module_course(self, module_id: str) -> tuple[str | None, str]:
        """(course id or None, module id) named by a root URL's module id."""
        return course_of_block(module_id), module_id

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """The course (from the URL, or from the module id), checked; 404 when no course can be told."""
        raw = kwargs["module_id"]
        if "course_id" in kwargs:
            self.course_id = self.course(kwargs["course_id"])
            self.module_id = self.module_course(raw)[1]
            return
        course, self.module_id = self.module_course(raw)
        if course is None:
            raise NotFound()
        self.course_id = self.course(course)


@extend_schema(summary="Answer distribution of one problem (Insights: ConsolidatedAnswerDistributionSerializer)",
               description="course_id, module_id, part_id, correct, count (learners whose last answer it is), "
                           "value_id, answer_value, problem_display_name and question_text (null: not held), "
                           "variant, created, consolidated_variant.", responses=shapes.AnswerSchema(many=True))
class AnswerDistributionView(ModuleView):
    """``problems/{problem_id}/answer_distribution/``."""

    slug = "answer_distribution"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every answer row of the problem (404 for a problem without submissions)."""
        problem = api.get_problem(self.course_id, self.module_id)
        if problem is None:
            raise NotFound()
        found = api.get_answer_distribution(self.course_id, self.module_id)
        return self.found(shapes.answer_distribution(self.course_id, self.module_id, found,
                                                     problem["last_updated"]), [problem["last_updated"]])


@extend_schema(summary="Grade distribution of one problem (not held: always 404)",
               description="We hold whether each answer was correct, not its score, so this answers as Insights "
                           "answered a problem without figures: 404.", responses={404: OpenApiTypes.OBJECT})
class GradeDistributionView(ModuleView):
    """``problems/{problem_id}/grade_distribution/``: not held."""

    slug = "grade_distribution"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """404 (after the access checks)."""
        return self.found([])


@extend_schema(summary="Learners who opened a subsection (Insights: SequentialOpenDistributionSerializer)",
               description="module_id, course_id, count (distinct learners who ever viewed anything in it), "
                           "created.", responses=shapes.SequentialOpenSchema(many=True))
class SequentialOpenView(ModuleView):
    """``problems/{module_id}/sequential_open_distribution/``."""

    slug = "sequential_open_distribution"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row: the learners who opened the subsection (404 when none did)."""
        count = compat.subsection_openers(self.course_id, self.module_id)
        now = dt.datetime.now(dt.timezone.utc)
        return self.found(shapes.sequential_open(self.course_id, self.module_id, count, now) if count else [],
                          [now])


@extend_schema(summary="Viewers and views per segment of one video (Insights: VideoTimelineSerializer)",
               description="segment, num_users, num_views, created. The video is named by its pipeline_video_id "
                           "(<course id>|<video id>), or under courses/{course_id}/ by its encoded_module_id.",
               responses=shapes.SegmentSchema(many=True))
class VideoTimelineView(ModuleView):
    """``videos/{video_id}/timeline/``."""

    slug = "video_timeline"

    def module_course(self, module_id: str) -> tuple[str | None, str]:
        """``<course>|<video>`` (Insights' pipeline id), else a usage key, else a bare id (no course)."""
        course, separator, video = module_id.partition(shapes.PIPELINE_SEPARATOR)
        if separator:
            return course, video
        return course_of_block(module_id), module_id

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """As ``ModuleView``; under a course, a pipeline id must name that same course."""
        super().resolve(request, **kwargs)
        if "course_id" in kwargs:
            course, separator, _video = kwargs["module_id"].partition(shapes.PIPELINE_SEPARATOR)
            if separator and course != self.course_id:
                raise NotFound()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Each segment's viewers and views (404 for a video nobody watched)."""
        video = api.get_video(self.course_id, self.module_id)
        if video is None:
            raise NotFound()
        found = api.get_video_timeline(self.course_id, self.module_id)
        return self.found(shapes.timeline(found, video["last_updated"]), [video["last_updated"]])


@extend_schema(summary="Where to download a report (Insights: report download details)",
               description="problem_response only: course_id (file-name safe), report_name, download_url (our "
                           "streamed problem response report, for a signed-in course team member). Other names: "
                           "404 report_file_not_found.",
               parameters=[_COURSE, OpenApiParameter("report_name", str, OpenApiParameter.PATH)],
               responses=shapes.ReportSchema())
class ReportView(CourseInsightsView):
    """``courses/{course_id}/reports/{report_name}/``."""

    slug = "report"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The report's download details, or Insights' 404 body for a report we do not make."""
        report = kwargs["report_name"]
        safe_course = _UNSAFE.sub("_", self.course_id)
        if report not in REPORTS:
            raise InsightsError(404, "report_file_not_found",
                                f"Could not find report '{report}' for course {safe_course}.")
        match = request.resolver_match
        namespace = match.namespace.rpartition(":")[0] if match is not None else ""
        name = f"{namespace}:v1:course-problem-responses" if namespace else "v1:course-problem-responses"
        url = request.build_absolute_uri(reverse(name, kwargs={"course_id": self.course_id}))
        return Response({"course_id": safe_course, "report_name": report, "download_url": url})


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
