"""Where the LMS's own pages are: the course's instructor dashboard (and its MFE), the course, logging out,
and Insights.

The analytics page and the instructor-dashboard section link back into the LMS. Inside the
LMS each URL is reversed by the name edx-platform gives it; a host without that name (a
test host) gets the path the LMS serves, so a link never breaks a page. Insights is the
LMS's own setting: ``ANALYTICS_DASHBOARD_URL`` (and ``ANALYTICS_DASHBOARD_NAME``), with the
course's URL built the way edx-platform's instructor dashboard builds it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import NoReverseMatch, reverse

#: ``section_key`` of the LMS's own "Analytics" section (a link to Insights), added when
#: ``ANALYTICS_DASHBOARD_URL`` is set (edx-platform ``instructor_dashboard._section_analytics``).
LMS_ANALYTICS_SECTION_KEY = "instructor_analytics"


def _reversed(name: str, fallback: str, **kwargs: str) -> str:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return fallback


def instructor_dashboard_url(course_id: str) -> str:
    """The course's legacy instructor dashboard (LMS URL name ``instructor_dashboard``)."""
    return _reversed("instructor_dashboard", f"/courses/{course_id}/instructor", course_id=course_id)


def instructor_app_url(course_id: str) -> str | None:
    """The course in the instructor-dashboard MFE, where the LMS names one (``INSTRUCTOR_MICROFRONTEND_URL``,
    absolute); its route ``<base>/<course id>`` opens the course's first tab. None otherwise."""
    base = getattr(settings, "INSTRUCTOR_MICROFRONTEND_URL", None)
    if not base or not urlsplit(str(base)).netloc:
        return None
    return f"{str(base).rstrip('/')}/{course_id}"


def course_url(course_id: str) -> str:
    """The course itself (LMS URL name ``course_root``: ``/courses/<id>/``, which opens the course home)."""
    return _reversed("course_root", f"/courses/{course_id}/", course_id=course_id)


def logout_url() -> str:
    """The LMS's log-out page (URL name ``logout``: ``/logout``)."""
    return _reversed("logout", "/logout")


def home_url() -> str:
    """The LMS's front page for a person who may not see a page (the learner dashboard, or ``/``)."""
    return _reversed("dashboard", "/")


def insights(course_id: str) -> tuple[str, str] | None:
    """Insights' name and its URL for the course when the LMS links to Insights, else None.

    The URL is ``ANALYTICS_DASHBOARD_URL`` + ``/courses/<id>``, exactly as the LMS's
    instructor dashboard builds it.
    """
    root = getattr(settings, "ANALYTICS_DASHBOARD_URL", None)
    if not root:
        return None
    return getattr(settings, "ANALYTICS_DASHBOARD_NAME", None) or "Insights", f"{root}/courses/{course_id}"
