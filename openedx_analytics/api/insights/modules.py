"""Views of the Insights-compatible API about one module: a problem's answers and grades, a subsection's
openers, a video's timeline; at the root (Insights' client) or under a course (``base.ModuleView``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from openedx_analytics import api
from openedx_analytics.api import compat
from openedx_analytics.api.insights import serializers as shapes
from openedx_analytics.api.insights.base import (
    ModuleView,
    course_of_block,
)


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
