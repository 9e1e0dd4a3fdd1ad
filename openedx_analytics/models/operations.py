"""Bookkeeping models: scopes waiting to be recomputed, per-scope locks, and rejected events."""
from __future__ import annotations

from django.db import models

from openedx_analytics.models.facts import COURSE_ID_LENGTH


class DirtyScope(models.Model):
    """Append-only marker: the aggregates of one scope must be recomputed from facts.

    Written in the same transaction as the facts that changed; deleted (by id) only by
    the recompute that read it, so a change landing mid-recompute is picked up next time.

    .. pii: Scopes name courses, videos, problems and days; a video-viewer scope carries the
       LMS user id of a learner in ``key`` until it is drained (retirement deletes it at once).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    ENROLLMENT = "enrollment"
    ACTIVITY = "activity"
    VIDEO_USER = "video_user"
    VIDEO = "video"
    PROBLEM = "problem"
    GRADES = "grades"
    #: Recompute order within one drain: derived per-learner facts before the course-level
    #: aggregates that read them.
    ORDER = (VIDEO_USER, ENROLLMENT, ACTIVITY, VIDEO, PROBLEM, GRADES)

    kind = models.CharField(max_length=16)
    course_id = models.CharField(max_length=COURSE_ID_LENGTH)
    key = models.CharField(max_length=255, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "course_id", "key"], name="oa_dirty_scope")]


class ScopeLock(models.Model):
    """One row per scope, locked (SELECT ... FOR UPDATE) while that scope is recomputed.

    Serialises recomputes of the same scope across workers so the last writer always
    read the newest facts.

    .. no_pii:
    """

    kind = models.CharField(max_length=16)
    course_id = models.CharField(max_length=COURSE_ID_LENGTH)
    key = models.CharField(max_length=255, blank=True, default="")
    computed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "course_id", "key"], name="oa_scopelock_unique")]


class RejectionCount(models.Model):
    """How many events were rejected for each reason, per door.

    .. no_pii:
    """

    source = models.CharField(max_length=16)
    reason = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "reason"], name="oa_rejectioncount_unique")]


class RejectedEventSample(models.Model):
    """A bounded sample of rejected events, for operators to see what was wrong.

    .. pii: The raw event may contain a username or user id as sent by the LMS. Samples older
       than OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS are deleted; retirement deletes the
       samples that name the learner.
    .. pii_types: username, id
    .. pii_retirement: local_api
    """

    source = models.CharField(max_length=16)
    reason = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    payload = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["reason", "created"], name="oa_rejsample_reason")]


class BackfillCheckpoint(models.Model):
    """Progress of one ``backfill_analytics`` run, so an interrupted run resumes where it stopped.

    ``run_key`` is a hash of the run's arguments; ``position`` records, per input, how far
    the run has durably written. ``holder_*`` name the process running it now (empty when
    none), so a second run with the same arguments can say who holds it instead of
    sharing the checkpoint; ``heartbeat`` is when that process last said it is alive.

    .. no_pii:
    """

    run_key = models.CharField(max_length=64, unique=True)
    arguments = models.JSONField(default=dict)
    position = models.JSONField(default=dict)
    finished = models.BooleanField(default=False)
    holder_host = models.CharField(max_length=255, blank=True, default="")
    holder_pid = models.IntegerField(null=True, blank=True)
    held_since = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
