"""Distinct active learners per ISO week across the whole site and per organization (``SiteActivityWeek``).

Why an aggregate: the site overview and ``site/activity/`` show, per week, the learners
active in any of many courses, each person once. Counting that at request time means
``COUNT(DISTINCT user_id)`` over every learner-week of thousands of courses: seconds at
100,000 learners, and on MariaDB far worse when the courses are a long ``IN`` list. The
callers that matter most see whole sets (global staff: every course; org-wide roles: an
org's courses), so those figures are kept here, one row per week for the site and per
(org, week), and the readers (``api.site``) use them when the caller's courses are such a
set; other sets are counted at request time.

How it stays right: a figure is always recounted from the courses' learner-weeks
(``ActivityLearnerWeek``, kind ``any``, which the activity engine keeps from the facts),
never incremented. When the activity engine makes a learner-week of kind ``any`` appear or
go (a new learner in a week, a late or backfilled event, a rebuild), it marks
``(site_activity, SITE, "<Monday> <org>")`` dirty in the same transaction; retirement marks
the weeks of the learner it deletes. The drain recomputes the site's markers as one unit
(course id ``SITE``, one lock, after every course kind), so the markers of thousands of
courses in a backfill collapse into one recount per week and org, and two recounts of the
same row never interleave. A recount reads committed rows (the drain's transactions are
READ COMMITTED on MySQL), so whatever order events arrive in, the last recount of a week
sees every learner-week written before its marker.

The counts: the site's figure of a week is one ``COUNT(DISTINCT user_id)`` over the
week's rows, read from the index ``(kind, week, course_id, user_id)``; an org's over the
rows of its courses, which share a prefix of the course id (``course-v1:Org+``,
``Org/``): a range of the same index. A course id whose prefix would also take in another
org's course (never for keys opaque-keys parses) is counted in Python instead. A bare week
or a whole rebuild (``ALL_KEYS``) reads each week's (course, learner) pairs once and counts
the site and every org in memory.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Q

from openedx_analytics.db.bulk import upsert
from openedx_analytics.lms.roles import course_org
from openedx_analytics.metrics.engine import Table
from openedx_analytics.metrics.store import chunks
from openedx_analytics.models import ActivityFact, ActivityLearnerWeek, DirtyScope, SiteActivityWeek
from openedx_analytics.pipeline.markers import SITE, Scope, site_week_key, split_site_weeks

KIND = DirtyScope.SITE_ACTIVITY
#: The table it owns (not per course: ``verify_analytics`` leaves it out; see ``expected_rows``).
WEEKS = Table("site activity week", SiteActivityWeek, ("org", "week"), ("any",))
TABLES = (WEEKS,)
#: The ``org`` of the rows counting the whole site.
WHOLE_SITE = ""
#: The learner-weeks counted: those of any activity.
COUNTED = ActivityFact.ANY


def week_scopes(course_id: str, mondays: Iterable[dt.date]) -> set[Scope]:
    """The markers recounting the site's and ``course_id``'s org's learners of each of ``mondays``."""
    org = course_org(course_id)
    return {(KIND, SITE, site_week_key(monday, org)) for monday in mondays}


def learner_scopes(user_id: int, using: str) -> set[Scope]:
    """The markers recounting every week and org where ``user_id`` has a learner-week (before retirement deletes
    them: the activity rebuild that follows cannot see the weeks where only they were active)."""
    rows = (ActivityLearnerWeek.objects.using(using).filter(user_id=user_id, kind=COUNTED)
            .values_list("course_id", "week").distinct().order_by())
    return {scope for course, monday in rows for scope in week_scopes(course, [monday])}


def _week_rows(monday: dt.date, using: str):
    return ActivityLearnerWeek.objects.using(using).filter(kind=COUNTED, week=monday)


def _org_prefixes(org: str, courses: Iterable[str]) -> set[str] | None:
    """The course-id prefixes naming ``org``'s courses (``course-v1:Org+``, ``Org/``); None when a course's id does
    not show where its org ends."""
    prefixes = set()
    for course in courses:
        at = course.find(org, course.find(":") + 1 if course.startswith(("course-v1:", "ccx-v1:")) else 0)
        end = at + len(org)
        if at < 0 or end >= len(course) or course[end] not in "+/" or (at and course[at - 1] != ":"):
            return None
        prefixes.add(course[:end + 1])
    return prefixes


