"""Bookkeeping models: scopes waiting to be recomputed, per-scope locks, and rejected events."""
from __future__ import annotations

from django.db import models

from openedx_analytics.models.facts import COURSE_ID_LENGTH
from openedx_analytics.models.fields import CaseSensitiveCharField


class DirtyScope(models.Model):
    """Append-only marker: the aggregates of one scope must be recomputed from facts.

    Written in the same transaction as the facts that changed; deleted (by id) only by
    the recompute that read it, so a change landing mid-recompute is picked up next time.

    Kinds, and what a marker's ``key`` names (the engine of each kind recomputes from it):

    - ``enrollment``: the UTC day of the change (ISO date); the engine starts at the
      earliest day marked.
    - ``activity``: ``"<user_id> <ISO date>"``, a learner active on that UTC day (their week
      is updated); a bare ISO date (markers written before they named learners) recounts
      that day's whole ISO week.
    - ``video_user``: ``"<user_id> <video_id>"``, a learner whose events on a video changed.
    - ``problem``: ``"<user_id> <problem_id>"``, a learner who submitted.
    - a bare video or problem id (an id too long to carry a user id as well): every
      learner of that video or problem.
    - ``grades``: the user id of a learner whose enrollment, grade, passing status or
      certificate changed.

    - ``site_activity`` (``course_id`` empty: the whole site, one unit for every course):
      ``"<ISO date of a Monday> <org>"``, a week in which a learner-week of a course of
      that org appeared or went; the site's and that org's distinct learners of the week are
      recounted (``metrics.site_activity``). A bare Monday recounts the site and every org
      of that week.

    Any kind also takes ``"*"`` (``ALL_KEYS``: rebuild the course's aggregates of that
    kind from all its facts). A writer that deletes a learner's rows (retirement) marks
    ``"*"`` for every kind those rows fed, in each of their courses: the learner's share
    can no longer be subtracted, so those kinds are rebuilt from the facts that remain.
    ``pipeline.markers`` writes and reads every key.

    .. pii: Scopes name courses, videos, problems and days; video-viewer, problem, activity and grades
       scopes carry the LMS user id of a learner in ``key`` until they are drained (retirement does
       not delete them: the recompute it sends drains every marker of the learner's courses).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    ENROLLMENT = "enrollment"
    ACTIVITY = "activity"
    VIDEO_USER = "video_user"
    PROBLEM = "problem"
    GRADES = "grades"
    SITE_ACTIVITY = "site_activity"
    #: Recompute order within one drain.
    ORDER = (VIDEO_USER, ENROLLMENT, ACTIVITY, PROBLEM, GRADES)
    #: Kinds counted across courses, recomputed after every course kind (they read the rows those write).
    SITE_ORDER = (SITE_ACTIVITY,)

    kind = models.CharField(max_length=16)
    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    key = CaseSensitiveCharField(max_length=255, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "course_id", "key"], name="oa_dirty_scope"),
            models.Index(fields=["created"], name="oa_dirty_scope_created"),  # the sweep of old markers
        ]


class ScopeLock(models.Model):
    """One row per scope, locked (SELECT ... FOR UPDATE) while that scope is recomputed.

    Serialises recomputes of the same scope across workers so the last writer always
    read the newest facts.

    .. no_pii:
    """

    kind = models.CharField(max_length=16)
    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    key = CaseSensitiveCharField(max_length=255, blank=True, default="")
    computed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "course_id", "key"], name="oa_scopelock_unique")]


class ScopeFailure(models.Model):
    """A scope whose recompute failed: how often, the last error, and whether it is quarantined.

    A failing scope is retried on later drains; after ``OPENEDX_ANALYTICS_SCOPE_MAX_ATTEMPTS``
    failures it is quarantined: its dirty markers are removed, so it stops being retried and
    stops costing its course's recomputes, and it waits here (admin: "Scope failures") for an
    operator to retry it. A successful recompute of the scope forgets its failures.

    .. pii: A video-viewer scope's ``key`` holds the learner's user id.
    .. pii_types: id
    .. pii_retirement: retained
    """

    kind = models.CharField(max_length=16)
    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    key = CaseSensitiveCharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    first_failed = models.DateTimeField(auto_now_add=True)
    last_failed = models.DateTimeField(auto_now=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "course_id", "key"], name="oa_scopefailure_unique")]
        indexes = [models.Index(fields=["course_id", "kind"], name="oa_scopefailure_course")]

    def __str__(self) -> str:
        """The scope, as the logs name it."""
        return f"{self.kind} of {self.course_id}" + (f" [{self.key}]" if self.key else "")


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
