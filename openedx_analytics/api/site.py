"""Figures across many courses: distinct active learners per week over a set of courses.

A course's weekly count (``ActivityWeek``) cannot be summed across courses: a learner active
in two courses would count twice. Two ways give each person once:

- the precomputed weekly figures of the whole site and of each org (``SiteActivityWeek``,
  kept by the site engine ``metrics.site_activity`` from the learner-weeks, recounted,
  never incremented). They answer when the caller's courses hold every course with
  learner-weeks (global staff: the whole site) or every such course of one org and nothing
  else (an org-wide role). A course the rollout gate hides from the caller is not among
  their courses, so the precomputed figure, which counts it, is then not used: it is only
  read when no counted course is hidden.
- any other set (a filtered list, several orgs, a course hidden by the gate) is counted
  now from the learner-weeks (``ActivityLearnerWeek``, kind ``any``). Up to ``IN_LIMIT``
  courses in one ``COUNT(DISTINCT)`` (a short ``IN`` list stays index ranges on MariaDB);
  a longer set in slices of ``IN_LIMIT`` courses whose distinct (week, learner) pairs are
  joined in Python: never one long ``IN`` list, which MariaDB turns into a subquery
  (``in_predicate_conversion_threshold``) and reads in seconds.

Either answer for one set of courses and range is kept in the cache for
``OPENEDX_ANALYTICS_SITE_CACHE_SECONDS`` (the weekly figures move slowly; a course's own
page stays live).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max

from openedx_analytics import conf
from openedx_analytics.lms.roles import course_org
from openedx_analytics.metrics import site_activity
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import ActivityLearnerWeek, ActivityWeek, DirtyScope, SiteActivityWeek
from openedx_analytics.pipeline.markers import ALL_KEYS, SITE

WEEK = dt.timedelta(days=7)
CACHE_PREFIX = "openedx_analytics.site.weeks."
#: Most courses counted in one query (an ``IN`` list MariaDB keeps as index ranges).
IN_LIMIT = 900


def cache_seconds() -> int:
    """How long the figures of a set of courses are kept (``OPENEDX_ANALYTICS_SITE_CACHE_SECONDS``)."""
    return max(int(conf.get("OPENEDX_ANALYTICS_SITE_CACHE_SECONDS") or 0), 0)


def _cache_key(courses: list[str], start: dt.date | None, end: dt.date | None) -> str:
    digest = hashlib.sha256("\n".join([str(start), str(end), *courses]).encode()).hexdigest()
    return CACHE_PREFIX + digest


def counted_courses() -> set[str]:
    """Every course with active learners: what the precomputed figures count.

    Read from the courses' weekly counts (``ActivityWeek``, a row per course and active
    week, written with the learner-weeks in one recompute: a course has one with ``any``
    above 0 exactly when it has learner-weeks of kind ``any``), not as the distinct course
    ids of the learner-weeks, a scan of millions of index entries on MariaDB.
    """
    rows = ActivityWeek.objects.using(conf.analytics_db()).filter(any__gt=0).values_list("course_id", flat=True)
    return set(rows.distinct().order_by())


def precomputed_scope(course_ids: Iterable[str]) -> str | None:
    """The ``SiteActivityWeek.org`` whose figures are exactly those of ``course_ids`` ("" the whole site), or None.

    The whole site when the courses hold every counted course; an org when they are all of
    that org and hold every counted course of it. None otherwise (a course counted there
    is not among them, for instance one the rollout gate hides), and while a whole rebuild
    of the figures is pending (they are not built yet).
    """
    courses = set(course_ids)
    using = conf.analytics_db()
    if DirtyScope.objects.using(using).filter(kind=site_activity.KIND, course_id=SITE, key=ALL_KEYS).exists():
        return None
    counted = counted_courses()
    if counted <= courses:
        return site_activity.WHOLE_SITE
    orgs = {course_org(course) for course in courses}
    if len(orgs) == 1:
        org = orgs.pop()
        if org and {course for course in counted if course_org(course) == org} <= courses:
            return org
    return None


def _rows(weeks: Iterable[tuple[dt.date, int]]) -> list[dict[str, Any]]:
    today = dt.datetime.now(dt.timezone.utc).date()
    return [{"interval_start": week, "interval_end": week + WEEK, "any": learners, "partial": week + WEEK > today}
            for week, learners in sorted(weeks) if learners]


def _precomputed(org: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    rows = SiteActivityWeek.objects.using(conf.analytics_db()).filter(org=org)
    if start is not None:
        rows = rows.filter(week__gte=start - dt.timedelta(days=start.weekday()))
    if end is not None:
        rows = rows.filter(week__lt=end)
    return _rows(rows.values_list("week", "any"))


def counted_now(courses: list[str], start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """The weekly distinct learners of ``courses`` counted from the learner-weeks now (any set of courses)."""
    rows = ActivityLearnerWeek.objects.using(conf.analytics_db()).filter(kind=site_activity.COUNTED)
    if start is not None:
        rows = rows.filter(week__gte=start - dt.timedelta(days=start.weekday()))
    if end is not None:
        rows = rows.filter(week__lt=end)
    if len(courses) <= IN_LIMIT:
        counted = rows.filter(course_id__in=courses).values("week").annotate(n=Count("user_id", distinct=True))
        return _rows((r["week"], r["n"]) for r in counted.order_by("week"))
    learners: dict[dt.date, set[int]] = defaultdict(set)
    for ids in chunks(courses, IN_LIMIT):
        pairs = rows.filter(course_id__in=list(ids)).values_list("week", "user_id").distinct().order_by()
        for week, user in pairs.iterator(chunk_size=20000):
            learners[week].add(user)
    return _rows((week, len(users)) for week, users in learners.items())


def weekly_active_learners(course_ids: Iterable[str], start: dt.date | None = None,
                           end: dt.date | None = None) -> list[dict[str, Any]]:
    """Rows ``interval_start``, ``interval_end``, ``any``, ``partial``: distinct learners active in any of
    ``course_ids`` per ISO week (weeks whose Monday is in [``start``'s week, ``end``)), oldest first.

    Weeks without activity are absent, as in a course's activity rows. The precomputed
    figures when the courses are the whole site or a whole org, counted otherwise (see
    the module); kept in the cache per set of courses and range.
    """
    courses = sorted(set(course_ids))
    if not courses:
        return []
    key = _cache_key(courses, start, end)
    kept = cache.get(key)
    if kept is not None:
        return kept
    scope = precomputed_scope(courses)
    found = counted_now(courses, start, end) if scope is None else _precomputed(scope, start, end)
    cache.set(key, found, cache_seconds())
    return found


def activity_last_updated(course_ids: Iterable[str]) -> dt.datetime | None:
    """When the weekly activity of any of ``course_ids`` was last recomputed (None: never)."""
    courses = sorted(set(course_ids))
    if not courses:
        return None
    using = conf.analytics_db()
    scope = precomputed_scope(courses)
    if scope is not None:
        return SiteActivityWeek.objects.using(using).filter(org=scope).aggregate(last=Max("last_updated"))["last"]
    stamps = [ActivityWeek.objects.using(using).filter(course_id__in=list(ids)).aggregate(last=Max("last_updated"))
              ["last"] for ids in chunks(courses, IN_LIMIT)]
    return max((stamp for stamp in stamps if stamp is not None), default=None)
