"""Learner retirement: when the LMS retires a learner, delete everything analytics holds about them.

The LMS's retirement API sends ``USER_RETIRE_LMS_MISC`` and ``USER_RETIRE_LMS_CRITICAL``
(reached through ``lms.retirement_signals``) with ``user=``; ``live.retirement`` receives
them and calls ``retire_learner``. In one transaction on the analytics database, it
deletes the learner's facts from every fact table (enrollments, grades, passing,
certificates, problem submissions, player events, activity days, video viewers), the
engines' per-learner rows and the rejected-event samples that name them, and marks
every scope those facts fed dirty; after the commit the courses are recomputed, so the
aggregates stop counting the learner. Both signals may arrive: the second finds nothing.

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
from openedx_analytics.models import (
    ActivityFact,
    ActivityLearnerWeek,
    CertificateFact,
    DirtyScope,
    EnrollmentFact,
    GradeFact,
    GradeLearner,
    PassingFact,
    ProblemLearner,
    ProblemSubmissionFact,
    RejectedEventSample,
    VideoEventFact,
    VideoViewer,
)
from openedx_analytics.pipeline.markers import ALL_KEYS, Scope, mark_dirty

log = logging.getLogger(__name__)

#: Fact tables holding one learner's rows, and the scopes (built from a row's values) each feeds.
_COURSE_LEVEL = {
    EnrollmentFact: (DirtyScope.ENROLLMENT, DirtyScope.GRADES),
    GradeFact: (DirtyScope.GRADES,),
    PassingFact: (DirtyScope.GRADES,),
    CertificateFact: (DirtyScope.GRADES,),
}


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
        for model, kinds in _COURSE_LEVEL.items():
            rows = model.objects.using(using).filter(user_id=user_id)
            for course in rows.values_list("course_id", flat=True).distinct().order_by():
                scopes.update((kind, course, "") for kind in kinds)
            retired.deleted[model.__name__] += rows.delete()[0]
        problems = ProblemSubmissionFact.objects.using(using).filter(user_id=user_id)
        scopes.update((DirtyScope.PROBLEM, course, problem) for course, problem in
                      problems.values_list("course_id", "problem_id").distinct().order_by())
        retired.deleted["ProblemSubmissionFact"] += problems.delete()[0]
        days = ActivityFact.objects.using(using).filter(user_id=user_id)
        scopes.update((DirtyScope.ACTIVITY, course, day.isoformat()) for course, day in
                      days.values_list("course_id", "day").distinct().order_by())
        retired.deleted["ActivityFact"] += days.delete()[0]
        # A video-viewer marker names the learner; its recompute finds no events, drops the
        # viewer row (deleted here already) and rebuilds the video's figures without them.
        for model in (VideoEventFact, VideoViewer):
            rows = model.objects.using(using).filter(user_id=user_id)
            scopes.update((DirtyScope.VIDEO_USER, course, f"{user_id} {video}") for course, video in
                          rows.values_list("course_id", "video_id").distinct().order_by())
            retired.deleted[model.__name__] += rows.delete()[0]
        # The engines' per-learner rows (what each learner last added to a course's tallies).
        for model in (GradeLearner, ProblemLearner, ActivityLearnerWeek):
            retired.deleted[model.__name__] += model.objects.using(using).filter(user_id=user_id).delete()[0]
        sample_ids = _samples_naming(user_id, usernames, using)
        if sample_ids:
            retired.deleted["RejectedEventSample"] += (
                RejectedEventSample.objects.using(using).filter(id__in=sample_ids).delete()[0]
            )
        # The learner's per-learner rows are gone, so their share of the tallies cannot be
        # subtracted: each touched kind of each course is rebuilt from the facts that remain.
        scopes = {(kind, course, ALL_KEYS) for kind, course, _key in scopes}
        if scopes:
            mark_dirty(scopes, using=using)
        retired.courses = {course for _kind, course, _key in scopes}
    log.info("openedx_analytics: retired learner %s: deleted %s; recomputing %s courses",
             user_id, dict(retired.deleted), len(retired.courses))
    return retired
