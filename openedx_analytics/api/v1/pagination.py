"""Paging of the lists that can be long: ``courses/`` and a problem's ``answers/``; CSV downloads get every row.

A problem of free-text answers can hold tens of thousands of distinct answers; its JSON
comes a page at a time like the course list (``count``, ``next``, ``previous``,
``results``), and its CSV is streamed whole by the view.
"""
from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination

from openedx_analytics import conf


class CoursePagination(PageNumberPagination):
    """Page-number paging (``?page=``, ``?page_size=``) with sizes from our settings."""

    page_size_query_param = "page_size"

    def get_page_size(self, request: Any) -> int:
        """The requested page size, within our configured bounds."""
        self.page_size = int(conf.get("OPENEDX_ANALYTICS_API_PAGE_SIZE"))
        self.max_page_size = int(conf.get("OPENEDX_ANALYTICS_API_MAX_PAGE_SIZE"))
        return super().get_page_size(request)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        """One page of ``queryset``; None (no paging) for a CSV download, which carries every row."""
        if getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv":
            return None
        return super().paginate_queryset(queryset, request, view)


class AnswerPagination(CoursePagination):
    """The course list's paging for a problem's answer rows (a page of ``OPENEDX_ANALYTICS_API_PAGE_SIZE``)."""
