"""The host's front door: the login page, the logged-in user's course list, a course's home, log-out.

The login page lists the demo's people (password = user name) when the demo data is
there; the course list shows each course the user teaches, researches or takes, with a
link to its analytics page where the plugin would show it (``openedx_analytics.access``, the same
rule as the REST API, the section and the tab) and to the legacy instructor dashboard
where the LMS would open it; global staff and org-wide staff also get the link to the
overview of every course they oversee.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from lms_host import roles
from lms_host.stub import models
from openedx_analytics import access


def demo_accounts() -> list[tuple[str, str]]:
    """The demo's people that exist in this database: (username, who they are)."""
    from lms_host.management.commands.seed_demo import DEMO_USERS

    present = set(get_user_model().objects.filter(username__in=[name for name, _ in DEMO_USERS])
                  .values_list("username", flat=True))
    return [(name, who) for name, who in DEMO_USERS if name in present]


class HostLoginView(LoginView):
    """Django's login form, with the demo's accounts listed beside it."""

    template_name = "lms_host/login.html"
    redirect_authenticated_user = True
    next_page = "host-courses"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """The form, plus the demo accounts."""
        return {**super().get_context_data(**kwargs), "demo_accounts": demo_accounts()}


@require_safe
@login_required
def courses(request: HttpRequest) -> HttpResponse:
    """The user's courses, each with the links the user may follow."""
    rows = []
    for entry in roles.courses_of(request.user):
        analytics = access.visible(request.user, entry.course_id)
        who = sorted(entry.roles) + (["enrolled learner"] if entry.enrolled else [])
        rows.append({
            "entry": entry,
            "who": ", ".join(who),
            "analytics_url": reverse("openedx_analytics:dashboard:course", kwargs={"course_id": analytics})
            if analytics else None,
            "dashboard_url": reverse("instructor_dashboard", kwargs={"course_id": entry.course_id})
            if roles.may_open_dashboard(request.user, entry.course.id) else None,
        })
    overview = access.site_orgs(request.user)
    site_url = reverse("openedx_analytics:dashboard:site") if overview is None or overview else None
    return render(request, "lms_host/courses.html", {"rows": rows, "site_url": site_url})


@require_safe
def log_out(request: HttpRequest) -> HttpResponse:
    """The LMS's ``/logout``: a plain link logs out (as in the LMS), then the login page."""
    auth_logout(request)
    return redirect("host-login")


@require_safe
@login_required
def course_home(request: HttpRequest, course_id: str) -> HttpResponse:
    """The course's home, as the LMS's ``course_root`` opens it: its name, and the links the user may follow."""
    entry = next((entry for entry in roles.courses_of(request.user) if entry.course_id == course_id), None)
    try:
        key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        raise Http404("Not a course id.") from None
    course = entry.course if entry else models.CourseOverview.objects.filter(id=key).first()
    if course is None:
        raise Http404("No such course.")
    dashboard = roles.may_open_dashboard(request.user, course.id)
    return render(request, "lms_host/course.html", {
        "course": course,
        "dashboard_url": reverse("instructor_dashboard", kwargs={"course_id": course_id}) if dashboard else None,
    })
