"""Facts: what happened, per learner, at the grain a metric needs.

Every fact row carries a ``fingerprint`` (a hash of its identity) under a unique
constraint, so writing the same fact twice is a no-op: at-least-once delivery,
duplicated log files and re-run backfills cannot double count. Facts live in the
analytics database alias.
"""
from __future__ import annotations

from django.db import models

from openedx_analytics.models.fields import CaseSensitiveCharField

COURSE_ID_LENGTH = 255
BLOCK_ID_LENGTH = 255
#: Length of a fact's ``source``: the door it came through, or ``service:<sender>`` for the ingest gateway.
SOURCE_LENGTH = 64


class Fact(models.Model):
    """Shared shape of a per-learner, timestamped fact.

    .. pii: The LMS user id of the learner the fact is about (no username, email or name).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    user_id = models.BigIntegerField()
    time = models.DateTimeField()
    fingerprint = models.CharField(max_length=40, unique=True)
    #: Where the fact first came from: the door (``live``, ``backfill``...) or ``service:<sender>`` (ingest gateway).
    source = models.CharField(max_length=SOURCE_LENGTH, blank=True, default="", db_default="")

    class Meta:
        abstract = True


class EnrollmentFact(Fact):
    """One enrollment state seen for a learner at a time (activation, deactivation or mode change).

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    #: None for a mode change that does not say whether the learner is active.
    is_active = models.BooleanField(null=True)
    mode = models.CharField(max_length=100)

    class Meta:
        indexes = [
            models.Index(fields=["course_id", "user_id", "time"], name="oa_enrfact_course_user_time"),
            # The enrollment engine reads the learners who changed since a day (covering: user_id).
            models.Index(fields=["course_id", "time", "user_id"], name="oa_enrfact_course_time"),
        ]


class ActivityFact(models.Model):
    """A learner did something of ``kind`` in a course on a day (one row per learner, course, day, kind).

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    ANY = "any"
    PROBLEM = "problem"
    VIDEO = "video"
    FORUM = "forum"
    KINDS = (ANY, PROBLEM, VIDEO, FORUM)

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    day = models.DateField()
    kind = models.CharField(max_length=16)
    user_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "day", "kind", "user_id"], name="oa_activity_unique"),
        ]


class VideoEventFact(Fact):
    """One player event (play, pause, seek, stop) of a learner on a video.

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    video_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    action = models.CharField(max_length=8)
    position = models.FloatField(null=True)
    old_time = models.FloatField(null=True)
    new_time = models.FloatField(null=True)
    duration = models.FloatField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["course_id", "video_id", "user_id", "time"], name="oa_videofact_scope"),
        ]


class ProblemSubmissionFact(Fact):
    """One graded submission of a learner to a problem, with its per-part answers.

    .. pii: The LMS user id of the learner and the answers they submitted.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    attempt = models.IntegerField(null=True)
    correct = models.BooleanField()
    answers = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["course_id", "problem_id", "user_id"], name="oa_problemfact_scope")]


#: Longest question text kept per problem part (the LMS's label of an input: a sentence or a paragraph).
QUESTION_LENGTH = 1000


class ProblemQuestionFact(models.Model):
    """The question text of one part of a problem as the LMS showed it on a day: course content, not learner data.

    Taken from the server's ``problem_check`` (``submission[part].question``) and written
    through the fact writer like every fact, but it names no learner: the fingerprint is the
    course, problem, part, text and day, so however many learners submit on a day one row
    per part and text is kept, and a text edited in Studio starts a row of its own. Readers
    take a part's latest row (``time``, the first submission of that text that day): the
    text the part has now.

    .. no_pii: Course content (the question text of a problem part); no user id, no answer.
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    part_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    time = models.DateTimeField()
    question = models.CharField(max_length=QUESTION_LENGTH)
    fingerprint = models.CharField(max_length=40, unique=True)
    #: The door the text came through, as on every fact (``Fact.source``).
    source = models.CharField(max_length=SOURCE_LENGTH, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["course_id", "problem_id", "part_id"], name="oa_questionfact_part")]


class GradeFact(Fact):
    """A learner's course grade percent as computed at a time.

    .. pii: The LMS user id of the learner and their grade.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    percent = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["course_id", "user_id", "time"], name="oa_gradefact_scope")]


class PassingFact(Fact):
    """A learner's course passing status as reported at a time.

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    is_passing = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["course_id", "user_id", "time"], name="oa_passfact_scope")]


