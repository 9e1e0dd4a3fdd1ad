"""Learner retirement: when the LMS retires a learner, delete everything analytics holds about them.

The LMS's retirement API sends ``USER_RETIRE_LMS_MISC`` and ``USER_RETIRE_LMS_CRITICAL``
(reached through ``lms.retirement_signals``) with ``user=``; ``live.retirement`` receives
them and calls ``retire_learner``. In one transaction on the analytics database, it
deletes the learner's rows from every table that names a learner (``kinds.LEARNER_TABLES``:
every fact table and the engines' per-learner rows) and the rejected-event samples that
name them, and marks every kind those rows fed dirty as a whole (``ALL_KEYS``) in each
course they were in, and the weeks of the site and orgs where they were active
(``metrics.site_activity``: those are counted across courses, and a week where only they
were active in a course would otherwise be left out of the course's rebuild); after the
commit the courses are recomputed, so the aggregates stop counting the learner. Pending
markers naming the learner are not deleted here: that recompute drains every marker of
those courses, theirs with them. Both signals may arrive: the second finds nothing.

A failure to delete raises into the retirement API on purpose: the LMS then records the
step as failed and its retirement driver retries it, instead of reporting a learner
retired whose data is still here. Scheduling the recompute never raises: the dirty
markers are already committed, and any later drain of the course picks them up.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from openedx_analytics import conf
from openedx_analytics.metrics import site_activity
from openedx_analytics.models import RejectedEventSample
from openedx_analytics.pipeline.kinds import LEARNER_TABLES
from openedx_analytics.pipeline.markers import SITE, Scope, mark_dirty, whole_course

log = logging.getLogger(__name__)


@dataclass
class Retired:
    """What one retirement deleted (rows per table) and the courses it sent to be recomputed."""

    deleted: Counter = field(default_factory=Counter)
    courses: set[str] = field(default_factory=set)


def _user_pattern(user_id: int) -> re.Pattern[str]:
    """A user id as a JSON field of a raw event (``"user_id": 7``, ``"user_id":"7"``), not any 7 in the text."""
    return re.compile(rf'"(?:user_id|userId|user)"\s*:\s*"?{int(user_id)}(?![0-9])')


def _samples_naming(user_id: int, usernames: Iterable[str], using: str) -> list[int]:
    """Ids of the rejected-event samples that name the learner by user id or username."""
    pattern = _user_pattern(user_id)
    ids = [
        pk for pk, payload in RejectedEventSample.objects.using(using)
        .filter(payload__contains=str(int(user_id))).values_list("id", "payload").iterator()
        if pattern.search(payload)
    ]
    for username in {name for name in usernames if name}:
        named = re.compile(rf"(?<![\w.@+-]){re.escape(username)}(?![\w.@+-])")
        ids.extend(pk for pk, payload in RejectedEventSample.objects.using(using)
                   .filter(payload__contains=username).values_list("id", "payload").iterator()
                   if named.search(payload))
    return ids


def retire_learner(user_id: int, usernames: Iterable[str] = ()) -> Retired:
    """Delete the learner's facts and samples and mark what they fed dirty, in one transaction.

    Returns what was deleted and the courses whose aggregates must be recomputed (the caller,
    ``live.retirement``, sends that recompute once the deletion is committed).
    """
    user_id = int(user_id)
    using = conf.analytics_db()
    retired = Retired()
    scopes: set[Scope] = set()
    with transaction.atomic(using=using):
        # Every table naming the learner: facts and the engines' per-learner rows. Those rows are
        # what a recompute subtracts from a tally, so with them gone the learner's share cannot be
        # subtracted: each kind their rows fed is rebuilt, per course, from the facts that remain.
        scopes.update(site_activity.learner_scopes(user_id, using))
        for model, scope_kinds in LEARNER_TABLES.items():
            rows = model.objects.using(using).filter(user_id=user_id)
            for course in rows.values_list("course_id", flat=True).distinct().order_by():
                scopes.update(whole_course(kind, course) for kind in scope_kinds)
            retired.deleted[model.__name__] += rows.delete()[0]
        sample_ids = _samples_naming(user_id, usernames, using)
        if sample_ids:
            retired.deleted["RejectedEventSample"] += (
                RejectedEventSample.objects.using(using).filter(id__in=sample_ids).delete()[0]
            )
        if scopes:
            mark_dirty(scopes, using=using)
        retired.courses = {course for _kind, course, _key in scopes if course != SITE}  # drained with any course
    log.info("openedx_analytics: retired learner %s: deleted %s; recomputing %s courses",
             user_id, dict(retired.deleted), len(retired.courses))
    return retired
