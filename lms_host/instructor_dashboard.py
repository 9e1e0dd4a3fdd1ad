"""The stand-in for the LMS's legacy instructor dashboard, built the way the LMS builds it.

Like edx-platform's ``instructor_dashboard_2`` view, it gathers the course's built-in
sections, lets the plugins' views context in, and then runs the real openedx-filters
pipeline ``InstructorDashboardRenderStarted`` with whatever ``OPEN_EDX_FILTERS_CONFIG`` the
installed plugins registered (ours appends the "Analytics" section). The result is rendered
with Mako from ``MAKO_TEMPLATE_DIRS_BASE``, as the LMS's ``instructor_dashboard_2.html`` does:
one nav button per section, a Mako include of ``template_path_prefix + section_key + ".html"``
with ``section_data``, and each section fragment's head and foot HTML injected into the page.
The section shown is the one the URL's hash names (``#view-<section_key>``), chosen by a
script as the LMS's ``instructor_dashboard.js`` does, else ``?section=`` or the first one. With
``ANALYTICS_DASHBOARD_URL`` set it adds the LMS's own "Analytics" section linking to Insights.
So the demo shows exactly what an LMS would show, and the tests exercise the same hooks.
"""
from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe
from edx_django_utils.plugins import get_plugins_view_context
from mako.lookup import TemplateLookup
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from openedx_filters.learning.filters import InstructorDashboardRenderStarted

from lms_host import roles
from lms_host.stub import models

#: The LMS's template of the dashboard (the filter may name another one).
DASHBOARD_TEMPLATE = "instructor/instructor_dashboard_2/instructor_dashboard_2.html"
#: The view name the LMS passes to ``get_plugins_view_context`` (``INSTRUCTOR_DASHBOARD_PLUGIN_VIEW_NAME``).
PLUGIN_VIEW_NAME = "instructor_dashboard"


@functools.lru_cache(maxsize=4)
def _lookup(directories: tuple[str, ...]) -> TemplateLookup:
    return TemplateLookup(directories=list(directories), input_encoding="utf-8", filesystem_checks=settings.DEBUG)


def mako_lookup() -> TemplateLookup:
    """The Mako lookup over ``MAKO_TEMPLATE_DIRS_BASE``: the host's templates and every plugin's."""
    return _lookup(tuple(str(directory) for directory in getattr(settings, "MAKO_TEMPLATE_DIRS_BASE", [])))


def render_mako(template_name: str, context: dict[str, Any], request: HttpRequest) -> str:
    """Render a Mako template with the names the LMS's Mako templates can count on."""
    names = {"request": request, "user": request.user, "static_url": static, "csrf_token": get_token(request),
             "url": reverse, **context}
    return mako_lookup().get_template(template_name).render_unicode(**names)


def built_in_sections(course: models.CourseOverview, user: Any) -> list[dict[str, Any]]:
    """The host's own sections, as the LMS lists its ``course_info`` and ``membership`` sections."""
    key = course.id
    team = [row for row in models.CourseAccessRole.objects.filter(org=key.org).select_related("user")
            .order_by("role", "user__username") if not row.course_id or row.course_id == key]
    return [
        {"section_key": "course_info", "section_display_name": "Course Info", "course": course,
         "enrollment_count": models.CourseEnrollment.objects.filter(course_id=key, is_active=True).count(),
         "your_roles": sorted(roles.roles_in(user, key))},
        {"section_key": "membership", "section_display_name": "Membership",
         "team": [(row.user.username, row.role, "this course" if row.course_id else f"every {key.org} course")
                  for row in team]},
    ]


def insights_section(course: models.CourseOverview) -> dict[str, Any]:
    """The LMS's own "Analytics" section (``_section_analytics``), added when ``ANALYTICS_DASHBOARD_URL`` is set:
    the same key and name, and the Insights URL built as the LMS builds it."""
    return {"section_key": "instructor_analytics", "section_display_name": "Analytics", "course_id": str(course.id),
            "insights_url": f"{settings.ANALYTICS_DASHBOARD_URL}/courses/{course.id}",
            "insights_name": getattr(settings, "ANALYTICS_DASHBOARD_NAME", "Insights")}


@require_safe
@login_required
def instructor_dashboard(request: HttpRequest, course_id: str) -> HttpResponse:
    """The legacy instructor dashboard of one course (404, as in the LMS, for anyone without staff access)."""
    try:
        key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        raise Http404("Not a course id.") from None
    course = models.CourseOverview.objects.filter(id=key).first()
    if course is None or not roles.may_open_dashboard(request.user, key):
        raise Http404("No instructor dashboard here for you.")

    sections = built_in_sections(course, request.user)
    if getattr(settings, "ANALYTICS_DASHBOARD_URL", None):
        # As the LMS does: with Insights configured, its own "Analytics" section links there.
        sections.append(insights_section(course))
    context: dict[str, Any] = {
        "course": course,
        "sections": sections,
        "disable_buttons": False,
        "studio_url": None,
        "analytics_dashboard_message": None,
    }
    context.update(get_plugins_view_context("lms.djangoapp", PLUGIN_VIEW_NAME, context))
    template_name = DASHBOARD_TEMPLATE
    try:
        context, template_name = InstructorDashboardRenderStarted.run_filter(
            context=context, template_name=template_name)
    except InstructorDashboardRenderStarted.RenderInvalidDashboard as exc:
        template_name, context = exc.instructor_template, exc.template_context
    except InstructorDashboardRenderStarted.RedirectToPage as exc:
        return HttpResponseRedirect(exc.redirect_to or reverse("host-courses"))
    except InstructorDashboardRenderStarted.RenderCustomResponse as exc:
        return exc.response
    visible = [s for s in context.get("sections") or [] if not s.get("is_hidden")]
    keys = [s["section_key"] for s in visible]
    active = request.GET.get("section")
    context["active_section"] = active if active in keys else (keys[0] if keys else None)
    return HttpResponse(render_mako(template_name, context, request))
