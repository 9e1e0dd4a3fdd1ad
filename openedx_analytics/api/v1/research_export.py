"""REST API v1: the research export of a course or of an organization, as a zip streamed as it is written.

The zip holds what ``export_research_data`` writes for the same scope, byte for byte
(``research.iter_zip`` writes the command's rows through the command's CSV writer), under
the same folders. It is for the people research data is for: global staff and the LMS's
data researchers (of the course or org-wide for a course; org-wide for an organization);
course staff and instructors are refused (403), as every other role. Free-text answers
(``include_free_text=true``) are for global staff only: a free-text answer can name
anyone, and handing those out is the operator's choice, as with the command's
``--include-free-text``. Each download is logged (user id, scope, free text or not, and
when it ended, with its rows). Like every endpoint it is throttled; a caller also runs
one export at a time (429 while one is running), and an export stops at
``OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS`` (the zip then ends with
``EXPORT_INCOMPLETE.txt``). Without a pseudonym key the site cannot export: 503 saying so.
Errors are JSON whatever the client accepts.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.http import HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, PermissionDenied, Throttled, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import access, conf, research
from openedx_analytics.api import reports
from openedx_analytics.api.v1 import permissions
from openedx_analytics.api.v1.views import LAST_UPDATED_HEADER, AnalyticsView, filename_part

ZIP_TYPE = "application/zip"
FREE_TEXT = "include_free_text"
#: Spellings of ``include_free_text``, by what they mean.
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")
FREE_TEXT_REFUSED = "Only global staff can include free-text answers in a research export."
NOT_SET_UP = "The research export is not set up on this site (ask its operators): {reason}."
ALREADY_RUNNING = "A research export of yours is still running; ask again once it has ended."
#: Prefix of the cache key that marks a caller's running export.
RUNNING_KEY = "openedx_analytics.research_export.running."
#: Seconds a running export's mark outlives its time limit, should the response never be closed.
RUNNING_MARGIN_SECONDS = 60

_FREE_TEXT_PARAM = OpenApiParameter(
    FREE_TEXT, bool, default=False,
    description="Also write answers that are not one of a problem's choices (free text can name anyone). "
                "Global staff only: 403 for anyone else.")
_ZIP = {(200, ZIP_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The zip, streamed."),
        400: OpenApiResponse(description="A malformed course id or include_free_text."),
        403: OpenApiResponse(description="Not a data researcher of the scope nor global staff; or free text "
                                         "asked for by someone other than global staff."),
        404: OpenApiResponse(description="No analytics for the course (or for any course of the org)."),
        429: OpenApiResponse(description="Over the rate, or an export of the caller's is still running."),
        503: OpenApiResponse(description="No pseudonym key is set on this site.")}
_ABOUT = ("Streamed as it is written: the files export_research_data writes for the same scope, one folder per "
          "course (a CSV per kind of fact and data_dictionary.csv), learners pseudonymized per organization. "
          "Global staff and data researchers only (course staff and instructors are refused); every download "
          "is logged. An export past OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS ends with EXPORT_INCOMPLETE.txt.")


class NotSetUp(APIException):
    """503: the site has no pseudonym key, so nothing can be exported."""

    status_code = 503
    default_code = "not_set_up"


class JSONWhateverAccepted(BaseContentNegotiation):
    """The view's only renderer (JSON, for errors) whatever the Accept header asks: a zip client may send
    ``Accept: application/zip`` and still gets a readable error body rather than a 406."""

    def select_parser(self, request: Any, parsers: list) -> Any:
        """The first parser (the endpoints take no body)."""
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None) -> tuple:
        """The first renderer and its media type."""
        return renderers[0], renderers[0].media_type


def include_free_text(raw: str | None) -> bool:
    """``include_free_text`` read as a boolean (absent: False); 400 for anything else."""
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError({FREE_TEXT: ["Must be true or false."]})


class _Running:
    """The zip's pieces; closing (the response closes it, read to the end or not) ends the export and frees
    the caller's running mark."""

    def __init__(self, pieces: Iterator[bytes], mark: str) -> None:
        self.pieces = pieces
        self.mark = mark

    def __iter__(self) -> Iterator[bytes]:
        """The pieces, as the zip is written; the last one sent frees the mark (should the server never close)."""
        yield from self.pieces
        cache.delete(self.mark)

    def close(self) -> None:
        """Stop writing (a reader that left gets nothing more) and let the caller export again."""
        try:
            self.pieces.close()  # type: ignore[attr-defined]
        finally:
            cache.delete(self.mark)


