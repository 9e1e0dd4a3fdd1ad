"""Drain dirty scopes: recompute each scope's aggregates from facts, one scope per transaction.

Correct with many workers at once:
- each scope is recomputed under a row lock (``ScopeLock``, SELECT ... FOR UPDATE), so two
  recomputes of one scope never interleave and the last writer read the newest facts;
- only the dirty markers read *before* the recompute are deleted (by id), so a fact that
  lands mid-recompute leaves its marker for the next drain.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.metrics import activity, enrollment, grades, problems, video
from openedx_analytics.models import DirtyScope, ScopeLock
from openedx_analytics.pipeline.facts import Scope

log = logging.getLogger(__name__)

RECOMPUTERS: dict[str, Callable] = {
    DirtyScope.VIDEO_USER: video.recompute_viewer,
    DirtyScope.ENROLLMENT: enrollment.recompute,
    DirtyScope.ACTIVITY: activity.recompute,
    DirtyScope.VIDEO: video.recompute,
    DirtyScope.PROBLEM: problems.recompute,
    DirtyScope.GRADES: grades.recompute,
}
READ_LIMIT = 5000
#: Video-viewer scopes of one video recomputed together (fewer: one by one, as any scope).
VIEWER_GROUP_MIN = 4
VIEWER_GROUP_SIZE = 500


@dataclass
class DrainReport:
    """What a drain did: scopes recomputed per kind, and scopes that failed (left dirty)."""

    recomputed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: list[Scope] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Scopes recomputed in all."""
        return sum(self.recomputed.values())


def recompute_scope(scope: Scope, dirty_ids: list[int], using: str) -> bool:
    """Recompute one scope under its lock and delete the markers that asked for it.

    Returns False, doing nothing, when another worker already handled every one of those
    markers while this one waited for the lock (busy scopes are recomputed once, not once
    per waiting worker).
    """
    kind, course_id, key = scope
    with transaction.atomic(using=using):
        lock, _ = ScopeLock.objects.using(using).get_or_create(kind=kind, course_id=course_id, key=key)
        ScopeLock.objects.using(using).select_for_update().filter(pk=lock.pk).first()
        if not DirtyScope.objects.using(using).filter(id__in=dirty_ids).exists():
            return False
        now = timezone.now()
        RECOMPUTERS[kind](course_id, key, now, using)
        ScopeLock.objects.using(using).filter(pk=lock.pk).update(computed_at=now)
        DirtyScope.objects.using(using).filter(id__in=dirty_ids).delete()
    return True


def drain(courses: Iterable[str] | None = None, *, max_rounds: int = 1000) -> DrainReport:
    """Recompute dirty scopes (of ``courses`` only, if given) until none is left; return a report.

    One failing scope is logged and left dirty; the others go on.
    """
    using = conf.analytics_db()
    course_filter = sorted(set(courses)) if courses is not None else None
    report = DrainReport()
    failed_ids: set[int] = set()
    for _round in range(max_rounds):
        markers = DirtyScope.objects.using(using).exclude(id__in=failed_ids)
        if course_filter is not None:
            markers = markers.filter(course_id__in=course_filter)
        batch = list(markers.order_by("id").values_list("id", "kind", "course_id", "key")[:READ_LIMIT])
        if not batch:
            break
        by_scope: dict[Scope, list[int]] = defaultdict(list)
        for marker_id, kind, course_id, key in batch:
            by_scope[(kind, course_id, key)].append(marker_id)
        order = {kind: index for index, kind in enumerate(DirtyScope.ORDER)}
        single = _recompute_viewer_groups(by_scope, using, report)
        for scope in sorted(single, key=lambda s: (order.get(s[0], 99), s)):
            try:
                if recompute_scope(scope, by_scope[scope], using):
                    report.recomputed[scope[0]] += 1
            except Exception:  # noqa: BLE001 - one bad scope must not stop the others
                log.exception("openedx_analytics: recomputing %s failed; it stays dirty", scope)
                report.failed.append(scope)
                failed_ids.update(by_scope[scope])
    return report


def _recompute_viewer_groups(by_scope: dict[Scope, list[int]], using: str, report: DrainReport) -> list[Scope]:
    """Recompute video-viewer scopes many learners of a video at a time; return the scopes left to do one by one.

    Same protocol as ``recompute_scope`` (every scope's lock held, markers read before
    the recompute deleted, scopes another worker handled meanwhile skipped), in one
    transaction per group. A group that fails falls back to one scope at a time.
    """
    groups: dict[tuple[str, str], list[Scope]] = defaultdict(list)
    rest: list[Scope] = []
    for scope in by_scope:
        if scope[0] == DirtyScope.VIDEO_USER:
            groups[(scope[1], scope[2].split(" ", 1)[1])].append(scope)
        else:
            rest.append(scope)
    for (course_id, video_id), scopes in groups.items():
        if len(scopes) < VIEWER_GROUP_MIN:
            rest.extend(scopes)
            continue
        for start in range(0, len(scopes), VIEWER_GROUP_SIZE):
            group = scopes[start:start + VIEWER_GROUP_SIZE]
            try:
                report.recomputed[DirtyScope.VIDEO_USER] += _recompute_viewer_group(
                    course_id, video_id, group, by_scope, using
                )
            except Exception:  # noqa: BLE001 - retried scope by scope, which logs and isolates failures
                log.warning("openedx_analytics: grouped recompute of %s %s failed; retrying one by one",
                            course_id, video_id, exc_info=True)
                rest.extend(group)
    return rest


def _recompute_viewer_group(course_id: str, video_id: str, scopes: list[Scope], by_scope: dict[Scope, list[int]],
                            using: str) -> int:
    keys = [scope[2] for scope in scopes]
    with transaction.atomic(using=using):
        ScopeLock.objects.using(using).bulk_create(
            [ScopeLock(kind=DirtyScope.VIDEO_USER, course_id=course_id, key=key) for key in keys],
            ignore_conflicts=True,
        )
        locks = ScopeLock.objects.using(using).select_for_update().filter(
            kind=DirtyScope.VIDEO_USER, course_id=course_id, key__in=keys
        )
        list(locks.values_list("pk", flat=True))
        marker_ids = [marker for scope in scopes for marker in by_scope[scope]]
        alive = set(DirtyScope.objects.using(using).filter(id__in=marker_ids).values_list("id", flat=True))
        todo = [scope for scope in scopes if alive.intersection(by_scope[scope])]
        if not todo:
            return 0
        now = timezone.now()
        video.recompute_viewers(course_id, video_id, [int(scope[2].split(" ", 1)[0]) for scope in todo], now, using)
        ScopeLock.objects.using(using).filter(
            kind=DirtyScope.VIDEO_USER, course_id=course_id, key__in=[scope[2] for scope in todo]
        ).update(computed_at=now)
        DirtyScope.objects.using(using).filter(id__in=marker_ids).delete()
    return len(todo)
