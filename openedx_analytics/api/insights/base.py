"""What every view of the Insights-compatible API shares: authentication, Insights' errors, dates, CSV names.

The views (``views``, ``modules``, ``lists``) answer Insights' endpoints from our Python
API. Each reads our figures through ``openedx_analytics.api`` (and ``api.compat``) and
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
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import access
from openedx_analytics.api import rows as api_rows
from openedx_analytics.api.insights.renderers import InsightsCSVRenderer
from openedx_analytics.api.v1 import params, permissions
from openedx_analytics.api.v1.key_auth import InsightsKeyAuthentication
from openedx_analytics.api.v1.views import AnalyticsView

#: Insights' ``ENABLED_REPORT_IDENTIFIERS``.
REPORTS = ("problem_response",)
_INSIGHTS_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T\d{6}$")
UNSAFE_FILENAME = re.compile(r"[^\w.-]")

COURSE_PARAMETER = OpenApiParameter("course_id", str, OpenApiParameter.PATH, description="Course id.")
DATE_PARAMETERS = [
    OpenApiParameter("start_date", OpenApiTypes.DATE, description="First day included (YYYY-MM-DD, UTC)."),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description="First day excluded (YYYY-MM-DD, UTC)."),
]
LATEST_ONLY = " Without dates, only the latest row. 404 when there is no row."


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
            return f"{UNSAFE_FILENAME.sub('_', self.course_id)}--{self.slug}.csv"

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
