"""The host's error pages, like the LMS's: the page frame (who is logged in, log out), what
happened in plain words, and a link back to the course list, never Django's bare pages.

``urls`` names them as ``handler403`` and ``handler404``; Django serves them whenever
``DEBUG`` is off, which it is in the demo too (``settings_demo``).
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "lms_host/error.html", {"title": title, "message": message}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: nothing here, or nothing here for this user (the LMS answers 404 to both)."""
    return _page(request, 404, "Page not found",
                 "There is nothing here, or nothing you have access to (an instructor dashboard opens "
                 "to a course's staff only).")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the user may not do this."""
    return _page(request, 403, "Not allowed", "You do not have access to this page.")