class ResearchExportView(AnalyticsView):
    """A scope's research export as a streamed zip; ``resolve`` sets the scope's courses and file name."""

    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONWhateverAccepted
    #: What the scope is, for the log and the file name.
    scope = ""
    course_ids: list[str]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Check the options and the key, log the download, then stream the zip as it is written."""
        with_free_text = include_free_text(request.query_params.get(FREE_TEXT))
        if with_free_text and not access.is_global_staff(request.user):
            raise PermissionDenied(FREE_TEXT_REFUSED)
        try:
            key = research.export_key()
        except research.ExportError as error:
            raise NotSetUp(NOT_SET_UP.format(reason=error)) from None
        seconds = float(conf.get("OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS"))
        mark = f"{RUNNING_KEY}{request.user.pk}"
        if not cache.add(mark, True, timeout=int(seconds) + RUNNING_MARGIN_SECONDS):
            raise Throttled(detail=ALREADY_RUNNING)
        report = "research_export_with_free_text" if with_free_text else "research_export"
        for course_id in self.course_ids:
            reports.log_download(report, course_id, request.user)
        user_id = request.user.pk

        def ended(summaries: list[research.Summary], problem: str | None) -> None:
            rows = sum(sum(summary.rows.values()) for summary in summaries)
            reports.logger.info("%s of %s for user id %s ended: %s rows in %s course(s)%s", report, self.scope,
                                user_id, rows, len(summaries), f"; incomplete: {problem}" if problem else "")

        pieces = research.iter_zip(self.course_ids, key, include_free_text=with_free_text,
                                   deadline=time.monotonic() + seconds, on_end=ended)
        response = StreamingHttpResponse(_Running(pieces, mark), content_type=ZIP_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename_part(self.scope)}_research_export.zip"'
        return response

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """As every endpoint (never cached), without ``Last-Updated``: the export reads facts, not aggregates."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if LAST_UPDATED_HEADER in response:
            del response[LAST_UPDATED_HEADER]
        return response


@extend_schema(summary="Research export of one course (zip)", description=_ABOUT + " Data researchers of the "
               "course or of its organization, and global staff.",
               parameters=[OpenApiParameter("course_id", str, OpenApiParameter.PATH,
                                            description="Course id: course-v1:Org+Num+Run (or the old Org/Num/Run)."),
                           _FREE_TEXT_PARAM],
               responses=_ZIP)
class CourseResearchExportView(ResearchExportView):
    """One course's research export."""

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """The course (400 malformed, 403 not a data researcher of it nor global staff, 404 unknown or off)."""
        try:
            course_id = access.research_course_for(request.user, kwargs["course_id"])
        except access.Refused as refused:
            raise permissions.as_api_exception(refused) from None
        self.course_ids = [course_id]
        self.scope = course_id


@extend_schema(summary="Research export of every course of an organization (zip)",
               description=_ABOUT + " Org-wide data researchers of the organization and global staff; the "
                                    "courses are those with analytics that are turned on, a folder each.",
               parameters=[OpenApiParameter("org", str, OpenApiParameter.PATH,
                                            description="The organization, exactly as in its course ids."),
                           _FREE_TEXT_PARAM],
               responses=_ZIP)
class OrgResearchExportView(ResearchExportView):
    """Every course of an organization, a folder each."""

    def resolve(self, request: Request, **kwargs: Any) -> None:
        """The org's courses (403 not an org-wide data researcher nor global staff, 404 no course with analytics)."""
        try:
            self.course_ids = access.research_org_courses(request.user, kwargs["org"])
        except access.Refused as refused:
            raise permissions.as_api_exception(refused) from None
        self.scope = kwargs["org"]
