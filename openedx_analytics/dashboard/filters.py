"""openedx-filters pipeline steps: the "Analytics" section of the legacy instructor dashboard and
the "Analytics" tab of the instructor-dashboard MFE.

Both show only what the REST API would show the same user (``access``): course
staff, instructors, data researchers and global staff, for a course the rollout gate has
opened. Anyone else gets the dashboard exactly as it was: no section, no tab, no error.
``settings.common.plugin_settings`` registers the steps; nothing raised here ever breaks
the dashboard (the step logs it and hands the dashboard back unchanged).
"""
from __future__ import annotations

import logging
from typing import Any

from crum import get_current_request, get_current_user
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from openedx_filters.filters import PipelineStep
from web_fragments.fragment import Fragment

from openedx_analytics import access
from openedx_analytics.dashboard import content
from openedx_analytics.lms import links

log = logging.getLogger(__name__)

#: ``section_key`` of our section; also the name of its Mako template and its HTML id.
SECTION_KEY = content.SECTION_KEY
#: ``template_path_prefix``: our Mako template lives at ``<package>/templates/instructor_dashboard/``.
TEMPLATE_PATH_PREFIX = "/instructor_dashboard/"
TAB_ID = "openedx_analytics"
#: Where the MFE lists our tab (Aspects uses 120); after the built-in tabs.
TAB_SORT_ORDER = 130
STYLESHEET = "openedx_analytics/dashboard.css"


def page_url(course_id: str, absolute: bool = False) -> str:
    """The analytics page of the course; absolute for the MFE, which runs elsewhere.

    The MFE treats a tab URL that starts with ``/`` as one of its own routes (and finds no
    page there); an absolute URL it shows as a link to the LMS. The root is ``LMS_ROOT_URL``,
    else the origin of the current request.
    """
    path = reverse("openedx_analytics:dashboard:course", kwargs={"course_id": course_id})
    if not absolute:
        return path
    root = getattr(settings, "LMS_ROOT_URL", "")
    if root:
        return f"{root.rstrip('/')}{path}"
    request = get_current_request()
    return request.build_absolute_uri(path) if request is not None else path


def requested_view() -> QueryDict:
    """The view of the analytics the dashboard request asks for: its query parameters that the page reads.

    The section's links and date form come back to the instructor dashboard with these
    parameters (``content.Page``); anything else in the dashboard's URL is left out.
    """
    request = get_current_request()
    view = QueryDict(mutable=True)
    if request is not None:
        for name in content.PARAMETERS:
            value = request.GET.get(name)
            if value:
                view[name] = value
    return view


def analytics_section(course_id: str) -> dict[str, Any]:
    """The section dict the legacy dashboard renders: the page's content as a fragment, and its stylesheet.

    The section shows the view the dashboard's URL asks for (dates, daily figures, a video or
    a problem), so navigating inside it keeps the instructor in the dashboard.
    """
    fragment = Fragment(content.render_content(course_id, requested_view(), embedded=True))
    try:
        fragment.add_css_url(staticfiles_storage.url(STYLESHEET))
    except ValueError:  # a manifest storage without our file: collectstatic not run since installing
        log.warning("openedx_analytics: %s is not in the static files; run collectstatic", STYLESHEET)
    return {
        "section_key": SECTION_KEY,
        "section_display_name": _("Analytics"),
        "template_path_prefix": TEMPLATE_PATH_PREFIX,
        "fragment": fragment,
        "course_id": course_id,
        "page_url": page_url(course_id),
    }


class AddAnalyticsSection(PipelineStep):
    """``InstructorDashboardRenderStarted``: append the "Analytics" section for people who may see it.

    Where the LMS links to Insights (``ANALYTICS_DASHBOARD_URL``) it adds its own section also
    called "Analytics"; ours takes its place (and links to Insights), so there is one tab.
    """

    def run_filter(self, context: dict[str, Any], template_name: str) -> dict[str, Any]:
        """Append the section when the current user may see the course's analytics; always pass both on."""
        try:
            course = getattr(context.get("course"), "id", None) or context.get("course_key")
            course_id = access.visible(get_current_user(), course) if course is not None else None
            if course_id is not None:
                sections = [s for s in context.get("sections") or []
                            if not (isinstance(s, dict) and s.get("section_key") == links.LMS_ANALYTICS_SECTION_KEY)]
                if not any(s.get("section_key") == SECTION_KEY for s in sections if isinstance(s, dict)):
                    sections.append(analytics_section(course_id))
                context["sections"] = sections
        except Exception:  # noqa: BLE001 - the instructor dashboard must render whatever happens here
            log.exception("openedx_analytics: could not add the Analytics section; dashboard left as it was")
        return {"context": context, "template_name": template_name}


class AddAnalyticsTab(PipelineStep):
    """``InstructorDashboardTabsRequested`` (openedx-filters 3.4+): add an "Analytics" tab to the MFE."""

    def run_filter(self, tabs: list[dict[str, Any]], user: Any, course_key: Any) -> dict[str, Any]:
        """Add the tab (once) when ``user`` may see the course's analytics; always pass the tabs on."""
        try:
            course_id = access.visible(user, course_key)
            if course_id is not None and not any(t.get("tab_id") == TAB_ID for t in tabs if isinstance(t, dict)):
                tabs = [*tabs, {"tab_id": TAB_ID, "title": _("Analytics"), "url": page_url(course_id, absolute=True),
                                "sort_order": TAB_SORT_ORDER}]
        except Exception:  # noqa: BLE001 - the MFE's tab list must come back whatever happens here
            log.exception("openedx_analytics: could not add the Analytics tab; tabs left as they were")
        return {"tabs": tabs}