def _count_org(monday: dt.date, org: str, week_courses: list[str], using: str) -> int:
    """Distinct learners of ``org``'s courses in the week (``week_courses``: every course with a row that week)."""
    mine = [course for course in week_courses if course_org(course) == org]
    if not mine:
        return 0
    prefixes = _org_prefixes(org, mine)
    if prefixes and {c for c in week_courses if c.startswith(tuple(prefixes))} == set(mine):
        where = Q()
        for prefix in sorted(prefixes):
            where |= Q(course_id__startswith=prefix)
        return _week_rows(monday, using).filter(where).aggregate(n=Count("user_id", distinct=True))["n"]
    learners: set[int] = set()
    for ids in chunks(mine):
        learners.update(_week_rows(monday, using).filter(course_id__in=list(ids))
                        .values_list("user_id", flat=True).distinct().order_by())
    return len(learners)


def count_week(monday: dt.date, orgs: set[str] | None, using: str) -> dict[str, int]:
    """The site's (``WHOLE_SITE``) and each org's distinct learners of the week starting ``monday``
    (``orgs`` None: every org with a learner; orgs without one count 0)."""
    if orgs is None:
        site: set[int] = set()
        by_org: dict[str, set[int]] = defaultdict(set)
        org_of: dict[str, str] = {}
        pairs = _week_rows(monday, using).values_list("course_id", "user_id").order_by().iterator(chunk_size=20000)
        for course, user in pairs:
            site.add(user)
            org = org_of.get(course)
            if org is None:
                org = org_of[course] = course_org(course)
            if org:
                by_org[org].add(user)
        return {WHOLE_SITE: len(site), **{org: len(users) for org, users in by_org.items()}}
    rows = _week_rows(monday, using)
    counts = {WHOLE_SITE: rows.aggregate(n=Count("user_id", distinct=True))["n"]}
    week_courses = list(rows.values_list("course_id", flat=True).distinct().order_by())
    for org in sorted(orgs - {WHOLE_SITE}):
        counts[org] = _count_org(monday, org, week_courses, using)
    return counts


def write_week(monday: dt.date, counts: dict[str, int], now: dt.datetime, using: str, *,
               every_org: bool) -> None:
    """Store the week's counts; a counted org (or, with ``every_org``, any org not counted) with 0 loses its row."""
    kept = {org: n for org, n in counts.items() if n}
    upsert(SiteActivityWeek, [SiteActivityWeek(org=org, week=monday, any=n, last_updated=now)
                              for org, n in sorted(kept.items())], ["org", "week"], ["any", "last_updated"], using)
    rows = SiteActivityWeek.objects.using(using).filter(week=monday)
    if every_org:
        rows.exclude(org__in=sorted(kept)).delete()
    else:
        emptied = sorted(org for org, n in counts.items() if not n)
        if emptied:
            rows.filter(org__in=emptied).delete()


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Recount the weeks and orgs ``keys`` name (``ALL_KEYS``: every week) from the learner-weeks.

    ``course_id`` is ``SITE``: the site's markers are one unit whatever course changed.
    """
    everything, whole, by_week = split_site_weeks(keys)
    if everything:
        learner_weeks = ActivityLearnerWeek.objects.using(using).filter(kind=COUNTED)
        whole = set(learner_weeks.values_list("week", flat=True).distinct().order_by())
        SiteActivityWeek.objects.using(using).exclude(week__in=sorted(whole)).delete()
        by_week = {}
    for monday in sorted(whole):
        write_week(monday, count_week(monday, None, using), now, using, every_org=True)
    for monday, orgs in sorted(by_week.items()):
        write_week(monday, count_week(monday, orgs, using), now, using, every_org=False)


def expected_rows(using: str) -> dict[tuple[str, dt.date], int]:
    """What a whole rebuild would store: (org, week) -> distinct learners (for tests and checks; writes nothing)."""
    weeks = (ActivityLearnerWeek.objects.using(using).filter(kind=COUNTED)
             .values_list("week", flat=True).distinct().order_by())
    return {(org, monday): n for monday in weeks for org, n in count_week(monday, None, using).items() if n}


def stored_rows(using: str) -> dict[tuple[str, dt.date], int]:
    """The stored rows: (org, week) -> distinct learners."""
    return {(org, week): n for org, week, n in
            SiteActivityWeek.objects.using(using).values_list("org", "week", "any")}
