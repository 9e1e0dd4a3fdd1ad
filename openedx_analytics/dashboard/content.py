"""What the analytics page shows, built from the public Python API: panels of chart, table and notes.

``build`` reads every figure through ``openedx_analytics.api`` (the REST API's source too,
so the page, the section and the CSV links show the same numbers), names blocks through
the course outline (``api.outline.course_structure``, read once a page), and returns plain
data for the templates: each panel has a chart (server-drawn SVG), its data table, a CSV
link to the REST API, when the figures were last updated and what they count. Query
parameters are read here and checked with the rules the REST API reads them by
(``api.params``); a bad one is reported on the page, never a 500.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from openedx_analytics import api, conf, course_cache
from openedx_analytics.api import outline as outline_api
from openedx_analytics.api import params
from openedx_analytics.dashboard import engagement_by_content, insights, learners, rendering, tables
from openedx_analytics.dashboard.outline_views import DRILL_PARAMETERS, OutlinePanels
from openedx_analytics.dashboard.panels import CoursePanels
from openedx_analytics.db import time_limits
from openedx_analytics.lms import courses, host, links

log = logging.getLogger(__name__)

#: The query parameters the page reads; links and the cache keep these only.
PARAMETERS = ("start_date", "end_date", "activity", "engagement", "video", "problem", "answers_part",
              "answers_page", *DRILL_PARAMETERS, *engagement_by_content.PARAMETERS, "view", insights.PARAMETER)
#: The date form's own fields: every other parameter goes with it as a hidden field (``Page.form_state``).
DATE_FIELDS = ("start_date", "end_date")
#: ``section_key`` of the instructor-dashboard section, and the hash that makes the LMS open it.
SECTION_KEY = "openedx_analytics"
SECTION_ANCHOR = f"view-{SECTION_KEY}"
#: Engagement columns of the activity rows, with their labels (in palette order).


class Page(CoursePanels, OutlinePanels):
    """Builds the page's panels for one course and one request's query parameters."""

    def __init__(self, course_id: str, query: QueryDict, embedded: bool = False,
                 switch: insights.SwitchState | None = None) -> None:
        self.course_id = course_id
        self.switch = switch or insights.SwitchState()
        self.query = query
        self.embedded = embedded
        self.errors: list[str] = []
        self.page_url = reverse("openedx_analytics:dashboard:course", kwargs={"course_id": course_id})
        # Inside the instructor dashboard every link and the date form come back to the dashboard
        # with the section open (the LMS's script opens the section the hash names), so the
        # instructor never leaves it; the section renders the view the parameters ask for.
        self.base_url = links.instructor_dashboard_url(course_id) if embedded else self.page_url
        self._kept = {k: query[k] for k in PARAMETERS if query.get(k) not in ("", None)}
        self.start, self.end = self._dates()
        self.granularity = self._granularity()
        self.measure = "share" if query.get("engagement") == "share" else "count"
        self.summary = api.get_course_summary(course_id)
        self.structure = self._structure()
        self.outline = self.structure["blocks"]
        self.grading = self.structure["grading"]

    # ------------------------------------------------------------ parameters and links

    def _dates(self) -> tuple[dt.date | None, dt.date | None]:
        try:
            return params.date_range(self.query)
        except params.InvalidParameter as invalid:
            self.errors.append(_("Dates ignored: {error}").format(error=invalid.message))
            return None, None

    def _granularity(self) -> str:
        try:
            return params.granularity(self.query.get("activity"))
        except params.InvalidParameter as invalid:
            self.errors.append(_("Weekly figures shown: {error}").format(error=invalid.message))
            return "week"

    def _structure(self) -> dict[str, Any]:
        """The course's outline and grading policy, read once for every panel (empty outside any LMS)."""
        return outline_api.course_structure(self.course_id)

    def link(self, anchor: str = "", **changes: str | None) -> str:
        """This page's URL with the current parameters, some changed (None drops one), and an anchor."""
        query = dict(self._kept)
        for name, value in changes.items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = value
        text = f"{self.base_url}?{urlencode(sorted(query.items()))}" if query else self.base_url
        if self.embedded:  # the dashboard's hash names the section to open, not a place in it
            anchor = SECTION_ANCHOR
        return f"{text}#{anchor}" if anchor else text

    def form_state(self, own: tuple[str, ...] = DATE_FIELDS) -> list[tuple[str, str]]:
        """The hidden fields of a GET form on this page: every parameter kept (the view, the drill-downs, the
        toggles) but the form's ``own`` fields, so that submitting it changes those alone. The toggles go as
        read (an unreadable one, already reported, is dropped rather than reported again)."""
        state = {k: v for k, v in self._kept.items() if k not in own}
        state.pop("activity", None)
        state.pop("engagement", None)
        if self.granularity == "day":
            state["activity"] = "day"
        if self.measure == "share":
            state["engagement"] = "share"
        return sorted(state.items())

    def api_url(self, name: str, extra: dict[str, str] | None = None, **kwargs: str) -> str:
        """The REST API's CSV of the same figures ("" for an id the API's URLs cannot carry)."""
        try:
            path = reverse(f"openedx_analytics:v1:{name}", kwargs={"course_id": self.course_id, **kwargs})
        except NoReverseMatch:
            return ""
        return f"{path}?{urlencode({'format': 'csv', **(extra or {})})}"

    def _date_params(self) -> dict[str, str]:
        out = {}
        if self.start:
            out["start_date"] = self.start.isoformat()
        if self.end:
            out["end_date"] = self.end.isoformat()
        return out

    def name_of(self, block_id: str) -> str:
        """A block's display name, or its id where the course outline has no name."""
        return (self.outline.get(block_id) or {}).get("display_name") or block_id

    def _in_course_order(self, items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        last = len(self.outline)
        return sorted(items, key=lambda item: ((self.outline.get(item[key]) or {}).get("position", last), item[key]))


    # ------------------------------------------------------------ the whole page

    def _activity_panels(self) -> list[Any]:
        """The panels of the page's main view: enrollment, engagement, videos, problems, grades."""
        panels = [self.enrollment(), self.engagement(), engagement_by_content.content_panel(self)]
        video = self.video_detail()
        outcomes = self.learning_outcomes()
        panels += [self.videos(), self.videos_by_outline(), *([video] if video else []), self.problems(),
                   self.graded_content(), self.ungraded_problems(), *([outcomes] if outcomes else []),
                   *self.problem_detail(), self.grades()]
        return panels

    def context(self) -> dict[str, Any]:
        """Everything the templates need."""
        in_view = self.query.get("view") == learners.VIEW
        comparing = self.switch.visible and self.query.get("view") == insights.COMPARE_VIEW
        shown = None
        if comparing:
            shown = insights.compare_panels(self, self.switch)
        elif self.switch.old:
            shown = insights.panels(self, self.switch, in_view)
        form_anchor = "learners-age" if in_view else "enrollment"
        panels = shown.panels if shown else learners.panels(self) if in_view else self._activity_panels()
        insights_summary = bool(shown and shown.cards)  # the summary of Insights numbers
        has_data = self.summary["last_updated"] is not None or any(p.table for p in panels)
        return {
            "switch": insights.links(self, self.switch),
            "source_message": shown.message if shown else "",
            "comparing": comparing,
            "course_id": self.course_id,
            "view": learners.VIEW if in_view else "",
            "learners_url": self.link("learners-age", view=learners.VIEW),
            "activity_url": self.link(view=None),
            "course_name": _course_name(self.course_id),
            "page_url": self.page_url,
            "own_page_url": f"{self.page_url}?{urlencode(sorted(self._kept.items()))}" if self._kept else self.page_url,
            "embedded": self.embedded,
            "form_url": f"{self.base_url}#{SECTION_ANCHOR if self.embedded else form_anchor}",
            "form_state": self.form_state(),
            "whole_history_url": insights.keep_source(
                f"{self.base_url}#{SECTION_ANCHOR}" if self.embedded else self.page_url, self.switch, comparing),
            "toc_url": "" if self.embedded else self.page_url,
            # Headings nest under the page's h1, or under the dashboard's h3 section title.
            "heading": 4 if self.embedded else 2,
            "subheading": 5 if self.embedded else 3,
            "insights": links.insights(self.course_id) if self.embedded else None,
            "errors": self.errors,
            "cards": shown.cards if insights_summary else self.cards(),
            "summary_csv_url": "" if insights_summary else self.api_url("course-summary"),
            "summary_updated": shown.created if insights_summary else self.summary["last_updated"],
            "panels": panels,
            "has_data": has_data,
            "start_date": self.start.isoformat() if self.start else "",
            "end_date": self.end.isoformat() if self.end else "",
            "granularity": self.granularity,
            "measure": self.measure,
            "video": self.query.get("video", ""),
            "problem": self.query.get("problem", ""),
            "weekly_url": self.link("engagement", activity=None),
            "daily_url": self.link("engagement", activity="day"),
            "count_url": self.link("engagement", engagement=None),
            "share_url": self.link("engagement", engagement="share"),
            "today": dt.datetime.now(dt.timezone.utc).date(),
        }


def dashboard_link(course_id: str, query: QueryDict) -> str:
    """The course's instructor dashboard with the Analytics section open on the same view (the page's way back)."""
    kept = sorted((k, query[k]) for k in PARAMETERS if query.get(k) not in ("", None))
    url = links.instructor_dashboard_url(course_id)
    return f"{url}?{urlencode(kept)}#{SECTION_ANCHOR}" if kept else f"{url}#{SECTION_ANCHOR}"


def course_name(course_id: str) -> str:
    """The course's display name for headings (its id outside any LMS)."""
    return _course_name(course_id)


def _course_name(course_id: str) -> str:
    try:
        return courses.course_display_name(course_id)
    except host.NotAvailable:
        return course_id


def cache_key(course_id: str, query: QueryDict, embedded: bool, switch: tuple[Any, ...] = ()) -> str:
    """What the content depends on besides the figures: course, parameters, language, day, page or section,
    the course's cache generation (``course_cache``: a retirement clears every entry of its courses) and
    the Insights switch's state for the caller (``insights.SwitchState.cache_part``)."""
    wanted = [(k, query.get(k, "")) for k in PARAMETERS]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    text = repr((course_id, course_cache.generation(course_id), wanted, get_language(), today, embedded, switch))
    return "openedx_analytics.page." + hashlib.sha256(text.encode()).hexdigest()


def render_content(course_id: str, query: QueryDict, embedded: bool = False) -> SafeString:
    """The page's content as HTML (the section embeds the same), cached briefly per course and parameters.

    Every figure is recomputed by workers in the background; the content shows when its
    figures were last updated, so keeping the rendered HTML ``OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS``
    only delays a new figure by that much, and spares the server re-rendering a year of rows
    each time a course team opens the dashboard. Callers check access first: the content
    depends on the course, never on the user. A retirement clears a course's entries at once
    (its cache generation is part of the key).
    """
    seconds = int(conf.get("OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS") or 0)
    switch = insights.state(course_id, query)
    key = cache_key(course_id, query, embedded, switch.cache_part)
    if seconds > 0:
        cached = cache.get(key)
        if cached is not None:
            return mark_safe(cached)  # noqa: S308 - our own rendered template output
    try:
        with time_limits.time_budget():
            context = build(course_id, query, embedded, switch)
    except time_limits.TimeLimitExceeded as exceeded:
        return too_slow(course_id, query, embedded, exceeded.seconds)
    html = rendering.render("content.html", context)
    if seconds > 0 and not switch.visible:  # the old API's answers have their own cache, its outages none
        cache.set(key, str(html), seconds)
    return mark_safe(html)  # noqa: S308 - rendered by our template, which escapes


def too_slow(course_id: str, query: QueryDict, embedded: bool, seconds: float) -> SafeString:
    """In place of the figures when reading them ran past the request's budget (``db.time_limits``):
    what happened, and the ways on (the same view again, the default view), never cached."""
    log.warning("openedx_analytics: reading the figures of %s took longer than %g s; the page says so", course_id,
                seconds)
    base_url = links.instructor_dashboard_url(course_id) if embedded else reverse(
        "openedx_analytics:dashboard:course", kwargs={"course_id": course_id})
    anchor = f"#{SECTION_ANCHOR}" if embedded else ""
    kept = sorted((k, query[k]) for k in PARAMETERS if query.get(k) not in ("", None))
    html = rendering.render("too_slow.html", {
        "course_id": course_id, "seconds": f"{seconds:g}",
        "again_url": f"{base_url}?{urlencode(kept)}{anchor}" if kept else f"{base_url}{anchor}",
        "default_url": f"{base_url}{anchor}" if kept else "",
    })
    return mark_safe(html)  # noqa: S308 - rendered by our template, which escapes


def build(course_id: str, query: QueryDict, embedded: bool = False,
          switch: insights.SwitchState | None = None) -> dict[str, Any]:
    """The template context of the analytics of ``course_id`` (already checked) for these query parameters,
    for the page or (``embedded``) the instructor-dashboard section, with the caller's Insights switch."""
    with tables.language_numbers():
        return Page(course_id, query, embedded, switch).context()
