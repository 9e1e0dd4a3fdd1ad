"""REST API v1 views: read-only, aggregates only (but the problem response report, which names learners
for the course team), through the public Python API.

Every view authenticates like the LMS's own APIs (JWT, then session), throttles per
user (per address for anonymous callers, before any permission check) and answers JSON,
the browsable API or CSV. Course views resolve the course in
``initial`` (400 malformed id, 403 no role, 404 unknown or turned off) before any read.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from openedx_analytics import access, api
from openedx_analytics.api import content as api_content
from openedx_analytics.api import learners as learners_api
from openedx_analytics.api import outline as outline_api
from openedx_analytics.api import params as api_params
from openedx_analytics.api import reports, rows
from openedx_analytics.api.v1 import csv_rows, params, permissions, serializers
from openedx_analytics.api.v1.pagination import AnswerPagination, CoursePagination
from openedx_analytics.api.v1.renderers import CSVRenderer, FormatParameterWins, streamed_csv
from openedx_analytics.api.v1.throttling import AnalyticsThrottle
from openedx_analytics.db import time_limits

log = logging.getLogger(__name__)

LAST_UPDATED_HEADER = "Last-Updated"
#: Every answer of the data endpoints, errors included: nobody but the caller's browser may keep it, not even that.
CACHE_CONTROL = "private, no-store"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")

_FORMAT = OpenApiParameter("format", str, enum=["json", "csv"],
                           description="csv: the rows as CSV (or Accept: text/csv).")
_DATES = [
    OpenApiParameter("start_date", OpenApiTypes.DATE, description="First day included (YYYY-MM-DD, UTC)."),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description="First day excluded (YYYY-MM-DD, UTC)."),
]
_COURSE = OpenApiParameter("course_id", str, OpenApiParameter.PATH,
                           description="Course id: course-v1:Org+Num+Run (or the old Org/Num/Run).")
_VIDEO = OpenApiParameter("video_id", str, OpenApiParameter.PATH,
                          description="A video_id of the videos/ list, raw or URL-encoded (or follow its "
                                      "timeline_url).")
_PROBLEM = OpenApiParameter("problem_id", str, OpenApiParameter.PATH,
                            description="A problem_id of the problems/ list, raw or URL-encoded (or follow its "
                                        "answers_url).")
_WHOLE_HISTORY = "these figures cover the course's whole history."


def filename_part(text: str) -> str:
    """``text`` made safe for a download file name."""
    return _UNSAFE_FILENAME.sub("_", text).strip("_")


class FiguresTooSlow(APIException):
    """503: reading the figures ran past the request's time budget (``db.time_limits``); try again shortly."""

    status_code = 503
    default_code = "read_time_limit"
    #: Seconds a caller is asked to wait (``Retry-After``).
    wait = 30

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Reading these figures took longer than {seconds:g} s. Ask for a shorter date range, "
                         f"or try again in {self.wait} s.")


