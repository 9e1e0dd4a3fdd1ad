"""The course analytics page: one server-rendered HTML page under a strict Content-Security-Policy.

Login as the LMS does it (``login_required``: the LMS's login page, then back); access
by the rules the REST API follows too (``access``): 400 for a malformed id, 403 without
a role, 404 for an unknown course or one the rollout gate keeps closed; 429 past the rate
the REST API is held to too (``rate_limit``, its own count). The page carries
its own Content-Security-Policy: it needs nothing but its own stylesheet, so scripts,
inline styles, frames and plugins are all refused, and only pages of the LMS's own origin
may frame it. The page carries a small header of its own (no script: the policy forbids it):
the course, the way back to its instructor dashboard and to the course, who is signed in and
the LMS's log-out link, since the LMS's own header is a Mako template with scripts.
"""
from __future__ import annotations

import math

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from openedx_analytics import access, rate_limit
from openedx_analytics.dashboard import content, rendering
from openedx_analytics.lms import links

#: The page's policy: its own stylesheet and images, no script at all, forms only to itself,
#: framed by pages of its own origin only. The LMS serves the page from its own origin and
#: links to it (the instructor-dashboard section embeds the content in the LMS's own page,
#: no frame), so no other site needs to frame figures that include learners' answers.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'none'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)


def _secured(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _too_many(request: HttpRequest, wait: float) -> HttpResponse:
    """429 with ``Retry-After``: the caller asked more often than the rate allows."""
    html = rendering.render("refused.html", {"status": 429, "message": "", "home_url": links.home_url()}, request)
    response = _secured(HttpResponse(html, status=429))
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@require_safe
def course_dashboard(request: HttpRequest, course_id: str) -> HttpResponse:
    """The analytics page of one course (new ``course-v1:`` ids and old ``Org/Num/Run`` ids).

    Every request is counted first (``rate_limit``, per user, per address before login), so
    neither the page nor its login redirect can be asked for without limit.
    """
    wait = rate_limit.refused_for(rate_limit.PAGE, rate_limit.caller(getattr(request, "user", None), request.META))
    if wait is not None:
        return _too_many(request, wait)
    return _signed_in_dashboard(request, course_id)


@login_required
def _signed_in_dashboard(request: HttpRequest, course_id: str) -> HttpResponse:
    try:
        course = access.course_for(request.user, course_id)
    except access.Refused as refused:
        html = rendering.render("refused.html", {"status": refused.status, "message": refused.message,
                                                 "home_url": links.home_url()}, request)
        return _secured(HttpResponse(html, status=refused.status))
    context = {"course_id": course, "course_name": content.course_name(course),
               "content": content.render_content(course, request.GET),
               "dashboard_url": content.dashboard_link(course, request.GET),
               "instructor_app_url": links.instructor_app_url(course),
               "course_url": links.course_url(course), "logout_url": links.logout_url(),
               "username": request.user.get_username()}
    html = rendering.render("page.html", context, request)
    return _secured(HttpResponse(html))