class CertificateFact(Fact):
    """A learner's certificate status and mode as reported at a time.

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    mode = models.CharField(max_length=100)
    status = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["course_id", "user_id", "time"], name="oa_certfact_scope")]


class VideoViewer(models.Model):
    """Derived fact: what a learner's viewings of a video touched, rebuilt whenever their video events change.

    ``segments`` lists ``[segment, views]`` for every 5-second segment their viewings
    touched; ``viewings`` counts those viewings; ``max_duration`` is the longest duration
    their player reported (their viewings are checked against it, and it is their one vote
    for the video's duration). The old row is what a recompute subtracts from the video's
    tally before adding the new one.

    .. pii: The LMS user id of the learner.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    video_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    user_id = models.BigIntegerField()
    viewings = models.IntegerField()
    max_duration = models.FloatField(null=True)
    segments = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "video_id", "user_id"], name="oa_videoviewer_unique"),
        ]


class ProblemLearner(models.Model):
    """Derived fact: what one learner's submissions to a problem add to its figures.

    Rebuilt from the learner's submissions whenever they submit; the old row is what a
    recompute subtracts from the problem's figures before adding the new one, so a
    submission costs the same in a course of any size. ``answers`` are the last
    submission's ``[part_id, value, correct, variant]``; ``parts`` every part id seen.

    .. pii: The LMS user id of the learner and the answers they submitted.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    problem_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    user_id = models.BigIntegerField()
    submissions = models.IntegerField()
    attempts = models.IntegerField()
    first_correct = models.BooleanField()
    last_correct = models.BooleanField()
    answers = models.JSONField(default=list)
    parts = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "problem_id", "user_id"], name="oa_problemlearner_unique"),
        ]


class GradeLearner(models.Model):
    """Derived fact: what one learner adds to a course's grade summary.

    ``bucket`` is the grade bucket of a currently enrolled learner (empty when not
    enrolled, ``none`` when enrolled without a grade yet); ``certificate`` the mode of a
    downloadable certificate (empty when none).
    The old row is what a recompute subtracts before adding the new one.

    .. pii: The LMS user id of the learner and their grade bucket.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    user_id = models.BigIntegerField()
    passing = models.BooleanField()
    bucket = models.CharField(max_length=8, blank=True, default="")
    certificate = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "user_id"], name="oa_gradelearner_unique"),
        ]


class ActivityLearnerWeek(models.Model):
    """Derived fact: the days of one ISO week on which a learner was active in a course, for one kind.

    ``week`` is the Monday of the week; ``days`` has bit ``n`` set when the learner has an
    activity fact of ``kind`` on the week's ``n``-th day (Monday is bit 0). A week's count
    of a kind is the number of its rows, a day's the number of rows with that day's bit,
    so a recompute compares a learner's new bits with this row and adds only the
    difference: an event costs the same in a course of any size.

    .. pii: The LMS user id of the learner and the days they were active.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    week = models.DateField()
    kind = models.CharField(max_length=16)
    user_id = models.BigIntegerField()
    days = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "week", "user_id", "kind"], name="oa_activitylearner_unique"),
        ]
        indexes = [
            # Distinct learners of a week across many courses (``metrics.site_activity``,
            # ``api.site``): the week's rows of a kind, by course (an org's courses share a
            # prefix), read from the index alone.
            models.Index(fields=["kind", "week", "course_id", "user_id"], name="oa_activitylearner_week"),
        ]


class ContentActivityFact(models.Model):
    """A learner did something of ``kind`` in one part of a course's outline on a day.

    ``node_id`` is the usage key of a section, subsection or unit; an event on a block is
    written once for each of the outline parts holding it (its unit, subsection and
    section, as the outline stood when the event was stored), so a part's distinct
    learners over any range are counted from its own rows. ``kind`` is ``any`` (viewed),
    ``video`` (played one of its videos) or ``problem`` (submitted one of its problems).
    One row per learner, part, kind and day: a learner can add no more rows than the
    outline has parts, however many events they send.

    .. pii: The LMS user id of the learner and the days they were active.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    ANY = "any"
    VIDEO = "video"
    PROBLEM = "problem"
    KINDS = (ANY, VIDEO, PROBLEM)

    course_id = CaseSensitiveCharField(max_length=COURSE_ID_LENGTH)
    node_id = CaseSensitiveCharField(max_length=BLOCK_ID_LENGTH)
    kind = models.CharField(max_length=16)
    day = models.DateField()
    user_id = models.BigIntegerField()

    class Meta:
        constraints = [
            # Also the index the page reads by: a part's learners of a kind over a range of days.
            models.UniqueConstraint(fields=["course_id", "node_id", "kind", "day", "user_id"],
                                    name="oa_contentactivity_unique"),
        ]
