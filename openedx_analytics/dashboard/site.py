"""The site overview: every course a person may oversee (all of them for global staff, their
orgs' for org-wide roles) with its headline figures, totals, and distinct active learners per week.

Server-rendered under the course page's Content-Security-Policy (no script): search, the
org, pacing and availability filters, the sort order and the page are query parameters of
plain links and a GET form, and ``?format=csv`` downloads the whole filtered list. Every
figure is read in a fixed number of queries whatever the number of courses
(``api.get_course_summaries``, ``lms.courses.course_overviews``,
``api.site.weekly_active_learners``); at thousands of courses that still takes a while, so
the rows of one set of courses are kept in the cache for ``OPENEDX_ANALYTICS_SITE_CACHE_SECONDS`` and
searching, filtering, sorting and paging reuse them.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from openedx_analytics import access, api, rate_limit
from openedx_analytics.api import site as api_site
from openedx_analytics.dashboard import rendering, views
from openedx_analytics.db import time_limits
from openedx_analytics.lms import courses as lms_courses
from openedx_analytics.lms import links
from openedx_analytics.lms.roles import course_org

log = logging.getLogger(__name__)

#: Courses per page of the overview.
PAGE_SIZE = 100
#: Weeks of distinct active learners the page shows (the API gives any range).
WEEKS_SHOWN = 12
#: The figures of each course, in column order; each is also a sort key.
FIGURES = ("count", "cumulative_count", "count_change_7_days", "verified", "passing_users", "certificates",
           "active_last_week")
#: Sort keys: the figures, plus name, org and start.
SORTS = ("name", "course_id", "org", "start", *FIGURES)
PACINGS = ("self", "instructor")
AVAILABILITIES = ("upcoming", "current", "archived")
CSV_COLUMNS = ("course_id", "name", "org", "pacing", "availability", "start", "end", *FIGURES)


def availability(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime) -> str:
    """``upcoming`` before the start, ``archived`` after the end, ``current`` between (an open end never archives)."""
    if start is not None and start > now:
        return "upcoming"
    if end is not None and end <= now:
        return "archived"
    return "current"


def cached_course_rows(course_ids: list[str], now: dt.datetime) -> list[dict[str, Any]]:
    """``course_rows``, kept in the cache for ``OPENEDX_ANALYTICS_SITE_CACHE_SECONDS`` per set of courses."""
    key = "openedx_analytics.site.rows." + hashlib.sha256("\n".join(course_ids).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = course_rows(course_ids, now)
        cache.set(key, rows, api_site.cache_seconds())
    return rows


def course_rows(course_ids: list[str], now: dt.datetime) -> list[dict[str, Any]]:
    """One row per course: its overview (name, org, pacing, availability) and its summary figures."""
    overviews = lms_courses.course_overviews(course_ids)
    rows = []
    for summary in api.get_course_summaries(course_ids):
        course = summary["course_id"]
        overview = overviews.get(course) or {"name": course, "org": course_org(course), "start": None,
                                             "end": None, "self_paced": False}
        rows.append({
            "course_id": course, "name": overview["name"], "org": overview["org"],
            "pacing": "self" if overview["self_paced"] else "instructor",
            "availability": availability(overview["start"], overview["end"], now),
            "start": overview["start"], "end": overview["end"],
            "count": summary["count"], "cumulative_count": summary["cumulative_count"],
            "count_change_7_days": summary["count_change_7_days"],
            "verified": (summary["enrollment_modes"].get("verified") or {}).get("count", 0),
            "passing_users": summary["passing_users"], "certificates": summary["certificates"],
            "active_last_week": summary["active_last_week"],
        })
    return rows


def choices(query: Mapping[str, str]) -> dict[str, str]:
    """The filters and order asked for, unknown values dropped (a hand-edited link shows everything)."""
    sort = query.get("sort", "name")
    return {
        "q": (query.get("q") or "").strip()[:200],
        "org": (query.get("org") or "").strip()[:255],
        "pacing": query.get("pacing", "") if query.get("pacing") in PACINGS else "",
        "availability": query.get("availability", "") if query.get("availability") in AVAILABILITIES else "",
        "sort": sort if sort.lstrip("-") in SORTS else "name",
    }


def filtered(rows: Iterable[dict[str, Any]], chosen: Mapping[str, str]) -> list[dict[str, Any]]:
    """The rows matching the search (id or name, any case) and the filters, in the order asked for."""
    text = chosen["q"].lower()
    kept = [
        row for row in rows
        if (not text or text in row["course_id"].lower() or text in str(row["name"]).lower())
        and (not chosen["org"] or row["org"] == chosen["org"])
        and (not chosen["pacing"] or row["pacing"] == chosen["pacing"])
        and (not chosen["availability"] or row["availability"] == chosen["availability"])
    ]
    key = chosen["sort"].lstrip("-")
    earliest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    def value(row: dict[str, Any]) -> Any:
        found = row[key]
        if key == "start":
            return found or earliest
        return str(found).lower() if key in ("name", "course_id", "org") else found

    kept.sort(key=lambda row: row["course_id"])
    kept.sort(key=value, reverse=chosen["sort"].startswith("-"))
    return kept


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Each figure summed over ``rows`` (active learners last week too: see the weekly distinct counts)."""
    return {figure: sum(row[figure] for row in rows) for figure in FIGURES}