class AnalyticsView(APIView):
    """Authentication, throttling, renderers and the ``Last-Updated`` header shared by every endpoint."""

    authentication_classes = (JwtAuthentication, SessionAuthentication)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, CSVRenderer)
    content_negotiation_class = FormatParameterWins
    throttle_classes = (AnalyticsThrottle,)
    schema = AutoSchema()
    #: Names the CSV download: ``<course>_<metric>.csv``.
    metric = ""
    #: Whether ``start_date``/``end_date`` apply; endpoints over the whole history refuse them (400).
    takes_dates = False
    last_updated: dt.datetime | None = None
    #: Whether this request was counted already (``perform_authentication`` counts it, ``initial`` would again).
    throttle_checked = False

    def perform_authentication(self, request: Request) -> None:
        """Authenticate, then count the request at once, before any permission check, also when the
        credentials are refused: an anonymous caller or one with a bad token gets 429 past the rate
        (counted by address) instead of an endless stream of 401s."""
        try:
            super().perform_authentication(request)
        finally:
            self.check_throttles(request)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Answer with every database read inside the request's time budget (``db.time_limits``)."""
        with time_limits.time_budget():
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        """A read stopped at the time budget answers 503 with ``Retry-After`` and says why, never a 500."""
        if time_limits.hit_time_limit(exc):
            seconds = getattr(exc, "seconds", None) or time_limits.configured_seconds()
            log.warning("openedx_analytics: %s took longer than %g s to read; answered 503", self.request.path, seconds)
            exc = FiguresTooSlow(seconds)
        return super().handle_exception(exc)

    def check_throttles(self, request: Request) -> None:
        """Count the request once (the first call, from ``perform_authentication``)."""
        if self.throttle_checked:
            return
        self.throttle_checked = True
        super().check_throttles(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, check permissions and throttle, then refuse filters this endpoint cannot apply."""
        super().initial(request, *args, **kwargs)
        self.resolve(request, **kwargs)
        if not self.takes_dates:
            params.refuse(request.query_params, params.DATE_PARAMS, _WHOLE_HISTORY)

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """Check what the URL names (nothing here; a course for course endpoints)."""

    #: The columns this endpoint's CSV always has, rows or none (``csv_header``).
    csv_columns: tuple[str, ...] = ()

    def csv_filename(self) -> str:
        """The file name of this response as a CSV download."""
        return f"{self.metric}.csv"

    def csv_header(self) -> tuple[str, ...]:
        """The columns of this response's CSV even without rows: an empty course gives a header, not a blank file."""
        return self.csv_columns

    def url(self, name: str, **ids: str) -> str:
        """The absolute URL of endpoint ``name`` for ``ids``, wherever the host mounts the API.

        ``reverse()`` quotes the ids the way the URL patterns read them back, so a list can
        hand out links to its details (an id with slashes included).
        """
        match = self.request.resolver_match
        view = f"{match.namespace}:{name}" if match is not None and match.namespace else name
        return self.request.build_absolute_uri(reverse(view, kwargs=ids))

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """Keep every answer out of shared and browser caches; state when the figures were last
        recomputed; name CSV downloads (streamed ones too).

        ``private, no-store`` as the page sends: the figures include learners' answers, and a
        refusal (401, 403, 429) must not be cached in a proxy either.
        """
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = CACHE_CONTROL
        if not getattr(response, "exception", False):
            response[LAST_UPDATED_HEADER] = self.last_updated.isoformat() if self.last_updated else "never"
            renderer = getattr(response, "accepted_renderer", getattr(request, "accepted_renderer", None))
            if renderer is not None and renderer.format == "csv":
                response["Content-Disposition"] = f'attachment; filename="{self.csv_filename()}"'
        return response


class CourseView(AnalyticsView):
    """An endpoint about one course, named in the URL."""

    course_id = ""

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """Resolve the course (400/403/404) before anything is read."""
        self.course_id = permissions.course_for(request.user, kwargs["course_id"])

    def csv_filename(self) -> str:
        """``<course id>_<metric>.csv``."""
        return f"{filename_part(self.course_id)}_{self.metric}.csv"


@extend_schema(
    summary="Courses the caller may see, with their summary figures",
    parameters=[
        OpenApiParameter("search", str, description="Only course ids containing this text (any case)."),
        OpenApiParameter("course_ids", str, description="Only these courses (comma-separated course ids)."),
        OpenApiParameter("page", int, description="Page number (from 1)."),
        OpenApiParameter("page_size", int, description="Courses per page (default 100, at most 1000)."),
        _FORMAT,
    ],
    responses=serializers.CoursePageSerializer,
)
class CourseListView(AnalyticsView):
    """Summary figures of every course the caller may see."""

    metric = "courses"
    pagination_class = CoursePagination
    csv_columns = (*csv_rows.SUMMARY_COLUMNS, "summary_url")

    def csv_rows(self, data: Any) -> list[dict[str, Any]]:
        """Every permitted course's summary, its figures named for people."""
        return csv_rows.summaries(data["results"] if isinstance(data, dict) else data)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One page of course summaries (every row for CSV), sorted by course id."""
        courses = access.visible_courses(
            request.user, wanted=params.course_ids(request.query_params.get("course_ids")),
            search=api_params.course_search(request.query_params.get("search")))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(courses, request, view=self)
        summaries = api.get_course_summaries(page if page is not None else courses)
        self.last_updated = rows.latest(s["last_updated"] for s in summaries)
        summaries = rows.linked(summaries, "summary_url",
                                lambda s: self.url("course-summary", course_id=s["course_id"]))
        if page is None:
            return Response(summaries)
        return paginator.get_paginated_response(summaries)


@extend_schema(summary="Summary figures of one course", parameters=[_COURSE, _FORMAT],
               responses=serializers.CourseSummarySerializer)
class CourseSummaryView(CourseView):
    """Summary figures of one course."""

    metric = "summary"
    csv_columns = csv_rows.SUMMARY_COLUMNS

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The course's current enrollment, passing learners, certificates and last week's activity."""
        summary = api.get_course_summary(self.course_id)
        self.last_updated = summary["last_updated"]
        return Response(summary)

    def csv_rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The summary as one row, its figures named for people."""
        return csv_rows.summaries([data])


@extend_schema(
    summary="Daily enrollment, with one field per mode",
    description="Every row has the standard modes; other modes of the course are added as fields by name.",
    parameters=[_COURSE, *_DATES, _FORMAT], responses=serializers.EnrollmentDaySerializer(many=True),
)
class EnrollmentView(CourseView):
    """Daily enrollment of one course."""

    metric = "enrollment"
    takes_dates = True
    csv_columns = csv_rows.ENROLLMENT_COLUMNS

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Daily rows between the dates (the whole history without them)."""
        start, end = params.date_range(request.query_params)
        days = api.get_enrollment(self.course_id, start, end)
        self.last_updated = rows.latest(d["last_updated"] for d in days)
        return Response(rows.enrollment(days))

    def csv_rows(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Enrolled and ever enrolled learners per day, by those names."""
        return csv_rows.enrollment(data)


@extend_schema(
    summary="Active learners per ISO week (default) or per day",
    parameters=[
        _COURSE,
        *_DATES,
        OpenApiParameter("granularity", str, enum=list(params.GRANULARITIES), default="week"),
        _FORMAT,
    ],
    responses=PolymorphicProxySerializer(
        component_name="ActivityRow",
        serializers=[serializers.ActivityWeekSerializer, serializers.ActivityDaySerializer],
        resource_type_field_name=None, many=True,
    ),
)
class ActivityView(CourseView):
    """Active learners of one course, per week or per day."""

    metric = "activity"
    takes_dates = True
    granularity = "week"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Weekly rows (a week is included when it starts before ``end_date`` and ends after ``start_date``)."""
        start, end = params.date_range(request.query_params)
        granularity = params.granularity(request.query_params)
        periods = api.get_activity(self.course_id, start, end, granularity=granularity)
        self.last_updated = rows.latest(p["last_updated"] for p in periods)
        self.granularity = granularity
        self.csv_columns = csv_rows.ACTIVITY_COLUMNS[granularity]
        if granularity == "day":
            self.metric = "activity_daily"
        return Response(rows.without(periods, "last_updated"))

    def csv_rows(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The measures by their names, with the learners enrolled at the end of each period."""
        return csv_rows.activity(self.course_id, data, self.granularity)


@extend_schema(summary="Videos of the course with viewers at start and end",
               description="As CSV: one row per video in course order, named and placed in the course outline, "
                           "with columns named for what they count: " + ", ".join(csv_rows.VIDEO_COLUMNS) + ". "
                           "Without dates, the course's whole history; with them, the viewings whose play and "
                           "closing event both fall between them.",
               parameters=[_COURSE, *_DATES, _FORMAT], responses=serializers.VideoSerializer(many=True))
class VideosView(CourseView):
    """Per-video figures of one course."""

    metric = "videos"
    csv_columns = csv_rows.VIDEO_COLUMNS
    takes_dates = True

    def csv_rows(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Videos in course order with their names and places, in columns named for what they count."""
        return csv_rows.videos(self.course_id, data)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per video watched in the course (between the dates: in viewings within them)."""
        start, end = params.date_range(request.query_params)
        videos = api.get_videos(self.course_id, start, end)
        self.last_updated = rows.latest(v["last_updated"] for v in videos)
        return Response(rows.linked(
            rows.without(videos, "last_updated"), "timeline_url",
            lambda v: self.url("video-timeline", course_id=self.course_id, video_id=v["video_id"])))


@extend_schema(summary="Viewers and views per segment of one video",
               parameters=[_COURSE, _VIDEO, _FORMAT], responses=serializers.SegmentSerializer(many=True))
class VideoTimelineView(CourseView):
    """Viewers per segment of one video."""

    csv_columns = csv_rows.TIMELINE_COLUMNS
    video: dict[str, Any] | None = None

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per segment up to the video's last watched segment (empty for an unknown video)."""
        video_id = kwargs["video_id"]
        self.metric = f"video_timeline_{filename_part(video_id)}"
        video = self.video = api.get_video(self.course_id, video_id)
        self.last_updated = video["last_updated"] if video else None
        return Response(api.get_video_timeline(self.course_id, video_id) if video else [])

    def csv_rows(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each segment's start second, unique viewers, replays and views, and the end mark Finished counts."""
        return csv_rows.timeline(data, self.video)


@extend_schema(summary="Problems of the course with submissions and correctness",
               description="As CSV: one row per problem in course order, named and placed in the course outline, "
                           "with columns named for what they count: " + ", ".join(csv_rows.PROBLEM_COLUMNS) + ". "
                           "Without dates, the course's whole history; with them, the submissions made between "
                           "them (each learner's last one there counts).",
               parameters=[_COURSE, *_DATES, _FORMAT], responses=serializers.ProblemSerializer(many=True))
class ProblemsView(CourseView):
    """Per-problem figures of one course."""

    metric = "problems"
    csv_columns = csv_rows.PROBLEM_COLUMNS
    takes_dates = True

    def csv_rows(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Problems in course order with their names and places; ``correct_submissions`` named as learners."""
        return csv_rows.problems(self.course_id, data)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One row per problem submitted in the course (between the dates, if given)."""
        start, end = params.date_range(request.query_params)
        problems = api.get_problems(self.course_id, start, end)
        self.last_updated = rows.latest(p["last_updated"] for p in problems)
        return Response(rows.linked(
            rows.without(problems, "last_updated"), "answers_url",
            lambda p: self.url("problem-answers", course_id=self.course_id, problem_id=p["problem_id"])))


@extend_schema(
    summary="Answer distribution of one problem (learners' last answers)",
    description="Paged like courses/: a page of answer rows, most given first per part. The CSV download "
                "(?format=csv) streams every row of every part, unpaged.",
    parameters=[
        _COURSE, _PROBLEM,
        OpenApiParameter("page", int, description="Page number (from 1)."),
        OpenApiParameter("page_size", int, description="Answer rows per page (default 100, at most 1000)."),
        _FORMAT,
    ],
    responses=serializers.AnswerPageSerializer,
)
class AnswersView(CourseView):
    """Answer distribution of one problem: a page of JSON rows, or every row streamed as CSV."""

    pagination_class = AnswerPagination

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """One row per part and answer value (and variant); empty for an unknown problem.

        Free-text answers can number tens of thousands, so the JSON is paged and the CSV
        streamed from the database a chunk at a time (``api.iter_answer_distribution``).
        """
        problem_id = kwargs["problem_id"]
        self.metric = f"answers_{filename_part(problem_id)}"
        problem = api.get_problem(self.course_id, problem_id)
        self.last_updated = problem["last_updated"] if problem else None
        if request.accepted_renderer.format == CSVRenderer.format:
            rows = api.iter_answer_distribution(self.course_id, problem_id) if problem else iter(())
            return streamed_csv(csv_rows.answers(rows), csv_rows.ANSWER_COLUMNS)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(api.answer_rows(self.course_id, problem_id) if problem else [],
                                           request, view=self)
        return paginator.get_paginated_response(list(page or []))


@extend_schema(
    summary="Problem response report: each learner's last answer to each part of each problem (CSV)",
    description="Streamed as CSV, one row per learner and problem part, problems in course-outline order, with "
                "the columns of the Insights problem response report. Names learners: course staff, "
                "instructors, data researchers and global staff only; every download is logged with the "
                "user id of who asked. Retired learners are absent.",
    parameters=[_COURSE], responses={(200, "text/csv"): OpenApiTypes.STR},
)
class ProblemResponseReportView(CourseView):
    """The problem response report of one course, streamed as CSV a chunk of learners at a time."""

    metric = "problem_responses"
    renderer_classes = (CSVRenderer,)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Log who asked, then stream the rows as they are read (``api.reports.iter_problem_responses``)."""
        reports.log_download("problem_responses", self.course_id, request.user)
        return streamed_csv(reports.iter_problem_responses(self.course_id), reports.PROBLEM_RESPONSE_COLUMNS)


@extend_schema(summary="Grade distribution, passing learners and certificates",
               description="As CSV: the grade buckets, one row each (as before `not_graded` existed: the "
                           "enrolled learners without a grade yet are in the JSON's `not_graded` only).",
               parameters=[_COURSE, _FORMAT], responses=serializers.GradesSerializer)
class GradesView(CourseView):
    """Grade distribution and passing learners of one course."""

    metric = "grades"
    csv_columns = ("bucket", "count")

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Buckets of currently enrolled learners by grade, passing learners and certificates by mode."""
        grades = api.get_grades(self.course_id)
        self.last_updated = grades["last_updated"]
        return Response({"course_id": self.course_id, **grades})

    def csv_rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The CSV of this object is its list of grade buckets (unchanged, so existing readers keep working)."""
        return data["buckets"]


_BREAKDOWN = OpenApiParameter("breakdown", str, enum=list(learners_api.BREAKDOWNS),
                              description="With format=csv: the breakdown the CSV holds (default age).")


@extend_schema(summary="Enrolled learners by age, education, gender and country (small counts hidden)",
               description="Counted now from the LMS's profiles of the learners enrolled in the course, kept "
                           "OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS. A count under "
                           "OPENEDX_ANALYTICS_MIN_CELL_SIZE, and any count that would give one back, is null "
                           "with `suppressed` saying why (small, complement, all). Shares divide by every "
                           "enrolled learner. As CSV: one breakdown (`breakdown`), a row per band, value and "
                           "unknown.",
               parameters=[_COURSE, _FORMAT, _BREAKDOWN], responses=OpenApiTypes.OBJECT)
class LearnersView(CourseView):
    """The learners breakdowns of one course, read from the LMS's profiles through the Python API."""

    metric = "learners"
    csv_columns = ("kind", "value", "label", "learners", "share", "suppressed")
    breakdown = learners_api.BREAKDOWNS[0]

    def csv_filename(self) -> str:
        """``<course id>_learners_<breakdown>.csv``."""
        return f"{filename_part(self.course_id)}_{self.metric}_{self.breakdown}.csv"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The four breakdowns (400 for an unknown ``breakdown``)."""
        wanted = request.query_params.get("breakdown") or learners_api.BREAKDOWNS[0]
        if wanted not in learners_api.BREAKDOWNS:
            raise ValidationError({"breakdown": [f"one of {', '.join(learners_api.BREAKDOWNS)}"]})
        self.breakdown = wanted
        learners = learners_api.get_learners(self.course_id)
        self.last_updated = learners["computed_at"]
        return Response(learners)

    def csv_rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """One breakdown's bands, values and unknown, hidden counts left empty."""
        return learners_api.breakdown_rows(data, self.breakdown)


def _drill(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, description=description)


class OutlineLevelView(CourseView):
    """One level of a drill-down through the course outline; ``read`` names the Python API function."""

    #: The query parameters of the drill-down, in the order the Python API function takes them.
    drill: tuple[str, ...] = ()

    def read(self, course_id: str, *values: str | None) -> dict[str, Any]:  # pragma: no cover - overridden
        """The Python API's answer for this level."""
        raise NotImplementedError

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The rows of the level the query parameters choose (400 for an id the outline does not have)."""
        values = [request.query_params.get(name) or None for name in self.drill]
        try:
            level = self.read(self.course_id, *values)
        except api_params.InvalidParameter as invalid:
            raise ValidationError({invalid.name: [invalid.message]}) from None
        self.last_updated = level["last_updated"]
        return Response({"course_id": self.course_id, **level})

    def csv_rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The CSV of a level is its rows."""
        return data["rows"]


@extend_schema(summary="Videos by outline: sections, a section's subsections, a subsection's videos",
               description="Complete views (learners at the end) and start-only views (at the start, not the end); "
                           "section and subsection rows are averages over their videos.",
               parameters=[_COURSE, _drill("section", "A section's usage key: its subsections."),
                           _drill("subsection", "A subsection's usage key: its videos."), _FORMAT],
               responses=serializers.OutlineLevelSerializer)
class VideoOutlineView(OutlineLevelView):
    """Videos by section and subsection."""

    metric = "videos_by_outline"
    drill = ("section", "subsection")

    def read(self, course_id: str, *values: str | None) -> dict[str, Any]:
        """``api.outline.get_video_outline``."""
        return outline_api.get_video_outline(course_id, *values)


@extend_schema(summary="Graded content: assignment types, a type's assignments, an assignment's problems",
               description="Correct and incorrect last submissions; group rows average over their problems.",
               parameters=[_COURSE, _drill("assignment_type", "An assignment type: its graded subsections."),
                           _drill("assignment", "A graded subsection's usage key: its problems."), _FORMAT],
               responses=serializers.OutlineLevelSerializer)
class GradedContentView(OutlineLevelView):
    """Graded problems by assignment type and assignment."""

    metric = "graded_content"
    drill = ("assignment_type", "assignment")

    def read(self, course_id: str, *values: str | None) -> dict[str, Any]:
        """``api.outline.get_graded_content``."""
        return outline_api.get_graded_content(course_id, *values)


@extend_schema(summary="Ungraded problems: sections, a section's subsections, a subsection's problems",
               description="Correct and incorrect last submissions; group rows average over their problems.",
               parameters=[_COURSE, _drill("section", "A section's usage key: its subsections."),
                           _drill("subsection", "A subsection's usage key: its problems."), _FORMAT],
               responses=serializers.OutlineLevelSerializer)
class UngradedProblemsView(OutlineLevelView):
    """Ungraded problems by section and subsection."""

    metric = "ungraded_problems"
    drill = ("section", "subsection")

    def read(self, course_id: str, *values: str | None) -> dict[str, Any]:
        """``api.outline.get_ungraded_problems``."""
        return outline_api.get_ungraded_problems(course_id, *values)


@extend_schema(summary="Learning outcomes: problems' content tags, a tag's problems",
               description="Correct and incorrect last submissions per tag value (averages over its problems); "
                           "no rows for a course without tagged problems.",
               parameters=[_COURSE, _drill("tag", "A tag value: its problems."), _FORMAT],
               responses=serializers.OutlineLevelSerializer)
class LearningOutcomesView(OutlineLevelView):
    """Problems by content tag."""

    metric = "learning_outcomes"
    drill = ("tag",)

    def read(self, course_id: str, *values: str | None) -> dict[str, Any]:
        """``api.outline.get_learning_outcomes``."""
        return outline_api.get_learning_outcomes(course_id, *values)


@extend_schema(
    summary="Engagement by content: learners per section, subsection or unit over a range of days",
    description="Without parent, the course's sections; with a section, its subsections; with a subsection, "
                "its units. As CSV: the parts, one row each. Without dates, the last 28 days.",
    parameters=[_COURSE, *_DATES,
                OpenApiParameter("parent", str, description="A section's or subsection's block_id (usage key)."),
                _FORMAT],
    responses=serializers.ContentEngagementSerializer,
)
class ContentEngagementView(CourseView):
    """Distinct learners per part of the course's outline over a range of days."""

    metric = "content_engagement"
    takes_dates = True

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The parts one level below ``parent`` (the sections without it), in course order."""
        start, end = params.date_range(request.query_params)
        parent = request.query_params.get("parent") or None
        try:
            figures = api.get_engagement_by_content(self.course_id, start, end, parent=parent)
        except api_content.UnknownPart:
            raise ValidationError({"parent": ["Not a section or subsection of this course."]}) from None
        self.last_updated = figures["computed_at"]
        return Response(figures)

    def csv_rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The CSV of this object is its list of parts."""
        return data["parts"]
