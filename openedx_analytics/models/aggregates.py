"""Aggregates: the numbers we serve, recomputed from facts per scope (never incremented).

.. no_pii: every aggregate is a count over learners; no row identifies a learner.
"""
from __future__ import annotations

from django.db import models

from openedx_analytics.models.facts import BLOCK_ID_LENGTH, COURSE_ID_LENGTH
from openedx_analytics.models.fields import CaseSensitiveCharField


class EnrollmentDay(models.Model):
    """Enrollment figures of a course at the end of a UTC day.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    date = models.DateField()
    count = models.IntegerField()
    cumulative_count = models.IntegerField()
    enrollments = models.IntegerField()
    unenrollments = models.IntegerField()
    #: {mode: {"count": n, "cumulative_count": n}}
    modes = models.JSONField(default=dict)
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "date"], name="oa_enrday_unique")]


class EnrollmentSummary(models.Model):
    """A course's enrollment figures of its latest stored day, and its count seven days before: what course
    lists show of each course, one row instead of a search for the latest ``EnrollmentDay``.

    The enrollment engine (``metrics.enrollment``) recomputes this row from the course's
    stored days whenever it writes them (live events, backfill, rebuilds after a retirement
    or a retention purge); it is never incremented. No row: the course has no stored day.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH, unique=True)
    #: the latest stored day
    date = models.DateField()
    count = models.IntegerField()
    cumulative_count = models.IntegerField()
    #: the count of the day seven days before ``date`` (0 when no day is stored there)
    count_week_before = models.IntegerField()
    #: {mode: {"count": n, "cumulative_count": n}} of the latest day
    modes = models.JSONField(default=dict)
    #: the latest day's ``last_updated``
    last_updated = models.DateTimeField()


class ActivityCounts(models.Model):
    """Distinct active learners of a course in a period, by kind of activity."""

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    any = models.IntegerField()
    attempted_problem = models.IntegerField()
    played_video = models.IntegerField()
    posted_forum = models.IntegerField()
    last_updated = models.DateTimeField()

    class Meta:
        abstract = True


class ActivityDay(ActivityCounts):
    """Active learners of a course on a UTC day.

    .. no_pii:
    """

    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "date"], name="oa_actday_unique")]


class ActivityWeek(ActivityCounts):
    """Active learners of a course in an ISO week, named by its Monday.

    .. no_pii:
    """

    interval_start = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "interval_start"], name="oa_actweek_unique")]


class SiteActivityWeek(models.Model):
    """Distinct learners active in an ISO week (named by its Monday) across every course of the site
    (``org`` empty) or of one organization: a learner active in several courses counts once.

    A course's ``ActivityWeek`` cannot be summed across courses (a learner in two courses
    would count twice), and counting distinct learners over thousands of courses at request
    time takes seconds; so the site engine (``metrics.site_activity``) recounts these rows
    from the courses' learner-weeks (``ActivityLearnerWeek``, kind ``any``) whenever the
    activity engine changes a learner-week of that week and org. Never incremented: each
    recount reads the learner-weeks as they are, so late events, backfills and retirement
    leave it right. Weeks without a learner have no row.

    .. no_pii:
    """

    #: The organization counted ("" for the whole site: every course, whatever its org).
    org = CaseSensitiveCharField(max_length=255, blank=True, default="")
    week = models.DateField()
    any = models.IntegerField()
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "week"], name="oa_siteweek_unique")]


class VideoSummary(models.Model):
    """Per-video figures of a course.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    video_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    duration = models.IntegerField()
    duration_inferred = models.BooleanField(default=False)
    segment_length = models.IntegerField()
    users_at_start = models.IntegerField()
    users_at_end = models.IntegerField()
    views = models.IntegerField()
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "video_id"], name="oa_videosum_unique")]


class VideoSegment(models.Model):
    """Viewers and views of one 5-second segment of a video.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    video_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    segment = models.IntegerField()
    num_users = models.IntegerField()
    num_views = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "video_id", "segment"], name="oa_videoseg_unique"),
        ]


class ProblemSummary(models.Model):
    """Per-problem submission figures of a course.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    part_ids = models.JSONField(default=list)
    users_attempted = models.IntegerField()
    total_submissions = models.IntegerField()
    correct_submissions = models.IntegerField()
    first_attempt_correct = models.IntegerField()
    attempts_mean = models.FloatField()
    #: Sum of every learner's attempts (``attempts_mean`` = this / ``users_attempted``).
    attempts_total = models.IntegerField(default=0)
    #: {part_id: learners whose submissions answered it}; ``part_ids`` are its keys.
    part_counts = models.JSONField(default=dict)
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "problem_id"], name="oa_problemsum_unique")]


class ProblemAnswer(models.Model):
    """How many learners' last answer to a problem part was ``answer_value``.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    part_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    answer_value = models.TextField()
    correct = models.BooleanField(null=True)
    variant = models.CharField(max_length=64, blank=True, default="")
    count = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["course_id", "problem_id"], name="oa_problemans_scope")]


class ProblemAnswerTally(models.Model):
    """Learners whose last answer to a problem part was ``answer_value``, per variant as submitted.

    ``ProblemAnswer`` is this with the variants of equal answer sets merged; a recompute
    adds and subtracts here the answers of the learners who submitted, then re-merges
    the parts they touched. ``answer_key`` is a hash of (part, value, correct, variant).

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    answer_key = CaseSensitiveCharField(max_length=40)
    part_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    answer_value = models.TextField()
    correct = models.BooleanField(null=True)
    variant = models.CharField(max_length=64, blank=True, default="")
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "problem_id", "answer_key"], name="oa_answertally_unique"),
        ]
        indexes = [models.Index(fields=["course_id", "problem_id", "part_id"], name="oa_answertally_part")]


class VideoTally(models.Model):
    """A video's running sums over its viewers: what its timeline and summary are computed from.

    ``users``/``views``: {segment: viewers / viewings touching it}, every touched segment
    (the served timeline may stop earlier); ``durations``: {reported duration: viewers
    whose player reported it}. A recompute subtracts the old rows of the learners who
    changed and adds their new ones, so one viewer's events cost the same in a course of
    any size.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    video_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    users = models.JSONField(default=dict)
    views = models.JSONField(default=dict)
    viewings = models.IntegerField(default=0)
    durations = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_id", "video_id"], name="oa_videotally_unique")]


class CourseGrades(models.Model):
    """Passing learners, grade distribution and certificates of a course.

    .. no_pii:
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH, unique=True)
    passing_users = models.IntegerField()
    #: [{"bucket": "0-9", "count": n}, ...]: enrolled learners with a grade
    buckets = models.JSONField(default=list)
    #: enrolled learners the LMS has not graded yet (in no bucket)
    not_graded = models.IntegerField(default=0)
    #: {mode: count} of downloadable certificates
    certificates = models.JSONField(default=dict)
    last_updated = models.DateTimeField()