def _link(chosen: Mapping[str, str], **changes: Any) -> str:
    params = {**chosen, **changes}
    return "?" + urlencode({name: value for name, value in params.items() if value not in ("", None)})


def _csv(rows: list[dict[str, Any]]) -> StreamingHttpResponse:
    """The whole filtered list as CSV, streamed row by row."""
    def lines() -> Iterable[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row[c].isoformat() if isinstance(row[c], dt.datetime) else row[c] for c in CSV_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="courses_overview.csv"'
    return response


@require_safe
def site_overview(request: HttpRequest) -> HttpResponse:
    """The overview page (or its CSV), counted against the page's rate first as the course page is."""
    wait = rate_limit.refused_for(rate_limit.PAGE, rate_limit.caller(getattr(request, "user", None), request.META))
    if wait is not None:
        return views._too_many(request, wait)
    return _signed_in_overview(request)


@login_required
def _signed_in_overview(request: HttpRequest) -> HttpResponse:
    """The overview, its reads within the request's time budget (``db.time_limits``): past it, 503 saying so."""
    try:
        with time_limits.time_budget():
            return _overview(request)
    except time_limits.TimeLimitExceeded as exceeded:
        log.warning("openedx_analytics: the site overview took longer than %g s to read; answered 503",
                    exceeded.seconds)
        html = rendering.render("refused.html", {"status": 503, "seconds": f"{exceeded.seconds:g}", "site": True,
                                                 "again_url": request.get_full_path(),
                                                 "home_url": links.home_url()}, request)
        response = views._secured(HttpResponse(html, status=503))
        response["Retry-After"] = "30"
        return response


def _overview(request: HttpRequest) -> HttpResponse:
    try:
        visible = access.site_courses(request.user)
    except access.Refused as refused:
        html = rendering.render("refused.html", {"status": refused.status, "message": refused.message, "site": True,
                                                 "home_url": links.home_url()}, request)
        return views._secured(HttpResponse(html, status=refused.status))
    now = dt.datetime.now(dt.timezone.utc)
    every = cached_course_rows(visible, now)
    chosen = choices(request.GET)
    rows = filtered(every, chosen)
    if request.GET.get("format") == "csv":
        return views._secured(_csv(rows))
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    today = now.date()
    since = today - dt.timedelta(days=today.weekday() + 7 * (WEEKS_SHOWN - 1))
    sort = chosen["sort"]
    columns = [(name, _link(chosen, sort=("-" + name) if sort == name else name)) for name in SORTS
               if name not in ("course_id", "start")]
    context = {
        "rows": rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], "total": len(rows), "totals": totals(rows),
        "weeks": api_site.weekly_active_learners([row["course_id"] for row in rows], start=since),
        "chosen": chosen, "orgs": sorted({row["org"] for row in every}), "pacings": PACINGS,
        "availabilities": AVAILABILITIES, "sort_links": dict(columns),
        "page": page, "pages": pages,
        "previous_url": _link(chosen, page=page - 1) if page > 1 else "",
        "next_url": _link(chosen, page=page + 1) if page < pages else "",
        "csv_url": _link(chosen, format="csv"), "course_url_prefix": "../courses/",
        "home_url": links.home_url(), "logout_url": links.logout_url(),
        "username": request.user.get_username(),
    }
    return views._secured(HttpResponse(rendering.render("site.html", context, request)))
